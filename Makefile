# The README's commands. `make run` and `make test` work on a fresh machine with Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/postgres
DEV_ENV := DEBUG=true
# Local state (the settings' default); `make run` writes $(VAR_DIR)/.env there.
VAR_DIR ?= var
DOT_ENV := $(VAR_DIR)/.env

.PHONY: run test install install-dev browser axe lint format serve worker migrate seeds editor dotenv clean messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	@# The compiled catalogues (locale/*/LC_MESSAGES/django.mo) are committed; recompile when gettext is here.
	@if command -v msgfmt >/dev/null; then $(DEV_ENV) $(BIN)/python manage.py compilemessages -v 0 --ignore=.venv --ignore=node_modules; fi
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Browser tests drive Debian's Chromium (test tools may not download browsers here).
browser:
	@[ -x /usr/bin/chromium ] || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
		else echo "Browser tests need Chromium: sudo apt-get install -y chromium"; fi; }

# The accessibility check (tests/test_browser_axe.py) injects axe-core into Chromium. Pinned: a new
# version brings new rules, so it changes only here, on purpose. The stamp reinstalls it when the pin moves.
AXE_CORE_VERSION := 4.14.1
AXE_STAMP := node_modules/.axe-core-$(AXE_CORE_VERSION)

axe: $(AXE_STAMP)

$(AXE_STAMP):
	@command -v npm >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq npm >/dev/null; \
		else echo "The accessibility check needs npm: sudo apt-get install -y npm"; exit 1; fi; }
	npm install --prefix "$(CURDIR)" --no-save --no-audit --no-fund --no-package-lock --loglevel=error axe-core@$(AXE_CORE_VERSION)
	@touch $@

migrate: install
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEV_ENV) $(BIN)/python manage.py createcachetable

seeds: migrate
	$(DEV_ENV) $(BIN)/python manage.py import_seeds

editor: migrate
	$(DEV_ENV) $(BIN)/python manage.py create_editor

## dotenv: write $(VAR_DIR)/.env (DEBUG=true) once, so that manage.py and celery commands typed in any
## shell run like make run's own processes. The settings read it only when the environment sets neither
## DEBUG nor SECRET_KEY, and it never overrides the environment (docs/operations.md).
dotenv: $(DOT_ENV)

$(DOT_ENV):
	@mkdir -p $(@D)
	@printf '%s\n' \
		'# Written once by `make run`: development settings for manage.py and celery commands in any shell.' \
		'# config/settings.py reads this file only when the environment sets neither DEBUG nor SECRET_KEY,' \
		'# and never lets it override the environment (docs/operations.md). Delete it to stop.' \
		'DEBUG=true' \
		'# SECRET_KEY is not set here: with DEBUG on it is generated once into $(VAR_DIR)/secret_key.' \
		> $@
	@echo "Wrote $@ (DEBUG=true): the README's manage.py commands now work in any shell."

## run: install, migrate, import the seeds, print an editor login, serve with a worker and beat;
## the login is printed again once the site answers (scripts/dev_login.py)
run: dotenv seeds editor
	@echo "Starting web, worker and beat (Procfile.dev); the editor login follows once the site answers."
	PATH="$(CURDIR)/$(BIN):$$PATH" $(DEV_ENV) $(BIN)/honcho -f Procfile.dev start

## serve: production mode: DEBUG off, settings from the environment (SECRET_KEY at least), static files
## collected with hashed names and served by WhiteNoise, gunicorn on 127.0.0.1:8000 behind a TLS proxy.
## Migrations are not run here: run `manage.py migrate` once per upgrade (docs/deploy.md).
serve: export DEBUG := false
serve: export STATIC_MANIFEST := true
serve: install
	@[ -n "$$SECRET_KEY" ] || { echo "make serve: set SECRET_KEY (and ALLOWED_HOSTS, SITE_URL); see docs/deploy.md"; exit 1; }
	$(BIN)/python manage.py collectstatic --noinput -v 0
	@$(BIN)/python manage.py migrate --check >/dev/null || { echo "make serve: unapplied migrations: run '.venv/bin/python manage.py migrate' once"; exit 1; }
	$(BIN)/python manage.py check --deploy --fail-level ERROR
	$(BIN)/gunicorn -c config/gunicorn.conf.py

## worker: a Celery worker (set CELERY_BROKER_URL=redis://... to use Redis)
worker: install
	$(BIN)/celery -A config worker --loglevel=info

## lint: ruff (lint and format) and the import contracts in pyproject.toml (docs/architecture.md)
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## test: lint, then the whole suite on SQLite and on PostgreSQL
test: install-dev browser axe lint
	@echo "== SQLite =="
	$(BIN)/pytest -m "not postgres"
	@if [ "$$CI" = "true" ] || $(BIN)/python scripts/service_up.py postgres "$(PG_TEST_URL)"; then \
		echo "== PostgreSQL: $(PG_TEST_URL) =="; \
		DATABASE_URL="$(PG_TEST_URL)" $(BIN)/pytest -m "not browser or postgres"; \
	else \
		echo "== PostgreSQL not reachable at $(PG_TEST_URL): its run is skipped (with CI=true it is required) =="; \
	fi

## messages: update the Welsh catalogue from the code and templates, then compile it (docs/translating.md).
## tests/test_translations.py runs the same makemessages and fails on anything missing or untranslated.
MAKEMESSAGES_ARGS := -l cy --no-location --ignore=.venv --ignore=node_modules --ignore=var --ignore=tests --ignore=scripts --ignore=seeds --ignore=admin
messages: install
	$(DEV_ENV) $(BIN)/python manage.py makemessages $(MAKEMESSAGES_ARGS)
	$(DEV_ENV) $(BIN)/python manage.py compilemessages -l cy --ignore=.venv --ignore=node_modules

clean:
	rm -rf var/queue var/outbox var/test
