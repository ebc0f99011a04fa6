# Quick start: `make demo` (creates .venv, installs, runs the demo) and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo test test-fast lint typecheck unit system-deps bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/vigil demo

# System packages the slow suites need (Java, Chromium, PostgreSQL): installed when missing and allowed.
system-deps:
	@bash scripts/ensure-system-deps.sh

LINTED := src tests $(wildcard benchmarks)

lint: $(STAMP)
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)
	$(VENV)/bin/lint-imports

typecheck: $(STAMP)
	$(VENV)/bin/mypy src

unit: $(STAMP)
	$(VENV)/bin/pytest -n 2 --durations=30 $(PYTEST_ARGS)

test: $(STAMP) system-deps lint typecheck unit

# The edit loop: everything not marked slow (no Spark, browser, fuzzing or live-server suites).
test-fast: $(STAMP)
	$(VENV)/bin/pytest -n 2 -q -m "not slow" $(PYTEST_ARGS)

# Benchmarks are run by hand, never by `make test`; peers get their own venv (benchmarks/setup_peers.sh).
bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
