"""AdaptationPolicy decisions: spec + fleet + teacher + deltas + merge-back Job -> status,
the Job to create and the promotion to perform. Pure: `handlers` observes and acts.

A *round* is one merge-back of the fleet's deltas into the teacher:

1. it FIRES when a trigger holds — the fleet drifts (`mergeBack.trigger.onDrift` and at
   least `drift.minNodes` nodes on the fleet's target revision report a drift score above
   `drift.threshold`) or the cron `mergeBack.trigger.schedule` has a tick since the last
   round — and `cooldownMinutes` have passed since the last round finished, and no round
   runs. Firing writes `round`, `roundStartedTime` and phase Collecting;
2. it LAUNCHES the merge-back Job `<policy>-merge-r<round>` once `mergeBack.minUpdates`
   deltas of the teacher's revision N are in the store, or at `deadlineMinutes` with
   whatever arrived (stragglers never block; none at all ends the round Rejected). The
   operator owns revision numbers: the candidate is N + 1 (`--candidate-revision`);
3. when the Job finishes its JobReport decides: gate passed -> PROMOTE (the candidate's
   manifests and drift references are copied beside revision N + 1, with N's reply corpus
   and prepared corpus; the CloudTeacher's status becomes revision N + 1 with its bundles,
   keeping its specHash so the teacher controller does not re-distil); gate refused ->
   Rejected; Job failed -> Failed. A teacher that moved on meanwhile (a new distillation)
   is never overwritten: Rejected with the reason.

Idempotence: the Job's name is a pure function of the round, so a restarted operator finds
it instead of creating another; a promotion that already happened (teacher at N + 1 with
the candidate's manifests) is recognised and not repeated.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ecc_workloads.contracts import TEACHER_PROFILE, JobReport, MergeBackJob, StoreLayout
from ecc_workloads.timestamps import parse_time, rfc3339
from ecc_workloads.store import object_uri

from ecc_operator import workloads
from ecc_operator import common
from ecc_operator import conditions as cond
from ecc_operator.common import ObjectRef, SpecProblem, owner_reference, read_status, status_patch
from ecc_operator.credentials import jobs as job_credentials
from ecc_operator.controllers.teacher import decisions as td
from ecc_operator.controllers.policy.schedule import CronError, parse_cron, schedule_due
from ecc_operator.api.adaptationpolicy import ADAPTATION_POLICY, AdaptationPolicySpec, AdaptationPolicyStatus, LastMergeBack
from ecc_operator.api.edgefleet import EdgeFleetStatus
from ecc_operator.api.cloudteacher import Bundle, CloudTeacherSpec, CloudTeacherStatus

LABEL_POLICY = "ecc.dev/policy"
LABEL_FLEET = "ecc.dev/fleet"
LABEL_ROUND = "ecc.dev/round"
LABEL_CANDIDATE_REVISION = "ecc.dev/candidate-revision"
COMPONENT = "merge-back"
JOB_BACKOFF_LIMIT = 1
JOB_DEADLINE_S = 3600
HOLDOUT_SPLIT = "val"
DEFAULT_TRIM_FRACTION = 0.2
"""MergeBackSpec.trimFraction's documented default (trimmed-mean)."""


# ---------------------------------------------------------------------------
# Names and the merge-back Job
# ---------------------------------------------------------------------------
def job_name(policy: str, round_: int) -> str:
    """`<policy>-merge-r<round>`: one Job per round, within the 63 of the pods' job-name label."""
    suffix = f"-merge-r{round_}"
    return policy[: max(1, 63 - len(suffix))].rstrip("-") + suffix


def job_selector(policy: str) -> str:
    return f"{LABEL_POLICY}={policy},{workloads.LABEL_COMPONENT}={COMPONENT}"


def merge_store_policy(ref: ObjectRef, fleet: str, teacher: str, teacher_spec: CloudTeacherSpec, candidate: int,
                       job: str) -> dict:
    """What the merge-back Job `job` may do in the store (job_credentials)."""
    return job_credentials.merge_policy(teacher_spec.store.bucket, ref.namespace, teacher, fleet, candidate,
                                        StoreLayout.job_report(ref.namespace, fleet, job))


