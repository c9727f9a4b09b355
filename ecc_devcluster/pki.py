"""Certificates and keys of the local development cluster.

One private CA signs everything: the API server's serving certificate, the
client certificates of the admin and of the controller-manager and scheduler,
and (as the cluster-signing CA) CSRs approved in the cluster. A separate RSA key
pair signs service-account tokens.

Pure-ish: functions here only create keys/certificates and write them below the
directory they are given.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import BaseModel

from ecc_workloads.tls import cert_pem, issue, key_pem, make_ca

APISERVER_DNS_SANS = (
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
)
APISERVER_IP_SANS = ("127.0.0.1", "10.250.0.1", "10.96.0.1")
"""Loopback (the host), the gateway's relay in the nodes' fabric, the `kubernetes` Service."""
VALIDITY = dt.timedelta(days=365)

ADMIN_USER = "ecc-dev-admin"
CONTROLLER_MANAGER_USER = "system:kube-controller-manager"
SCHEDULER_USER = "system:kube-scheduler"


class ClusterPKI(BaseModel):
    """Paths of everything `generate()` writes (all absolute)."""

    dir: str
    ca_cert: str
    ca_key: str
    apiserver_cert: str
    apiserver_key: str
    admin_cert: str
    admin_key: str
    controller_manager_cert: str
    controller_manager_key: str
    scheduler_cert: str
    scheduler_key: str
    sa_private_key: str
    sa_public_key: str
    store_certs_dir: str
    """MinIO's --certs-dir: its serving certificate (public.crt, private.key), signed by the CA."""


def write_pem(path: Path, data: bytes, private: bool = False) -> str:
    path.write_bytes(data)
    os.chmod(path, 0o600 if private else 0o644)
    return str(path)


def generate(pki_dir: str | Path, cluster_name: str, store_dns_names: tuple[str, ...] = ()) -> ClusterPKI:
    """Create a fresh CA and every certificate/key the cluster's components need; the store's
    serving certificate covers loopback and `store_dns_names` (its Service, as pods name it)."""
    d = Path(pki_dir)
    d.mkdir(parents=True, exist_ok=True)
    os.chmod(d, 0o700)

    ca_cert, ca_key = make_ca(f"ecc-dev-{cluster_name}-ca", VALIDITY)
    paths: dict[str, str] = {"dir": str(d.resolve())}
    paths["ca_cert"] = write_pem(d / "ca.crt", cert_pem(ca_cert))
    paths["ca_key"] = write_pem(d / "ca.key", key_pem(ca_key), private=True)

    leaves = {
        "apiserver": dict(
            common_name="kube-apiserver",
            server=True,
            dns_names=APISERVER_DNS_SANS,
            ip_addresses=APISERVER_IP_SANS,
        ),
        "admin": dict(common_name=ADMIN_USER, organization="system:masters", client=True),
        "controller_manager": dict(common_name=CONTROLLER_MANAGER_USER, client=True),
        "scheduler": dict(common_name=SCHEDULER_USER, client=True),
    }
    for stem, kwargs in leaves.items():
        cert, key = issue(ca_cert, ca_key, **kwargs)
        file_stem = stem.replace("_", "-")
        paths[f"{stem}_cert"] = write_pem(d / f"{file_stem}.crt", cert_pem(cert))
        paths[f"{stem}_key"] = write_pem(d / f"{file_stem}.key", key_pem(key), private=True)

    store_dir = d / "store-certs"
    store_dir.mkdir(exist_ok=True)
    cert, key = issue(ca_cert, ca_key, "ecc-dev-store", server=True, dns_names=("localhost", *store_dns_names),
                      ip_addresses=("127.0.0.1",))
    write_pem(store_dir / "public.crt", cert_pem(cert))  # the names MinIO looks for
    write_pem(store_dir / "private.key", key_pem(key), private=True)
    paths["store_certs_dir"] = str(store_dir)

    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    paths["sa_private_key"] = write_pem(d / "sa.key", key_pem(sa_key), private=True)
    paths["sa_public_key"] = write_pem(
        d / "sa.pub",
        sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    )
    return ClusterPKI(**{k: str(Path(v).resolve()) for k, v in paths.items()})


def load_ca(ca_cert_file: str | Path, ca_key_file: str | Path):
    """The cluster CA's certificate and key, to issue more leaves (nodes, webhooks)."""
    ca_cert = x509.load_pem_x509_certificate(Path(ca_cert_file).read_bytes())
    ca_key = serialization.load_pem_private_key(Path(ca_key_file).read_bytes(), password=None)
    return ca_cert, ca_key


def issue_node_certificates(pki_paths: ClusterPKI, out_dir: str | Path, node: str, node_ip: str,
                            kube_proxy_user: str) -> dict[str, str]:
    """A real node's certificates: the kubelet's client (system:node:NAME in system:nodes, as the
    Node authorizer expects) and serving certificates, and kube-proxy's client certificate."""
    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    os.chmod(d, 0o700)
    ca_cert, ca_key = load_ca(pki_paths.ca_cert, pki_paths.ca_key)
    leaves = {
        "kubelet_client": dict(common_name=f"system:node:{node}", organization="system:nodes", client=True),
        "kubelet_serving": dict(common_name=f"system:node:{node}", organization="system:nodes", server=True,
                                dns_names=(node,), ip_addresses=(node_ip,)),
        "kube_proxy": dict(common_name=kube_proxy_user, client=True),
    }
    paths: dict[str, str] = {}
    for stem, kwargs in leaves.items():
        cert, key = issue(ca_cert, ca_key, **kwargs)
        file_stem = stem.replace("_", "-")
        paths[f"{stem}_cert"] = write_pem(d / f"{file_stem}.crt", cert_pem(cert))
        paths[f"{stem}_key"] = write_pem(d / f"{file_stem}.key", key_pem(key), private=True)
    return paths
