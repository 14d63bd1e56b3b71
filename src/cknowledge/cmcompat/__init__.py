"""Collective Mind and MLCFlow scripts, run unmodified (docs/cm-compat.md).

``runner.py`` finds a script and runs it as CM/MLC do (``step.py``: one run, phase by
phase; ``variations.py``: variations and meta updates); ``hooks.py`` runs ``customize.py``
hooks in a worker process inside the hook venv, where the real ``cmind`` and ``mlcflow``
are installed; ``inside/`` holds what that worker imports (standard library only).
"""
