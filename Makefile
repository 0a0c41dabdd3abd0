# Two commands: `make demo` (set up + synthetic end-to-end run on CPU) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint clean

setup: $(STAMP)

# torch first from the local CPU wheel, so that no dependency pulls a CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: setup
	$(VENV)/bin/sign2gpt demo

test: setup lint
	$(PY) -m pytest -q -n 2

lint: setup
	$(PY) -m ruff check src tests bench

clean:
	rm -rf $(VENV) runs .pytest_cache
