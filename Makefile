# `make run` and `make test` work on a machine that has only Python 3.11.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench lint format check-deploy shell reset clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

## Start PostgreSQL, Redis, the web server, a Celery worker and beat at http://127.0.0.1:8000
run: $(STAMP)
	$(PY) -m config.devstack run

## The whole test suite on an embedded PostgreSQL and Redis (or DATABASE_URL / REDIS_URL)
test: $(STAMP)
	$(PY) -m config.devstack test $(ARGS)

## Benchmarks of bench/ (numbers go to docs/PERFORMANCE.md): the load benchmark (locust, gunicorn), then
## the CSV export. ARGS="--rows 50000" goes to the export; ARGS="bench/load_bench.py --profile" runs one alone.
bench: $(STAMP)
	$(PY) -m config.devstack bench $(ARGS)

## ruff, and the house's import contracts (pyproject.toml [tool.importlinter])
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## Django shell against the servers `make run` started (run it in a second terminal)
shell: $(STAMP)
	$(PY) manage.py shell

## Forget the local databases (demo and test data)
reset:
	$(PY) -m config.devstack reset

clean:
	rm -rf $(VENV) .pytest_cache staticfiles
