# Every target sets up its own virtualenv first (.venv, from pyproject.toml), so each works on a
# fresh clone. Python: 3.13 when pyenv has it (the Lambda runtime), else any python3 >= 3.11.
SHELL := /bin/bash
export PYENV_VERSION ?= 3.13.0
PYTHON ?= $(shell command -v python3.13 >/dev/null 2>&1 && python3.13 -c 'import sys' 2>/dev/null && echo python3.13 || echo python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export AWS_DEFAULT_REGION ?= eu-north-1
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help venv lock demo dev test test-fast lint format build bench reliability events clean

help:
	@echo "make demo   run the whole pipeline locally on the sample events (no AWS, no Docker)"
	@echo "make dev    the local stack until Ctrl-C (POST http://127.0.0.1:3000/webhook)"
	@echo "make test   the test suite (unit, integration, e2e, template checks)"
	@echo "make lint   ruff, mypy, cfn-lint, sam validate --lint"
	@echo "make build  sam build"
	@echo "make bench  the benchmarks; rewrites bench/RESULTS.md"
	@echo "make reliability  the reliability scenarios; rewrites docs/RELIABILITY.md (ARGS=--soak: longer)"
	@echo "make events regenerate events/webhook and events/sync from events/stripe"
	@echo "make lock   re-resolve requirements-dev.txt and the layer's requirements.txt (pinned, hashed)"

# Everything .venv holds comes from requirements-dev.txt, pinned and hashed; the project itself is
# installed on top without resolving anything.
$(STAMP): pyproject.toml requirements-dev.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ needed, found " + sys.version' 
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.txt
	@# setuptools' notice about editable installs says nothing about this project: keep set-up quiet.
	PYTHONWARNINGS=ignore $(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

venv: $(STAMP)

# The dev tools for every Python from 3.11; the layer for the functions' runtime (3.13, arm64 Linux),
# held to the versions the tests run against.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 --generate-hashes \
	  --upgrade --quiet --custom-compile-command "make lock" -o requirements-dev.txt
	$(BIN)/uv pip compile layers/shared/requirements.in --python-version 3.13 \
	  --python-platform aarch64-manylinux_2_28 --generate-hashes --upgrade --quiet \
	  --custom-compile-command "make lock" -c requirements-dev.txt -o layers/shared/requirements.txt

demo: $(STAMP)
	$(BIN)/stripe-fortnox demo

dev: $(STAMP)
	$(BIN)/stripe-fortnox dev

test: $(STAMP)
	$(BIN)/pytest

test-fast: $(STAMP)
	$(BIN)/pytest -m "not slow and not e2e"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/cfn-lint template.yaml
	$(BIN)/sam validate --lint

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

build: $(STAMP)
	$(BIN)/sam build

bench: $(STAMP)
	$(BIN)/python -m bench.run

reliability: $(STAMP)
	$(BIN)/python -m tests.reliability.report $(ARGS)

events: $(STAMP)
	@mkdir -p events/webhook events/sync
	@for f in events/stripe/*.json; do \
	  n=$$(basename $$f); \
	  $(BIN)/stripe-fortnox sign $$f --apigw > events/webhook/$$n; \
	  $(BIN)/stripe-fortnox sqs-event $$f > events/sync/$$n; \
	done
	@echo "wrote events/webhook/ and events/sync/"

clean:
	rm -rf $(VENV) .aws-sam .local-stack .pytest_cache .mypy_cache .ruff_cache
