# Everything Python/npm installs into the project folder: nothing in the system Python.
#   tools/node/node_modules  the Node LTS everything runs on (tools/node/package-lock.json)
#   .tools/pipenv  pipenv itself (bootstrapped when missing)
#   .venv          the locked app + dev packages (Pipfile.lock): CDK for Terraform
#   .venv-cdktn    CDK Terrain instead (frameworks/cdktn/requirements.txt; FRAMEWORK=cdktn)
#   .tools/checkov checkov (make checkov, tests)      node_modules  the cdktf and cdktn CLIs (tests)
#   .tools/mypy    mypy (make lint)
#   graphviz       Debian's `dot` (make diagram, tests): installed only when run as root
# Each target installs only what it uses: `make synth` needs Node and the .venv alone.
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

# The Node LTS pinned in tools/node/package-lock.json (a binary published on the npm registry,
# hash-checked by npm ci) comes first on PATH: jsii's kernel, npm and the CLIs all run on it.
NODE_BIN := $(CURDIR)/tools/node/node_modules/.bin
NODE := tools/node/node_modules/.installed
export PATH := $(NODE_BIN):$(PATH)

# What `make synth` (or `bootstrap`) installs on a fresh clone, Node and the Python environment,
# are independent: side by side, Node's download hides behind the longer Python install.
ifneq ($(filter synth bootstrap,$(MAKECMDGOALS)),)
MAKEFLAGS += --jobs=2
endif

# The framework `make synth`, `check` and `bootstrap` run on (docs/frameworks.md):
# cdktf (CDK for Terraform, .venv) or cdktn (CDK Terrain, .venv-cdktn).
FRAMEWORK ?= cdktf
CDKTN_VENV := .venv-cdktn
ifeq ($(FRAMEWORK),cdktf)
SYNTH_ENV := $(VENV)/.synced
SYNTH_PY := $(PY)
else ifeq ($(FRAMEWORK),cdktn)
SYNTH_ENV := $(CDKTN_VENV)/.installed
SYNTH_PY := $(CDKTN_VENV)/bin/python
else
$(error FRAMEWORK is cdktf or cdktn, not '$(FRAMEWORK)')
endif
# No version checks / telemetry from the cdktf CLI (and Terraform's checkpoint).
export CHECKPOINT_DISABLE := 1

CHECKOV := $(TOOLS)/checkov/bin/checkov
MYPY := $(TOOLS)/mypy/bin/mypy

SERVE_CONFIG ?= config/dev.toml
SERVE_PORT ?= 8080
SERVE_ALB_PORT ?= 8081
SERVE_ISSUER_PORT ?= 8083
CLAIMS ?= {"sub": "local-user"}
SERVE_EVENTS_PORT ?= 8082
CALL_ENV ?= dev
CALL_PATH ?= /hello
CALL_ARGS ?=
RELEASE_ENV ?= dev
ENV ?= dev
RELEASE_ARGS ?=

.PHONY: setup synth check bootstrap test e2e lint checkov diagram bench coldstart serve token fire loadbench call release release-fixture deployer-policy clean graphviz provider-mirror

setup: $(NODE) $(VENV)/.synced $(CDKTN_VENV)/.installed $(CHECKOV) $(MYPY) node_modules/.installed graphviz

# Only the platforms the lock file holds a binary for (Linux x64 and arm64); elsewhere npm skips
# them all, and this says so rather than leaving an older node first on PATH.
$(NODE): tools/node/package.json tools/node/package-lock.json
	cd tools/node && $(NPM) ci --ignore-scripts --no-audit --no-fund
	@test -x $(NODE_BIN)/node || { echo "tools/node/package.json has no Node binary for this platform ($$(uname -sm)): add its package (node-<os>-<cpu>) there" >&2; exit 1; }
	touch $@

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

# mypy in its own venv, like checkov, so Pipfile.lock stays as it is; it reads the project's
# packages through --python-executable. Every wheel's hash is checked.
$(MYPY): tools/mypy-requirements.txt
	$(PYTHON) -m venv $(TOOLS)/mypy
	$(TOOLS)/mypy/bin/pip install --quiet --require-hashes -r tools/mypy-requirements.txt
	touch $@

