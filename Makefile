# Everything installs into the project folder: no root, nothing in the system Python.
#   .tools/pipenv  pipenv itself (bootstrapped when missing)
#   .venv          the locked app + dev packages (Pipfile.lock)
PYTHON ?= python3
PIPENV_VERSION := 2026.10.3
TOOLS := .tools
PIPENV := $(TOOLS)/pipenv/bin/pipenv
VENV := .venv
PY := $(VENV)/bin/python

export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_VERBOSITY := -1
export PIPENV_NOSPIN := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: setup synth test lint clean

setup: $(VENV)/.synced

$(PIPENV):
	$(PYTHON) -m venv $(TOOLS)/pipenv
	$(TOOLS)/pipenv/bin/pip install --quiet pipenv==$(PIPENV_VERSION)

$(VENV)/.synced: Pipfile.lock | $(PIPENV)
	$(PIPENV) sync --dev
	touch $@

synth: setup ## synthesize every environment into cdktf.out/
	$(PY) main.py

test: setup ## the whole test suite
	$(PY) -m pytest

lint: setup ## ruff check + format check
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

clean:
	rm -rf cdktf.out .pytest_cache
