"""AdaptationPolicy decisions: drift/schedule -> round -> quorum or deadline -> merge-back Job ->
gate -> promotion of the candidate as the teacher's next revision. Pure."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from ecc_workloads.contracts import CLOUD_NODE_ROLE_LABEL, BundleManifest, JobReport, ModuleRef, StoreEnv, StoreLayout
from ecc_workloads.timestamps import rfc3339

from ecc_operator import workloads
from ecc_operator.common import ObjectRef
from ecc_operator.controllers.policy import schedule
from ecc_operator.controllers.policy import decisions as pd
from ecc_operator.controllers.teacher import decisions as td

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)
REF = ObjectRef("demo", "adapt", "uid-p", 3, "2026-12-01T00:00:00Z")
SETTINGS = workloads.WorkloadSettings()
TEACHER_SPEC = {"model": {"source": "tiny"},
                "corpus": {"uri": "s3://ecc-fleet/c.csv", "textColumn": "instruction", "labelColumn": "intent"},
                "students": [{"profile": "s02", "blocks": [0, 2]}],
                "distillation": {"image": "img:1", "maxLength": 48},
                "store": {"secretRef": {"name": "my-store"}, "bucket": "ecc-fleet"}}
HASH = td.spec_hash(td.parse_spec(TEACHER_SPEC))
POLICY = {"fleetRef": {"name": "edge"}, "drift": {"threshold": 0.3, "minNodes": 2},
          "mergeBack": {"minUpdates": 2, "deadlineMinutes": 30, "aggregation": "median", "mergeCoefficient": 0.5,
                        "evaluationGate": {"minImprovement": -0.02, "maxRegression": 0.1},
                        "resources": {"limits": {"cpu": "1"}}},
          "cooldownMinutes": 60}


def t(minutes: float) -> str:
    return rfc3339(NOW + timedelta(minutes=minutes))


def policy(**changes) -> dict:
    out = json.loads(json.dumps(POLICY))
    for k, v in changes.items():
        out[k] = v
    return out


def bundle(profile: str, revision: int, sha: str) -> dict:
    return {"profile": profile, "manifestURI": f"s3://ecc-fleet/{StoreLayout.bundle_manifest('demo', 'shop', revision, profile)}",
            "sha256": sha, "bytes": 100}


def teacher(revision: int = 1, spec: dict | None = None, spec_hash: str = HASH, bundles=None) -> dict:
    return {"apiVersion": "ecc.dev/v1alpha1", "kind": "CloudTeacher",
            "metadata": {"name": "shop", "namespace": "demo", "uid": "uid-t", "generation": 1},
            "spec": spec or TEACHER_SPEC,
            "status": {"revision": revision, "specHash": spec_hash, "phase": "Ready",
                       "bundles": bundles if bundles is not None else [bundle("s02", revision, "1" * 64),
                                                                       bundle("teacher", revision, "2" * 64)]}}


def fleet(target: int | None = 1) -> dict:
    return {"metadata": {"name": "edge", "namespace": "demo"}, "spec": {"teacherRef": {"name": "shop"}},
            "status": {"targetRevision": target} if target is not None else {}}


def drifting(n: int, score: float = 0.8, revision: int = 1, time: str | None = None) -> tuple:
    return tuple(pd.NodeDrift(f"edge-{i}", revision, score, time or t(-1)) for i in range(n))


def run(raw=None, status=None, now=NOW, **observed):
    raw = policy() if raw is None else raw
    status = status or {}
    p = pd.plan(REF, raw, status)
    obs = dict(fleet=fleet(), teacher=teacher())
    obs.update(observed)
    o = pd.Observed(ref=REF, status=status, now=now, **obs)
    return p, pd.decide(p, o, SETTINGS)


def conds(d: pd.Decision) -> dict:
    return {c["type"]: c for c in d.patch()["conditions"]}


def job_dict(round_=1, revision=1, candidate=2, succeeded=False, failed=False, active=0, owner="uid-p") -> dict:
    conditions = []
    if succeeded:
        conditions.append({"type": "Complete", "status": "True"})
    if failed:
        conditions.append({"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                           "lastTransitionTime": t(-1)})
    return {"metadata": {"name": pd.job_name("adapt", round_),
                         "labels": {pd.LABEL_ROUND: str(round_), workloads.LABEL_REVISION: str(revision),
                                    pd.LABEL_CANDIDATE_REVISION: str(candidate)},
                         "ownerReferences": [{"uid": owner, "controller": True}]},
            "status": {"active": active, "conditions": conditions}}


def merging(round_=1, started=-20) -> dict:
    return {"phase": "Merging", "round": round_, "roundStartedTime": t(started), "lastJob": pd.job_name("adapt", round_)}


def candidates(shas=("a" * 64, "b" * 64), revision=2) -> tuple:
    rep = JobReport(job="merge-back", succeeded=True, metrics={"gate_passed": 1.0})
    out = []
    for profile, sha in zip(("s02", "teacher"), shas):
        m = BundleManifest(revision=revision, profile=profile, blocks=[0], labels=["a", "b"], base_model="tiny",
                           tokenizer_sha256="e" * 64, modules=[ModuleRef(name="embeddings", sha256=sha, bytes=300)],
                           metrics={"accuracy": 0.91})
        raw = m.model_dump_json().encode()
        key = StoreLayout.candidate_manifest("demo", "shop", revision, profile)
        out.append(td.published_bundle("ecc-fleet", key, raw, rep))
    return tuple(out)


def passed_report(updates=2) -> JobReport:
    return JobReport(job="merge-back", succeeded=True, message="gate passed: candidate mean 0.9 >= current 0.88",
                     bundles=[StoreLayout.candidate_manifest("demo", "shop", 2, p) for p in ("s02", "teacher")],
                     metrics={"gate_passed": 1.0, "updates_accepted": float(updates)})


# --------------------------------------------------------------------- firing
def test_drift_on_enough_nodes_fires_a_round_and_quorum_launches_the_job_at_once():
    p, d = run(drift=drifting(2), deltas=("edge-0", "edge-1"))
    assert d.round_started and d.status.round == 1 and d.status.round_started_time == rfc3339(NOW)
    assert d.status.phase == "Merging" and d.status.last_job == "adapt-merge-r1"
    assert d.create_job["metadata"]["name"] == "adapt-merge-r1"
    assert d.status.drifting_nodes == 2 and d.status.last_drift_score == 0.8 and d.status.pending_updates == 2
    assert [e[1] for e in d.events] == ["RoundStarted", "JobCreated"]
    assert conds(d)["Progressing"]["status"] == "True" and conds(d)["Degraded"]["status"] == "False"


def test_a_round_without_quorum_collects_until_the_deltas_arrive():
    _, d = run(drift=drifting(3), deltas=("edge-0",))
    assert d.round_started and d.create_job is None
    assert d.status.phase == "Collecting" and d.status.pending_updates == 1
    assert "1/2 delta(s)" in d.status.message and t(30) in d.status.message
    # next reconcile: the second delta arrived
    _, d2 = run(status=d.status, drift=drifting(3), deltas=("edge-0", "edge-1"))
    assert not d2.round_started and d2.status.round == 1
    assert d2.create_job["metadata"]["name"] == "adapt-merge-r1" and d2.status.phase == "Merging"


def test_drift_below_min_nodes_or_off_target_or_stale_does_not_fire():
    _, d = run(drift=drifting(1) + (pd.NodeDrift("calm", 1, 0.1, t(-1)),), deltas=("a", "b"))
    assert not d.round_started and d.create_job is None and d.status.phase == "Watching"
    assert d.status.drifting_nodes == 1 and d.status.last_drift_score == pytest.approx(0.45)
    # a node still on revision 0 and a report older than the 15-minute window do not count
    _, d = run(drift=drifting(1) + (pd.NodeDrift("old-rev", 0, 0.9, t(-1)), pd.NodeDrift("stale", 1, 0.9, t(-16))))
    assert not d.round_started and d.status.drifting_nodes == 1
    # the threshold is exclusive
    _, d = run(drift=drifting(2, score=0.3))
    assert not d.round_started and d.status.drifting_nodes == 0


def test_on_drift_false_ignores_drift():
    raw = policy(mergeBack={**POLICY["mergeBack"], "trigger": {"onDrift": False, "schedule": "@daily"}})
    _, d = run(raw, drift=drifting(5), status={"lastMergeBack": {"time": t(-60), "result": "Rejected"}})
    assert not d.round_started and "next scheduled round at 2026-12-03T00:00:00Z" in d.status.message


def test_cooldown_since_the_last_round_holds_the_next_one():
    last = {"time": t(-10), "result": "Published", "revision": 2}
    _, d = run(status={"round": 1, "lastMergeBack": last}, drift=drifting(2), deltas=("a", "b"))
    assert not d.round_started and d.status.phase == "CoolingDown" and t(50) in d.status.message
    last["time"] = t(-61)
    _, d = run(status={"round": 1, "lastMergeBack": last}, drift=drifting(2), deltas=("a", "b"))
    assert d.round_started and d.status.round == 2 and d.create_job["metadata"]["name"] == "adapt-merge-r2"


def test_no_round_while_the_teacher_distils_or_the_fleet_lags():
    _, d = run(teacher=teacher(spec_hash="other"), drift=drifting(2), deltas=("a", "b"))
    assert not d.round_started and "distilling" in d.status.message
    _, d = run(teacher=teacher(revision=2), drift=drifting(2, revision=1), deltas=("a", "b"))
    assert not d.round_started and "waiting for the rollout" in d.status.message


# --------------------------------------------------------------------- deadline
def test_deadline_launches_with_whatever_arrived_from_at_least_min_nodes():
    status = {"phase": "Collecting", "round": 1, "roundStartedTime": t(-31)}
    quorum_4 = policy(mergeBack={**POLICY["mergeBack"], "minUpdates": 4})
    _, d = run(quorum_4, status=status, deltas=("edge-0", "edge-1"))
    assert d.create_job is not None and d.status.phase == "Merging"
    assert "(deadline)" in d.status.message
    assert job_spec(d.create_job).min_updates == 2  # the Job merges only with minNodes accepted deltas
    _, d = run(quorum_4, status={**status, "roundStartedTime": t(-29)}, deltas=("edge-0", "edge-1"))
    assert d.create_job is None and d.status.phase == "Collecting"


def test_one_nodes_delta_alone_is_never_merged_by_default():
    status = {"phase": "Collecting", "round": 5, "roundStartedTime": t(-31)}
    _, d = run(status=status, deltas=("edge-0",))
    assert d.create_job is None and d.round_result == "Rejected"
    last = d.patch()["lastMergeBack"]
    assert "too few nodes" in last["reason"] and "minNodes is 2" in last["reason"] and last["updates"] == 1
    # a user who wants single-node merges says so
    _, d = run(policy(mergeBack={**POLICY["mergeBack"], "minNodes": 1}), status=status, deltas=("edge-0",))
    assert d.create_job is not None
    _, d = run(policy(mergeBack={**POLICY["mergeBack"], "minUpdates": 1}), status=status, deltas=("edge-0",))
    assert d.create_job is not None  # a quorum of 1 (set before minNodes existed) keeps its meaning


def test_min_nodes_above_the_quorum_is_refused_by_name():
    p, d = run(policy(mergeBack={**POLICY["mergeBack"], "minNodes": 3}))
    assert p.problem is not None and "minNodes" in str(p.problem)


def test_zero_deltas_at_the_deadline_end_the_round_rejected():
    status = {"phase": "Collecting", "round": 4, "roundStartedTime": t(-31)}
    _, d = run(status=status, deltas=())
    assert d.create_job is None and d.round_result == "Rejected"
    last = d.patch()["lastMergeBack"]
    assert last["result"] == "Rejected" and "no updates" in last["reason"] and last["updates"] == 0
    assert d.status.round_started_time is None and d.status.round == 4
    assert d.status.phase == "CoolingDown"


# --------------------------------------------------------------------- the Job
def test_job_name_is_per_round_and_dns_safe():
    assert pd.job_name("adapt", 3) == "adapt-merge-r3"
    long = pd.job_name("p" * 40, 123456)
    assert len(long) <= 63 and long.endswith("-merge-r123456")
    assert len(pd.job_name("x" * 63, 1)) <= 63


def test_the_merge_job_runs_merge_back_with_the_policy_settings():
    _, d = run(drift=drifting(2), deltas=("a", "b"))
    job = d.create_job
    meta, pod = job["metadata"], job["spec"]["template"]["spec"]
    assert meta["ownerReferences"][0] | {} == {"apiVersion": "ecc.dev/v1alpha1", "kind": "AdaptationPolicy",
                                               "name": "adapt", "uid": "uid-p", "controller": True,
                                               "blockOwnerDeletion": True}
    assert meta["labels"][pd.LABEL_POLICY] == "adapt" and meta["labels"][workloads.LABEL_COMPONENT] == "merge-back"
    assert meta["labels"][workloads.LABEL_REVISION] == "1" and meta["labels"][pd.LABEL_CANDIDATE_REVISION] == "2"
    assert pod["nodeSelector"] == {CLOUD_NODE_ROLE_LABEL: ""} and pod["restartPolicy"] == "Never"
    c = pod["containers"][0]
    assert c["image"] == "img:1" and c["resources"] == {"limits": {"cpu": "1"}}
    assert c["envFrom"] == [{"secretRef": {"name": "adapt-merge-r1-store"}}]  # its own, never the teacher's
    assert {"name": StoreEnv.BUCKET, "value": "ecc-fleet"} in c["env"]
    assert c["command"] + c["args"] == ["python", "-m", "ecc_workloads.cli.app", "job"]
    spec = job_spec(job)
    assert spec.revision == 1 and spec.candidate_revision == 2
    assert spec.profiles == ["s02", "teacher"] and spec.fleet == "edge" and spec.teacher == "shop"
    assert spec.holdout == f"s3://ecc-fleet/{StoreLayout.corpus_prefix('demo', 'shop', 1)}"
    assert spec.aggregation == "median" and spec.merge_coefficient == 0.5 and spec.min_updates == 2
    assert spec.evaluation_gate.min_improvement == -0.02 and spec.evaluation_gate.max_regression == 0.1
    assert spec.max_length == 48
    assert spec.report == f"s3://ecc-fleet/{StoreLayout.job_report('demo', 'edge', 'adapt-merge-r1')}"


def job_spec(job: dict):
    """The merge-back Job's spec, parsed as its container parses it."""
    from ecc_workloads.contracts import RuntimeEnv, parse_job_spec

    env = {e["name"]: e.get("value") for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    return parse_job_spec(env[RuntimeEnv.JOB_SPEC])


def test_gate_mapping_and_trimmed_mean_defaults():
    from ecc_workloads.learning import merge

    spec = pd.parse_spec(policy(mergeBack={"aggregation": "trimmed-mean", "maxUpdateNorm": 5.0,
                                           "evaluationGate": {"minImprovement": 0.01, "maxRegression": 0.05}}))
    job = job_spec(pd.merge_job_manifest(REF, spec, 1, "edge", "shop", td.parse_spec(TEACHER_SPEC), 1, 2, ["teacher"],
                                         SETTINGS))
    assert job.trim_fraction == 0.2 and job.max_update_norm == 5.0
    settings = merge.MergeSettings.from_job(job)  # a positive minImprovement tolerates no drop; checked on the gain
    assert settings.gate_tolerance == 0.0 and settings.max_slice_drop == 0.05
    tolerant = job.model_copy(update={"evaluation_gate": job.evaluation_gate.model_copy(update={"min_improvement": -0.02})})
    assert merge.MergeSettings.from_job(tolerant).gate_tolerance == 0.02


def test_a_running_job_is_found_by_name_and_never_duplicated():
    p, d = run(status=merging(), job=pd.MergeJob.from_job(job_dict(active=1)), deltas=("a", "b"))
    assert p.job == "adapt-merge-r1" and d.create_job is None
    assert d.status.phase == "Merging" and "1 active pod" in d.status.message


def test_a_job_of_another_owner_is_waited_for():
    _, d = run(status=merging(), job=pd.MergeJob.from_job(job_dict(active=1, owner="old-uid")))
    assert d.create_job is None and "belongs to another object" in d.status.message


# --------------------------------------------------------------------- outcomes
def test_gate_pass_promotes_the_candidate_as_the_next_revision():
    job = pd.MergeJob.from_job(job_dict(succeeded=True))
    _, d = run(status=merging(), job=job, report=passed_report(), candidates=candidates())
    pr = d.promote
    assert pr is not None and (pr.base_revision, pr.revision, pr.spec_hash) == (1, 2, HASH)
    assert (StoreLayout.candidate_manifest("demo", "shop", 2, "teacher"),
            StoreLayout.bundle_manifest("demo", "shop", 2, "teacher")) in pr.copies
    assert (StoreLayout.candidate_drift_reference("demo", "shop", 2, "s02"),
            StoreLayout.drift_reference("demo", "shop", 2, "s02")) in pr.optional_copies
    assert (StoreLayout.responses("demo", "shop", 1), StoreLayout.responses("demo", "shop", 2)) in pr.optional_copies
    assert pr.prefix_copies == [(StoreLayout.corpus_prefix("demo", "shop", 1) + "/",
                                 StoreLayout.corpus_prefix("demo", "shop", 2) + "/")]
    ts = pr.teacher_status()
    assert ts["revision"] == 2 and "specHash" not in ts
    assert [b["manifestURI"] for b in ts["bundles"]] == [
        f"s3://ecc-fleet/{StoreLayout.bundle_manifest('demo', 'shop', 2, p)}" for p in ("s02", "teacher")]
    assert {b["sha256"] for b in ts["bundles"]} == {c.sha256 for c in candidates()}
    assert ts["bundles"][0]["accuracy"] == 0.91 and ts["bundles"][0]["bytes"] == 300
    last = d.patch()["lastMergeBack"]
    assert last["result"] == "Published" and last["revision"] == 2 and last["updates"] == 2
    assert d.round_result == "Published" and d.status.round_started_time is None
    assert d.status.phase == "CoolingDown"


def test_promotion_keeps_the_teachers_spec_hash_so_it_does_not_re_distil():
    job = pd.MergeJob.from_job(job_dict(succeeded=True))
    _, d = run(status=merging(), job=job, report=passed_report(), candidates=candidates())
    after = teacher(revision=2, bundles=d.promote.bundles)
    after["status"].update(d.promote.teacher_status())
    tp = td.plan(ObjectRef("demo", "shop", "uid-t", 1), after["spec"], after["status"])
    assert tp.up_to_date and tp.wanted_job is None and tp.published_revision == 2


def test_gate_refused_is_rejected_and_the_fleet_stays():
    job = pd.MergeJob.from_job(job_dict(succeeded=True))
    rep = JobReport(job="merge-back", succeeded=True, message="gate refused: slice typos drops 0.2 > 0.1",
                    metrics={"gate_passed": 0.0, "updates_accepted": 3.0})
    _, d = run(status=merging(), job=job, report=rep)
    assert d.promote is None and d.round_result == "Rejected"
    assert d.patch()["lastMergeBack"]["reason"] == rep.message and d.patch()["lastMergeBack"]["updates"] == 3
    assert "revision" not in d.patch()["lastMergeBack"]


def test_job_failure_ends_the_round_failed_and_degraded():
    job = pd.MergeJob.from_job(job_dict(failed=True))
    rep = JobReport(job="merge-back", succeeded=False, message="FileNotFoundError: val.jsonl not found")
    _, d = run(status=merging(), job=job, report=rep)
    assert d.round_result == "Failed" and d.status.phase == "Degraded"
    assert "val.jsonl not found" in d.patch()["lastMergeBack"]["reason"]
    assert "BackoffLimitExceeded" in d.patch()["lastMergeBack"]["reason"]
    assert conds(d)["Degraded"]["reason"] == "MergeBackFailed"
    assert ("Warning", "Failed") in [(e[0], e[1]) for e in d.events]
    # after the cooldown a new round may start again
    last = dict(d.patch()["lastMergeBack"], time=t(-61))
    _, d2 = run(status={"round": 1, "lastMergeBack": last, "phase": "Degraded"}, drift=drifting(2), deltas=("a", "b"))
    assert d2.round_started and d2.status.round == 2


def test_succeeded_job_without_a_report_fails_the_round():
    job = pd.MergeJob.from_job(job_dict(succeeded=True))
    _, d = run(status=merging(), job=job, report_error="no report at s3://x")
    assert d.round_result == "Failed" and "no report at s3://x" in d.patch()["lastMergeBack"]["reason"]


def test_teacher_that_moved_on_is_not_overwritten():
    job = pd.MergeJob.from_job(job_dict(succeeded=True))
    moved = teacher(revision=2, bundles=[bundle("s02", 2, "9" * 64), bundle("teacher", 2, "8" * 64)])
    _, d = run(status=merging(), job=job, report=passed_report(), candidates=candidates(), teacher=moved)
    assert d.promote is None and d.round_result == "Rejected"
    assert "moved on to revision 2" in d.patch()["lastMergeBack"]["reason"]
    # ... and a teacher distilling a new spec is not promoted into either
    _, d = run(status=merging(), job=job, report=passed_report(), candidates=candidates(),
               teacher=teacher(spec_hash="edited"))
    assert d.promote is None and "distilling" in d.patch()["lastMergeBack"]["reason"]
    # the handler found the teacher changed under the lock: Rejected with its reason
    _, d = run(status=merging(), job=job, report=passed_report(), candidates=candidates(),
               promotion_error="CloudTeacher 'shop' moved on to revision 7")
    assert d.promote is None and d.patch()["lastMergeBack"]["reason"].endswith("revision 7")


def test_restart_after_promotion_does_not_promote_twice():
    job = pd.MergeJob.from_job(job_dict(succeeded=True))
    cands = candidates()
    promoted = teacher(revision=2, bundles=[bundle(c.profile, 2, c.sha256) for c in cands])
    _, d = run(status=merging(), job=job, report=passed_report(), candidates=cands, teacher=promoted)
    assert d.promote is None and d.create_job is None
    assert d.patch()["lastMergeBack"]["result"] == "Published" and d.patch()["lastMergeBack"]["revision"] == 2
    assert "already promoted" in d.patch()["lastMergeBack"]["reason"]


def test_restart_while_collecting_creates_the_same_job_name():
    status = {"phase": "Collecting", "round": 2, "roundStartedTime": t(-5)}
    _, d1 = run(status=status, deltas=("a", "b"))
    _, d2 = run(status=status, deltas=("a", "b"))
    assert d1.create_job["metadata"]["name"] == d2.create_job["metadata"]["name"] == "adapt-merge-r2"


def test_unchanged_state_writes_the_same_status():
    _, d1 = run(drift=drifting(1))
    _, d2 = run(status=d1.status, drift=drifting(1), now=NOW + timedelta(seconds=5))
    assert d1.patch() == d2.patch()


# --------------------------------------------------------------------- references
def test_missing_fleet_or_teacher_is_degraded():
    _, d = run(fleet=None)
    assert d.status.phase == "Degraded" and conds(d)["Degraded"]["reason"] == "FleetNotFound"
    assert "'edge'" in d.status.message and ("Warning", "Degraded") in [(e[0], e[1]) for e in d.events]
    _, d = run(teacher=None)
    assert conds(d)["Degraded"]["reason"] == "FleetTeacherNotFound" and "'shop'" in d.status.message


def test_nothing_published_yet_is_pending():
    _, d = run(teacher=teacher(revision=0, bundles=[]), drift=drifting(3))
    assert d.status.phase == "Pending" and not d.round_started
    _, d = run(fleet=fleet(target=None), drift=drifting(3))
    assert d.status.phase == "Pending" and "targetRevision" in d.status.message


# --------------------------------------------------------------------- schedule
def test_schedule_fires_once_per_tick_since_the_last_round():
    raw = policy(mergeBack={**POLICY["mergeBack"], "trigger": {"onDrift": True, "schedule": "0 * * * *"}})
    _, d = run(raw, deltas=("a",))  # created yesterday: the 01:00 tick is long past
    assert d.round_started and "ticked at 2026-12-01T01:00:00Z" in d.events[0][2]
    raw["cooldownMinutes"] = 0
    after_last = {"round": 1, "lastMergeBack": {"time": t(-30), "result": "Rejected"}}
    _, d = run(raw, status=after_last, now=NOW - timedelta(minutes=1))
    assert not d.round_started and d.status.phase == "Watching"
    assert "next scheduled round at 2026-12-02T12:00:00Z" in d.status.message
    _, d = run(raw, status=after_last)  # 12:00: the tick after the last round
    assert d.round_started and d.status.round == 2 and "ticked at 2026-12-02T12:00:00Z" in d.events[0][2]


def test_invalid_schedule_is_degraded_with_the_reason():
    raw = policy(mergeBack={"trigger": {"schedule": "99 * * * *"}})
    _, d = run(raw)
    assert d.status.phase == "Degraded" and conds(d)["Degraded"]["reason"] == "InvalidSchedule"
    assert "spec.mergeBack.trigger.schedule" in d.status.message
    assert "minute field '99': 99 is out of range 0-59" in d.status.message


def test_cron_matcher():
    c = schedule.parse_cron("@hourly")
    assert c.next_after(datetime(2026, 1, 1, 10, 59, 30, tzinfo=timezone.utc)) == datetime(2026, 1, 1, 11, 0, tzinfo=timezone.utc)
    assert schedule.parse_cron("@daily").next_after(NOW) == datetime(2026, 12, 3, tzinfo=timezone.utc)
    # every 15 minutes in working hours on weekdays (2026-12-05 is a Saturday)
    w = schedule.parse_cron("*/15 9-17 * * mon-fri")
    assert w.next_after(datetime(2026, 12, 4, 17, 50, tzinfo=timezone.utc)) == datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)
    assert w.next_after(datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)) == datetime(2026, 12, 7, 9, 15, tzinfo=timezone.utc)
    # day-of-month and day-of-week both restricted: either matches; 7 is Sunday
    e = schedule.parse_cron("0 0 1 * 7")
    assert e.next_after(datetime(2026, 12, 2, tzinfo=timezone.utc)) == datetime(2026, 12, 6, tzinfo=timezone.utc)
    assert e.next_after(datetime(2026, 12, 28, tzinfo=timezone.utc)) == datetime(2027, 1, 1, tzinfo=timezone.utc)
    assert schedule.parse_cron("30 4 29 feb *").next_after(NOW) == datetime(2028, 2, 29, 4, 30, tzinfo=timezone.utc)
    assert schedule.parse_cron("0,30 1-3/2 * * *").hours == frozenset({1, 3})
    assert schedule.parse_cron("5/20 * * * *").minutes == frozenset({5, 25, 45})
    due, nxt = schedule.schedule_due("@hourly", datetime(2026, 1, 1, 10, 0, tzinfo=timezone.utc),
                               datetime(2026, 1, 1, 10, 59, tzinfo=timezone.utc))
    assert not due and nxt.hour == 11


