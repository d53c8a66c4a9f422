# Two commands: `make run` (the whole platform with demo partners) and `make test` (the suite).
# Both create .venv and install the project with its dev extras when missing or stale.

PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' && echo $$p && break; done)
VENV := .venv
STAMP := $(VENV)/.kindred-installed
PY := $(VENV)/bin/python
# axe-core for the browser tests' accessibility checks, pinned in package.json / package-lock.json.
NODE_STAMP := node_modules/.package-lock.json

.PHONY: run test lint bench clean-data help

help:
	@echo "make run    - set up and start web, Celery worker and beat, with demo partners"
	@echo "make test   - set up and run the whole test suite"
	@echo "make lint   - ruff, mypy and the import contract (tests/test_architecture.py)"
	@echo "make bench  - provisioning benchmark"

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || (echo "Python 3.11+ is required" >&2; exit 1)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	LOG_FORMAT=$${LOG_FORMAT:-plain} $(PY) manage.py run_platform

$(NODE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm is missing: the accessibility checks of the browser tests cannot run (apt-get install -y npm)" >&2; fi

test: $(STAMP) $(NODE_STAMP)
	$(PY) -m pytest -m "integration or not integration" $(PYTEST_ARGS)

# The last step checks DESIGN.md's one-way dependencies between apps (it needs no database).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(PY) -m pytest -q -p no:cacheprovider tests/test_architecture.py

bench: $(STAMP)
	$(PY) bench/provisioning.py

clean-data:
	rm -rf .kindred
