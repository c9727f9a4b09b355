"""Simulated agents: seeded choices, report content per site, revision progression, and a run
against an in-memory store double."""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from ecc_workloads.sim import agents as sa
from ecc_workloads.contracts import AgentReport, BundleManifest, DesiredState, DesiredTier, ModuleRef, StoreLayout

import releasekit

NS, FLEET, TEACHER = "ns1", "fleet1", "t1"


def sha(tag: str) -> str:
    return hashlib.sha256(tag.encode()).hexdigest()


def manifest(revision: int, profile: str, modules: dict[str, int]) -> BundleManifest:
    return BundleManifest(revision=revision, profile=profile, blocks=[0], labels=["a", "b"], base_model="tiny",
                          tokenizer_sha256="e" * 64,
                          modules=[ModuleRef(name=n, sha256=sha(n), bytes=b) for n, b in modules.items()])


def desired(revision: int, nodes: list[str], *, generation: int | None = None, wave: str = "all",
            canary: list[str] | None = None, previous: int | None = None) -> DesiredState:
    def tiers(rev):
        return [DesiredTier(tier="small", profile="s1", manifest_sha256=releasekit.ANY_SHA,
                            manifest_key=StoreLayout.bundle_manifest(NS, TEACHER, rev, "s1"))]
    return DesiredState(namespace=NS, fleet=FLEET, teacher=TEACHER, generation=generation or revision,
                        target_revision=revision, target=tiers(revision), previous_revision=previous,
                        previous=tiers(previous) if previous else [], wave=wave, canary_nodes=canary or [],
                        node_tiers={n: "small" for n in nodes}, poll_interval_seconds=2, report_interval_seconds=10)


def bundle(revision: int, modules: dict[str, int]) -> sa.TierBundle:
    return sa.TierBundle("s1", 500, {sha(n): b for n, b in modules.items()})


def catalog_for(*revs: tuple[int, dict[str, int]]) -> sa.Catalog:
    return {StoreLayout.bundle_manifest(NS, TEACHER, r, "s1"): bundle(r, m) for r, m in revs}


# ---------------------------------------------------------------------------
# seeded choices
# ---------------------------------------------------------------------------
def test_select_fraction_is_exact_deterministic_and_order_free():
    nodes = [f"n{i}" for i in range(200)]
    a = sa.select_fraction(nodes, 0.1, seed=7, salt="late")
    assert len(a) == 20
    assert a == sa.select_fraction(list(reversed(nodes)), 0.1, seed=7, salt="late")
    assert a != sa.select_fraction(nodes, 0.1, seed=8, salt="late")
    assert a != sa.select_fraction(nodes, 0.1, seed=7, salt="silent")
    assert sa.select_fraction(nodes, 0.0, 7, "late") == frozenset()
    assert len(sa.select_fraction(nodes, 1.0, 7, "late")) == 200


def test_failures_are_drawn_per_revision_and_only_from_the_configured_revision():
    nodes = [f"n{i}" for i in range(40)]
    cfg = sa.SimConfig(seed=1, failure_fraction=0.25, fail_from_revision=2)
    assert not any(sa.fails_revision(n, 1, nodes, cfg) for n in nodes)
    failing2 = {n for n in nodes if sa.fails_revision(n, 2, nodes, cfg)}
    failing3 = {n for n in nodes if sa.fails_revision(n, 3, nodes, cfg)}
    assert len(failing2) == len(failing3) == 10
    assert failing2 != failing3


def test_drift_is_seeded_higher_on_shifted_sites_and_lower_on_newer_revisions():
    cfg = sa.SimConfig(seed=3)
    base = [sa.drift_score("base", 1, cfg, ("n", i)) for i in range(50)]
    typos = [sa.drift_score("typos", 1, cfg, ("n", i)) for i in range(50)]
    typos_r2 = [sa.drift_score("typos", 2, cfg, ("n", i)) for i in range(50)]
    assert max(base) < min(typos)
    assert sum(typos_r2) / 50 < 0.6 * sum(typos) / 50
    assert all(0 <= x <= 1 for x in base + typos + typos_r2)
    assert base == [sa.drift_score("base", 1, cfg, ("n", i)) for i in range(50)]
    assert base != [sa.drift_score("base", 1, sa.SimConfig(seed=4), ("n", i)) for i in range(50)]
    assert sa.drift_score("typos", None, cfg, ("n", 1)) is None
    assert sa.drift_score("mars", 1, sa.SimConfig(drift_noise=0, default_drift=0.2), ("n", 1)) == 0.2
    custom = sa.SimConfig(site_drift={"typos": 0.9}, drift_noise=0)
    assert sa.drift_score("typos", 1, custom, ("n", 1)) == 0.9


