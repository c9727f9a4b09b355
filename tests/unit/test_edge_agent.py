"""The edge agent against a local store double: load, serve, learn, upload, report, swap,
refuse a tampered module, survive the store going away, and restart from local disk."""

from __future__ import annotations

import base64
import json
import ssl
import threading
import time

import numpy as np
import pytest
import torch

from ecc_workloads import release_signing, tls
from ecc_workloads.learning import bundles, deltas, drift, modular
from ecc_workloads.agent.server import BadField, NotReady
from ecc_workloads.contracts import (
    AdaptationSettings,
    AgentReport,
    BundleManifest,
    DesiredState,
    PrivacySettings,
    ReleaseSigning,
    StoreLayout,
)
from ecc_workloads.agent.runner import AgentConfig, EdgeAgent, LocalAgentStore, agent_state, target_for
from ecc_workloads.store import StoreUnavailable

import releasekit

torch.set_num_threads(1)
LABELS = ["cancel_order", "track_order", "get_refund"]
NS, FLEET, TEACHER, NODE = "shop", "edge", "intent", "edge-1"
FEEDBACK = [
    ("please cancel my order now", "cancel_order"), ("where is my parcel today", "track_order"),
    ("i want my money back please", "get_refund"), ("cancel the purchase i made", "cancel_order"),
    ("track the package for me", "track_order"), ("refund for the broken lamp", "get_refund"),
    ("stop my order from shipping", "cancel_order"), ("has my delivery left yet", "track_order"),
]


class FlakyStore(LocalAgentStore):
    """LocalAgentStore that can be switched off (raises StoreUnavailable) and logs writes."""

    def __init__(self, root):
        super().__init__(root)
        self.down = False
        self.writes: list[str] = []

    def _check(self, what: str) -> None:
        if self.down:
            raise StoreUnavailable(f"test store is down ({what})")

    def get(self, key):
        self._check(f"get {key}")
        return super().get(key)

    def put(self, key, data):
        self._check(f"put {key}")
        super().put(key, data)
        self.writes.append(key)

    def etag(self, key):
        self._check(f"etag {key}")
        return super().etag(key)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def advance(self, seconds=60.0):
        self.now += seconds


def _reference(revision: int) -> bytes:
    rng = np.random.default_rng(revision)
    conf = rng.beta(8, 1, size=500).tolist()
    pred = rng.choice(len(LABELS), size=500).tolist()
    return drift.reference_stats(conf, pred, LABELS, 0.05, revision, "s0").model_dump_json().encode()


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """Revisions 1 and 2 of a tiny teacher (+ student s0), and revision 3 with a tampered module."""
    root = tmp_path_factory.mktemp("store")
    store = LocalAgentStore(root)
    model = modular.tiny_encoder(LABELS, num_hidden_layers=2, seed=4)
    model.add_profile("s0", [0])
    keys = {}
    written = {}
    for rev in (1, 2, 3):
        if rev > 1:
            with torch.no_grad():  # a new revision changes the student's head only
                model.heads["s0"].weight.add_(0.05)
        res = bundles.write_bundles(model, ["teacher", "s0"], rev, store)
        store.put(StoreLayout.drift_reference(NS, TEACHER, rev, "s0"), _reference(rev))
        res.manifests.update(bundles.pin_references(res.manifests, {"s0": _reference(rev)}))
        keys[rev] = bundles.publish_manifests(store, [res.manifests["s0"]], NS, TEACHER)[0]
        written[rev] = res
    head3 = next(m for m in written[3].manifests["s0"].modules if m.name == "head.s0")
    good = store.get(StoreLayout.module(head3.sha256))
    tampered = bytearray(good)
    tampered[-1] ^= 0x01
    store.put(StoreLayout.module(head3.sha256), bytes(tampered))
    return {"root": root, "keys": keys, "manifests": {r: w.manifests["s0"] for r, w in written.items()}}


