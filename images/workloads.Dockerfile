# syntax=docker/dockerfile:1
# The workloads image: the distillation and merge-back Jobs and the teacher's server (`ecc ...`):
# the [ml,serve] extras.
#
#   docker build -f images/workloads.Dockerfile -t ghcr.io/ecc-fleet/ecc-workloads:0.1.0 .
#
# Build from the repository root. BASE: see operator.Dockerfile. TORCH_INDEX_URL: where torch
# comes from — PyTorch's CPU wheel index by default (no CUDA libraries); `make images` passes PyPI
# (the CUDA build: the CPU index cannot be reached on the development machines).
# The first two layers are the same instructions as in edge-agent.Dockerfile, so the two images
# share their largest layer (torch and the ML stack) in a builder's cache and on a node.
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
    python3 /build/requirements.py /build/pyproject.toml --only-extras --extra serve > /build/serve.txt \
 && /opt/venv/bin/pip install -c /build/requirements.lock -r /build/serve.txt
# Only the operator's and the workloads' packages: ecc_devcluster (development only) never ships.
COPY README.md LICENSE pyproject.toml /build/src/
COPY operator/ecc_operator /build/src/operator/ecc_operator
COPY ecc_workloads /build/src/ecc_workloads
RUN /opt/venv/bin/pip install --no-deps --no-build-isolation /build/src \
 && rm -rf /build \
 && echo 'ecc:x:65532:65532:ECC Fleet:/tmp:/usr/sbin/nologin' >> /etc/passwd \
 && echo 'ecc:x:65532:' >> /etc/group \
 && /opt/venv/bin/python -c "import torch, transformers, peft, kserve, ecc_workloads.cli.app, ecc_workloads.serving.teacher; \
import importlib.util as u; assert u.find_spec('ecc_devcluster') is None"
LABEL org.opencontainers.image.title="ecc-workloads" \
      org.opencontainers.image.description="ECC Fleet Jobs (distill, merge-back) and the teacher's server" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/venv/bin:$PATH \
    HOME=/tmp \
    HF_HOME=/tmp/hf \
    HF_HUB_OFFLINE=1 \
    OMP_NUM_THREADS=1
# Non-root; Jobs and the server write only to /tmp and their volumes.
USER 65532:65532
WORKDIR /tmp
ENTRYPOINT ["ecc"]
CMD ["--help"]
