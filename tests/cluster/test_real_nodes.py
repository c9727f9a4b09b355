"""The real nodes of the local cluster: kubelets with containerd and runc, kube-proxy, CoreDNS.

What a user's k3s or KubeEdge cluster does, checked on ours: nodes register with their
labels, taint and an address in the nodes' fabric; pods run from the project's images
(loaded by `ecc-dev up`) with securityContext and memory limits enforced; Services resolve by
DNS name and route through kube-proxy from another node; EndpointSlices are populated;
`kubectl logs`, `exec` and `port-forward` work through the API server; the object store is a
Service; the gateway proxies nothing outside the cluster's own networks.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import subprocess
import urllib.request
import uuid
from pathlib import Path

import httpx
import pytest

from clusterkit import eventually
from ecc_devcluster.images import IMAGES
from ecc_devcluster.nodes.plan import FABRIC_CIDR, POD_CIDR
from ecc_workloads import contracts as c

NAMESPACE_PREFIX = "rn"
EDGE_IMAGE = IMAGES["ecc-edge-agent"].reference
WORKLOADS_IMAGE = IMAGES["ecc-workloads"].reference
EDGE_TOLERATION = {"key": c.EDGE_TAINT_KEY, "operator": "Exists", "effect": "NoSchedule"}


def kubectl(cluster, *args: str, check: bool = True, timeout: float = 120, stdin: str | None = None):
    run = subprocess.run([str(Path(cluster.bin_dir) / "kubectl"), f"--kubeconfig={cluster.kubeconfig}", *args],
                         capture_output=True, text=True, timeout=timeout, input=stdin)
    if check:
        assert run.returncode == 0, f"kubectl {' '.join(args)}: {run.stderr or run.stdout}"
    return run


def apply(cluster, *docs: dict) -> None:
    kubectl(cluster, "apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": list(docs)}))


def pod_json(cluster, ns: str, name: str) -> dict:
    return json.loads(kubectl(cluster, "get", "pod", "-n", ns, name, "-o", "json").stdout)


def wait_running(cluster, ns: str, name: str, timeout: float = 120) -> dict:
    def ready():
        pod = pod_json(cluster, ns, name)
        conds = {cd["type"]: cd["status"] for cd in pod["status"].get("conditions", [])}
        return pod if conds.get("Ready") == "True" else None

    return eventually(ready, timeout, f"pod {ns}/{name} Ready", interval=1)


@pytest.fixture(scope="module")
def nodes(cluster) -> dict[str, dict]:
    assert cluster.real_nodes, "the test cluster has no real nodes"
    items = json.loads(kubectl(cluster, "get", "nodes", "-l", f"{c.NODE_KIND_LABEL}={c.NODE_KIND_REAL}",
                               "-o", "json").stdout)["items"]
    return {n["metadata"]["name"]: n for n in items}


@pytest.fixture(scope="module")
def web(cluster, ns):
    """A web server on the cloud worker behind a Service (from the workloads image)."""
    labels = {"app": "web"}
    apply(cluster,
          {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": ns},
           "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": {
               "metadata": {"labels": labels},
               "spec": {"nodeSelector": {c.CLOUD_NODE_ROLE_LABEL: ""},
                        "securityContext": {"runAsNonRoot": True, "runAsUser": 65532},
                        "containers": [{
                            "name": "web", "image": WORKLOADS_IMAGE, "imagePullPolicy": "Never",
                            "command": ["sh", "-c", "cd /tmp && echo hello-from-web > index.html && "
                                                    "exec python -m http.server 8080"],
                            "ports": [{"containerPort": 8080}],
                            "readinessProbe": {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 1},
                            "securityContext": {"readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False},
                            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}]}],
                        "volumes": [{"name": "tmp", "emptyDir": {}}]}}}},
          {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": ns},
           "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": 8080}]}})
    kubectl(cluster, "-n", ns, "rollout", "status", "deployment/web", "--timeout=120s", timeout=150)
    pods = json.loads(kubectl(cluster, "-n", ns, "get", "pods", "-l", "app=web", "-o", "json").stdout)["items"]
    return pods[0]


def run_on_edge(cluster, ns: str, script: str, name: str | None = None, **container) -> tuple[dict, str]:
    """Run a Python script in a pod on an edge node (edge-agent image) to completion; (pod, log)."""
    name = name or f"probe-{uuid.uuid4().hex[:6]}"
    apply(cluster, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns}, "spec": {
        "restartPolicy": "Never", "nodeSelector": {c.EDGE_NODE_ROLE_LABEL: ""}, "tolerations": [EDGE_TOLERATION],
        "containers": [{"name": "c", "image": EDGE_IMAGE, "imagePullPolicy": "Never",
                        "command": ["python", "-c", script], **container}]}})
    pod = eventually(lambda: (p := pod_json(cluster, ns, name))["status"].get("phase") in ("Succeeded", "Failed") and p,
                     120, f"pod {name} to finish", interval=1)
    return pod, kubectl(cluster, "logs", "-n", ns, name).stdout


# ---------------------------------------------------------------------------
def test_nodes_register_with_their_roles_addresses_and_runtime(cluster, nodes):
    assert sorted(nodes) == sorted(cluster.real_nodes)
    for name, node in nodes.items():
        labels, info = node["metadata"]["labels"], node["status"]["nodeInfo"]
        addresses = {a["type"]: a["address"] for a in node["status"]["addresses"]}
        assert ipaddress.ip_address(addresses["InternalIP"]) in FABRIC_CIDR, addresses
        assert info["containerRuntimeVersion"].startswith("containerd://1.6"), info
        assert info["kubeletVersion"].startswith("v1."), info
        ready = {cd["type"]: cd["status"] for cd in node["status"]["conditions"]}
        assert ready["Ready"] == "True", ready
        taints = [(t["key"], t["effect"]) for t in node["spec"].get("taints", [])]
        if name.startswith("ecc-cloud-"):
            assert c.CLOUD_NODE_ROLE_LABEL in labels and taints == []
        else:
            assert c.EDGE_NODE_ROLE_LABEL in labels and labels[c.EDGE_SITE_LABEL] and labels[c.EDGE_CAPACITY_CLASS_LABEL]
            assert taints == [(c.EDGE_TAINT_KEY, "NoSchedule")]


def test_service_dns_kube_proxy_and_endpointslices_across_nodes(cluster, ns, web):
    assert ipaddress.ip_address(web["status"]["podIP"]) in POD_CIDR
    slices = json.loads(kubectl(cluster, "-n", ns, "get", "endpointslices", "-l", "kubernetes.io/service-name=web",
                                "-o", "json").stdout)["items"]
    assert [e["addresses"] for s in slices for e in s["endpoints"]] == [[web["status"]["podIP"]]]
    # kube-proxy on the edge node programs the Service once it sees its EndpointSlice: like any
    # client in a cluster, retry the first connection for a while (endpoints propagate)
    script = ("import socket, time, urllib.request\n"
              f"print(socket.gethostbyname('web.{ns}.svc.cluster.local'))\n"
              "for attempt in range(30):\n"
              "    try:\n"
              f"        print(urllib.request.urlopen('http://web.{ns}.svc/', timeout=10).read().decode().strip())\n"
              "        break\n"
              "    except OSError:\n"
              "        time.sleep(1)\n"
              "else:\n"
              "    raise SystemExit('the Service never answered')\n"
              "try:\n    socket.gethostbyname('example.com')\n    print('outside resolved')\n"
              "except OSError:\n    print('outside not resolved')\n")
    pod, log = run_on_edge(cluster, ns, script)
    assert pod["status"]["phase"] == "Succeeded", log
    ip, body, outside = log.strip().splitlines()
    svc = json.loads(kubectl(cluster, "-n", ns, "get", "svc", "web", "-o", "json").stdout)
    assert ip == svc["spec"]["clusterIP"]
    assert body == "hello-from-web"
    assert outside == "outside not resolved"  # CoreDNS forwards nowhere
    assert pod["spec"]["nodeName"].startswith("ecc-edge-") and web["spec"]["nodeName"].startswith("ecc-cloud-")


def test_pods_reach_the_api_server_and_the_store_by_service(cluster, ns):
    script = ("import os, ssl, urllib.request\n"
              "sa = '/var/run/secrets/kubernetes.io/serviceaccount'\n"
              "ctx = ssl.create_default_context(cafile=sa + '/ca.crt')\n"
              "r = urllib.request.Request('https://kubernetes.default.svc/api', "
              "headers={'Authorization': 'Bearer ' + open(sa + '/token').read()})\n"
              "print(urllib.request.urlopen(r, context=ctx, timeout=10).status)\n"
              # the store: TLS, its certificate from the cluster's CA, for the Service's name
              f"print(urllib.request.urlopen('https://{cluster.store_in_cluster.endpoint}/minio/health/live', "
              "context=ctx, timeout=10).status)\n")
    pod, log = run_on_edge(cluster, ns, script)
    assert pod["status"]["phase"] == "Succeeded", log
    assert log.split() == ["200", "200"]


def test_logs_exec_and_port_forward_go_through_the_api_server(cluster, ns, web):
    name = web["metadata"]["name"]
    logs = kubectl(cluster, "-n", ns, "logs", name).stdout
    assert '"GET / HTTP/1.1" 200' in logs  # the readiness probes
    exec_run = kubectl(cluster, "-n", ns, "exec", name, "--", "id", "-u")
    assert exec_run.stdout.strip() == "65532"  # securityContext.runAsUser
    denied = kubectl(cluster, "-n", ns, "exec", name, "--", "touch", "/opt/x", check=False)
    assert denied.returncode != 0 and "Read-only file system" in denied.stderr + denied.stdout
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([str(Path(cluster.bin_dir) / "kubectl"), f"--kubeconfig={cluster.kubeconfig}", "-n", ns,
                             "port-forward", f"pod/{name}", f"{port}:8080"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        def fetch():
            try:
                return urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=3).read().decode().strip()
            except OSError:
                return None

        assert eventually(fetch, 30, "port-forward answering", interval=0.5) == "hello-from-web"
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_container_over_its_memory_limit_is_oom_killed_and_restarted(cluster, ns):
    name = f"hog-{uuid.uuid4().hex[:6]}"
    script = "import time\nprint('allocating', flush=True)\nb = bytearray(256 * 1024 * 1024)\ntime.sleep(600)\n"
    apply(cluster, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns}, "spec": {
        "restartPolicy": "Always", "nodeSelector": {c.CLOUD_NODE_ROLE_LABEL: ""},
        "containers": [{"name": "c", "image": WORKLOADS_IMAGE, "imagePullPolicy": "Never",
                        "command": ["python", "-c", script],
                        "resources": {"limits": {"memory": "64Mi", "cpu": "500m"}}}]}})

    def restarted_after_oom():
        st = (pod_json(cluster, ns, name)["status"].get("containerStatuses") or [{}])[0]
        last = (st.get("lastState") or {}).get("terminated") or {}
        return st if st.get("restartCount", 0) >= 1 and last.get("reason") == "OOMKilled" else None

    st = eventually(restarted_after_oom, 120, f"pod {name} OOM-killed and restarted", interval=1)
    assert st["lastState"]["terminated"]["exitCode"] == 137
    kubectl(cluster, "-n", ns, "delete", "pod", name, "--wait=false")


def test_prometheus_scrapes_a_pod_through_the_gateway(cluster, ns):
    """Pod discovery end to end: an annotated pod on an edge node becomes a Prometheus target at
    its pod IP and annotated port/path, and its samples arrive (through the gateway's proxy)."""
    name = f"scrape-me-{uuid.uuid4().hex[:6]}"
    value = 4242
    apply(cluster, {"apiVersion": "v1", "kind": "Pod", "metadata": {
        "name": name, "namespace": ns,
        "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "9400",
                        "prometheus.io/path": "/custom-metrics"}}, "spec": {
        "nodeSelector": {c.EDGE_NODE_ROLE_LABEL: ""}, "tolerations": [EDGE_TOLERATION],
        "containers": [{"name": "c", "image": EDGE_IMAGE, "imagePullPolicy": "Never",
                        "command": ["sh", "-c", f"cd /tmp && echo 'ecc_probe_value {value}' > custom-metrics && "
                                                "exec python -m http.server 9400"]}]}})
    try:
        def sample():
            r = httpx.get(f"{cluster.prometheus_url}/api/v1/query",
                          params={"query": f'ecc_probe_value{{pod="{name}"}}'}, timeout=5)
            result = r.json()["data"]["result"]
            return result[0] if result else None

        got = eventually(sample, 90, f"Prometheus scraping pod {name}", interval=1)
        assert float(got["value"][1]) == value and got["metric"]["job"] == "ecc-pods"
        pod = pod_json(cluster, ns, name)
        assert got["metric"]["instance"] == f"{pod['status']['podIP']}:9400"
        assert got["metric"]["node"] == pod["spec"]["nodeName"]
    finally:
        kubectl(cluster, "-n", ns, "delete", "pod", name, "--wait=false")


def test_the_gateway_proxies_only_into_the_cluster(cluster):
    proxy = cluster.components["gateway"].address
    r = httpx.get("http://203.0.113.7/", proxy=proxy, timeout=10)  # refused before any connection
    assert r.status_code == 403 and "not in the cluster's networks" in r.text
