# Two commands on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test venv axe lint messages bench clean

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

run: venv
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --skip-if-present
	@echo ""
	@echo "  Site:   http://$(HOST):$(PORT)/   (admin: http://$(HOST):$(PORT)/admin/)"
	@echo "  Logins (password demo12345): hr, finance, manager, qa, agent, sales"
	@if [ -n "$$CELERY_BROKER_URL" ]; then echo "  Broker set: start workers with  $(BIN)/celery -A config worker -B"; \
	 else echo "  No broker configured: Celery tasks run in-process."; fi
	@echo ""
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

AXE := tests/js/node_modules/axe-core/axe.min.js

test: venv axe
	$(BIN)/pytest

# axe-core for the browser suite's accessibility check, from the npm registry (pinned in the lock file)
axe: $(AXE)

$(AXE): tests/js/package.json tests/js/package-lock.json
	@if command -v npm >/dev/null; then npm ci --prefix tests/js --no-audit --no-fund --silent; \
	 else echo "npm not found: the browser tests need axe-core (apt-get install npm)"; fi

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python manage.py makemigrations --check --dry-run

messages: venv
	$(BIN)/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=bench
	$(BIN)/python manage.py compilemessages -l zh_Hans --ignore=.venv

bench: venv
	$(BIN)/python bench/import_bench.py
	$(BIN)/python bench/close_bench.py
	$(BIN)/python bench/qa_bench.py

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles test-output
