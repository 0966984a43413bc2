# Developer commands. Every target creates .venv with Python 3.12 first if it is missing.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv test lint package run clean console replay demo bench bench-check test-real fixtures \
	test-compat test-compat-releases fixtures-compat

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

# Drive the plugin as Dify does, e.g. make console ARGS="check --uid my-llm --server-url http://127.0.0.1:9997"
console: $(STAMP)
	$(PY) -m tools.console $(ARGS)

# First run, no Dify and no Xinference: the replay server plus one of every call Dify makes, printed
demo: $(STAMP)
	$(PY) -m tools.demo

# Recorded Xinference 4.1.0 on 127.0.0.1 for the console: make replay PORT=9997
replay: $(STAMP)
	$(PY) -m tools.replay_server --port $(or $(PORT),9997)

# Benchmarks with budgets against a local instant server (not part of test or CI); writes bench/results.json.
# Faster: make bench ARGS=--quick. Against a real server: make bench ARGS="--real http://127.0.0.1:9997"
bench: $(STAMP)
	$(PY) -m bench $(ARGS)

# Same, and exit non-zero when a budget is missed.
bench-check: $(STAMP)
	$(PY) -m bench --check $(ARGS)

# Tests against a REAL Xinference 4.1.0 (own Python 3.11 venv cached outside the clone in
# ~/.cache/xinference-dify-plugin/real-xinference, tiny local models, 127.0.0.1 only, servers always stopped). Pytest args: make test-real ARGS="-k embed"
test-real: $(STAMP)
	$(PY) tools/real_xinference/run.py -- $(ARGS)

# Re-record tests/fixtures/xinference-4.1.0 from that real server (OUT=dir to write elsewhere)
fixtures: $(STAMP)
	$(PY) tools/real_xinference/record_fixtures.py $(if $(OUT),--out $(OUT))

# The same real-server tests against older releases (README "Tested Xinference releases"): one cached venv
# per release in ~/.cache/xinference-dify-plugin/real-xinference/releases/, each release's servers stopped
# before the next starts. make test-compat COMPAT_RELEASES=1.17.1 ARGS="-k tool" for one release.
# test-compat is the umbrella (CI runs it); other real-server suites add themselves as prerequisites.
COMPAT_RELEASES ?= 3.2.1 2.12.0 1.17.1
test-compat: test-compat-releases

test-compat-releases: $(STAMP)
	@failed=""; for r in $(COMPAT_RELEASES); do \
	  $(PY) tools/real_xinference/run.py --release $$r -- $(ARGS) || failed="$$failed $$r"; \
	done; if [ -n "$$failed" ]; then echo "test-compat FAILED on:$$failed"; exit 1; fi

# Re-record tests/fixtures/xinference-<release> (the differences the unit tests replay), then run the tests
fixtures-compat: $(STAMP)
	@for r in $(COMPAT_RELEASES); do \
	  $(PY) tools/real_xinference/run.py --release $$r --phase open --record tests/fixtures/xinference-$$r || exit 1; \
	done

clean:
	rm -rf dist .pytest_cache .ruff_cache
