# Two commands do everything: `make run` (the default pipeline) and `make test` (every check).
# Both bootstrap .venv on first use; Go toolchains and Go tools install themselves into
# $GO_RELEASE_LAB_CACHE (default ~/.cache/go-release-lab) from PyPI and the Go module proxy.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: fleet-demo venv run test lint typecheck gocheck gate pytest tools browser params baseline clean

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade "pip==26.3"
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

# The default pipeline end to end (DVC reruns only what changed).
run: venv
	$(VENV)/bin/dvc repro

# Every check: Python lint and types, Go format/vet/lint/race tests, the allocation gate, then
# the test suite.
test: venv lint typecheck gocheck gate pytest

lint: venv
	$(VENV)/bin/ruff check stages releaselab devtools tests scripts bench
	$(VENV)/bin/ruff format --check stages releaselab devtools tests scripts bench

typecheck: venv
	$(VENV)/bin/mypy

tools: venv
	$(PY) -m devtools.gotools install

gocheck: tools
	$(PY) -m devtools.checks

# Allocation gate: allocs/op and B/op of every lab benchmark must not rise over baseline.txt.
gate: tools
	$(PY) -m devtools.gate

# Refresh runtime-foundations/baseline.txt after an intended allocation change; commit it.
baseline: tools
	$(PY) -m devtools.gate --update

# Headless Chromium (Debian's `chromium`) for the report's browser tests: apt-get installs it when
# it is not on PATH (CI runs as root on a fresh Debian machine); the tests fail without it.
browser: venv
	$(PY) -m devtools.browser install

pytest: venv browser
	$(PY) -m pytest

# Rewrite params.yaml from conf/ (what `dvc exp run` does); a test keeps them equal.
params: venv
	$(PY) -m stages.config dump

# The small matrix on a local Ray cluster: a head that runs no cell and two benchmark hosts
# (devtools/fleet.py; docs/SCALE.md for real machines).
fleet-demo: venv
	$(PY) -m devtools.fleet demo

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