@pytest.mark.parametrize("expr,message", [
    ("* * * *", "expected 5 fields"),
    ("60 * * * *", "60 is out of range 0-59"),
    ("* * * foo *", "'foo' is not a number"),
    ("5-1 * * * *", "runs backwards"),
    ("*/0 * * * *", "step '0'"),
    ("0 0 30 feb *", "no tick within"),
    ("@often", "unknown macro"),
])
def test_cron_errors_name_the_problem(expr, message):
    with pytest.raises(schedule.CronError, match=message):
        schedule.parse_cron(expr)


# --------------------------------------------------------------------- the drift the policy reads
def test_drift_comes_from_the_fleet_controllers_reports_read_once_per_etag():
    """The policy reads no report itself: the EdgeFleet controller's reader GETs a report only
    when its ETag changed, skips a bad one without raising, and the policy sees its cache."""
    from types import SimpleNamespace

    from ecc_workloads.contracts import AgentReport

    from ecc_operator.controllers.fleet import handlers as fh
    from ecc_operator.controllers.policy import handlers as ph

    prefix = StoreLayout.reports_prefix("demo", "edge")
    objects = {f"{prefix}a.json": ("e1", AgentReport(node="a", fleet="edge", seq=1, time=t(0), state="Ready",
                                                      revision=1, drift_score=0.5).model_dump_json().encode()),
               f"{prefix}b.json": ("e1", b"not json"),
               f"{prefix}huge.json": ("e1", b" " * (fh.MAX_REPORT_BYTES + 1))}
    gets = []

    class FakeStore:
        settings = SimpleNamespace(bucket="ecc-fleet")
        client = SimpleNamespace(list_objects=lambda bucket, prefix, recursive: [
            SimpleNamespace(object_name=k, etag=e, size=len(b)) for k, (e, b) in objects.items() if k.startswith(prefix)])

        def get_json(self, uri, model):
            key = uri[len("s3://ecc-fleet/"):]
            gets.append(key)
            return model.model_validate_json(objects[key][1])

    ref = ObjectRef("demo", "edge", "uid-edge", 1)
    cache = fh.RUNTIME.reports.setdefault(ref.uid, fh.ReportCache())
    fh.RUNTIME.report_uids[("demo", "edge")] = ref.uid
    try:
        reports, errors = fh.read_reports(FakeStore(), ref, cache)
        assert list(reports) == ["a"] and len(errors) == 2 and len(gets) == 2  # bad ones skipped, not raised
        assert any("huge.json" in e and "not read" in e for e in errors)  # too large: refused from the listing
        assert ph.drift_summaries("demo", "edge") == [pd.NodeDrift("a", 1, 0.5, t(0))]
        fh.read_reports(FakeStore(), ref, cache)
        assert len(gets) == 2  # unchanged: no GET
        objects[f"{prefix}a.json"] = ("e2", AgentReport(node="a", fleet="edge", seq=2, time=t(1), state="Ready",
                                                         revision=1, drift_score=0.9).model_dump_json().encode())
        del objects[f"{prefix}b.json"], objects[f"{prefix}huge.json"]
        fh.read_reports(FakeStore(), ref, cache)
        assert ph.drift_summaries("demo", "edge") == [pd.NodeDrift("a", 1, 0.9, t(1))]
        assert gets[2:] == [f"{prefix}a.json"] and list(cache.entries) == ["a"] and not cache.errors
        assert ph.drift_summaries("demo", "other") == []  # a fleet not reconciled yet: no drift
    finally:
        fh.RUNTIME.reports.pop(ref.uid, None)
        fh.RUNTIME.report_uids.pop(("demo", "edge"), None)


def test_an_invalid_policy_spec_is_degraded_naming_the_field_once():
    p = pd.plan(REF, {"fleetRef": {"name": "edge"}, "mergeBack": {"aggregation": "mean"}}, {})
    assert p.spec is None and p.problem.count("spec is invalid") == 1 and "aggregation" in p.problem
