"""Kubeconfig files of the local development cluster (client certificates by path)."""

from __future__ import annotations

import os
from pathlib import Path

import yaml


def kubeconfig_document(
    *, cluster_name: str, server: str, ca_file: str, user: str, cert_file: str, key_file: str
) -> dict:
    """A one-cluster, one-user, one-context kubeconfig (pure)."""
    context = f"ecc-dev-{cluster_name}"
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": context, "cluster": {"server": server, "certificate-authority": ca_file}}
        ],
        "users": [
            {"name": user, "user": {"client-certificate": cert_file, "client-key": key_file}}
        ],
        "contexts": [{"name": context, "context": {"cluster": context, "user": user}}],
        "current-context": context,
        "preferences": {},
    }


def write_kubeconfig(path: str | Path, document: dict) -> str:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(yaml.safe_dump(document, sort_keys=False))
    os.chmod(p, 0o600)
    return str(p.resolve())