def _desired(published, revision=1, generation=1, **kw) -> DesiredState:
    key = published["keys"][revision]
    tiers = [releasekit.pinned_tier("small", "s0", key, LocalAgentStore(published["root"]).get(key),
                                    drift_reference_key=StoreLayout.drift_reference(NS, TEACHER, revision, "s0"))]
    adaptation = AdaptationSettings(policy="p", min_samples=8, epochs=1, lora_rank=2, lora_alpha=4,
                                    learning_rate=1e-2)
    return DesiredState(namespace=NS, fleet=FLEET, teacher=TEACHER, generation=generation, target_revision=revision,
                        target=tiers, node_tiers={NODE: "small"}, poll_interval_seconds=1,
                        report_interval_seconds=5, adaptation=adaptation,
                        **{"privacy": PrivacySettings(upload_form="factors"), **kw})


@pytest.fixture()
def env(published, tmp_path):
    """A fresh store (a copy of the published one) and an agent with its own state dir."""
    import shutil

    root = tmp_path / "store"
    shutil.copytree(published["root"], root)
    store = FlakyStore(root)
    store.put(StoreLayout.desired_state(NS, FLEET), releasekit.signed(_desired(published)))
    store.writes.clear()
    clock = Clock()
    agent = EdgeAgent(AgentConfig(node=NODE, fleet=FLEET, namespace=NS, release_keys=releasekit.KEYS, state_dir=tmp_path / "state"), store, clock=clock)
    yield {"agent": agent, "store": store, "clock": clock, "state": tmp_path / "state", "published": published}
    agent.close()


def _stored_report(store) -> AgentReport:
    return AgentReport.model_validate_json(LocalAgentStore.get(store, StoreLayout.agent_report(NS, FLEET, NODE)))


def _set_desired(store, desired):
    time.sleep(0.01)  # the local store's ETag is mtime + size
    LocalAgentStore.put(store, StoreLayout.desired_state(NS, FLEET), releasekit.signed(desired))


def test_loads_serves_adapts_uploads_and_reports(env):
    agent, store, clock = env["agent"], env["store"], env["clock"]
    with pytest.raises(NotReady):
        agent.predict(["hello there"])
    agent.tick()
    assert agent.ready()
    out = agent.predict(["please cancel my order", "where is it"])
    assert out.revision == 1 and out.profile == "s0" and not out.adapted
    assert [p.label in LABELS for p in out.predictions] == [True, True]
    rep = _stored_report(store)
    assert (rep.seq, rep.revision, rep.tier, rep.state, rep.desired_generation) == (1, 1, "small", "Ready", 1)
    assert rep.bytes_down == bundles.bundle_bytes(env["published"]["manifests"][1]) + len(
        LocalAgentStore.get(store, env["published"]["keys"][1])) + len(_reference(1))

    with pytest.raises(BadField, match="label"):
        agent.feedback("some text here", "not_an_intent")
    for text, label in FEEDBACK:
        agent.feedback(text, label)
    agent.learner.wait(60)
    assert agent.learner.counters.last_error == ""
    assert agent.learner.counters.adaptations_total == 1
    blob = LocalAgentStore.get(store, StoreLayout.delta(NS, FLEET, 1, NODE))
    manifest = deltas.verify_upload(blob, forbidden_texts=[t for t, _ in FEEDBACK])
    assert manifest.node == NODE and manifest.base_revision == 1 and manifest.num_samples == len(FEEDBACK)
    assert not any(t.encode() in blob for t, _ in FEEDBACK)
    assert agent.predict(["please cancel my order"]).adapted

    clock.advance()
    agent.tick()
    rep = _stored_report(store)
    assert rep.seq == 2 and rep.state == "Ready" and rep.revision == 1 and rep.desired_generation == 1
    assert rep.feedback_total == len(FEEDBACK) and rep.adaptations_total == 1 and rep.delta_revision == 1
    assert rep.requests_total == 2 and rep.latency.count == 2
    assert rep.window is not None and rep.window.n == 3  # predictions only (feedback is judged, not counted)
    assert rep.window.feedback_total == len(FEEDBACK)
    assert rep.drift_signal == "confidence" and rep.drift_score is not None
    assert rep.bytes_up > len(blob)
    raw = LocalAgentStore.get(store, StoreLayout.agent_report(NS, FLEET, NODE)).decode()
    assert not any(t in raw for t, _ in FEEDBACK)


