PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: venv demo test bench clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[all]'
	touch $@

demo: venv
	$(PY) demo/tour.py

test: venv
	$(PY) -m pytest --cov --cov-report=term tests

bench: venv
	$(PY) bench/foundation.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .coverage*
