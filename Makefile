# Set-up and everyday commands. `make run` and `make test` work from a fresh clone.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
SCENARIO ?= scenarios/kotim-baseline.toml

.PHONY: setup system-deps run test lint bench clean-results

$(BIN)/netlab: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,emulation,cluster]'
	touch $(BIN)/netlab

setup: $(BIN)/netlab

# Debian packages that emulation needs (mnexec, bridges, iperf3); run as root.
system-deps:
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq mininet iperf3 bridge-utils iputils-ping iproute2

run: setup
	$(BIN)/netlab optimize $(SCENARIO)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest -q

bench: setup
	$(BIN)/pytest benchmarks -q --benchmark-only --benchmark-columns=min,mean,max,rounds
