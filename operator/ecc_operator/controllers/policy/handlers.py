"""kopf handlers of AdaptationPolicy: observe, call the pure decisions, act. Nothing is decided here.

Triggers: create / spec update / resume and a resync timer (drift, deltas, Job progress), all
running the same `reconcile()`, serialised per policy by a lock. Observed: the EdgeFleet of
spec.fleetRef, its CloudTeacher, the fleet's drift (the agent reports the EdgeFleet controller
already read: runtime.SHARED.fleet_reports), the deltas of the round's revision, the round's Job and its report.
Acted: create the Job, promote the candidate (store copies, then the teacher's status under
the teacher controller's lock), ONE status patch when something changed, Events, metrics.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from datetime import datetime, timezone

import kopf

from ecc_workloads.contracts import BundleManifest, JobReport, StoreLayout
from ecc_workloads.store import object_key, object_uri

from ecc_operator import workloads
from ecc_operator import metrics
from ecc_operator.credentials import jobs as job_credentials
from ecc_operator import store as operator_store
from ecc_operator.controllers.policy import decisions as pd
from ecc_operator.controllers.teacher import decisions as td
from ecc_operator.children import Kube
from ecc_operator.common import ObjectRef
from ecc_operator.runtime import SHARED
from ecc_operator.api.adaptationpolicy import ADAPTATION_POLICY
from ecc_operator.api.cloudteacher import CLOUD_TEACHER
from ecc_operator.api.edgefleet import EDGE_FLEET

log = logging.getLogger(__name__)

GROUP, VERSION, PLURAL = ADAPTATION_POLICY.group, ADAPTATION_POLICY.version, ADAPTATION_POLICY.plural
RESYNC_SECONDS = 5.0


def drift_summaries(namespace: str, fleet: str) -> list[pd.NodeDrift]:
    """The fleet's drift from the node reports the EdgeFleet controller already read (no second
    LIST or GET of the same objects); empty until the fleet's first reconcile."""
    return [pd.NodeDrift(r.node, r.revision, r.drift_score, r.time) for r in SHARED.fleet_reports(namespace, fleet)]


# ---------------------------------------------------------------------------
# Observation (reads only)
# ---------------------------------------------------------------------------
def _read_report(store, bucket: str, ns: str, fleet: str, job: str) -> tuple[JobReport | None, str]:
    from ecc_workloads.store import KeyNotFound

    uri = object_uri(bucket, StoreLayout.job_report(ns, fleet, job))
    try:
        return store.get_json(uri, JobReport), ""
    except KeyNotFound:
        return None, f"no report at {uri}"
    except Exception as exc:  # noqa: BLE001
        return None, f"report {uri} unreadable: {type(exc).__name__}: {exc}"


def _read_candidates(store, bucket: str, report: JobReport, candidate: int | None) -> tuple[tuple, str]:
    facts = []
    for key in report.bundles:
        try:
            raw = store.get_bytes(object_uri(bucket, key))
            manifest = BundleManifest.model_validate_json(raw)
        except Exception as exc:  # noqa: BLE001
            return (), f"s3://{bucket}/{key}: {type(exc).__name__}: {exc}"
        if candidate is not None and manifest.revision != candidate:
            return (), f"s3://{bucket}/{key} is revision {manifest.revision}, not the candidate {candidate}"
        facts.append(td.published_bundle(bucket, key, raw, report))
    return tuple(facts), ""


def _job_credentials(kube: Kube, ref: ObjectRef, job: dict, teacher: str, t_spec, admin,
                     seen: dict | None = None) -> None:
    """The merge-back Job's own store credentials (job_credentials), unless it has them."""
    labels = job["metadata"].get("labels") or {}
    candidate = int(labels[pd.LABEL_CANDIDATE_REVISION])
    policy = pd.merge_store_policy(ref, labels[pd.LABEL_FLEET], teacher, t_spec, candidate, job["metadata"]["name"])
    job_credentials.ensure(kube, ref.namespace, job["metadata"]["name"], admin, policy,
                           job_credentials.lifetime(pd.JOB_DEADLINE_S), seen,
                           allow_unscoped=SHARED.workloads.allow_unscoped_store_credentials)


