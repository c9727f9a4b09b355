"""The operator against the real local cluster: a CloudTeacher is distilled by a real Job on the
cloud worker, its bundles are published (hashes checked against MinIO), KServe's real controller
serves the teacher through the chart's ClusterServingRuntime (the bundle fetched by `ecc
fetch-bundle` as KServe's storage initializer) and it answers v1 and v2 requests over HTTPS only,
with a certificate the operator issued from its CA (recorded in status.servingCertificate, in the
Secret <teacher>-serving-tls; clients inside the cluster check it against that CA); a broken corpus
ends Degraded without a crash loop; a spec edit makes revision 2 and the InferenceService rolls to
it while a client inside the cluster keeps asking, without one failed request; a serving-mode
switch makes no revision; `auto` without a running KServe controller falls back to a Deployment
and says so; the operator adopts a running Job after a restart; deletion removes children and the
store prefix; missing references are reported. The operator runs as a subprocess
(`python -m ecc_operator`) with the admin kubeconfig.

Distillation uses the `tiny` built-in model on a 160-row corpus slice: one Job takes ~30 s.
"""

from __future__ import annotations

import base64
import hashlib
import json
import ssl
import sys
import threading
import time
import urllib.request
import uuid

import pytest

from ecc_workloads import contracts as c

from ecc_operator import workloads
from ecc_operator.controllers.teacher import serving as teacher_serving
from ecc_operator.controllers.teacher import decisions as td
from ecc_operator.api.cloudteacher import CLOUD_TEACHER
from ecc_operator.api.edgefleet import EDGE_FLEET

from operatorkit import OperatorProcess, bitext_slice, delete_custom_objects, upload_corpus, wait_for

pytestmark = pytest.mark.cluster
NAMESPACE_PREFIX = "op"  # the `ns` fixture of tests/cluster/conftest.py

G, V, P = CLOUD_TEACHER.group, CLOUD_TEACHER.version, CLOUD_TEACHER.plural
READY_TIMEOUT_S = 240
CORPUS_KEY = "test-corpora/operator-small.csv"


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def corpus_uri(cluster, store_client):
    """A 160-row, 4-intent slice of the packaged Bitext corpus in MinIO."""
    return upload_corpus(cluster, store_client, CORPUS_KEY, bitext_slice(intents=4, rows_per_intent=40))


@pytest.fixture(scope="module")
def kserve_runtime(cluster, kube):
    """The chart's ClusterServingRuntime and ClusterStorageContainer (the test runs no chart)."""
    from kubernetes import client

    from ecc_operator import kserve_runtime as kr

    custom = client.CustomObjectsApi(kube)
    for m in kr.manifests(c.DEFAULT_WORKLOAD_IMAGE):
        plural = m["kind"].lower() + "s"
        custom.patch_cluster_custom_object("serving.kserve.io", "v1alpha1", plural, m["metadata"]["name"], m,
                                           _content_type="application/apply-patch+yaml",
                                           field_manager="ecc-tests", force=True)
    return kr


@pytest.fixture(scope="module")
def operator(cluster, kube, ns, crds_installed, kserve_runtime, tmp_path_factory):
    op = OperatorProcess(cluster, ns, tmp_path_factory.mktemp("operator") / "operator.log")
    op.start()
    yield op
    # CloudTeachers carry the operator's cleanup finalizer: delete them while it still runs.
    delete_custom_objects(kube, ns, [P])
    op.stop()
    print(f"operator log tail:\n{op.log_tail(60)}", file=sys.stderr)


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
def teacher(name: str, ns: str, corpus: str, **overrides) -> dict:
    spec = {
        "model": {"source": "tiny"},
        "corpus": {"uri": corpus, "textColumn": "instruction", "labelColumn": "intent", "responseColumn": "response"},
        "students": [{"profile": "s02", "blocks": [0, 2]}],
        "distillation": {"epochs": 1, "backoffLimit": 0},
        "serving": {"mode": "kserve"},
    }
    spec.update(overrides)
    return {"apiVersion": f"{G}/{V}", "kind": "CloudTeacher", "metadata": {"name": name, "namespace": ns}, "spec": spec}


