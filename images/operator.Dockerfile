# syntax=docker/dockerfile:1
# The operator image: the project's base set and its [operator] extra (kopf, kubernetes): no torch.
#
#   docker build -f images/operator.Dockerfile -t ghcr.io/ecc-fleet/ecc-operator:0.1.0 .
#
# Build from the repository root. BASE is any Debian-like image with python3.11 and its venv
# module (default python:3.11-slim; `make images` uses one made from Debian's packages).
# Layers: dependencies (change with pyproject.toml / requirements.lock), then the code (seconds).
ARG BASE=python:3.11-slim
FROM ${BASE}
# A CA bundle for pip behind a TLS-inspecting proxy (path inside the build; unset by default).
ARG PIP_CERT
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
COPY pyproject.toml requirements.lock images/requirements.py /build/
RUN --mount=type=cache,target=/root/.cache/pip \
    python3 -m venv /opt/venv \
 && python3 /build/requirements.py /build/pyproject.toml --extra operator > /build/operator.txt \
 && /opt/venv/bin/pip install -c /build/requirements.lock -r /build/operator.txt \
        "setuptools==$(sed -n 's/^setuptools==//p' /build/requirements.lock)"
# Only the operator's and the workloads' packages: ecc_devcluster (development only) never ships.
COPY README.md LICENSE pyproject.toml /build/src/
COPY operator/ecc_operator /build/src/operator/ecc_operator
COPY ecc_workloads /build/src/ecc_workloads
RUN /opt/venv/bin/pip install --no-deps --no-build-isolation /build/src \
 && rm -rf /build \
 && echo 'ecc:x:65532:65532:ECC Fleet:/tmp:/usr/sbin/nologin' >> /etc/passwd \
 && echo 'ecc:x:65532:' >> /etc/group \
 && /opt/venv/bin/python -c "import sys, ecc_operator.__main__, kopf; \
assert 'torch' not in sys.modules; \
import importlib.util as u; assert u.find_spec('ecc_devcluster') is None"
LABEL org.opencontainers.image.title="ecc-operator" \
      org.opencontainers.image.description="ECC Fleet operator (kopf)" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/venv/bin:$PATH
# Non-root; the chart also sets runAsNonRoot and a read-only root filesystem (/tmp is a volume).
USER 65532:65532
WORKDIR /tmp
EXPOSE 8080 9090
ENTRYPOINT ["ecc-operator"]