def observe(kube: Kube, p: pd.Plan, ref: ObjectRef, status: dict) -> pd.Observed:
    from ecc_workloads.store import StoreError

    obs: dict = {"ref": ref, "status": status, "now": datetime.now(timezone.utc)}
    if p.spec is None:
        return pd.Observed(**obs)
    fleet = kube.get_custom(EDGE_FLEET.group, EDGE_FLEET.version, EDGE_FLEET.plural, ref.namespace, p.fleet)
    obs["fleet"] = fleet
    if fleet is None:
        return pd.Observed(**obs)
    teacher_name = ((fleet.get("spec") or {}).get("teacherRef") or {}).get("name", "")
    teacher = kube.get_custom(CLOUD_TEACHER.group, CLOUD_TEACHER.version, CLOUD_TEACHER.plural, ref.namespace,
                              teacher_name) if teacher_name else None
    obs["teacher"] = teacher
    if teacher is None:
        return pd.Observed(**obs)
    try:
        t_spec = td.parse_spec(teacher.get("spec"))
    except td.SpecProblem:
        return pd.Observed(**obs)
    bucket = t_spec.store.bucket
    access = operator_store.store_access(kube, ref.namespace, t_spec.store.secret_ref.name, bucket)
    if access.settings is None:
        obs["store_problem"] = f"{access.source} (store.secretRef of CloudTeacher {teacher_name!r}) not found"
        return pd.Observed(**obs)
    store = operator_store.open_store(access.settings)
    job = None
    if p.job:
        raw = kube.get_job(ref.namespace, p.job)
        job = pd.MergeJob.from_job(raw) if raw is not None else None
        if job is not None and not job.view.finished:  # made before a crash: it may lack its credentials
            _job_credentials(kube, ref, raw, teacher_name, t_spec, access.settings, seen=raw)
    obs["job"] = job
    revision = job.revision if job is not None and job.revision is not None else \
        int((teacher.get("status") or {}).get("revision") or 0)
    try:
        obs["drift"] = tuple(drift_summaries(ref.namespace, p.fleet))
        if revision > 0:
            prefix = StoreLayout.deltas_prefix(ref.namespace, p.fleet, revision)
            keys = [object_key(bucket, u) for u in store.list(object_uri(bucket, prefix))]
            obs["deltas"] = tuple(sorted(k[len(prefix):].removesuffix(".safetensors") for k in keys))
            obs["deltas_revision"] = revision
        if job is not None and job.view.finished:
            report, error = _read_report(store, bucket, ref.namespace, p.fleet, job.view.name)
            obs["report"], obs["report_error"] = report, error
            if job.view.failed:
                pods = kube.list_pods(ref.namespace, f"{workloads.JOB_NAME_LABEL}={job.view.name}")
                obs["pod_messages"] = tuple(workloads.pod_termination_messages(pods))
            elif report is not None and report.succeeded and report.metrics.get("gate_passed", 0.0) >= 1.0:
                obs["candidates"], obs["candidate_error"] = _read_candidates(store, bucket, report,
                                                                             job.candidate_revision)
    except StoreError as exc:
        obs["store_problem"] = f"object store: {exc}"
    return pd.Observed(**obs)


# ---------------------------------------------------------------------------
# Promotion (store copies and the teacher's status, under the teacher controller's lock)
# ---------------------------------------------------------------------------
def promote(kube: Kube, pr: pd.Promotion) -> str:
    """Make the candidate the teacher's revision; returns why not ('' when done or already done)."""
    from ecc_workloads.store import KeyNotFound

    fresh = kube.get_custom(CLOUD_TEACHER.group, CLOUD_TEACHER.version, CLOUD_TEACHER.plural, pr.namespace,
                            pr.teacher)
    if fresh is None or fresh["metadata"].get("uid") != pr.teacher_uid:
        return f"CloudTeacher {pr.teacher!r} was deleted or replaced; the candidate is not promoted"
    t_spec = td.parse_spec(fresh.get("spec"))
    access = operator_store.store_access(kube, pr.namespace, t_spec.store.secret_ref.name, pr.bucket)
    if access.settings is None:
        raise kopf.TemporaryError(f"{access.source} not found: cannot promote revision {pr.revision}", delay=10)
    store = operator_store.open_store(access.settings)
    uri = lambda key: object_uri(pr.bucket, key)  # noqa: E731
    want = {b.profile: b.sha256 for b in pr.bundles}
    # The teacher controller takes this lock for every reconcile: while we hold it, it starts no
    # distillation, so the revision we write cannot be written by a distillation Job as well.
    with SHARED.lock(pr.teacher_uid):
        fresh = kube.get_custom(CLOUD_TEACHER.group, CLOUD_TEACHER.version, CLOUD_TEACHER.plural, pr.namespace,
                                pr.teacher)
        if fresh is None or fresh["metadata"].get("uid") != pr.teacher_uid:
            return f"CloudTeacher {pr.teacher!r} was deleted or replaced; the candidate is not promoted"
        rev, spec_hash, current, bundles, _ = pd._teacher_state(fresh)
        if rev == pr.revision and {b.profile: b.sha256 for b in bundles} == want:
            return ""  # promoted before a restart
        if rev != pr.base_revision:
            return f"CloudTeacher {pr.teacher!r} moved on to revision {rev} (a new distillation) while revision " \
                   f"{pr.base_revision} was merged; the candidate is not promoted"
        if not current or spec_hash != pr.spec_hash:
            return f"CloudTeacher {pr.teacher!r} is distilling a new revision; the candidate is not promoted"
        for src, dst in pr.copies:
            data = store.get_bytes(uri(src))
            profile = dst.rsplit("/", 1)[1].removesuffix(".json")
            if hashlib.sha256(data).hexdigest() != want.get(profile):
                return f"candidate manifest {uri(src)} changed after the Job's report was read"
            store.put_bytes(uri(dst), data, content_type="application/json")
        for src, dst in pr.optional_copies:
            try:
                store.put_bytes(uri(dst), store.get_bytes(uri(src)))
            except KeyNotFound:
                log.info(f"{uri(src)} absent: not copied to revision {pr.revision}")
        for src_prefix, dst_prefix in pr.prefix_copies:
            for src_uri in store.list(uri(src_prefix)):
                key = object_key(pr.bucket, src_uri)
                store.put_bytes(uri(dst_prefix + key[len(src_prefix):]), store.get_bytes(src_uri))
        kube.patch_status(CLOUD_TEACHER.group, CLOUD_TEACHER.version, CLOUD_TEACHER.plural, pr.namespace, pr.teacher,
                          pr.teacher_status())
    log.info(f"{pr.namespace}/{pr.teacher}: revision {pr.revision} published by merge-back")
    kopf.event(fresh, type="Normal", reason="MergedBack", message=pr.message)
    metrics.REVISIONS_PUBLISHED.inc()
    return ""


