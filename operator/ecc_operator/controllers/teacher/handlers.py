"""kopf handlers of CloudTeacher: observe, call the pure decisions, act. Nothing is decided here.

Triggers: create / spec update / resume (operator restart) and a resync timer (Job progress,
serving readiness). All run the same `reconcile()`, serialised per object by a lock.
Handlers return nothing (kopf would store results in status, which the CRD prunes).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from dataclasses import dataclass, field

import kopf

from ecc_workloads.contracts import JobReport, NodeIdentity, StoreLayout
from ecc_workloads.store import StoreError, object_uri

from ecc_operator import workloads
from ecc_operator.controllers.teacher import serving as teacher_serving
from ecc_operator import metrics
from ecc_operator.controllers.teacher import decisions as td
from ecc_operator import store as operator_store
from ecc_operator.credentials import serving_tls
from ecc_operator.children import Kube
from ecc_operator.credentials import jobs as job_credentials
from ecc_operator.credentials.store_access import AccessProblem, ScopedUsers
from ecc_operator.common import ObjectRef, owner_reference
from ecc_operator.runtime import SHARED
from ecc_operator.api.cloudteacher import CLOUD_TEACHER

log = logging.getLogger(__name__)

GROUP, VERSION, PLURAL = CLOUD_TEACHER.group, CLOUD_TEACHER.version, CLOUD_TEACHER.plural
RESYNC_SECONDS = 3.0
KSERVE_PROBE_TTL_S = 10.0


@dataclass
class Runtime:
    """Process-wide state of the handlers (set once at startup)."""

    users: ScopedUsers = field(default_factory=ScopedUsers)
    """the read-only store users of InferenceServices"""
    kserve_cache: dict[str, tuple[float, teacher_serving.KServeView]] = field(default_factory=dict)
    """ClusterServingRuntime name -> (when probed, what was seen)"""
    signing_ca: serving_tls.SigningCA | None = None
    """the CA that signs served teachers' certificates: the operator's own node-credentials CA, when it
    made it (None: the Secret is the user's; teachers then need spec.serving.tlsSecretName)"""
    ca_secret: str = NodeIdentity.TLS_SECRET
    """namespace/name of that CA's Secret (for messages)"""

    def kserve(self, runtime: str) -> teacher_serving.KServeView:
        at, view = self.kserve_cache.get(runtime, (0.0, None))
        if view is None or time.monotonic() - at > KSERVE_PROBE_TTL_S:
            view = probe_kserve(SHARED.kube, runtime)
            self.kserve_cache[runtime] = (time.monotonic(), view)
        return view


def probe_kserve(kube: Kube, runtime: str) -> teacher_serving.KServeView:
    """KServe's CRD, a ready endpoint behind its pod/InferenceService webhook (the controller
    runs), and the ClusterServingRuntime `runtime`."""
    from kubernetes.client.rest import ApiException

    if not kube.crd_exists(teacher_serving.KSERVE_CRD):
        return teacher_serving.KServeView(problem=f"KServe's CRD {teacher_serving.KSERVE_CRD} is not installed")
    try:
        hook = kube.get_mutating_webhook(teacher_serving.KSERVE_WEBHOOK)
        if hook is None:
            return teacher_serving.KServeView(crd=True, problem=f"KServe's controller is not installed (no "
                                 f"MutatingWebhookConfiguration {teacher_serving.KSERVE_WEBHOOK})")
        services = [w["clientConfig"]["service"] for w in hook.get("webhooks") or []
                    if (w.get("clientConfig") or {}).get("service")]
        if services and not kube.ready_endpoints(services[0]["namespace"], services[0]["name"]):
            return teacher_serving.KServeView(crd=True, problem=f"KServe's controller is not running (its webhook Service "
                                 f"{services[0]['namespace']}/{services[0]['name']} has no ready endpoint)")
        found = kube.get_cluster_custom(teacher_serving.KSERVE_GROUP, teacher_serving.KSERVE_RUNTIME_VERSION, teacher_serving.KSERVE_RUNTIME_PLURAL, runtime)
    except ApiException as exc:
        if exc.status != 403:
            raise
        return teacher_serving.KServeView(crd=True, problem=f"the operator may not look at KServe ({exc.reason}): grant it get on "
                             "mutatingwebhookconfigurations and clusterservingruntimes and list on endpointslices")
    if found is None:
        return teacher_serving.KServeView(crd=True, controller_ready=True, problem=(
            f"the ClusterServingRuntime {runtime} is not installed (the chart installs it when KServe's CRDs are "
            "there: `helm upgrade` after installing KServe)"))
    return teacher_serving.KServeView(crd=True, controller_ready=True, runtime=True)


RUNTIME = Runtime()


# ---------------------------------------------------------------------------
# Observation (side effects: reads only)
# ---------------------------------------------------------------------------
def _read_report(store, bucket: str, ref: ObjectRef, job: str) -> tuple[JobReport | None, str]:
    from ecc_workloads.store import KeyNotFound

    uri = object_uri(bucket, StoreLayout.job_report(ref.namespace, ref.name, job))
    try:
        return store.get_json(uri, JobReport), ""
    except KeyNotFound:
        return None, f"no report at {uri}"
    except Exception as exc:  # noqa: BLE001 - any unreadable report is reported, not raised
        return None, f"report {uri} unreadable: {type(exc).__name__}: {exc}"


def _read_bundles(store, bucket: str, report: JobReport) -> tuple[tuple[td.Bundle, ...], str]:
    facts = []
    for key in report.bundles:
        try:
            facts.append(td.published_bundle(bucket, key, store.get_bytes(object_uri(bucket, key)), report))
        except Exception as exc:  # noqa: BLE001
            return (), f"bundle manifest s3://{bucket}/{key}: {type(exc).__name__}: {exc}"
    if not facts:
        return (), "the report lists no bundle manifests"
    return tuple(facts), ""


def _job_credentials(kube: Kube, ref: ObjectRef, spec, job: str, revision: int, admin,
                     seen: dict | None = None) -> None:
    """The distillation Job's own store credentials (job_credentials), unless it has them."""
    policy = td.distill_store_policy(ref, spec, revision, job, SHARED.workloads)
    job_credentials.ensure(kube, ref.namespace, job, admin, policy,
                           job_credentials.lifetime(spec.distillation.active_deadline_seconds), seen,
                           allow_unscoped=SHARED.workloads.allow_unscoped_store_credentials)


def observe(kube: Kube, p: td.Plan, ref: ObjectRef, status: dict) -> td.Observed:
    spec = p.spec
    obs: dict = {"ref": ref, "status": status}
    if spec is None:
        return td.Observed(**obs)
    access = operator_store.store_access(kube, ref.namespace, spec.store.secret_ref.name, spec.store.bucket)
    obs["store_secret_present"] = access.settings is not None
    kserve = RUNTIME.kserve(SHARED.workloads.runtime_of(spec))  # also in other modes: an InferenceService left over goes
    obs["kserve"] = kserve
    if access.settings is None:
        return td.Observed(**obs)
    if spec.serving.mode != "none":  # read-only credentials for the storage initializer (KServe's or the Deployment's)
        try:
            obs["serving_store"] = RUNTIME.users.ensure_serving(access.settings, ref.namespace, ref.name, ref.uid)
        except AccessProblem as problem:
            obs["serving_store_problem"] = str(problem)
    selector = f"{workloads.LABEL_TEACHER}={ref.name},{workloads.LABEL_COMPONENT}=distill"
    jobs = {j["metadata"]["name"]: j for j in kube.list_jobs(ref.namespace, selector)}
    attempts = {}
    if p.wanted_job:
        for name in list(jobs):
            k = td.attempt_of(p.wanted_job, name)
            if k is not None:
                attempts[k] = jobs.pop(name)
    obs["other_jobs"] = tuple(workloads.JobView.from_job(j) for j in jobs.values())
    obs["now"] = time.time()
    if not p.up_to_date:
        if not attempts:  # a list may lag behind a create: ask for the first attempt by name
            first = kube.get_job(ref.namespace, p.wanted_job)
            attempts = {1: first} if first is not None else {}
        obs["attempt"] = max(attempts) if attempts else 1
        job = attempts.get(obs["attempt"])
        if job is not None:
            view = workloads.JobView.from_job(job)
            obs["job"] = view
            if not view.finished:  # a Job made before a crash may still lack its credentials
                _job_credentials(kube, ref, spec, view.name, p.next_revision, access.settings, job)
            if view.finished:
                store = operator_store.open_store(access.settings)
                report, error = _read_report(store, spec.store.bucket, ref, view.name)
                obs["report"] = report
                if view.succeeded:
                    obs["report_error"] = error
                    if report is not None and report.succeeded and report.job == "distill":
                        obs["bundles"], obs["bundle_error"] = _read_bundles(store, spec.store.bucket, report)
                else:
                    pods = kube.list_pods(ref.namespace, f"{workloads.JOB_NAME_LABEL}={view.name}")
                    obs["pod_messages"] = tuple(workloads.pod_termination_messages(pods))
    name = teacher_serving.serving_name(ref.name)
    isvc = (kube.get_custom(teacher_serving.KSERVE_GROUP, teacher_serving.KSERVE_VERSION, teacher_serving.KSERVE_PLURAL, ref.namespace, name)
            if kserve.crd else None)
    obs["serving"] = teacher_serving.ServingView(
        deployment=kube.get_deployment(ref.namespace, name),
        service=kube.get_service(ref.namespace, name),
        inference_service=isvc,
        predictor_deployment=kube.get_deployment(ref.namespace, f"{name}-predictor") if isvc else None,
    )
    return td.Observed(**obs)


# ---------------------------------------------------------------------------
# The served teacher's certificate (side effect: issues, applies and records one when due)
# ---------------------------------------------------------------------------
def serving_certificate(kube: Kube, body, ref: ObjectRef, spec, status: dict,
                        now: dt.datetime | None = None) -> serving_tls.ServingTLS | None:
    """What the server serves HTTPS with (serving_tls.plan); a certificate due is issued from the
    operator's CA, its Secret applied and recorded in status.servingCertificate before the serving
    manifests are built. None for serving.mode none (the record stays as it is)."""
    if spec is None or spec.serving.mode == "none":
        return None
    name = teacher_serving.serving_name(ref.name)
    now = now or dt.datetime.now(dt.timezone.utc)
    plan, reason = serving_tls.plan(spec.serving.tls_secret_name, status.get("servingCertificate"),
                                    RUNTIME.signing_ca, ref.namespace, name, now, RUNTIME.ca_secret)
    if reason is None:
        return plan
    data, record = serving_tls.issue(RUNTIME.signing_ca, ref.namespace, name)
    labels = {workloads.LABEL_TEACHER: ref.name, workloads.LABEL_COMPONENT: "serving", workloads.LABEL_MANAGED_BY: workloads.MANAGED_BY}
    kube.apply(serving_tls.secret_manifest(ref.namespace, record.secret_name, data, labels,
                                           owner_reference(ref.name, ref.uid, CLOUD_TEACHER)))
    # recorded at once: the operator may not read the Secret back, and a new issuance makes a new key
    kube.patch_status(GROUP, VERSION, PLURAL, ref.namespace, ref.name,
                      {"servingCertificate": record.model_dump(by_alias=True)})
    message = (f"issued the serving certificate in Secret {record.secret_name} ({reason}), valid until "
               f"{record.not_after}, sha256 {record.sha256[:12]}")
    log.info(f"{ref.namespace}/{ref.name}: {message}")
    kopf.event(body, type="Normal", reason="CertificateIssued", message=message)
    return serving_tls.issued(record)


# ---------------------------------------------------------------------------
# Acting
# ---------------------------------------------------------------------------
def act(kube: Kube, body, ref: ObjectRef, old_status: dict, d: td.Decision) -> None:
    for name in d.delete_jobs:
        kube.delete_job(ref.namespace, name)
        log.info(f"{ref.namespace}/{ref.name}: deleted superseded distillation Job {name}")
        kopf.event(body, type="Normal", reason="JobSuperseded", message=f"deleted superseded Job {name}")
    if d.create_job is not None:
        created = kube.create_job(d.create_job)
        log.info(f"{ref.namespace}/{ref.name}: " + ("created" if created else "adopted existing")
                 + f" Job {d.create_job['metadata']['name']}")
        if not created:
            d.job_outcome = None
            d.events = [e for e in d.events if e[1] != "JobCreated"]
    for kind, name in d.delete:
        kube.delete_child(kind, ref.namespace, name)
        log.info(f"{ref.namespace}/{ref.name}: deleted {kind} {name} (serving mode changed)")
    for manifest in d.apply:
        kube.apply(manifest)
        log.info(f"{ref.namespace}/{ref.name}: applied {manifest['kind']} {manifest['metadata']['name']}")
    kube.write_status(GROUP, VERSION, PLURAL, ref.namespace, ref.name, old_status, d.patch())
    for etype, reason, message in d.events:
        kopf.event(body, type=etype, reason=reason, message=message)
    if d.status.revision:
        metrics.TEACHER_REVISION.labels(namespace=ref.namespace, teacher=ref.name).set(d.status.revision)
    if d.job_outcome:
        metrics.JOBS.labels(kind="distill", outcome=d.job_outcome).inc()
    if d.published_revision:
        metrics.REVISIONS_PUBLISHED.inc()


def reconcile(body) -> None:
    kube = SHARED.kube
    meta = body["metadata"]
    ref = ObjectRef.of(body)
    if meta.get("deletionTimestamp"):
        return
    with SHARED.lock(ref.uid), metrics.reconcile_timer(CLOUD_TEACHER.kind):
        # The body kopf hands over may be older than the status we wrote last: re-read.
        fresh = kube.get_custom(GROUP, VERSION, PLURAL, ref.namespace, ref.name)
        if fresh is None or fresh["metadata"].get("uid") != ref.uid or fresh["metadata"].get("deletionTimestamp"):
            return
        ref = ObjectRef.of(fresh)
        status = dict(fresh.get("status") or {})
        p = td.plan(ref, fresh.get("spec"), status)
        obs = observe(kube, p, ref, status)
        obs = dataclasses.replace(obs, serving_tls=serving_certificate(kube, body, ref, p.spec, status))
        d = td.decide(p, obs, SHARED.workloads)
        act(kube, body, ref, status, d)
        if d.create_job is not None:
            spec = p.spec
            access = operator_store.store_access(kube, ref.namespace, spec.store.secret_ref.name, spec.store.bucket)
            if access.settings is not None:
                _job_credentials(kube, ref, spec, d.create_job["metadata"]["name"], p.next_revision, access.settings)


# ---------------------------------------------------------------------------
# kopf registrations
# ---------------------------------------------------------------------------
@kopf.on.create(GROUP, VERSION, PLURAL, backoff=5)
@kopf.on.resume(GROUP, VERSION, PLURAL, backoff=5)
@kopf.on.update(GROUP, VERSION, PLURAL, field="spec", backoff=5)
def on_change(body, **_) -> None:
    reconcile(body)


@kopf.timer(GROUP, VERSION, PLURAL, interval=RESYNC_SECONDS, initial_delay=RESYNC_SECONDS)
def on_resync(body, **_) -> None:
    reconcile(body)


@kopf.on.delete(GROUP, VERSION, PLURAL, backoff=5)
def on_delete(body, **_) -> None:
    """Remove the teacher's store prefixes (children go with their owner references).
    Content-addressed modules are shared by all teachers and stay."""
    meta, spec = body["metadata"], body.get("spec") or {}
    try:
        metrics.TEACHER_REVISION.remove(meta["namespace"], meta["name"])
    except KeyError:
        pass  # never published
    if (body.get("status") or {}).get("phase") != "Deleting":
        SHARED.kube.patch_status(GROUP, VERSION, PLURAL, meta["namespace"], meta["name"],
                                  {"phase": "Deleting", "message": "removing the store prefix; children follow "
                                   "their owner references"})
    try:
        parsed = td.parse_spec(dict(spec))
    except td.SpecProblem:
        log.warning("spec unparseable at deletion: store prefix left in place")
        return
    access = operator_store.store_access(SHARED.kube, meta["namespace"], parsed.store.secret_ref.name,
                                         parsed.store.bucket)
    if access.settings is None:
        log.warning(f"{access.source} missing at deletion: store prefix left in place")
        return
    try:
        removed = operator_store.open_store(access.settings).delete_prefixes(
            td.teacher_prefixes(meta["namespace"], meta["name"]), bucket=parsed.store.bucket)
    except StoreError as exc:
        raise kopf.TemporaryError(f"could not remove the teacher's store objects: {exc}", delay=10) from exc
    log.info(f"removed {removed} store objects of {meta['namespace']}/{meta['name']}")
    try:  # the storage initializer's read-only user (any serving mode may have made it; a missing one is fine)
        RUNTIME.users.remove_serving(access.settings, meta["namespace"], meta["name"])
    except AccessProblem as problem:
        log.warning(f"the serving store user of {meta['namespace']}/{meta['name']} stays: {problem}")
