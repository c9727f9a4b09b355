"""The well-known objects samples and tests rely on (names from ecc_workloads.contracts),
and KServe's CRDs on request (vendored in third_party/kserve-crds/)."""

from __future__ import annotations

import base64
import subprocess
import time
from pathlib import Path

from ecc_devcluster import kube
from ecc_workloads import contracts as c

KSERVE_CRDS_RELATIVE = Path("third_party") / "kserve-crds"
"""KServe's CRDs, vendored in the repository (source and version in its README.md)."""


def kserve_crd_files(repo_root: str | Path) -> list[Path]:
    """The CRD files of third_party/kserve-crds/ in the checkout at `repo_root`."""
    d = Path(repo_root).resolve() / KSERVE_CRDS_RELATIVE
    files = sorted(d.glob("*.yaml")) if d.is_dir() else []
    if not files:
        raise FileNotFoundError(
            f"KServe CRDs not found: expected *.yaml in {d} (the checkout's {KSERVE_CRDS_RELATIVE}/); "
            "--with-kserve-crds needs them"
        )
    return files


def ensure_namespace(api, name: str) -> None:
    kube.request(
        api,
        "POST",
        "/api/v1/namespaces",
        body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
        ok=(200, 201, 409),
    )


def wait_default_service_account(api, namespace: str, timeout_s: float = 60) -> None:
    """Pods cannot be created in a namespace before its `default` ServiceAccount exists
    (the controller-manager makes it)."""
    deadline = time.monotonic() + timeout_s
    path = f"/api/v1/namespaces/{namespace}/serviceaccounts/default"
    while True:
        status, _ = kube.request(api, "GET", path, ok=(200, 404))
        if status == 200:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"ServiceAccount {namespace}/default not created after {timeout_s:.0f}s "
                "(is kube-controller-manager running? see its log)"
            )
        time.sleep(0.2)


def store_secret_manifest(store: c.StoreSettings) -> dict:
    data = {k: base64.b64encode(v.encode()).decode() for k, v in store.as_env().items()}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": c.STORE_SECRET_NAME, "namespace": c.SYSTEM_NAMESPACE},
        "type": "Opaque",
        "data": data,
    }


def ensure_store_secret(api, store: c.StoreSettings) -> None:
    manifest = store_secret_manifest(store)
    base = f"/api/v1/namespaces/{c.SYSTEM_NAMESPACE}/secrets"
    status, _ = kube.request(api, "POST", base, body=manifest, ok=(200, 201, 409))
    if status == 409:
        kube.request(api, "PUT", f"{base}/{c.STORE_SECRET_NAME}", body=manifest)


def minio_client(store: c.StoreSettings):
    from ecc_workloads.store import minio_client as client

    return client(store)


def ensure_bucket(store: c.StoreSettings) -> None:
    client = minio_client(store)
    if not client.bucket_exists(store.bucket):
        client.make_bucket(store.bucket)


def apply_kserve_crds(api, kubectl: str, kubeconfig: str, repo_root: str | Path, timeout_s: float = 120) -> list[str]:
    """Server-side apply KServe's CRDs (too large for client-side apply) and wait until
    they are Established. Returns the CRD files applied."""
    files = kserve_crd_files(repo_root)
    argv = [kubectl, f"--kubeconfig={kubeconfig}", "apply", "--server-side", "--force-conflicts",
            "--field-manager=ecc-dev"]
    for f in files:
        argv += ["-f", str(f)]
    run = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s)
    if run.returncode != 0:
        raise RuntimeError(f"applying KServe CRDs failed ({' '.join(argv)}):\n{run.stderr or run.stdout}")
    for name in _crd_names(files):
        wait_crd_established(api, name, timeout_s)
    return [str(f) for f in files]


def wait_crd_established(api, name: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    path = f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}"
    while True:
        _, crd = kube.request(api, "GET", path)
        conditions = (crd or {}).get("status", {}).get("conditions") or []
        if any(c_["type"] == "Established" and c_["status"] == "True" for c_ in conditions):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"CRD {name} not Established after {timeout_s:.0f}s: {conditions}")
        time.sleep(0.2)


def _crd_names(files: list[Path]) -> list[str]:
    """CRD names from controller-gen file names `GROUP_PLURAL.yaml` (the files are too
    large to parse just for their names)."""
    names = []
    for f in files:
        group, _, plural = f.stem.partition("_")
        if not plural:
            raise ValueError(f"{f}: expected a file name GROUP_PLURAL.yaml (controller-gen style)")
        names.append(f"{plural}.{group}")
    return names