# ---------------------------------------------------------------------------
# Acting
# ---------------------------------------------------------------------------
def act(kube: Kube, body, ref: ObjectRef, old_status: dict, d: pd.Decision) -> None:
    if d.create_job is not None:
        created = kube.create_job(d.create_job)
        name = d.create_job["metadata"]["name"]
        log.info(f"{ref.namespace}/{ref.name}: " + ("created" if created else "adopted existing") + f" Job {name}")
        if created:
            metrics.JOBS.labels(kind="merge-back", outcome="created").inc()
        else:
            d.events = [e for e in d.events if e[1] != "JobCreated"]
    kube.write_status(GROUP, VERSION, PLURAL, ref.namespace, ref.name, old_status, d.patch())
    for etype, reason, message in d.events:
        kopf.event(body, type=etype, reason=reason, message=message)
    if d.round_result:
        metrics.MERGEBACK_ROUNDS.labels(namespace=ref.namespace, policy=ref.name, result=d.round_result).inc()
    metrics.POLICY_PENDING_UPDATES.labels(namespace=ref.namespace, policy=ref.name).set(d.pending_updates)


def reconcile(body) -> None:
    kube = SHARED.kube
    meta = body["metadata"]
    if meta.get("deletionTimestamp"):
        return
    with SHARED.lock(meta["uid"]), metrics.reconcile_timer(ADAPTATION_POLICY.kind):
        fresh = kube.get_custom(GROUP, VERSION, PLURAL, meta["namespace"], meta["name"])
        if fresh is None or fresh["metadata"].get("uid") != meta["uid"] or fresh["metadata"].get("deletionTimestamp"):
            return
        ref = ObjectRef.of(fresh)
        status = dict(fresh.get("status") or {})
        p = pd.plan(ref, fresh.get("spec"), status)
        obs = observe(kube, p, ref, status)
        d = pd.decide(p, obs, SHARED.workloads)
        if d.promote is not None:
            why = promote(kube, d.promote)
            if why:
                obs = dataclasses.replace(obs, promotion_error=why)
                d = pd.decide(p, obs, SHARED.workloads)
        act(kube, fresh, ref, status, d)
        if d.create_job is not None and obs.teacher is not None:
            t_spec = td.parse_spec(obs.teacher.get("spec"))
            access = operator_store.store_access(kube, ref.namespace, t_spec.store.secret_ref.name,
                                                 t_spec.store.bucket)
            if access.settings is not None:
                _job_credentials(kube, ref, d.create_job, obs.teacher["metadata"]["name"], t_spec, access.settings)


# ---------------------------------------------------------------------------
# kopf registrations
# ---------------------------------------------------------------------------
@kopf.on.create(GROUP, VERSION, PLURAL, backoff=5)
@kopf.on.resume(GROUP, VERSION, PLURAL, backoff=5)
@kopf.on.update(GROUP, VERSION, PLURAL, field="spec", backoff=5)
def on_change(body, **_) -> None:
    reconcile(body)


@kopf.timer(GROUP, VERSION, PLURAL, interval=RESYNC_SECONDS, initial_delay=1.0)
def on_resync(body, **_) -> None:
    reconcile(body)
