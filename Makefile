# Progrès — the two commands of the README, and the steps they are made of.
#   make run    virtualenv, install, migrate, demo data, serve on http://127.0.0.1:5000
#   make test   install what the tests need (Chromium included), run the suite on SQLite,
#               then again on PostgreSQL (required under CI=true)
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask
export FLASK_APP := wsgi.py
PIP_QUIET := --quiet --disable-pip-version-check --no-warn-script-location
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PG_TEST_URL ?= postgresql+psycopg://127.0.0.1:5432/test
PYTEST_ARGS ?= --durations=15

.PHONY: help run test install install-test translations browser services lint format \
        test-sqlite test-postgres extract-messages

help:
	@echo "make run   — installe, migre, charge la démonstration et sert http://127.0.0.1:5000"
	@echo "make test  — installe l'outillage de test (Chromium compris) et lance toute la suite"

$(VENV)/bin/python:
	python3 -m venv $(VENV)

$(VENV)/.deps: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install $(PIP_QUIET) -e .
	@touch $@

$(VENV)/.test-deps: $(VENV)/.deps
	$(PY) -m pip install $(PIP_QUIET) -e '.[test]'
	@touch $@

install: $(VENV)/.deps
install-test: $(VENV)/.test-deps

# Compiled catalogues are build products, never committed.
translations: $(VENV)/.deps
	@if [ -d app/translations ]; then $(VENV)/bin/pybabel compile -d app/translations; fi

extract-messages: $(VENV)/.deps
	$(VENV)/bin/pybabel extract --no-location --sort-output -F babel.cfg -k _l -o app/translations/messages.pot .
	$(VENV)/bin/pybabel update --no-fuzzy-matching --ignore-obsolete -i app/translations/messages.pot -d app/translations

run: install translations
	$(FLASK) db upgrade
	$(FLASK) demo load
	$(FLASK) run --host 127.0.0.1 --port 5000

# Debian's Chromium for the browser tests (never `playwright install`: it downloads a browser).
browser:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && \
	  $(SUDO) apt-get install -y -qq --no-install-recommends chromium chromium-l10n fonts-liberation2; }

# Start the local PostgreSQL and Redis when they are installed but stopped.
services:
	@pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || { [ -d /etc/postgresql ] && \
	  $(SUDO) pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -1) main start; } || true
	@redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || { command -v redis-server >/dev/null && \
	  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null; } || true

lint: install-test
	$(VENV)/bin/ruff check app tests bench
	$(VENV)/bin/ruff format --check app tests bench

format: install-test
	$(VENV)/bin/ruff check --fix app tests bench
	$(VENV)/bin/ruff format app tests bench

# Each suite has its own temporary folder and Redis database, so `make test` runs both at
# once (one per CPU); make prints each one's output as a block when it ends.
TMP_ROOT ?= $(or $(TMPDIR),/tmp)

test-sqlite: install-test translations browser
	$(PY) -m pytest --basetemp=$(TMP_ROOT)/progres-pytest-sqlite $(PYTEST_ARGS)

test-postgres: install-test translations services
	@if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then \
	  echo "== La même suite sur PostgreSQL =="; \
	  PROGRES_TEST_DATABASE_URL=$(PG_TEST_URL) PROGRES_TEST_REDIS_URL=redis://127.0.0.1:6379/14 \
	    $(PY) -m pytest --basetemp=$(TMP_ROOT)/progres-pytest-postgres $(PYTEST_ARGS); \
	elif [ "$$CI" = "true" ]; then \
	  echo "PostgreSQL injoignable sur 127.0.0.1:5432 : obligatoire sous CI=true." >&2; exit 1; \
	else \
	  echo "PostgreSQL injoignable : suite PostgreSQL non lancée (elle l'est sous CI=true)."; \
	fi

test: lint services install-test translations browser
	@echo "== Suites SQLite et PostgreSQL en parallèle : chacune s'affiche quand elle se termine =="
	@$(MAKE) --no-print-directory --output-sync=target -j2 test-sqlite test-postgres
