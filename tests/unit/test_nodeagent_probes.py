"""Readiness probes of the process node agent, against real servers and a real container process."""

from __future__ import annotations

import http.server
import os
import threading
import time

from ecc_devcluster.nodeagent_plan import PodInputs, RuntimeContext, pod_plan
from ecc_devcluster.nodeagent_probes import run_probe
from ecc_devcluster.nodeagent_runner import materialise_volumes, start_container, write_in_place

POD_IP = "127.100.201.7"


def serve_http(status: int) -> tuple[http.server.HTTPServer, int]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(status if self.path == "/ready" else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer((POD_IP, 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def pod_with_port(port: int) -> dict:
    return {"spec": {"containers": [{"name": "c", "ports": [{"name": "http", "containerPort": port}]}]}}


def test_http_and_tcp_probes():
    ok_server, ok_port = serve_http(200)
    bad_server, bad_port = serve_http(503)
    try:
        pod = pod_with_port(ok_port)
        assert run_probe({"httpGet": {"path": "/ready", "port": "http"}}, pod, POD_IP, None, {})[0]
        assert not run_probe({"httpGet": {"path": "/ready", "port": bad_port}}, pod, POD_IP, None, {})[0]
        assert not run_probe({"httpGet": {"path": "/missing", "port": ok_port}}, pod, POD_IP, None, {})[0]
        assert run_probe({"tcpSocket": {"port": ok_port}}, pod, POD_IP, None, {})[0]
        ok, detail = run_probe({"tcpSocket": {"port": "nope"}}, pod, POD_IP, None, {})
        assert not ok and "nope" in detail
    finally:
        for server in (ok_server, bad_server):
            server.shutdown()
            server.server_close()
    assert not run_probe({"tcpSocket": {"port": ok_port}}, pod, POD_IP, None, {"PATH": os.environ["PATH"]})[0]


def test_exec_probe_runs_inside_the_containers_mount_namespace(tmp_path):
    pod = {
        "metadata": {"name": "p", "namespace": "team", "uid": "u"},
        "spec": {"nodeName": "n", "restartPolicy": "Never",
                 "volumes": [{"name": "creds", "secret": {"secretName": "s"}}],
                 "containers": [{"name": "c", "command": ["sleep", "30"],
                                 "volumeMounts": [{"name": "creds", "mountPath": str(tmp_path / "mnt")}]}]},
    }
    ctx = RuntimeContext(node_name="n", pod_ip=POD_IP, pod_dir=str(tmp_path), apiserver_port=1,
                         base_env={"PATH": os.environ["PATH"]})
    plan = pod_plan(pod, PodInputs(secrets={"s": {"ready": b"yes"}}), ctx)
    materialise_volumes(plan, tmp_path)
    write_in_place(tmp_path / "hosts", b"127.0.0.1 localhost\n")
    proc = start_container(plan.containers[0], tmp_path, tmp_path / "c.log")
    try:
        time.sleep(0.3)
        env = plan.containers[0].env
        probe = {"exec": {"command": ["test", "-f", str(tmp_path / "mnt" / "ready")]}}
        assert run_probe(probe, pod, POD_IP, proc.pid, env)[0]  # visible inside the container only
        assert not (tmp_path / "mnt" / "ready").exists()
        assert not run_probe({"exec": {"command": ["false"]}}, pod, POD_IP, proc.pid, env)[0]
    finally:
        proc.stop(1)
