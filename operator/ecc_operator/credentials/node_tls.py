"""The serving certificate of the node-credentials endpoint (contracts.NodeIdentity.TLS_*).

The endpoint's answers carry store secret keys, so agents reach it over TLS only and check its
certificate against a CA they get from their DaemonSet (AgentEnv.CREDENTIALS_CA). The
certificate lives in a Secret of the operator's namespace:

- absent: the operator makes a CA and a serving certificate for the endpoint's host (the host of
  --node-credentials-url, plus localhost for probes on the pod) and keeps the CA's key beside
  them, so that it can renew the leaf without changing what agents trust;
- made by the operator (it holds `ca.key`): renewed when it would expire within RENEW_BEFORE or
  no longer covers the host — at start-up and every CHECK_EVERY_S while running;
- the user's own (no `ca.key`; e.g. from cert-manager): used as it is; one that does not cover
  the host or has expired stops the operator with a message naming the Secret.

Replicas that start together race to create the Secret: the loser reads the winner's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import ssl
from typing import Callable

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pydantic import BaseModel, ConfigDict, Field

from ecc_workloads import tls
from ecc_workloads.contracts import NodeIdentity

log = logging.getLogger(__name__)

RENEW_BEFORE = dt.timedelta(days=30)
CHECK_EVERY_S = 12 * 3600
LOCAL_NAMES = ("localhost", "127.0.0.1")
"""Also in a made certificate: the pod's own probes and a port-forward reach it by these."""


class ServingCertificate(BaseModel):
    model_config = ConfigDict(frozen=True)

    cert_pem: str
    key_pem: str = Field(repr=False)
    ca_pem: str
    managed: bool
    not_after: dt.datetime
    ca_key_pem: str = Field("", repr=False)
    """The CA's key when the operator made the CA (`managed`): it also signs the served teachers'
    certificates (serving_tls). Kept in memory only: never logged, never written elsewhere."""


def endpoint_host(url: str) -> str:
    """The host agents connect to; ValueError unless the URL is https with a host."""
    return tls.https_host(url, "--node-credentials-url")


# ---------------------------------------------------------------------------
# Decisions (pure)
# ---------------------------------------------------------------------------
def _leaf(data: dict[str, str], source: str) -> x509.Certificate:
    return tls.load_certificates(data[NodeIdentity.TLS_CERT], f"{source} key {NodeIdentity.TLS_CERT!r}")[0]


def renewal_reason(data: dict[str, str] | None, host: str, now: dt.datetime, source: str) -> str | None:
    """Why the operator must (re)make the certificate, or None. Only for an absent Secret or one
    the operator made: the user's own is never replaced."""
    if data is None:
        return "absent"
    if not data.get(NodeIdentity.TLS_CA_KEY):
        return None
    if not all(data.get(k) for k in (NodeIdentity.TLS_CERT, NodeIdentity.TLS_KEY, NodeIdentity.TLS_CA)):
        return "incomplete"
    try:
        leaf = _leaf(data, source)
    except tls.CertificateError:
        return "unreadable"
    if leaf.not_valid_after_utc - RENEW_BEFORE <= now:
        return f"expires {leaf.not_valid_after_utc:%Y-%m-%d}"
    if host not in tls.covered_names(leaf):
        return f"does not cover {host}"
    return None


def check_usable(data: dict[str, str], host: str, now: dt.datetime, source: str) -> ServingCertificate:
    """The certificate of the Secret's data; tls.CertificateError naming the Secret unless it has
    the three keys, covers `host` and is valid now."""
    missing = [k for k in (NodeIdentity.TLS_CERT, NodeIdentity.TLS_KEY, NodeIdentity.TLS_CA) if not data.get(k)]
    if missing:
        raise tls.CertificateError(f"{source} lacks {', '.join(missing)}: it must hold the endpoint's certificate "
                                   f"({NodeIdentity.TLS_CERT}, {NodeIdentity.TLS_KEY}) and the CA agents trust "
                                   f"({NodeIdentity.TLS_CA}), or be deleted so that the operator makes one")
    leaf = _leaf(data, source)
    tls.load_certificates(data[NodeIdentity.TLS_CA], f"{source} key {NodeIdentity.TLS_CA!r}")
    if host not in tls.covered_names(leaf):
        raise tls.CertificateError(f"{source}: the certificate covers {sorted(tls.covered_names(leaf))}, not {host!r} "
                                   "(the host of --node-credentials-url, which agents connect to)")
    if not leaf.not_valid_before_utc <= now < leaf.not_valid_after_utc:
        raise tls.CertificateError(f"{source}: the certificate is valid from {leaf.not_valid_before_utc} to "
                                   f"{leaf.not_valid_after_utc}, not now")
    return ServingCertificate(cert_pem=data[NodeIdentity.TLS_CERT], key_pem=data[NodeIdentity.TLS_KEY],
                              ca_pem=data[NodeIdentity.TLS_CA], managed=bool(data.get(NodeIdentity.TLS_CA_KEY)),
                              not_after=leaf.not_valid_after_utc, ca_key_pem=data.get(NodeIdentity.TLS_CA_KEY) or "")


