"""Per-node store credentials: the operator's decisions (who a token is, whether its pod is a
fleet's agent, the node's session policy) and the agent's provider against the operator's real
HTTPS endpoint (aiohttp on loopback with a certificate of a test CA; the broker behind it is a
stand-in here — the real one, with the API server and MinIO, is tested in
tests/cluster/test_operator_fleet.py)."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import datetime, timedelta, timezone

import pytest

from ecc_devcluster.ports import free_port
from ecc_workloads import tls
from ecc_workloads.contracts import AgentEnv, NodeIdentity, NodeStoreCredentials, StoreLayout
from ecc_workloads.store import StoreDenied, StoreUnavailable
from ecc_workloads.agent.credentials import NodeCredentialsProvider

from ecc_operator.credentials import nodes as nc

NS, FLEET, NODE = "shop", "edge", "edge-7"
UID = "pod-uid-1"


def review(**over) -> dict:
    status = {"authenticated": True, "audiences": [NodeIdentity.AUDIENCE],
              "user": {"username": f"system:serviceaccount:{NS}:default",
                       "extra": {nc.POD_NAME_EXTRA: ["ecc-agent-edge-abcde"], nc.POD_UID_EXTRA: [UID],
                                 nc.NODE_NAME_EXTRA: [NODE]}}}
    status.update(over)
    return status


def pod(**over) -> dict:
    p = {"metadata": {"name": "ecc-agent-edge-abcde", "namespace": NS, "uid": UID,
                      "labels": {"ecc.dev/fleet": FLEET, "app.kubernetes.io/component": "edge-agent"},
                      "ownerReferences": [{"kind": "DaemonSet", "name": f"ecc-agent-{FLEET}", "controller": True}]},
         "spec": {"nodeName": NODE, "serviceAccountName": "default"}, "status": {"phase": "Running"}}
    for path, value in over.items():
        where = p
        *parents, last = path.split(".")
        for key in parents:
            where = where[key]
        where[last] = value
    return p


def refused(fn) -> tuple[int, str]:
    with pytest.raises(nc.Refused) as info:
        fn()
    return info.value.status, info.value.reason


# ------------------------------------------------------------------ who the token is
def test_a_pod_bound_token_for_our_audience_names_its_pod_and_node():
    ident = nc.identity_from_review(review())
    assert ident == nc.Identity(NS, "default", "ecc-agent-edge-abcde", UID, NODE)


@pytest.mark.parametrize("over, reason", [
    ({"authenticated": False, "error": "token has expired"}, "InvalidToken"),
    ({"audiences": ["https://kubernetes.default.svc"]}, "WrongAudience"),
    ({"user": {"username": "system:node:edge-7", "extra": {}}}, "NotAServiceAccount"),
    ({"user": {"username": f"system:serviceaccount:{NS}:default", "extra": {}}}, "NotBoundToAPod"),
])
def test_other_tokens_are_refused_401(over, reason):
    assert refused(lambda: nc.identity_from_review(review(**over))) == (401, reason)


# ------------------------------------------------------------------ whether the pod is an agent
def test_the_fleets_agent_pod_on_the_tokens_node_is_accepted():
    agent = nc.check_agent_pod(nc.identity_from_review(review()), pod())
    assert agent == nc.AgentPod(NS, FLEET, NODE, UID)


@pytest.mark.parametrize("over, reason", [
    ({"metadata.uid": "another-uid"}, "PodReplaced"),
    ({"metadata.deletionTimestamp": "2026-12-05T00:00:00Z"}, "PodEnding"),
    ({"status.phase": "Failed"}, "PodEnding"),
    ({"metadata.labels": {"ecc.dev/fleet": FLEET}}, "NotAnAgent"),
    ({"metadata.ownerReferences": [{"kind": "DaemonSet", "name": "someone-else", "controller": True}]}, "NotAnAgent"),
    ({"metadata.ownerReferences": []}, "NotAnAgent"),
    ({"spec.serviceAccountName": "builder"}, "WrongServiceAccount"),
    ({"spec.nodeName": None}, "NotScheduled"),
    ({"spec.nodeName": "edge-8"}, "WrongNode"),  # the token says edge-7
])
def test_pods_that_are_not_this_nodes_agent_are_refused_403(over, reason):
    ident = nc.identity_from_review(review())
    assert refused(lambda: nc.check_agent_pod(ident, pod(**over))) == (403, reason)
    assert refused(lambda: nc.check_agent_pod(ident, None)) == (403, "PodGone")


def test_a_fleet_without_its_store_user_yet_asks_to_retry():
    agent = nc.AgentPod(NS, FLEET, NODE, UID)
    fleet = {"metadata": {"uid": "f-uid", "annotations": {}}, "spec": {"teacherRef": {"name": "shop"}}}
    assert refused(lambda: nc.fleet_access(fleet, agent, "ecc.dev/store-access")) == (503, "FleetNotActive")
    assert refused(lambda: nc.fleet_access(None, agent, "ecc.dev/store-access")) == (403, "FleetGone")
    fleet["metadata"]["annotations"]["ecc.dev/store-access"] = json.dumps({"secret": "ecc-store", "bucket": "b-1"})
    assert nc.fleet_access(fleet, agent, "ecc.dev/store-access") == nc.FleetAccess("f-uid", "shop", "ecc-store", "b-1")


# ------------------------------------------------------------------ the node's policy
def _allowed(doc: dict, action: str, key: str, bucket: str = "ecc-fleet") -> bool:
    """IAM-style matching of the policy's Allow statements ('*' matches any characters)."""
    import fnmatch

    arn = f"arn:aws:s3:::{bucket}/{key}"
    return any(action in st["Action"] and any(fnmatch.fnmatchcase(arn, r) for r in st["Resource"])
               for st in doc["Statement"] if st["Effect"] == "Allow")


