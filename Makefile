# Every target installs the locked dependencies into .venv first (once, or when the lock changes).
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UV_VERSION := 0.13.8
PYTEST_ARGS ?=

.PHONY: help install up test test-db lint check lock messages bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q "uv==$(UV_VERSION)"
	$(BIN)/uv pip install -q --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	@touch $@

install: $(STAMP) ## create .venv and install the locked dependencies

up: install ## start the whole platform with demo data on http://127.0.0.1:5000
	$(BIN)/chamyeo up

test: install ## run the whole test suite (embedded PostgreSQL and Redis unless DATABASE_URL/REDIS_URL are set)
	$(BIN)/pytest $(PYTEST_ARGS)

# All three run, so one pass shows every finding; the target fails if any of them did.
lint: install ## ruff, the import contracts (lint-imports) and mypy, fastest first
	@status=0; \
	for check in "$(BIN)/ruff check saas tenants provisioning migrations tests benchmarks infra" \
	             "$(BIN)/lint-imports --no-logo" "$(BIN)/mypy"; do \
	    echo "$$check"; $$check || status=1; \
	done; \
	exit $$status

check: install ## fail when models and migrations drift
	$(BIN)/chamyeo db check

lock: ## re-resolve requirements.lock from pyproject.toml
	@test -x $(BIN)/uv || { $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install -q "uv==$(UV_VERSION)"; }
	$(BIN)/uv pip compile pyproject.toml --extra test -o requirements.lock --python-version 3.11

messages: install ## extract the pages' strings into every package's catalogues (ko, en) and compile them
	$(BIN)/python -m saas.core.web.catalogues

clean: ## remove .venv and the embedded servers' data
	rm -rf $(VENV) .chamyeo
