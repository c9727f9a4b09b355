"""The EdgeFleet controller against the real local cluster and its MinIO.

The operator runs as a subprocess. The CloudTeacher is created and its status patched by the
test (revision N + bundle manifests put in MinIO), so nothing is distilled. Reports are written
into the store exactly as the (simulated) agents write them; the agent pods the DaemonSet puts
on the real edge nodes are not waited on.

Checked: the DaemonSet (node affinity from the selector, tolerations, command, env, probe,
the projected identity token, no store Secret); per-node credentials: the operator exchanges a
token the API server binds to one agent pod for credentials that MinIO lets write that node's
report and deltas only, and refuses tokens of other audiences, of other pods and of deleted pods;
the DesiredState's tiers; reports folded into status counts and metrics; a new teacher revision
going canary -> all; a node relabelled out of (and back into) the fleet; deletion removing the
store prefix and the scoped user.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import math
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone

import pytest

from ecc_workloads import contracts as c
from ecc_workloads import release_signing

from ecc_operator.controllers.fleet import decisions as fd
from ecc_operator.controllers.teacher import decisions as td
from ecc_operator.api.cloudteacher import CLOUD_TEACHER
from ecc_operator.api.edgefleet import EDGE_FLEET

from clusterkit import read_object, s3_outcome, signed_desired_state
from operatorkit import OperatorProcess, delete_custom_objects, wait_for

pytestmark = pytest.mark.cluster
NAMESPACE_PREFIX = "fleet"  # the `ns` fixture of tests/cluster/conftest.py

G, V = CLOUD_TEACHER.group, CLOUD_TEACHER.version
TP, FP = CLOUD_TEACHER.plural, EDGE_FLEET.plural
TEACHER, FLEET = "shop", "edge"
PROFILES = ("s02", "s1")
TIMEOUT = 60


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def exclude_label(ns):
    """A label only this module uses: a node carrying it leaves the fleet."""
    return f"ecc.dev/test-exclude-{ns}"


@pytest.fixture(scope="module")
def operator(cluster, kube, ns, crds_installed, tmp_path_factory, exclude_label):
    op = OperatorProcess(cluster, ns, tmp_path_factory.mktemp("operator") / "operator.log",
                         extra_args=("--peering", ""))
    op.start()
    yield op
    delete_custom_objects(kube, ns, [FP, TP])  # finalizers: delete while the operator runs
    from kubernetes import client

    core = client.CoreV1Api(kube)
    for n in core.list_node(label_selector=exclude_label).items:
        core.patch_node(n.metadata.name, {"metadata": {"labels": {exclude_label: None}}})
    op.stop()
    print(f"operator log tail:\n{op.log_tail(60)}", file=sys.stderr)


def teacher_spec() -> dict:
    # An s3:// model: the teacher controller refuses to distil it (UnsupportedModel) instead of
    # starting a Job, and once the test patches status with this spec's hash it is up to date.
    return {"model": {"source": "s3://ecc-fleet/no-such-model"}, "corpus": {"uri": "s3://ecc-fleet/none.csv", "textColumn": "t",
                                                      "labelColumn": "l"},
            "students": [{"profile": p, "blocks": [0, 2] if p == "s02" else [1]} for p in PROFILES],
            "serving": {"mode": "none"}}


def put(store_client, bucket: str, key: str, data: bytes) -> None:
    store_client.put_object(bucket, key, io.BytesIO(data), len(data))


def publish(kube, store_client, bucket: str, ns: str, revision: int) -> None:
    """What a distillation would leave behind: bundle manifests of `revision`, and the status."""
    from kubernetes import client

    bundles = []
    for profile in PROFILES:
        m = c.BundleManifest(revision=revision, profile=profile, blocks=[0], labels=["a", "b"], base_model="tiny",
                             tokenizer_sha256="e" * 64, modules=[c.ModuleRef(name="embeddings", sha256=hashlib.sha256(b"e").hexdigest(), bytes=1)])
        raw = m.model_dump_json().encode()
        key = c.StoreLayout.bundle_manifest(ns, TEACHER, revision, profile)
        put(store_client, bucket, key, raw)
        bundles.append({"profile": profile, "manifestURI": f"s3://{bucket}/{key}",
                        "sha256": hashlib.sha256(raw).hexdigest(), "bytes": 1})
    h = td.spec_hash(td.parse_spec(teacher_spec()))  # up to date: the teacher controller distils nothing
    client.CustomObjectsApi(kube).patch_namespaced_custom_object_status(
        G, V, ns, TP, TEACHER, {"status": {"revision": revision, "specHash": h, "bundles": bundles}})


@pytest.fixture(scope="module")
def fleet(kube, ns, operator, cluster, store_client, exclude_label):
    from kubernetes import client

    custom = client.CustomObjectsApi(kube)
    # what an older release left behind: the fleet-wide store Secret (removed on upgrade)
    client.CoreV1Api(kube).create_namespaced_secret(ns, {"metadata": {"name": f"ecc-fleet-{FLEET}-store"},
                                                         "stringData": {c.StoreEnv.ACCESS_KEY: "old"}})
    custom.create_namespaced_custom_object(G, V, ns, TP, {"apiVersion": f"{G}/{V}", "kind": "CloudTeacher",
                                                          "metadata": {"name": TEACHER}, "spec": teacher_spec()})
    publish(kube, store_client, cluster.store.bucket, ns, 1)
    # Real agents run on the real edge nodes and report for them (they cannot load the fake
    # bundles, so they never report Ready on a revision); the test writes reports for the fake
    # nodes only, so the health gate is set to what the fake canaries alone can pass.
    nodes = edge_nodes(kube, exclude_label)
    tiered = list(nodes)
    canaries = fd.pick_canaries(tiered, 10)
    fake = [n for n in canaries if is_fake(n)]
    assert fake, f"no fake node among the canaries {canaries}: the gate could not pass"
    gate = 100 * len(fake) // len(canaries)
    custom.create_namespaced_custom_object(G, V, ns, FP, {
        "apiVersion": f"{G}/{V}", "kind": "EdgeFleet", "metadata": {"name": FLEET},
        "spec": {"teacherRef": {"name": TEACHER},
                 "nodeSelector": {"matchLabels": {c.EDGE_NODE_ROLE_LABEL: ""}, "matchExpressions": [
                     {"key": c.NODE_KIND_LABEL, "operator": "In", "values": [c.NODE_KIND_KWOK, c.NODE_KIND_REAL]},
                     {"key": exclude_label, "operator": "DoesNotExist"}]},
                 "tiers": [{"name": "big", "match": {"minCapacity": {"cpu": "2"}}, "profile": "s02"},
                           {"name": "rest", "profile": "s1"}],
                 "rollout": {"canaryPercent": 10, "healthGate": {"minHealthyPercent": gate, "timeoutSeconds": 600}},
                 "agent": {"reportIntervalSeconds": 60, "resources": {"requests": {"cpu": "10m"}}}}})
    return FLEET


def is_fake(node: str) -> bool:
    return node.startswith("ecc-edge-fake-")


def edge_nodes(kube, exclude_label: str | None = None) -> dict[str, dict]:
    from kubernetes import client

    sel = f"{c.EDGE_NODE_ROLE_LABEL},{c.NODE_KIND_LABEL} in ({c.NODE_KIND_KWOK},{c.NODE_KIND_REAL})"
    if exclude_label:
        sel += f",!{exclude_label}"
    out = {}
    for n in client.CoreV1Api(kube).list_node(label_selector=sel).items:
        out[n.metadata.name] = {"labels": n.metadata.labels, "cpu": n.status.allocatable.get("cpu")}
    return out


def fleet_status(kube, ns) -> dict:
    from kubernetes import client

    return client.CustomObjectsApi(kube).get_namespaced_custom_object(G, V, ns, FP, FLEET).get("status") or {}


def desired(store_client, bucket, ns, kube) -> c.DesiredState | None:
    """The desired state, if it is signed by the key the fleet's agents are given."""
    return signed_desired_state(store_client, bucket, kube, ns, FLEET)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def write_reports(store_client, bucket, ns, nodes, revision: int, seq: int, drift: float = 0.2) -> None:
    for name in nodes:
        r = c.AgentReport(node=name, fleet=FLEET, seq=seq, time=now_iso(), state="Ready", simulated=True,
                          revision=revision, drift_score=drift, bytes_down=1000, bytes_up=10)
        put(store_client, bucket, c.StoreLayout.agent_report(ns, FLEET, name), r.model_dump_json().encode())


