"""The operator against the real local cluster: a CloudTeacher is distilled by a real Job on a
process cloud worker, its bundles are published (hashes checked against MinIO), the teacher is
served and answers a v2 inference request; a broken corpus ends Degraded without a crash loop;
a spec edit makes revision 2; a serving-mode switch makes none; the operator adopts a running
Job after a restart; deletion removes children and the store prefix; missing references are
reported. The operator runs as a subprocess (`python -m ecc_operator`) with the admin kubeconfig.

Distillation uses the `tiny` built-in model on a 160-row corpus slice: one Job takes ~30 s.
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
import time
import urllib.request
import uuid

import pytest

from ecc_workloads import contracts as c

from ecc_operator import teacher_decisions as td
from ecc_operator.resources import CLOUD_TEACHER, EDGE_FLEET

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
def operator(cluster, kube, ns, crds_installed, tmp_path_factory):
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
        "serving": {"mode": "deployment"},
    }
    spec.update(overrides)
    return {"apiVersion": f"{G}/{V}", "kind": "CloudTeacher", "metadata": {"name": name, "namespace": ns}, "spec": spec}


class PhaseRecorder:
    """Every phase a CloudTeacher's status goes through, from a watch started before it exists."""

    def __init__(self, kube, ns: str, name: str):
        from kubernetes import client, watch

        self.phases: list[str] = []
        self._watch = watch.Watch()
        custom = client.CustomObjectsApi(kube)

        def run():
            try:
                for ev in self._watch.stream(custom.list_namespaced_custom_object, G, V, ns, P,
                                             field_selector=f"metadata.name={name}", timeout_seconds=600):
                    phase = ((ev["object"] or {}).get("status") or {}).get("phase")
                    if phase and (not self.phases or self.phases[-1] != phase):
                        self.phases.append(phase)
            except Exception:  # noqa: BLE001 - the watch ends when the test stops it
                pass

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        time.sleep(0.5)

    def stop(self) -> None:
        self._watch.stop()


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

    return client.BatchV1Api(kube).list_namespaced_job(ns, label_selector=f"{td.LABEL_TEACHER}={name}").items


def events_for(kube, ns, name) -> list:
    from kubernetes import client

    evs = client.CoreV1Api(kube).list_namespaced_event(
        ns, field_selector=f"involvedObject.name={name},involvedObject.kind=CloudTeacher").items
    return [(e.type, e.reason, e.message) for e in evs]


def condition(st: dict, ctype: str) -> dict:
    return next(x for x in st.get("conditions") or [] if x["type"] == ctype)


def v2_infer(kube, ns: str, teacher_name: str, text: str, proxy: str, selector: str | None = None) -> dict:
    """POST a v2 request to a serving pod by its address, through the gateway's proxy (the host
    has no route to pods)."""
    from kubernetes import client

    pods = client.CoreV1Api(kube).list_namespaced_pod(
        ns, label_selector=selector or f"{td.LABEL_TEACHER}={teacher_name},{td.LABEL_COMPONENT}=serving").items
    running = [p for p in pods if p.status.phase == "Running" and p.status.pod_ip and not p.metadata.deletion_timestamp
               and any(cd.type == "Ready" and cd.status == "True" for cd in p.status.conditions or [])]
    assert running, f"no running serving pod for {teacher_name}: {[p.status.phase for p in pods]}"
    body = json.dumps({"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": [text]}]}).encode()
    req = urllib.request.Request(
        f"http://{running[0].status.pod_ip}:{td.SERVING_PORT}/v2/models/{teacher_name}/infer", data=body,
        headers={"content-type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": proxy}))
    return json.loads(opener.open(req, timeout=30).read())


