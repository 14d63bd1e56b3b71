"""MLPerf inference object detection: the LoadGen harness and its results.

``runner/`` runs inside a solution's managed venv (numpy, the model runtime, LoadGen,
pycocotools) and is started as a script; the modules here run in cknowledge's own
environment with the standard library only:

- :mod:`.harness`: :func:`~.harness.run_harness` starts the runner through
  :func:`cknowledge.proc.run` and returns its report with the parsed logs;
- :mod:`.results`: parsing ``mlperf_log_summary.txt`` and ``mlperf_log_detail.txt``;
- :mod:`.layout`: the MLPerf results folder (``results/<system>/<model>/<scenario>/...``,
  ``systems/<system>.json``) and :func:`~.layout.check` of it.
"""