def agent_pods(kube, ns) -> list:
    """The DaemonSet's pods on fake nodes (KWOK keeps them Running), one per node."""
    from kubernetes import client

    pods = client.CoreV1Api(kube).list_namespaced_pod(ns, label_selector=f"{fd.LABEL_FLEET}={FLEET}").items
    return [p for p in pods if p.spec.node_name and is_fake(p.spec.node_name) and not p.metadata.deletion_timestamp]


def pod_token(kube, ns, pod, audience: str = c.NodeIdentity.AUDIENCE) -> str:
    """What the kubelet mounts in the agent's pod: its ServiceAccount's token, bound to the pod."""
    from kubernetes import client

    req = client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(
        audiences=[audience], expiration_seconds=600,
        bound_object_ref=client.V1BoundObjectReference(kind="Pod", api_version="v1", name=pod.metadata.name,
                                                       uid=pod.metadata.uid)))
    sa = pod.spec.service_account_name or "default"
    return client.CoreV1Api(kube).create_namespaced_service_account_token(sa, ns, req).status.token


def node_client(operator, token: str, cluster):
    """A MinIO client with the credentials the operator issues for `token` (on loopback: the test
    runs on the host; the credentials name the endpoint pods use)."""
    from ecc_workloads.store import minio_client

    status, body = operator.node_credentials(token)
    assert status == 200, body
    creds = c.NodeStoreCredentials.model_validate(body)
    assert creds.endpoint == cluster.store_in_cluster.endpoint and creds.secure
    return minio_client(cluster.store.model_copy(update={
        "access_key": creds.access_key, "secret_key": creds.secret_key, "session_token": creds.session_token})), creds


