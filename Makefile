# Bluezone coverage warehouse. `make` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PROJECT_DIR := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
UV_VERSION := 0.13.9
TOOLS := $(PROJECT_DIR)/.tools
VENV := $(PROJECT_DIR)/.venv
BIN := $(VENV)/bin
PYTHON ?= python3

export AIRFLOW_HOME ?= $(PROJECT_DIR)/.airflow
export DO_NOT_TRACK := 1
export PATH := $(BIN):$(PATH)

DATE ?= 2020-08-25

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(TOOLS)/bin/uv:
	@if command -v uv >/dev/null 2>&1 && [ "$$(uv --version | cut -d' ' -f2)" = "$(UV_VERSION)" ]; then \
		mkdir -p $(TOOLS)/bin && ln -sf "$$(command -v uv)" $(TOOLS)/bin/uv; \
	else \
		$(PYTHON) -m venv $(TOOLS) && $(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION); \
	fi

# Bytecode compiled once at install: a process then loads Great Expectations, dbt and
# Airflow from .pyc instead of compiling their sources at every start (several seconds
# each where PYTHONDONTWRITEBYTECODE is set; bench/imports.py).
$(VENV)/.synced: uv.lock pyproject.toml | $(TOOLS)/bin/uv
	$(TOOLS)/bin/uv sync --frozen --compile-bytecode --python $(PYTHON)
	$(BIN)/python -m compileall -q src dags
	@touch $@

.PHONY: venv
venv: $(VENV)/.synced ## Create the virtual environment from the lock file

$(AIRFLOW_HOME)/.initialised: $(VENV)/.synced
	$(BIN)/bluezone airflow-init
	@touch $@

.PHONY: airflow-init
airflow-init: $(AIRFLOW_HOME)/.initialised ## Create the Airflow home (SQLite metadata, pools)

.PHONY: up
up: venv ## Start Airflow in the background on localhost (port BLUEZONE_UI_PORT, default 8080)
	$(BIN)/bluezone up

.PHONY: down
down: ## Stop what `make up` started (by PID, process groups included)
	@if [ -x $(BIN)/bluezone ]; then $(BIN)/bluezone down; else echo "Airflow is not running (no virtual environment)"; fi

.PHONY: simulate
simulate: venv ## Simulate the default campaign into the landing zone (UNITS=2025: on the 2025 units)
	$(BIN)/bluezone simulate $(if $(UNITS),--units $(UNITS))

.PHONY: run
run: airflow-init ## Run bluezone_daily for DATE=YYYY-MM-DD as a real Airflow run (REBUILD=1: even if nothing is new)
	$(BIN)/bluezone airflow-run --date $(DATE) $(if $(REBUILD),--rebuild)

.PHONY: demo
demo: airflow-init ## Simulate a campaign, run the real DAGs, print the results (UNITS=2025: on the 2025 units)
	$(BIN)/bluezone demo $(if $(UNITS),--units $(UNITS))

.PHONY: lint
lint: venv ## ruff and sqlfluff
	$(BIN)/ruff check src dags tests bench scripts
	$(BIN)/ruff format --check src dags tests bench scripts
	$(BIN)/sqlfluff lint dbt_project/models dbt_project/macros

# Debian packages the tests and the distributed topology need: headless Chromium for the
# report's page tests and the Airflow UI, PostgreSQL and Redis for the Celery topology, tmux
# to drive a terminal BI client (Harlequin).
SYSTEM_PACKAGES := chromium postgresql redis-server tmux
SYSTEM_BINARIES := chromium /usr/lib/postgresql/*/bin/initdb redis-server tmux

.PHONY: system-packages
system-packages: ## Install Chromium, PostgreSQL and Redis (Debian packages, as root) when missing
	@missing=0; for binary in $(SYSTEM_BINARIES); do \
		command -v $$binary >/dev/null 2>&1 || ls $$binary >/dev/null 2>&1 || missing=1; done; \
	if [ $$missing = 1 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $(SYSTEM_PACKAGES) >/dev/null; \
		service postgresql stop >/dev/null 2>&1 || true; \
		service redis-server stop >/dev/null 2>&1 || true; \
	fi

.PHONY: test
test: airflow-init lint system-packages ## Lint, then every test (unit, DAG, integration, end to end)
	$(BIN)/python -m pytest

.PHONY: distributed
distributed: venv system-packages ## One day on PostgreSQL + Redis + Celery (2 workers) on localhost, no Docker
	$(BIN)/bluezone distributed --date $(DATE)

.PHONY: bench
bench: venv ## Run the benchmarks (minutes); results go to bench/RESULTS.md
	cd bench && $(BIN)/python ingest.py && $(BIN)/python dq_quality.py \
		&& $(BIN)/python orchestration.py && $(BIN)/python incremental.py \
		&& $(BIN)/python national.py && $(BIN)/python memory.py \
		&& $(BIN)/python reliability.py && $(BIN)/python freshness.py \
		&& $(BIN)/python rerun.py

.PHONY: dbt-docs
dbt-docs: venv ## Generate the dbt docs for the marts
	$(BIN)/bluezone dbt-docs

.PHONY: clean
clean: down ## Stop Airflow if `make up` started it, then remove generated data, Airflow home and dbt artifacts (keeps the venv)
	rm -rf data $(AIRFLOW_HOME) dbt_project/target dbt_project/logs .pytest_cache

.PHONY: distclean
distclean: clean ## Also remove the virtual environment and tools
	rm -rf $(VENV) $(TOOLS)
