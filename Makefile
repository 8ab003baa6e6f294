# The two README commands: `make run` and `make test`. Everything else is a helper they call.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
# how the venv is installed is part of the stamp: a venv installed another way is installed again
INSTALL_FLAGS := --compile-bytecode
STAMP := $(VENV)/.installed-$(shell (cat pyproject.toml requirements.lock; echo $(INSTALL_FLAGS)) | md5sum | cut -c1-12)
export PYSPARK_PYTHON := $(abspath $(PY))
export PYSPARK_DRIVER_PYTHON := $(abspath $(PY))
export SPARK_LOCAL_IP := 127.0.0.1
export TF_CPP_MIN_LOG_LEVEL := 3
export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := true

.PHONY: install monitoring-tools run demo test lint unit integration e2e lock bench clean

# --compile-bytecode: uv writes no .pyc by default and PYTHONDONTWRITEBYTECODE keeps Python from caching them, so
# every start compiled its libraries from source (`strata rollback`: 0.9 s CPU without, 0.35 s with)
$(STAMP): pyproject.toml requirements.lock
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(VENV)/bin/pip install -q uv==0.13.8
	$(UV) pip sync --python $(PY) -q --require-hashes $(INSTALL_FLAGS) requirements.lock
	$(UV) pip install --python $(PY) -q --no-deps $(INSTALL_FLAGS) -e .
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

# every pinned distribution with its sha256 hashes: an install that gets other bytes fails
lock:
	$(UV) pip compile pyproject.toml --extra dev --python-version 3.11 -q --generate-hashes -o requirements.lock

run: install monitoring-tools
	$(VENV)/bin/strata run

# Prometheus and Alertmanager, which `strata run` starts beside the services: Debian packages, installed when
# missing as .ci/run does (root only; otherwise the run goes on without them and says how to install them)
monitoring-tools:
	@if ! command -v prometheus >/dev/null || ! command -v prometheus-alertmanager >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing prometheus prometheus-alertmanager (Debian packages)"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	      prometheus prometheus-alertmanager >/dev/null) || echo "could not install them: running without"; \
	  fi; \
	fi

demo: install
	$(VENV)/bin/strata demo

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy strata_kernel strata_cli ui business_logic data_collection data_processing inference_engine data_lake monitoring comparative_eval bench tests

test: install lint
	$(VENV)/bin/pytest

# The same tests in three parts (markers in pyproject.toml): `make test` runs all of them after lint.
unit: install  ## fakes at the ports only: no server, no Spark, no browser
	$(VENV)/bin/pytest -m "not integration and not spark and not e2e and not browser"

integration: install  ## real backends: PostgreSQL, Redis, the Kafka-protocol broker, Spark
	$(VENV)/bin/pytest -m "(integration or spark) and not e2e and not browser"

e2e: install  ## services started as processes, and the real browser
	$(VENV)/bin/pytest -m "e2e or browser"

bench: install
	$(PY) -m bench

clean:
	rm -rf var