# CDK Terrain's locked environment, beside the .venv: every wheel's hash is checked.
$(CDKTN_VENV)/.installed: frameworks/cdktn/requirements.txt
	$(PYTHON) -m venv $(CDKTN_VENV)
	$(CDKTN_VENV)/bin/pip install --quiet --require-hashes -r frameworks/cdktn/requirements.txt
	touch $@

# The cdktf and cdktn CLIs pinned in package-lock.json; `npm ci` (on the pinned Node) checks
# every hash. --ignore-scripts: npm would run install scripts; the only one (node-pty) checks
# for a binary it ships.
node_modules/.installed: package.json package-lock.json $(NODE)
	$(NPM) ci --ignore-scripts --no-audit --no-fund
	touch $@

# A system package: as root (a fresh Debian machine, CI) apt-get installs it; otherwise the
# target fails with the one command to run rather than letting the diagram tests fail later.
GRAPHVIZ_INSTALL := apt-get update && apt-get install -y graphviz
graphviz:
	@command -v dot >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Graphviz: $(GRAPHVIZ_INSTALL)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz; \
	  else \
	    echo "Graphviz's dot is missing; install it with: sudo apt-get update && sudo apt-get install -y graphviz" >&2; \
	    exit 1; \
	  fi; }

synth: $(NODE) $(SYNTH_ENV) ## synthesize every environment into cdktf.out/ (FRAMEWORK=cdktn: on CDK Terrain)
	$(SYNTH_PY) main.py

check: $(SYNTH_ENV) ## validate every config file without synthesizing (~0.2 s)
	$(SYNTH_PY) main.py --check

bootstrap: $(NODE) $(SYNTH_ENV) ## synthesize the remote-state bucket stack into bootstrap.out/
	$(SYNTH_PY) main.py --bootstrap

serve: $(VENV)/.synced ## run the functions locally against moto: http://127.0.0.1:$(SERVE_PORT)/<stage>/<route path>
	$(PY) -m scripts.serve --config $(SERVE_CONFIG) --port $(SERVE_PORT) --alb-port $(SERVE_ALB_PORT) --issuer-port $(SERVE_ISSUER_PORT) --events-port $(SERVE_EVENTS_PORT)

token: $(VENV)/.synced ## print a token of make serve's local issuer: CLAIMS='{"sub":"alice","scope":"orders/write"}'
	@$(PY) -m scripts.local_issuer --issuer-port $(SERVE_ISSUER_PORT) --claims '$(CLAIMS)' $(TOKEN_ARGS)

fire: $(VENV)/.synced ## fire a schedule of a running make serve now: make fire TRIGGER=<name>
	@test -n "$(TRIGGER)" || { echo "TRIGGER=<the schedule trigger's name> is required" >&2; exit 2; }
	$(PY) -m scripts.fire $(TRIGGER) --port $(SERVE_EVENTS_PORT)

loadbench: $(VENV)/.synced ## make serve under load on 127.0.0.1: throughput, p50, p99 (median of 5 runs, < 1 min)
	$(PY) -m scripts.loadbench --config $(SERVE_CONFIG)

call: $(VENV)/.synced ## SigV4-signed request to a route of the applied stack (CALL_ENV=dev CALL_PATH=/hello CALL_ARGS="--method POST --data ...")
	$(PY) -m scripts.call --env $(CALL_ENV) --path '$(CALL_PATH)' $(CALL_ARGS)

release: $(VENV)/.synced ## CodeDeploy shifts the applied stack's live alias to its newest version (RELEASE_ENV=dev, RELEASE_ARGS="--version N" to roll back)
	$(PY) -m scripts.release --env $(RELEASE_ENV) $(RELEASE_ARGS)

deployer-policy: $(VENV)/.synced ## synth, then print the least-privilege policy of whoever runs terraform on a stack: managed policy documents, JSON (ENV=dev; docs/deploying.md)
	@$(PY) main.py >/dev/null
	@$(PY) -m scripts.deployer_policy --env $(ENV)

