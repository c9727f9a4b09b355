"""The process node agent (a development stand-in for a kubelet) against the real local cluster.

Pods scheduled onto the process cloud worker really run: Jobs complete or fail with their
termination message, pods read mounted Secrets, call the API server with their own
service-account token, reach each other through Service DNS names, get distinct
addresses, and stop when deleted.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import textwrap
import time
import uuid
from pathlib import Path

import pytest
from clusterkit import eventually as _eventually

from ecc_workloads import contracts

pytestmark = pytest.mark.cluster

CLOUD_SELECTOR = {contracts.CLOUD_NODE_ROLE_LABEL: "", contracts.NODE_KIND_LABEL: contracts.NODE_KIND_PROCESS}


@pytest.fixture(scope="module")
def core(kube):
    from kubernetes import client

    return client.CoreV1Api(kube)


@pytest.fixture(scope="module")
def ns(kube, core):
    from kubernetes import client

    name = f"nodeagent-{uuid.uuid4().hex[:6]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    # The ServiceAccount controller creates `default` shortly after the namespace.
    _eventually(lambda: any(sa.metadata.name == "default" for sa in core.list_namespaced_service_account(name).items),
             30, f"ServiceAccount default in {name}")
    yield name
    core.delete_namespace(name)


@pytest.fixture(scope="module")
def cloud_node(cluster, core):
    nodes = [n for n in cluster.process_nodes if n.startswith("ecc-cloud-")]
    assert nodes, f"the test cluster has no process cloud worker (process nodes: {cluster.process_nodes})"
    node = core.read_node(nodes[0])
    ready = {c.type: c.status for c in node.status.conditions or []}.get("Ready")
    assert ready == "True", f"process node {nodes[0]} is not Ready: {node.status.conditions}"
    return nodes[0]


def test_process_nodes_are_ready_with_fresh_leases_and_loopback_address(cluster, kube, core):
    from kubernetes import client

    leases = client.CoordinationV1Api(kube)
    for name in cluster.process_nodes:
        node = core.read_node(name)
        assert {c.type: c.status for c in node.status.conditions}["Ready"] == "True"
        # InternalIP only: a Hostname address would make the API server resolve node names via DNS.
        assert [(a.type, a.address) for a in node.status.addresses] == [("InternalIP", "127.0.0.1")]
        assert node.status.capacity["cpu"] and node.status.allocatable == node.status.capacity
        assert node.status.daemon_endpoints.kubelet_endpoint.port > 0
        lease = leases.read_namespaced_lease(name, "kube-node-lease")
        age = time.time() - lease.spec.renew_time.timestamp()
        assert age < 30, f"lease of {name} renewed {age:.0f}s ago"


def pod_dict(core, ns: str, name: str) -> dict | None:
    from kubernetes.client.rest import ApiException

    try:
        return core.api_client.sanitize_for_serialization(core.read_namespaced_pod(name, ns))
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def pods_of_job(core, ns: str, job: str) -> list[dict]:
    pods = core.list_namespaced_pod(ns, label_selector=f"job-name={job}").items
    return [core.api_client.sanitize_for_serialization(p) for p in pods]


def job_condition(batch, ns: str, job: str) -> str | None:
    status = batch.read_namespaced_job_status(job, ns).status
    for cond in status.conditions or []:
        if cond.type in ("Complete", "Failed") and cond.status == "True":
            return cond.type
    return None


def agent_log(cluster, ns: str, pod: str, container: str) -> str:
    path = Path(cluster.state_dir) / "nodeagent" / "pods" / f"{ns}_{pod}" / f"{container}.log"
    return path.read_text() if path.exists() else ""


def make_job(name: str, container: dict, **pod_spec) -> dict:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "backoffLimit": 0,
            "template": {"spec": {"restartPolicy": "Never", "nodeSelector": CLOUD_SELECTOR,
                                  "containers": [container], **pod_spec}},
        },
    }


def test_job_runs_a_real_command_with_env_from_a_secret(cluster, kube, core, ns, cloud_node):
    from kubernetes import client

    batch = client.BatchV1Api(kube)
    core.create_namespaced_secret(ns, {"metadata": {"name": "job-creds"},
                                       "stringData": {"api-key": "k-123", "region": "eu-x"}})
    script = textwrap.dedent("""
        set -e
        test "$API_KEY" = k-123
        test "$region" = eu-x
        echo "job ran on $NODE as $ECC_POD_NAME at $ECC_POD_IP threads=$OMP_NUM_THREADS"
        test -z "$KUBECONFIG"
        python -c 'import ecc_workloads.contracts'
        python -c 'import os, sys; print("python", sys.version_info[:2], os.getcwd())'
        """)
    container = {
        "name": "main", "image": "ignored.example/none:0", "command": ["sh", "-c", script],
        "env": [{"name": "API_KEY", "valueFrom": {"secretKeyRef": {"name": "job-creds", "key": "api-key"}}},
                {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
        "envFrom": [{"secretRef": {"name": "job-creds"}}],
        "resources": {"limits": {"cpu": "2"}},
    }
    batch.create_namespaced_job(ns, make_job("env-job", container))
    assert _eventually(lambda: job_condition(batch, ns, "env-job"), 90, "Job env-job to finish") == "Complete"
    (pod,) = pods_of_job(core, ns, "env-job")
    assert pod["spec"]["nodeName"] == cloud_node
    assert pod["status"]["phase"] == "Succeeded"
    term = pod["status"]["containerStatuses"][0]["state"]["terminated"]
    assert term["exitCode"] == 0 and term["reason"] == "Completed"
    log = agent_log(cluster, ns, pod["metadata"]["name"], "main")
    assert f"job ran on {cloud_node} as {pod['metadata']['name']} at {pod['status']['podIP']} threads=2" in log, log
    assert "python (3," in log
    # `kubectl logs` goes API server -> the agent's kubelet API
    assert core.read_namespaced_pod_log(pod["metadata"]["name"], ns, tail_lines=1).startswith("python (3,")


def test_failing_job_ends_failed_with_its_termination_message(kube, core, ns, cloud_node):
    from kubernetes import client

    batch = client.BatchV1Api(kube)
    script = "echo step 1 ok; echo 'fatal: teacher model not found at s3://nowhere' >&2; exit 3"
    batch.create_namespaced_job(ns, make_job("failing-job", {"name": "main", "image": "x", "command": ["sh", "-c", script]}))
    assert _eventually(lambda: job_condition(batch, ns, "failing-job"), 90, "Job failing-job to finish") == "Failed"
    (pod,) = pods_of_job(core, ns, "failing-job")
    assert pod["status"]["phase"] == "Failed"
    term = pod["status"]["containerStatuses"][0]["state"]["terminated"]
    assert term["exitCode"] == 3 and term["reason"] == "Error"
    assert "fatal: teacher model not found at s3://nowhere" in term["message"]
    assert "step 1 ok" in term["message"]


def test_container_without_command_fails_clearly(core, ns, cloud_node):
    core.create_namespaced_pod(ns, {
        "metadata": {"name": "no-command"},
        "spec": {"restartPolicy": "Never", "nodeSelector": CLOUD_SELECTOR,
                 "containers": [{"name": "web", "image": "nginx:1.27"}]},
    })
    pod = _eventually(lambda: (p := pod_dict(core, ns, "no-command")) and p["status"].get("phase") == "Failed" and p,
                   60, "pod no-command to fail")
    message = pod["status"]["containerStatuses"][0]["state"]["terminated"]["message"]
    assert "'web'" in message and "command" in message, message


def test_pod_reads_secret_uses_its_token_and_reaches_a_service(cluster, kube, core, ns, cloud_node):
    from kubernetes import client

    rbac = client.RbacAuthorizationV1Api(kube)
    core.create_namespaced_service_account(ns, {"metadata": {"name": "reader"}})
    rbac.create_namespaced_role(ns, {
        "metadata": {"name": "configmap-reader"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}],
    })
    rbac.create_namespaced_role_binding(ns, {
        "metadata": {"name": "reader-reads-configmaps"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "configmap-reader"},
        "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": ns}],
    })
    core.create_namespaced_secret(ns, {"metadata": {"name": "mounted"}, "stringData": {"password": "pa55-mounted"}})
    core.create_namespaced_config_map(ns, {"metadata": {"name": "visible"}, "data": {"k": "v"}})

    # A web server bound to its own pod address, behind a Service.
    core.create_namespaced_pod(ns, {
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "nodeSelector": CLOUD_SELECTOR,
            "containers": [{
                "name": "http", "image": "python:3.11",
                "command": ["sh", "-c", 'echo hello-from-web > marker.txt && exec python -m http.server 8080 --bind "$ECC_POD_IP"'],
                "ports": [{"name": "http", "containerPort": 8080}],
                "readinessProbe": {"tcpSocket": {"port": "http"}, "periodSeconds": 1},
            }],
        },
    })
    core.create_namespaced_service(ns, {
        "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http"}]},
    })
    _eventually(lambda: (p := pod_dict(core, ns, "web")) and any(
        c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions") or []),
        60, "pod web to be Ready")

    client_script = textwrap.dedent(f"""
        import sys, time, urllib.request
        from kubernetes import client, config
        from kubernetes.client.rest import ApiException

        print("secret:", open("/etc/creds/password").read())
        config.load_incluster_config()
        api = client.CoreV1Api()
        names = [c.metadata.name for c in api.list_namespaced_config_map("{ns}").items]
        print("configmaps:", names)
        try:
            api.list_namespaced_secret("{ns}")
            print("secrets: ALLOWED")
        except ApiException as exc:
            print("secrets: refused", exc.status)
        for url in ("http://web.{ns}.svc/marker.txt", "http://web.{ns}.svc.cluster.local:80/marker.txt",
                    "http://web/marker.txt"):
            for attempt in range(60):
                try:
                    print("http:", url, urllib.request.urlopen(url, timeout=5).read().decode().strip())
                    break
                except OSError as exc:
                    last = exc
                    time.sleep(0.5)
            else:
                sys.exit(f"cannot reach {{url}}: {{last}}")
        """)
    core.create_namespaced_pod(ns, {
        "metadata": {"name": "client"},
        "spec": {
            "restartPolicy": "Never", "serviceAccountName": "reader", "nodeSelector": CLOUD_SELECTOR,
            "volumes": [{"name": "creds", "secret": {"secretName": "mounted"}}],
            "containers": [{"name": "main", "image": "python:3.11", "command": ["python", "-c", client_script],
                            "volumeMounts": [{"name": "creds", "mountPath": "/etc/creds", "readOnly": True}]}],
        },
    })
    pod = _eventually(lambda: (p := pod_dict(core, ns, "client")) and p["status"].get("phase") in ("Succeeded", "Failed") and p,
                   90, "pod client to finish")
    log = agent_log(cluster, ns, "client", "main")
    assert pod["status"]["phase"] == "Succeeded", (pod["status"], log)
    assert "secret: pa55-mounted" in log
    assert "configmaps: [" in log and "'visible'" in log
    assert "secrets: refused 403" in log
    assert f"http: http://web.{ns}.svc/marker.txt hello-from-web" in log
    assert f"http: http://web.{ns}.svc.cluster.local:80/marker.txt hello-from-web" in log
    assert "http: http://web/marker.txt hello-from-web" in log
    # The token the pod used came from the TokenRequest API, bound to this very pod.
    volumes = Path(cluster.state_dir) / "nodeagent" / "pods" / f"{ns}_client" / "volumes"
    (token_file,) = [p for p in volumes.rglob("token") if p.parent.name.startswith("kube-api-access")]
    payload = token_file.read_text().split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["sub"] == f"system:serviceaccount:{ns}:reader"
    assert claims["kubernetes.io"]["pod"] == {"name": "client", "uid": pod["metadata"]["uid"]}


def _sleeper(name: str, node: str, script: str = "trap 'echo got SIGTERM; exit 0' TERM; while true; do sleep 0.2; done") -> dict:
    return {
        "metadata": {"name": name},
        "spec": {"nodeName": node, "terminationGracePeriodSeconds": 10,
                 "containers": [{"name": "main", "image": "busybox", "command": ["sh", "-c", script]}]},
    }


def _running(core, ns, name):
    pod = pod_dict(core, ns, name)
    return pod if pod and pod["status"].get("phase") == "Running" else None


def test_two_pods_on_one_node_get_distinct_loopback_addresses(core, ns, cloud_node):
    for name in ("twin-a", "twin-b"):
        core.create_namespaced_pod(ns, _sleeper(name, cloud_node))
    a = _eventually(lambda: _running(core, ns, "twin-a"), 60, "twin-a Running")
    b = _eventually(lambda: _running(core, ns, "twin-b"), 60, "twin-b Running")
    ips = {a["status"]["podIP"], b["status"]["podIP"]}
    assert len(ips) == 2
    for ip in ips:
        assert ipaddress.ip_address(ip) in ipaddress.ip_network("127.100.0.0/16")
    assert a["status"]["hostIP"] == "127.0.0.1"
    conditions = {c["type"]: c["status"] for c in a["status"]["conditions"]}
    assert conditions == {"PodScheduled": "True", "Initialized": "True", "ContainersReady": "True", "Ready": "True"}
    for name in ("twin-a", "twin-b"):
        core.delete_namespaced_pod(name, ns)


def test_deleting_a_pod_stops_its_process_gracefully(cluster, core, ns, cloud_node):
    core.create_namespaced_pod(ns, _sleeper("doomed", cloud_node))
    pod = _eventually(lambda: _running(core, ns, "doomed"), 60, "doomed Running")
    pid = int(pod["status"]["containerStatuses"][0]["containerID"].removeprefix("ecc-process://"))
    os.kill(pid, 0)  # the process exists
    core.delete_namespaced_pod("doomed", ns)
    _eventually(lambda: pod_dict(core, ns, "doomed") is None, 30, "pod doomed to be gone")

    def gone() -> bool:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            return True
        return any(line.startswith("State:") and line.split()[1] in ("Z", "X") for line in status.splitlines())

    _eventually(gone, 10, f"process {pid} to exit")
    assert "got SIGTERM" in agent_log(cluster, ns, "doomed", "main")


def test_init_container_then_restart_on_failure(cluster, core, ns, cloud_node):
    main = textwrap.dedent("""
        cat /work/prepared
        if [ ! -f /work/attempted ]; then touch /work/attempted; echo first attempt fails; exit 1; fi
        echo second attempt succeeds
        """)
    core.create_namespaced_pod(ns, {
        "metadata": {"name": "retry"},
        "spec": {
            "restartPolicy": "OnFailure", "nodeName": cloud_node,
            "volumes": [{"name": "work", "emptyDir": {}}],
            "initContainers": [{"name": "prepare", "image": "x", "command": ["sh", "-c", "echo prepared-by-init > /work/prepared"],
                                "volumeMounts": [{"name": "work", "mountPath": "/work"}]}],
            "containers": [{"name": "main", "image": "x", "command": ["sh", "-c", main],
                            "volumeMounts": [{"name": "work", "mountPath": "/work"}]}],
        },
    })
    pod = _eventually(lambda: (p := pod_dict(core, ns, "retry")) and p["status"].get("phase") == "Succeeded" and p,
                   90, "pod retry to succeed after one restart")
    status = pod["status"]["containerStatuses"][0]
    assert status["restartCount"] == 1
    assert status["lastState"]["terminated"]["exitCode"] == 1
    assert pod["status"]["initContainerStatuses"][0]["state"]["terminated"]["exitCode"] == 0
    log = agent_log(cluster, ns, "retry", "main")
    assert log.count("prepared-by-init") == 2 and "second attempt succeeds" in log


def test_mounted_configmap_follows_updates(cluster, core, ns, cloud_node):
    core.create_namespaced_config_map(ns, {"metadata": {"name": "live"}, "data": {"level": "one"}})
    core.create_namespaced_pod(ns, {
        "metadata": {"name": "watcher"},
        "spec": {
            "nodeName": cloud_node, "terminationGracePeriodSeconds": 1,
            "volumes": [{"name": "cfg", "configMap": {"name": "live"}}],
            "containers": [{"name": "main", "image": "x",
                            "command": ["sh", "-c", "while true; do echo level=$(cat /etc/live/level); sleep 0.5; done"],
                            "volumeMounts": [{"name": "cfg", "mountPath": "/etc/live"}]}],
        },
    })
    _eventually(lambda: "level=one" in agent_log(cluster, ns, "watcher", "main"), 60, "the pod to read level=one")
    core.patch_namespaced_config_map("live", ns, {"data": {"level": "two"}})
    _eventually(lambda: "level=two" in agent_log(cluster, ns, "watcher", "main"), 60, "the mounted file to follow the update")
    core.delete_namespaced_pod("watcher", ns)


def test_active_deadline_fails_the_pod(core, ns, cloud_node):
    core.create_namespaced_pod(ns, {
        "metadata": {"name": "overtime"},
        "spec": {"nodeName": cloud_node, "restartPolicy": "Never", "activeDeadlineSeconds": 2,
                 "terminationGracePeriodSeconds": 1,
                 "containers": [{"name": "main", "image": "x", "command": ["sleep", "300"]}]},
    })
    pod = _eventually(lambda: (p := pod_dict(core, ns, "overtime")) and p["status"].get("phase") == "Failed" and p,
                   30, "pod overtime to fail on its deadline")
    assert pod["status"]["reason"] == "DeadlineExceeded"
    assert "terminated" in pod["status"]["containerStatuses"][0]["state"]


def test_agent_sigterm_stops_its_pods_and_exits_zero(cluster, kube, core, ns, tmp_path):
    """A second agent serving its own node: SIGTERM stops its pods' processes, then it exits 0."""
    import signal
    import subprocess
    import sys
    from urllib.parse import urlparse

    from kubernetes import client

    from ecc_devcluster.nodeagent_model import ProcessNodesFile

    node = f"ecc-test-agent-{os.getpid()}"
    nodes_file = tmp_path / "nodes.json"
    ProcessNodesFile.model_validate({"nodes": [{
        "name": node, "labels": {contracts.NODE_KIND_LABEL: contracts.NODE_KIND_PROCESS},
        "taints": [{"key": "ecc.dev/test-only", "value": "", "effect": "NoSchedule"}],
        "capacity": {"cpu": "1", "memory": "1Gi", "pods": "10"}}]}).save(nodes_file)
    state = tmp_path / "state"
    repo = Path(__file__).resolve().parents[2]
    agent = subprocess.Popen(
        [sys.executable, "-m", "ecc_devcluster.nodeagent", f"--kubeconfig={cluster.kubeconfig}",
         f"--state-dir={state}", f"--nodes-file={nodes_file}", "--apiserver-host=127.0.0.1",
         f"--apiserver-port={urlparse(cluster.apiserver_url).port}", f"--ca-file={cluster.ca_file}"],
        env={**os.environ, "PYTHONPATH": f"{repo}:{repo / 'operator'}"},
        stdout=subprocess.DEVNULL, stderr=open(tmp_path / "agent.log", "wb"))
    try:
        _eventually(lambda: (state / "ready").exists() or agent.poll() is not None, 60, "the agent's ready file")
        assert agent.poll() is None, (tmp_path / "agent.log").read_text()
        core.create_namespaced_pod(ns, {
            "metadata": {"name": "served-by-test-agent"},
            "spec": {"nodeName": node, "terminationGracePeriodSeconds": 10,
                     "tolerations": [{"key": "ecc.dev/test-only", "operator": "Exists"}],
                     "containers": [{"name": "main", "image": "x", "command": [
                         "sh", "-c", "trap 'echo bye; exit 0' TERM; while true; do sleep 0.2; done"]}]},
        })
        pod = _eventually(lambda: _running(core, ns, "served-by-test-agent"), 60, "the pod on the test agent's node")
        pid = int(pod["status"]["containerStatuses"][0]["containerID"].removeprefix("ecc-process://"))
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(timeout=40) == 0, (tmp_path / "agent.log").read_text()
        assert not Path(f"/proc/{pid}").exists() or "State:\tZ" in Path(f"/proc/{pid}/status").read_text()
        assert "bye" in (state / "pods" / f"{ns}_served-by-test-agent" / "main.log").read_text()
        assert not (state / "ready").exists()
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait()
        core.delete_namespaced_pod("served-by-test-agent", ns, grace_period_seconds=0)
        core.delete_node(node)
        try:
            client.CoordinationV1Api(kube).delete_namespaced_lease(node, "kube-node-lease")
        except client.ApiException:
            pass
