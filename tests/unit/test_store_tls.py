"""TLS to the object store: the CA bundle travels with the store settings (env, Job Secrets, scoped
users, KServe's storage initializer) and every client checks the store's certificate against it.
Handshakes are real (a TLS server on loopback); the real MinIO over TLS is in tests/cluster."""

from __future__ import annotations

import http.server
import threading
from types import SimpleNamespace

import pytest
import urllib3

from ecc_workloads import tls
from ecc_workloads.serving import bundle_fetch
from ecc_workloads.contracts import KServeServing, StoreEnv, StoreSettings
from ecc_workloads.store import store_http

from ecc_operator.credentials import jobs as jc
from ecc_operator.credentials import store_access

CA = tls.make_ca("store CA")
CA_PEM = tls.cert_pem(CA[0]).decode()
ADMIN = StoreSettings(endpoint="127.0.0.1:9000", pod_endpoint="ecc-store.ecc-system.svc:9000", access_key="root",
                      secret_key="rootpass", secure=True, ca_pem=CA_PEM)


def test_a_ca_bundle_needs_tls_and_travels_in_the_environment():
    with pytest.raises(ValueError, match=f"{StoreEnv.CA} is set but {StoreEnv.SECURE} is not 'true'"):
        StoreSettings(endpoint="s:9000", access_key="a", secret_key="b", ca_pem=CA_PEM)
    env = ADMIN.as_env()
    assert env[StoreEnv.CA] == CA_PEM and StoreSettings.from_env(env).ca_pem == CA_PEM
    assert StoreEnv.CA not in ADMIN.model_copy(update={"ca_pem": None}).as_env()


def test_scoped_and_job_credentials_keep_the_stores_ca():
    fleet_user = store_access.scoped_settings(ADMIN, "eccf-x", "pw")
    assert (fleet_user.endpoint, fleet_user.ca_pem, fleet_user.secure) == ("ecc-store.ecc-system.svc:9000", CA_PEM, True)
    got = SimpleNamespace(access_key="AK", secret_key="SK", session_token="ST")
    job = jc.issue(ADMIN, jc.distill_policy("ecc-fleet", "ns", "t", 1, "bitext", "r"), 900, sts=lambda *_: got)
    assert (job.access_key, job.ca_pem, job.pod_endpoint) == ("AK", CA_PEM, None)
    assert StoreSettings.from_env(jc.secret_manifest(
        {"metadata": {"name": "j", "namespace": "ns", "uid": "u"}}, job)["stringData"]).ca_pem == CA_PEM


@pytest.fixture
def tls_server():
    """An HTTPS server on loopback with a certificate of CA for 127.0.0.1: yields its port."""
    leaf, key = tls.issue(*CA, "store", server=True, ip_addresses=("127.0.0.1",))

    class Ok(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_):
            pass

    class Counting(http.server.ThreadingHTTPServer):
        connections = 0

        def get_request(self):
            Counting.connections += 1
            return super().get_request()

        def handle_error(self, request, client_address):
            pass  # a refused handshake

    server = Counting(("127.0.0.1", 0), Ok)
    ctx = tls.server_context(tls.cert_pem(leaf).decode(), tls.key_pem(key).decode())
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(port=server.server_address[1], connections=lambda: Counting.connections)
    server.shutdown()
    thread.join(5)


def test_store_clients_trust_only_the_stores_ca(tls_server):
    settings = ADMIN.model_copy(update={"endpoint": f"127.0.0.1:{tls_server.port}"})
    assert store_http(settings).request("GET", f"https://{settings.endpoint}/").status == 200
    other = tls.cert_pem(tls.make_ca("someone else")[0]).decode()
    with pytest.raises(urllib3.exceptions.MaxRetryError) as err:
        store_http(settings.model_copy(update={"ca_pem": other})).request("GET", f"https://{settings.endpoint}/")
    assert isinstance(err.value.reason, urllib3.exceptions.SSLError)
    with pytest.raises(urllib3.exceptions.MaxRetryError):  # nor the system's trust store
        store_http(settings.model_copy(update={"ca_pem": None})).request("GET", f"https://{settings.endpoint}/")
    with pytest.raises(tls.CertificateError, match=StoreEnv.CA):
        store_http(settings.model_copy(update={"ca_pem": "not a PEM"}))


def test_the_storage_initializer_reads_the_ca_kserve_mounts(tmp_path):
    k = KServeServing
    bundle = tmp_path / "ca.crt"
    bundle.write_text(CA_PEM)
    env = {k.ACCESS_KEY_ENV: "AK", k.SECRET_KEY_ENV: "SK", k.ENDPOINT_URL_ENV: "https://ecc-store.ecc-system.svc:9000",
           k.CA_BUNDLE_ENV: str(bundle)}
    got = bundle_fetch.settings_from_env(env)
    assert (got.endpoint, got.secure, got.ca_pem) == ("ecc-store.ecc-system.svc:9000", True, CA_PEM)
    with pytest.raises(bundle_fetch.FetchError, match=f"{k.CA_BUNDLE_ENV}=.*cannot be read.*{k.CA_BUNDLE_CONFIGMAP_KEY}"):
        bundle_fetch.settings_from_env({**env, k.CA_BUNDLE_ENV: str(tmp_path / "missing")})
    with pytest.raises(bundle_fetch.FetchError, match="is not 'true'"):
        bundle_fetch.settings_from_env({**env, k.ENDPOINT_URL_ENV: "http://ecc-store.ecc-system.svc:9000"})


def test_a_certificate_that_does_not_verify_is_named_at_once_not_waited_out(tls_server):
    """A store whose certificate does not chain to the CA bundle is not an outage: the Store
    says so at the first attempt (no retries for retry_seconds), naming the setting to fix."""
    from ecc_workloads.store import Store, StoreUnavailable

    other = tls.cert_pem(tls.make_ca("someone else")[0]).decode()
    settings = ADMIN.model_copy(update={"endpoint": f"127.0.0.1:{tls_server.port}", "ca_pem": other})
    before = tls_server.connections()
    with pytest.raises(StoreUnavailable, match=f"TLS to the object store .*{StoreEnv.CA}.*CERTIFICATE_VERIFY_FAILED"):
        Store(settings, retry_seconds=60).get_bytes("s3://ecc-fleet/any/key")
    assert tls_server.connections() - before == 1
