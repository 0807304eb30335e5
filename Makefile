# Everything installs into the project folder: no root, nothing in the system Python.
#   .tools/pipenv  pipenv itself (bootstrapped when missing)
#   .venv          the locked app + dev packages (Pipfile.lock)
PYTHON ?= python3
NPM ?= npm
PIPENV_VERSION := 2026.10.3
TOOLS := .tools
PIPENV := $(TOOLS)/pipenv/bin/pipenv
VENV := .venv
PY := $(VENV)/bin/python

export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_VERBOSITY := -1
export PIPENV_NOSPIN := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
# No version checks / telemetry from the cdktf CLI (and Terraform's checkpoint).
export CHECKPOINT_DISABLE := 1

CHECKOV := $(TOOLS)/checkov/bin/checkov

SERVE_CONFIG ?= config/dev.toml
SERVE_PORT ?= 8080

.PHONY: setup synth check bootstrap test lint checkov diagram bench serve clean

setup: $(VENV)/.synced $(CHECKOV) node_modules/.installed

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

# The cdktf CLI pinned in package-lock.json; `npm ci` checks every hash. --ignore-scripts:
# npm 10 would run install scripts; the only one (node-pty) checks for a binary it ships.
node_modules/.installed: package.json package-lock.json
	$(NPM) ci --ignore-scripts --no-audit --no-fund
	touch $@

synth: setup ## synthesize every environment into cdktf.out/
	$(PY) main.py

check: setup ## validate every config file without synthesizing (~0.2 s)
	$(PY) main.py --check

bootstrap: setup ## synthesize the remote-state bucket stack into bootstrap.out/
	$(PY) main.py --bootstrap

serve: $(VENV)/.synced ## run the function locally against moto: http://127.0.0.1:$(SERVE_PORT)/<stage>/<path_part>
	$(PY) scripts/serve.py --config $(SERVE_CONFIG) --port $(SERVE_PORT)

test: setup ## the whole test suite
	$(PY) -m pytest

checkov: synth ## the security gate on cdktf.out/
	$(PY) scripts/checkov_gate.py

diagram: synth ## one architecture picture per stack: docs/<stack>.png (needs Graphviz `dot`)
	$(PY) -m scripts.diagram

bench: setup ## synth time, memory (node peak) and phases: fast loader vs stock; 1, 4, 16 environments
	$(PY) -m scripts.bench

lint: setup ## ruff check + format check
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

clean:
	rm -rf cdktf.out bootstrap.out .pytest_cache
