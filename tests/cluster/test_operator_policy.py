"""The AdaptationPolicy controller against the real local cluster: a `tiny` CloudTeacher is
distilled for real, an EdgeFleet follows it, agents' reports say the fleet drifts and two real
LoRA deltas (adapt.adapt_locally + deltas.build_upload on the distilled student) arrive; the
policy fires a round, waits for its quorum, runs ONE merge-back Job (the operator is killed
and restarted while it runs), the gate passes and the candidate becomes the teacher's
revision 2 — manifests, drift references and corpus in MinIO, the teacher not re-distilled.

The operator runs as a subprocess (`python -m ecc_operator`, every controller). The fleet's
nodeSelector matches no node, so no agent runs: the reports are written to the store exactly
as agents write them.
"""

from __future__ import annotations

import hashlib
import io
import random
import sys
import time
from datetime import datetime, timezone

import pytest

from ecc_workloads import contracts as c

from ecc_operator.controllers.policy import decisions as pd
from ecc_operator.api.adaptationpolicy import ADAPTATION_POLICY
from ecc_operator.api.cloudteacher import CLOUD_TEACHER
from ecc_operator.api.edgefleet import EDGE_FLEET

from clusterkit import read_object, signed_desired_state
from operatorkit import OperatorProcess, bitext_slice, delete_custom_objects, upload_corpus, wait_for
from test_operator_teacher import condition, get, teacher, teacher_jobs, wait_phase

pytestmark = pytest.mark.cluster
NAMESPACE_PREFIX = "pol"  # the `ns` fixture of tests/cluster/conftest.py

G, V = CLOUD_TEACHER.group, CLOUD_TEACHER.version
CORPUS_KEY = "test-corpora/policy-small.csv"
INTENTS = 4
ROWS_PER_INTENT = 40


@pytest.fixture(scope="module")
def corpus(cluster, store_client):
    """(s3 URI, rows) of a 160-row, 4-intent slice of the packaged Bitext corpus in MinIO."""
    rows = bitext_slice(intents=INTENTS, rows_per_intent=ROWS_PER_INTENT)
    return upload_corpus(cluster, store_client, CORPUS_KEY, rows), rows


@pytest.fixture(scope="module")
def operator(cluster, kube, ns, crds_installed, tmp_path_factory):
    op = OperatorProcess(cluster, ns, tmp_path_factory.mktemp("operator") / "operator.log")
    op.start()
    yield op
    # Policies and teachers carry the operator's finalizer: delete them while it still runs.
    delete_custom_objects(kube, ns, [ADAPTATION_POLICY.plural, EDGE_FLEET.plural, CLOUD_TEACHER.plural])
    op.stop()
    print(f"operator log tail:\n{op.log_tail(80)}", file=sys.stderr)


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
def put(store_client, bucket: str, key: str, data: bytes) -> None:
    store_client.put_object(bucket, key, io.BytesIO(data), len(data))


def write_report(store_client, bucket: str, ns: str, fleet: str, node: str, seq: int, drift: float) -> None:
    """An AgentReport as an edge agent writes it."""
    rep = c.AgentReport(node=node, fleet=fleet, seq=seq, time=datetime.now(timezone.utc).isoformat(), state="Ready",
                        simulated=True, tier="all", profile="s02", revision=1, drift_score=drift,
                        drift_signal="confidence")
    put(store_client, bucket, c.StoreLayout.agent_report(ns, fleet, node), rep.model_dump_json().encode())


def build_deltas(cluster, ns: str, teacher_name: str, rows: list[dict], nodes: list[str]) -> dict[str, bytes]:
    """Real uploads: LoRA on the distilled `s02` student read from MinIO, one per node."""
    import torch

    from ecc_workloads.learning import adapt, bundles, deltas, modular
    from ecc_workloads.store import Store

    torch.set_num_threads(1)
    kv = bundles.BucketKeys(Store(cluster.store))
    base = bundles.read_manifest(kv, c.StoreLayout.bundle_manifest(ns, teacher_name, 1, "s02"))
    sub = bundles.load_submodel(base, bundles.store_fetcher(kv))
    tok = modular.load_tokenizer()
    out = {}
    for i, node in enumerate(nodes):
        rnd = random.Random(i)
        picked = rnd.sample(rows, 24)
        feedback = [adapt.FeedbackItem(text=r["instruction"], label=r["intent"], source="user") for r in picked]
        result = adapt.adapt_locally(sub, tok, feedback, adapt.LoraSettings(rank=2, epochs=1, lr=1e-4, seed=i))
        out[node] = deltas.build_upload(result, base, node, deltas.UploadSettings(form="factors"))
    return out


