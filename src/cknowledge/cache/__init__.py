"""Content-addressed results of workflow steps (scripts, package installs, detections)."""
