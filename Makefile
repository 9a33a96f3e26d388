# Every target sets up its own virtualenv; nothing needs installing by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
# The policy pack's own venv (the one `pulumi preview --policy-pack policy` uses too):
# pulumi-policy pins protobuf ~=5.29, which the program's venv does not share.
POLICY_VENV := policy/venv
POLICY_STAMP := $(POLICY_VENV)/.installed-$(shell cat requirements.txt policy/requirements.txt policy/requirements-test.txt | cksum | cut -d' ' -f1)

.PHONY: test lint lint-workflows typecheck unit varnish-tools policy-pack preview drill bench cost clean

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

$(POLICY_STAMP): requirements.txt policy/requirements.txt policy/requirements-test.txt
	@test -x $(POLICY_VENV)/bin/python || $(PYTHON) -m venv $(POLICY_VENV)
	$(POLICY_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r policy/requirements-test.txt
	@rm -f $(POLICY_VENV)/.installed-* && touch $@

## test: lint, type-check and run the whole test suite (what CI runs)
test: lint lint-workflows typecheck unit policy-pack

lint: $(STAMP)
	$(BIN)/ruff check .

lint-workflows: $(STAMP)
	$(BIN)/actionlint

typecheck: $(STAMP)
	$(BIN)/mypy

# One worker per core. Tests are spread one by one, except those of a module with module-scoped
# fixtures (marked xdist_group), which share a worker so the fixture is built once.
unit: $(STAMP) varnish-tools
	$(BIN)/python -m pytest -q -n auto --dist loadgroup

## varnish-tools: Debian's varnish when varnishd is missing (the tests compile and run the VCL with it)
varnish-tools:
	@scripts/install-varnish.sh

## bench: figures, not assertions: the failover handler (CPU, API calls, cold import, package size), then the test suite's
## wall time and where it goes (the pytest part of make test, run as make unit runs it)
bench: $(STAMP) varnish-tools
	$(BIN)/python bench/bench_handler.py
	$(BIN)/python bench/bench_suite.py

## policy-pack: the CrossGuard wrapper's tests, in the pack's own venv (the rules run in `unit`)
policy-pack: $(POLICY_STAMP)
	$(POLICY_VENV)/bin/python -m pytest -q tests/policy/test_pack.py

## drill: the main command — a whole regional failover and failback on the embedded AWS emulator
## (the example secondary as written, a warm standby; then as a pilot light unless DRILL_ARGS says otherwise),
## then the outage operations (each surviving stack's emergency `pulumi up` while the other region is dark)
## (TARGET=aws: read-only readiness of the deployed stacks; add DRILL_ARGS=--execute for a planned switchover + failback)
TARGET ?= emulator
DRILL_ARGS ?=
OUTPUTS_PRIMARY ?= outputs-primary.json
OUTPUTS_SECONDARY ?= outputs-secondary.json
drill: $(STAMP)
ifeq ($(TARGET),aws)
	$(BIN)/python -m drill --target aws --outputs-primary $(OUTPUTS_PRIMARY) --outputs-secondary $(OUTPUTS_SECONDARY) $(DRILL_ARGS)
else
	$(BIN)/python -m drill --target emulator $(DRILL_ARGS)
ifeq ($(strip $(DRILL_ARGS)),)
	$(BIN)/python -m drill --target emulator --posture pilot-light
endif
	$(BIN)/python -m drill --outage-operations
endif

## preview: print every example stack's resource tree offline (no AWS account, no Pulumi CLI)
preview: $(STAMP)
	$(BIN)/python -m offline.preview

## cost: each example stack's monthly estimate, itemised, from the mock graph and offline/prices.json, then the
## secondary in each standby posture beside its RTO budget (chart: reports/cost-postures.svg)
## (COST_ARGS=--json for CI; COST_ARGS="--assumptions FILE" to change usage)
COST_ARGS ?=
cost: $(STAMP)
	$(BIN)/python -m offline.cost $(COST_ARGS)

clean:
	rm -rf $(VENV) $(POLICY_VENV) .pytest_cache .mypy_cache .ruff_cache reports
