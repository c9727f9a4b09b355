"""EdgeFleet decisions (tiers, waves, desired state, status, children), the node index, the
scoped store policy and the fleet metrics. Pure and fast."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from ecc_workloads.contracts import (
    AgentEnv,
    AgentReport,
    AgentStateLimits,
    DesiredState,
    NodeIdentity,
    RuntimeEnv,
    StoreEnv,
    StoreLayout,
    StoreSettings,
    fleet_agent_name,
    rollout_bucket,
)
from ecc_workloads.timestamps import rfc3339

from ecc_operator import common
from ecc_operator.common import ObjectRef
from ecc_operator import conditions as c
from ecc_operator.controllers.fleet import decisions as fd
from ecc_operator import metrics
from ecc_operator.credentials import store_access
from ecc_operator.controllers.fleet.node_index import NodeIndex
from ecc_operator.api.adaptationpolicy import AdaptationPolicySpec
from ecc_operator.api.common import NodeSelector

NS, FLEET, TEACHER = "demo", "shop-edge", "shop"
REF = ObjectRef(NS, FLEET, "uid-f", 3)
T0 = 1_800_000_000.0
TRUSTED_CA = "-----BEGIN CERTIFICATE-----\nthe operator's CA\n-----END CERTIFICATE-----\n"
WORKLOAD = fd.AgentWorkload(node_credentials_ca=TRUSTED_CA)
CREDS = StoreSettings(endpoint="127.0.0.1:9000", access_key="eccf-abc", secret_key="s" * 32, bucket="ecc-fleet")
EDGE = "node-role.kubernetes.io/edge"
CLASS = "ecc.dev/capacity-class"

SPEC = {
    "teacherRef": {"name": TEACHER},
    "nodeSelector": {"matchLabels": {EDGE: ""}},
    "tiers": [
        {"name": "big", "match": {"minCapacity": {"cpu": "2", "memory": "4Gi"}}, "profile": "s024"},
        {"name": "small", "match": {"labels": {CLASS: "small"}}, "profile": "s1"},
        {"name": "rest", "profile": "s02"},
    ],
    "rollout": {"canaryPercent": 10, "healthGate": {"minHealthyPercent": 50, "timeoutSeconds": 600}},
    "agent": {"reportIntervalSeconds": 30},
}


def spec(**changes) -> dict:
    out = json.loads(json.dumps(SPEC))
    out.update(changes)
    return out


def node(name: str, klass: str = "small", cpu="1", memory="1Gi", **labels) -> fd.NodeInfo:
    return fd.NodeInfo(name, {EDGE: "", CLASS: klass, **labels}, fd.parse_quantity(cpu), fd.parse_quantity(memory))


def fleet_nodes(n: int) -> dict[str, fd.NodeInfo]:
    sizes = [("small", "1", "1Gi"), ("medium", "2", "4Gi"), ("large", "4", "8Gi")]
    out = {}
    for i in range(n):
        klass, cpu, mem = sizes[i % 3]
        out[f"edge-{i:04d}"] = node(f"edge-{i:04d}", klass, cpu, mem)
    return out


def teacher_obj(revision: int, profiles=("s024", "s1", "s02", "teacher"),
                url="https://shop-serving.demo.svc.cluster.local:443") -> dict:
    status = {"revision": revision, "servingURL": url,
              "bundles": [{"profile": p, "manifestURI": f"s3://ecc-fleet/{StoreLayout.bundle_manifest(NS, TEACHER, revision, p)}",
                           "sha256": "a" * 64, "bytes": 10} for p in profiles]}
    if not revision:
        status = {}
    return {"metadata": {"name": TEACHER, "namespace": NS}, "spec": {"store": {"bucket": "ecc-fleet"}}, "status": status}


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat().replace("+00:00", "Z")


def report(n: str, revision: int | None, state="Ready", t: float = T0, drift=None, down=0, up=0) -> AgentReport:
    return AgentReport(node=n, fleet=FLEET, seq=1, time=iso(t), state=state, revision=revision, drift_score=drift,
                       bytes_down=down, bytes_up=up)


def run(raw=None, teacher=None, *, revision=1, status=None, previous=None, reports=None, nodes=None, now=T0,
        creds=CREDS, **obs):
    p = fd.plan(raw if raw is not None else spec(), teacher if teacher is not None else teacher_obj(revision))
    o = fd.Observed(ref=REF, status=status or {}, now=now, teacher_ref=TEACHER,
                    nodes=nodes if nodes is not None else fleet_nodes(10), previous=previous,
                    reports=reports or {}, store_credentials=creds, **obs)
    return fd.decide(p, o, WORKLOAD)


def conds(d: fd.Decision) -> dict:
    return {x["type"]: x for x in d.patch()["conditions"]}


def step(d: fd.Decision, **kw):
    """The next reconcile: previous desired state and status from the last decision."""
    return run(previous=d.desired, status=d.status, **kw)


# --------------------------------------------------------------------- quantities, selection, tiers
@pytest.mark.parametrize("text,value", [("500m", Decimal("0.5")), ("2", Decimal(2)), ("1Gi", Decimal(2**30)),
                                        ("1024Mi", Decimal(2**30)), ("16335668Ki", Decimal(16335668 * 1024)),
                                        ("1e3", Decimal(1000)), (4, Decimal(4)), ("1.5G", Decimal(1_500_000_000))])
def test_quantities_parse_exactly(text, value):
    assert fd.parse_quantity(text) == value


def test_bad_or_missing_quantities_are_none():
    assert fd.parse_quantity(None) is None and fd.parse_quantity("lots") is None


def test_node_info_from_a_node_object():
    n = fd.NodeInfo.from_node({"metadata": {"name": "a", "labels": {"x": "1"}},
                               "status": {"allocatable": {"cpu": "3900m", "memory": "7Gi", "pods": "110"}}})
    assert n == fd.NodeInfo("a", {"x": "1"}, Decimal("3.9"), Decimal(7 * 2**30))


def test_selector_semantics():
    sel = NodeSelector.model_validate({"matchLabels": {EDGE: ""}, "matchExpressions": [
        {"key": "site", "operator": "In", "values": ["a", "b"]},
        {"key": "bad", "operator": "DoesNotExist"},
        {"key": "zone", "operator": "NotIn", "values": ["z"]},
        {"key": "kind", "operator": "Exists"}]})
    ok = {EDGE: "", "site": "a", "kind": "kwok"}
    assert fd.selector_matches(sel, ok)
    assert fd.selector_matches(sel, {**ok, "zone": "y"})
    assert not fd.selector_matches(sel, {**ok, "zone": "z"})
    assert not fd.selector_matches(sel, {**ok, "site": "c"})
    assert not fd.selector_matches(sel, {**ok, "bad": ""})
    assert not fd.selector_matches(sel, {k: v for k, v in ok.items() if k != "kind"})
    assert not fd.selector_matches(sel, {k: v for k, v in ok.items() if k != EDGE})
    assert not fd.selector_matches(sel, {**ok, EDGE: "x"})


def test_tiers_first_match_wins_and_capacity_compares_quantities():
    s = fd.parse_spec(spec())
    nodes = [node("a", "small", "1", "1Gi"), node("b", "medium", "2", "4Gi"), node("c", "large", "2000m", "4096Mi"),
             node("d", "medium", "1999m", "8Gi"), node("e", "small", "4", "8Gi"), node("f", "large", "2", "4294967295")]
    assert fd.assign_tiers(s.tiers, nodes) == {"a": "small", "b": "big", "c": "big", "d": "rest", "e": "big",
                                               "f": "rest"}


def test_a_node_without_capacity_fails_min_capacity_and_no_catch_all_leaves_nodes_out():
    s = fd.parse_spec(spec(tiers=[{"name": "big", "match": {"minCapacity": {"cpu": 2}}, "profile": "s024"}]))
    assert fd.assign_tiers(s.tiers, [fd.NodeInfo("x", {}), node("y", cpu="2")]) == {"y": "big"}


def test_canaries_are_the_lowest_buckets_rounded_up():
    names = [f"n{i}" for i in range(25)]
    picked = fd.pick_canaries(names, 10)
    assert len(picked) == 3  # ceil(2.5)
    lowest = sorted(names, key=lambda n: (rollout_bucket(n), n))[:3]
    assert set(picked) == set(lowest)
    assert len(fd.pick_canaries(names[:3], 1)) == 1  # at least one
    assert fd.pick_canaries(names, 0) == [] and fd.pick_canaries([], 50) == []
    assert len(fd.pick_canaries(names, 100)) == 25


# --------------------------------------------------------------------- plan and early phases
def test_missing_teacher_is_degraded_teacher_not_found():
    p = fd.plan(spec(), None)
    d = fd.decide(p, fd.Observed(ref=REF, status={}, now=T0, teacher_ref=TEACHER), WORKLOAD)
    assert d.status.phase == "Degraded" and "shop" in d.status.message
    assert conds(d)["Degraded"] == {**conds(d)["Degraded"], "status": "True", "reason": "TeacherNotFound"}
    assert d.desired is None and not d.apply and d.metrics is None
    assert ("Warning", "Degraded") in [(e[0], e[1]) for e in d.events]


def test_teacher_without_revision_is_pending_and_runs_nothing():
    d = run(revision=0)
    assert d.status.phase == "Pending" and d.patch()["nodes"]["matched"] == 10
    assert conds(d)["Degraded"]["status"] == "False" and d.desired is None and not d.apply
    assert not fd.plan(spec(), teacher_obj(0)).active


def test_invalid_spec_names_the_field():
    d = run(raw={"teacherRef": {"name": TEACHER}, "tiers": []})
    assert d.status.phase == "Degraded" and conds(d)["Degraded"]["reason"] == "InvalidSpec"
    assert "tiers" in d.status.message


# --------------------------------------------------------------------- desired state
def test_first_revision_goes_to_all_nodes_with_tiers_and_settings():
    d = run()
    ds = d.desired
    assert d.write_desired and ds.generation == 1 and ds.updated_at
    assert (ds.target_revision, ds.previous_revision, ds.wave, ds.canary_nodes) == (1, None, "all", [])
    assert ds.namespace == NS and ds.fleet == FLEET and ds.teacher == TEACHER
    assert ds.node_tiers["edge-0000"] == "small" and ds.node_tiers["edge-0001"] == "big"
    assert ds.node_tiers["edge-0002"] == "big" and len(ds.node_tiers) == 10
    by = {t.tier: t for t in ds.target}
    assert by["big"].manifest_key == StoreLayout.bundle_manifest(NS, TEACHER, 1, "s024")
    assert by["small"].drift_reference_key == StoreLayout.drift_reference(NS, TEACHER, 1, "s1")
    assert ds.teacher_url == "https://shop-serving.demo.svc.cluster.local:443" and ds.report_interval_seconds == 30
    assert ds.teacher_ca_pem == TRUSTED_CA  # agents check the teacher against the operator's CA (signed with the rest)
    assert ds.adaptation is None and ds.privacy.cloud_assist is False
    assert ds.revision_for("edge-0003") == 1
    assert ("Normal", "RolloutStarted") in [(e[0], e[1]) for e in d.events]
    DesiredState.model_validate_json(ds.model_dump_json())  # round-trips as agents read it


def test_no_teacher_ca_without_a_served_teacher():
    d = run(teacher=teacher_obj(1, url=None))
    assert d.desired.teacher_url is None and d.desired.teacher_ca_pem is None


def test_generation_bumps_only_when_content_changes():
    d1 = run()
    d2 = step(d1, now=T0 + 60)
    assert not d2.write_desired and d2.desired is d1.desired and d2.desired.generation == 1
    assert not [e for e in d2.events if e[1] == "RolloutStarted"]
    nodes = fleet_nodes(11)
    d3 = step(d2, nodes=nodes, now=T0 + 120)
    assert d3.write_desired and d3.desired.generation == 2 and "edge-0010" in d3.desired.node_tiers
    d4 = step(d3, raw=spec(privacy={"cloudAssist": True}), nodes=nodes, now=T0 + 180)
    assert d4.write_desired and d4.desired.generation == 3 and d4.desired.privacy.cloud_assist


def test_privacy_upload_bits_reach_the_desired_state():
    d = run(raw=spec(privacy={"uploadBits": 4}))
    p = d.desired.privacy
    assert (p.upload_bits, p.upload_head_bits, p.quantize_uploads) == (4, None, True)
    assert DesiredState.model_validate_json(d.desired.model_dump_json()).privacy.upload_bits == 4
    d2 = step(d, raw=spec(privacy={"uploadBits": 4, "uploadHeadBits": 6}), now=T0 + 60)
    assert d2.write_desired and d2.desired.generation == 2 and d2.desired.privacy.upload_head_bits == 6
    default = run().desired.privacy  # int4 factors, the head at rank 8 (benchmarks/uplink.py)
    assert (default.upload_bits, default.upload_head_bits, default.upload_head_rank) == (4, None, 8)
    # nothing to round: int8 off, or the full form (its noise path was not measured at fewer bits)
    assert run(raw=spec(privacy={"quantizeUploads": False})).desired.privacy.upload_bits == 8
    assert run(raw=spec(privacy={"uploadForm": "full"})).desired.privacy.upload_bits == 8
    assert run(raw=spec(privacy={"uploadForm": "full", "uploadBits": 6})).desired.privacy.upload_bits == 6


def test_adaptation_policy_fills_the_on_node_settings():
    pol = fd.PolicyView("learn", AdaptationPolicySpec.model_validate({
        "fleetRef": {"name": FLEET}, "drift": {"signal": "feedback-error", "windowMinutes": 5, "threshold": 0.2},
        "localAdaptation": {"loraRank": 4, "targetModules": ["query"], "minSamples": 8}}))
    d = run(policy=pol, other_policies=("older",),
            reports={"edge-0000": report("edge-0000", 1, drift=0.25), "edge-0001": report("edge-0001", 1, drift=0.1)})
    a = d.desired.adaptation
    assert (a.policy, a.drift_signal, a.drift_window_seconds, a.lora_rank, a.target_modules, a.min_samples) == \
        ("learn", "feedback-error", 300, 4, ["query"], 8)
    assert d.metrics.drifting == 1  # threshold 0.2 from the policy
    assert "ignored: older" in d.status.message


def test_a_missing_profile_degrades_and_leaves_that_tier_out():
    d = run(teacher=teacher_obj(1, profiles=("s024", "s02")))
    assert d.status.phase == "Degraded" and conds(d)["Degraded"]["reason"] == "ProfileNotFound"
    assert "s1" in d.status.message
    assert {t.tier for t in d.desired.target} == {"big", "rest"}
    assert "small" not in set(d.desired.node_tiers.values())


def test_unreadable_store_writes_nothing_and_says_so():
    d = run(store_problem="the store at 127.0.0.1:9000 could not be read: boom", store_reason="StoreUnavailable")
    assert d.desired is None and not d.write_desired
    assert d.status.phase == "Degraded" and conds(d)["Degraded"]["reason"] == "StoreUnavailable"


def test_admin_refusal_is_degraded_with_the_configuration_message_and_no_children():
    d = run(creds=None, store_problem="the store refused the MinIO admin API (403)", store_reason="StoreAdminDenied")
    assert d.status.phase == "Degraded" and "admin API" in d.status.message
    assert not d.apply and d.write_desired  # the desired state itself is still written


# --------------------------------------------------------------------- waves
def rolled_out(n: int = 20) -> fd.Decision:
    nodes = fleet_nodes(n)
    d = run(nodes=nodes)
    reps = {k: report(k, 1, t=T0 + 30) for k in nodes}
    return step(d, nodes=nodes, reports=reps, now=T0 + 40)


def canary_started() -> fd.Decision:
    base = rolled_out()
    assert base.status.phase == "Ready" and base.status.rollout_wave == "Complete"
    nodes = fleet_nodes(20)
    d = step(base, teacher=teacher_obj(2), nodes=nodes, now=T0 + 100)
    ds = d.desired
    assert (ds.target_revision, ds.previous_revision, ds.wave) == (2, 1, "canary")
    assert ds.canary_nodes == fd.pick_canaries(nodes, 10) and len(ds.canary_nodes) == 2
    other = next(n for n in nodes if n not in ds.canary_nodes)
    assert ds.revision_for(ds.canary_nodes[0]) == 2 and ds.revision_for(other) == 1
    assert {t.manifest_key for t in ds.previous} == {StoreLayout.bundle_manifest(NS, TEACHER, 1, p)
                                                    for p in ("s024", "s1", "s02")}
    assert d.status.phase == "RollingOut" and d.status.rollout_wave == "Canary"
    assert d.status.target_revision == 2 and conds(d)["Rollout"]["lastTransitionTime"] == rfc3339(T0 + 100)
    assert ("Normal", "RolloutStarted") in [(e[0], e[1]) for e in d.events]
    return d


def test_new_revision_starts_a_canary_wave_of_the_lowest_buckets():
    assert canary_started().desired.wave == "canary"


def test_canary_gate_passes_then_everyone_gets_the_revision():
    d = canary_started()
    nodes = fleet_nodes(20)
    canaries = d.desired.canary_nodes
    reps = {k: report(k, 1, t=T0 + 130) for k in nodes}
    reps[canaries[0]] = report(canaries[0], 2, t=T0 + 130)  # 1 of 2 Ready on 2: exactly the 50 % gate
    d2 = step(d, teacher=teacher_obj(2), nodes=nodes, reports=reps, now=T0 + 140)
    assert d2.desired.wave == "all" and d2.desired.canary_nodes == [] and d2.desired.generation == 3
    assert d2.desired.revision_for("edge-0005") == 2
    assert ("Normal", "CanaryPassed") in [(e[0], e[1]) for e in d2.events]
    assert d2.status.rollout_wave == "Remaining" and d2.status.phase == "RollingOut"
    reps = {k: report(k, 2, t=T0 + 170) for k in nodes}
    d3 = step(d2, teacher=teacher_obj(2), nodes=nodes, reports=reps, now=T0 + 180)
    assert d3.status.phase == "Ready" and d3.status.rollout_wave == "Complete" and not d3.write_desired
    assert ("Normal", "RolloutComplete") in [(e[0], e[1]) for e in d3.events]


def test_canary_not_ready_waits_then_halts_on_the_timeout_and_a_new_revision_restarts():
    d = canary_started()
    nodes = fleet_nodes(20)
    canaries = d.desired.canary_nodes
    reps = {k: report(k, 1, t=T0 + 300) for k in nodes}
    reps[canaries[0]] = report(canaries[0], 2, state="Failed", t=T0 + 300)
    waiting = step(d, teacher=teacher_obj(2), nodes=nodes, reports=reps, now=T0 + 310)
    assert waiting.desired.wave == "canary" and not waiting.write_desired
    # the wave start survives in the Rollout condition (status), not in memory
    assert conds(waiting)["Rollout"]["lastTransitionTime"] == rfc3339(T0 + 100)
    reps = {k: report(k, 1, t=T0 + 690) for k in nodes}
    halted = step(waiting, teacher=teacher_obj(2), nodes=nodes, reports=reps, now=T0 + 701)
    ds = halted.desired
    assert ds.wave == "halted" and ds.canary_nodes == [] and ds.previous_revision == 1
    assert all(ds.revision_for(n) == 1 for n in nodes)  # canaries go back to the previous revision
    assert halted.status.phase == "Degraded" and halted.status.rollout_wave == "Halted"
    assert conds(halted)["Degraded"]["reason"] == "RolloutHalted"
    assert ("Warning", "RolloutHalted") in [(e[0], e[1]) for e in halted.events]
    still = step(halted, teacher=teacher_obj(2), nodes=nodes, reports=reps, now=T0 + 2000)
    assert still.desired.wave == "halted" and not still.write_desired
    again = step(still, teacher=teacher_obj(3), nodes=nodes, reports=reps, now=T0 + 2100)
    ds = again.desired
    assert (ds.target_revision, ds.previous_revision, ds.wave) == (3, 1, "canary")
    assert {t.manifest_key for t in ds.previous} == {StoreLayout.bundle_manifest(NS, TEACHER, 1, p)
                                                    for p in ("s024", "s1", "s02")}
    assert again.status.phase == "RollingOut"


def test_no_canary_share_rolls_out_to_all_at_once():
    base = rolled_out()
    raw = spec(rollout={"canaryPercent": 0})
    d = step(base, raw=raw, teacher=teacher_obj(2), nodes=fleet_nodes(20), now=T0 + 100)
    assert (d.desired.wave, d.desired.previous_revision, d.desired.target_revision) == ("all", 1, 2)


def test_paused_rollout_holds_the_target():
    base = rolled_out()
    raw = spec(rollout={"paused": True})
    d = step(base, raw=raw, teacher=teacher_obj(2), nodes=fleet_nodes(20), now=T0 + 100)
    assert d.desired.target_revision == 1 and not d.write_desired
    assert d.status.target_revision == 1


def test_min_healthy_zero_passes_the_gate_at_once_and_stale_canaries_do_not_count():
    base = rolled_out()
    nodes = fleet_nodes(20)
    raw = spec(rollout={"canaryPercent": 10, "healthGate": {"minHealthyPercent": 100, "timeoutSeconds": 600}})
    d = step(base, raw=raw, teacher=teacher_obj(2), nodes=nodes, now=T0 + 100)
    reps = {k: report(k, 2, t=T0 - 1000) for k in d.desired.canary_nodes}  # stale: older than 3 x 30 s
    d2 = step(d, raw=raw, teacher=teacher_obj(2), nodes=nodes, reports=reps, now=T0 + 150)
    assert d2.desired.wave == "canary"
    raw0 = spec(rollout={"canaryPercent": 10, "healthGate": {"minHealthyPercent": 0, "timeoutSeconds": 600}})
    d3 = step(d, raw=raw0, teacher=teacher_obj(2), nodes=nodes, now=T0 + 150)
    assert d3.desired.wave == "all"


def test_canaries_that_left_are_replaced():
    d = canary_started()
    nodes = {k: v for k, v in fleet_nodes(20).items() if k not in d.desired.canary_nodes}
    d2 = step(d, teacher=teacher_obj(2), nodes=nodes, now=T0 + 120)
    assert d2.desired.wave == "canary" and d2.desired.canary_nodes
    assert set(d2.desired.canary_nodes) <= set(nodes)


# --------------------------------------------------------------------- status from reports
def folded() -> fd.Decision:
    nodes = fleet_nodes(9)
    d0 = run(nodes=nodes)
    reps = {
        "edge-0000": report("edge-0000", 1, drift=0.2, down=100, up=5),
        "edge-0001": report("edge-0001", 1, drift=0.4, down=200, up=5),
        "edge-0002": report("edge-0002", 1, state="Failed", down=50),
        "edge-0003": report("edge-0003", None, state="Starting", down=0),
        "edge-0004": report("edge-0004", 1, t=T0 - 200, drift=0.9, down=1000),  # stale
        "other-node": report("other-node", 1, down=10**6),  # not in the fleet
    }
    d = step(d0, nodes=nodes, reports=reps, now=T0 + 5)
    st = d.patch()
    assert st["nodes"] == {"matched": 9, "ready": 2, "onTarget": 3, "failed": 1}
    assert st["driftScore"] == pytest.approx(0.3) and st["revisionSkew"] == 0
    assert st["bytesMoved"] == 1350 and st["lastReportTime"] == rfc3339(T0)
    tiers = {t["name"]: t for t in st["tiers"]}
    assert tiers["small"] == {"name": "small", "profile": "s1", "matched": 3, "onTarget": 1}
    assert tiers["big"]["matched"] == 6 and tiers["big"]["onTarget"] == 2 and tiers["rest"]["matched"] == 0
    m = d.metrics
    assert m.nodes == {"matched": 9, "ready": 2, "on_target": 3, "failed": 1, "stale": 1}
    assert m.by_revision == {1: 3} and m.bytes_up == 10 and m.progress == pytest.approx(3 / 9)
    assert "1 stale" in st["message"]
    # a Starting node (no revision yet) and a Failed one: not every fresh report is on target
    assert st["phase"] == "RollingOut" and st["rolloutWave"] == "Remaining"
    return d


def test_reports_fold_into_counts_tiers_drift_skew_and_bytes():
    assert folded().status.nodes.matched == 9


def test_ready_needs_every_fresh_report_on_target():
    nodes = fleet_nodes(3)
    d0 = run(nodes=nodes)
    reps = {"edge-0000": report("edge-0000", 1), "edge-0001": report("edge-0001", None, state="Starting")}
    d = step(d0, nodes=nodes, reports=reps, now=T0 + 1)
    assert d.status.phase == "RollingOut" and d.status.rollout_wave == "Remaining"
    reps["edge-0001"] = report("edge-0001", 1)
    d2 = step(d, nodes=nodes, reports=reps, now=T0 + 2)
    assert d2.status.phase == "Ready" and conds(d2)["Ready"]["status"] == "True"
    assert d2.status.revision_skew == 0


def test_skew_counts_fresh_revisions_only():
    nodes = fleet_nodes(3)
    d0 = run(teacher=teacher_obj(4), nodes=nodes)
    reps = {"edge-0000": report("edge-0000", 4), "edge-0001": report("edge-0001", 2),
            "edge-0002": report("edge-0002", 1, t=T0 - 1000)}
    d = step(d0, teacher=teacher_obj(4), nodes=nodes, reports=reps, now=T0)
    assert d.status.revision_skew == 2 and d.metrics.by_revision == {4: 1, 2: 1}


def test_unchanged_status_is_identical_and_conditions_keep_their_times():
    nodes = fleet_nodes(4)
    reps = {k: report(k, 1, t=T0) for k in nodes}
    d1 = step(run(nodes=nodes), nodes=nodes, reports=reps, now=T0 + 1)
    d2 = step(d1, nodes=nodes, reports=reps, now=T0 + 50)
    assert c.same_status(d1.patch(), d2.patch())
    assert not [e for e in d2.events if e[1] in ("Ready", "RolloutComplete")]


def test_no_matching_nodes_is_pending():
    d = run(nodes={})
    assert d.status.phase == "Pending" and "nodeSelector" in d.status.message


def test_five_thousand_nodes_decide_quickly():
    nodes = fleet_nodes(5000)
    t = time.perf_counter()
    d = run(nodes=nodes)
    reps = {k: report(k, 1, t=T0 + 20, drift=0.1, down=10) for k in nodes}
    d2 = step(d, nodes=nodes, reports=reps, now=T0 + 25)
    d3 = step(d2, teacher=teacher_obj(2), nodes=nodes, reports=reps, now=T0 + 30)
    took = time.perf_counter() - t
    assert d2.patch()["nodes"]["onTarget"] == 5000 and d2.status.phase == "Ready"
    assert len(d3.desired.canary_nodes) == 500
    assert len(json.dumps(d2.patch())) < 8000  # status size does not grow with nodes
    assert took < 5.0, f"3 reconciles of 5000 nodes took {took:.2f}s"


# --------------------------------------------------------------------- children
def test_daemonset_runs_the_agent_on_the_selected_nodes():
    raw = spec(nodeSelector={"matchLabels": {EDGE: ""}, "matchExpressions": [
        {"key": "ecc.dev/node-kind", "operator": "In", "values": ["kwok", "process"]}]},
        agent={"tolerations": [{"key": EDGE, "operator": "Exists", "effect": "NoSchedule"}],
               "resources": {"requests": {"cpu": "100m"}, "limits": {"memory": "512Mi"}}, "port": 8091})
    d = run(raw=raw)
    kinds = [m["kind"] for m in d.apply]
    assert kinds == ["DaemonSet"]  # no store Secret: each agent gets its own node's credentials
    ds = d.apply[0]
    assert ds["metadata"]["name"] == fleet_agent_name(FLEET) and ds["metadata"]["namespace"] == NS
    assert ds["metadata"]["ownerReferences"][0] == {"apiVersion": "ecc.dev/v1alpha1", "kind": "EdgeFleet",
                                                    "name": FLEET, "uid": "uid-f", "controller": True,
                                                    "blockOwnerDeletion": True}
    pod = ds["spec"]["template"]["spec"]
    terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [{"matchExpressions": [{"key": EDGE, "operator": "In", "values": [""]},
                                           {"key": "ecc.dev/node-kind", "operator": "In",
                                            "values": ["kwok", "process"]}]}]
    assert pod["tolerations"] == [{"key": EDGE, "operator": "Exists", "effect": "NoSchedule"}]
    ctr = pod["containers"][0]
    assert ctr["command"] + ctr["args"] == ["python", "-m", "ecc_workloads.cli.app", "edge-agent"]
    assert ctr["resources"] == {"requests": {"cpu": "100m"}, "limits": {"memory": "512Mi"}}
    assert "envFrom" not in ctr
    env = {e["name"]: e for e in ctr["env"]}
    # where the store is, but no key: the agent exchanges its pod-bound token for its node's keys
    assert env[StoreEnv.ENDPOINT]["value"] == CREDS.endpoint and env[StoreEnv.BUCKET]["value"] == CREDS.bucket
    assert StoreEnv.ACCESS_KEY not in env and StoreEnv.SECRET_KEY not in env
    assert env[AgentEnv.CREDENTIALS_URL]["value"] == fd.AgentWorkload().node_credentials_url
    assert fd.AgentWorkload().node_credentials_url.startswith("https://")
    assert env[AgentEnv.NODE_TOKEN_FILE]["value"] == f"{NodeIdentity.TOKEN_DIR}/{NodeIdentity.TOKEN_FILE}"
    assert pod["automountServiceAccountToken"] is False  # no Kubernetes API token in the agents
    # durable state: the node's disk, one directory per fleet, handed to the agent's user first
    state = next(v for v in pod["volumes"] if v["name"] == "state")
    assert state == {"name": "state", "hostPath": {"path": f"/var/lib/ecc-agent/{NS}/{FLEET}",
                                                   "type": "DirectoryOrCreate"}}
    init = pod["initContainers"][0]
    assert init["securityContext"]["capabilities"] == {"drop": ["ALL"], "add": ["CHOWN", "FOWNER"]}
    # not -R: root without DAC_READ_SEARCH cannot read the agent's 0700 directory to recurse, so a
    # replaced pod's init container failed on the state its predecessor left
    assert init["args"][0].startswith("chown 65532:65532 /var/lib/ecc-agent &&")
    assert env[AgentStateLimits.ENV_SPOOL_MAX_BYTES]["value"] == str(64 * 1024 * 1024)
    assert env[AgentStateLimits.ENV_MODULE_CACHE_MAX_BYTES]["value"] == str(512 * 1024 * 1024)
    lab = run(raw=spec(agent={"state": {"volume": "emptyDir", "spoolMaxBytes": "1G"}})).apply[0]
    lab_pod = lab["spec"]["template"]["spec"]
    assert {"name": "state", "emptyDir": {}} in lab_pod["volumes"] and lab_pod["initContainers"] == []
    assert {"name": AgentStateLimits.ENV_SPOOL_MAX_BYTES, "value": "1000000000"} in lab_pod["containers"][0]["env"]
    identity = next(v for v in pod["volumes"] if v["name"] == "node-identity")
    assert identity["projected"]["sources"] == [{"serviceAccountToken": {
        "audience": NodeIdentity.AUDIENCE, "path": "token", "expirationSeconds": NodeIdentity.TOKEN_EXPIRATION_S}}]
    assert {"name": "node-identity", "mountPath": NodeIdentity.TOKEN_DIR, "readOnly": True} in ctr["volumeMounts"]
    assert env[AgentEnv.FLEET]["value"] == FLEET and env[AgentEnv.FLEET_NAMESPACE]["value"] == NS
    assert env[AgentEnv.PORT]["value"] == "8091" and env[AgentEnv.STATE_DIR]["value"] == fd.AGENT_STATE_DIR
    assert env[RuntimeEnv.NODE_NAME]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
    assert env[RuntimeEnv.POD_IP]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
    assert ctr["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": 8091}
    # the API's bearer tokens: the fleet's Secret, mounted read-only where the agent reads them
    assert env[AgentEnv.API_TOKENS_DIR]["value"] == "/etc/ecc/agent-api"
    assert {"name": "api-tokens", "mountPath": "/etc/ecc/agent-api", "readOnly": True} in ctr["volumeMounts"]
    assert {"name": "api-tokens", "secret": {"secretName": f"ecc-fleet-{FLEET}-api"}} in pod["volumes"]
    api = fd.api_secret_manifest(ObjectRef(namespace=NS, name=FLEET, uid="uid-f", generation=1),
                                 {"predict": "p" * 20, "feedback": "f" * 20, "admin": "a" * 20, "extra": "x"})
    assert api["stringData"] == {"predict": "p" * 20, "feedback": "f" * 20, "admin": "a" * 20}
    assert api["metadata"]["ownerReferences"][0]["uid"] == "uid-f"
    ann = ds["spec"]["template"]["metadata"]["annotations"]
    assert ann == {"prometheus.io/scrape": "true", "prometheus.io/port": "8091", "prometheus.io/path": "/metrics"}
    assert ds["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"] == "25%"


def test_children_are_applied_only_when_their_hash_changes():
    d = run()
    hashes = {m["kind"]: m["metadata"]["annotations"][common.ANNOTATION_DESIRED_HASH] for m in d.apply}
    again = run(daemonset_hash=hashes["DaemonSet"])
    assert again.apply == []
    changed = run(raw=spec(agent={"port": 9001}), daemonset_hash=hashes["DaemonSet"])
    assert [m["kind"] for m in changed.apply] == ["DaemonSet"]


def test_zero_max_unavailable_becomes_one_for_the_daemonset():
    d = run(raw=spec(rollout={"maxUnavailable": 0}))
    assert d.apply[0]["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"] == 1


# --------------------------------------------------------------------- node index
def kube_node(name: str, labels: dict, cpu="1", rv="1") -> dict:
    return {"metadata": {"name": name, "labels": labels, "resourceVersion": rv},
            "status": {"allocatable": {"cpu": cpu, "memory": "1Gi"}, "conditions": [{"type": "Ready"}]}}


def test_node_index_follows_events_and_ignores_heartbeats():
    idx = NodeIndex()
    idx.replace([kube_node("a", {EDGE: ""}), kube_node("b", {})])
    assert idx.synced.is_set() and len(idx) == 2
    sel = NodeSelector.model_validate({"matchLabels": {EDGE: ""}})
    assert set(idx.select(sel)) == {"a"}
    v = idx.version
    assert not idx.apply_event("MODIFIED", kube_node("a", {EDGE: ""}, rv="2"))  # heartbeat
    assert idx.version == v and idx.select(sel) is idx.select(sel)  # cached
    assert idx.apply_event("MODIFIED", kube_node("b", {EDGE: ""}))
    assert set(idx.select(sel)) == {"a", "b"}
    assert idx.apply_event("ADDED", kube_node("c", {EDGE: ""}, cpu="4"))
    assert idx.get("c").cpu == Decimal(4)
    assert idx.apply_event("DELETED", kube_node("a", {}))
    assert set(idx.select(sel)) == {"b", "c"}
    assert not idx.apply_event("DELETED", kube_node("zz", {})) and not idx.apply_event("BOOKMARK", {})


def test_node_index_selects_among_thousands_quickly():
    idx = NodeIndex()
    idx.replace([kube_node(f"n{i}", {EDGE: ""} if i % 2 else {}) for i in range(5000)])
    sel = NodeSelector.model_validate({"matchLabels": {EDGE: ""}})
    t = time.perf_counter()
    assert len(idx.select(sel)) == 2500
    assert time.perf_counter() - t < 1.0


# --------------------------------------------------------------------- scoped store access
def test_user_names_are_short_stable_and_distinct():
    a, b = store_access.user_name("demo", "f"), store_access.user_name("demo2", "f")
    assert len(a) == 20 and a.startswith("eccf-") and a == store_access.user_name("demo", "f") and a != b


def test_policy_allows_exactly_what_an_agent_does():
    doc = store_access.policy_document("ecc-fleet", NS, FLEET, TEACHER)
    by = {s["Sid"]: s for s in doc["Statement"]}
    arn = "arn:aws:s3:::ecc-fleet"
    assert by["ReadModulesTeacherDesiredState"]["Action"] == ["s3:GetObject"]
    assert set(by["ReadModulesTeacherDesiredState"]["Resource"]) == {
        f"{arn}/modules/*", f"{arn}/teachers/{NS}/{TEACHER}/revisions/*/bundles/*",
        f"{arn}/teachers/{NS}/{TEACHER}/revisions/*/drift/*", f"{arn}/{StoreLayout.desired_state(NS, FLEET)}"}
    assert "corpus" not in json.dumps(by["ReadModulesTeacherDesiredState"]), "agents never read training data"
    assert by["WriteReportsAndDeltas"]["Action"] == ["s3:PutObject"]
    assert set(by["WriteReportsAndDeltas"]["Resource"]) == {f"{arn}/fleets/{NS}/{FLEET}/reports/*",
                                                            f"{arn}/fleets/{NS}/{FLEET}/deltas/*"}
    text = json.dumps(doc)
    assert "reports/jobs" not in text and "s3:*" not in text and "DeleteObject" not in text


class FakeAdmin:
    def __init__(self, fail=None):
        self.users, self.policies, self.attached, self.calls, self.fail = {}, {}, {}, [], fail

    def _check(self, name):
        self.calls.append(name)
        if self.fail:
            from minio.error import MinioAdminException

            raise MinioAdminException(*self.fail)

    def user_add(self, user, pw):
        self._check("user_add")
        self.users[user] = pw

    def user_info(self, user):
        self._check("user_info")
        if user not in self.users:
            from minio.error import MinioAdminException

            raise MinioAdminException("404", "XMinioAdminNoSuchUser")
        return "{}"

    def policy_add(self, name, policy=None):
        self._check("policy_add")
        self.policies[name] = policy

    def attach_policy(self, names, user=None):
        self._check("attach_policy")
        self.attached[user] = names

    def user_remove(self, user):
        self._check("user_remove")
        self.users.pop(user, None)

    def policy_remove(self, name):
        self._check("policy_remove")
        self.policies.pop(name, None)


def test_scoped_users_are_created_once_reused_and_recreated_when_missing():
    admin, clock = FakeAdmin(), [0.0]
    users = store_access.ScopedUsers(admin_factory=lambda s: admin, clock=lambda: clock[0])
    root = StoreSettings(endpoint="m:9000", access_key="root", secret_key="rootpass1", bucket="ecc-fleet")
    creds = users.ensure(root, NS, FLEET, TEACHER, "uid-1")
    user = store_access.user_name(NS, FLEET)
    assert creds.access_key == user and admin.users[user] == creds.secret_key and admin.attached[user] == [user]
    assert creds.endpoint == "m:9000" and creds.bucket == "ecc-fleet" and 8 <= len(creds.secret_key) <= 40
    n = len(admin.calls)
    assert users.ensure(root, NS, FLEET, TEACHER, "uid-1") == creds and len(admin.calls) == n  # cached
    clock[0] = store_access.RECHECK_S + 1
    assert users.ensure(root, NS, FLEET, TEACHER, "uid-1") == creds and admin.calls[-1] == "user_info"
    del admin.users[user]  # someone removed it
    clock[0] = 2 * store_access.RECHECK_S + 2
    again = users.ensure(root, NS, FLEET, TEACHER, "uid-1")
    assert again.secret_key == creds.secret_key and admin.users[user] == creds.secret_key
    # a fresh operator process derives the same password without reading the Secret back
    other = store_access.ScopedUsers(admin_factory=lambda s: admin)
    assert other.ensure(root, NS, FLEET, TEACHER, "uid-1").secret_key == creds.secret_key
    # a re-created fleet (new uid) or another operator secret gets another password
    assert store_access.derive_password("rootpass1", NS, FLEET, "uid-2") != creds.secret_key
    assert store_access.derive_password("other-root", NS, FLEET, "uid-1") != creds.secret_key
    users.remove(root, NS, FLEET)
    assert user not in admin.users and user not in admin.policies


@pytest.mark.parametrize("code,reason", [("403", "StoreAdminDenied"), ("501", "StoreNotMinIO"),
                                         ("404", "StoreNotMinIO")])
def test_admin_refusals_say_what_to_configure(code, reason):
    users = store_access.ScopedUsers(admin_factory=lambda s: FakeAdmin(fail=(code, "nope")))
    root = StoreSettings(endpoint="m:9000", access_key="root", secret_key="rootpass1")
    with pytest.raises(store_access.AccessProblem) as info:
        users.ensure(root, NS, FLEET, TEACHER, "uid-1")
    assert info.value.reason == reason and "m:9000" in str(info.value)


# --------------------------------------------------------------------- metrics
def test_fleet_metrics_are_set_replaced_and_removed():
    from prometheus_client import REGISTRY

    d = folded()
    metrics.set_fleet("mns", "mf", d.metrics)
    lab = {"namespace": "mns", "fleet": "mf"}
    assert REGISTRY.get_sample_value("ecc_fleet_nodes", {**lab, "state": "stale"}) == 1
    assert REGISTRY.get_sample_value("ecc_fleet_nodes_by_revision", {**lab, "revision": "1"}) == 3
    assert REGISTRY.get_sample_value("ecc_fleet_drift_score", lab) == pytest.approx(0.3)
    d.metrics.by_revision = {2: 5}
    d.metrics.drift = None
    metrics.set_fleet("mns", "mf", d.metrics)
    assert REGISTRY.get_sample_value("ecc_fleet_nodes_by_revision", {**lab, "revision": "1"}) is None
    assert REGISTRY.get_sample_value("ecc_fleet_nodes_by_revision", {**lab, "revision": "2"}) == 5
    assert REGISTRY.get_sample_value("ecc_fleet_drift_score", lab) is None
    metrics.remove_fleet("mns", "mf")
    assert REGISTRY.get_sample_value("ecc_fleet_nodes", {**lab, "state": "matched"}) is None
    assert REGISTRY.get_sample_value("ecc_fleet_target_revision", lab) is None
    metrics.MERGEBACK_ROUNDS.labels(namespace="mns", policy="p", result="Published").inc()
    assert REGISTRY.get_sample_value("ecc_mergeback_rounds_total",
                                     {"namespace": "mns", "policy": "p", "result": "Published"}) == 1


def test_a_tier_moved_to_a_profile_the_teacher_lacks_is_not_guessed():
    d = run()
    d2 = step(d, raw=spec(tiers=[{"name": "big", "profile": "s9"}]))
    assert d2.status.phase == "Degraded" and conds(d2)["Degraded"]["reason"] == "ProfileNotFound"
    assert d2.desired is None  # no tier left to serve: nothing written


def test_previous_tiers_added_after_the_rollout_fall_back_to_the_published_layout():
    base = rolled_out()
    raw = spec(tiers=SPEC["tiers"][:2] + [{"name": "extra", "match": {"labels": {"x": "y"}}, "profile": "s02"},
                                          {"name": "rest", "profile": "s02"}])
    d = step(base, raw=raw, teacher=teacher_obj(2), nodes=fleet_nodes(20), now=T0 + 100)
    prev = {t.tier: t.manifest_key for t in d.desired.previous}
    assert prev["extra"] == StoreLayout.bundle_manifest(NS, TEACHER, 1, "s02") and d.desired.previous_revision == 1


# --------------------------------------------------------------------- signed releases: pins, generations
def test_every_tier_is_pinned_by_the_published_manifest_hash():
    teacher = teacher_obj(1)
    for i, b in enumerate(teacher["status"]["bundles"]):
        b["sha256"] = f"{i:x}" * 64
    d = run(teacher=teacher)
    want = {b["profile"]: b["sha256"] for b in teacher["status"]["bundles"]}
    assert {t.profile: t.manifest_sha256 for t in d.desired.target} == {p: want[p] for p in ("s024", "s1", "s02")}
    assert d.pins_needed == []


def test_a_manifest_nothing_pins_is_asked_for_and_only_then_served():
    """The previous revision of a tier added during a rollout has no published hash: the decision
    leaves the tier out and asks for the manifest; with its hash observed, the tier is pinned."""
    base = rolled_out()
    raw = spec(tiers=[*SPEC["tiers"][:2], {"name": "x", "match": {"labels": {CLASS: "large"}}, "profile": "teacher"},
                      SPEC["tiers"][2]])
    d = step(base, raw=raw, teacher=teacher_obj(2), nodes=fleet_nodes(20), now=T0 + 100)
    key = StoreLayout.bundle_manifest(NS, TEACHER, 1, "teacher")
    assert d.pins_needed == [key] and "x" not in {t.tier for t in d.desired.previous}
    d = step(base, raw=raw, teacher=teacher_obj(2), nodes=fleet_nodes(20), now=T0 + 100,
             manifest_pins={key: "b" * 64})
    assert d.pins_needed == [] and {t.tier: t.manifest_sha256 for t in d.desired.previous}["x"] == "b" * 64


def test_generation_never_goes_below_one_agents_may_have_followed():
    """A desired state lost from the store (or not this operator's) restarts above the generation
    the status remembers: agents refuse an older generation."""
    d = run(status={"desiredGeneration": 41})
    assert d.desired.generation == 42 and d.status.desired_generation == 42
    again = step(d, now=T0 + 60)
    assert not again.write_desired and again.status.desired_generation == 42


def test_the_daemonset_gives_agents_the_release_keys_and_the_credentials_ca():
    workload = fd.AgentWorkload(release_keys="ed25519:" + "ab" * 32, node_credentials_ca="-----BEGIN CERTIFICATE-----")
    p = fd.plan(spec(), teacher_obj(1))
    o = fd.Observed(ref=REF, status={}, now=T0, teacher_ref=TEACHER, nodes=fleet_nodes(3), store_credentials=CREDS)
    ds = next(m for m in fd.decide(p, o, workload).apply if m["kind"] == "DaemonSet")
    env = {e["name"]: e.get("value") for e in ds["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env[AgentEnv.RELEASE_KEYS] == workload.release_keys
    assert env[AgentEnv.CREDENTIALS_CA] == workload.node_credentials_ca
