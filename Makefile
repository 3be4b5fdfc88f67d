# TeamTalk — `make` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
DATA ?= ./data

.PHONY: help install build run test test-unit test-js test-browser lint bench check clean chromium

help: ## show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]' 2>&1 | grep -v "WARNING: Location" || true
	$(PY) -c "import litestar, msgspec, argon2"  # fail loudly if the install did not take
	touch $@

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed frontend/node_modules/.installed ## install Python and npm dependencies

build: frontend/node_modules/.installed ## bundle the PWA into frontend/dist
	cd frontend && node build.mjs

run: install build ## install, build and serve on http://$(HOST):$(PORT) (data in $(DATA))
	$(VENV)/bin/teamtalk serve --host $(HOST) --port $(PORT) --data $(DATA)

chromium: ## install Debian's Chromium for the browser tests (root, once per machine)
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

test-unit: install ## Python unit and integration tests
	$(PY) -m pytest tests/unit tests/integration -q

test-js: install ## JS unit tests (merge vectors, replica, outbox) under node --test
	cd frontend && node --test

test-browser: install build chromium ## Playwright tests in real Chromium
	$(PY) -m pytest tests/browser -q

test: test-unit test-js test-browser ## install what tests need and run them all

lint: install ## ruff and mypy
	$(VENV)/bin/ruff check backend sync_protocol tests bench
	$(VENV)/bin/mypy

bench: install build ## run the benchmarks in bench/ and print their figures
	$(PY) -m bench.run_all

check: lint test ## everything CI checks

clean: ## remove build output (keeps data/)
	rm -rf frontend/dist
