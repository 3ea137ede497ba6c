# Stagecheck: `make serve` and `make test` are all a fresh machine needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MODEL := models/artifacts/stagecheck-model.joblib

.PHONY: serve test lint typecheck install model clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

serve: install
	$(BIN)/stagecheck serve --host 127.0.0.1 --port 8000

lint: install
	$(BIN)/ruff check nlp models service tests bench

typecheck: install
	$(BIN)/mypy

test: install lint typecheck
	$(BIN)/stagecheck lexicon check
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache models/artifacts
