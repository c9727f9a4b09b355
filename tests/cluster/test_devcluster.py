"""The local development cluster, for real: API server, KServe CRDs, KWOK nodes, MinIO,
Prometheus, component restart, `up` twice, and `down` leaving nothing behind."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from clusterkit import eventually

from ecc_devcluster import kube as devkube
from ecc_workloads import contracts as c

pytestmark = pytest.mark.cluster

REPO_ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "ecc_devcluster.cli"]


def _cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONPATH": f"{REPO_ROOT}:{REPO_ROOT / 'operator'}", **(env or {})}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT, env=full_env)


# ---------------------------------------------------------------------------
# API server
# ---------------------------------------------------------------------------
def test_apiserver_reports_the_pinned_version(cluster, kube):
    from ecc_devcluster.binaries import tool_spec

    spec = tool_spec("kubernetes")
    pinned = spec.version(spec.read_go_mod())
    _, version = devkube.request(kube, "GET", "/version")
    assert version["gitVersion"] == pinned, version
    assert pinned.startswith("v1.")


def test_env_exports_make_kubectl_work(cluster):
    script = f'eval "$({" ".join(CLI)} env --name {cluster.name})" && command -v kubectl && kubectl get nodes -o name'
    run = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120, cwd=REPO_ROOT,
                         env={**os.environ, "PYTHONPATH": f"{REPO_ROOT}:{REPO_ROOT / 'operator'}"})
    assert run.returncode == 0, run.stderr
    lines = run.stdout.split()
    assert lines[0] == str(Path(cluster.bin_dir) / "kubectl")  # the built kubectl, first on PATH
    nodes = [l for l in lines[1:] if l.startswith("node/")]
    assert len(nodes) == cluster.fake_nodes + len(cluster.process_nodes)


def test_status_shows_components_and_nodes(cluster):
    run = _cli("status", "--name", cluster.name)
    assert run.returncode == 0, run.stderr
    for component in ("etcd", "kube-apiserver", "kwok", "minio", "prometheus"):
        assert component in run.stdout
    total = cluster.fake_nodes + len(cluster.process_nodes)
    assert f"nodes Ready: {total}/{total}" in run.stdout, run.stdout


def test_well_known_objects_exist(cluster, kube, store_client):
    _, secret = devkube.request(kube, "GET", f"/api/v1/namespaces/{c.SYSTEM_NAMESPACE}/secrets/{c.STORE_SECRET_NAME}")
    import base64

    data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert data == cluster.store.as_env()
    assert c.StoreSettings.from_env(data) == cluster.store
    assert store_client.bucket_exists(c.DEFAULT_BUCKET)


# ---------------------------------------------------------------------------
# KServe CRDs
# ---------------------------------------------------------------------------
def _isvc(name: str, predictor: dict) -> dict:
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"predictor": predictor},
    }


def test_kserve_inference_service_validated_by_the_api_server(cluster, kube):
    path = "/apis/serving.kserve.io/v1beta1/namespaces/default/inferenceservices"
    valid = _isvc("teacher-ok", {
        "minReplicas": 1,
        "model": {"modelFormat": {"name": "sklearn"}, "storageUri": "s3://ecc-fleet/models/teacher"},
    })
    status, created = devkube.request(kube, "POST", path, body=valid)
    assert status == 201 and created["spec"]["predictor"]["minReplicas"] == 1

    invalid = _isvc("teacher-bad", {
        "minReplicas": "two",
        "model": {"modelFormat": {"name": "sklearn"}, "storageUri": "s3://ecc-fleet/models/teacher"},
    })
    with pytest.raises(devkube.KubeError) as err:
        devkube.request(kube, "POST", path, body=invalid)
    assert err.value.status == 422
    assert "spec.predictor.minReplicas" in err.value.body
    devkube.request(kube, "DELETE", f"{path}/teacher-ok")


# ---------------------------------------------------------------------------
# KWOK fake edge nodes
# ---------------------------------------------------------------------------
def test_daemonset_on_fake_edge_nodes_gets_every_pod_running(cluster, kube):
    name = f"edge-probe-{uuid.uuid4().hex[:6]}"
    ds = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "nodeSelector": {c.NODE_KIND_LABEL: c.NODE_KIND_KWOK, c.EDGE_NODE_ROLE_LABEL: ""},
                    "tolerations": [{"key": c.EDGE_TAINT_KEY, "operator": "Exists", "effect": "NoSchedule"}],
                    "containers": [{"name": "agent", "image": "ecc/edge-agent:dev", "command": ["sleep", "infinity"]}],
                },
            },
        },
    }
    base = "/apis/apps/v1/namespaces/default/daemonsets"
    devkube.request(kube, "POST", base, body=ds)
    try:
        def all_ready():
            _, got = devkube.request(kube, "GET", f"{base}/{name}")
            st = got.get("status", {})
            return st if st.get("desiredNumberScheduled") == cluster.fake_nodes == st.get("numberReady") else None

        eventually(all_ready, 90, f"DaemonSet {name} Ready on all {cluster.fake_nodes} fake nodes")
        _, pods = devkube.request(kube, "GET", "/api/v1/namespaces/default/pods", query={"labelSelector": f"app={name}"})
        items = pods["items"]
        assert len(items) == cluster.fake_nodes
        assert {p["spec"]["nodeName"] for p in items} == {
            f"ecc-edge-fake-{i:04d}" for i in range(cluster.fake_nodes)
        }
        assert all(p["status"]["phase"] == "Running" for p in items)
        assert all(p["status"]["podIP"].startswith("127.240.") for p in items)  # loopback only
    finally:
        devkube.request(kube, "DELETE", f"{base}/{name}", ok=(200, 202, 404))


# ---------------------------------------------------------------------------
# MinIO
# ---------------------------------------------------------------------------
def test_minio_put_get_presigned_and_wrong_key(cluster, store_client):
    from datetime import timedelta

    from minio import Minio
    from minio.error import S3Error

    key = f"tests/{uuid.uuid4().hex}.txt"
    payload = b"edge-cloud collaborative learning"
    store_client.put_object(c.DEFAULT_BUCKET, key, io.BytesIO(payload), len(payload))
    resp = store_client.get_object(c.DEFAULT_BUCKET, key)
    try:
        assert resp.read() == payload
    finally:
        resp.close()
        resp.release_conn()

    url = store_client.presigned_get_object(c.DEFAULT_BUCKET, key, expires=timedelta(minutes=5))
    got = httpx.get(url, timeout=10)
    assert got.status_code == 200 and got.content == payload
    tampered = httpx.get(url.replace("X-Amz-Signature=", "X-Amz-Signature=0"), timeout=10)
    assert tampered.status_code == 403

    wrong = Minio(cluster.store.endpoint, access_key=cluster.store.access_key, secret_key="not-the-secret", secure=False)
    with pytest.raises(S3Error) as err:
        wrong.get_object(c.DEFAULT_BUCKET, key)
    assert err.value.code == "SignatureDoesNotMatch"


def test_stop_and_start_minio_keeps_address_and_data(cluster, store_client):
    key = f"tests/{uuid.uuid4().hex}.txt"
    store_client.put_object(c.DEFAULT_BUCKET, key, io.BytesIO(b"kept"), 4)
    host, port = cluster.store.endpoint.split(":")

    run = _cli("stop", "minio", "--name", cluster.name)
    assert run.returncode == 0, run.stderr
    with pytest.raises(OSError):
        socket.create_connection((host, int(port)), timeout=2).close()

    run = _cli("start", "minio", "--name", cluster.name)
    assert run.returncode == 0, run.stderr
    from ecc_devcluster import cluster as devcluster

    after = devcluster.load(cluster.name)
    assert after.store.endpoint == cluster.store.endpoint
    assert after.component_alive("minio")
    resp = store_client.get_object(c.DEFAULT_BUCKET, key)
    try:
        assert resp.read() == b"kept"
    finally:
        resp.close()
        resp.release_conn()


# ---------------------------------------------------------------------------
# Prometheus
# ---------------------------------------------------------------------------
def test_prometheus_scrapes_a_target_of_ours(cluster):
    from prometheus_client import CollectorRegistry, Gauge, start_http_server

    from ecc_devcluster import prometheus as prom

    registry = CollectorRegistry()
    metric = f"ecc_test_probe_{uuid.uuid4().hex[:8]}"
    Gauge(metric, "a value set by the test", registry=registry).set(42.5)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server, _thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    target = f"pytest-{uuid.uuid4().hex[:6]}"
    prom.add_static_target(cluster.file_sd_dir, target, [f"127.0.0.1:{port}"])
    try:
        def query():
            r = httpx.get(f"{cluster.prometheus_url}/api/v1/query", params={"query": metric}, timeout=5)
            result = r.json()["data"]["result"]
            return result[0] if result else None

        sample = eventually(query, 60, f"Prometheus answering {metric}", interval=1)
        assert float(sample["value"][1]) == 42.5
        assert sample["metric"]["job"] == target
    finally:
        prom.remove_static_target(cluster.file_sd_dir, target)
        server.shutdown()


# ---------------------------------------------------------------------------
# up twice, down
# ---------------------------------------------------------------------------
def test_second_up_of_a_running_cluster_says_so(cluster):
    run = _cli("up", "--name", cluster.name, "--fake-nodes", "0", "--cloud-workers", "0", "--edge-process-nodes", "0")
    assert run.returncode == 3
    assert "already running" in run.stderr
    from ecc_devcluster import cluster as devcluster

    assert devcluster.load(cluster.name).any_alive()  # untouched


def test_down_leaves_no_process_even_after_a_crash(cluster):
    """A second, small throwaway cluster (it also checks that two clusters coexist)."""
    from ecc_devcluster import cluster as devcluster
    from ecc_devcluster import processes

    name = f"{cluster.name}-tmp"
    run = _cli("up", "--name", name, "--fake-nodes", "2", "--cloud-workers", "0", "--edge-process-nodes", "0")
    assert run.returncode == 0, run.stderr
    info = devcluster.load(name)
    pids = {n: st.pid for n, st in info.components.items()}
    assert all(processes.is_alive(p) for p in pids.values()), pids
    assert Path(info.tmpfs_dir, "etcd").is_dir()

    os.kill(pids["etcd"], 9)  # a crashed component
    run = _cli("down", "--name", name, "--purge")
    assert run.returncode == 0, run.stderr
    assert not any(processes.is_alive(p) for p in pids.values())
    assert devcluster.leftover_processes(name) == []
    assert not Path(info.tmpfs_dir).exists()
    assert devcluster.load(name) is None and not devcluster.state_dir(name).exists()
    assert devcluster.load(cluster.name).any_alive()  # the session's cluster is untouched


def test_prometheus_discovers_annotated_pods_on_loopback(cluster, kube):
    """Pod discovery end to end: an annotated pod on a fake node becomes a Prometheus
    target at its (loopback) pod IP and annotated port/path."""
    name = f"scrape-me-{uuid.uuid4().hex[:6]}"
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default",
                     "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "9400",
                                     "prometheus.io/path": "/custom-metrics"}},
        "spec": {
            "nodeName": "ecc-edge-fake-0000",
            "tolerations": [{"key": c.EDGE_TAINT_KEY, "operator": "Exists"}],
            "containers": [{"name": "c", "image": "ecc/probe:dev"}],
        },
    }
    devkube.request(kube, "POST", "/api/v1/namespaces/default/pods", body=pod)
    try:
        def target():
            r = httpx.get(f"{cluster.prometheus_url}/api/v1/targets", timeout=5)
            for t in r.json()["data"]["activeTargets"]:
                if t["labels"].get("pod") == name:
                    return t
            return None

        t = eventually(target, 60, f"a Prometheus target for pod {name}", interval=1)
        _, got = devkube.request(kube, "GET", f"/api/v1/namespaces/default/pods/{name}")
        assert t["scrapeUrl"] == f"http://{got['status']['podIP']}:9400/custom-metrics"
        assert t["labels"]["job"] == "ecc-pods" and t["labels"]["node"] == "ecc-edge-fake-0000"
    finally:
        devkube.request(kube, "DELETE", f"/api/v1/namespaces/default/pods/{name}", ok=(200, 202, 404))