class PhaseRecorder:
    """Every phase a CloudTeacher's status goes through, from a watch started before it exists."""

    def __init__(self, kube, ns: str, name: str):
        from kubernetes import client, watch

        self.phases: list[str] = []
        self.times: list[tuple[str, float]] = []
        self._watch = watch.Watch()
        custom = client.CustomObjectsApi(kube)

        def run():
            try:
                for ev in self._watch.stream(custom.list_namespaced_custom_object, G, V, ns, P,
                                             field_selector=f"metadata.name={name}", timeout_seconds=600):
                    phase = ((ev["object"] or {}).get("status") or {}).get("phase")
                    if phase and (not self.phases or self.phases[-1] != phase):
                        self.phases.append(phase)
                        self.times.append((phase, time.monotonic()))
            except Exception:  # noqa: BLE001 - the watch ends when the test stops it
                pass

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        time.sleep(0.5)

    def stop(self) -> None:
        self._watch.stop()

    def seconds_between(self, first: str, last: str) -> float:
        at = dict(reversed(self.times))
        assert first in at and last in at, self.times
        return max(t for p, t in self.times if p == last) - at[first]


def get(kube, ns: str, name: str) -> dict | None:
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    try:
        return client.CustomObjectsApi(kube).get_namespaced_custom_object(G, V, ns, P, name)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def status_of(kube, ns, name) -> dict:
    return (get(kube, ns, name) or {}).get("status") or {}


def wait_phase(kube, ns, name, phase, op, timeout=READY_TIMEOUT_S, revision: int | None = None) -> dict:
    def check():
        st = status_of(kube, ns, name)
        ok = st.get("phase") == phase and (revision is None or st.get("revision") == revision)
        return st if ok else None

    return wait_for(f"{ns}/{name} phase {phase} revision {revision}", check, timeout, op)


def teacher_jobs(kube, ns, name) -> list:
    from kubernetes import client

    return client.BatchV1Api(kube).list_namespaced_job(ns, label_selector=f"{workloads.LABEL_TEACHER}={name}").items


def events_for(kube, ns, name) -> list:
    from kubernetes import client

    evs = client.CoreV1Api(kube).list_namespaced_event(
        ns, field_selector=f"involvedObject.name={name},involvedObject.kind=CloudTeacher").items
    return [(e.type, e.reason, e.message) for e in evs]


def condition(st: dict, ctype: str) -> dict:
    return next(x for x in st.get("conditions") or [] if x["type"] == ctype)


def v2_infer(kube, ns: str, teacher_name: str, text: str, proxy: str, ca_pem: str, selector: str | None = None) -> dict:
    """POST a v2 request over HTTPS to a serving pod by its address, through the gateway's proxy (the
    host has no route to pods). The certificate must chain to `ca_pem`; its names are the Services',
    not the pod's IP, so the host name is not checked here (the clients in pods below check it)."""
    from kubernetes import client

    pods = client.CoreV1Api(kube).list_namespaced_pod(
        ns, label_selector=selector or f"{workloads.LABEL_TEACHER}={teacher_name},{workloads.LABEL_COMPONENT}=serving").items
    running = [p for p in pods if p.status.phase == "Running" and p.status.pod_ip and not p.metadata.deletion_timestamp
               and any(cd.type == "Ready" and cd.status == "True" for cd in p.status.conditions or [])]
    assert running, f"no running serving pod for {teacher_name}: {[p.status.phase for p in pods]}"
    body = json.dumps({"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": [text]}]}).encode()
    req = urllib.request.Request(
        f"https://{running[0].status.pod_ip}:{teacher_serving.SERVING_PORT}/v2/models/{teacher_name}/infer", data=body,
        headers={"content-type": "application/json"})
    ctx = ssl.create_default_context(cadata=ca_pem)
    ctx.check_hostname = False
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"https": proxy}),
                                         urllib.request.HTTPSHandler(context=ctx))
    return json.loads(opener.open(req, timeout=30).read())


def run_in_a_pod(kube, ns: str, script: str, args: list[str], op, timeout: float = 90, what: str = "client") -> str:
    """Run `python -c script args` in a pod on the cloud worker (a client inside the cluster);
    its log once it ends."""
    from kubernetes import client

    core = client.CoreV1Api(kube)
    name = f"{what}-{uuid.uuid4().hex[:6]}"
    core.create_namespaced_pod(ns, {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"restartPolicy": "Never", "nodeSelector": {c.CLOUD_NODE_ROLE_LABEL: ""},
                 "containers": [{"name": "c", "image": c.DEFAULT_WORKLOAD_IMAGE,
                                 "command": ["python", "-c", script, *args]}]}})
    pod = wait_for(f"{what} pod {name} to finish",
                   lambda: (p := core.read_namespaced_pod(name, ns)).status.phase in ("Succeeded", "Failed") and p,
                   timeout, op)
    log = core.read_namespaced_pod_log(name, ns)
    assert pod.status.phase == "Succeeded", f"{what} pod failed: {log[-2000:]}"
    return log


