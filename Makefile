# make up    install everything into .venv and run the whole suite (slate up)
# make test  install (when pyproject files or the lock changed) and run every test suite
# make lint  ruff (ruff.toml) and mypy (mypy.ini) over the whole tree; .ci/run runs it first
# make test-fast  the tests marked neither e2e (boots the embedded stack) nor slow (pytest.ini),
#            in FAST_WORKERS processes (pytest-xdist; each its own PostgreSQL, NATS and S3)
# make test-replicas  the end-to-end suite on a stack with two of each (SLATE_REPLICAS=2)
# make lock  recompile requirements.lock (the exact versions every install uses) after a
#            change of dependencies in a pyproject.toml or requirements-test.txt
# make audit check requirements.lock against the vulnerability advisories (needs network;
#            never part of make test, so a new advisory does not turn unrelated work red)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.slate-installed
PIP := $(BIN)/python -m pip --disable-pip-version-check --quiet

SERVICE_PROJECTS := $(wildcard services/*/pyproject.toml) $(wildcard gateway/pyproject.toml)
PYPROJECTS := libs/forwarded/pyproject.toml libs/common/pyproject.toml $(SERVICE_PROJECTS)
EDITABLES := -e libs/forwarded -e 'libs/common[embedded]' $(foreach p,$(SERVICE_PROJECTS),-e $(dir $(p)))
TEST_DEPS := $(shell grep -v '^\#' requirements-test.txt)
LOCK := requirements.lock
# pip-tools and pip-audit live in their own venv: they must not move the suite's versions.
TOOLS := .venv-tools
TOOLS_PIP := $(TOOLS)/bin/python -m pip --disable-pip-version-check --quiet
TEST_PATHS := $(wildcard libs/forwarded/tests libs/common/tests services/*/tests gateway/tests tests)
PYTEST_ARGS ?=

.PHONY: up test test-fast test-replicas lint install lock audit clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python $(PYPROJECTS) $(LOCK) requirements-test.txt Makefile
	@command -v xmlsec1 >/dev/null 2>&1 || { echo "installing xmlsec1 (SAML signatures)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xmlsec1 >/dev/null; }
	$(PIP) install -c $(LOCK) $(EDITABLES) $(TEST_DEPS)
	@touch $@

install: $(STAMP)

up: install
	$(BIN)/slate up

# The tests write bytecode even where the environment says not to (PYTHONDONTWRITEBYTECODE,
# as in the images): else every run, and every process a test starts, compiles the suite's
# sources again, and pytest rewrites the asserts of every test module again (seconds of CPU).
PYTEST := env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest

test: install
	$(PYTEST) $(TEST_PATHS) $(PYTEST_ARGS)

# Its tests are spread over FAST_WORKERS processes, a test file to one (module fixtures
# stay whole); each process has its session's infrastructure (slate_common.testing). The
# whole suite (make test) stays in one process: its stacks and chaos runs time themselves.
FAST_WORKERS ?= 2
test-fast: install
	$(PYTEST) $(TEST_PATHS) -m 'not e2e and not slow' -p xdist.plugin -n $(FAST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

# Two gateways, two API processes and two workers of every service, as Kubernetes runs
# them (make test runs the consistency matrix that way: tests/e2e/test_two_of_each.py).
test-replicas: install
	SLATE_REPLICAS=2 $(PYTEST) tests/e2e $(PYTEST_ARGS)

$(TOOLS)/bin/python:
	$(PYTHON) -m venv $(TOOLS)

# One lock for the suite and every image (the images install subsets of it with -c).
# Compiled for CPython 3.11 on Linux, as the images; editable lines (the suite's own
# packages) are dropped: pip refuses them in a constraints file.
# pip-compile keeps the versions its output file already pins: the lock is copied there
# first, so a new dependency moves nothing else (LOCK_ARGS=--upgrade moves everything).
LOCK_ARGS ?=
lock: $(TOOLS)/bin/python
	$(TOOLS_PIP) install 'pip-tools>=7.4'
	if [ -f $(LOCK) ]; then cp $(LOCK) $(LOCK).tmp; fi
	$(TOOLS)/bin/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links \
	  --no-emit-trusted-host --no-header $(LOCK_ARGS) --output-file $(LOCK).tmp requirements.in
	{ echo '# The exact versions of every dependency of the suite: `make lock` writes it from'; \
	  echo '# requirements.in, `make install` and the Dockerfile install with -c requirements.lock.'; \
	  awk '/^-e /{skip=1; next} skip && /^    /{next} {skip=0; print}' $(LOCK).tmp; } > $(LOCK)
	rm -f $(LOCK).tmp

# pip-audit reads the pinned versions as they are (--no-deps --disable-pip: nothing is
# installed or resolved) and asks the PyPI advisory database (OSV with AUDIT_ARGS='-s osv').
# --strict: a version the advisory service cannot look up fails the audit instead of
# passing unaudited.
AUDIT_ARGS ?=
audit: $(TOOLS)/bin/python
	$(TOOLS_PIP) install 'pip-audit>=2.7'
	$(TOOLS)/bin/pip-audit --requirement $(LOCK) --no-deps --disable-pip --strict --progress-spinner off $(AUDIT_ARGS)

clean-venv:
	rm -rf $(VENV) $(TOOLS)