def test_swap_to_revision_2_keeps_answering(env):
    agent, store, clock = env["agent"], env["store"], env["clock"]
    agent.tick()
    before = agent.report().bytes_down
    errors: list[BaseException] = []
    seen: set[int] = set()
    stop = threading.Event()

    def hammer():
        while not stop.is_set():
            try:
                seen.add(agent.predict(["where is my parcel"]).revision)
            except BaseException as err:  # noqa: BLE001
                errors.append(err)

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        _set_desired(store, _desired(env["published"], revision=2, generation=2))
        clock.advance()
        agent.tick()
        assert agent.holder.current.revision == 2
        deadline = time.monotonic() + 10
        while 2 not in seen and time.monotonic() < deadline:
            stop.wait(0.01)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert errors == [] and seen == {1, 2}
    m1, m2 = env["published"]["manifests"][1], env["published"]["manifests"][2]
    changed = [m for m in m2.modules if m.sha256 not in {x.sha256 for x in m1.modules}]
    assert [m.name for m in changed] == ["head.s0"]  # only the changed module is fetched
    rep = agent.report()
    manifest_bytes = len(LocalAgentStore.get(store, env["published"]["keys"][2]))
    assert rep.bytes_down - before == changed[0].bytes + manifest_bytes + len(_reference(2))
    assert rep.revision == 2 and rep.desired_generation == 2 and rep.state == "Ready"


def test_tampered_module_is_refused_and_old_revision_keeps_serving(env):
    agent, store, clock = env["agent"], env["store"], env["clock"]
    agent.tick()
    _set_desired(store, _desired(env["published"], revision=3, generation=2))
    clock.advance()
    agent.tick()
    assert agent.holder.current.revision == 1
    assert agent.predict(["cancel it"]).revision == 1
    rep = _stored_report(store)
    assert rep.state == "Degraded" and rep.modules_rejected == 1 and rep.revision == 1
    assert "sha256 mismatch" in rep.message and "head.s0" in rep.message and "still serving revision 1" in rep.message
    clock.advance()
    agent.tick()  # the same target is not fetched again until the desired state changes
    assert agent.cache.modules_rejected == 1


def _refused(agent, store, clock, why: str, count: int) -> None:
    """The agent refused what the store holds: still revision 1, Degraded, saying why."""
    clock.advance()
    agent.tick()
    assert agent.holder.current.revision == 1 and agent.predict(["cancel it"]).revision == 1
    rep = _stored_report(store)
    assert rep.state == "Degraded" and rep.revision == 1 and rep.documents_refused == count, rep
    assert why in rep.message, rep.message


def test_unsigned_forged_replayed_or_foreign_desired_states_are_refused(env):
    """Whoever can write the store (or sits on the path to it) cannot choose what a node runs."""
    agent, store, clock, published = env["agent"], env["store"], env["clock"], env["published"]
    agent.tick()
    assert agent.holder.current.revision == 1
    rev2 = _desired(published, revision=2, generation=5)
    # 1. the plain document, as releases before signing stored it
    time.sleep(0.01)
    LocalAgentStore.put(store, StoreLayout.desired_state(NS, FLEET), rev2.model_dump_json().encode())
    _refused(agent, store, clock, "not a signed envelope", 1)
    # 2. signed, but by a key the agent was not given
    time.sleep(0.01)
    stranger = release_signing.signer_from_pem(release_signing.generate_private_pem())
    LocalAgentStore.put(store, StoreLayout.desired_state(NS, FLEET), releasekit.signed(rev2, stranger))
    _refused(agent, store, clock, "no valid signature by a trusted key", 2)
    # 3. the operator's envelope with its payload changed after signing (the revision swapped)
    envelope = json.loads(releasekit.signed(rev2))
    forged = rev2.model_copy(update={"generation": 7}).model_dump_json().encode()
    envelope["payload"] = base64.b64encode(forged).decode()
    time.sleep(0.01)
    LocalAgentStore.put(store, StoreLayout.desired_state(NS, FLEET), json.dumps(envelope).encode())
    _refused(agent, store, clock, "no valid signature by a trusted key", 3)
    # 4. a pin that does not match the manifest in the store (the manifest swapped for another)
    swapped = rev2.model_copy(update={"target": [rev2.target[0].model_copy(update={"manifest_sha256": "f" * 64})]})
    _set_desired(store, swapped)
    _refused(agent, store, clock, "does not match the sha256 the signed desired state pins", 4)
    # 5. properly signed: followed, and the agent is Ready again
    _set_desired(store, rev2.model_copy(update={"generation": 8}))
    clock.advance()
    agent.tick()
    rep = _stored_report(store)
    assert agent.holder.current.revision == 2 and rep.state == "Ready" and rep.desired_generation == 8
    # 6. an older signed document put back (a replay of generation 5) is refused: never go back
    _set_desired(store, _desired(published, revision=1, generation=5))
    clock.advance()
    agent.tick()
    rep = _stored_report(store)
    assert agent.holder.current.revision == 2 and rep.state == "Degraded" and rep.documents_refused == 5
    assert "generation 5 is older than the one followed (8)" in rep.message
    # 7. another fleet's signed document copied here
    _set_desired(store, _desired(published, revision=1, generation=9).model_copy(update={"fleet": "other"}))
    clock.advance()
    agent.tick()
    rep = _stored_report(store)
    assert agent.holder.current.revision == 2 and rep.documents_refused == 6
    assert f"signed for fleet {NS}/other" in rep.message
    # 8. after a restart too: the generation followed is kept on local disk
    agent.close()
    again = EdgeAgent(AgentConfig(node=NODE, fleet=FLEET, namespace=NS, release_keys=releasekit.KEYS,
                                  state_dir=env["state"]), store, clock=clock)
    try:
        assert again.restore() and again.holder.current.revision == 2
        _set_desired(store, _desired(published, revision=1, generation=6))
        clock.advance()
        again.tick()
        rep = _stored_report(store)
        assert again.holder.current.revision == 2 and "older than the one followed (8)" in rep.message
        # 9. but a fleet deleted and created again under its name starts its generations anew
        _set_desired(store, _desired(published, revision=1, generation=1).model_copy(update={"fleet_uid": "new"}))
        clock.advance()
        again.tick()
        assert again.holder.current.revision == 1 and _stored_report(store).state == "Ready"
    finally:
        again.close()


