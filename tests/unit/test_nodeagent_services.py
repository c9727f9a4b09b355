"""The process node agent's Service forwarders and hosts files, with real sockets (no API server)."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest

from ecc_devcluster.nodeagent_network import AddressClaims
from ecc_devcluster.nodeagent_services import HostsSubscriber, LocalPod, ServiceRouter


def echo_server(host: str, prefix: bytes) -> tuple[socket.socket, int]:
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, 0))
    srv.listen()

    def serve() -> None:
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            with conn:
                data = conn.recv(1024)
                conn.sendall(prefix + data)

    threading.Thread(target=serve, daemon=True).start()
    return srv, srv.getsockname()[1]


def ask(host: str, port: int, payload: bytes = b"ping", timeout: float = 5) -> bytes:
    """Send `payload`, return the reply. A connection that is accepted and then closed
    (the forwarder has no endpoint) answers b"" once the deadline passes; a refused
    connection (nothing listening yet) is retried until then and re-raised."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=2) as conn:
                chunks = []
                try:
                    conn.sendall(payload)
                    conn.shutdown(socket.SHUT_WR)
                    while chunk := conn.recv(1024):
                        chunks.append(chunk)
                except (ConnectionResetError, BrokenPipeError, OSError) as exc:
                    if isinstance(exc, ConnectionRefusedError):
                        raise
                    # accepted, then closed by the forwarder: no endpoint
                data = b"".join(chunks)
                if data or time.monotonic() > deadline:
                    return data
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.05)


def svc(name, ns, port, target, selector=None, cluster_ip="10.96.0.10"):
    return {"metadata": {"name": name, "namespace": ns},
            "spec": {"clusterIP": cluster_ip, "selector": selector or {},
                     "ports": [{"port": port, "targetPort": target, "protocol": "TCP"}]}}


@pytest.fixture
def pods():
    return []


@pytest.fixture
def router(pods):
    api_srv, api_port = echo_server("127.0.0.1", b"apiserver:")
    # Machine-wide claims, like the agent: never collide with a running cluster's forwarders.
    r = ServiceRouter(("127.0.0.1", api_port), lambda: list(pods), AddressClaims())
    yield r
    r.close()
    api_srv.close()


def test_forwards_to_a_ready_matching_pod_by_named_port(router, pods):
    backend, port = echo_server("127.100.77.5", b"web:")
    pod = {"spec": {"containers": [{"name": "c", "ports": [{"name": "http", "containerPort": port}]}]}}
    pods.append(LocalPod(namespace="team", name="web-1", labels={"app": "web"}, pod_ip="127.100.77.5", ready=True, pod=pod))
    pods.append(LocalPod(namespace="other", name="web-x", labels={"app": "web"}, pod_ip="127.100.77.6", ready=True, pod=pod))
    router.set_services([svc("web", "team", 18080, "http", {"app": "web"}),
                         svc("kubernetes", "default", 18443, 6443)])
    entries = {e.name: e for e in router.entries()}
    web, kubernetes = entries["web"], entries["kubernetes"]
    assert web.address.startswith("127.200.") and kubernetes.address.startswith("127.200.")
    assert web.address != kubernetes.address
    assert ask(web.address, 18080) == b"web:ping"
    assert ask(kubernetes.address, 18443) == b"apiserver:ping"
    backend.close()


def test_not_ready_pods_get_no_traffic(router, pods):
    backend, port = echo_server("127.100.77.8", b"web:")
    pods.append(LocalPod(namespace="team", name="w", labels={"app": "w"}, pod_ip="127.100.77.8", ready=False, pod={}))
    router.set_services([svc("w", "team", 18081, port, {"app": "w"})])
    (entry,) = router.entries()
    assert ask(entry.address, 18081, timeout=1) == b""  # accepted, then closed: no endpoint
    pods[0] = LocalPod(namespace="team", name="w", labels={"app": "w"}, pod_ip="127.100.77.8", ready=True, pod={})
    assert ask(entry.address, 18081) == b"web:ping"
    backend.close()


def test_hosts_files_follow_services_and_keep_their_inode(router, tmp_path):
    path = tmp_path / "hosts"
    router.subscribe_hosts("uid-1", HostsSubscriber(path=path, pod_name="p", pod_ip="127.100.1.2", namespace="team"))
    inode = os.stat(path).st_ino
    router.set_services([svc("web", "team", 18082, 80, {"app": "web"})])
    text = path.read_text()
    (entry,) = router.entries()
    assert f"{entry.address}\tweb.team.svc.cluster.local web.team.svc web.team web" in text.splitlines()
    router.upsert_service(svc("db", "data", 15432, 5432, {"app": "db"}))
    assert "db.data.svc" in path.read_text()
    router.delete_service(svc("web", "team", 18082, 80))
    assert "web.team.svc" not in path.read_text() and "db.data.svc" in path.read_text()
    assert os.stat(path).st_ino == inode
    router.unsubscribe_hosts("uid-1")
    router.upsert_service(svc("late", "team", 18083, 80, {"app": "late"}))
    assert "late" not in path.read_text()


def test_headless_service_points_at_a_ready_pod(router, pods, tmp_path):
    pods.append(LocalPod(namespace="team", name="db-0", labels={"app": "db"}, pod_ip="127.100.5.5", ready=True, pod={}))
    path = tmp_path / "hosts"
    router.subscribe_hosts("u", HostsSubscriber(path=path, pod_name="p", pod_ip="127.100.1.3", namespace="team"))
    router.set_services([svc("db", "team", 5432, 5432, {"app": "db"}, cluster_ip="None")])
    assert "127.100.5.5\tdb.team.svc.cluster.local" in path.read_text()


def test_a_busy_address_moves_the_service_elsewhere(router, pods):
    backend, port = echo_server("127.100.77.9", b"moved:")
    pods.append(LocalPod(namespace="team", name="m", labels={"app": "m"}, pod_ip="127.100.77.9", ready=True, pod={}))
    router.set_services([svc("m", "team", 18084, port, {"app": "m"})])
    (first,) = router.entries()
    squatter = socket.socket()  # someone else takes that address:port
    router.delete_service(svc("m", "team", 18084, port))
    time.sleep(0.2)
    squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    squatter.bind((first.address, 18084))
    squatter.listen()
    try:
        router.pool._next = int(__import__("ipaddress").ip_address(first.address))  # offer the busy one again
        router.upsert_service(svc("m", "team", 18084, port, {"app": "m"}))
        deadline = time.monotonic() + 5
        while router.entries()[0].address == first.address and time.monotonic() < deadline:
            time.sleep(0.05)
        (moved,) = router.entries()
        assert moved.address != first.address
        assert ask(moved.address, 18084) == b"moved:ping"
    finally:
        squatter.close()
        backend.close()
