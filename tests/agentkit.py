"""A store directory that an edge agent can serve from: revision 1 of a tiny, randomly initialised
teacher's student `s0`, published, and a desired state that gives one node that student."""

from __future__ import annotations

from pathlib import Path

from ecc_workloads import bundles, modular
from ecc_workloads.contracts import DesiredState, DesiredTier, StoreLayout
from ecc_workloads.edge_agent import LocalAgentStore

LABELS = ["cancel_order", "track_order", "get_refund"]
NS, FLEET, TEACHER = "shop", "edge", "intent"


def publish_tiny_fleet(root: Path, node: str, *, blocks: list[int], seed: int) -> str:
    """Publish into `root` (the store's layout); the bundle manifest's key."""
    store = LocalAgentStore(root)
    model = modular.tiny_encoder(LABELS, num_hidden_layers=2, seed=seed)
    model.add_profile("s0", blocks)
    res = bundles.write_bundles(model, ["s0"], 1, store)
    key = bundles.publish_manifests(store, res.manifests.values(), NS, TEACHER)[0]
    desired = DesiredState(namespace=NS, fleet=FLEET, teacher=TEACHER, generation=1, target_revision=1,
                           target=[DesiredTier(tier="t", profile="s0", manifest_key=key)], node_tiers={node: "t"},
                           poll_interval_seconds=1, report_interval_seconds=1)
    store.put(StoreLayout.desired_state(NS, FLEET), desired.model_dump_json().encode())
    return key
