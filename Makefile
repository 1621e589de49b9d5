# The developer verbs. `make demo` and `make test` bootstrap .venv from the pinned requirements.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum < requirements-dev.txt | cut -d' ' -f1)
RUN := PYTHONPATH=src:. $(BIN)/python
SAM_VENV := $(VENV)/sam
SAM := $(SAM_VENV)/bin/sam
SAM_VERSION := 1.170.0
CHECKOV_VENV := $(VENV)/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(shell cksum < requirements-checkov.txt | cut -d' ' -f1)
ENV ?= default

.PHONY: help venv demo serve test lint typecheck unit cfn-lint checkov schemas bench lock build validate deploy invoke clean

help:
	@echo "make demo      stop deployments on an embedded local CodeDeploy (no AWS account, no Docker)"
	@echo "make test      lint, type-check, all tests, cfn-lint, checkov"
	@echo "make serve     the HTTP API on http://127.0.0.1:3000 against the local CodeDeploy"
	@echo "make bench     benchmarks beside a bare boto3 baseline (table; JSON in bench/results/)"
	@echo "make schemas   regenerate the request JSON Schema and docs/openapi.json"
	@echo "make lock      re-pin requirements-dev.txt after changing pyproject.toml"
	@echo "make build     sam build (installs the SAM CLI into $(SAM_VENV) on first use)"
	@echo "make validate  sam validate --lint"
	@echo "make deploy    sam deploy --config-env \$$ENV (default: default; ENV=prod for prod)"
	@echo "make invoke    sam local invoke with events/direct-stop.json (needs Docker)"
	@echo "make clean     remove .venv and build output"

$(STAMP): requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "stop-deployment needs Python 3.11 or newer (set PYTHON=python3.x)"; exit 1; }
	rm -rf $(VENV)/.installed-*
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(STAMP)

demo: venv
	@$(RUN) -m local.demo

serve: venv
	$(RUN) -m local.serve

test: lint typecheck unit cfn-lint checkov

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

unit: venv
	$(RUN) -m pytest

# The central stack (SAM) and the member accounts' StackSet template (plain CloudFormation).
cfn-lint: venv
	$(BIN)/cfn-lint template.yaml member-role.yaml

# checkov pins an older boto3 than the function's, so it gets a virtual environment of its own.
$(CHECKOV_STAMP): requirements-checkov.txt | venv
	rm -rf $(CHECKOV_VENV)
	$(BIN)/python -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

checkov: $(CHECKOV_STAMP)
	$(CHECKOV_VENV)/bin/checkov -f template.yaml -f member-role.yaml --framework cloudformation --skip-download --quiet --compact

schemas: venv
	$(RUN) -m local.schemas

bench: venv
	$(RUN) -m bench.run --json bench/results/latest.json

# Re-pin requirements-dev.txt from the direct dependencies listed in pyproject.toml.
lock:
	rm -rf $(VENV)-lock
	$(PYTHON) -m venv $(VENV)-lock
	$(VENV)-lock/bin/python -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
		print("\n".join(p["dependencies"] + p["optional-dependencies"]["dev"]))' > $(VENV)-lock/direct.txt
	$(VENV)-lock/bin/python -m pip install --quiet --disable-pip-version-check -r $(VENV)-lock/direct.txt
	{ sed -n 1,2p requirements-dev.txt; $(VENV)-lock/bin/python -m pip freeze --disable-pip-version-check; } > requirements-dev.tmp
	mv requirements-dev.tmp requirements-dev.txt
	rm -rf $(VENV)-lock

$(SAM): | venv
	$(BIN)/python -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check aws-sam-cli==$(SAM_VERSION)

build: $(SAM)
	$(SAM) build

validate: $(SAM)
	$(SAM) validate --lint

deploy: build
	$(SAM) deploy --config-env $(ENV)

invoke: build
	$(SAM) local invoke StopDeploymentFunction --event events/direct-stop.json --env-vars events/env.json

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache .coverage
