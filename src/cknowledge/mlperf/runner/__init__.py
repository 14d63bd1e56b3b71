"""The MLPerf inference object-detection harness that runs inside a solution's managed venv.

Not imported by cknowledge: ``VENV_PYTHON -I .../runner/main.py ARGS`` runs it as a script.
``main.py`` (and ``accuracy.py``, also runnable alone) put this folder first on ``sys.path``
(``-I`` leaves it off), so the modules import each other by plain name and use only the
standard library, numpy, Pillow, the model runtime (TensorFlow or ONNX Runtime),
``mlperf_loadgen`` and ``pycocotools``.
"""