def test_config_errors_name_the_field():
    with pytest.raises(ValueError, match="site_drift"):
        sa.SimConfig(site_drift={"typos": 1.5})
    with pytest.raises(ValueError, match="apply_delay_seconds"):
        sa.SimConfig(apply_delay_seconds=(5.0, 1.0))
    with pytest.raises(ValueError, match="SITE=LEVEL"):
        sa.parse_site_drift(["typos:0.5"])
    assert sa.parse_site_drift(["typos=0.6", "base=0"]) == {"typos": 0.6, "base": 0.0}


# ---------------------------------------------------------------------------
# revision progression
# ---------------------------------------------------------------------------
def test_a_node_fetches_what_it_lacks_and_reaches_the_revision_after_its_delay():
    cfg = sa.SimConfig(seed=0, apply_delay_seconds=(2.0, 2.0))
    cat = catalog_for((1, {"emb": 1000, "block.0": 300}), (2, {"emb": 1000, "block.0.v2": 400}))
    node = sa.NodeSim("n1", site="typos")
    d1 = desired(1, ["n1"])
    sa.advance(node, d1, 0.0, cfg, cat)
    assert (node.state, node.revision, node.bytes_down) == ("Updating", None, 500 + 1300)
    sa.advance(node, d1, 1.9, cfg, cat)
    assert node.state == "Updating"
    sa.advance(node, d1, 2.0, cfg, cat)
    assert (node.state, node.revision, node.profile, node.desired_generation) == ("Ready", 1, "s1", 1)
    d2 = desired(2, ["n1"], previous=1)
    sa.advance(node, d2, 10.0, cfg, cat)
    assert node.bytes_down == 1800 + 500 + 400  # the shared embeddings are not fetched again
    sa.advance(node, d2, 12.0, cfg, cat)
    assert (node.state, node.revision) == ("Ready", 2)


def test_canary_waves_and_a_missing_previous_revision():
    cfg = sa.SimConfig(apply_delay_seconds=(0.0, 0.0))
    cat = catalog_for((1, {"emb": 10}), (2, {"emb": 10, "b": 5}))
    d = desired(2, ["c", "rest"], wave="canary", canary=["c"], previous=1)
    c, rest = sa.NodeSim("c"), sa.NodeSim("rest")
    for n in (c, rest):
        sa.advance(n, d, 0.0, cfg, cat)
    assert (c.revision, rest.revision) == (2, 1)
    halted = desired(2, ["c", "rest"], wave="halted", canary=["c"], previous=1)
    sa.advance(rest, halted, 1.0, cfg, cat)
    assert rest.revision == 1
    first = desired(1, ["c", "new"], wave="canary", canary=["c"])
    new = sa.NodeSim("new")
    sa.advance(new, first, 0.0, cfg, cat)
    assert (new.state, new.revision) == ("Starting", None)


def test_a_failing_node_stays_failed_on_its_old_revision_until_a_newer_one():
    cfg = sa.SimConfig(apply_delay_seconds=(0.0, 0.0))
    cat = catalog_for((1, {"emb": 10}), (2, {"emb": 10}), (3, {"emb": 10}))
    node = sa.NodeSim("n")
    sa.advance(node, desired(1, ["n"]), 0.0, cfg, cat)
    fails2 = lambda n, r: r == 2  # noqa: E731
    sa.advance(node, desired(2, ["n"], previous=1), 1.0, cfg, cat, fails=fails2)
    assert (node.state, node.revision, node.failed_revision) == ("Failed", 1, 2)
    assert "revision 2" in node.message
    sa.advance(node, desired(2, ["n"], previous=1), 5.0, cfg, cat, fails=fails2)
    assert node.state == "Failed"
    sa.advance(node, desired(3, ["n"], previous=2), 6.0, cfg, cat, fails=fails2)
    assert (node.state, node.revision) == ("Ready", 3)


def test_late_nodes_reach_revisions_later():
    cfg = sa.SimConfig(apply_delay_seconds=(1.0, 1.0), late_extra_seconds=30)
    cat = catalog_for((1, {"emb": 10}))
    on_time, late = sa.NodeSim("a"), sa.NodeSim("b")
    d = desired(1, ["a", "b"])
    for t in (0.0, 2.0):
        sa.advance(on_time, d, t, cfg, cat)
        sa.advance(late, d, t, cfg, cat, late=True)
    assert (on_time.revision, late.revision) == (1, None)
    sa.advance(late, d, 31.0, cfg, cat, late=True)
    assert late.revision == 1