denied = s3_outcome


# ---------------------------------------------------------------------------
# Tests (in order: they share the fleet)
# ---------------------------------------------------------------------------
def test_fleet_runs_a_daemonset_and_writes_the_desired_state(kube, ns, fleet, operator, cluster, store_client,
                                                             exclude_label):
    from kubernetes import client

    bucket = cluster.store.bucket
    nodes = edge_nodes(kube, exclude_label)
    assert len(nodes) >= 4, f"the cluster needs fake and real edge nodes: {sorted(nodes)}"
    ds_obj = wait_for("the agent DaemonSet", lambda: fd_daemonset(kube, ns), TIMEOUT, operator)
    assert ds_obj.metadata.owner_references[0].kind == "EdgeFleet" and ds_obj.metadata.owner_references[0].name == FLEET
    pod = ds_obj.spec.template.spec
    terms = pod.affinity.node_affinity.required_during_scheduling_ignored_during_execution.node_selector_terms
    exprs = {(e.key, e.operator, tuple(e.values or ())) for e in terms[0].match_expressions}
    assert exprs == {(c.EDGE_NODE_ROLE_LABEL, "In", ("",)),
                     (c.NODE_KIND_LABEL, "In", (c.NODE_KIND_KWOK, c.NODE_KIND_REAL)),
                     (exclude_label, "DoesNotExist", ())}
    assert [(t.key, t.operator, t.effect) for t in pod.tolerations] == [(c.EDGE_TAINT_KEY, "Exists", "NoSchedule")]
    ctr = pod.containers[0]
    assert ctr.command + ctr.args == ["python", "-m", "ecc_workloads.cli.app", "edge-agent"]
    assert not ctr.env_from and pod.automount_service_account_token is False
    env = {e.name: e for e in ctr.env}
    assert env[c.AgentEnv.CREDENTIALS_URL].value.startswith("https://")
    assert env[c.AgentEnv.CREDENTIALS_URL].value.endswith(c.NodeIdentity.PATH)
    assert env[c.AgentEnv.CREDENTIALS_CA].value == operator.node_credentials_ca()  # what its certificate chains to
    assert c.StoreEnv.ACCESS_KEY not in env and c.StoreEnv.SECRET_KEY not in env
    token = next(v for v in pod.volumes if v.name == "node-identity").projected.sources[0].service_account_token
    assert token.audience == c.NodeIdentity.AUDIENCE
    assert env[c.RuntimeEnv.NODE_NAME].value_from.field_ref.field_path == "spec.nodeName"
    assert env[c.AgentEnv.FLEET].value == FLEET and env[c.AgentEnv.FLEET_NAMESPACE].value == ns
    assert ctr.readiness_probe.http_get.path == c.AgentPaths.READY
    assert ds_obj.spec.template.metadata.annotations[c.PROMETHEUS_SCRAPE_ANNOTATION] == "true"

    ds = wait_for("the desired state", lambda: desired(store_client, bucket, ns, kube), TIMEOUT, operator)
    assert (ds.target_revision, ds.wave, ds.previous_revision, ds.teacher) == (1, "all", None, TEACHER)
    want = {n: ("big" if fd.parse_quantity(info["cpu"]) >= 2 else "rest") for n, info in nodes.items()}
    assert ds.node_tiers == want
    assert {t.tier: t.manifest_key for t in ds.target} == {
        "big": c.StoreLayout.bundle_manifest(ns, TEACHER, 1, "s02"),
        "rest": c.StoreLayout.bundle_manifest(ns, TEACHER, 1, "s1")}
    for tier in ds.target:  # each tier pins the bytes of its manifest
        assert hashlib.sha256(read_object(store_client, bucket, tier.manifest_key)).hexdigest() == tier.manifest_sha256
    # the key agents are given is the public half of the one in the operator's Secret (made on first start)
    secret = client.CoreV1Api(kube).read_namespaced_secret(c.ReleaseSigning.SECRET_NAME, c.SYSTEM_NAMESPACE)
    pem = base64.b64decode(secret.data[c.ReleaseSigning.SECRET_KEY])
    assert release_signing.public_key_text(release_signing.signer_from_pem(pem)) == env[c.AgentEnv.RELEASE_KEYS].value
    # a desired state written past the operator (here with the store's admin credentials) is replaced
    # by a signed one, at a higher generation than any agent has seen
    forged = ds.model_copy(update={"generation": ds.generation + 100, "teacher_url": "http://attacker.invalid"})
    put(store_client, bucket, c.StoreLayout.desired_state(ns, FLEET), forged.model_dump_json().encode())
    again = wait_for("the forged desired state to be replaced", lambda: desired(store_client, bucket, ns, kube),
                     TIMEOUT, operator)
    assert again.generation > ds.generation and again.teacher_url == ds.teacher_url
    st = wait_for("status with node counts", lambda: (s := fleet_status(kube, ns)).get("targetRevision") == 1 and s,
                  TIMEOUT, operator)
    assert st["nodes"]["matched"] == len(nodes) and st["phase"] == "RollingOut"
    # kopf adds its finalizer on the event after the one that marked the fleet active
    wait_for("an active fleet's finalizer (for its store cleanup)",
             lambda: (o := client.CustomObjectsApi(kube).get_namespaced_custom_object(G, V, ns, FP, FLEET))
             ["metadata"].get("finalizers") and o, TIMEOUT, operator)
    # Agent pods are scheduled onto the fleet's nodes (their readiness is the agents' business).
    pods = wait_for("agent pods", lambda: client.CoreV1Api(kube).list_namespaced_pod(
        ns, label_selector=f"{fd.LABEL_FLEET}={FLEET}").items, TIMEOUT, operator)
    assert {p.spec.node_name for p in pods if p.spec.node_name} <= set(nodes)


