# Two commands a newcomer needs, each doing its own set-up from a clean clone:
#   make demo   the example site, its worker and local Mastodon, Bluesky and X stand-ins
#   make test   the whole test suite (make test-fast: without the browser, worker and PDS tests)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test test-fast lint install messages

$(VENV)/.installed: pyproject.toml fakes/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@echo "Installing the plugin and what the tests and example_site/check_demo.py need into $(VENV)…"
	$(PY) -m pip install --quiet -e ./fakes -e ".[test,browser]"
	touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(PY) example_site/demo.py

test: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) -m django makemigrations --check --dry-run
	cd example_site && ../$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest $(PYTEST_ARGS)

# The tests without outside processes or a browser (the `slow` marker): a quick check while
# working; `make test` runs everything.
test-fast: $(VENV)/.installed
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

# The source catalogue of the plugin's messages (needs GNU gettext: apt-get install gettext).
messages: $(VENV)/.installed
	cd wagtail_syndicate && PYTHONPATH=.. DJANGO_SETTINGS_MODULE=tests.settings \
		../$(PY) -m django makemessages -l en --no-obsolete
