# The two commands a newcomer needs:  `make demo`  and  `make test`.
# Each does its own set-up (venv, Debian packages, Go-built binaries); caches live
# outside the checkout under $(ECC_CACHE_DIR) (default ~/.cache/ecc-fleet).
SHELL := /bin/bash
export GOTOOLCHAIN := local
PY := .venv/bin/python
PYTEST_ARGS ?=

.PHONY: help setup venv binaries images demo test test-unit test-cluster bench-cluster bench-fleet generate lock down clean

help:
	@echo "make demo   - set up, start the local cluster, show the fleet's nodes"
	@echo "make test   - set up and run the whole test suite (unit + local cluster)"
	@echo "make setup  - venv + Debian packages + Go-built binaries only"
	@echo "make images - the three container images (buildah, cached by their inputs)"
	@echo "make down   - stop the demo cluster"

setup: venv binaries

venv:
	@scripts/bootstrap.sh

binaries: venv
	@$(PY) -m ecc_devcluster.binaries ensure

# The operator, workloads and edge-agent images from images/*.Dockerfile, built without a daemon
# over a base made from Debian's packages; OCI layouts under $(ECC_CACHE_DIR)/images, keyed by
# their inputs (a warm run is a hash and a look-up).
images: venv
	@$(PY) -m ecc_devcluster.images build

demo: setup images
	@$(PY) -m ecc_devcluster.demo

test: setup images
	@$(PY) -m pytest $(PYTEST_ARGS)

test-unit: venv
	@$(PY) -m pytest tests/unit $(PYTEST_ARGS)

test-cluster: setup
	@$(PY) -m pytest tests/cluster $(PYTEST_ARGS)

bench-cluster: setup
	@$(PY) benchmarks/cluster.py --out benchmark-results/cluster

bench-fleet: setup
	@$(PY) benchmarks/fleet_scale.py --sizes 1000,5000 --out benchmark-results/fleet-scale

# Regenerate everything derived from the pydantic models and the Python sources: CRDs and their
# reference, the chart's CRD templates, values.yaml + values.schema.json, dashboards, alert rules,
# manifests/base. Tests fail when a generated file is stale.
generate: setup
	@$(PY) -m ecc_operator.gen.crdgen && ECC_HELM="$$($(PY) -m ecc_devcluster.binaries path helm)" $(PY) -m ecc_operator.gen.chartgen

down:
	@$(PY) -m ecc_devcluster.cli down

# Re-resolve the pinned set after changing pyproject.toml's pins.
lock:
	@python3 -m venv /tmp/ecc-lock-venv && /tmp/ecc-lock-venv/bin/pip install -q --upgrade pip==25.3 \
	  && /tmp/ecc-lock-venv/bin/pip install -q ".[operator,ml,serve,edge,dev]" \
	  && /tmp/ecc-lock-venv/bin/pip freeze --all --exclude-editable | grep -vE "^(ecc-fleet|pip)==" > requirements.lock \
	  && rm -rf /tmp/ecc-lock-venv && echo "requirements.lock updated"

clean:
	rm -rf .venv .pytest_cache demo-output benchmark-results
