# Development workflow of the reference project.
#
# From a fresh clone, with only Python >= 3.11 available as `python3`:
#
#     make demo    # create .venv, generate sample data, run the example pipeline
#     make test    # lint, type-check, import contracts, tests with coverage, docs
#
# `make help` lists every target.

# ---------------------------------------------------------------------------------------------
# Settings (override on the command line: `make test PYTEST_ARGS="-m 'not slow' -x"`)
# ---------------------------------------------------------------------------------------------
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

# The demo: a data generator, then one pipeline run.
DEMO_DATA_SCRIPT ?= examples/generate_data.py
DEMO_DATA_ARGS ?=
DEMO_SPEC ?= examples/orders_daily/pipeline.yaml
DEMO_RUN_ARGS ?=

PYTEST_ARGS ?=
BENCH_SCRIPT ?= benchmarks/run.py
BENCH_ARGS ?=
DOCS_DIR ?= site
DOCS_ADDR ?= 127.0.0.1:8000

# Only the code folders that exist (others arrive with later work).
CODE_DIRS := $(wildcard src tests examples benchmarks)

# Quiet the mkdocs-material banner in build logs.
export NO_MKDOCS_2_WARNING ?= 1

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules

# ---------------------------------------------------------------------------------------------
# Virtual environment (re-installed only when pyproject.toml changes)
# ---------------------------------------------------------------------------------------------
STAMP := $(VENV)/.installed

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || { \
	  echo "error: ede needs Python >= 3.11; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)." >&2; \
	  echo "       Run e.g. 'make PYTHON=python3.11 ...'." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e ".[dev]"
	@touch $@

# The whole suite also runs the Spark engine and the AWS integration (moto on 127.0.0.1).
STAMP_ALL := $(VENV)/.installed-all

$(STAMP_ALL): $(STAMP)
	$(BIN)/python -m pip install -e ".[dev,spark,aws]"
	@touch $@

.PHONY: venv $(VENV)
venv $(VENV): $(STAMP) ## Create .venv and install the package with the [dev] extra

# ---------------------------------------------------------------------------------------------
# Everyday targets
# ---------------------------------------------------------------------------------------------
.PHONY: demo
demo: $(STAMP) ## Generate the sample data and run the example pipeline
	$(BIN)/python $(DEMO_DATA_SCRIPT) $(DEMO_DATA_ARGS)
	$(BIN)/ede run $(DEMO_SPEC) $(DEMO_RUN_ARGS)

.PHONY: test
test: $(STAMP_ALL) lint typecheck importlint ## Everything CI runs: lint, types, import contracts, tests, docs
	@$(MAKE) --no-print-directory pytest
	@$(MAKE) --no-print-directory docs

.PHONY: pytest
pytest: $(STAMP_ALL) ## Run the tests with coverage (PYTEST_ARGS="..." to narrow)
	@rc=0; $(BIN)/pytest --cov --cov-report=term $(PYTEST_ARGS) || rc=$$?; \
	if [ "$$rc" -eq 5 ]; then echo "error: pytest collected no tests (exit 5)" >&2; fi; \
	exit "$$rc"

.PHONY: lint
lint: $(STAMP) ## Ruff lint and format check (no changes made)
	$(BIN)/ruff check $(CODE_DIRS)
	$(BIN)/ruff format --check $(CODE_DIRS)

.PHONY: fmt
fmt: $(STAMP) ## Format the code and apply safe lint fixes
	$(BIN)/ruff format $(CODE_DIRS)
	$(BIN)/ruff check --fix $(CODE_DIRS)

.PHONY: typecheck
typecheck: $(STAMP) ## mypy --strict on src/ (configured in pyproject.toml)
	$(BIN)/mypy

.PHONY: importlint
importlint: $(STAMP) ## Check the layer contracts (import-linter, configured in pyproject.toml)
	$(BIN)/lint-imports

.PHONY: docs
docs: $(STAMP) ## Build the documentation site into site/ (strict: warnings are errors)
	$(BIN)/mkdocs build --strict -d $(DOCS_DIR)

.PHONY: docs-serve
docs-serve: $(STAMP) ## Serve the documentation with live reload on DOCS_ADDR
	$(BIN)/mkdocs serve --dev-addr $(DOCS_ADDR)

.PHONY: bench
bench: $(STAMP) ## Run the benchmark suite (results under benchmarks/results/)
	$(BIN)/python $(BENCH_SCRIPT) $(BENCH_ARGS)

.PHONY: pre-commit
pre-commit: $(STAMP) ## Install the git pre-commit hooks
	$(BIN)/pre-commit install

# ---------------------------------------------------------------------------------------------
# Housekeeping
# ---------------------------------------------------------------------------------------------
.PHONY: clean
clean: ## Remove build outputs, caches, coverage data and demo outputs (keeps .venv)
	rm -rf $(DOCS_DIR) dist build htmlcov .coverage .coverage.* coverage.xml
	rm -rf .pytest_cache .mypy_cache .ruff_cache .import_linter_cache .ede spark-warehouse metastore_db derby.log
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -print0 | xargs -0 rm -rf
	find . -path ./$(VENV) -prune -o -type d -name '*.egg-info' -print0 | xargs -0 rm -rf
	if [ -d examples ]; then \
	  find examples -path examples/quickstart/data -prune -o -type d \
	    \( -name data -o -name out -o -name quarantine -o -name .ede \) -prune -print0 \
	    | xargs -0 rm -rf; \
	fi

.PHONY: distclean
distclean: clean ## clean, and also remove .venv and benchmarks/results/
	rm -rf $(VENV) benchmarks/results

.PHONY: help
help: ## List the targets
	@echo "Usage: make <target> [PYTHON=python3] [PYTEST_ARGS=...]"
	@echo
	@grep -hE '^[a-zA-Z_ $$()-]+:.*## ' $(MAKEFILE_LIST) \
	  | sed -E 's/\$$\(VENV\)/$(VENV)/' \
	  | awk 'BEGIN {FS = ":.*## "} {printf "  %-12s %s\n", $$1, $$2}'