POST_SCRIPT = ("import ssl, sys, urllib.request; "
               "r = urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), "
               "headers={'content-type': 'application/json'}); "
               "ctx = ssl.create_default_context(cadata=sys.argv[3]); "
               "print(urllib.request.urlopen(r, timeout=30, context=ctx).read().decode())")
"""POST argv[2] to argv[1] over HTTPS, the certificate checked (chain and host name) against the CA argv[3]."""

PLAINTEXT_SCRIPT = ("import sys, urllib.request\n"
                    "try:\n"
                    "    urllib.request.urlopen(sys.argv[1], timeout=10).read()\n"
                    "    print('ANSWERED')\n"
                    "except Exception as exc:\n"
                    "    print('NO-ANSWER', type(exc).__name__, exc)\n")
"""GET argv[1] (an http:// URL): a server that speaks HTTPS only gives no HTTP answer."""


def teacher_ca(op) -> str:
    """What agents check the served teacher against: the ca.crt of the operator's TLS Secret."""
    return op.node_credentials_ca()


def v2_infer_from_a_pod(kube, ns: str, url: str, model: str, text: str, op) -> dict:
    """POST a v2 request to `url` (the Service's DNS name) from a pod, as a client inside the cluster would."""
    body = json.dumps({"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": [text]}]})
    log = run_in_a_pod(kube, ns, POST_SCRIPT, [f"{url}/v2/models/{model}/infer", body, teacher_ca(op)], op)
    return json.loads(log.strip().splitlines()[-1])


def v1_predict_from_a_pod(kube, ns: str, url: str, model: str, text: str, op) -> dict:
    log = run_in_a_pod(kube, ns, POST_SCRIPT, [f"{url}/v1/models/{model}:predict", json.dumps({"instances": [text]}),
                                               teacher_ca(op)], op)
    return json.loads(log.strip().splitlines()[-1])


def check_serving_certificate(kube, ns: str, teacher_name: str, st: dict, op) -> None:
    """The operator issued the server's certificate from its CA into `<teacher>-serving-tls`, owned by
    the teacher, for the Services of both modes, and recorded it in status.servingCertificate."""
    from cryptography import x509
    from kubernetes import client

    from ecc_operator.credentials import serving_tls

    record = st["servingCertificate"]
    secret = client.CoreV1Api(kube).read_namespaced_secret(f"{teacher_name}-serving-tls", ns)
    assert secret.type == "kubernetes.io/tls" and secret.metadata.owner_references[0].name == teacher_name
    assert set(secret.data) == {"tls.crt", "tls.key", "ca.crt"}
    cert_pem = base64.b64decode(secret.data["tls.crt"])
    assert record["secretName"] == f"{teacher_name}-serving-tls" and record["sha256"] == hashlib.sha256(cert_pem).hexdigest()
    ca = x509.load_pem_x509_certificate(teacher_ca(op).encode())
    leaf = x509.load_pem_x509_certificate(cert_pem)
    leaf.verify_directly_issued_by(ca)
    assert set(record["dnsNames"]) == set(serving_tls.wanted_names(ns, f"{teacher_name}-serving"))


