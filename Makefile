# The two commands: `make demo` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# make demo: development settings, mail printed on the console, links to this server.
DEMO_ENV := DEBUG=1 EMAIL_BACKEND=django.core.mail.backends.console.EmailBackend SITE_URL=http://localhost:$(PORT)
# PostgreSQL used by `make test` when it answers (the second database of the suite).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?=
# Tests run with production-like settings: DEBUG off, a throwaway key.
TEST_ENV := DEBUG=0 SECRET_KEY=test-only-secret-key ALLOWED_HOSTS=testserver,localhost CACHE_URL=locmem://
# The browser test (tests/browser) drives Debian's Chromium; without it, it is skipped.
CHROMIUM := /usr/bin/chromium
BROWSER_CHECK := [ -x $(CHROMIUM) ] || echo "== SKIPPED: browser test (no $(CHROMIUM); apt-get install chromium)"

.PHONY: venv demo test test-sqlite test-postgres lint format bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

venv: $(BIN)/.installed

demo: venv
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py import_seeds
	DEBUG=1 $(BIN)/python manage.py demo_setup
	@# The notification worker beside the server, mail printed on the console; Ctrl-C
	@# stops both.
	$(DEMO_ENV) $(BIN)/python manage.py run_worker & WORKER=$$!; \
		trap 'kill $$WORKER 2>/dev/null' EXIT; \
		$(DEMO_ENV) $(BIN)/python manage.py runserver 0.0.0.0:$(PORT)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test-sqlite: venv
	@echo "== test suite on SQLite"
	@$(BROWSER_CHECK)
	$(TEST_ENV) $(BIN)/pytest -n 2 $(PYTEST_ARGS)

test-postgres: venv
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(TEST_DATABASE_URL)', connect_timeout=3).close()" 2>/dev/null; then \
		echo "== test suite on PostgreSQL ($(TEST_DATABASE_URL))"; \
		$(BROWSER_CHECK); \
		$(TEST_ENV) DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/pytest -n 2 $(PYTEST_ARGS); \
	else \
		echo "== SKIPPED: the test suite on PostgreSQL: nothing answers at $(TEST_DATABASE_URL)"; \
	fi

test: lint test-sqlite test-postgres

# Benchmarks (bench/README.md): a few minutes; not part of `make test`. The data is
# generated once into bench/.data/ and PostgreSQL database `bench` (BENCH_POSTGRES_URL).
BENCH_ARGS ?=
bench: venv
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache
