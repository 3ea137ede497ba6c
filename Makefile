# Stagecheck: `make serve` and `make test` are all a fresh machine needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MODEL := models/artifacts/stagecheck-model.joblib

.PHONY: serve test lint typecheck install model clean
LEXICONS := $(shell find nlp/lexicons -name '*.yml')
CORPUS := $(wildcard training_data/*.jsonl)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The model is built from the corpus and lexicons, never committed. `--no-card` keeps the
# committed MODEL_CARD.md and metrics.json as the reference the tests compare against;
# run `stagecheck train` yourself to refresh them after changing data or lexicons.
$(MODEL): $(STAMP) $(CORPUS) $(LEXICONS) $(wildcard models/*.py)
	$(BIN)/stagecheck train --no-card

model: $(MODEL)

# For your own machine: migrate the database, then serve without API keys unless
# STAGECHECK_AUTH is set (the log says so loudly), and with a session cookie that plain http
# may carry. The web page needs an account: `stagecheck users create`. Anywhere else: keys.
serve: install model
	$(BIN)/stagecheck db upgrade
	STAGECHECK_AUTH=$${STAGECHECK_AUTH:-disabled} STAGECHECK_COOKIE_SECURE=$${STAGECHECK_COOKIE_SECURE:-false} \
		$(BIN)/stagecheck serve --host 127.0.0.1 --port 8000

lint: install
	$(BIN)/ruff check nlp models service tests bench

typecheck: install
	$(BIN)/mypy

test: install lint typecheck model
	$(BIN)/stagecheck lexicon check
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache models/artifacts