def test_a_drift_reference_that_is_not_the_pinned_one_gives_no_drift_score(env):
    """A reference swapped in the store (to fake or hide drift) is not used: the model still serves."""
    agent, store = env["agent"], env["store"]
    forged = _reference(2)  # a real reference, of another revision: well-formed, not the pinned one
    LocalAgentStore.put(store, StoreLayout.drift_reference(NS, TEACHER, 1, "s0"), forged)
    agent.tick()
    assert agent.holder.current.revision == 1 and agent.holder.current.reference is None
    rep = _stored_report(store)
    assert rep.documents_refused == 1 and rep.drift_score is None
    assert "no drift score" in agent.notes["reference"] and "not the reference the manifest pins" in agent.notes["reference"]


def test_a_desired_state_of_the_previous_schema_version_is_refused_and_serving_goes_on(env):
    """Schema version 3 (before privacy.upload_bits / upload_head_bits), signed by the operator's key, as the
    previous operator wrote it: refused, saying which version it wants, until the operator rewrites it."""
    agent, store, clock, published = env["agent"], env["store"], env["clock"], env["published"]
    agent.tick()
    assert agent.holder.current.revision == 1
    v3 = _desired(published, revision=2, generation=2).model_dump(mode="json")
    v3["privacy"].pop("upload_bits"), v3["privacy"].pop("upload_head_bits")
    v3["schema_version"] = 3
    time.sleep(0.01)
    LocalAgentStore.put(store, StoreLayout.desired_state(NS, FLEET), release_signing.sign_bytes(
        json.dumps(v3).encode(), ReleaseSigning.PAYLOAD_TYPES["DesiredState"], releasekit.SIGNER))
    _refused(agent, store, clock, "not a valid DesiredState: schema_version: Input should be 4", 1)
    _set_desired(store, _desired(published, revision=2, generation=3))  # rewritten by this operator: followed
    clock.advance()
    agent.tick()
    rep = _stored_report(store)
    assert agent.holder.current.revision == 2 and rep.state == "Ready" and rep.desired_generation == 3