def merge_back_job(ref: ObjectRef, spec: AdaptationPolicySpec, fleet: str, teacher: str,
                   teacher_spec: CloudTeacherSpec, revision: int, candidate: int, profiles: list[str], report: str,
                   settings: workloads.WorkloadSettings) -> MergeBackJob:
    """The merge-back Job's spec: the policy's mergeBack settings, as they are (the quorum a merge
    needs at all is minNodes, or its default)."""
    bucket = teacher_spec.store.bucket
    mb = spec.merge_back
    return MergeBackJob(
        store=f"s3://{bucket}", namespace=ref.namespace, teacher=teacher, fleet=fleet, revision=revision,
        candidate_revision=candidate, profiles=profiles,
        holdout=object_uri(bucket, StoreLayout.corpus_prefix(ref.namespace, teacher, revision)),
        holdout_split=HOLDOUT_SPLIT, aggregation=mb.aggregation,
        trim_fraction=mb.trim_fraction if mb.trim_fraction is not None else DEFAULT_TRIM_FRACTION,
        merge_coefficient=mb.merge_coefficient, min_updates=mb.floor_of_nodes, max_update_norm=mb.max_update_norm,
        evaluation_gate=mb.evaluation_gate, max_length=teacher_spec.distillation.max_length,
        release_keys=settings.release_keys, report=report)


def merge_job_manifest(ref: ObjectRef, spec: AdaptationPolicySpec, round_: int, fleet: str, teacher: str,
                       teacher_spec: CloudTeacherSpec, revision: int, candidate: int, profiles: list[str],
                       settings: workloads.WorkloadSettings) -> dict:
    """The Job that merges the fleet's deltas of `revision` into candidate revision `candidate`; its
    container reads its spec (contracts.MergeBackJob) from RuntimeEnv.JOB_SPEC."""
    name = job_name(ref.name, round_)
    bucket = teacher_spec.store.bucket
    report = object_uri(bucket, StoreLayout.job_report(ref.namespace, fleet, name))
    job = merge_back_job(ref, spec, fleet, teacher, teacher_spec, revision, candidate, profiles, report, settings)
    labels = {LABEL_POLICY: ref.name, LABEL_FLEET: fleet, LABEL_ROUND: str(round_), workloads.LABEL_REVISION: str(revision),
              LABEL_CANDIDATE_REVISION: str(candidate), workloads.LABEL_COMPONENT: COMPONENT,
              workloads.LABEL_MANAGED_BY: workloads.MANAGED_BY}
    container = workloads.workload_container("merge-back", teacher_spec.distillation.image, settings.job_argv(),
                                      job_credentials.secret_name(name), bucket, spec.merge_back.resources.to_k8s(),
                                      job_spec=job)
    return workloads.workload_job(name=name, namespace=ref.namespace, labels=labels, annotations={},
                           owner=owner_reference(ref.name, ref.uid, ADAPTATION_POLICY),
                           backoff_limit=JOB_BACKOFF_LIMIT, active_deadline_seconds=JOB_DEADLINE_S,
                           settings=settings, containers=[container])


# ---------------------------------------------------------------------------
# Observed state
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class NodeDrift:
    """One reporting node's drift summary (as the fleet controller folds agent reports)."""

    node: str
    revision: int | None
    drift_score: float | None
    time: str | None = None
    """when the agent made the report; older than drift.windowMinutes: stale, not counted"""