def v2_infer_from_a_pod(kube, ns: str, url: str, model: str, text: str, op) -> dict:
    """POST a v2 request to `url` (the Service's DNS name) from a pod on the cloud worker,
    as a client inside the cluster would, and return the parsed answer it printed."""
    from kubernetes import client

    core = client.CoreV1Api(kube)
    name = f"client-{uuid.uuid4().hex[:6]}"
    body = json.dumps({"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": [text]}]})
    script = ("import sys, urllib.request; "
              f"r = urllib.request.Request({url + '/v2/models/' + model + '/infer'!r}, data=sys.argv[1].encode(), "
              "headers={'content-type': 'application/json'}); "
              "print(urllib.request.urlopen(r, timeout=30).read().decode())")
    core.create_namespaced_pod(ns, {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"restartPolicy": "Never", "nodeSelector": {c.CLOUD_NODE_ROLE_LABEL: ""},
                 "containers": [{"name": "c", "image": c.DEFAULT_WORKLOAD_IMAGE,
                                 "command": ["python", "-c", script, body]}]}})
    pod = wait_for(f"client pod {name} to finish",
                   lambda: (p := core.read_namespaced_pod(name, ns)).status.phase in ("Succeeded", "Failed") and p,
                   90, op)
    log = core.read_namespaced_pod_log(name, ns)
    assert pod.status.phase == "Succeeded", f"client pod failed: {log[-2000:]}"
    return json.loads(log.strip().splitlines()[-1])


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

    # Served: the URL is the Service's DNS name, and the server answers a v2 request.
    assert st["servingURL"] == f"http://shop-serving.{ns}.svc.cluster.local:80"
    svc = client.CoreV1Api(kube).read_namespaced_service("shop-serving", ns)
    assert svc.metadata.owner_references[0].name == "shop"
    out = v2_infer(kube, ns, "shop", "I want to cancel my order", cluster.gateway_proxy)
    names = {o["name"]: o for o in out["outputs"]}
    assert names["intent"]["data"][0] in names["labels"]["data"]
    assert out["parameters"]["revision"] == 1
    # ... and a client inside the cluster reaches it by that DNS name.
    inside = v2_infer_from_a_pod(kube, ns, st["servingURL"], "shop", "where is my refund", operator)
    assert inside["parameters"]["revision"] == 1 and inside["model_name"] == "shop"
    # The distillation Job wrote the reply corpus, so the teacher suggests an agent's answer.
    replies = {o["name"]: o for o in inside["outputs"]}["suggested_reply"]["data"]
    assert replies[0], inside

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


def test_spec_edit_makes_revision_two_and_a_serving_switch_makes_none(kube, ns, operator, cluster):
    from kubernetes import client

    custom = client.CustomObjectsApi(kube)
    before = status_of(kube, ns, "shop")
    assert before.get("revision") == 1, "needs test_teacher_is_distilled_published_and_served first"
    custom.patch_namespaced_custom_object(G, V, ns, P, "shop", {"spec": {"students": [
        {"profile": "s02", "blocks": [0, 2]}, {"profile": "s1", "blocks": [1]}]}})
    st = wait_phase(kube, ns, "shop", "Ready", operator, revision=2)
    assert st["lastJob"].startswith("shop-distill-r2-") and st["specHash"] != before["specHash"]
    assert {b["profile"] for b in st["bundles"]} == {"teacher", "s02", "s1"}
    assert all("/revisions/2/" in b["manifestURI"] for b in st["bundles"])
    assert v2_infer(kube, ns, "shop", "change my shipping address", cluster.gateway_proxy)["parameters"]["revision"] == 2

    # Serving mode kserve: an InferenceService that KServe's real controller (Standard mode) serves,
    # no new revision; the teacher's URL is the predictor's cluster-local address.
    custom.patch_namespaced_custom_object(G, V, ns, P, "shop", {"spec": {"serving": {"mode": "kserve"}}})

    def isvc():
        try:
            return custom.get_namespaced_custom_object(td.KSERVE_GROUP, td.KSERVE_VERSION, ns, td.KSERVE_PLURAL,
                                                       "shop-serving")
        except client.rest.ApiException:
            return None

    obj = wait_for("the InferenceService", isvc, 60, operator)
    assert obj["spec"]["predictor"]["containers"][0]["name"] == "kserve-container"
    st = wait_for("the InferenceService Ready and the teacher Ready on it",
                  lambda: (lambda s: s if "InferenceService" in (s.get("message") or "") and s.get("phase") == "Ready"
                           else None)(status_of(kube, ns, "shop")), 240, operator)
    assert st["revision"] == 2
    assert st["servingURL"] == f"http://shop-serving-predictor.{ns}.svc.cluster.local"
    deployments = client.AppsV1Api(kube).list_namespaced_deployment(
        ns, label_selector="serving.kserve.io/inferenceservice=shop-serving").items
    assert [d.metadata.name for d in deployments] == ["shop-serving-predictor"]  # KServe's, not ours
    assert v2_infer(kube, ns, "shop", "change my shipping address", cluster.gateway_proxy,
                    selector="serving.kserve.io/inferenceservice=shop-serving")["parameters"]["revision"] == 2
    wait_for("the operator's own Deployment to go", lambda: not [
        d for d in client.AppsV1Api(kube).list_namespaced_deployment(ns, label_selector=f"{td.LABEL_TEACHER}=shop").items
        if d.metadata.name == "shop-serving"], 30, operator)
    assert len(teacher_jobs(kube, ns, "shop")) == 2


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
