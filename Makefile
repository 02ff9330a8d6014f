# Set-up and everyday commands. `make run` and `make test` work from a fresh clone.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
SCENARIO ?= scenarios/kotim-baseline.toml

.PHONY: setup core pure system-deps run test policies lint bench bench-check bench-update clean-results screenshots

$(BIN)/netlab: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,emulation,cluster]'
	touch $(BIN)/netlab

setup: $(BIN)/netlab

# The engine compiled with mypyc (tools/build_core.py, README "Performance"), again whenever
# its sources change; Python imports the compiled copies instead of these sources (unless
# NETLAB_PURE=1). The modules of sim/model/compiled.py's COMPILED_MODULES (a test checks it).
CORE_SOURCES := sim/backends/fluid.py sim/backends/fluid_deadlines.py sim/backends/fluid_leaf.py sim/shaping/htb.py
CORE_STAMP := build/core.stamp

core: $(CORE_STAMP)

$(CORE_STAMP): $(CORE_SOURCES) tools/build_core.py $(BIN)/netlab
	$(BIN)/python tools/build_core.py
	@mkdir -p $(dir $@) && touch $@

# The engine as plain Python again (about half as fast): delete its compiled copies and the
# records of the sources they came from.
pure:
	rm -f $(CORE_SOURCES:.py=*.so) $(CORE_SOURCES:.py=*.so.sha256) $(CORE_STAMP)

# Debian packages that emulation needs (mnexec, bridges, iperf3), and headless Chromium and
# poppler, which print the berita acara to PDF and count its pages in a test; run as root.
system-deps:
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq mininet iperf3 bridge-utils iputils-ping iproute2 gcc chromium poppler-utils

run: core
	$(BIN)/netlab optimize $(SCENARIO)

# The README's screenshots, from the commands they show, in headless Chromium.
screenshots: core
	$(BIN)/python tools/screenshots.py

# mypy reads its settings from pyproject.toml ([tool.mypy]: all of sim/, strict on the seams)
# and keeps its cache in build/mypy-cache, apart from the engine build's build/core/mypy-cache.
# After declaring a policy in sim/shaping/policies.POLICIES: the names the scenario schema
# accepts (sim/model/policy_names.py) and the docs' policy table, written from the registry.
policies: setup
	$(BIN)/python tools/policy_tables.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy sim

test: lint core
	$(BIN)/pytest -q

bench: core
	@mkdir -p results
	$(BIN)/pytest benchmarks -q --benchmark-only --benchmark-columns=min,median,max,rounds \
		--benchmark-json=results/bench.json

# The benchmark gate (README, "CI regression gates"): a short subset, each figure divided by a
# calibration loop measured in the same run, against benchmarks/baseline/check.json.
BENCH_CHECK := PYTHONPATH=benchmarks $(BIN)/pytest benchmarks/test_bench_check.py -q -p no:cacheprovider \
	--benchmark-only --benchmark-timer=calibration.cpu_time --benchmark-disable-gc
# BENCH_EARLIER: the JSON of earlier attempts in the same CI run; each benchmark's best counts.
BENCH_JSON ?= results/bench-check.json
BENCH_EARLIER ?=
BENCH_TOLERANCE ?= 0.2

bench-check: core
	@mkdir -p $(dir $(BENCH_JSON))
	$(BENCH_CHECK) --benchmark-json=$(BENCH_JSON)
	$(BIN)/python benchmarks/check.py $(BENCH_JSON) $(BENCH_EARLIER) --tolerance $(BENCH_TOLERANCE)

# Rewrite the baseline on purpose (after a change that is meant to cost time), then commit it:
# three runs, each benchmark taken from the run with its median figure.
bench-update: core
	@mkdir -p results
	for i in 1 2 3; do $(BENCH_CHECK) --benchmark-json=results/bench-update-$$i.json || exit 1; done
	$(BIN)/python benchmarks/check.py --merge results/bench-update-[123].json \
		-o benchmarks/baseline/check.json
