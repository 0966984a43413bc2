# Developer commands. Every target creates .venv with Python 3.12 first if it is missing.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv test lint package run clean

$(PY):
	@py=$$(scripts/find-python312.sh) || exit 1; echo "using $$py"; "$$py" -m venv $(VENV)

$(STAMP): $(PY) requirements.txt requirements-dev.txt
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

venv: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

package: $(STAMP)
	$(PY) -m tools.package

run: $(STAMP)
	@test -f .env || { echo "No .env: copy .env.example to .env and fill in the debug key from Dify → Plugins → Debug."; exit 2; }
	$(PY) -m main

clean:
	rm -rf dist .pytest_cache .ruff_cache