LOAD_SCRIPT = """
import json, ssl, sys, time, urllib.request
url, body, limit_s, settle = sys.argv[1], sys.argv[2].encode(), float(sys.argv[3]), int(sys.argv[4])
ctx = ssl.create_default_context(cadata=sys.argv[5])
ok, errors, revisions, streak, t0 = 0, [], {}, 0, time.time()
print("started", flush=True)
while time.time() - t0 < limit_s:
    try:
        req = urllib.request.Request(url, data=body, headers={"content-type": "application/json"})
        rev = json.loads(urllib.request.urlopen(req, timeout=10, context=ctx).read())["parameters"]["revision"]
        ok += 1
        revisions[rev] = revisions.get(rev, 0) + 1
        streak = streak + 1 if rev == 2 else 0
        if streak >= settle:
            break
    except Exception as exc:
        errors.append(f"{time.time() - t0:.1f}s {type(exc).__name__}: {exc}"[:300])
    time.sleep(0.05)
print(json.dumps({"ok": ok, "errors": len(errors), "first_errors": errors[:5], "revisions": revisions,
                  "seconds": round(time.time() - t0, 1)}))
"""


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------
def test_teacher_is_distilled_published_and_served(kube, ns, operator, corpus_uri, cluster, store_client):
    from kubernetes import client

    rec = PhaseRecorder(kube, ns, "shop")
    client.CustomObjectsApi(kube).create_namespaced_custom_object(G, V, ns, P, teacher("shop", ns, corpus_uri))
    st = wait_phase(kube, ns, "shop", "Ready", operator, revision=1)
    time.sleep(1)
    rec.stop()
    assert rec.phases[:2] == ["Pending", "Distilling"] and rec.phases[-1] == "Ready", rec.phases
    published_to_ready = rec.seconds_between("Publishing", "Ready")
    print(f"revision 1 published -> InferenceService Ready (teacher Ready): {published_to_ready:.1f} s")

    # The distillation really ran: a Job owned by the teacher, on the cloud worker, Succeeded.
    obj = get(kube, ns, "shop")
    jobs = teacher_jobs(kube, ns, "shop")
    assert [j.metadata.name for j in jobs] == [st["lastJob"]] and st["lastJob"].startswith("shop-distill-r1-")
    job = jobs[0]
    assert job.status.succeeded == 1
    owner = job.metadata.owner_references[0]
    assert (owner.kind, owner.name, owner.uid, owner.controller) == ("CloudTeacher", "shop", obj["metadata"]["uid"], True)
    pods = client.CoreV1Api(kube).list_namespaced_pod(ns, label_selector=f"job-name={job.metadata.name}").items
    assert pods and all(p.spec.node_name in cluster.real_nodes and p.spec.node_name.startswith("ecc-cloud-")
                        for p in pods)

    # Status: revision, conditions, bundles whose hashes match the objects in MinIO.
    assert st["revision"] == 1 and st["observedGeneration"] == obj["metadata"]["generation"]
    assert condition(st, "Ready")["status"] == "True" and condition(st, "Degraded")["status"] == "False"
    assert condition(st, "Ready")["observedGeneration"] == obj["metadata"]["generation"]
    assert {b["profile"] for b in st["bundles"]} == {"teacher", "s02"}
    for b in st["bundles"]:
        bucket, _, key = b["manifestURI"][len("s3://"):].partition("/")
        resp = store_client.get_object(bucket, key)
        raw = resp.read()
        resp.close()
        assert hashlib.sha256(raw).hexdigest() == b["sha256"], b
        manifest = c.BundleManifest.model_validate_json(raw)
        assert manifest.revision == 1 and sum(m.bytes for m in manifest.modules) == b["bytes"] > 0
        assert 0 <= b["accuracy"] <= 1

    # Served by KServe's controller: an InferenceService on the chart's runtime, the bundle fetched
    # and verified by `ecc fetch-bundle` (KServe's storage initializer) with a read-only store user.
    # KServe's address (http://, port 80) rewritten: the server speaks HTTPS only, on the same port
    assert st["servingURL"] == f"https://shop-serving-predictor.{ns}.svc.cluster.local:80" and st["servingProtocol"] == "v2"
    check_serving_certificate(kube, ns, "shop", st, operator)
    kserve = condition(st, "KServe")
    assert (kserve["status"], kserve["reason"]) == ("True", "InferenceService"), kserve
    isvc = client.CustomObjectsApi(kube).get_namespaced_custom_object(teacher_serving.KSERVE_GROUP, teacher_serving.KSERVE_VERSION, ns,
                                                                      teacher_serving.KSERVE_PLURAL, "shop-serving")
    assert isvc["metadata"]["ownerReferences"][0]["name"] == "shop"
    model = isvc["spec"]["predictor"]["model"]
    teacher_bundle = next(b for b in st["bundles"] if b["profile"] == "teacher")
    assert model["storageUri"] == teacher_bundle["manifestURI"].replace("s3://", "ecc-bundle://", 1)
    assert model["runtime"] == "ecc-teacher" and isvc["status"]["modelStatus"]["states"]["activeModelState"] == "Loaded"
    pods = client.CoreV1Api(kube).list_namespaced_pod(
        ns, label_selector="serving.kserve.io/inferenceservice=shop-serving").items
    assert pods and pods[0].spec.node_name.startswith("ecc-cloud-")
    init = {ctr.name: ctr for ctr in pods[0].spec.init_containers or []}["storage-initializer"]
    assert init.image == c.DEFAULT_WORKLOAD_IMAGE and init.command == ["ecc", "fetch-bundle"]
    injected = {e.name: e.value_from.secret_key_ref.name for e in init.env or [] if e.value_from}
    assert injected == {"AWS_ACCESS_KEY_ID": "shop-serving-store", "AWS_SECRET_ACCESS_KEY": "shop-serving-store"}
    server = {ctr.name: ctr for ctr in pods[0].spec.containers}["kserve-container"]
    assert not server.env_from and "AWS_SECRET_ACCESS_KEY" not in {e.name for e in server.env or []}
    assert {e.name: e.value for e in server.env or []}[c.RuntimeEnv.TLS_CERT_FILE] == c.TeacherTLS.cert_path()
    assert server.readiness_probe.http_get.scheme == "HTTPS"
    assert pods[0].metadata.annotations["ecc.dev/serving-certificate-sha256"] == st["servingCertificate"]["sha256"]
    init_log = client.CoreV1Api(kube).read_namespaced_pod_log(pods[0].metadata.name, ns, container="storage-initializer")
    assert "profile teacher revision 1" in init_log, init_log
    out = v2_infer(kube, ns, "shop", "I want to cancel my order", cluster.gateway_proxy, teacher_ca(operator),
                   selector="serving.kserve.io/inferenceservice=shop-serving")
    names = {o["name"]: o for o in out["outputs"]}
    assert names["intent"]["data"][0] in names["labels"]["data"]
    assert out["parameters"]["revision"] == 1
    # ... and a client inside the cluster reaches it at that URL, in both protocols, by the teacher's name.
    inside = v2_infer_from_a_pod(kube, ns, st["servingURL"], "shop", "where is my refund", operator)
    assert inside["parameters"]["revision"] == 1 and inside["model_name"] == "shop"
    # The distillation Job wrote the reply corpus (fetched into the model directory), so the teacher
    # suggests an agent's answer.
    replies = {o["name"]: o for o in inside["outputs"]}["suggested_reply"]["data"]
    assert replies[0], inside
    v1 = v1_predict_from_a_pod(kube, ns, st["servingURL"], "shop", "where is my refund", operator)
    assert v1["predictions"][0]["intent"] == {o["name"]: o for o in inside["outputs"]}["intent"]["data"][0]
    # plaintext gets no HTTP answer
    plain = run_in_a_pod(kube, ns, PLAINTEXT_SCRIPT,
                         [st["servingURL"].replace("https://", "http://") + "/v2/health/ready"], operator)
    assert "NO-ANSWER" in plain and "ANSWERED" not in plain.replace("NO-ANSWER", ""), plain

    # Events for kubectl describe, and the metrics endpoint counts what happened.
    reasons = {e[1] for e in events_for(kube, ns, "shop")}
    assert {"JobCreated", "Published"} <= reasons, reasons
    text = operator.metrics()
    assert 'ecc_operator_jobs_total{kind="distill",outcome="succeeded"}' in text
    assert "ecc_operator_revisions_published_total 1.0" in text or "ecc_operator_revisions_published_total 2.0" in text
    assert 'ecc_operator_reconcile_duration_seconds_count{kind="CloudTeacher"}' in text