@dataclass(frozen=True)
class MergeJob:
    """The parts of a merge-back Job the decisions need."""

    view: workloads.JobView
    round: int | None = None
    revision: int | None = None
    candidate_revision: int | None = None
    owner_uid: str | None = None

    @classmethod
    def from_job(cls, job: dict) -> "MergeJob":
        meta = job.get("metadata") or {}
        labels = meta.get("labels") or {}

        def num(key: str) -> int | None:
            v = labels.get(key)
            return int(v) if v is not None and str(v).isdigit() else None

        owner = next((o for o in meta.get("ownerReferences") or [] if o.get("controller")), {})
        return cls(view=workloads.JobView.from_job(job), round=num(LABEL_ROUND), revision=num(workloads.LABEL_REVISION),
                   candidate_revision=num(LABEL_CANDIDATE_REVISION), owner_uid=owner.get("uid"))


@dataclass(frozen=True)
class Observed:
    ref: ObjectRef
    status: AdaptationPolicyStatus
    """the stored status (a dict is read as the model)"""
    now: datetime
    fleet: dict | None = None
    """the EdgeFleet of spec.fleetRef (None: not found)"""
    teacher: dict | None = None
    """the CloudTeacher of the fleet's teacherRef (None: not found)"""
    store_problem: str = ""
    """why the store cannot be read (the teacher's store Secret is missing...)"""
    drift: tuple[NodeDrift, ...] = ()
    deltas: tuple[str, ...] = ()
    """nodes with a delta under StoreLayout.deltas_prefix(ns, fleet, revision of the round)"""
    deltas_revision: int | None = None
    job: MergeJob | None = None
    """the Job of the running round (by name)"""
    pod_messages: tuple[str, ...] = ()
    report: JobReport | None = None
    report_error: str = ""
    candidates: tuple[Bundle, ...] = ()
    """the candidate manifests the report lists (manifest_uri: the candidate key)"""
    candidate_error: str = ""
    promotion_error: str = ""
    """set by the handler when the promotion found the teacher changed under it"""

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", read_status(AdaptationPolicyStatus, self.status))


@dataclass(frozen=True)
class Plan:
    """What to observe for one reconcile."""

    spec: AdaptationPolicySpec | None
    problem: str
    fleet: str
    running_round: int | None
    """the round in progress (status.roundStartedTime set), None when none runs"""
    job: str | None
    """name of the running round's Job"""


parse_spec = functools.partial(common.parse_spec, AdaptationPolicySpec)


def plan(ref: ObjectRef, raw_spec: dict | None, status: AdaptationPolicyStatus | dict | None) -> Plan:
    status = read_status(AdaptationPolicyStatus, status)
    running = (status.round or 0) if status.round_started_time else None
    try:
        spec = parse_spec(raw_spec)
    except SpecProblem as exc:
        return Plan(None, str(exc), ((raw_spec or {}).get("fleetRef") or {}).get("name", ""),
                    running, job_name(ref.name, running) if running else None)
    return Plan(spec, "", spec.fleet_ref.name, running, job_name(ref.name, running) if running else None)


# ---------------------------------------------------------------------------
# Decision
# ---------------------------------------------------------------------------
@dataclass
class Promotion:
    """Make the candidate the teacher's revision `revision` (copies first, then one status patch)."""

    namespace: str
    teacher: str
    teacher_uid: str
    bucket: str
    base_revision: int
    revision: int
    spec_hash: str | None
    copies: list[tuple[str, str]]
    """(source key, destination key) that must exist: the candidate manifests"""
    optional_copies: list[tuple[str, str]]
    """copied when present: drift references, the reply corpus"""
    prefix_copies: list[tuple[str, str]]
    """(source prefix, destination prefix) copied object by object when present: the prepared corpus"""
    bundles: list[Bundle]
    """the teacher's status.bundles of the new revision"""
    message: str

    def teacher_status(self) -> dict:
        """The CloudTeacher's status patch that publishes the revision."""
        return status_patch(CloudTeacherStatus(revision=self.revision, bundles=self.bundles,
                                               message=cond.clip(self.message)))


