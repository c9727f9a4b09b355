"""The local development cluster, for real: API server, KServe CRDs, KWOK nodes, MinIO,
Prometheus, component restart, `up` twice, and `down` leaving nothing behind."""

from __future__ import annotations

import io
import os
import re
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
    assert len(nodes) == cluster.fake_nodes + len(cluster.real_nodes)


def test_status_shows_components_and_nodes(cluster):
    run = _cli("status", "--name", cluster.name)
    assert run.returncode == 0, run.stderr
    for component in ("etcd", "kube-apiserver", "kwok", "minio", "prometheus"):
        assert component in run.stdout
    total = cluster.fake_nodes + len(cluster.real_nodes)
    assert f"nodes Ready: {total}/{total}" in run.stdout, run.stdout


def test_well_known_objects_exist(cluster, kube, store_client):
    _, secret = devkube.request(kube, "GET", f"/api/v1/namespaces/{c.SYSTEM_NAMESPACE}/secrets/{c.STORE_SECRET_NAME}")
    import base64

    data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert data == cluster.store_in_cluster.as_env()  # what pods use: the ecc-store Service
    assert data[c.StoreEnv.ENDPOINT] == "ecc-store.ecc-system.svc:9000"
    assert c.StoreSettings.from_env(data) == cluster.store_in_cluster
    assert store_client.bucket_exists(c.DEFAULT_BUCKET)


def test_the_store_speaks_tls_only_with_a_certificate_of_the_cluster_ca(cluster):
    """Store traffic (models, reports, deltas, signed requests) crosses the nodes' network: MinIO
    serves TLS only, and a client that does not trust the cluster's CA (the view of a stand-in
    server, or of anyone without the CA) fails the handshake."""
    import ssl

    from ecc_workloads import tls
    from ecc_workloads.store import minio_client

    assert cluster.store.secure and cluster.store.ca_pem and cluster.store_in_cluster.ca_pem == cluster.store.ca_pem
    port = cluster.store.endpoint.rsplit(":", 1)[1]
    plain = httpx.get(f"http://{cluster.store.endpoint}/minio/health/ready", timeout=10)
    assert plain.status_code == 400 and b"HTTPS" in plain.content  # MinIO: an HTTP request to an HTTPS server
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"https://{cluster.store.endpoint}/minio/health/ready", timeout=10,
                  verify=ssl.create_default_context())  # the system's trust store does not know the cluster CA
    other_ca = tls.cert_pem(tls.make_ca("not the cluster's CA")[0]).decode()
    with pytest.raises(Exception) as err:
        minio_client(cluster.store.model_copy(update={"ca_pem": other_ca})).bucket_exists(c.DEFAULT_BUCKET)
    assert "CERTIFICATE_VERIFY_FAILED" in repr(err.value)
    for name in ("localhost", "127.0.0.1"):
        assert httpx.get(f"https://{name}:{port}/minio/health/ready", timeout=10,
                         verify=tls.client_context(cluster.store.ca_pem)).status_code == 200


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
    if cluster.kserve:  # KServe's defaulting webhook decodes the object first and refuses it
        assert err.value.status == 400 and "spec.predictor.ComponentExtensionSpec.minReplicas" in err.value.body
    else:  # the CRD's schema alone
        assert err.value.status == 422 and "spec.predictor.minReplicas" in err.value.body
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

    from minio.error import S3Error

    from ecc_workloads.store import minio_client
    from ecc_workloads.tls import client_context

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
    assert url.startswith("https://")
    ca = client_context(cluster.store.ca_pem)
    got = httpx.get(url, timeout=10, verify=ca)
    assert got.status_code == 200 and got.content == payload
    tampered = httpx.get(url.replace("X-Amz-Signature=", "X-Amz-Signature=0"), timeout=10, verify=ca)
    assert tampered.status_code == 403

    wrong = minio_client(cluster.store.model_copy(update={"secret_key": "not-the-secret"}))
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
    run = _cli("up", "--name", cluster.name, "--fake-nodes", "0", "--cloud-workers", "0", "--edge-nodes", "0")
    assert run.returncode == 3
    assert "already running" in run.stderr
    from ecc_devcluster import cluster as devcluster

    assert devcluster.load(cluster.name).any_alive()  # untouched


