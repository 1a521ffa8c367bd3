# Two commands for a fresh machine:  `make demo`  and  `make test`  (`make docs`: the site).
# Both create the project's own virtualenv (.venv) on first use.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint browser nginx clean docs docs-config translations screenshots

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,docs,redis,postgres]"
	touch $(STAMP)

## The demo wall: SQLite, a bundled replay, no credentials, no services.
demo: $(STAMP)
	$(PY) -m demo_app

# PostgreSQL round of `make test`: the production database, tested for real.
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
PG_REACHABLE = $(PY) -c "import socket, sys; from sqlalchemy.engine import make_url; \
	u = make_url(sys.argv[1]); socket.create_connection((u.host or '127.0.0.1', u.port or 5432), 2)" \
	"$(PG_TEST_URL)" 2>/dev/null

## Every test: lint, the documentation site (warnings are errors), the suite on SQLite,
## then again on PostgreSQL when it is reachable (always in CI). Browser tests need
## Chromium (see `browser`); the PostgreSQL round leaves them out, and the package test
## (`slow`): they test the page and the wheel, not the database.
test: $(STAMP) browser nginx docs
	$(PY) -m ruff check flask_twitsocket tests demo_app benchmarks
	$(PY) -m pytest
	@if [ "$$CI" = "true" ] || $(PG_REACHABLE); then \
	  echo "== Again on PostgreSQL ($(PG_TEST_URL)), browser tests left out =="; \
	  TWITSOCKET_TEST_DATABASE_URL="$(PG_TEST_URL)" $(PY) -m pytest \
	    --ignore-glob='tests/test_browser_*.py' -m 'not slow'; \
	else \
	  echo "PostgreSQL is not reachable: skipped the PostgreSQL round (CI runs it)"; \
	fi

## Installs Debian packages $(2) unless the commands $(1) are all there: as root with
## apt-get, saying why ($(3)); otherwise it says what is skipped without them ($(4)).
define debian
	@for tool in $(1); do command -v $$tool >/dev/null 2>&1 || missing=1; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's $(2) $(3)..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null; \
	  else \
	    echo "$(2): not installed: $(4) (apt-get install $(2))"; \
	  fi; \
	fi
endef

## Debian's Chromium for the browser tests (Playwright cannot download its own here).
browser:
	$(call debian,chromium,chromium,for the browser tests,browser tests will be skipped)

## The benchmarks (about 20 minutes): results in benchmarks/results/*.json, summary
## in docs/performance.md. Needs Node.js + npm (load generator), Chromium, hey and nginx
## (the media benchmark; see bench-tools); uses PostgreSQL and Redis on 127.0.0.1 when
## they run. BENCH_ARGS=--quick for a dry run.
.PHONY: bench bench-tools
bench: $(STAMP) browser bench-tools
	cd benchmarks/loadgen && npm ci --no-audit --no-fund --silent
	$(PY) -m benchmarks $(BENCH_ARGS)

## Debian's nginx for tests/test_media_nginx.py (the shipped nginx site file, run for real);
## without it those tests are skipped with the reason.
nginx:
	$(call debian,nginx,nginx,for the media proxy tests,the nginx tests will be skipped)

## Debian's hey (HTTP load generator) and nginx (the static-file baseline and the proxy in
## front of ours) for benchmarks/bench_media.py, which starts its own nginx on free ports.
bench-tools:
	$(call debian,hey nginx,hey nginx,for the media benchmark,the media benchmark needs hey and leaves out its nginx rows without nginx)

## The documentation site in docs/_build/html (Sphinx, MyST, the Pallets theme): warnings,
## missing references and broken links between pages are errors. No network needed.
DOCS_OUT ?= docs/_build/html
docs: $(STAMP)
	$(PY) -m sphinx -W --keep-going -n -q -b html docs $(DOCS_OUT)

## docs/configuration.md, generated from the settings table (flask_twitsocket/config_table.py).
docs-config: $(STAMP)
	$(PY) -c 'from flask_twitsocket.config import configuration_markdown as doc; \
	print(doc(), end="")' > docs/configuration.md

## The compiled catalogues the wheel ships, from the .po files (a test checks they agree).
translations: $(STAMP)
	$(PY) -m flask_twitsocket.i18n

lint: $(STAMP)
	$(PY) -m ruff check flask_twitsocket tests demo_app benchmarks

clean:
	rm -rf $(VENV) instance .pytest_cache docs/_build build dist


## docs/screenshots/projector-<layout>-<theme>-<1080p|4k>.jpg and moderation-console.png,
## from the real pages in Chromium.
screenshots: $(STAMP) browser
	TWITSOCKET_SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(PY) -m pytest -q \
	  tests/test_browser_projector.py -k every_layout_and_theme
	TWITSOCKET_SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(PY) -m pytest -q \
	  tests/test_browser_moderation.py -k on_a_phone