def test_missing_corpus_ends_degraded_with_the_reason_and_no_crash_loop(kube, ns, operator, cluster):
    from kubernetes import client

    missing = f"s3://{cluster.store.bucket}/test-corpora/does-not-exist-{uuid.uuid4().hex[:6]}.csv"
    client.CustomObjectsApi(kube).create_namespaced_custom_object(
        G, V, ns, P, teacher("broken", ns, missing, serving={"mode": "none"}))
    st = wait_phase(kube, ns, "broken", "Degraded", operator, timeout=180)
    assert missing in st["message"] and "does not exist" in st["message"], st["message"]
    deg = condition(st, "Degraded")
    assert deg["status"] == "True" and deg["reason"] == "DistillationFailed" and missing in deg["message"]
    assert condition(st, "Ready")["status"] == "False" and st["revision"] == 0
    assert f"attempt 1/{td.MAX_ATTEMPTS}, next attempt at" in st["message"]
    time.sleep(12)  # several resync periods: nothing new may start before the retry delay
    jobs = teacher_jobs(kube, ns, "broken")
    assert len(jobs) == 1 and jobs[0].status.failed == 1, [(j.metadata.name, j.status.failed) for j in jobs]
    assert status_of(kube, ns, "broken")["phase"] == "Degraded"
    assert ("Warning", "Degraded") in {(e[0], e[1]) for e in events_for(kube, ns, "broken")}
    # The retry comes after its delay, as a new attempt Job, and fails the same way.
    first = jobs[0].metadata.name
    wait_for("the second attempt", lambda: [j for j in teacher_jobs(kube, ns, "broken")
                                            if j.metadata.name == f"{first}-2"], td.retry_delay(1) + 30, operator)
    st = wait_for("attempt 2 to fail", lambda: (lambda s: s if f"attempt 2/{td.MAX_ATTEMPTS}, next" in (s.get("message") or "")
                                                 else None)(status_of(kube, ns, "broken")), 90, operator)
    assert st["phase"] == "Degraded" and missing in st["message"]
    assert len(teacher_jobs(kube, ns, "broken")) == 2
    assert ("Normal", "Retrying") in {(e[0], e[1]) for e in events_for(kube, ns, "broken")}
    assert operator.alive(), operator.log_tail()