def test_the_node_policy_writes_only_its_own_report_and_deltas():
    """The session policy narrows the writes; reads stay the fleet user's (STS intersects the two:
    tests/cluster/test_operator_fleet.py checks the result on MinIO)."""
    doc = nc.node_policy_document("ecc-fleet", NS, FLEET, NODE)
    assert _allowed(doc, "s3:PutObject", StoreLayout.agent_report(NS, FLEET, NODE))
    assert _allowed(doc, "s3:PutObject", StoreLayout.delta(NS, FLEET, 3, NODE))
    for other in ("edge-8", "edge-70", "edge-7x", "*"):
        assert not _allowed(doc, "s3:PutObject", StoreLayout.agent_report(NS, FLEET, other)), other
        assert not _allowed(doc, "s3:PutObject", StoreLayout.delta(NS, FLEET, 3, other)), other
    assert not _allowed(doc, "s3:PutObject", StoreLayout.agent_report(NS, "other-fleet", NODE))
    assert not _allowed(doc, "s3:PutObject", StoreLayout.desired_state(NS, FLEET))
    assert not _allowed(doc, "s3:PutObject", StoreLayout.module("ab" * 32))
    assert _allowed(doc, "s3:GetObject", StoreLayout.module("ab" * 32))
    assert not any("Delete" in a or "List" in a or a == "s3:*" for st in doc["Statement"] for a in st["Action"])


def test_the_longest_kubernetes_names_still_fit_a_session_policy():
    doc = nc.node_policy_document("b" * 63, "n" * 63, "f" * 63, "x" * 253)
    assert len(nc.session_policy(doc)) <= nc.MAX_SESSION_POLICY_CHARS
    doc["Statement"][1]["Resource"] *= 8  # a policy that grows past the limit is refused by name
    assert refused(lambda: nc.session_policy(doc)) == (403, "NamesTooLong")


def test_credentials_are_reused_only_while_young():
    exp = datetime(2026, 12, 5, 12, tzinfo=timezone.utc)
    issued = exp.timestamp() - 6 * 3600
    assert nc.reusable(issued, exp, issued + 2 * 3600)
    assert not nc.reusable(issued, exp, issued + 3 * 3600 + 1)


def test_the_bearer_header_is_required_and_bounded():
    assert nc.bearer("Bearer abc") == "abc"
    for header in (None, "", "Basic abc", "Bearer " + "x" * NodeIdentity.MAX_TOKEN_BYTES):
        assert refused(lambda: nc.bearer(header))[0] == 401


# ------------------------------------------------------------------ over HTTP
class StandInBroker:
    """Answers like the real broker: credentials for the token 'good', a refusal otherwise."""

    def __init__(self, lifetime_s: float = 3600):
        self.calls, self.lifetime_s, self.fail = 0, lifetime_s, None

    def credentials(self, token: str) -> NodeStoreCredentials:
        self.calls += 1
        if self.fail:
            raise self.fail
        if token != "good":
            raise nc.Refused(403, "NotAnAgent", "pod x is not an edge agent")
        exp = datetime.now(timezone.utc) + timedelta(seconds=self.lifetime_s)
        return NodeStoreCredentials(namespace=NS, fleet=FLEET, node=NODE, access_key=f"AK{self.calls}",
                                    secret_key="sk", session_token="st", expiration=exp.isoformat(),
                                    endpoint="127.0.0.1:9000", bucket="ecc-fleet")


def serving_certificate(host: str = "127.0.0.1", ca=None) -> tuple[str, str, str]:
    """(certificate, key, CA) PEMs of a serving certificate for `host`, from `ca` or a new CA."""
    ca_cert, ca_key = ca or tls.make_ca("test CA")
    leaf, key = tls.issue(ca_cert, ca_key, host, server=True, **(
        {"ip_addresses": (host,)} if tls.is_ip(host) else {"dns_names": (host,)}))
    return tls.cert_pem(leaf).decode(), tls.key_pem(key).decode(), tls.cert_pem(ca_cert).decode()


