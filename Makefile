# rolehop: `make demo` runs the server with the example organization; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA_DIR ?= .rolehop-demo
DEMO_PORT ?= 4640
# demo-only root key of the management account (never use these outside a local demo)
DEMO_ROOT_KEY ?= AKIAROLEHOPDEMOROOT1
DEMO_ROOT_SECRET ?= rolehop-demo-root-secret-do-not-use-in-prod

.PHONY: demo test install browser lint types unit bench fuzz soak clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(BIN)/.installed browser

# The console's browser tests drive the system Chromium (Debian's package); they fail under CI=true
# without it, so CI installs it here. Elsewhere a failed install only makes those tests skip.
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq chromium >/dev/null; } || [ "$$CI" != "true" ]
	@command -v jq >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq jq >/dev/null; } || [ "$$CI" != "true" ]  # the audit trail's operator pipeline test

demo: $(BIN)/.installed
	ROLEHOP_ROOT_ACCESS_KEY_ID=$(DEMO_ROOT_KEY) ROLEHOP_ROOT_SECRET_ACCESS_KEY=$(DEMO_ROOT_SECRET) \
		$(BIN)/rolehop demo --data-dir $(DATA_DIR) --port $(DEMO_PORT)

lint: install
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts

# tests are type-checked too (not strictly), one directory at a time: each has its own conftest module
TEST_DIRS := $(filter-out tests/__pycache__/,$(wildcard tests/*/))
types: install
	$(BIN)/mypy
	MYPYPATH=src:tests $(BIN)/mypy --config-file tests/mypy.ini tests/*.py
	for d in $(TEST_DIRS); do MYPYPATH=src:tests:$$d $(BIN)/mypy --config-file tests/mypy.ini $$d || exit 1; done

unit: install
	$(BIN)/python -m pytest -q -p no:cacheprovider

test: lint types unit

# STS throughput and latency against moto and an empty endpoint (needs wrk: apt-get install -y wrk)
bench: install
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python bench/run_sts.py $(BENCH_ARGS)
	$(BIN)/python bench/policy_eval.py --seconds 4

# hostile input at volume: >= 100,000 generated requests against `rolehop serve --dev`, zero 5xx
fuzz: install
	$(BIN)/python bench/fuzz.py $(FUZZ_ARGS)

# mixed load for 10 minutes from a separate process, memory sampled every 10 s
soak: install
	$(BIN)/python bench/soak.py $(SOAK_ARGS)

clean:
	rm -rf $(VENV) $(DATA_DIR) .mypy_cache .ruff_cache