@dataclass
class Decision:
    status: AdaptationPolicyStatus
    """the status to write: only the fields set here are patched (`patch`)"""
    create_job: dict | None = None
    promote: Promotion | None = None
    events: list[tuple[str, str, str]] = field(default_factory=list)
    round_result: str | None = None
    """Published | Rejected | Failed, when a round ends in this reconcile (count it once)"""
    round_started: bool = False
    pending_updates: int = 0

    def patch(self) -> dict:
        """The status as a merge patch (camelCase; a field set to None is removed)."""
        return status_patch(self.status)


def _teacher_state(teacher: dict) -> tuple[int, str | None, bool, list[Bundle], CloudTeacherSpec | None]:
    """(published revision, specHash, up to date (not distilling), bundles, spec)."""
    status = read_status(CloudTeacherStatus, teacher.get("status"))
    p = td.plan(ObjectRef.of(teacher), teacher.get("spec"), status)
    return p.published_revision, status.spec_hash, p.up_to_date, list(status.bundles or []), p.spec


def _promoted_already(bundles: list[Bundle], candidates: tuple[Bundle, ...]) -> bool:
    have = {b.profile: b.sha256 for b in bundles}
    return bool(candidates) and have == {c.profile: c.sha256 for c in candidates}


def decide(p: Plan, obs: Observed, settings: workloads.WorkloadSettings) -> Decision:
    """Everything to do in this reconcile, and the status to write: the first step that ends the
    reconcile decides its phase."""
    r = _Reconcile(p, obs, settings)
    return (r.unrunnable() or r.drift() or r.round_to_run() or r.job_name_taken() or r.collecting()
            or r.merging() or r.job_failed() or r.unusable_result() or r.refused() or r.promote())


