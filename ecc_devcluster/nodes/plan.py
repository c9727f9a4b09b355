"""Where each real node lives and which addresses it has (pure functions, no side effects).

Addresses exist only inside network namespaces the cluster creates:

    fabric namespace   ecc-CLUSTER-fabric, bridge `fabric0` with the gateway 10.250.0.1/24
    node namespace     ecc-CLUSTER-NODE, `eth0` 10.250.0.(10+i)/24, pods on `cni0` 10.244.i.0/24
    Services           10.96.0.0/16 (kube-proxy's iptables rules in every node namespace)

The host reaches none of them directly: the gateway relays the API server and MinIO into the
fabric and proxies the API server's and Prometheus' connections out of it (see gateway.py).
"""

from __future__ import annotations

import hashlib
import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from ecc_devcluster import nodespecs
from ecc_devcluster.components import GATEWAY_IP
from ecc_workloads import contracts as c

FABRIC_CIDR = ipaddress.ip_network("10.250.0.0/24")
NODE_IP_OFFSET = 10
POD_CIDR = ipaddress.ip_network("10.244.0.0/16")
SERVICE_CIDR = "10.96.0.0/16"
CLUSTER_NETWORKS = (str(FABRIC_CIDR), str(POD_CIDR), SERVICE_CIDR)
"""Only ever routed inside the cluster's namespaces; unreachable from the host (host.guard_host)."""
CLUSTER_DNS_IP = "10.96.0.10"
CLUSTER_DOMAIN = "cluster.local"
FABRIC_BRIDGE = "fabric0"
POD_BRIDGE = "cni0"
MAX_NODES = 200
STORE_SERVICE = "ecc-store"
"""Service (no selector) in the system namespace whose endpoint is the gateway's MinIO relay."""
STORE_SERVICE_PORT = 9000

Role = Literal["cloud", "edge"]

NODE_SYSCTLS = {
    # What the kubelet insists on (pkg/kubelet/cm: setupKernelTunables). These are not
    # namespaced: a node sees them through files bound over /proc/sys in its own mount
    # namespace, so the host's values are never touched.
    "vm/overcommit_memory": "1",
    "vm/panic_on_oom": "0",
    "kernel/panic": "10",
    "kernel/panic_on_oops": "1",
    "kernel/keys/root_maxkeys": "1000000",
    "kernel/keys/root_maxbytes": "25000000",
}


class NodePlan(BaseModel):
    """One real node: its identity, addresses and paths."""

    name: str
    index: int = Field(ge=0, lt=MAX_NODES)
    role: Role
    labels: dict[str, str]
    taints: list[dict[str, str]] = Field(default_factory=list)
    node_ip: str
    pod_cidr: str
    pod_gateway: str
    netns: str
    """name under /run/netns"""
    veth_fabric: str
    """the fabric end of the node's link (the node end is eth0)"""
    mount_ns: str
    """file the node's mount namespace is bound to"""
    cgroup_parent: str
    """the kubelet's cgroupRoot, created in every cgroup hierarchy"""
    dir: str
    """the node's state: configs, certificates, kubelet root, logs"""
    containerd_root: str
    containerd_socket: str
    images: list[str]
    """image references this node's containerd holds (from the seed)"""

    @property
    def config_dir(self) -> str:
        return str(Path(self.dir) / "config")

    @property
    def kubelet_root(self) -> str:
        return str(Path(self.dir) / "kubelet")

    @property
    def log_dir(self) -> str:
        return str(Path(self.dir) / "log")


class FabricPlan(BaseModel):
    netns: str
    bridge: str = FABRIC_BRIDGE
    gateway_ip: str = GATEWAY_IP
    prefix_len: int = FABRIC_CIDR.prefixlen
    run_dir: str
    """/run/ecc-fleet/CLUSTER: a private mount holding the nodes' mount namespace files"""
    cgroup_root: str
    """/ecc-fleet-CLUSTER: the parent of every node's cgroupRoot"""
    guard_metric: int
    """metric of the host's unreachable routes for the cluster's networks (one per cluster)"""


def _short(text: str, n: int = 6) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:n]


def netns_name(cluster: str, node: str) -> str:
    return f"ecc-{cluster}-{node}"


def fabric_plan(cluster: str) -> FabricPlan:
    return FabricPlan(
        netns=f"ecc-{cluster}-fabric",
        run_dir=f"/run/ecc-fleet/{cluster}",
        cgroup_root=f"/ecc-fleet-{cluster}",
        guard_metric=4000 + int(_short(cluster, 8), 16) % 50000,
    )


def node_ip(index: int) -> str:
    return str(FABRIC_CIDR.network_address + NODE_IP_OFFSET + index)


def pod_cidr(index: int) -> ipaddress.IPv4Network:
    return list(POD_CIDR.subnets(new_prefix=24))[index]


def plan_nodes(cluster: str, state_dir: str, *, cloud_workers: int, edge_nodes: int,
               cloud_images: list[str], edge_images: list[str]) -> tuple[FabricPlan, list[NodePlan]]:
    """The fabric and every node of a cluster: cloud workers first, then edge nodes."""
    if cloud_workers < 0 or edge_nodes < 0:
        raise ValueError("cloud_workers and edge_nodes must be >= 0")
    if cloud_workers + edge_nodes > MAX_NODES:
        raise ValueError(f"at most {MAX_NODES} real nodes, asked for {cloud_workers + edge_nodes}")
    fabric = fabric_plan(cluster)
    nodes: list[NodePlan] = []
    entries: list[tuple[str, Role, dict[str, str], list[dict[str, str]]]] = []
    for i in range(cloud_workers):
        entries.append((f"{nodespecs.CLOUD_WORKER_PREFIX}{i}", "cloud",
                        {c.CLOUD_NODE_ROLE_LABEL: "", c.NODE_KIND_LABEL: c.NODE_KIND_REAL}, []))
    classes = tuple(c.CAPACITY_CLASSES)  # the few real edge nodes cover every class
    for i in range(edge_nodes):
        labels = {c.NODE_KIND_LABEL: c.NODE_KIND_REAL, **nodespecs.edge_labels(i)}
        labels[c.EDGE_CAPACITY_CLASS_LABEL] = classes[i % len(classes)]
        entries.append((f"{nodespecs.REAL_EDGE_PREFIX}{i}", "edge", labels, [nodespecs.edge_taint()]))
    for index, (name, role, labels, taints) in enumerate(entries):
        cidr = pod_cidr(index)
        d = Path(state_dir) / "nodes" / name
        tag = _short(f"{cluster}/{name}")
        nodes.append(NodePlan(
            name=name, index=index, role=role, labels=labels, taints=taints,
            node_ip=node_ip(index), pod_cidr=str(cidr), pod_gateway=str(cidr.network_address + 1),
            netns=netns_name(cluster, name), veth_fabric=f"ve{index}-{tag}"[:15],
            mount_ns=f"{fabric.run_dir}/{name}.mnt",
            cgroup_parent=f"{fabric.cgroup_root}/{name}",
            dir=str(d),
            containerd_root=str(d / "containerd"),
            containerd_socket=str(d / "containerd.sock"),
            images=list(cloud_images if role == "cloud" else edge_images),
        ))
    return fabric, nodes