def test_a_manifest_whose_tokenizer_is_not_the_pinned_one_is_refused(env, tmp_path):
    """A manifest naming another tokenizer (a local directory with other files), or pinning
    another hash, is refused before anything is loaded."""
    agent, store, clock, published = env["agent"], env["store"], env["clock"], env["published"]
    agent.tick()
    good = BundleManifest.model_validate_json(LocalAgentStore.get(store, published["keys"][2]))
    for config, pin, why in (
        ({**good.config, "tokenizer": "sentence-transformers/some-hub-name"}, good.tokenizer_sha256,
         "nor a local directory"),
        (good.config, "a" * 64, "the manifest pins"),
    ):
        bad = good.model_copy(update={"config": config, "tokenizer_sha256": pin})
        raw = bad.model_dump_json().encode()
        key = published["keys"][2] + f".{pin[:4]}"
        LocalAgentStore.put(store, key, raw)
        d = _desired(published, revision=2, generation=agent.desired.generation + 1)
        d = d.model_copy(update={"target": [releasekit.pinned_tier("small", "s0", key, raw)]})
        _set_desired(store, d)
        clock.advance()
        agent.tick()
        rep = _stored_report(store)
        assert agent.holder.current.revision == 1 and rep.state == "Degraded" and why in rep.message, rep.message
    assert rep.documents_refused == 2


def test_store_outage_spools_in_order_then_flushes(env):
    agent, store, clock = env["agent"], env["store"], env["clock"]
    agent.tick()
    store.down = True
    for i in range(3):
        clock.advance()
        agent.tick()
        assert agent.predict([f"where is my parcel {i}"]).revision == 1
    for text, label in FEEDBACK:
        agent.feedback(text, label)
    agent.learner.wait(60)
    assert agent.learner.counters.adaptations_total == 1
    clock.advance()
    agent.tick()
    rep = agent.snapshot()
    assert rep.state == "Degraded" and "unreachable" in rep.message
    spooled = [it.key for it in agent.outbox.spool.items()]
    report_key = StoreLayout.agent_report(NS, FLEET, NODE)
    delta_key = StoreLayout.delta(NS, FLEET, 1, NODE)
    assert spooled == [report_key] * 3 + [delta_key, report_key]
    seqs = [AgentReport.model_validate_json(it.read()).seq for it in agent.outbox.spool.items() if it.kind == "report"]
    assert seqs == [2, 3, 4, 5]

    store.down = False
    store.writes.clear()
    clock.advance()
    agent.tick()
    assert store.writes[:5] == spooled and store.writes[5:] == [report_key]
    final = _stored_report(store)
    assert final.seq == 6 and final.spool_depth == 0 and final.spool_flushed_total == 5 and final.state == "Ready"
    deltas.verify_upload(LocalAgentStore.get(store, delta_key), forbidden_texts=[t for t, _ in FEEDBACK])


def test_restart_serves_last_good_model_before_the_store_answers(env):
    agent, store = env["agent"], env["store"]
    agent.tick()
    agent.report()
    store.down = True
    again = EdgeAgent(AgentConfig(node=NODE, fleet=FLEET, namespace=NS, release_keys=releasekit.KEYS, state_dir=env["state"]), store, clock=env["clock"])
    try:
        assert again.restore()
        assert again.predict(["refund please"]).revision == 1
        again.tick()  # store down: still serving, report spooled with the next seq
        item = again.outbox.spool.items()[-1]
        rep = AgentReport.model_validate_json(item.read())
        assert rep.seq == 3 and rep.revision == 1 and rep.state == "Degraded" and rep.bytes_down == 0
    finally:
        again.close()


def test_pure_decisions(published):
    d = _desired(published, revision=2, generation=3)
    assert target_for(d, NODE)[0] == 2
    assert "not in the fleet" in target_for(d, "other-node")
    canary = d.model_copy(update={"wave": "canary", "canary_nodes": [], "previous_revision": None})
    assert "no revision" in target_for(canary, NODE)
    assert agent_state(False, False, {}) == "Starting"
    assert agent_state(True, True, {}) == "Updating"
    assert agent_state(True, False, {"bundle": "x"}) == "Degraded"
    assert agent_state(False, False, {"bundle": "x"}) == "Failed"
    assert agent_state(True, False, {}) == "Ready"
    json.loads(d.model_dump_json())


