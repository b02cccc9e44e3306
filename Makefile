# Two entry points: `make demo` and `make test`. Everything is installed into .venv.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
FLASK = $(BIN)/flask --app wsgi
# `make demo` and its steps run in development (a kept random SECRET_KEY,
# cookies over plain HTTP); production needs SECRET_KEY (see README).
DEMO_ENV = APP_ENV=development

.PHONY: install migrate seed demo serve test lint workers bench-deps

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

# The pinned dependencies, then the project itself in editable mode (it runs from the checkout).
$(VENV)/.installed: $(BIN)/activate requirements.txt requirements-dev.txt pyproject.toml
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/pip install -q --disable-pip-version-check -e . --no-deps
	touch $@

# Compiles dispatch.routing.construction's kernels into numba's cache (seconds once, then a load).
install: $(VENV)/.installed
	$(BIN)/python -c "from dispatch.routing.construction import compile_kernels; compile_kernels()"

migrate: install
	$(DEMO_ENV) $(FLASK) db-upgrade

seed: migrate
	$(DEMO_ENV) $(FLASK) seed-demo

demo: seed
	@echo "Serving on http://127.0.0.1:5000  (API docs: /docs, spec: /openapi.json)"
	$(DEMO_ENV) $(FLASK) run --host 127.0.0.1 --port 5000

# Production-like: gunicorn + RQ worker from the Procfile (needs REDIS_URL).
workers: migrate
	$(BIN)/honcho start

test: install
	bash scripts/run-tests.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

bench-deps: install
	$(BIN)/pip install -q -r requirements-bench.txt