def test_a_missing_module_fails_the_node_with_a_message():
    cat = {StoreLayout.bundle_manifest(NS, TEACHER, 1, "s1"): sa.TierBundle("s1", 0, {}, "module emb does not exist")}
    node = sa.NodeSim("n")
    sa.advance(node, desired(1, ["n"]), 0.0, sa.SimConfig(), cat)
    assert node.state == "Failed" and "emb" in node.message and node.revision is None


def test_report_content_is_counts_only_and_seeded():
    cfg = sa.SimConfig(seed=5, apply_delay_seconds=(0.0, 0.0))
    cat = catalog_for((1, {"emb": 10}))
    d = desired(1, ["n"])

    def make():
        node = sa.NodeSim("n", site="typos")
        sa.advance(node, d, 0.0, cfg, cat)
        return [sa.build_report(node, FLEET, d, float(i), 1.7e9, cfg) for i in range(3)]

    a, b = make(), make()
    assert [r.model_dump() for r in a] == [r.model_dump() for r in b]
    r = a[-1]
    assert (r.simulated, r.state, r.revision, r.seq, r.tier, r.profile) == (True, "Ready", 1, 3, "small", "s1")
    assert r.drift_score is not None and r.drift_score > 0.3 and r.drift_signal == "confidence"
    assert r.latency.count > 0 and r.latency.p50_ms < r.latency.p95_ms
    assert r.requests_total == sum(x.latency.count for x in a)
    assert r.time.endswith("Z")
    text_like = {k: v for k, v in r.model_dump().items() if isinstance(v, str)}
    assert set(text_like) <= {"kind", "node", "fleet", "time", "state", "message", "tier", "profile", "drift_signal"}


def test_reports_are_due_when_the_state_changes_or_the_interval_passed():
    node = sa.NodeSim("n")
    assert sa.report_due(node, 0.0, 10)
    node.last_report_at, node.last_reported = 0.0, node.snapshot_key()
    assert not sa.report_due(node, 5.0, 10)
    assert sa.report_due(node, 10.0, 10)
    node.state = "Updating"
    assert sa.report_due(node, 5.0, 10)
    # with jitter, nodes reported together come due at different times within ±20 %
    nodes = [sa.NodeSim(f"n{i}", seq=1) for i in range(50)]
    for n in nodes:
        n.last_report_at, n.last_reported = 0.0, n.snapshot_key()
    due_at = [next(t / 10 for t in range(70, 130) if sa.report_due(n, t / 10, 10, 0.2, seed=1)) for n in nodes]
    assert min(due_at) >= 8.0 and max(due_at) <= 12.0 and len(set(due_at)) > 10


def test_report_slots_spread_periodic_reports_evenly_whatever_the_state_changes_did():
    nodes = [sa.NodeSim(f"n{i}", seq=1) for i in range(400)]
    for n in nodes:  # every node reported together (a rollout's state change)
        n.last_report_at, n.last_reported = 0.0, n.snapshot_key()
    per_second = []
    for t in range(1, 41):
        due = [n for n in nodes if sa.report_due(n, float(t), 20, 0.2, seed=3, slots=True)]
        for n in due:
            n.last_report_at = float(t)
        per_second.append(len(due))
    # 1/20 of the nodes each second (±, the phases are seeded hashes), each node once per 20 s
    assert all(5 <= k <= 40 for k in per_second) and sum(per_second) == 2 * len(nodes)
    assert abs(sum(per_second[:5]) / len(nodes) - 5 / 20) < 0.08
    # a state change is still reported at once
    nodes[0].state = "Updating"
    assert sa.report_due(nodes[0], nodes[0].last_report_at + 0.1, 20, slots=True)


