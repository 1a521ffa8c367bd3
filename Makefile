# Two commands for a fresh machine:  `make demo`  and  `make test`.
# Both create the project's own virtualenv (.venv) on first use.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint browser clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,redis,postgres]"
	touch $(STAMP)

## The demo wall: SQLite, a bundled replay, no credentials, no services.
demo: $(STAMP)
	$(PY) -m demo_app

## Every test: lint, then the suite (browser tests need Chromium; see `browser`).
test: $(STAMP) browser
	$(PY) -m ruff check flask_twitsocket tests demo_app benchmarks
	$(PY) -m pytest

## Debian's Chromium for the browser tests (Playwright cannot download its own here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's chromium for the browser tests..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "chromium is not installed: browser tests will be skipped (apt-get install chromium)"; \
	  fi; }

lint: $(STAMP)
	$(PY) -m ruff check flask_twitsocket tests demo_app benchmarks

clean:
	rm -rf $(VENV) instance .pytest_cache