def policy_status(kube, ns: str, name: str) -> dict:
    from kubernetes import client

    obj = client.CustomObjectsApi(kube).get_namespaced_custom_object(G, V, ns, ADAPTATION_POLICY.plural, name)
    return obj.get("status") or {}


def merge_jobs(kube, ns: str, policy: str) -> list:
    from kubernetes import client

    return client.BatchV1Api(kube).list_namespaced_job(ns, label_selector=pd.job_selector(policy)).items


def policy_events(kube, ns: str, name: str) -> list[tuple[str, str, str]]:
    from kubernetes import client

    evs = client.CoreV1Api(kube).list_namespaced_event(
        ns, field_selector=f"involvedObject.name={name},involvedObject.kind=AdaptationPolicy").items
    return [(e.type, e.reason, e.message) for e in evs]


# ---------------------------------------------------------------------------
# The test
# ---------------------------------------------------------------------------
def test_drift_fires_a_round_whose_merge_back_becomes_revision_two(kube, ns, operator, corpus, cluster,
                                                                   store_client, request):
    from kubernetes import client

    custom = client.CustomObjectsApi(kube)
    bucket = cluster.store.bucket
    corpus_uri, rows = corpus

    # 1. The teacher, distilled for real (tiny model, ~30 s).
    custom.create_namespaced_custom_object(G, V, ns, CLOUD_TEACHER.plural,
                                           teacher("shop", ns, corpus_uri, serving={"mode": "none"}))
    t1 = wait_phase(kube, ns, "shop", "Ready", operator, revision=1)

    # 2. The fleet on revision 1, over two fake (KWOK) nodes: merge-back takes deltas of members only,
    # and the fleet's desired state says who they are. Their deltas come from this test, not agents.
    core = client.CoreV1Api(kube)
    members = sorted(n.metadata.name for n in core.list_node(
        label_selector=f"{c.NODE_KIND_LABEL}={c.NODE_KIND_KWOK}").items)[:2]
    assert len(members) == 2, "the test cluster has fake nodes"
    for n in members:
        core.patch_node(n, {"metadata": {"labels": {"ecc.dev/policy-test": ns}}})
    request.addfinalizer(lambda: [core.patch_node(n, {"metadata": {"labels": {"ecc.dev/policy-test": None}}})
                                  for n in members])
    custom.create_namespaced_custom_object(G, V, ns, EDGE_FLEET.plural, {
        "apiVersion": f"{G}/{V}", "kind": "EdgeFleet", "metadata": {"name": "edge", "namespace": ns},
        "spec": {"teacherRef": {"name": "shop"}, "nodeSelector": {"matchLabels": {"ecc.dev/policy-test": ns}},
                 "tiers": [{"name": "all", "profile": "s02"}]}})

    def fleet_on_revision_one():
        st = custom.get_namespaced_custom_object(G, V, ns, EDGE_FLEET.plural, "edge").get("status") or {}
        if st.get("targetRevision") is None:  # no fleet controller (yet): say what it would say
            custom.patch_namespaced_custom_object_status(G, V, ns, EDGE_FLEET.plural, "edge",
                                                         {"status": {"targetRevision": 1}})
            return None
        return st["targetRevision"] == 1

    wait_for("the fleet to run revision 1", fleet_on_revision_one, 30, operator)
    def members_listed():
        desired = signed_desired_state(store_client, bucket, kube, ns, "edge")  # None: not written yet
        return desired is not None and set(desired.node_tiers) == set(members)

    wait_for("the fleet's desired state to list its two members", members_listed, 60, operator)

    # 3. Three agents report drift above the threshold; one delta arrives.
    for i, node in enumerate((*members, "sim-c")):
        write_report(store_client, bucket, ns, "edge", node, seq=1, drift=0.7 + 0.05 * i)
    deltas = build_deltas(cluster, ns, "shop", rows, members)
    put(store_client, bucket, c.StoreLayout.delta(ns, "edge", 1, members[0]), deltas[members[0]])

    # 4. The policy: a round fires on drift and waits for its quorum of 2.
    custom.create_namespaced_custom_object(G, V, ns, ADAPTATION_POLICY.plural, {
        "apiVersion": f"{G}/{V}", "kind": "AdaptationPolicy", "metadata": {"name": "adapt", "namespace": ns},
        "spec": {"fleetRef": {"name": "edge"}, "drift": {"threshold": 0.3, "minNodes": 2},
                 "mergeBack": {"minUpdates": 2, "deadlineMinutes": 30, "aggregation": "fedavg",
                               "evaluationGate": {"minImprovement": -1.0, "maxRegression": 1.0}},
                 "cooldownMinutes": 60}})
    st = wait_for("the round to fire and collect",
                  lambda: (s := policy_status(kube, ns, "adapt")).get("phase") == "Collecting" and s, 60, operator)
    assert st["round"] == 1 and st["pendingUpdates"] == 1 and st["driftingNodes"] == 3
    assert st["lastDriftScore"] == pytest.approx(0.75, abs=1e-3) and st["roundStartedTime"]
    assert condition(st, "Progressing")["status"] == "True"
    time.sleep(6)  # more than one resync: no Job without the quorum
    assert merge_jobs(kube, ns, "adapt") == []

    # 5. The second delta: the Job starts; the operator is killed and restarted while it runs.
    put(store_client, bucket, c.StoreLayout.delta(ns, "edge", 1, members[1]), deltas[members[1]])
    wait_for("the merge-back Job to run",
             lambda: [j for j in merge_jobs(kube, ns, "adapt") if (j.status.active or 0) > 0], 60, operator,
             interval=0.3)
    # kopf posts events in the background: kill only once the round's JobCreated is recorded
    wait_for("the JobCreated event", lambda: "JobCreated" in {e[1] for e in policy_events(kube, ns, "adapt")},
             30, operator, interval=0.3)
    operator.kill()
    time.sleep(2)
    operator.start()

    # 6. The gate passes: revision 2 is published.
    st = wait_for("the round to publish",
                  lambda: (s := policy_status(kube, ns, "adapt")).get("lastMergeBack") and s, 240, operator)
    last = st["lastMergeBack"]
    assert last["result"] == "Published", last
    assert last["revision"] == 2 and last["updates"] == 2
    jobs = merge_jobs(kube, ns, "adapt")
    assert [j.metadata.name for j in jobs] == ["adapt-merge-r1"], "the restarted operator created a duplicate Job"
    assert jobs[0].status.succeeded == 1 and st["lastJob"] == "adapt-merge-r1"
    owner = jobs[0].metadata.owner_references[0]
    assert (owner.kind, owner.name) == ("AdaptationPolicy", "adapt")
    assert st["phase"] == "CoolingDown" and not st.get("roundStartedTime")

    t2 = wait_phase(kube, ns, "shop", "Ready", operator, revision=2, timeout=60)
    assert t2["specHash"] == t1["specHash"]
    assert {b["profile"] for b in t2["bundles"]} == {"teacher", "s02"}
    for b in t2["bundles"]:
        key = b["manifestURI"][len(f"s3://{bucket}/"):]
        assert key == c.StoreLayout.bundle_manifest(ns, "shop", 2, b["profile"])
        raw = read_object(store_client, bucket, key)
        assert hashlib.sha256(raw).hexdigest() == b["sha256"]
        manifest = c.BundleManifest.model_validate_json(raw)
        assert manifest.revision == 2 and sum(m.bytes for m in manifest.modules) == b["bytes"]
        for m in manifest.modules:  # content-addressed modules are there
            store_client.stat_object(bucket, c.StoreLayout.module(m.sha256))
        ref = c.ReferenceStats.model_validate_json(read_object(store_client, bucket, c.StoreLayout.drift_reference(
            ns, "shop", 2, b["profile"])))
        assert ref.revision == 2
    s02_1 = c.BundleManifest.model_validate_json(read_object(store_client, bucket, c.StoreLayout.bundle_manifest(ns, "shop", 1, "s02")))
    s02_2 = c.BundleManifest.model_validate_json(read_object(store_client, bucket, c.StoreLayout.bundle_manifest(ns, "shop", 2, "s02")))
    assert {m.sha256 for m in s02_1.modules} != {m.sha256 for m in s02_2.modules}, "the merge changed nothing"
    # the next round's holdout and the served replies exist for revision 2
    assert read_object(store_client, bucket, c.StoreLayout.corpus_prefix(ns, "shop", 2) + "/val.jsonl")
    assert read_object(store_client, bucket, c.StoreLayout.responses(ns, "shop", 2))

    # The teacher was not re-distilled, and stays at revision 2.
    time.sleep(6)
    assert len(teacher_jobs(kube, ns, "shop")) == 1
    assert (get(kube, ns, "shop")["status"] or {})["revision"] == 2

    reasons = {e[1] for e in policy_events(kube, ns, "adapt")}
    assert {"RoundStarted", "JobCreated", "Published"} <= reasons, reasons
    text = operator.metrics()
    assert f'ecc_mergeback_rounds_total{{namespace="{ns}",policy="adapt",result="Published"}} 1.0' in text
    assert operator.alive(), operator.log_tail()