def test_a_report_summary_is_a_valid_report_of_the_folded_fields():
    full = sa.AgentReport(node="n1", fleet=FLEET, seq=7, time="2026-12-06T10:00:00.000000Z", state="Ready",
                          message="fine", simulated=True, tier="small", profile="s1", revision=3,
                          desired_generation=5, drift_score=0.25, drift_signal="confidence",
                          latency=sa.LatencySummary(count=3, p50_ms=1.0, p95_ms=2.0), requests_total=9,
                          bytes_down=123, bytes_up=45)
    meta = sa.report_summary_metadata(full)
    assert list(meta) == [sa.REPORT_SUMMARY_METADATA]
    text = meta[sa.REPORT_SUMMARY_METADATA]
    assert text.isascii() and len(text) < 300
    back = AgentReport.model_validate_json(text)
    assert set(json.loads(text)) <= sa.REPORT_SUMMARY_FIELDS
    for f in sa.REPORT_SUMMARY_FIELDS:
        assert getattr(back, f) == getattr(full, f)
    assert back.message == "" and back.latency.count == 0  # the rest: defaults
    odd = full.model_copy(update={"node": "n\u00e9"})
    assert sa.report_summary_metadata(odd) == {}  # not ASCII: no header, the operator reads the object


def test_played_nodes_by_source():
    d = desired(1, ["fake-1", "fake-2", "proc-0", "other"])
    known = {"fake-1": sa.NodeInfo("fake-1", "typos", "kwok"), "fake-2": sa.NodeInfo("fake-2", None, "kwok"),
             "proc-0": sa.NodeInfo("proc-0", "base", "kubelet")}
    assert sa.played_nodes(d, "kube", known) == {"fake-1": "typos", "fake-2": None}
    assert sa.played_nodes(d, "desired-state", known) == {"fake-1": "typos", "fake-2": None, "other": None}
    assert sa.played_nodes(d, "desired-state", None, re.compile("^proc-")) == {
        "fake-1": None, "fake-2": None, "other": None}
    with pytest.raises(ValueError, match="node source"):
        sa.played_nodes(d, "dns", known)


# ---------------------------------------------------------------------------
# a run against an in-memory store double
# ---------------------------------------------------------------------------
class MemoryStore:
    """The four operations SimRunner uses, in memory, with ETags and call counts."""

    def __init__(self):
        self.objects: dict[str, bytes] = {}
        self.metadata: dict[str, dict[str, str]] = {}
        self.calls = {"get": 0, "get_not_modified": 0, "stat": 0, "put": 0}
        self.fail_puts = 0

    def etag(self, key):
        return hashlib.md5(self.objects[key]).hexdigest()

    def get_if_changed(self, key, etag):
        if key not in self.objects:
            raise KeyError(key)
        if etag is not None and etag == self.etag(key):
            self.calls["get_not_modified"] += 1
            raise sa.NotModified(key)
        self.calls["get"] += 1
        return self.objects[key], self.etag(key)

    def get(self, key):
        return self.get_if_changed(key, None)[0]

    def stat_size(self, key):
        self.calls["stat"] += 1
        return len(self.objects[key]) if key in self.objects else None

    def put(self, key, data, metadata=None):
        if self.fail_puts:
            self.fail_puts -= 1
            raise ConnectionError("store down")
        self.calls["put"] += 1
        self.objects[key] = bytes(data)
        self.metadata[key] = dict(metadata or {})


class FakeClock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t

    def sleep(self, s):
        self.t += max(s, 0.01)


def seeded_store(nodes: list[str], revision: int = 1, modules: dict[str, int] | None = None) -> MemoryStore:
    store = MemoryStore()
    modules = modules or {"emb": 64, "block.0": 32}
    for name, size in modules.items():
        store.objects[StoreLayout.module(sha(name))] = b"x" * size
    m = manifest(revision, "s1", modules)
    store.objects[StoreLayout.bundle_manifest(NS, TEACHER, revision, "s1")] = m.model_dump_json().encode()
    store.objects[StoreLayout.desired_state(NS, FLEET)] = releasekit.signed(desired(revision, nodes))
    return store


def runner_for(store, nodes_info, cfg, clock, **kw):
    return sa.SimRunner(store, NS, FLEET, cfg, node_source="kube", node_lister=lambda: nodes_info,
                        clock=clock, wall=lambda: 1.7e9, sleep=clock.sleep, workers=4, release_keys=releasekit.KEYS, **kw)