def fd_daemonset(kube, ns):
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    try:
        return client.AppsV1Api(kube).read_namespaced_daemon_set(c.fleet_agent_name(FLEET), ns)
    except ApiException:
        return None


def test_each_node_may_write_only_its_own_report_and_deltas(kube, ns, fleet, operator, cluster, store_client):
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    bucket = cluster.store.bucket
    wait_for("the desired state", lambda: desired(store_client, bucket, ns, kube), TIMEOUT, operator)
    with pytest.raises(ApiException) as gone:  # no fleet-wide credential anywhere (an old one is removed)
        client.CoreV1Api(kube).read_namespaced_secret(f"ecc-fleet-{FLEET}-store", ns)
    assert gone.value.status == 404
    pods = wait_for("agent pods on two fake nodes", lambda: len(p := agent_pods(kube, ns)) >= 2 and p, TIMEOUT,
                    operator)
    a, b = pods[0], pods[1]
    node_a, node_b = a.spec.node_name, b.spec.node_name
    mc, creds = node_client(operator, pod_token(kube, ns, a), cluster)
    assert (creds.namespace, creds.fleet, creds.node) == (ns, FLEET, node_a)
    # Someone else's objects, written with the admin credentials.
    other_fleet = c.StoreLayout.desired_state(ns, "other-fleet")
    put(store_client, bucket, other_fleet, b"{}")
    job_report = c.StoreLayout.job_report(ns, TEACHER, "shop-distill-r1-abc")
    put(store_client, bucket, job_report, b"{}")
    put(store_client, bucket, c.StoreLayout.agent_report(ns, FLEET, node_b), b"{}")

    def get(key):
        return lambda: mc.get_object(bucket, key).read()

    def write(key):
        return lambda: mc.put_object(bucket, key, io.BytesIO(b"x"), 1)

    assert denied(get(c.StoreLayout.desired_state(ns, FLEET))) == "allowed"
    assert denied(get(c.StoreLayout.bundle_manifest(ns, TEACHER, 1, "s1"))) == "allowed"
    report = c.AgentReport(node=node_a, fleet=FLEET, seq=1, time=now_iso(), state="Starting").model_dump_json()
    assert denied(lambda: mc.put_object(bucket, c.StoreLayout.agent_report(ns, FLEET, node_a),
                                        io.BytesIO(report.encode()), len(report.encode()))) == "allowed"
    assert denied(write(c.StoreLayout.delta(ns, FLEET, 1, node_a))) == "allowed"
    # node A cannot pose as node B, nor read what B wrote
    assert denied(write(c.StoreLayout.agent_report(ns, FLEET, node_b))) == "AccessDenied"
    assert denied(write(c.StoreLayout.delta(ns, FLEET, 1, node_b))) == "AccessDenied"
    assert denied(write(c.StoreLayout.delta(ns, FLEET, 1, f"{node_a}-twin"))) == "AccessDenied"
    assert denied(get(c.StoreLayout.agent_report(ns, FLEET, node_b))) == "AccessDenied"
    assert denied(get(other_fleet)) == "AccessDenied"
    assert denied(get(job_report)) == "AccessDenied"
    assert denied(write(c.StoreLayout.module("ab" * 32))) == "AccessDenied"
    assert denied(write(c.StoreLayout.desired_state(ns, FLEET))) == "AccessDenied"
    assert denied(write(c.StoreLayout.bundle_manifest(ns, TEACHER, 1, "s1"))) == "AccessDenied"
    assert denied(lambda: mc.remove_object(bucket, c.StoreLayout.agent_report(ns, FLEET, node_a))) == "AccessDenied"
    assert denied(lambda: list(mc.list_objects(bucket, prefix=f"fleets/{ns}/")))  == "AccessDenied"
    # B's own token gets B's credentials, which may write B's keys
    mb, creds_b = node_client(operator, pod_token(kube, ns, b), cluster)
    assert creds_b.node == node_b and creds_b.access_key != creds.access_key
    assert denied(lambda: mb.put_object(bucket, c.StoreLayout.delta(ns, FLEET, 1, node_b), io.BytesIO(b"x"), 1)) \
        == "allowed"
    store_client.remove_object(bucket, c.StoreLayout.agent_report(ns, FLEET, node_a))
    store_client.remove_object(bucket, c.StoreLayout.agent_report(ns, FLEET, node_b))


