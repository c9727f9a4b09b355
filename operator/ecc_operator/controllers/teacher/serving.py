"""The served teacher's children: a Deployment and Service, or a KServe InferenceService with its
storage Secret, the TLS they serve with and the URLs agents are given. Pure manifest builders;
`decisions` chooses which to apply."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from ecc_workloads.contracts import (
    KServeServing,
    ModelDirLayout,
    RuntimeEnv,
    StoreEnv,
    StoreSettings,
    TeacherTLS,
)

from ecc_operator.common import ObjectRef, owner_reference, with_desired_hash
from ecc_operator.credentials import serving_tls
from ecc_operator.api.cloudteacher import CLOUD_TEACHER, CloudTeacherSpec
from ecc_operator.credentials.serving_tls import ServingTLS
from ecc_operator.workloads import (
    LABEL_TEACHER,
    LABEL_REVISION,
    LABEL_COMPONENT,
    LABEL_MANAGED_BY,
    MANAGED_BY,
    WorkloadSettings,
)


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


def serving_name(teacher: str) -> str:
    return f"{teacher}-serving"


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
    return [with_desired_hash(deployment), with_desired_hash(service)]


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
    return with_desired_hash({
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
    return with_desired_hash({
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


@dataclass(frozen=True)
class ServingView:
    """What the serving children look like now."""

    deployment: dict | None = None
    service: dict | None = None
    inference_service: dict | None = None
    predictor_deployment: dict | None = None
    """KServe's Deployment of the InferenceService's predictor (`<name>-predictor`)"""