def test_spec_edit_rolls_the_inference_service_to_revision_two_without_a_failed_request(kube, ns, operator, cluster):
    from kubernetes import client

    custom = client.CustomObjectsApi(kube)
    core = client.CoreV1Api(kube)
    before = status_of(kube, ns, "shop")
    assert before.get("revision") == 1, "needs test_teacher_is_distilled_published_and_served first"
    # A client inside the cluster keeps asking the InferenceService's URL while revision 2 is made
    # and rolled out; it stops once revision 2 has answered 200 times in a row (the old pod gone).
    body = json.dumps({"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": ["cancel my order"]}]})
    url = f"{before['servingURL']}/v2/models/shop/infer"
    name = f"load-{uuid.uuid4().hex[:6]}"
    core.create_namespaced_pod(ns, {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"restartPolicy": "Never", "nodeSelector": {c.CLOUD_NODE_ROLE_LABEL: ""},
                 "containers": [{"name": "c", "image": c.DEFAULT_WORKLOAD_IMAGE,
                                 "command": ["python", "-c", LOAD_SCRIPT, url, body, "420", "200",
                                             teacher_ca(operator)]}]}})
    wait_for("the load pod to start asking", lambda: "started" in (
        core.read_namespaced_pod_log(name, ns) if core.read_namespaced_pod(name, ns).status.phase != "Pending" else ""),
        60, operator)
    custom.patch_namespaced_custom_object(G, V, ns, P, "shop", {"spec": {"students": [
        {"profile": "s02", "blocks": [0, 2]}, {"profile": "s1", "blocks": [1]}]}})
    st = wait_phase(kube, ns, "shop", "Ready", operator, revision=2)
    assert st["lastJob"].startswith("shop-distill-r2-") and st["specHash"] != before["specHash"]
    assert {b["profile"] for b in st["bundles"]} == {"teacher", "s02", "s1"}
    assert all("/revisions/2/" in b["manifestURI"] for b in st["bundles"])
    pod = wait_for("the load pod to finish",
                   lambda: (p := core.read_namespaced_pod(name, ns)).status.phase in ("Succeeded", "Failed") and p,
                   300, operator)
    log = core.read_namespaced_pod_log(name, ns)
    assert pod.status.phase == "Succeeded", log[-2000:]
    load = json.loads(log.strip().splitlines()[-1])
    print(f"requests during the rollout r1 -> r2: {load}")
    assert load["errors"] == 0, load
    assert load["revisions"].get("1", 0) > 0 and load["revisions"].get("2", 0) >= 200, load
    isvc = custom.get_namespaced_custom_object(teacher_serving.KSERVE_GROUP, teacher_serving.KSERVE_VERSION, ns, teacher_serving.KSERVE_PLURAL, "shop-serving")
    assert isvc["spec"]["predictor"]["model"]["storageUri"].endswith("/revisions/2/bundles/teacher.json")

    # Switching the serving mode makes no revision: KServe's children go, a Deployment serves revision 2.
    custom.patch_namespaced_custom_object(G, V, ns, P, "shop", {"spec": {"serving": {"mode": "deployment"}}})
    st = wait_for("the teacher Ready on its Deployment",
                  lambda: (lambda s: s if "Deployment" in (s.get("message") or "") and s.get("phase") == "Ready"
                           else None)(status_of(kube, ns, "shop")), 180, operator)
    assert st["revision"] == 2 and st["servingURL"] == f"https://shop-serving.{ns}.svc.cluster.local:443"
    assert condition(st, "KServe")["reason"] == "ModeDeployment"
    assert v2_infer(kube, ns, "shop", "change my shipping address", cluster.gateway_proxy,
                    teacher_ca(operator))["parameters"]["revision"] == 2
    # the same certificate serves both modes (it covers both Services): none was issued for the switch
    assert st["servingCertificate"] == before["servingCertificate"]
    inside = v2_infer_from_a_pod(kube, ns, st["servingURL"], "shop", "where is my refund", operator)
    assert inside["parameters"]["revision"] == 2
    wait_for("the InferenceService to go", lambda: not custom.list_namespaced_custom_object(
        teacher_serving.KSERVE_GROUP, teacher_serving.KSERVE_VERSION, ns, teacher_serving.KSERVE_PLURAL)["items"], 60, operator)
    # the Deployment's pod is shaped as KServe's: the read-only user fetches, the server holds no credentials
    pod = client.AppsV1Api(kube).read_namespaced_deployment("shop-serving", ns).spec.template.spec
    assert [x.name for x in pod.init_containers] == ["storage-initializer"]
    assert pod.init_containers[0].args[-2].startswith("ecc-bundle://") and not pod.containers[0].env_from
    assert {e.value_from.secret_key_ref.name for e in pod.init_containers[0].env} == {"shop-serving-store"}
    assert len(teacher_jobs(kube, ns, "shop")) == 2