@dataclass
class _Reconcile:
    """One reconcile of one AdaptationPolicy, as named steps: each either ends it (returns the
    Decision) or leaves the rest to the next step (returns None)."""

    p: Plan
    obs: Observed
    settings: workloads.WorkloadSettings
    d: Decision = field(init=False)
    teacher_name: str = ""
    t_rev: int = 0
    """the teacher's published revision, its spec hash, whether it is up to date (not distilling),
    its bundles and spec (_teacher_state)"""
    t_hash: str | None = None
    t_current: bool = False
    t_bundles: list[Bundle] = field(default_factory=list)
    t_spec: CloudTeacherSpec | None = None
    target: int | None = None
    """the fleet's target revision"""
    scores: list[NodeDrift] = field(default_factory=list)
    """drift of the nodes on the target revision within the window"""
    drifting: list[NodeDrift] = field(default_factory=list)
    running: int | None = None
    """the round in progress (started now or before)"""
    started_at: datetime | None = None

    def __post_init__(self) -> None:
        old = self.obs.status
        kept = {f: getattr(old, f) for f in ("round", "last_merge_back", "last_job") if getattr(old, f) is not None}
        self.d = Decision(status=AdaptationPolicyStatus(observed_generation=self.obs.ref.generation, **kept))

    @property
    def status(self) -> AdaptationPolicyStatus:
        return self.d.status

    @property
    def spec(self) -> AdaptationPolicySpec:
        return self.p.spec

    @property
    def job(self) -> MergeJob | None:
        return self.obs.job

    def finish(self, phase: str, message: str, ready, progressing, degraded) -> Decision:
        cond.settle(self.status, self.obs.status, phase, message, cond.triple(ready, progressing, degraded),
                    self.obs.ref.generation, now=rfc3339(self.obs.now))
        if phase != self.obs.status.phase and phase == "Degraded":
            self.d.events.append(("Warning", "Degraded", self.status.message))
        return self.d

    def broken(self, reason: str, msg: str, phase: str = "Degraded") -> Decision:
        degraded = ("False", "AsExpected", "") if phase == "Pending" else ("True", reason, msg)
        return self.finish(phase, msg, ("False", reason, msg), ("False", reason, msg), degraded)

    def end_round(self, result: str, reason: str, revision: int | None = None, updates: int | None = None) -> None:
        counts = {k: v for k, v in (("revision", revision), ("updates", updates)) if v is not None}
        self.status.last_merge_back = LastMergeBack(time=rfc3339(self.obs.now), result=result,
                                                    reason=cond.clip(reason), **counts)
        self.status.round_started_time = None
        self.d.round_result = result
        kind = "Warning" if result == "Failed" else "Normal"
        self.d.events.append((kind, result, f"round {self.status.round}: {cond.clip(reason, 1000)}"))

    def idle(self, note: str = "") -> Decision:
        """No round runs (any more): Degraded after a failed round, CoolingDown, or Watching."""
        spec, last, now = self.spec, self.status.last_merge_back, self.obs.now
        msg = (f"watching EdgeFleet {self.p.fleet!r} on revision {self.target}: {len(self.drifting)}/"
               f"{len(self.scores)} reporting node(s) drifting (threshold {spec.drift.threshold}, minNodes "
               f"{spec.drift.min_nodes}), {self.d.pending_updates} delta(s); " + _last_summary(last)
               + (f"; {note}" if note else ""))
        until = _cooldown_until(spec, last)
        cooling = until is not None and now < until
        if cooling:
            msg += f"; cooling down until {rfc3339(until)}"
        if last is not None and last.result == "Failed":
            return self.finish("Degraded", msg, ("True", "Active", msg), ("False", "MergeBackFailed", msg),
                               ("True", "MergeBackFailed", msg))
        if cooling:
            return self.finish("CoolingDown", msg, ("True", "Active", msg), ("False", "CoolingDown", msg),
                               ("False", "AsExpected", ""))
        return self.finish("Watching", msg, ("True", "Active", msg), ("False", "Idle", msg),
                           ("False", "AsExpected", ""))

    def unrunnable(self) -> Decision | None:
        """A spec, schedule, fleet, teacher or store that makes any round impossible."""
        p, obs = self.p, self.obs
        if p.spec is None:
            return self.broken("InvalidSpec", p.problem)
        if p.spec.merge_back.trigger.schedule:
            try:
                parse_cron(p.spec.merge_back.trigger.schedule)
            except CronError as exc:
                return self.broken("InvalidSchedule", f"spec.mergeBack.trigger.schedule: {exc}")
        if obs.fleet is None:
            return self.broken("FleetNotFound", f"EdgeFleet {p.fleet!r} (spec.fleetRef) does not exist in this "
                                                "namespace")
        self.teacher_name = ((obs.fleet.get("spec") or {}).get("teacherRef") or {}).get("name", "")
        if obs.teacher is None:
            return self.broken("FleetTeacherNotFound", f"CloudTeacher {self.teacher_name!r} (teacherRef of EdgeFleet "
                                                       f"{p.fleet!r}) does not exist in this namespace")
        if obs.store_problem:
            return self.broken("StoreUnavailable", obs.store_problem)
        self.t_rev, self.t_hash, self.t_current, self.t_bundles, self.t_spec = _teacher_state(obs.teacher)
        if self.t_spec is None:
            return self.broken("TeacherInvalid", f"CloudTeacher {self.teacher_name!r} has an invalid spec")
        self.target = read_status(EdgeFleetStatus, obs.fleet.get("status")).target_revision
        return None

    def drift(self) -> None:
        """Drift of the nodes on the fleet's target revision, and the deltas waiting (recorded only)."""
        spec, obs, status = self.spec, self.obs, self.status
        window_start = obs.now - timedelta(minutes=spec.drift.window_minutes)
        self.scores = [n for n in obs.drift if self.target is not None and n.revision == self.target
                       and n.drift_score is not None and (parse_time(n.time) or obs.now) >= window_start]
        self.drifting = [n for n in self.scores if n.drift_score > spec.drift.threshold]
        status.last_drift_score = (round(sum(n.drift_score for n in self.scores) / len(self.scores), 4)
                                   if self.scores else None)
        status.drifting_nodes = len(self.drifting)
        self.d.pending_updates = status.pending_updates = len(obs.deltas)
        return None

    def round_to_run(self) -> Decision | None:
        """The round in progress, or one that starts now (drift or schedule); idle without one."""
        p, obs, status, spec = self.p, self.obs, self.status, self.spec
        if p.running_round is not None:
            self.running = p.running_round
            self.started_at = parse_time(obs.status.round_started_time) or obs.now
            status.round_started_time = obs.status.round_started_time
            status.round = self.running
            return None
        if self.t_rev <= 0:
            return self.broken("NoRevisionYet", f"waiting for CloudTeacher {self.teacher_name!r} to publish its "
                                                "first revision", "Pending")
        if self.target is None:
            return self.broken("FleetNotRunning", f"waiting for EdgeFleet {p.fleet!r} to run a revision (status."
                                                  "targetRevision)", "Pending")
        why = ""
        until = _cooldown_until(spec, status.last_merge_back)
        if until is not None and obs.now < until:
            pass
        elif not self.t_current:
            why = f"CloudTeacher {self.teacher_name!r} is distilling a new revision: no round starts meanwhile"
        elif self.target != self.t_rev:
            why = (f"EdgeFleet {p.fleet!r} runs revision {self.target}, the teacher is at {self.t_rev}: waiting for "
                   "the rollout")
        else:
            fired, why = self.triggers()
            if fired:
                self.running = (obs.status.round or 0) + 1
                self.started_at = obs.now
                status.round, status.round_started_time = self.running, rfc3339(obs.now)
                self.d.round_started = True
                self.d.events.append(("Normal", "RoundStarted", f"round {self.running} on revision {self.t_rev}: "
                                      + "; ".join(fired)))
                return None
        return self.idle(why)

    def triggers(self) -> tuple[list[str], str]:
        """(what fired a round now, why none does yet)."""
        spec, mb, now = self.spec, self.spec.merge_back, self.obs.now
        fired, why = [], ""
        if mb.trigger.on_drift and len(self.drifting) >= spec.drift.min_nodes:
            fired.append(f"{len(self.drifting)} node(s) drift above {spec.drift.threshold} (minNodes "
                         f"{spec.drift.min_nodes})")
        if mb.trigger.schedule:
            last = self.status.last_merge_back
            anchors = [parse_time(self.obs.ref.created), parse_time(last.time if last else None)]
            anchor = max([t for t in anchors if t is not None] or [now])
            due, nxt = schedule_due(mb.trigger.schedule, anchor, now)
            if due:
                fired.append(f"schedule {mb.trigger.schedule!r} ticked at {rfc3339(nxt)}")
            else:
                why = f"next scheduled round at {rfc3339(nxt)}"
        return fired, why

    @property
    def name(self) -> str:
        return job_name(self.obs.ref.name, self.running)

    def job_name_taken(self) -> Decision | None:
        job = self.job
        if job is None or job.owner_uid in (None, self.obs.ref.uid):
            return None
        msg = (f"round {self.running}: Job {self.name} belongs to another object (a deleted policy of the same "
               "name?); waiting for the garbage collector to remove it")
        return self.finish("Collecting", msg, ("True", "Active", msg), ("True", "JobNameTaken", msg),
                           ("False", "AsExpected", ""))

    def collecting(self) -> Decision | None:
        """No Job yet: wait for a quorum of deltas or the deadline, then make the merge-back Job."""
        if self.job is not None:
            return None
        mb, d, t_rev, running = self.spec.merge_back, self.d, self.t_rev, self.running
        deadline = self.started_at + timedelta(minutes=mb.deadline_minutes)
        if not self.t_current or t_rev <= 0:
            self.end_round("Rejected", f"CloudTeacher {self.teacher_name!r} is distilling a new revision; the round "
                                       "is dropped")
            return self.idle()
        quorum = d.pending_updates >= mb.min_updates
        if not quorum and self.obs.now < deadline:
            msg = (f"round {running}: {d.pending_updates}/{mb.min_updates} delta(s) of revision {t_rev}; merging at "
                   f"quorum or at the deadline {rfc3339(deadline)}")
            return self.finish("Collecting", msg, ("True", "Active", msg), ("True", "Collecting", msg),
                               ("False", "AsExpected", ""))
        if d.pending_updates == 0:
            self.end_round("Rejected", f"no updates: no delta of revision {t_rev} arrived before the deadline "
                                       f"({mb.deadline_minutes} min)", updates=0)
            return self.idle()
        if d.pending_updates < mb.floor_of_nodes:
            self.end_round("Rejected", f"too few nodes: {d.pending_updates} delta(s) of revision {t_rev} by the "
                                       f"deadline ({mb.deadline_minutes} min), mergeBack.minNodes is "
                                       f"{mb.floor_of_nodes}", updates=d.pending_updates)
            return self.idle()
        profiles = sorted({b.profile for b in self.t_bundles})
        if TEACHER_PROFILE not in profiles:
            self.end_round("Failed", f"CloudTeacher {self.teacher_name!r} revision {t_rev} lists no "
                                     f"{TEACHER_PROFILE!r} bundle")
            return self.idle()
        d.create_job = merge_job_manifest(self.obs.ref, self.spec, running, self.p.fleet, self.teacher_name,
                                          self.t_spec, t_rev, t_rev + 1, profiles, self.settings)
        self.status.last_job = self.name
        why = "quorum" if quorum else "deadline"
        d.events.append(("Normal", "JobCreated", f"merge-back Job {self.name}: {d.pending_updates} delta(s) of "
                                                 f"revision {t_rev} ({why}) -> candidate revision {t_rev + 1}"))
        msg = f"round {running}: merging {d.pending_updates} delta(s) of revision {t_rev} in Job {self.name} ({why})"
        return self.finish("Merging", msg, ("True", "Active", msg), ("True", "Merging", msg),
                           ("False", "AsExpected", ""))

    def merging(self) -> Decision | None:
        job = self.job
        self.status.last_job = self.name
        if job.view.finished:
            return None
        msg = (f"round {self.running}: Job {self.name} merges revision {job.revision} into candidate "
               f"{job.candidate_revision} ({job.view.active} active pod(s))")
        return self.finish("Merging", msg, ("True", "Active", msg), ("True", "Merging", msg),
                           ("False", "AsExpected", ""))

    @property
    def updates(self) -> int | None:
        """deltas the merge-back accepted (its report)"""
        report = self.obs.report
        return int(report.metrics.get("updates_accepted", 0)) if report is not None else None

    def job_failed(self) -> Decision | None:
        job, report = self.job, self.obs.report
        if not job.view.failed:
            return None
        parts = []
        if report is not None and not report.succeeded and report.message:
            parts.append(report.message)
        elif self.obs.pod_messages:
            parts.append(self.obs.pod_messages[0])
        if job.view.failure_reason:
            parts.append(f"Job {job.view.failure_reason}" + (f": {job.view.failure_message}"
                                                             if job.view.failure_message else ""))
        self.end_round("Failed", f"merge-back Job {self.name} failed: " + ("; ".join(parts) or "see the Job's pods"))
        return self.idle()

    def unusable_result(self) -> Decision | None:
        """A succeeded Job whose report or labels cannot be used."""
        job, report = self.job, self.obs.report
        problem = self.obs.report_error
        if not problem and report is not None and not report.succeeded:
            problem = f"the report says the Job failed: {report.message}"
        if not problem and report is not None and report.job != "merge-back":
            problem = f"the report at the Job's key is a {report.job!r} report"
        if not problem and report is None:
            problem = "the Job wrote no report"
        if not problem and (job.revision is None or job.candidate_revision is None):
            problem = f"Job {self.name} lacks its {workloads.LABEL_REVISION}/{LABEL_CANDIDATE_REVISION} labels"
        if not problem:
            return None
        self.end_round("Failed", f"merge-back Job {self.name} succeeded but its result cannot be used: {problem}")
        return self.idle()

    def refused(self) -> Decision | None:
        """The gate refused the candidate, it is published already, or the teacher moved on meanwhile."""
        report, base, cand = self.obs.report, self.job.revision, self.job.candidate_revision
        if report.metrics.get("gate_passed", 0.0) < 1.0:
            self.end_round("Rejected", report.message or "the evaluation gate refused the candidate",
                           updates=self.updates)
            return self.idle()
        if self.t_rev == cand and _promoted_already(self.t_bundles, self.obs.candidates):
            self.end_round("Published", f"revision {cand} published (already promoted): {report.message}", cand,
                           self.updates)
            return self.idle()
        moved = self.obs.promotion_error
        if not moved and self.t_rev != base:
            moved = (f"CloudTeacher {self.teacher_name!r} moved on to revision {self.t_rev} while revision {base} was "
                     "merged (a new distillation); the candidate is not promoted")
        if not moved and not self.t_current:
            moved = f"CloudTeacher {self.teacher_name!r} is distilling a new revision; the candidate is not promoted"
        if moved:
            self.end_round("Rejected", moved, updates=self.updates)
            return self.idle()
        if self.obs.candidate_error or not self.obs.candidates:
            self.end_round("Failed", "candidate manifests unreadable: "
                           f"{self.obs.candidate_error or 'the report lists none'}")
            return self.idle()
        return None

    def promote(self) -> Decision:
        """The candidate becomes the teacher's next revision (the handler copies and writes it)."""
        obs, teacher, report = self.obs, self.teacher_name, self.obs.report
        base, cand = self.job.revision, self.job.candidate_revision
        ns, bucket = obs.ref.namespace, self.t_spec.store.bucket
        profiles = sorted(c.profile for c in obs.candidates)
        bundles = [td.bundle_status(c.profile, object_uri(bucket, StoreLayout.bundle_manifest(ns, teacher, cand,
                                                                                              c.profile)),
                                    c.sha256, c.bytes, c.accuracy)
                   for c in sorted(obs.candidates, key=lambda c: c.profile)]
        self.d.promote = Promotion(
            namespace=ns, teacher=teacher, teacher_uid=(obs.teacher.get("metadata") or {}).get("uid", ""),
            bucket=bucket, base_revision=base, revision=cand, spec_hash=self.t_hash,
            copies=[(StoreLayout.candidate_manifest(ns, teacher, cand, pr),
                     StoreLayout.bundle_manifest(ns, teacher, cand, pr)) for pr in profiles],
            optional_copies=[(StoreLayout.candidate_drift_reference(ns, teacher, cand, pr),
                              StoreLayout.drift_reference(ns, teacher, cand, pr)) for pr in profiles]
            + [(StoreLayout.responses(ns, teacher, base), StoreLayout.responses(ns, teacher, cand))],
            prefix_copies=[(StoreLayout.corpus_prefix(ns, teacher, base) + "/",
                            StoreLayout.corpus_prefix(ns, teacher, cand) + "/")],
            bundles=bundles,
            message=f"revision {cand} published by merge-back (AdaptationPolicy {obs.ref.name} round "
                    f"{self.running}, {self.updates} update(s) of EdgeFleet {self.p.fleet!r})",
        )
        self.d.events.append(("Normal", "Promoting", f"candidate revision {cand} becomes CloudTeacher {teacher!r}'s "
                                                     f"revision {cand}"))
        self.end_round("Published", f"revision {cand} published: {report.message}", cand, self.updates)
        return self.idle()


def _cooldown_until(spec: AdaptationPolicySpec, last: LastMergeBack | None) -> datetime | None:
    t = parse_time(last.time) if last is not None else None
    return None if t is None else t + timedelta(minutes=spec.cooldown_minutes)


def _last_summary(last: LastMergeBack | None) -> str:
    if last is None:
        return "no round yet"
    out = f"last round {last.result}"
    if last.revision is not None:
        out += f" (revision {last.revision})"
    return out + (f": {last.reason}" if last.reason else "")

