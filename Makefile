# The one entry point: `make run` serves the demo registry, `make test` passes the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# MLflow for the import tests only, in its own venv: ModelAtlas does not depend on it
MLFLOW_VENV := .venv-mlflow
MLFLOW_STAMP := $(MLFLOW_VENV)/.installed
# Feast for the feature store import tests only, likewise (it pins pandas and pyarrow)
FEAST_VENV := .venv-feast
FEAST_STAMP := $(FEAST_VENV)/.installed
# the web UI's third-party browser code: from the npm registry (package-lock.json) into the
# package's static folder, git-ignored, so the served UI needs no CDN
VENDOR := src/modelatlas/web/static/vendor
VENDOR_STAMP := $(VENDOR)/.installed
VENDOR_FILES := node_modules/htmx.org/dist/htmx.min.js node_modules/cytoscape/dist/cytoscape.min.js \
	node_modules/dagre/dist/dagre.min.js node_modules/cytoscape-dagre/cytoscape-dagre.js
# the browser the UI tests drive: Debian's Chromium, installed when missing (as root)
CHROMIUM ?= /usr/bin/chromium
HOST ?= 127.0.0.1
PORT ?= 8080
export MODELATLAS_HOME ?= $(CURDIR)/.modelatlas
PYTEST_ARGS ?=

.PHONY: install mlflow-venv feast-venv web-assets chromium run test test-only lint bench docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) $(VENDOR_STAMP)

$(VENDOR_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp $(VENDOR_FILES) $(VENDOR)/
	touch $(VENDOR_STAMP)

web-assets: $(VENDOR_STAMP)

chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "Chromium is missing: apt-get install chromium (as root)" >&2; exit 1; fi; \
	  echo "installing Debian's chromium package ..." >&2; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

$(MLFLOW_STAMP):
	$(PYTHON) -m venv $(MLFLOW_VENV)
	$(MLFLOW_VENV)/bin/pip install --quiet 'mlflow>=2.16,<4'
	touch $(MLFLOW_STAMP)

mlflow-venv: $(MLFLOW_STAMP)

$(FEAST_STAMP):
	$(PYTHON) -m venv $(FEAST_VENV)
	$(FEAST_VENV)/bin/pip install --quiet 'feast>=0.40,<1'
	touch $(FEAST_STAMP)

feast-venv: $(FEAST_STAMP)

run: install
	$(BIN)/modelatlas init
	$(BIN)/modelatlas demo --if-empty
	$(BIN)/modelatlas serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

# Starts a throwaway PostgreSQL cluster and runs the whole suite on SQLite and PostgreSQL.
test: install lint $(MLFLOW_STAMP) $(FEAST_STAMP) chromium
	@set -e; \
	url=$$(scripts/pg-throwaway start); \
	trap 'scripts/pg-throwaway stop' EXIT; \
	MODELATLAS_TEST_POSTGRES_URL=$$url \
	MODELATLAS_TEST_MLFLOW_PYTHON=$(CURDIR)/$(MLFLOW_VENV)/bin/python \
	MODELATLAS_TEST_FEAST_PYTHON=$(CURDIR)/$(FEAST_VENV)/bin/python \
	MODELATLAS_TEST_CHROMIUM=$(CHROMIUM) \
	$(BIN)/pytest -n 2 --dist loadgroup --durations=25 $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) $(MLFLOW_VENV) $(FEAST_VENV) node_modules $(VENDOR) .modelatlas .pytest_cache .mypy_cache .ruff_cache