def test_auto_without_a_running_kserve_controller_falls_back_to_a_deployment_and_says_so(kube, ns, operator,
                                                                                         corpus_uri, cluster):
    from kubernetes import client

    apps = client.AppsV1Api(kube)
    custom = client.CustomObjectsApi(kube)
    hook = client.AdmissionregistrationV1Api(kube).read_mutating_webhook_configuration(teacher_serving.KSERVE_WEBHOOK)
    svc = hook.webhooks[0].client_config.service
    controller = apps.read_namespaced_deployment("kserve-controller-manager", svc.namespace)
    replicas = controller.spec.replicas or 1
    apps.patch_namespaced_deployment_scale("kserve-controller-manager", svc.namespace, {"spec": {"replicas": 0}})
    try:
        wait_for("KServe's webhook Service to lose its endpoints", lambda: not [
            e for s in client.DiscoveryV1Api(kube).list_namespaced_endpoint_slice(
                svc.namespace, label_selector=f"kubernetes.io/service-name={svc.name}").items
            for e in s.endpoints or []], 90, operator)
        custom.create_namespaced_custom_object(G, V, ns, P, teacher("fallback", ns, corpus_uri,
                                                                    serving={"mode": "auto"}))
        st = wait_phase(kube, ns, "fallback", "Ready", operator, revision=1)
        k = condition(st, "KServe")
        assert (k["status"], k["reason"]) == ("False", "FellBackToDeployment"), k
        assert "KServe's controller is not running" in k["message"] and svc.name in k["message"], k
        assert st["servingURL"] == f"https://fallback-serving.{ns}.svc.cluster.local:443"
        assert apps.read_namespaced_deployment("fallback-serving", ns).status.ready_replicas == 1
        assert not custom.list_namespaced_custom_object(teacher_serving.KSERVE_GROUP, teacher_serving.KSERVE_VERSION, ns, teacher_serving.KSERVE_PLURAL,
                                                        label_selector=f"{workloads.LABEL_TEACHER}=fallback")["items"]
    finally:
        apps.patch_namespaced_deployment_scale("kserve-controller-manager", svc.namespace,
                                               {"spec": {"replicas": replicas}})
        wait_for("KServe's controller back", lambda: (apps.read_namespaced_deployment(
            "kserve-controller-manager", svc.namespace).status.ready_replicas or 0) >= replicas, 180, operator)
    # The controller is back: auto moves the teacher onto KServe (the probe is re-done every 10 s).
    st = wait_for("the teacher on an InferenceService", lambda: (lambda s: s if any(
                  x["type"] == "KServe" and x["status"] == "True" for x in s.get("conditions") or [])
                  and s.get("phase") == "Ready" else None)(status_of(kube, ns, "fallback")), 240, operator)
    assert st["servingURL"] == f"https://fallback-serving-predictor.{ns}.svc.cluster.local:80"
    client.CustomObjectsApi(kube).delete_namespaced_custom_object(G, V, ns, P, "fallback")


