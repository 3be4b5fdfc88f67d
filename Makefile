# TeamTalk — `make` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
DATA ?= ./data

.PHONY: help install install-test build run test test-unit test-integration test-fuzz test-js test-browser fuzz lint lint-js bench check clean chromium lock

help: ## show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

PIP := $(PY) -m pip install -q --disable-pip-version-check -c requirements.lock

# The server's own dependencies (make run) ...
$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) -e . 2>&1 | grep -v "WARNING: Location" || true
	$(PY) -c "import litestar, msgspec, argon2"  # fail loudly if the install did not take
	touch $@

# ... and what the tests, lint and benchmarks need on top (make test).
$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) -e '.[test]' 2>&1 | grep -v "WARNING: Location" || true
	$(PY) -c "import pytest, playwright, hypothesis"
	touch $@

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed frontend/node_modules/.installed ## install the server's Python and npm dependencies

install-test: install $(VENV)/.installed-test

build: frontend/node_modules/.installed ## bundle the PWA into frontend/dist
	cd frontend && node build.mjs

run: install build ## install, build and serve on http://127.0.0.1:8000 (HOST, PORT, DATA=./data override)
	$(VENV)/bin/teamtalk serve --host $(HOST) --port $(PORT) --data $(DATA)

chromium: ## install Debian's Chromium and coturn for the browser tests (root, once per machine)
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)
	@command -v turnserver >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq coturn >/dev/null)

test-unit: install-test ## Python unit tests (the pure core, vectors, properties)
	$(PY) -m pytest tests/unit -q

test-integration: install-test ## Python integration tests (the app on a temporary SQLite, WebSockets)
	$(PY) -m pytest tests/integration -q

test-fuzz: install-test ## the fuzzers, bounded and deterministic (what make test runs)
	$(PY) -m pytest tests/fuzz -q

FUZZ_SECONDS ?= 600
fuzz: install-test ## the fuzzers with random seeds, run after run, for FUZZ_SECONDS (default 600)
	@end=$$(( $$(date +%s) + $(FUZZ_SECONDS) )); run=0; \
	while [ $$(date +%s) -lt $$end ]; do \
		run=$$((run + 1)); echo "fuzz run $$run ($$(( end - $$(date +%s) )) s left)"; \
		FUZZ_PROFILE=fuzz $(PY) -m pytest tests/fuzz -q -x -p no:cacheprovider || exit 1; \
	done

test-js: install ## JS unit tests (merge vectors, replica, outbox) under node --test
	cd frontend && node --test

test-browser: install-test build chromium ## Playwright tests in real Chromium
	$(PY) -m pytest tests/browser -q

test: test-unit test-integration test-fuzz test-js test-browser ## install what tests need and run them all

lint: install-test ## ruff, ruff format --check and mypy --strict
	$(VENV)/bin/ruff check backend sync_protocol teamtalk_client tests bench
	$(VENV)/bin/ruff format --check backend sync_protocol teamtalk_client tests bench
	$(VENV)/bin/mypy

lint-js: install ## type-check the PWA's JavaScript (tsc --checkJs over frontend/src, JSDoc types)
	cd frontend && npm run --silent typecheck

bench: install-test build ## run the benchmarks in bench/ and print their figures
	$(PY) -m bench.run_all

check: lint lint-js test ## everything CI checks: lint (Python and JS) and every test

clean: ## remove build output (keeps data/)
	rm -rf frontend/dist

lock: install-test ## re-pin every Python package (after changing pyproject.toml)
	$(PY) -m pip freeze --exclude-editable | grep -v '^-e' > requirements.lock
