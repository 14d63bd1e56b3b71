PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: venv demo tour test bench bench-hub clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[all]'
	touch $@

CK := $(VENV)/bin/ck
SOLUTION := solution:mlperf-object-detection

# The flagship: prepare the MLPerf object-detection solution (venv, runtimes, model, data;
# all cached), benchmark it with ONNX Runtime (SingleStream), then TensorFlow (Offline).
demo: venv
	$(CK) init $(SOLUTION)
	$(CK) benchmark $(SOLUTION) --backend=onnxruntime --scenario=SingleStream
	$(CK) benchmark $(SOLUTION) --backend=tensorflow --scenario=Offline

# A tour of the component store, the interface and the workflow engine.
tour: venv
	$(PY) demo/tour.py

test: venv
	$(PY) -m pytest --cov --cov-report=term tests

bench: venv
	$(PY) bench/foundation.py

bench-hub: venv
	$(PY) bench/hub.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .coverage*