def test_real_store_client_unreachable_keeps_serving(env, published):
    """The real ecc_workloads.store.Store against an endpoint nobody listens on: the agent
    restores from disk, keeps answering and spools its report."""
    from ecc_workloads.contracts import StoreSettings
    from ecc_workloads.agent.runner import S3AgentStore
    from ecc_workloads.store import Store

    env["agent"].tick()  # a good model on disk
    dead = S3AgentStore(Store(StoreSettings(endpoint="127.0.0.1:9", access_key="a", secret_key="b"),
                              retry_seconds=0.3, connect_timeout=0.3))
    agent = EdgeAgent(AgentConfig(node=NODE, fleet=FLEET, namespace=NS, release_keys=releasekit.KEYS, state_dir=env["state"]), dead)
    try:
        assert agent.restore()
        agent.tick()
        assert agent.predict(["track my parcel"]).revision == 1
        rep = agent.snapshot()
        assert rep.state == "Degraded" and "unreachable" in rep.message and rep.spool_depth == 1
    finally:
        agent.close()


TEACHER_CA = tls.cert_pem(tls.make_ca("teacher test CA")[0]).decode()


def test_cloud_assist_from_the_predict_path(env, published, monkeypatch):
    """Low-confidence predictions go (scrubbed) to the teacher's v2 endpoint named after the
    teacher, over TLS checked against the desired state's CA; its labels become pseudo-labels;
    a failing teacher never fails a request."""
    import httpx

    agent, store = env["agent"], env["store"]
    calls = []

    def fake_post(url, json, timeout, verify):
        calls.append((url, json, verify))
        n = json["inputs"][0]["shape"][0]
        body = {"outputs": [{"name": "intent", "datatype": "BYTES", "shape": [n], "data": ["get_refund"] * n},
                            {"name": "confidence", "datatype": "FP32", "shape": [n], "data": [0.99] * n}]}
        return httpx.Response(200, json=body, request=httpx.Request("POST", url))

    monkeypatch.setattr(httpx, "post", fake_post)
    privacy = PrivacySettings(cloud_assist=True, assist_below_confidence=1.0, upload_form="factors")  # all ask
    _set_desired(store, _desired(published, teacher_url="https://teacher.shop:8080", teacher_ca_pem=TEACHER_CA,
                                 privacy=privacy))
    agent.tick()
    out = agent.predict(["refund to jane.roe@example.com please"])
    assert out.revision == 1
    agent.learner.teacher._pool.shutdown(wait=True)
    url, body, verify = calls[0]
    assert url == f"https://teacher.shop:8080/v2/models/{TEACHER}/infer"
    assert isinstance(verify, ssl.SSLContext) and verify.verify_mode == ssl.CERT_REQUIRED and verify.check_hostname
    assert "jane.roe@example.com" not in body["inputs"][0]["data"][0]
    assert [(i.label, i.source) for i in agent.learner.buffer.items] == [("get_refund", "teacher")]
    assert agent.snapshot().assists_total == 1

    def failing_post(url, json, timeout, verify):
        raise httpx.ConnectError("teacher unreachable")

    monkeypatch.setattr(httpx, "post", failing_post)
    from ecc_workloads.agent.learning import TeacherClient

    agent.learner.teacher = TeacherClient()
    assert agent.predict(["anything at all"]).revision == 1
    agent.learner.teacher._pool.shutdown(wait=True)
    assert agent.learner.teacher.failed == 1


@pytest.mark.parametrize("url,ca", [("http://teacher.shop:8080", TEACHER_CA), ("https://teacher.shop:8080", None)])
def test_cloud_assist_is_skipped_for_a_plaintext_teacher_or_without_its_ca(env, published, monkeypatch, caplog, url, ca):
    """Nothing is sent; the skip is counted like a failed assist and logged once."""
    import httpx

    agent, store = env["agent"], env["store"]
    calls = []
    monkeypatch.setattr(httpx, "post", lambda *a, **k: calls.append(a))
    privacy = PrivacySettings(cloud_assist=True, assist_below_confidence=1.0)
    _set_desired(store, _desired(published, teacher_url=url, teacher_ca_pem=ca, privacy=privacy))
    agent.tick()
    with caplog.at_level("WARNING", logger="ecc.agent.learning"):
        assert agent.predict(["where is my parcel"]).revision == 1
        assert agent.predict(["cancel the order"]).revision == 1
    agent.learner.teacher._pool.shutdown(wait=True)
    assert calls == []
    rep = agent.snapshot()
    assert rep.assists_failed_total == 2 and rep.assists_total == 0
    skipped = [r for r in caplog.records if "cloud assist skipped" in r.getMessage()]
    assert len(skipped) == 1 and ("https://" in skipped[0].getMessage() or "teacher_ca_pem" in skipped[0].getMessage())


