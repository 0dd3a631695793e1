# The two commands of the README: `make demo` and `make test`. Each creates the virtual
# environment (.venv) on first use and installs into it from the lock files in
# requirements/: `demo` only what the app needs (app.lock), `test` the app and the
# test tools (test.lock). `make lock` refreshes the locks from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
APP_STAMP := $(VENV)/.installed-app
TEST_STAMP := $(VENV)/.installed-test
# The lock tool (https://docs.astral.sh/uv/): `pip install uv`, or UV="pipx run uv".
UV ?= uv
# `make lock UPGRADE=--upgrade` moves every pin to the newest release; without it the
# pins already in the locks stay and only new or changed requirements are resolved.
UPGRADE ?=
COMPILE := $(UV) pip compile pyproject.toml --python-version 3.11 --universal \
	--generate-hashes --quiet --custom-compile-command "make lock" $(UPGRADE)

.PHONY: demo test lint unit browser bench lock clean screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# --require-hashes: every file installed is the one locked. The project itself comes
# after, without dependencies (they are all in the lock).
$(APP_STAMP): requirements/app.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/app.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(TEST_STAMP): requirements/test.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/test.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

demo: $(APP_STAMP)
	$(BIN)/valuechain demo

# Everything CI runs: static checks, then the tests on SQLite and PostgreSQL,
# browser tests included.
test: lint unit

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

# The tests run in parallel, one worker per core (pytest-xdist; at most 4, so the
# PostgreSQL server's connections suffice); each worker has its own session databases.
unit: $(TEST_STAMP)
	$(BIN)/pytest -q -n auto --maxprocesses 4

# Every page each role clicks its way to, at 390 and 1366 px, as PNG files in
# out/screenshots/<role>/ (the layout crawl of tests/browser/test_layout.py).
screenshots: $(TEST_STAMP)
	rm -rf out/screenshots
	SCREENSHOTS=out/screenshots $(BIN)/pytest -q -p no:xdist tests/browser/test_layout.py

bench: $(TEST_STAMP)
	$(BIN)/python -m bench

# The test lock is resolved within the app lock, so the app runs in production on
# exactly the versions the tests ran on.
lock:
	$(COMPILE) -o requirements/app.lock
	$(COMPILE) --extra test -c requirements/app.lock -o requirements/test.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
