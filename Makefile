# perfgate: `make demo` runs the whole job end to end; `make test` runs every check CI runs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.DEFAULT_GOAL := help
.PHONY: help install demo test pytest lint typecheck schemas golden bench bench-compare baselines clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 12

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)  ## create .venv and install perfgate with its dev tools

demo: $(STAMP)  ## notes API + real k6 smoke run + analysis against baselines/ + report
	$(BIN)/perfgate demo

test: $(STAMP) lint typecheck pytest  ## lint, types, and the whole test suite (what CI runs)

pytest: $(STAMP)  ## the test suite only
	$(BIN)/pytest

lint: $(STAMP)  ## ruff, hadolint, zizmor and check-jsonschema
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint target_app/Dockerfile
	$(BIN)/zizmor --offline --min-severity=low --format=plain action.yml .github/workflows/
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.github-actions action.yml

typecheck: $(STAMP)  ## mypy --strict on the package
	$(BIN)/mypy

schemas: $(STAMP)  ## re-export the JSON Schemas in perfgate/schemas/
	$(BIN)/perfgate schemas --out perfgate/schemas

golden: $(STAMP)  ## regenerate golden report files (review the diff!)
	UPDATE_GOLDEN=1 $(BIN)/pytest -q tests -k golden

bench: $(STAMP)  ## print the benchmark figures (ingest, analyze and history speed, detection, change points, capacity)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/analyze_speed.py
	$(BIN)/python bench/history_speed.py
	$(BIN)/python bench/changepoints.py
	$(BIN)/python bench/detection.py
	$(BIN)/python bench/capacity.py

bench-compare: $(STAMP)  ## paired mode on this machine: 20 A/A + 10 +40 % comparisons (~35 min)
	$(BIN)/python bench/compare.py

clean:  ## remove the virtualenv, caches and demo output
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .perfgate

RUNS ?= 12
baselines: $(STAMP)  ## record RUNS (12) real smoke runs into baselines/notes-smoke (see baselines/README.md)
	rm -rf .perfgate/baseline-runs
	for i in $$(seq $(RUNS)); do \
	  $(BIN)/perfgate run --start-notes-api --profile loadtests/profiles/smoke.yaml \
	    --runs-dir .perfgate/baseline-runs/$$i --format json > /dev/null || exit $$?; \
	  $(BIN)/perfgate record .perfgate/baseline-runs/$$i/* --baselines baselines || exit $$?; \
	done
	$(BIN)/perfgate history list --baselines baselines --scenario notes-smoke