def test_tokens_that_are_not_an_agents_are_refused(kube, ns, fleet, operator, cluster):
    from kubernetes import client

    core = client.CoreV1Api(kube)
    a = wait_for("an agent pod", lambda: agent_pods(kube, ns), TIMEOUT, operator)[0]
    assert operator.node_credentials(None)[0] == 401
    assert operator.node_credentials("not-a-token")[0] == 401
    # the endpoint speaks TLS only: a plaintext request gets no answer, let alone credentials
    plain = urllib.request.Request(f"http://127.0.0.1:{operator.node_credentials_port}{c.NodeIdentity.PATH}",
                                   method="POST", headers={"Authorization": f"Bearer {pod_token(kube, ns, a)}"})
    with pytest.raises((urllib.error.URLError, ConnectionError, http.client.HTTPException)):
        urllib.request.urlopen(plain, timeout=10).read()
    # the same pod, but a token for the API server's own audience
    status, body = operator.node_credentials(pod_token(kube, ns, a, audience="https://kubernetes.default.svc"))
    assert (status, body["reason"]) == (401, "InvalidToken"), body
    # a pod on the same node that is not the fleet's agent (KWOK plays it)
    impostor = core.create_namespaced_pod(ns, {"metadata": {"name": "impostor", "labels": {fd.LABEL_FLEET: FLEET}},
                                               "spec": {"nodeName": a.spec.node_name, "tolerations": [
                                                   {"operator": "Exists"}],
                                                   "containers": [{"name": "c", "image": "impostor"}]}})
    try:
        status, body = operator.node_credentials(pod_token(kube, ns, impostor))
        assert (status, body["reason"]) == (403, "NotAnAgent"), body
    finally:
        core.delete_namespaced_pod("impostor", ns, grace_period_seconds=0)
    # a deleted agent pod's token dies with it: the API server no longer accepts it
    token = pod_token(kube, ns, a)
    assert operator.node_credentials(token)[0] == 200
    core.delete_namespaced_pod(a.metadata.name, ns, grace_period_seconds=0)
    wait_for("the deleted pod's token refused", lambda: operator.node_credentials(token)[0] == 401, TIMEOUT, operator)
    assert 'ecc_operator_node_credentials_total{result="NotAnAgent"}' in operator.metrics()


