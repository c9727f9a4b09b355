"""The edge agent against the local cluster's real MinIO through ecc_workloads.store.Store:
ETag polling, module fetch, reports, and a delta upload."""

from __future__ import annotations

import uuid

import pytest
import torch

from ecc_workloads.learning import bundles, deltas, modular
import releasekit
from ecc_workloads.contracts import AdaptationSettings, AgentReport, DesiredState, StoreLayout
from ecc_workloads.agent.runner import AgentConfig, EdgeAgent, S3AgentStore
from ecc_workloads.store import Store

from ecc_operator.controllers.fleet import decisions as fleet_decisions, handlers as fleet_handlers

pytestmark = pytest.mark.cluster
torch.set_num_threads(1)
LABELS = ["cancel_order", "track_order", "get_refund"]
FEEDBACK = [("please cancel my order now", "cancel_order"), ("where is my parcel today", "track_order"),
            ("i want my money back please", "get_refund"), ("cancel the purchase i made", "cancel_order")]


class CountingStore(S3AgentStore):
    def __init__(self, store):
        super().__init__(store)
        self.gets: list[str] = []

    def get(self, key):
        self.gets.append(key)
        return super().get(key)


def test_agent_on_minio(cluster, tmp_path):
    ns = f"agent-{uuid.uuid4().hex[:8]}"
    fleet, node = "edge", "edge-1"
    store = CountingStore(Store(cluster.store, retry_seconds=5))
    model = modular.tiny_encoder(LABELS, num_hidden_layers=2, seed=2)
    model.add_profile("s0", [0])
    kv = bundles.BucketKeys(store.store)
    res = bundles.write_bundles(model, ["s0"], 1, kv)
    key = bundles.publish_manifests(kv, res.manifests.values(), ns, "intent")[0]
    desired = DesiredState(namespace=ns, fleet=fleet, teacher="intent", generation=1, target_revision=1,
                           target=[releasekit.pinned_tier("t", "s0", key, kv.get(key))], node_tiers={node: "t"},
                           adaptation=AdaptationSettings(policy="p", min_samples=4, epochs=1, lora_rank=2))
    store.put(StoreLayout.desired_state(ns, fleet), releasekit.signed(desired))
    clock = [0.0]
    agent = EdgeAgent(AgentConfig(node=node, fleet=fleet, namespace=ns, state_dir=tmp_path,
                                  release_keys=releasekit.KEYS), store,
                      clock=lambda: clock[0])
    try:
        agent.tick()
        assert agent.predict(["cancel it"]).revision == 1
        report = AgentReport.model_validate_json(store.get(StoreLayout.agent_report(ns, fleet, node)))
        assert report.revision == 1 and report.state == "Ready" and report.bytes_down > 0
        # the operator reads a changed report from a listing with metadata, without a GET
        s3 = store.store
        listed = list(fleet_handlers.list_reports(s3.client, s3.settings.bucket, StoreLayout.reports_prefix(ns, fleet),
                                                  with_metadata=True))
        assert [o.object_name for o in listed] == [StoreLayout.agent_report(ns, fleet, node)]
        summary = fleet_decisions.report_from_summary(fleet_decisions.listed_summary(listed[0].metadata), node)
        assert summary is not None, f"no usable report summary in the listing: {listed[0].metadata}"
        assert (summary.seq, summary.revision, summary.state, summary.bytes_down) == (
            report.seq, report.revision, report.state, report.bytes_down)
        store.gets.clear()
        clock[0] += 60
        agent.tick()  # the ETag did not change: the desired state is not read again
        assert StoreLayout.desired_state(ns, fleet) not in store.gets
        for text, label in FEEDBACK:
            agent.feedback(text, label)
        agent.learner.wait(60)
        blob = store.get(StoreLayout.delta(ns, fleet, 1, node))
        assert deltas.verify_upload(blob, [t for t, _ in FEEDBACK]).node == node
        # whoever writes the real store without the operator's key (here: its admin) moves no node
        forged = desired.model_copy(update={"generation": 2, "teacher_url": "http://attacker.invalid"})
        store.put(StoreLayout.desired_state(ns, fleet), forged.model_dump_json().encode())
        clock[0] += 60
        agent.tick()
        report = AgentReport.model_validate_json(store.get(StoreLayout.agent_report(ns, fleet, node)))
        assert report.state == "Degraded" and report.documents_refused == 1 and report.revision == 1
        assert "refused: not a signed envelope" in report.message and agent.desired.teacher_url is None
    finally:
        agent.close()
