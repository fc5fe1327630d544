# The one entry point: `make run` serves the demo registry, `make test` passes the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# MLflow for the import tests only, in its own venv: ModelAtlas does not depend on it
MLFLOW_VENV := .venv-mlflow
MLFLOW_STAMP := $(MLFLOW_VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8080
export MODELATLAS_HOME ?= $(CURDIR)/.modelatlas
PYTEST_ARGS ?=

.PHONY: install mlflow-venv run test test-only lint bench docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

$(MLFLOW_STAMP):
	$(PYTHON) -m venv $(MLFLOW_VENV)
	$(MLFLOW_VENV)/bin/pip install --quiet 'mlflow>=2.16,<4'
	touch $(MLFLOW_STAMP)

mlflow-venv: $(MLFLOW_STAMP)

run: install
	$(BIN)/modelatlas init
	$(BIN)/modelatlas demo --if-empty
	$(BIN)/modelatlas serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

# Starts a throwaway PostgreSQL cluster and runs the whole suite on SQLite and PostgreSQL.
test: install lint $(MLFLOW_STAMP)
	@set -e; \
	url=$$(scripts/pg-throwaway start); \
	trap 'scripts/pg-throwaway stop' EXIT; \
	MODELATLAS_TEST_POSTGRES_URL=$$url \
	MODELATLAS_TEST_MLFLOW_PYTHON=$(CURDIR)/$(MLFLOW_VENV)/bin/python \
	$(BIN)/pytest -n 2 --durations=25 $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) $(MLFLOW_VENV) .modelatlas .pytest_cache .mypy_cache .ruff_cache