def made_certificate(data: dict[str, str] | None, host: str, now: dt.datetime) -> dict[str, str]:
    """A new serving certificate, signed by the CA the Secret already holds while that one has
    longer to live than RENEW_BEFORE (agents keep trusting it), else by a new CA."""
    ca_cert = ca_key = None
    if data and data.get(NodeIdentity.TLS_CA_KEY) and data.get(NodeIdentity.TLS_CA):
        try:
            ca_cert = tls.load_certificates(data[NodeIdentity.TLS_CA], "ca")[0]
            ca_key = serialization.load_pem_private_key(data[NodeIdentity.TLS_CA_KEY].encode(), password=None)
        except (tls.CertificateError, ValueError, TypeError):
            ca_cert = ca_key = None
        if ca_cert is not None and ca_cert.not_valid_after_utc - RENEW_BEFORE <= now:
            ca_cert = ca_key = None
    if ca_cert is None:
        ca_cert, ca_key = tls.make_ca("ecc-fleet node-credentials CA")
    names = (host,) + tuple(n for n in LOCAL_NAMES if n != host)
    leaf, key = tls.issue(ca_cert, ca_key, host, server=True, dns_names=tuple(n for n in names if not tls.is_ip(n)),
                          ip_addresses=tuple(n for n in names if tls.is_ip(n)))
    return {NodeIdentity.TLS_CERT: tls.cert_pem(leaf).decode(), NodeIdentity.TLS_KEY: tls.key_pem(key).decode(),
            NodeIdentity.TLS_CA: tls.cert_pem(ca_cert).decode(), NodeIdentity.TLS_CA_KEY: tls.key_pem(ca_key).decode()}


def secret_manifest(namespace: str, name: str, data: dict[str, str]) -> dict:
    return {
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
        "metadata": {"name": name, "namespace": namespace,
                     "labels": {"app.kubernetes.io/part-of": "ecc-fleet",
                                "app.kubernetes.io/component": "node-credentials-tls"}},
        "stringData": data,
    }


# ---------------------------------------------------------------------------
# Side effects
# ---------------------------------------------------------------------------
def ensure(kube, namespace: str, name: str, host: str,
           now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc)) -> ServingCertificate:
    """The endpoint's certificate from Secret `namespace/name`, made or renewed first when needed."""
    source = f"Secret {namespace}/{name}"
    data = kube.get_secret_data(namespace, name)
    reason = renewal_reason(data, host, now(), source)
    if reason:
        manifest = secret_manifest(namespace, name, made_certificate(data, host, now()))
        if data is None:
            if kube.create_if_absent(manifest):
                log.info(f"created {source}: the node-credentials endpoint's certificate for {host}")
        else:
            kube.apply(manifest)
            log.info(f"renewed {source} ({reason}): the node-credentials endpoint's certificate for {host}")
        data = kube.get_secret_data(namespace, name) or {}
    return check_usable(data, host, now(), source)


async def keep_renewed(ctx: ssl.SSLContext, current: ServingCertificate, fetch: Callable[[], ServingCertificate],
                       every_s: float = CHECK_EVERY_S) -> None:
    """Reload `ctx` whenever `fetch` (ensure, in a thread) returns another certificate; runs
    until cancelled. A failed check is logged and tried again at the next period."""
    while True:
        await asyncio.sleep(every_s)
        try:
            fresh = await asyncio.to_thread(fetch)
        except Exception as exc:  # noqa: BLE001 - the API server is away: keep serving the current one
            log.warning(f"node-credentials certificate not checked: {type(exc).__name__}: {exc}")
            continue
        if fresh.cert_pem != current.cert_pem:
            tls.load_chain(ctx, fresh.cert_pem, fresh.key_pem, "the renewed node-credentials certificate")
            log.info(f"node-credentials endpoint now serves a certificate valid until {fresh.not_after}")
            current = fresh
