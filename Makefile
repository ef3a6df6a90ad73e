# The two commands of the README, and the pieces they are made of.
#   make demo   install, then run the demo
#   make test   install, start the services the tests need, lint, type-check, test

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest services clean

demo: $(STAMP)
	$(BIN)/sellerbridge demo

test: $(STAMP) services lint typecheck pytest

$(STAMP): pyproject.toml scripts/ensure-system-libs
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "sellerbridge needs Python 3.11 or newer; set PYTHON=python3.11")'
	scripts/ensure-system-libs
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

services:
	scripts/ensure-services

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

clean:
	rm -rf $(VENV) demo-workspace .pytest_cache .mypy_cache .ruff_cache .hypothesis