# At each release: its synthesized dev stack becomes the upgrade step's starting point
# (tests/releases/RELEASE/, committed; docs/apply-cycle.md).
release-fixture: $(VENV)/.synced ## record a release's dev stack for the upgrade step (RELEASE=v0.1.0 COMMIT=8cab6fd)
	@test -n "$(RELEASE)" -a -n "$(COMMIT)" || { echo "usage: make release-fixture RELEASE=vX.Y.Z COMMIT=<commit>" >&2; exit 2; }
	$(PY) -m scripts.release_fixture $(RELEASE) $(COMMIT)

# pytest-xdist workers: one per CPU (`auto`; `make test TEST_WORKERS=N` overrides it), as the
# suite is CPU-bound (jsii's node kernel, checkov, Terraform). How tests are shared out between
# them (a module per worker) is in pyproject.toml.
TEST_WORKERS ?= auto
test: setup lint ## lint, then the whole test suite, apply cycle included (what CI runs)
	$(PY) -m pytest -n $(TEST_WORKERS)

# The e2e modules on two workers: the change cycle starts at once beside the apply cycle and
# the plan-time checks.
E2E_WORKERS ?= 2
e2e: $(NODE) $(VENV)/.synced $(CDKTN_VENV)/.installed ## Terraform applies dev, prod, bootstrap and dev on CDK Terrain, then dev's changes and the upgrade, against local emulators (part of `make test`)
	$(PY) -m pytest -m e2e -n $(E2E_WORKERS)

# The apply cycle reads hashicorp/aws from a filesystem mirror, never from the network. Where
# there is none (GitHub's runners), this fills one from the registry: `terraform init` of a
# synthesized stack with PROVIDER_MIRROR as its plugin cache, whose layout is a mirror's, so
# the cycle runs the version the stacks pin. The same again for CDK Terrain's output, which pins
# a newer release (its dev cycle). Point the tests at it with
# TERRAFORM_PROVIDER_MIRROR=$(PROVIDER_MIRROR).
PROVIDER_MIRROR ?= $(CURDIR)/.tools/terraform-providers
provider-mirror: synth $(CDKTN_VENV)/.installed ## hashicorp/aws as the stacks pin it (cdktf's and CDK Terrain's), from the registry into PROVIDER_MIRROR (for the apply cycle)
	mkdir -p $(PROVIDER_MIRROR)
	scratch=$$(mktemp -d) && \
	  $(CDKTN_VENV)/bin/python main.py --outdir $$scratch/cdktn.out > /dev/null && \
	  for stack in cdktf.out/stacks/$$(ls cdktf.out/stacks | head -n 1) $$scratch/cdktn.out/stacks/$$(ls cdktf.out/stacks | head -n 1); do \
	    mkdir $$scratch/init && cp $$stack/cdk.tf.json $$scratch/init/ && \
	    TF_PLUGIN_CACHE_DIR=$(PROVIDER_MIRROR) terraform -chdir=$$scratch/init init -backend=false -input=false -no-color && \
	    rm -rf $$scratch/init || exit 1; \
	  done && \
	  rm -rf $$scratch

checkov: synth $(CHECKOV) ## the security gate on cdktf.out/
	$(PY) -m scripts.checkov_gate

diagram: synth graphviz ## one architecture picture per stack: docs/<stack>.png (needs Graphviz `dot`)
	$(PY) -m scripts.diagram

bench: $(NODE) $(VENV)/.synced $(CDKTN_VENV)/.installed ## synth time, memory (node peak) and phases: fast loader vs stock, cdktf and cdktn; 1, 4, 16 environments
	$(PY) -m scripts.bench

coldstart: $(VENV)/.synced ## each shipped function: fresh interpreter to handler ready, with and without byte-code (median of 15 runs), zip sizes
	$(PY) -m scripts.coldstart

# mypy reads pyproject.toml (strict on the libraries). Each function folder is its own import
# root (its handler module is a top-level `app`), so each is checked in a run of its own.
FUNCTION_DIRS := lambda $(wildcard functions/*/)
lint: $(VENV)/.synced $(MYPY) ## ruff check + format check + mypy on every Python folder (strict on the libraries)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(MYPY) --python-executable $(PY)
	@for dir in $(FUNCTION_DIRS); do \
	  echo "$(MYPY) --python-executable $(PY) $$dir"; \
	  $(MYPY) --python-executable $(PY) $$dir || exit 1; \
	done

clean:
	rm -rf cdktf.out bootstrap.out .pytest_cache
