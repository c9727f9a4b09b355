# syntax=docker/dockerfile:1
# The edge-agent image: what an EdgeFleet's DaemonSet runs on every edge node (`ecc edge-agent`):
# the [ml,edge] extras — torch, transformers, peft, FastAPI; no kserve. This is what a small
# edge box pulls, so it holds only what the agent imports.
#
#   docker build -f images/edge-agent.Dockerfile -t ghcr.io/ecc-fleet/ecc-edge-agent:0.1.0 .
#
# Build from the repository root. BASE, TORCH_INDEX_URL: see workloads.Dockerfile, whose first
# two layers are these same instructions (shared layer).
ARG BASE=python:3.11-slim
FROM ${BASE}
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG PIP_CERT
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
COPY pyproject.toml requirements.lock images/requirements.py /build/
RUN --mount=type=cache,target=/root/.cache/pip \
    python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-deps ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} \
        "torch==$(sed -n 's/^torch==//p' /build/requirements.lock)" \
 && python3 /build/requirements.py /build/pyproject.toml --extra ml > /build/ml.txt \
 && python3 /build/requirements.py /build/pyproject.toml --extra ml --no-deps-only > /build/ml-no-deps.txt \
 && /opt/venv/bin/pip install -c /build/requirements.lock -r /build/ml.txt \
        "setuptools==$(sed -n 's/^setuptools==//p' /build/requirements.lock)" \
 && /opt/venv/bin/pip install --no-deps -r /build/ml-no-deps.txt
RUN --mount=type=cache,target=/root/.cache/pip \
    python3 /build/requirements.py /build/pyproject.toml --only-extras --extra edge > /build/edge.txt \
 && /opt/venv/bin/pip install -c /build/requirements.lock -r /build/edge.txt
COPY README.md LICENSE pyproject.toml /build/src/
COPY operator/ecc_operator /build/src/operator/ecc_operator
COPY ecc_workloads /build/src/ecc_workloads
RUN /opt/venv/bin/pip install --no-deps --no-build-isolation /build/src \
 && rm -rf /build \
 && echo 'ecc:x:65532:65532:ECC Fleet:/tmp:/usr/sbin/nologin' >> /etc/passwd \
 && echo 'ecc:x:65532:' >> /etc/group \
 && /opt/venv/bin/python -c "import sys, ecc_workloads.cli.agent, ecc_workloads.agent.runner, ecc_workloads.agent.server; \
assert 'kserve' not in sys.modules, 'the edge agent must not import kserve'; \
import importlib.util as u; assert u.find_spec('ecc_devcluster') is None and u.find_spec('kserve') is None"
LABEL org.opencontainers.image.title="ecc-edge-agent" \
      org.opencontainers.image.description="ECC Fleet edge agent: local inference, LoRA adaptation, reports" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/venv/bin:$PATH \
    HOME=/tmp \
    HF_HOME=/tmp/hf \
    HF_HUB_OFFLINE=1 \
    OMP_NUM_THREADS=1
# Non-root; the agent writes only to its state volume and /tmp.
USER 65532:65532
WORKDIR /tmp
EXPOSE 8090
ENTRYPOINT ["ecc", "edge-agent"]