def test_restarted_operator_adopts_the_running_job(kube, ns, operator, corpus_uri):
    from kubernetes import client

    client.CustomObjectsApi(kube).create_namespaced_custom_object(
        G, V, ns, P, teacher("restart", ns, corpus_uri, serving={"mode": "none"}))
    wait_for("the Job to run", lambda: [j for j in teacher_jobs(kube, ns, "restart") if (j.status.active or 0) > 0],
             60, operator, interval=0.3)
    operator.kill()
    time.sleep(2)
    operator.start()
    st = wait_phase(kube, ns, "restart", "Ready", operator, revision=1)
    jobs = teacher_jobs(kube, ns, "restart")
    assert [j.metadata.name for j in jobs] == [st["lastJob"]], "the restarted operator created a duplicate Job"
    assert jobs[0].status.succeeded == 1


def test_delete_removes_children_and_the_store_prefix(kube, ns, operator, cluster, store_client):
    from kubernetes import client

    bucket = cluster.store.bucket
    prefix = f"teachers/{ns}/restart/"
    assert list(store_client.list_objects(bucket, prefix=prefix, recursive=True)), "nothing to delete?"
    client.CustomObjectsApi(kube).delete_namespaced_custom_object(G, V, ns, P, "restart")
    wait_for("the CloudTeacher to go", lambda: get(kube, ns, "restart") is None, 60, operator)
    assert not list(store_client.list_objects(bucket, prefix=prefix, recursive=True))
    assert not list(store_client.list_objects(bucket, prefix=f"reports/jobs/{ns}/restart/", recursive=True))
    wait_for("the garbage collector to remove the Job", lambda: not teacher_jobs(kube, ns, "restart"), 60, operator)


def test_fleet_with_a_missing_teacher_says_so(kube, ns, operator):
    from kubernetes import client

    custom = client.CustomObjectsApi(kube)
    fleet = {"apiVersion": f"{G}/{V}", "kind": "EdgeFleet", "metadata": {"name": "orphans", "namespace": ns},
             "spec": {"teacherRef": {"name": "no-such-teacher"}, "tiers": [{"name": "all", "profile": "s02"}]}}
    custom.create_namespaced_custom_object(G, V, ns, EDGE_FLEET.plural, fleet)

    def degraded():
        st = custom.get_namespaced_custom_object(G, V, ns, EDGE_FLEET.plural, "orphans").get("status") or {}
        return st if st.get("phase") == "Degraded" else None

    st = wait_for("the EdgeFleet to be Degraded", degraded, 30, operator)
    assert condition(st, "Degraded")["reason"] == "TeacherNotFound" and "no-such-teacher" in st["message"]
    obj = custom.get_namespaced_custom_object(G, V, ns, EDGE_FLEET.plural, "orphans")
    assert not obj["metadata"].get("finalizers"), "nothing to clean up: the fleet must stay deletable"
    # The teacher appears: the verdict is cleared.
    custom.create_namespaced_custom_object(G, V, ns, P, teacher("no-such-teacher", ns, "s3://ecc-fleet/none.csv",
                                                                 serving={"mode": "none"}))
    st = wait_for("the EdgeFleet to leave Degraded", lambda: (lambda s: s if s.get("phase") == "Pending" else None)(
        custom.get_namespaced_custom_object(G, V, ns, EDGE_FLEET.plural, "orphans").get("status") or {}), 30, operator)
    assert condition(st, "Degraded")["status"] == "False"
    custom.delete_namespaced_custom_object(G, V, ns, EDGE_FLEET.plural, "orphans")
    wait_for("the EdgeFleet to go", lambda: not custom.list_namespaced_custom_object(
        G, V, ns, EDGE_FLEET.plural)["items"], 20, operator)