def test_reports_fold_into_status_and_metrics(kube, ns, fleet, operator, cluster, store_client, exclude_label):
    bucket = cluster.store.bucket
    nodes = edge_nodes(kube, exclude_label)
    fake = [n for n in nodes if is_fake(n)]
    write_reports(store_client, bucket, ns, fake, revision=1, seq=1, drift=0.2)

    def folded():
        s = fleet_status(kube, ns)
        return s if (s.get("nodes") or {}).get("onTarget") == len(fake) and s["nodes"]["ready"] >= len(fake) else None

    st = wait_for("every fake node on revision 1", folded, TIMEOUT, operator)
    assert st["nodes"]["matched"] == len(nodes) and st["nodes"]["failed"] <= len(nodes) - len(fake)
    assert st["targetRevision"] == 1 and st["driftScore"] == pytest.approx(0.2)
    assert st["bytesMoved"] >= 1000 * len(fake) and st["lastReportTime"]
    tiers = {t["name"]: t for t in st["tiers"]}
    big = [n for n, i in nodes.items() if fd.parse_quantity(i["cpu"]) >= 2]
    assert tiers["big"]["matched"] == len(big) and tiers["rest"]["matched"] == len(nodes) - len(big)
    assert tiers["big"]["onTarget"] == len([n for n in big if is_fake(n)])
    text = operator.metrics()
    lab = f'fleet="{FLEET}",namespace="{ns}"'
    assert f'ecc_fleet_nodes{{{lab},state="on_target"}} {float(len(fake))}' in text
    assert f'ecc_fleet_nodes{{{lab},state="matched"}} {float(len(nodes))}' in text
    assert f"ecc_fleet_target_revision{{{lab}}} 1.0" in text
    assert f'ecc_fleet_nodes_by_revision{{{lab},revision="1"}} {float(len(fake))}' in text


