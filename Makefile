# jiefen — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-stamp
VENDOR  = web/static/vendor/.stamp
export JIEFEN_INSTANCE_PATH ?= $(CURDIR)/instance

.PHONY: run test setup vendor translations browser lint check bench demo clean

run: setup vendor translations
	$(BIN)/jiefen keys init
	$(BIN)/jiefen db upgrade
	$(BIN)/jiefen demo --if-empty
	$(BIN)/jiefen serve --dev --host 127.0.0.1 --port 5000

setup: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

vendor: $(VENDOR)

$(VENDOR): web/assets/package.json web/assets/package-lock.json web/assets/copy_vendor.py $(wildcard web/assets/src/*.js web/assets/src/*.json)
	cd web/assets && npm ci --no-audit --no-fund --loglevel=error
	$(BIN)/python web/assets/copy_vendor.py
	touch $(VENDOR)

translations: setup
	$(BIN)/python web/translations/compile.py --strict

# Browser tests use Debian's chromium (never a downloaded browser) and a CJK font.
browser:
	@if ! command -v chromium >/dev/null || ! dpkg -s fonts-wqy-microhei >/dev/null 2>&1; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei; \
	fi

lint: setup
	$(BIN)/ruff check engine workflows web tests benchmarks migrations
	$(BIN)/lint-imports
	$(BIN)/mypy
	@! grep -rnE '(^|[^._a-zA-Z])(eval|exec)\(' engine workflows web --include='*.py' || (echo 'eval/exec is forbidden' && false)
	@! grep -rnE '(session|connection|conn|db)\.commit\(\)' engine workflows web --include='*.py' | grep -v '^workflows/runtime/unit_of_work.py' | grep -v '^engine/db.py:.*the rollback that follows' || (echo 'database commits only in workflows/runtime/unit_of_work.py (UnitOfWork.commit; engine/db.py ends a PostgreSQL transaction that wrote nothing)' && false)

# -n auto: one pytest-xdist worker per core (tests/conftest.py gives each its own database)
test: setup vendor translations browser lint
	$(BIN)/pytest -q -p no:cacheprovider -n auto

check: test

bench: setup
	$(BIN)/jiefen bench

clean:
	rm -rf $(VENV) web/static/vendor web/assets/node_modules
