# Two commands a newcomer needs: `make run` and `make test`. Everything else is set up by them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
NODE_STAMP := node_modules/.installed-stamp
export DATA_DIR ?= ./var
# pytest processes for make test (pytest-xdist): most tests wait on servers, browsers and
# subprocesses, so two processes on two cores finish well before one
TEST_WORKERS ?= 2

.PHONY: run test test-cluster lint bench bench-smoke lighthouse system-run system-test system-cluster clean-demo

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

# Debian packages: a CJK font (seal images and PDF documents) and fonts-hanazono, the fallback
# for the rare characters it lacks (CJK Extensions B–F, in real names); chromium for the browser
# tests; softhsm2, a PKCS#11 token in software, for the tests of HSM seals.
system-run:
	@bash scripts/apt-ensure.sh fonts-noto-cjk fonts-hanazono

system-test:
	@bash scripts/apt-ensure.sh fonts-noto-cjk fonts-hanazono chromium softhsm2

## make run: set up, migrate, seed the demo (first run only) and serve on http://127.0.0.1:8000
run: $(STAMP) system-run
	$(BIN)/portal run

## make test: set up and run the whole suite (lint, types, SQLite + PostgreSQL, browser)
test: $(STAMP) $(NODE_STAMP) system-test lint
	$(BIN)/pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist worksteal

# Several nodes behind Debian's nginx, PgBouncer, a streaming replica, PostgreSQL restarted
# under load, the backup drill (README "Several nodes"); each PostgreSQL there is its own.
system-cluster:
	@bash scripts/apt-ensure.sh nginx pgbouncer postgresql

## make test-cluster: the multi-process and multi-server tests (minutes; .ci/run runs them too)
test-cluster: $(STAMP) system-test system-cluster
	$(BIN)/pytest -q -p no:cacheprovider --cluster tests/cluster

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy portal signing payments notifications tests
	$(BIN)/lint-imports --no-logo

# Every bench/*.py but the modules they share (the harness and the seeded dataset).
BENCHMARKS = $(filter-out bench/harness.py bench/dataset.py,$(wildcard bench/*.py))

## make bench: every benchmark with its full counts (many minutes; figures in README "Benchmarks")
bench: $(STAMP) $(NODE_STAMP) system-test
	@for script in $(BENCHMARKS); do echo "== $$script"; $(BIN)/python $$script || exit 1; done

## make bench-smoke: every benchmark once with tiny counts (BENCH_SMOKE=1), to see each still runs
bench-smoke: $(STAMP) $(NODE_STAMP) system-test
	@for script in $(BENCHMARKS); do echo "== $$script"; BENCH_SMOKE=1 $(BIN)/python $$script || exit 1; done

## make lighthouse: Lighthouse (mobile) on /, /verify, /publicity, a case, the mailbox and 我的待办
lighthouse: $(STAMP) $(NODE_STAMP) system-test
	$(BIN)/python bench/lighthouse.py

clean-demo:
	rm -rf $(DATA_DIR)
