# The two commands a new user needs: `make run` and `make test`.
# Each creates .venv on first use; only Python 3.11+ and make are required.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint format bench audit migrate seed worker beat lock clean venv

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found " + sys.version.split()[0] + "); set PYTHON=/path/to/python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP)

## run: migrate, load demo data and serve the admin on http://127.0.0.1:8000/admin/
run: export DEBUG ?= 1
run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo ""
	@echo "  HSH Sales admin: http://$(HOST):$(PORT)/admin/   (logins above; Ctrl-C stops)"
	@echo ""
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

## test: the whole suite (set DATABASE_URL / REDIS_URL to include PostgreSQL and Redis tests),
## one test process per core; PYTEST_WORKERS=0 runs it in one process
PYTEST_WORKERS ?= auto
test: $(STAMP)
	@test -f node_modules/axe-core/axe.min.js || ! command -v npm >/dev/null || npm ci --no-audit --no-fund --loglevel=error || true
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

## lint: ruff, formatting, migrations in step with the models, mypy (strict) on the models,
## services and selectors, and no business model written outside a service
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run
	DEBUG=1 $(BIN)/mypy
	$(BIN)/python -m tools.check_service_writes

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## bench: benchmarks against their baselines (see BENCHMARKS.md); BENCH_ARGS passes flags
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

## audit: known vulnerabilities in the pinned requirements (pip-audit; needs PyPI's JSON
## API or OSV to answer, and says so when neither does)
audit: $(STAMP)
	$(BIN)/python -m tools.audit_requirements

migrate: $(STAMP)
	$(BIN)/python manage.py migrate --noinput

seed: export DEBUG ?= 1
seed: $(STAMP)
	$(BIN)/python manage.py seed_demo

## worker / beat: Celery processes (need REDIS_URL)
worker: $(STAMP)
	$(BIN)/celery -A hsh_admin worker --loglevel=info

beat: $(STAMP)
	$(BIN)/celery -A hsh_admin beat --loglevel=info

## lock: re-resolve the pinned requirements from requirements*.in
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links -o requirements.txt requirements.in
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links -o requirements-dev.txt requirements-dev.in

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis staticfiles .coverage coverage.json
