"""Which nodes the local cluster has and how they are labelled (pure functions).

Fake edge nodes (KWOK) and real nodes (kubelets, ecc_devcluster.nodes) share the
edge labelling here so that tiers and sites mean the same on both.
"""

from __future__ import annotations

from ecc_workloads import contracts as c

EDGE_SITES = c.EDGE_SITES
CAPACITY_CLASSES = c.CAPACITY_CLASSES
# Spread of capacity classes over edge nodes: 5 small, 3 medium, 2 large in every 10.
_CLASS_CYCLE: tuple[str, ...] = ("small",) * 5 + ("medium",) * 3 + ("large",) * 2

FAKE_EDGE_PREFIX = "ecc-edge-fake-"
REAL_EDGE_PREFIX = "ecc-edge-"
CLOUD_WORKER_PREFIX = "ecc-cloud-"


def edge_site(index: int) -> str:
    """Round-robin over the sites."""
    return EDGE_SITES[index % len(EDGE_SITES)]


def capacity_class(index: int) -> str:
    """Capacity class of the index-th edge node, independent of its site: nodes of one
    site (every 5th) still cycle through all classes."""
    return _CLASS_CYCLE[(index // len(EDGE_SITES) + index) % len(_CLASS_CYCLE)]


def edge_labels(index: int) -> dict[str, str]:
    return {
        c.EDGE_NODE_ROLE_LABEL: "",
        c.EDGE_SITE_LABEL: edge_site(index),
        c.EDGE_CAPACITY_CLASS_LABEL: capacity_class(index),
    }


def edge_taint() -> dict[str, str]:
    return {"key": c.EDGE_TAINT_KEY, "value": "", "effect": "NoSchedule"}


def fake_node_name(index: int, total: int) -> str:
    width = max(4, len(str(max(total - 1, 0))))
    return f"{FAKE_EDGE_PREFIX}{index:0{width}d}"


def fake_node_manifest(index: int, total: int) -> dict:
    """The Node object of the index-th fake edge node (KWOK manages it via `type=kwok`)."""
    name = fake_node_name(index, total)
    klass = capacity_class(index)
    labels = {
        c.KWOK_MANAGE_LABEL: c.KWOK_MANAGE_VALUE,
        c.NODE_KIND_LABEL: c.NODE_KIND_KWOK,
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        **edge_labels(index),
    }
    capacity = dict(CAPACITY_CLASSES[klass])
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {"node.alpha.kubernetes.io/ttl": "0", "kwok.x-k8s.io/node": "fake"},
        },
        "spec": {"taints": [edge_taint()]},
        "status": {"capacity": capacity, "allocatable": dict(capacity)},
    }
