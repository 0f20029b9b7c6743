# ClinicAdmin: `make run` and `make test` are all a fresh clone needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run serve test lint install demo bench clean reference

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The shipped modality plugins are distributions of their own (plugins/<name>/pyproject.toml), installed beside the
# core and found by their `clinicadmin` entry points.
PLUGINS := $(sort $(dir $(wildcard plugins/*/pyproject.toml)))

$(STAMP): $(BIN)/python setup.cfg pyproject.toml constraints.txt $(addsuffix pyproject.toml,$(PLUGINS))
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]' $(addprefix -e ,$(PLUGINS))
	touch $(STAMP)

install: $(STAMP)

## Install, migrate, load the demo clinic, print the logins and serve on http://$(HOST):$(PORT)
run: install
	$(BIN)/clinicadmin db upgrade
	$(BIN)/clinicadmin demo-data
	@echo "Open http://$(HOST):$(PORT)/ and log in with one of the accounts above (manager@example.com for the full tour)."
	@# The chores above generated this machine's development secrets into the instance folder; the server (which
	@# would refuse to start without secrets) is given that file as its secrets file. One process: limits in memory.
	@# The job worker (the instance's SQLite queue) starts beside it; the shell ($$$$) then becomes the server (exec),
	@# whose end the worker notices (--parent-pid), however the server ends.
	export CLINICADMIN_HTTPS=$${CLINICADMIN_HTTPS:-false}; \
	export CLINICADMIN_SECRETS_FILE=$${CLINICADMIN_SECRETS_FILE:-$${CLINICADMIN_INSTANCE_PATH:-instance}/secrets.json}; \
	export CLINICADMIN_RATELIMIT_STORAGE_URI=$${CLINICADMIN_RATELIMIT_STORAGE_URI:-memory://}; \
	$(BIN)/clinicadmin worker --workers 1 --parent-pid $$$$ & \
	exec $(BIN)/clinicadmin run --host $(HOST) --port $(PORT)

## Migrate, then serve the clinic with gunicorn and its shipped settings (clinicadmin/gunicorn_conf.py; BIND, WORKERS
## and the instance's environment as docs/operations.md describes)
serve: install
	$(BIN)/clinicadmin db upgrade
	$(BIN)/clinicadmin serve $(if $(BIND),--bind $(BIND)) $(if $(WORKERS),--workers $(WORKERS))

## Lint (ruff, configured in pyproject.toml) and type-check (mypy, the same file) the whole project
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## Lint, then install and run every test, on TEST_WORKERS processes (PostgreSQL tests skip with a reason when it is
## unreachable, except in CI). Tests marked xdist_group share a worker (loadgroup).
TEST_WORKERS ?= auto
test: install lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

## Seed a clinic chain (bench/results/, reused) and time the pages against plain Flask-Admin, then recording
## throughput through gunicorn with 1, 4 and 8 workers on PostgreSQL; prints the tables (BENCH_ONLY=recording: that alone)
bench: install
	$(BIN)/python bench/run.py

## Rewrite the generated part of docs/plugin-hooks.md (the core's condition vocabulary) from the registry
reference: install
	$(BIN)/python -m clinicadmin.reference

clean:
	rm -rf $(VENV) build *.egg-info plugins/*/build plugins/*/src/*.egg-info
