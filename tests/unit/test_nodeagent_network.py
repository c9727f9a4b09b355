"""Pod/Service loopback addresses and the per-pod hosts file of the process node agent."""

from __future__ import annotations

import ipaddress
import os
import subprocess
import threading
from pathlib import Path

import pytest

from ecc_devcluster.nodeagent_model import ProcessNodesFile
from ecc_devcluster.nodeagent_network import (
    AddressClaims,
    AddressPool,
    ServiceEntry,
    hosts_file,
    pod_pool,
    resolve_target_port,
    service_entry_from_json,
    service_pool,
)


def test_pod_addresses_are_unique_loopback_and_stable_per_pod():
    pool = pod_pool()
    ips = [pool.allocate(f"pod-{i}") for i in range(600)]
    assert len(set(ips)) == 600
    for ip in ips:
        addr = ipaddress.ip_address(ip)
        assert addr in ipaddress.ip_network("127.100.0.0/16")
        assert ip.split(".")[-1] not in ("0", "255")
    assert pool.allocate("pod-3") == ips[3]


def test_concurrent_allocation_gives_distinct_addresses():
    pool = pod_pool()
    out: list[str] = []
    lock = threading.Lock()

    def grab(start: int) -> None:
        for i in range(100):
            ip = pool.allocate(f"t{start}-{i}")
            with lock:
                out.append(ip)

    threads = [threading.Thread(target=grab, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(out) == 800 and len(set(out)) == 800


def test_preferred_address_is_kept_unless_taken_or_outside():
    pool = pod_pool()
    assert pool.allocate("a", preferred="127.100.3.4") == "127.100.3.4"
    assert pool.allocate("b", preferred="127.100.3.4") != "127.100.3.4"
    assert pool.allocate("c", preferred="10.0.0.1").startswith("127.100.")


def test_released_address_can_be_reused_and_pool_exhaustion_is_reported():
    pool = AddressPool("127.100.0.0/29")  # .2 .. .6 usable
    got = [pool.allocate(str(i)) for i in range(5)]
    assert len(set(got)) == 5
    with pytest.raises(RuntimeError, match="exhausted"):
        pool.allocate("more")
    pool.release("0")
    assert pool.allocate("more") == got[0]


def test_pools_refuse_non_loopback_networks():
    with pytest.raises(ValueError, match="loopback"):
        AddressPool("10.0.0.0/16")


def test_service_pool_is_loopback_200():
    assert service_pool().allocate("default/kubernetes").startswith("127.200.")


def test_two_agents_never_share_an_address(tmp_path):
    """Each local cluster runs its own agent; machine-wide claims keep their pods apart."""
    first = pod_pool(AddressClaims(tmp_path, owner=f"{os.getpid()}:{_starttime()}"))
    other = subprocess.Popen(["sleep", "60"])
    try:
        second = pod_pool(AddressClaims(tmp_path, owner=f"{other.pid}:{_starttime(other.pid)}"))
        a = [first.allocate(f"a{i}") for i in range(20)]
        b = [second.allocate(f"b{i}") for i in range(20)]
        assert not set(a) & set(b)
        first.release("a0")
        assert second.allocate("b-late", preferred=a[0]) == a[0]
        assert second.allocate("b-try", preferred=a[1]) != a[1]
    finally:
        other.kill()
        other.wait()
    # the second agent is gone: its claims are stale and can be taken over
    third = pod_pool(AddressClaims(tmp_path, owner="999999999:1"))
    assert third.allocate("c", preferred=b[0]) == b[0]


def _starttime(pid: int | None = None) -> str:
    stat = Path(f"/proc/{pid or os.getpid()}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[19]


def test_hosts_file_maps_service_names():
    services = [
        ServiceEntry(namespace="team", name="web", address="127.200.0.4"),
        ServiceEntry(namespace="other", name="db", address="127.200.0.3"),
        ServiceEntry(namespace="default", name="kubernetes", address="127.200.0.2"),
        ServiceEntry(namespace="team", name="headless-without-ready-pods", address=None),
    ]
    text = hosts_file("p1", "127.100.0.9", "team", services)
    lines = text.splitlines()
    assert "127.0.0.1\tlocalhost" in lines
    assert "127.100.0.9\tp1" in lines
    assert "127.200.0.4\tweb.team.svc.cluster.local web.team.svc web.team web" in lines
    assert "127.200.0.3\tdb.other.svc.cluster.local db.other.svc db.other" in lines
    assert ("127.200.0.2\tkubernetes.default.svc.cluster.local kubernetes.default.svc "
            "kubernetes.default") in lines
    assert "headless" not in text


def test_service_entry_and_target_ports():
    svc = {"metadata": {"name": "web", "namespace": "team"},
           "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http"}, {"port": 9000}]}}
    entry = service_entry_from_json(svc, "127.200.0.5")
    assert entry.selector == (("app", "web"),)
    assert [(p.port, p.target_port) for p in entry.ports] == [(80, "http"), (9000, 9000)]
    pod = {"spec": {"containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 8080}]}]}}
    assert resolve_target_port("http", pod) == 8080
    assert resolve_target_port(9000, pod) == 9000
    assert resolve_target_port("nope", pod) is None


def test_nodes_file_validation_names_the_problem(tmp_path):
    good = {"nodes": [{"name": "ecc-cloud-0", "labels": {"a": "b"},
                       "taints": [{"key": "k", "value": "", "effect": "NoSchedule"}],
                       "capacity": {"cpu": "2", "memory": "4Gi", "pods": "110"}}]}
    path = tmp_path / "nodes.json"
    ProcessNodesFile.model_validate(good).save(path)
    assert ProcessNodesFile.load(path).nodes[0].name == "ecc-cloud-0"
    bad = {"nodes": [{"name": "ecc-cloud-0", "capacity": {"cpu": "two"}}]}
    path.write_text(__import__("json").dumps(bad))
    with pytest.raises(ValueError, match="capacity"):
        ProcessNodesFile.load(path)
    with pytest.raises(ValueError, match="does not exist"):
        ProcessNodesFile.load(tmp_path / "missing.json")