def test_a_new_revision_goes_canary_then_all(kube, ns, fleet, operator, cluster, store_client, exclude_label):
    bucket = cluster.store.bucket
    nodes = edge_nodes(kube, exclude_label)
    fake = [n for n in nodes if is_fake(n)]
    publish(kube, store_client, bucket, ns, 2)
    ds = wait_for("the canary wave", lambda: (d := desired(store_client, bucket, ns, kube)) and d.target_revision == 2
                  and d, TIMEOUT, operator)
    assert ds.wave == "canary" and ds.previous_revision == 1
    n = math.ceil(len(nodes) * 10 / 100)
    assert ds.canary_nodes == sorted(sorted(nodes, key=lambda x: (c.rollout_bucket(x), x))[:n])
    assert ds.revision_for(ds.canary_nodes[0]) == 2
    assert ds.revision_for(next(x for x in nodes if x not in ds.canary_nodes)) == 1
    st = wait_for("status Canary", lambda: (s := fleet_status(kube, ns)).get("rolloutWave") == "Canary" and s,
                  TIMEOUT, operator)
    assert st["phase"] == "RollingOut" and st["targetRevision"] == 2 and st["nodes"]["onTarget"] == 0
    time.sleep(2 * fleet_handlers_resync())
    assert desired(store_client, bucket, ns, kube).wave == "canary", "the gate passed before any canary was Ready"
    write_reports(store_client, bucket, ns, [x for x in ds.canary_nodes if is_fake(x)], revision=2, seq=2)
    ds2 = wait_for("the gate to pass", lambda: (d := desired(store_client, bucket, ns, kube)) and d.wave == "all" and d,
                   TIMEOUT, operator)
    assert ds2.target_revision == 2 and ds2.generation > ds.generation and ds2.canary_nodes == []
    write_reports(store_client, bucket, ns, fake, revision=2, seq=3)
    st = wait_for("every fake node on revision 2", lambda: (s := fleet_status(kube, ns))["nodes"]["onTarget"]
                  == len(fake) and s.get("targetRevision") == 2 and s, TIMEOUT, operator)
    assert st["rolloutWave"] in ("Remaining", "Complete") and st["revisionSkew"] == 0
    from kubernetes import client

    events = client.CoreV1Api(kube).list_namespaced_event(
        ns, field_selector=f"involvedObject.name={FLEET},involvedObject.kind=EdgeFleet").items
    reasons = {e.reason for e in events}
    assert {"RolloutStarted", "CanaryPassed"} <= reasons, reasons


def fleet_handlers_resync() -> float:
    from ecc_operator.controllers.fleet import handlers as fleet_handlers

    return fleet_handlers.RESYNC_SECONDS


def test_a_relabelled_node_leaves_and_rejoins_the_fleet(kube, ns, fleet, operator, cluster, store_client,
                                                          exclude_label):
    from kubernetes import client

    bucket = cluster.store.bucket
    nodes = edge_nodes(kube, exclude_label)
    leaver = sorted(n for n in nodes if n.startswith("ecc-edge-fake-"))[0]
    core = client.CoreV1Api(kube)
    core.patch_node(leaver, {"metadata": {"labels": {exclude_label: "true"}}})
    ds = wait_for("the node to leave", lambda: (d := desired(store_client, bucket, ns, kube)) and leaver not in d.node_tiers
                  and d, 20, operator)
    assert len(ds.node_tiers) == len(nodes) - 1
    st = wait_for("the count to drop", lambda: (s := fleet_status(kube, ns))["nodes"]["matched"] == len(nodes) - 1
                  and s, 20, operator)
    assert st["nodes"]["onTarget"] == len([n for n in nodes if is_fake(n)]) - 1
    core.patch_node(leaver, {"metadata": {"labels": {exclude_label: None}}})
    wait_for("the node to rejoin", lambda: (d := desired(store_client, bucket, ns, kube)) and leaver in d.node_tiers,
             20, operator)


def test_deleting_the_fleet_removes_its_store_prefix_and_user(kube, ns, fleet, operator, cluster, store_client):
    from kubernetes import client

    bucket = cluster.store.bucket
    mc, _ = node_client(operator, pod_token(kube, ns, wait_for("an agent pod", lambda: agent_pods(kube, ns),
                                                               TIMEOUT, operator)[0]), cluster)
    prefix = c.StoreLayout.fleet_prefix(ns, FLEET)
    assert list(store_client.list_objects(bucket, prefix=prefix, recursive=True))
    custom = client.CustomObjectsApi(kube)
    custom.delete_namespaced_custom_object(G, V, ns, FP, FLEET)
    wait_for("the fleet to go", lambda: not custom.list_namespaced_custom_object(G, V, ns, FP)["items"], TIMEOUT,
             operator)
    assert not list(store_client.list_objects(bucket, prefix=prefix, recursive=True))
    code = denied(lambda: mc.get_object(bucket, c.StoreLayout.bundle_manifest(ns, TEACHER, 1, "s1")).read())
    assert code in ("InvalidAccessKeyId", "AccessDenied"), code
    left = [line for line in operator.metrics().splitlines()
            if line.startswith("ecc_fleet_") and f'namespace="{ns}"' in line]
    assert not left, left
    assert operator.alive()
