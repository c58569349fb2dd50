# Siaga: `make run` (real local infrastructure + services + demo traffic) and `make test` (the whole suite).
# Everything is installed from the package registries and cached in git-ignored folders under .cache/.

SHELL := /bin/bash
.DEFAULT_GOAL := help
ROOT := $(CURDIR)
export UV_CACHE_DIR := $(ROOT)/.cache/uv
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := python3
export PIP_CACHE_DIR := $(ROOT)/.cache/pip
export SIAGA_ROOT := $(ROOT)
UV_VERSION := 0.13.8
BOOT := $(ROOT)/.cache/bootstrap
UV := $(shell command -v uv 2>/dev/null || echo $(BOOT)/bin/uv)
PYTEST_ARGS ?=

.PHONY: help bootstrap sync infra run stop test lint typecheck docs bench bench-national bench-console chaos clean-state

help:
	@echo "make run    start Kafka, FerretDB and all services with demo traffic"
	@echo "make test   install what is needed, start the real servers, run ruff, mypy and pytest"
	@echo "make bench  run the benchmarks (results in bench/results/)"
	@echo "make bench-national   the nation end to end at 0.01, 0.1 and 1.0 (about 70 min; FRACTIONS=0.01,0.1 for 10)"
	@echo "make bench-console   the console's views: time to first render and transfer size"
	@echo "make chaos  two instances of each service, kill -9, broker and FerretDB restarts (bench/results/chaos.md)"
	@echo "make docs   regenerate JSON Schemas and AsyncAPI documents"
	@echo "make stop   stop everything make run / make test started"
	@echo "SIAGA_KAFKA_BROKERS=3 make run|test   the same on a replicated 3-broker Kafka cluster (RF 3, min ISR 2)"

$(BOOT)/bin/uv:
	python3 -m venv $(BOOT)
	$(BOOT)/bin/pip install --quiet "uv==$(UV_VERSION)"

bootstrap: $(if $(filter $(BOOT)/bin/uv,$(UV)),$(BOOT)/bin/uv)

sync: bootstrap
	$(UV) sync --locked --all-packages

infra: sync
	$(UV) run --no-sync python -m siaga_devstack up

run: infra
	$(UV) run --no-sync python -m siaga_devstack run

stop:
	-$(UV) run --no-sync python -m siaga_devstack down

lint: sync
	$(UV) run --no-sync ruff check .
	$(UV) run --no-sync ruff format --check .
	$(UV) run --no-sync lint-imports

typecheck: sync
	$(UV) run --no-sync mypy

test: sync
	bash deploy/setup/apt-packages.sh
	$(UV) run --no-sync python -m siaga_devstack up
	$(UV) run --no-sync ruff check .
	$(UV) run --no-sync ruff format --check .
	$(UV) run --no-sync lint-imports
	$(UV) run --no-sync mypy
	$(UV) run --no-sync pytest $(PYTEST_ARGS)

docs: sync
	$(UV) run --no-sync python -m siaga_schemas.export --out schemas/jsonschema
	$(UV) run --no-sync python -m siaga_runtime.asyncapi_export --out schemas/asyncapi

bench: infra
	$(UV) run --no-sync python -m bench

# The nation end to end at growing sizes, up to the whole nation (67 min in all on 2 cores, 56 of them at 1.0):
# make bench-national; FRACTIONS=0.01,0.1 for a 10-minute run
FRACTIONS ?= 0.01,0.1,1.0
bench-national: infra
	$(UV) run --no-sync python -m bench national --fractions $(FRACTIONS)

bench-console: infra
	$(UV) run --no-sync python -m bench console

# Two instances of each service on their own 3-broker cluster and FerretDB (ports 29300-29399), faults at
# seeded random times, everything counted after: make chaos CHAOS_ARGS="--fraction 0.002 --seed 3"
CHAOS_ARGS ?=
chaos: sync
	bash deploy/setup/apt-packages.sh
	$(UV) run --no-sync python -m bench chaos $(CHAOS_ARGS)

clean-state: stop
	rm -rf .devstack