def test_probes_are_answered_but_never_learned_from(env, published, monkeypatch):
    """PredictRequest.learn=False (held-out evaluation): no cloud assist, no drift window."""
    import httpx

    agent, store = env["agent"], env["store"]
    calls = []
    monkeypatch.setattr(httpx, "post", lambda url, json, timeout, verify: calls.append(url))
    privacy = PrivacySettings(cloud_assist=True, assist_below_confidence=1.0)  # every prediction would ask
    _set_desired(store, _desired(published, teacher_url="https://teacher.shop:8080", teacher_ca_pem=TEACHER_CA,
                                 privacy=privacy))
    agent.tick()
    window_before = len(agent.learner.window._preds)
    out = agent.predict(["where is my parcel", "cancel the order"], learn=False)
    assert out.revision == 1 and len(out.predictions) == 2
    assert agent.snapshot().assists_total == 0
    assert len(agent.learner.window._preds) == window_before
    agent.predict(["where is my parcel"])  # a user request does ask
    agent.learner.teacher._pool.shutdown(wait=True)
    assert len(calls) == 1, "only the user request went for cloud assist"


def test_module_cache_cap_evicts_least_recently_used_never_the_served_model(env):
    store, published = env["store"], env["published"]
    size1 = bundles.bundle_bytes(published["manifests"][1])
    agent = EdgeAgent(AgentConfig(node=NODE, fleet=FLEET, namespace=NS, release_keys=releasekit.KEYS, state_dir=env["state"] / "capped",
                                  module_cache_max_bytes=size1 + 10), store, clock=env["clock"])
    try:
        agent.tick()
        assert agent.cache.bytes() == size1 and agent.cache.evictions_total == 0
        _set_desired(store, _desired(published, revision=2, generation=2))
        env["clock"].advance()
        agent.tick()
        assert agent.holder.current.revision == 2
        assert agent.cache.evictions_total == 1  # revision 1's head: the only module it alone used
        assert agent.cache.holds(published["manifests"][2]) and agent.cache.bytes() <= size1 + 10
        rep = agent.report()
        assert rep.cache_evictions_total == 1 and rep.cache_bytes == agent.cache.bytes()
    finally:
        agent.close()
    tiny = EdgeAgent(AgentConfig(node=NODE, fleet=FLEET, namespace=NS, release_keys=releasekit.KEYS, state_dir=env["state"] / "capped",
                                 module_cache_max_bytes=1000), store, clock=env["clock"])
    try:  # a cap below one model: the served model's modules stay, and the report says so
        assert tiny.restore() and tiny.holder.current.revision == 2
        assert tiny.cache.holds(published["manifests"][2]) and "over its cap" in tiny.snapshot().message
    finally:
        tiny.close()


def test_a_short_request_is_not_stuck_behind_a_long_one():
    """The model is taken FORWARD_CHUNK utterances at a time, in the order asked: a one-line
    request that arrives during a long one runs after the long one's current chunk."""
    import threading
    import types

    from ecc_workloads.agent import model as agent_model

    order, gate = [], threading.Event()

    class SlowPredictor:
        def forward(self, texts):
            order.append(len(texts))
            if len(order) == 1:
                gate.wait(10)  # the long request holds the model for its first chunk
            return torch.zeros(len(texts), 2), torch.zeros(len(texts), 3)

    holder = agent_model.ModelHolder()
    holder.swap(types.SimpleNamespace(predictor=SlowPredictor()))
    n = 3 * agent_model.FORWARD_CHUNK
    long = threading.Thread(target=holder.forward, args=(["x"] * n,))
    long.start()
    while not order:
        pass
    short = threading.Thread(target=holder.forward, args=(["y"],))
    short.start()
    while holder._infer_lock.waiting < 2:  # the short request is queued behind the first chunk
        pass
    gate.set()
    long.join(10), short.join(10)
    assert order == [agent_model.FORWARD_CHUNK, 1, agent_model.FORWARD_CHUNK, agent_model.FORWARD_CHUNK]
    _, probs, unit = holder.forward(["z"] * (agent_model.FORWARD_CHUNK + 3))
    assert probs.shape == (agent_model.FORWARD_CHUNK + 3, 2) and unit.shape[0] == agent_model.FORWARD_CHUNK + 3
