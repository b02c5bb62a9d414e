# Continuum: `make run` serves a demo on 127.0.0.1:8000, `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1:8000

.PHONY: install run test lint format migrate clean assets messages translations

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

run: migrate
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver $(HOST)

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The design system (govuk-frontend) and axe-core from the pinned npm packages into
# static/vendor/. The built files are committed, so `make run` and `make test` need no npm;
# run this after changing package.json or assets/continuum.scss (needs node 20 and npm).
assets:
	./assets/build.sh

# Translations (locale/): `make messages` extracts every marked string into the catalogues
# of the eight languages (needs GNU gettext's xgettext, only here) and compiles them;
# `make translations` only compiles the .po files into the .mo files Django reads (Python's
# polib, no system gettext). The .mo files are committed, so running the site needs neither.
LANGUAGES := en es fr it pt el ar sw
MESSAGES_IGNORE := -i '.venv/*' -i 'node_modules/*' -i 'static/vendor/*' -i 'staticfiles/*' \
	-i 'tests/*' -i 'bench/*' -i 'var/*' -i 'assets/*'
messages: install
	$(BIN)/python manage.py makemessages $(addprefix -l ,$(LANGUAGES)) --no-obsolete --no-location --no-wrap $(MESSAGES_IGNORE)
	$(BIN)/python manage.py makemessages -d djangojs $(addprefix -l ,$(LANGUAGES)) --no-obsolete --no-location --no-wrap $(MESSAGES_IGNORE)
	$(BIN)/python manage.py compile_translations
	$(BIN)/python manage.py check_translations || echo "Translate the new strings above (locale/*/LC_MESSAGES/*.po), then: make translations"

translations: install
	$(BIN)/python manage.py compile_translations

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache *.egg-info
