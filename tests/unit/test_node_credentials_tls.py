"""The node-credentials endpoint's certificate (node_credentials_tls): made once, renewed under the
same CA, a user's own used as it is, and a running server that picks up a renewal. Handshakes are
real (ssl on loopback); the Secret store is a dict (the real API server: tests/cluster)."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import ssl

import pytest
from cryptography import x509

from kubefake import FakeSecrets
from ecc_workloads import tls
from ecc_workloads.contracts import NodeIdentity

from ecc_operator.credentials import node_tls as nct

NS, HOST = "ecc-system", "ecc-fleet.ecc-system.svc"
NOW = dt.datetime.now(dt.timezone.utc)


def leaf_of(data: dict[str, str]) -> x509.Certificate:
    return x509.load_pem_x509_certificate(data[NodeIdentity.TLS_CERT].encode())


def test_the_operator_makes_a_certificate_for_its_host_once():
    kube = FakeSecrets()
    made = nct.ensure(kube, NS, NodeIdentity.TLS_SECRET, HOST)
    assert made.managed and len(kube.created) == 1 and kube.created[0]["type"] == "kubernetes.io/tls"
    assert tls.covered_names(leaf_of(kube.secrets[(NS, NodeIdentity.TLS_SECRET)])) == {HOST, "localhost", "127.0.0.1"}
    again = nct.ensure(kube, NS, NodeIdentity.TLS_SECRET, HOST)
    assert again == made and len(kube.created) == 1 and not kube.applied


def test_a_certificate_near_its_end_or_for_another_host_is_renewed_under_the_same_ca():
    kube = FakeSecrets()
    first = nct.ensure(kube, NS, NodeIdentity.TLS_SECRET, HOST)
    later = lambda: NOW + dt.timedelta(days=340)  # noqa: E731 - inside RENEW_BEFORE of the 365-day leaf
    renewed = nct.ensure(kube, NS, NodeIdentity.TLS_SECRET, HOST, now=later)
    assert len(kube.applied) == 1 and renewed.cert_pem != first.cert_pem
    assert renewed.ca_pem == first.ca_pem  # agents keep trusting what their DaemonSet says
    moved = nct.ensure(kube, NS, NodeIdentity.TLS_SECRET, "ecc.ops.svc")
    assert len(kube.applied) == 2 and "ecc.ops.svc" in tls.covered_names(leaf_of(kube.secrets[(NS, NodeIdentity.TLS_SECRET)]))
    assert moved.ca_pem == first.ca_pem


def test_a_users_own_certificate_is_used_as_it_is_or_named_when_it_cannot_be():
    ca = tls.make_ca("their CA")
    leaf, key = tls.issue(*ca, HOST, server=True, dns_names=(HOST,))
    own = {NodeIdentity.TLS_CERT: tls.cert_pem(leaf).decode(), NodeIdentity.TLS_KEY: tls.key_pem(key).decode(),
           NodeIdentity.TLS_CA: tls.cert_pem(ca[0]).decode()}
    kube = FakeSecrets({(NS, "theirs"): own})
    got = nct.ensure(kube, NS, "theirs", HOST)
    assert not got.managed and got.cert_pem == own[NodeIdentity.TLS_CERT] and not kube.created and not kube.applied
    with pytest.raises(tls.CertificateError, match=r"Secret ecc-system/theirs: the certificate covers .* not 'other"):
        nct.ensure(kube, NS, "theirs", "other.svc")
    with pytest.raises(tls.CertificateError, match=r"Secret ecc-system/theirs: .*not now"):
        nct.ensure(kube, NS, "theirs", HOST, now=lambda: NOW + dt.timedelta(days=400))
    kube.secrets[(NS, "partial")] = {NodeIdentity.TLS_CERT: own[NodeIdentity.TLS_CERT]}
    with pytest.raises(tls.CertificateError, match=r"Secret ecc-system/partial lacks tls.key, ca.crt"):
        nct.ensure(kube, NS, "partial", HOST)
    assert not kube.applied  # never overwritten


@pytest.mark.parametrize("url", ["http://ecc.ns.svc:8081/v1/node-credentials", "https:///v1/node-credentials"])
def test_the_endpoint_url_must_be_https_with_a_host(url):
    with pytest.raises(ValueError, match="must be https://HOST"):
        nct.endpoint_host(url)
    assert nct.endpoint_host("https://ecc.ns.svc:8081/v1/node-credentials") == "ecc.ns.svc"


def _peer_serial(port: int, ca_pem: str) -> int:
    ctx = tls.client_context(ca_pem)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
            ctx.wrap_socket(raw, server_hostname="127.0.0.1") as conn:
        return x509.load_der_x509_certificate(conn.getpeercert(binary_form=True)).serial_number


def test_a_running_server_serves_the_renewed_certificate_to_new_connections():
    kube = FakeSecrets()
    first = nct.ensure(kube, NS, NodeIdentity.TLS_SECRET, HOST)
    later = lambda: NOW + dt.timedelta(days=340)  # noqa: E731

    async def scenario() -> tuple[int, int, int]:
        ctx = tls.server_context(first.cert_pem, first.key_pem)
        server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0, ssl=ctx)
        port = server.sockets[0].getsockname()[1]
        before = await asyncio.to_thread(_peer_serial, port, first.ca_pem)
        renewal = asyncio.create_task(nct.keep_renewed(
            ctx, first, lambda: nct.ensure(kube, NS, NodeIdentity.TLS_SECRET, HOST, now=later), every_s=0.05))
        for _ in range(100):
            await asyncio.sleep(0.05)
            if kube.applied:
                break
        await asyncio.sleep(0.2)
        after = await asyncio.to_thread(_peer_serial, port, first.ca_pem)
        renewal.cancel()
        server.close()
        await server.wait_closed()
        return before, after, leaf_of(kube.secrets[(NS, NodeIdentity.TLS_SECRET)]).serial_number

    before, after, renewed = asyncio.run(scenario())
    assert before == leaf_of({NodeIdentity.TLS_CERT: first.cert_pem}).serial_number
    assert after == renewed != before


def test_a_client_context_trusts_only_the_given_ca():
    cert = nct.ensure(FakeSecrets(), NS, NodeIdentity.TLS_SECRET, HOST)
    ctx = tls.client_context(cert.ca_pem)
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert ctx.minimum_version >= ssl.TLSVersion.TLSv1_2
    assert len(ctx.get_ca_certs()) == 1
