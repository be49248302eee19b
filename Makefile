# bidui — set-up and everyday commands. `make run` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAMPLE := data/sample

# Prefect runs offline, with its home inside the project (never ~/.prefect).
export PREFECT_HOME := $(CURDIR)/var/prefect
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 90
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: install run test test-fast lint bench sample clean vendor-assets

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	$(BIN)/python -c "from pipeline.link.comparisons.kernels import compile_all; compile_all()"
	touch $(STAMP)

# Data Docs assets (Bootstrap, jQuery, bootstrap-table, Font Awesome, Vega) ship as package
# data in pipeline/validate/vendor/. This refreshes them from the npm registry, pinned by
# expectations/assets/package-lock.json (only when that lock changes; not part of install).
DOCS_ASSETS := var/docs-assets
ASSETS_LOCK := expectations/assets/package.json expectations/assets/package-lock.json
vendor-assets: $(STAMP)
	mkdir -p $(DOCS_ASSETS) && cp $(ASSETS_LOCK) $(DOCS_ASSETS)/
	cd $(DOCS_ASSETS) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	$(BIN)/python -m pipeline.validate.docs_assets --vendor $(DOCS_ASSETS)/node_modules

run: $(STAMP)
	$(BIN)/bidui run --union $(SAMPLE)/union_roll.xlsx --civil $(SAMPLE)/civil_exchange.csv \
		--members $(SAMPLE)/members.csv --out out

# The whole suite (what CI runs, .ci/run): nights run in-process (pipeline.night.run_night);
# a few smoke tests start `bidui run` or a Prefect server. test-fast leaves out the tests marked
# slow (pyproject.toml: those smoke tests and whatever measured slow).
# pytest-xdist runs the test files on one process per core (`-n auto`: 2 here); `--dist loadfile`
# keeps a file's tests on one process, so a module's fixtures are built once. A single file or
# test (`.venv/bin/python -m pytest tests/test_x.py`) still runs in one process.
PYTEST_PARALLEL := -n auto --dist loadfile
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_PARALLEL)

test-fast: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_PARALLEL) -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check .

# Peers (Splink 5, duckdb) are bench-only dependencies, installed on top of the lock.
# One command, one run: whole `bidui run`s (sample, city; local and dask), throughput on the
# same pairs, peers on the same data -> benchmarks/results.json and benchmarks/results.md
# (printed at the end). The city data are generated once into var/bench/city/ and reused.
# The benchmarks' own entry point (the product's `bidui` command line does not import them).
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r benchmarks/requirements-bench.txt
	$(BIN)/python -m benchmarks all

# Regenerate the committed sample from the generator (deterministic for the seed).
sample: $(STAMP)
	rm -rf $(SAMPLE) && $(BIN)/bidui generate --out $(SAMPLE) --households 500 --seed 20260630

clean:
	rm -rf out var .pytest_cache .ruff_cache
