"""How hard the control plane may be driven for a given number of fake nodes (pure).

Two cores must keep up with thousands of KWOK nodes: the more nodes, the longer
the node leases (fewer renewals per second) and grace periods, and the higher
the client QPS of the controller-manager and scheduler (so DaemonSets over the
fleet do not crawl at the default 20 QPS).
"""

from __future__ import annotations

from pydantic import BaseModel


class ScaleProfile(BaseModel):
    name: str
    node_lease_seconds: int
    """Lease duration KWOK writes; it renews at about a quarter of it."""
    node_monitor_grace_seconds: int
    """controller-manager marks a node NotReady after this long without a heartbeat."""
    node_startup_grace_seconds: int
    controller_manager_qps: int
    controller_manager_burst: int
    scheduler_qps: int
    scheduler_burst: int
    apiserver_max_requests_inflight: int
    apiserver_max_mutating_requests_inflight: int
    kwok_parallelism: int
    node_create_workers: int


def scale_profile(fake_nodes: int) -> ScaleProfile:
    if fake_nodes < 0:
        raise ValueError(f"fake_nodes must be >= 0, got {fake_nodes}")
    if fake_nodes <= 200:
        return ScaleProfile(
            name="small",
            node_lease_seconds=60,
            # Real nodes share two cores with everything else: keep the grace period
            # generous even for small clusters.
            node_monitor_grace_seconds=180,
            node_startup_grace_seconds=300,
            controller_manager_qps=100,
            controller_manager_burst=200,
            scheduler_qps=100,
            scheduler_burst=200,
            apiserver_max_requests_inflight=400,
            apiserver_max_mutating_requests_inflight=200,
            kwok_parallelism=4,
            node_create_workers=8,
        )
    if fake_nodes <= 1500:
        return ScaleProfile(
            name="medium",
            node_lease_seconds=240,
            node_monitor_grace_seconds=480,
            node_startup_grace_seconds=600,
            controller_manager_qps=200,
            controller_manager_burst=400,
            scheduler_qps=200,
            scheduler_burst=400,
            apiserver_max_requests_inflight=800,
            apiserver_max_mutating_requests_inflight=400,
            kwok_parallelism=8,
            node_create_workers=16,
        )
    return ScaleProfile(
        name="large",
        node_lease_seconds=600,
        node_monitor_grace_seconds=1200,
        node_startup_grace_seconds=1800,
        controller_manager_qps=300,
        controller_manager_burst=600,
        scheduler_qps=300,
        scheduler_burst=600,
        apiserver_max_requests_inflight=1200,
        apiserver_max_mutating_requests_inflight=600,
        kwok_parallelism=16,
        node_create_workers=16,
    )
