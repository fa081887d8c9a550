# The two commands: `make demo` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# make demo: development settings, mail printed on the console, links to this server.
DEMO_ENV := DEBUG=1 EMAIL_BACKEND=django.core.mail.backends.console.EmailBackend SITE_URL=http://127.0.0.1:$(PORT)
# PostgreSQL used by `make test` when it answers (the second database of the suite).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?=
# Tests run with production-like settings: DEBUG off, a throwaway key.
TEST_ENV := DEBUG=0 SECRET_KEY=test-only-secret-key ALLOWED_HOSTS=testserver,localhost CACHE_URL=locmem://
# The browser test (tests/browser) drives Debian's Chromium; without it, it is skipped.
CHROMIUM := /usr/bin/chromium
BROWSER_CHECK := [ -x $(CHROMIUM) ] || echo "== SKIPPED: browser test (no $(CHROMIUM); apt-get install chromium)"
# The replica tests (tests/config/test_replicas_live.py, marker `replica`) make their own
# primary and two streaming replicas with the PostgreSQL server binaries (PG_BINDIR, else the
# newest /usr/lib/postgresql/*/bin), in the PostgreSQL pass; without them they are skipped.
PG_BINDIR ?= $(lastword $(sort $(wildcard /usr/lib/postgresql/*/bin)))
REPLICA_CHECK := [ -x "$(PG_BINDIR)/initdb" ] && [ -x "$(PG_BINDIR)/pg_basebackup" ] || echo "== SKIPPED: replica tests (no PostgreSQL server binaries: initdb, pg_basebackup in /usr/lib/postgresql/*/bin; apt-get install postgresql)"
# --dist loadgroup keeps the tests sharing one cluster (xdist_group) on one worker.
XDIST := -n 2 --dist loadgroup

.PHONY: venv demo demo-reset test test-sqlite test-postgres lint format bench bench-imports clean

# Two install stamps: `make demo` installs the runtime dependencies only (`pip install -e .`);
# `make test` and the other tool targets add the dev extra (test tools, linters, generators).
# --no-compile: Python compiles what it imports on first use instead of every installed file.
RUNTIME := $(BIN)/.installed-runtime
DEV := $(BIN)/.installed-dev

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUNTIME): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check --no-compile -e .
	touch $@

$(DEV): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check --no-compile -e ".[dev]"
	touch $@ $(RUNTIME)

venv: $(DEV)

# Serves on 127.0.0.1:$(PORT), the address it prints (DEBUG=1 allows localhost and 127.0.0.1).
demo: $(RUNTIME)
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py import_seeds
	DEBUG=1 $(BIN)/python manage.py demo_setup --base-url http://127.0.0.1:$(PORT)
	@echo "== Open http://127.0.0.1:$(PORT)/ (the API root; the admin is at http://127.0.0.1:$(PORT)/admin/). Ctrl-C stops."
	@# The notification worker beside the server, mail printed on the console; Ctrl-C
	@# stops both.
	$(DEMO_ENV) $(BIN)/python manage.py run_worker & WORKER=$$!; \
		trap 'kill $$WORKER 2>/dev/null' EXIT; \
		$(DEMO_ENV) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# Start the demo over: a new SQLite database, so a fresh moderation queue.
demo-reset:
	rm -f db.sqlite3 db.sqlite3-wal db.sqlite3-shm
	$(MAKE) demo

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test-sqlite: venv
	@echo "== test suite on SQLite"
	@$(BROWSER_CHECK)
	$(TEST_ENV) $(BIN)/pytest $(XDIST) $(PYTEST_ARGS)

test-postgres: venv
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(TEST_DATABASE_URL)', connect_timeout=3).close()" 2>/dev/null; then \
		echo "== test suite on PostgreSQL ($(TEST_DATABASE_URL))"; \
		$(BROWSER_CHECK); \
		$(REPLICA_CHECK); \
		$(TEST_ENV) DATABASE_URL=$(TEST_DATABASE_URL) PG_BINDIR=$(PG_BINDIR) $(BIN)/pytest $(XDIST) $(PYTEST_ARGS); \
	else \
		echo "== SKIPPED: the test suite on PostgreSQL: nothing answers at $(TEST_DATABASE_URL) (the replica tests too)"; \
	fi

test: lint test-sqlite test-postgres

# Benchmarks (bench/README.md): a few minutes; not part of `make test`. The data is
# generated once into bench/.data/ and PostgreSQL database `bench` (BENCH_POSTGRES_URL).
BENCH_ARGS ?=
bench: venv
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# The import bench alone (bench/imports.py): import_seeds and import_comments on the same
# thread of 1,000 / 10,000 / 100,000 comments, SQLite and PostgreSQL, peak memory.
bench-imports: venv
	$(BIN)/python -m bench.imports $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache
