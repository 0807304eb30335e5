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

CHECKOV := $(TOOLS)/checkov/bin/checkov

.PHONY: setup synth test lint checkov clean

setup: $(VENV)/.synced $(CHECKOV)

$(PIPENV):
	$(PYTHON) -m venv $(TOOLS)/pipenv
	$(TOOLS)/pipenv/bin/pip install --quiet pipenv==$(PIPENV_VERSION)

$(VENV)/.synced: Pipfile.lock | $(PIPENV)
	$(PIPENV) sync --dev
	touch $@

# checkov's pins conflict with the app's packages: it gets its own venv, pinned in tools/.
$(CHECKOV): tools/checkov-requirements.txt
	$(PYTHON) -m venv $(TOOLS)/checkov
	$(TOOLS)/checkov/bin/pip install --quiet -r tools/checkov-requirements.txt
	touch $@

synth: setup ## synthesize every environment into cdktf.out/
	$(PY) main.py

test: setup ## the whole test suite
	$(PY) -m pytest

checkov: synth ## the security gate on cdktf.out/
	$(PY) scripts/checkov_gate.py

lint: setup ## ruff check + format check
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

clean:
	rm -rf cdktf.out .pytest_cache
