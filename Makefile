# make up    install everything into .venv and run the whole suite (slate up)
# make test  install (when pyproject files changed) and run every test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.slate-installed
PIP := $(BIN)/python -m pip --disable-pip-version-check --quiet

SERVICE_PROJECTS := $(wildcard services/*/pyproject.toml) $(wildcard gateway/pyproject.toml)
PYPROJECTS := libs/forwarded/pyproject.toml libs/common/pyproject.toml $(SERVICE_PROJECTS)
EDITABLES := -e libs/forwarded -e 'libs/common[embedded]' $(foreach p,$(SERVICE_PROJECTS),-e $(dir $(p)))
TEST_DEPS := pytest pytest-asyncio httpx check-jsonschema testcontainers minio flask aiohttp \
             kubernetes-validate google-re2 pyyaml gazu==1.3.1
TEST_PATHS := $(wildcard libs/forwarded/tests libs/common/tests services/*/tests gateway/tests tests)
PYTEST_ARGS ?=

.PHONY: up test install clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python $(PYPROJECTS) Makefile
	@command -v xmlsec1 >/dev/null 2>&1 || { echo "installing xmlsec1 (SAML signatures)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xmlsec1 >/dev/null; }
	$(PIP) install $(EDITABLES) $(TEST_DEPS)
	@touch $@

install: $(STAMP)

up: install
	$(BIN)/slate up

test: install
	$(BIN)/pytest $(TEST_PATHS) $(PYTEST_ARGS)

clean-venv:
	rm -rf $(VENV)