def test_sim_agents_write_parseable_reports_and_poll_with_etags():
    names = [f"fake-{i}" for i in range(12)]
    info = {n: sa.NodeInfo(n, ("base", "typos", "voice")[i % 3], "kwok") for i, n in enumerate(names)}
    info["proc-0"] = sa.NodeInfo("proc-0", "base", "kubelet")
    store = seeded_store(names + ["proc-0"])
    clock = FakeClock()
    runner = runner_for(store, info, sa.SimConfig(seed=2, apply_delay_seconds=(1, 3)), clock)
    summary = runner.run(until_revision=1, max_seconds=60)
    assert summary.stopped_because.startswith("every played node reached revision 1")
    reports = {k: AgentReport.model_validate_json(v) for k, v in store.objects.items()
               if k.startswith(StoreLayout.reports_prefix(NS, FLEET))}
    assert set(reports) == {StoreLayout.agent_report(NS, FLEET, n) for n in names}  # never the real node
    for r in reports.values():
        assert (r.simulated, r.state, r.revision, r.fleet) == (True, "Ready", 1, FLEET)
        assert r.bytes_down == len(store.objects[StoreLayout.bundle_manifest(NS, TEACHER, 1, "s1")]) + 96
    by_site = {s: [reports[StoreLayout.agent_report(NS, FLEET, n)].drift_score for n in names if info[n].site == s]
               for s in ("base", "voice")}
    assert max(by_site["base"]) < min(by_site["voice"])
    for key, r in reports.items():  # the summary travels with each report, as its metadata
        listed = AgentReport.model_validate_json(store.metadata[key][sa.REPORT_SUMMARY_METADATA])
        assert (listed.node, listed.seq, listed.revision, listed.state) == (r.node, r.seq, r.revision, r.state)
    assert store.calls["stat"] == 2  # each module stat'ed once for all twelve nodes
    assert summary.polls_not_modified >= 1 and store.calls["get_not_modified"] == summary.polls_not_modified
    # Starting/Updating and then Ready: a few reports per node, not one per tick
    assert summary.reports_written <= 3 * len(names) < summary.ticks * len(names)

    # a new revision: the runner picks it up from the next poll and moves every node on
    rev2 = manifest(2, "s1", {"emb": 64, "block.0.v2": 48})
    store.objects[StoreLayout.module(sha("block.0.v2"))] = b"y" * 48
    store.objects[StoreLayout.bundle_manifest(NS, TEACHER, 2, "s1")] = rev2.model_dump_json().encode()
    store.objects[StoreLayout.desired_state(NS, FLEET)] = releasekit.signed(desired(2, names + ["proc-0"], previous=1))
    summary = runner.run(until_revision=2, max_seconds=120)
    assert summary.revisions == {"2": 12}
    r = AgentReport.model_validate_json(store.objects[StoreLayout.agent_report(NS, FLEET, names[0])])
    assert r.revision == 2 and r.desired_generation == 2 and r.bytes_up > 0


def test_sim_agents_failures_silence_and_store_errors_are_survived():
    names = [f"fake-{i}" for i in range(20)]
    info = {n: sa.NodeInfo(n, "typos", "kwok") for n in names}
    store = seeded_store(names)
    store.fail_puts = 5
    clock = FakeClock()
    cfg = sa.SimConfig(seed=4, failure_fraction=0.1, silent_fraction=0.1, silent_after_seconds=0,
                       apply_delay_seconds=(0, 1))
    runner = runner_for(store, info, cfg, clock)
    summary = runner.run(until_revision=1, max_seconds=60)
    assert summary.report_errors == 5
    assert summary.states == {"Failed": 2, "Ready": 18}
    written = [k for k in store.objects if k.startswith(StoreLayout.reports_prefix(NS, FLEET))]
    assert len(written) == 18  # the two silent nodes never report
    reports = [AgentReport.model_validate_json(store.objects[k]) for k in written]
    expected_failed = {n for n in names if runner.nodes[n].state == "Failed" and n not in runner.roles.silent}
    assert {r.node for r in reports if r.state == "Failed"} == expected_failed
    assert all("revision 1" in r.message for r in reports if r.state == "Failed")


def test_sim_agents_are_deterministic_for_a_seed():
    def run(seed):
        names = [f"fake-{i}" for i in range(8)]
        info = {n: sa.NodeInfo(n, "keyword", "kwok") for n in names}
        store = seeded_store(names)
        runner_for(store, info, sa.SimConfig(seed=seed, failure_fraction=0.25), FakeClock()).run(
            until_revision=1, max_seconds=30)
        return {k: json.loads(v) for k, v in store.objects.items() if "/reports/" in k}

    a, b, c = run(1), run(1), run(2)
    assert a == b
    assert a != c


def test_no_desired_state_yet_means_no_reports():
    store = MemoryStore()
    clock = FakeClock()
    runner = runner_for(store, {}, sa.SimConfig(), clock)
    summary = runner.run(max_seconds=5)
    assert summary.reports_written == 0 and summary.nodes == 0 and summary.polls >= 2
