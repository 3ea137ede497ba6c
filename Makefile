# Stagecheck: `make serve` and `make test` are all a fresh machine needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MODEL := models/artifacts/stagecheck-model.joblib

.PHONY: serve test lint typecheck install model clean axe bytecode
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

# Our modules' bytecode, compiled once as pip compiles installed packages: a process that
# may not write __pycache__ (PYTHONDONTWRITEBYTECODE, a read-only checkout) otherwise
# compiles them at every start, about 0.2 s of each cold start (issue 7). Only changed
# files are compiled again.
bytecode: install
	$(BIN)/python -m compileall -q nlp models service

# For your own machine: migrate the database, then serve without API keys unless
# STAGECHECK_AUTH is set (the log says so loudly), and with a session cookie that plain http
# may carry. The web page needs an account: `stagecheck users create`. Anywhere else: keys.
serve: install model bytecode
	$(BIN)/stagecheck db upgrade
	STAGECHECK_AUTH=$${STAGECHECK_AUTH:-disabled} STAGECHECK_COOKIE_SECURE=$${STAGECHECK_COOKIE_SECURE:-false} \
		$(BIN)/stagecheck serve --host 127.0.0.1 --port 8000

# axe-core for the browser tests' accessibility checks, from the npm registry through npm
# itself, pinned to a version and checked against that release's sha512 integrity. Kept in
# .cache/ (git-ignored); nothing is fetched when it is there already.
AXE_VERSION := 4.10.3
AXE_INTEGRITY := sha512-Xm7bpRXnDSX2YE2YFfBk2FnF0ep6tmG7xPh8iHee8MIcrgq762Nkce856dYtJYLkuIoYZvGfTs/PbZhideTcEg==
AXE := .cache/axe/axe.min.js

$(AXE):
	mkdir -p .cache/axe
	cd .cache/axe && rm -f axe-core-*.tgz && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null
	$(PYTHON) -c 'import base64, hashlib, sys; data = open(sys.argv[1], "rb").read(); \
		got = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode(); \
		sys.exit(0 if got == sys.argv[2] else "axe-core tarball: integrity " + got + " is not the pinned " + sys.argv[2])' \
		.cache/axe/axe-core-$(AXE_VERSION).tgz '$(AXE_INTEGRITY)'
	tar -xzf .cache/axe/axe-core-$(AXE_VERSION).tgz -C .cache/axe package/axe.min.js
	mv .cache/axe/package/axe.min.js $(AXE).part && rmdir .cache/axe/package && mv $(AXE).part $(AXE)

axe: $(AXE)

lint: install
	$(BIN)/ruff check nlp models service tests bench

typecheck: install
	$(BIN)/mypy

test: install lint typecheck model axe bytecode
	$(BIN)/stagecheck lexicon check
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache models/artifacts
	find nlp models service -name __pycache__ -type d -prune -exec rm -rf {} +
