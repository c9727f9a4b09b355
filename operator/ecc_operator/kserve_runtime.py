"""What KServe needs to serve a CloudTeacher: a ClusterServingRuntime and a ClusterStorageContainer.

Both run the workloads image. The chart installs them (templates/kserve-runtime.yaml is
generated from here by chartgen) when KServe's CRDs are there, named per release
(`<release>-<chart>-<namespace>-teacher` / `-bundle`: they are cluster-scoped) and passed to its
operator (`--kserve-runtime`, `--kserve-storage-container`); the operator's InferenceServices name
both and an ``ecc-bundle://`` storageUri. Without the chart the defaults are `ecc-teacher` and
`ecc-bundle`.

* ClusterStorageContainer ``ecc-bundle``: KServe's storage initializer for ``ecc-bundle://``
  URIs is `ecc fetch-bundle` (verifies every module's sha256 against the manifest and fetches
  the revision's reply corpus). KServe's own initializer would download one object or a prefix:
  not a manifest's content-addressed modules, and without checking them.
* ClusterServingRuntime ``ecc-teacher``: `ecc serve-teacher` (kserve's Python ModelServer) on
  the model directory, v1 and v2 protocols, the model named after the InferenceService unless
  it says otherwise (ECC_MODEL_NAME). It serves HTTPS only: the operator's InferenceServices
  mount the teacher's certificate Secret and set ECC_SERVING_TLS_CERT / ECC_SERVING_TLS_KEY
  (contracts.TeacherTLS), so the readiness probe speaks HTTPS. Readiness waits for the model; a
  preStop pause lets the Service drop a replaced pod before it stops, so a rollout loses no request.
"""

from __future__ import annotations

from ecc_workloads.contracts import KServeServing, ModelDirLayout, RuntimeEnv

GROUP_VERSION = "serving.kserve.io/v1alpha1"
PORT = 8080
PRESTOP_PAUSE_S = 5
"""Long enough for kube-proxy to remove a terminating pod from the Service."""


def serving_runtime(image: str, *, name: str = KServeServing.RUNTIME, pull_policy: str = "IfNotPresent",
                    labels: dict[str, str] | None = None) -> dict:
    k = KServeServing
    return {
        "apiVersion": GROUP_VERSION,
        "kind": "ClusterServingRuntime",
        "metadata": {"name": name, "labels": dict(labels or {})},
        "spec": {
            "supportedModelFormats": [{"name": k.MODEL_FORMAT, "version": "1", "autoSelect": True}],
            "protocolVersions": list(k.PROTOCOLS),
            "containers": [{
                "name": "kserve-container",
                "image": image,
                "imagePullPolicy": pull_policy,
                "command": ["ecc", "serve-teacher"],
                "args": ["--manifest", f"{k.MODEL_DIR}/{ModelDirLayout.BUNDLES_DIR}/", "--http-port", str(PORT)],
                "env": [
                    {"name": RuntimeEnv.MODEL_NAME, "value": "{{.Name}}"},
                    {"name": RuntimeEnv.POD_IP, "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                ],
                "ports": [{"containerPort": PORT, "protocol": "TCP"}],
                "readinessProbe": {"httpGet": {"path": "/v2/health/ready", "port": PORT, "scheme": "HTTPS"},
                                   "periodSeconds": 2, "failureThreshold": 3},
                "lifecycle": {"preStop": {"sleep": {"seconds": PRESTOP_PAUSE_S}}},
                "resources": {"requests": {"cpu": "100m", "memory": "512Mi"}, "limits": {"memory": "2Gi"}},
            }],
        },
    }


def storage_container(image: str, *, name: str = KServeServing.STORAGE_CONTAINER, pull_policy: str = "IfNotPresent",
                      labels: dict[str, str] | None = None) -> dict:
    return {
        "apiVersion": GROUP_VERSION,
        "kind": "ClusterStorageContainer",
        "metadata": {"name": name, "labels": dict(labels or {})},
        "spec": {
            "container": {
                "name": "storage-initializer",
                "image": image,
                "imagePullPolicy": pull_policy,
                "command": ["ecc", "fetch-bundle"],
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "1Gi"}},
            },
            "supportedUriFormats": [{"prefix": f"{KServeServing.BUNDLE_URI_SCHEME}://"}],
            "workloadType": "initContainer",
        },
    }


def manifests(image: str, *, runtime: str = KServeServing.RUNTIME, storage: str = KServeServing.STORAGE_CONTAINER,
              pull_policy: str = "IfNotPresent", labels: dict[str, str] | None = None) -> list[dict]:
    return [storage_container(image, name=storage, pull_policy=pull_policy, labels=labels),
            serving_runtime(image, name=runtime, pull_policy=pull_policy, labels=labels)]


def main(argv: list[str] | None = None) -> int:
    """`python -m ecc_operator.kserve_runtime [IMAGE]`: both objects as JSON, for `kubectl apply -f -`
    where the chart is not used (the defaults the operator assumes without `--kserve-*` options)."""
    import argparse
    import json

    from ecc_workloads.contracts import DEFAULT_WORKLOAD_IMAGE

    parser = argparse.ArgumentParser(prog="python -m ecc_operator.kserve_runtime", description=main.__doc__)
    parser.add_argument("image", nargs="?", default=DEFAULT_WORKLOAD_IMAGE, help="the workloads image")
    args = parser.parse_args(argv)
    print(json.dumps({"apiVersion": "v1", "kind": "List", "items": manifests(args.image)}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
