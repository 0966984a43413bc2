# Developer commands. Every target creates .venv with Python 3.12 first if it is missing.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv test-setup test test-fast mutants lint package run clean console replay demo bench bench-check \
	test-real fixtures package-offline test-offline signing-key lock test-cluster test-compat test-compat-releases \
	fixtures-compat marketplace-package marketplace-check fixtures-llamacpp

$(PY):
	@py=$$(scripts/find-python312.sh) || exit 1; echo "using $$py"; "$$py" -m venv $(VENV)

$(STAMP): $(PY) requirements.txt requirements-dev.txt requirements-graphon.txt
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-graphon.txt
	@touch $(STAMP)

venv: $(STAMP)

# Everything `make test` needs from the package index, done before pytest (which never reaches an index):
# the fresh venv of the packaged plugin (tests/e2e/test_package.py), cached in .cache/ per requirements.txt
test-setup: $(STAMP)
	$(PY) -m tests.e2e.packaged

test: $(STAMP) test-setup
	$(PY) -m pytest

# The in-process tier alone (no plugin process, no real server): under a minute, for every change
test-fast: $(STAMP)
	$(PY) -m pytest -m in_process -q $(ARGS)

# Mutation testing of models/ against the in-process tier (mutmut; hours on 2 cores, not in CI); writes
# bench/mutants.md. One module, two workers: make mutants ARGS="--only models/_xinference/credentials.py --jobs 2"
mutants: $(STAMP)
	$(PY) -m pip install --quiet mutmut==3.8.1
	$(PY) -m tools.mutants $(ARGS)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# SIGNING_KEY=path.pem signs the package(s) for the daemon's third-party verification (make signing-key)
# REPO_URL=… CONTACT=… (or publisher.local.yaml) write the publisher's repository and e-mail into the package
PUBLISHER = $(if $(REPO_URL),--repo-url "$(REPO_URL)") $(if $(CONTACT),--contact "$(CONTACT)")
package: $(STAMP)
	$(PY) -m tools.packaging.package $(if $(SIGNING_KEY),--signing-key $(SIGNING_KEY)) $(PUBLISHER)

# The package for a Marketplace submission: refuses without publisher settings, then runs marketplace-check
marketplace-package: $(STAMP)
	$(PY) -m tools.marketplace --build $(PUBLISHER) $(ARGS)

# The Marketplace pre-check rules on a built package (PKG=dist/….difypkg); writes <PKG>.submission.md
marketplace-check: $(STAMP)
	@test -n "$(PKG)" || { echo "usage: make marketplace-check PKG=dist/<name>-<version>.difypkg"; exit 2; }
	$(PY) -m tools.marketplace $(PKG) $(ARGS)

# dist/<name>-<version>-offline-linux-{amd64,arm64}.difypkg: the package plus every wheel it needs, for
# Dify sites without the package index. Wheels are fetched once per lock into
# ~/.cache/xinference-dify-plugin/wheels (the only step that needs the index).
package-offline: $(STAMP)
	$(PY) -m tools.packaging.offline $(if $(SIGNING_KEY),--signing-key $(SIGNING_KEY)) $(PUBLISHER)

# Builds the offline packages (unsigned), then installs the amd64 one as the daemon does with no network
# at all (unshare -n) and serves a schema, a chat and an embedding from a local fake Xinference.
test-offline: $(STAMP)
	$(PY) -m tools.packaging.offline
	OFFLINE_DIST=dist $(PY) -m pytest tests/offline -s $(ARGS)

# A new RSA key pair in .signing/ (git-ignored): sign with the private key, give Dify the public one
signing-key: $(STAMP)
	$(PY) -m tools.packaging.signing generate .signing

# Regenerate the lock requirements.txt from requirements.in (CPython 3.12, every platform, no index URL)
# (compiled into a copy, which uv reads as the pins to keep; replaced only on change, so .venv stays valid)
lock: $(STAMP)
	@mkdir -p .cache && cp requirements.txt .cache/requirements.lock
	$(VENV)/bin/uv pip compile requirements.in --universal --python-version 3.12 \
		--custom-compile-command "make lock" --quiet -o .cache/requirements.lock
	@cmp -s .cache/requirements.lock requirements.txt && echo "requirements.txt is up to date" \
		|| { mv .cache/requirements.lock requirements.txt; echo "requirements.txt updated"; }

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
	$(PY) -m tools.replay.server --port $(or $(PORT),9997)

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

# A real two-worker Xinference 4.1.0 cluster on 127.0.0.1 (same cached venv and tiny models): 50 mixed
# sessions through one plugin process, then a worker is killed mid-run. Pytest args: make test-cluster ARGS="-x"
test-cluster: $(STAMP)
	$(PY) tools/real_xinference/run_cluster.py -- $(ARGS)

# Re-record tests/fixtures/xinference-4.1.0 from that real server (OUT=dir to write elsewhere)
fixtures: $(STAMP)
	$(PY) tools/real_xinference/record_fixtures.py $(if $(OUT),--out $(OUT))

# Re-record tests/fixtures/xinference-4.1.0-llamacpp (the llama.cpp engine on our GGUF conversions)
fixtures-llamacpp: $(STAMP)
	$(PY) tools/real_xinference/record_llamacpp.py $(if $(OUT),--out $(OUT))

# The same real-server tests against older releases (README "Tested Xinference releases"): one cached venv
# per release in ~/.cache/xinference-dify-plugin/real-xinference/releases/, each release's servers stopped
# before the next starts. make test-compat COMPAT_RELEASES=1.17.1 ARGS="-k tool" for one release.
# test-compat is the umbrella (CI runs it); other real-server suites add themselves as prerequisites.
COMPAT_RELEASES ?= 3.2.1 2.12.0 1.17.1
test-compat: test-compat-releases test-cluster

test-compat-releases: $(STAMP)
	@test -n "$(strip $(COMPAT_RELEASES))" || { echo "test-compat: COMPAT_RELEASES is empty"; exit 1; }
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