OPERATOR_CA = tls.make_ca("the operator's CA")
CERT, KEY, CA = serving_certificate(ca=OPERATOR_CA)


def serve_endpoint(cert: str = CERT, key: str = KEY):
    """The operator's endpoint (node_credentials.serve) with this certificate, on its own loop in
    a thread: yields (url, broker, results)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    broker, results = StandInBroker(), []
    port = free_port()
    ctx = tls.server_context(cert, key)
    runner = asyncio.run_coroutine_threadsafe(nc.serve(broker, "127.0.0.1", port, ctx, results.append),
                                              loop).result(10)
    yield f"https://127.0.0.1:{port}{NodeIdentity.PATH}", broker, results
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


@pytest.fixture
def endpoint():
    yield from serve_endpoint()


def provider(url: str, token, **kwargs) -> NodeCredentialsProvider:
    """An agent's provider trusting the operator's CA, as the DaemonSet configures it."""
    return NodeCredentialsProvider(url, token, ca_pem=CA, **kwargs)


def test_the_provider_gets_and_renews_its_nodes_credentials(endpoint, tmp_path):
    url, broker, results = endpoint
    token = tmp_path / "token"
    token.write_text("good\n")
    now = [1000.0]
    agent = provider(url, token, clock=lambda: now[0])
    first = agent.retrieve()
    assert (first.access_key, first.secret_key, first.session_token) == ("AK1", "sk", "st")
    assert agent.retrieve().access_key == "AK1" and broker.calls == 1  # held while young
    now[0] = datetime.now(timezone.utc).timestamp() + 1801  # past half of its hour
    assert agent.retrieve().access_key == "AK2" and broker.calls == 2
    assert results == ["Issued", "Issued"]


def test_a_refused_or_missing_identity_is_store_denied_naming_why(endpoint, tmp_path):
    url, broker, results = endpoint
    token = tmp_path / "token"
    token.write_text("someone-else")
    with pytest.raises(StoreDenied, match="NotAnAgent"):
        provider(url, token).retrieve()
    with pytest.raises(StoreDenied, match="projected serviceAccountToken"):
        provider(url, tmp_path / "missing").retrieve()
    assert results == ["NotAnAgent"]


def test_held_credentials_outlive_an_operator_outage_until_they_expire(endpoint, tmp_path):
    url, broker, results = endpoint
    token = tmp_path / "token"
    token.write_text("good")
    now = [datetime.now(timezone.utc).timestamp()]
    agent = provider(url, token, clock=lambda: now[0])
    assert agent.retrieve().access_key == "AK1"
    broker.fail = nc.Refused(503, "FleetNotActive", "retry later")
    now[0] += 2000  # renewal due, the operator says 503: keep the held ones
    assert agent.retrieve().access_key == "AK1"
    now[0] += 3600  # expired: no credentials at all rather than stale ones
    with pytest.raises(StoreUnavailable, match="FleetNotActive"):
        agent.retrieve()
    broker.fail = RuntimeError("API server down")
    with pytest.raises(StoreUnavailable, match="503"):
        agent.retrieve()
    dead = provider("https://127.0.0.1:9/v1/node-credentials", token)
    with pytest.raises(StoreUnavailable, match="unreachable"):
        dead.retrieve()


# ---------------------------------------------------------------------- TLS: only the operator gets the token
def test_the_provider_refuses_a_plaintext_url_and_a_ca_that_is_not_pem(tmp_path):
    with pytest.raises(ValueError, match=f"must be https.*{AgentEnv.CREDENTIALS_URL}|{AgentEnv.CREDENTIALS_URL}.*https"):
        NodeCredentialsProvider(f"http://127.0.0.1:8081{NodeIdentity.PATH}", tmp_path / "token", ca_pem=CA)
    with pytest.raises(tls.CertificateError, match=AgentEnv.CREDENTIALS_CA):
        NodeCredentialsProvider(f"https://127.0.0.1:8081{NodeIdentity.PATH}", tmp_path / "token", ca_pem="not a PEM")


@pytest.mark.parametrize("impostor", ["another CA", "another host"])
def test_an_impostor_endpoint_never_sees_the_token(impostor, tmp_path):
    """Someone on the edge network answers in the operator's place: with a certificate of their own
    CA, or with one of the operator's CA made for another host. The agent refuses the TLS
    handshake, so the request (and the node's token in it) is never sent."""
    cert, key, _ = (serving_certificate() if impostor == "another CA"
                    else serving_certificate("ecc-operator.elsewhere.svc", ca=OPERATOR_CA))
    token = tmp_path / "token"
    token.write_text("good")
    served = serve_endpoint(cert, key)
    url, broker, results = next(served)
    try:
        with pytest.raises(StoreUnavailable, match="did not prove it is the operator"):
            provider(url, token).retrieve()
        assert broker.calls == 0 and results == []
    finally:
        next(served, None)
