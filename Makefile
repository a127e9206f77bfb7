# Quick start: `make demo` runs the main job; `make test` runs the whole test suite.
# Both create .venv and install everything they need on a fresh machine.
PY ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed

.PHONY: install demo test lint bench clean chromium

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

node_modules/.bin/ganache: package.json
	npm install --no-audit --no-fund --loglevel=error
	touch node_modules/.bin/ganache

# The console's browser parts (sigma.js + graphology, htmx) bundled into the package: no CDN at run time.
WEB_STATIC = src/trilateral/web/static
$(WEB_STATIC)/graph.bundle.js: src/trilateral/web/assets/graph.entry.js src/trilateral/web/assets/build.mjs package.json node_modules/.bin/ganache
	node src/trilateral/web/assets/build.mjs

# Headless Chromium for the console's browser tests (Debian's package; Playwright drives it).
chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver; }

install: $(STAMP) node_modules/.bin/ganache $(WEB_STATIC)/graph.bundle.js chromium

# Reference data beside the repo (ATT&CK for attribution, the DPRK incident register) when present;
# elsewhere run `trilateral refdata update` (online) or pass the files with DEMO_ARGS.
SHARED_DATA ?= ../shared/data
ATTACK := $(wildcard $(SHARED_DATA)/mitre_attack_dprk/dprk_enterprise_attack_v18.1_stix21.json)
INCIDENTS := $(wildcard $(SHARED_DATA)/dprk_incidents/incidents.csv)

demo: $(STAMP)
	$(BIN)/trilateral demo $(if $(ATTACK),--attack $(ATTACK)) $(if $(INCIDENTS),--incidents $(INCIDENTS)) $(DEMO_ARGS)

# The suite runs in TEST_WORKERS processes (pytest-xdist); each test module stays in one process, so a
# server or node a module shares starts once. `make test TEST_WORKERS=0` runs it in one process.
# Bytecode caching stays on even where PYTHONDONTWRITEBYTECODE is set: the suite starts hundreds of
# `trilateral` processes, and recompiling the package in each one cost ~10-15% of the suite's CPU time.
TEST_WORKERS ?= 2
test: install
	$(BIN)/ruff check src tests bench
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest \
	  $(if $(filter-out 0,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist loadscope) $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

clean:
	rm -rf $(VENV) node_modules .pytest_cache
