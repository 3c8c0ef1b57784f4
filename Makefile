# `make run` starts the whole system on embedded defaults; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The suite runs on every core (pytest-xdist; one database and Redis database per worker, tests/conftest.py);
# PYTEST_ARGS= runs it in one process.
PYTEST_ARGS ?= -n auto --dist loadfile

.PHONY: run test test-clock install translations lint bench bench-benefits bench-rush clean fault-drill

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[embedded,test]'
	touch $(STAMP)

install: $(STAMP)

translations: $(STAMP)
	$(PY) -m voucher.i18n

run: install translations
	$(PY) -m voucher.devserver

# Issue 14's acceptance: Redis flushed with 10 documents queued, the worker killed -9 mid-job.
fault-drill: install translations
	$(PY) scripts/fault_drill.py

# Lint and import order (ruff, configured in pyproject.toml); make test runs it first.
lint: install
	$(VENV)/bin/ruff check voucher tests bench scripts migrations

# SQLite (and embedded Redis) first; then, where this machine's PostgreSQL and Redis answer
# (or VOUCHER_TEST_DATABASE_URL / VOUCHER_TEST_REDIS_URL say where), the same suite again on them.
test: install translations lint
	env -u VOUCHER_TEST_DATABASE_URL $(PY) -m pytest $(PYTEST_ARGS)
	@PG=$$($(PY) -m tests.backends postgres); RD=$$($(PY) -m tests.backends redis); \
	if [ -n "$$PG" ]; then \
	  echo "== the suite again on PostgreSQL ($$PG) and Redis ($${RD:-embedded}) =="; \
	  VOUCHER_TEST_DATABASE_URL="$$PG" VOUCHER_TEST_REDIS_URL="$$RD" $(PY) -m pytest $(PYTEST_ARGS); \
	else echo "PostgreSQL not reachable: the PostgreSQL run is skipped"; fi

# The suite on SQLite with the clock moved (no test may depend on today's date).
test-clock: install translations
	for day in 2027-06-30 2027-12-31; do echo "== the suite with the clock on $$day =="; \
	  env -u VOUCHER_TEST_DATABASE_URL VOUCHER_TEST_CLOCK=$$day $(PY) -m pytest $(PYTEST_ARGS) || exit 1; done

bench: install
	$(PY) bench/run_all.py

# Issue 19: the benefits match over 20,000 enterprises, 100,000 statement lines and 50,000 invoices against a
# read pass of the same rows; BENEFITS_ARGS="--enterprises 2000 --lines 10000 --invoices 5000" for a short run.
bench-benefits: install
	$(PY) bench/benefits_match_bench.py $(BENEFITS_ARGS)

# Issue 15: 100 simulated users for 3 minutes on PostgreSQL and Redis (loopback); RUSH_ARGS="--users 20
# --duration 30s" for a short run.  Needs PostgreSQL on 127.0.0.1:5432 (database voucher_bench_rush is
# dropped and created) and Redis on 127.0.0.1:6379 (its database 2 is flushed); see bench/deadline_rush.py.
bench-rush: install translations
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) bench/deadline_rush.py $(RUSH_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