def host_state() -> dict[str, object]:
    """What of the host a cluster's nodes could change: network namespaces, links, iptables rules
    (iptables here is the nf_tables backend: what kube-proxy and the kubelet would write), mounts, cgroups, the sysctls the kubelet wants."""
    from ecc_devcluster.nodes.host import cgroup_hierarchies
    from ecc_devcluster.nodes.plan import NODE_SYSCTLS

    def out(*argv: str) -> str:
        return subprocess.run(argv, capture_output=True, text=True).stdout

    rules = [l for l in out("iptables-save").splitlines() if not l.startswith("#")]
    rules += [l for l in out("ip6tables-save").splitlines() if not l.startswith("#")]
    return {
        "netns": sorted(out("ip", "netns", "list").split()),
        "links": sorted(l.split(":")[1].strip().split("@")[0] for l in out("ip", "-o", "link").splitlines()),
        "routes": sorted(out("ip", "route", "show").splitlines()),
        "iptables": [re.sub(r"\[\d+:\d+\]", "", l) for l in rules],
        "mounts": sorted(l.split()[4] for l in Path("/proc/self/mountinfo").read_text().splitlines()),
        "cgroups": sorted(str(p) for root in cgroup_hierarchies() for p in root.iterdir() if p.is_dir()),
        "sysctls": {k: Path("/proc/sys", k).read_text() for k in NODE_SYSCTLS},
    }


def test_down_leaves_nothing_even_after_a_crash(cluster):
    """A second, small throwaway cluster with real nodes (it also checks that two clusters
    coexist): after a crash of etcd and of a kubelet, `down` leaves no process, and the host as
    it was — namespaces, links, iptables rules, mounts, cgroups, sysctls."""
    from ecc_devcluster import cluster as devcluster
    from ecc_devcluster import processes
    from ecc_devcluster.nodes.host import audit
    from ecc_devcluster.nodes.plan import CLUSTER_NETWORKS

    before = host_state()
    name = f"{cluster.name}-tmp"
    run = _cli("up", "--name", name, "--fake-nodes", "2", "--cloud-workers", "1", "--edge-nodes", "1")
    assert run.returncode == 0, run.stderr
    info = devcluster.load(name)
    assert info.real_nodes == ["ecc-cloud-0", "ecc-edge-0"]
    pids = {n: st.pid for n, st in info.components.items()}
    assert all(processes.is_alive(p) for p in pids.values()), pids
    assert Path(info.tmpfs_dir, "etcd").is_dir()
    during = host_state()
    assert {f"ecc-{name}-fabric", f"ecc-{name}-ecc-cloud-0"} <= set(during["netns"])
    assert audit(name, info.state_dir)  # the check below can see what a cluster leaves
    assert during["sysctls"] == before["sysctls"]  # never written, even while running
    assert during["iptables"] == before["iptables"] and during["links"] == before["links"]
    # the cluster's networks are unreachable from the host while it runs (nothing leaks out)
    guards = set(during["routes"]) - set(before["routes"])
    assert {r.split()[1] for r in guards if r.startswith("unreachable")} == set(CLUSTER_NETWORKS), guards
    probe = subprocess.run(["curl", "-s", "--max-time", "5", "http://10.244.0.2/"], capture_output=True, text=True)
    assert probe.returncode == 7, probe  # "couldn't connect": refused on the host, never sent

    os.kill(pids["etcd"], 9)  # crashed components
    os.kill(pids["kubelet@ecc-edge-0"], 9)
    run = _cli("down", "--name", name, "--purge")
    assert run.returncode == 0, run.stderr
    assert not any(processes.is_alive(p) for p in pids.values())
    assert devcluster.leftover_processes(name) == []
    assert not Path(info.tmpfs_dir).exists()
    assert devcluster.load(name) is None and not devcluster.state_dir(name).exists()
    assert audit(name, info.state_dir) == []
    assert host_state() == before
    assert devcluster.load(cluster.name).any_alive()  # the session's cluster is untouched
