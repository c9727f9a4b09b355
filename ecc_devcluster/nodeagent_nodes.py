"""Node registration and heartbeats of the process node agent (a development stand-in for a kubelet).

`node_object` / `node_status` are pure; `NodeHeartbeat` registers the nodes and
then renews their Lease in kube-node-lease and their Ready condition every few
seconds, so the controller-manager's node lifecycle controller never marks them
NotReady nor evicts their pods.
"""

from __future__ import annotations

import logging
import platform
import threading

from ecc_devcluster.nodeagent_lifecycle import now_iso
from ecc_devcluster.nodeagent_model import NODE_ADDRESS, ProcessNodeSpec

log = logging.getLogger("ecc.nodeagent.nodes")
AGENT_VERSION = "ecc-process-node-agent/0.1"


def _arch() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def node_labels(spec: ProcessNodeSpec) -> dict[str, str]:
    return {
        "kubernetes.io/hostname": spec.name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": _arch(),
        **spec.labels,
    }


def node_conditions(now: str, ready: bool = True, since: str | None = None) -> list[dict]:
    def cond(ctype: str, status: str, reason: str, message: str) -> dict:
        return {
            "type": ctype, "status": status, "reason": reason, "message": message,
            "lastHeartbeatTime": now, "lastTransitionTime": since or now,
        }

    return [
        cond("Ready", "True" if ready else "False", "KubeletReady" if ready else "KubeletNotReady",
             "process node agent (development stand-in for a kubelet) is posting ready status"
             if ready else "process node agent stopped"),
        cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "no memory pressure"),
        cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "no disk pressure"),
        cond("PIDPressure", "False", "KubeletHasSufficientPID", "no PID pressure"),
    ]


def node_status(spec: ProcessNodeSpec, now: str, ready: bool = True, since: str | None = None,
                kubelet_port: int = 0) -> dict:
    return {
        "capacity": dict(spec.capacity),
        "allocatable": dict(spec.capacity),
        "conditions": node_conditions(now, ready, since),
        # InternalIP only: the API server dials a node's first preferred address type, and a
        # Hostname (the node's name) would send it to a DNS server outside the machine.
        "addresses": [{"type": "InternalIP", "address": NODE_ADDRESS}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": kubelet_port}},
        "nodeInfo": {
            "machineID": "", "systemUUID": "", "bootID": "",
            "kernelVersion": platform.release(), "osImage": "ECC process node (development stand-in for a kubelet)",
            "containerRuntimeVersion": "process://", "kubeletVersion": AGENT_VERSION, "kubeProxyVersion": "",
            "operatingSystem": "linux", "architecture": _arch(),
        },
    }


def node_object(spec: ProcessNodeSpec) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": spec.name,
            "labels": node_labels(spec),
            "annotations": {"ecc.dev/served-by": "process-node-agent"},
        },
        "spec": {"taints": [t.model_dump() for t in spec.taints]} if spec.taints else {},
    }


class NodeHeartbeat(threading.Thread):
    """Registers the nodes, then keeps them Ready (Lease + status) until stopped."""

    def __init__(self, api, nodes: list[ProcessNodeSpec], interval: float, lease_seconds: int,
                 stop: threading.Event, kubelet_port: int = 0):
        super().__init__(name="node-heartbeat", daemon=True)
        self.api = api
        self.nodes = nodes
        self.interval = interval
        self.lease_seconds = lease_seconds
        self.stop_event = stop
        self.uids: dict[str, str] = {}
        self.kubelet_port = kubelet_port
        self.since = now_iso()

    def register(self) -> None:
        """Create or update every node (labels, taints, status Ready) and its Lease."""
        for spec in self.nodes:
            body = node_object(spec)
            existing = self.api.get_node(spec.name)
            if existing is None:
                created = self.api.create_node(body)
                uid = created["metadata"]["uid"]
                log.info("registered node %s", spec.name)
            else:
                patch = {"metadata": {"labels": body["metadata"]["labels"], "annotations": body["metadata"]["annotations"]},
                         "spec": {"taints": body["spec"].get("taints") or []}}
                # Keep taints the control plane added (e.g. not-ready) out of our way: ours are set,
                # the node lifecycle controller manages its own.
                own = {(t["key"], t["effect"]) for t in patch["spec"]["taints"]}
                controller_taints = [
                    t for t in (existing.get("spec") or {}).get("taints") or []
                    if t["key"].startswith("node.kubernetes.io/") and (t["key"], t["effect"]) not in own
                ]
                patch["spec"]["taints"] = patch["spec"]["taints"] + controller_taints
                updated = self.api.patch_node(spec.name, patch)
                uid = updated["metadata"]["uid"]
                log.info("updated node %s", spec.name)
            self.uids[spec.name] = uid
            self.beat(spec)

    def beat(self, spec: ProcessNodeSpec, ready: bool = True) -> None:
        self.api.patch_node_status(spec.name, {"status": node_status(spec, now_iso(), ready, self.since, self.kubelet_port)})
        self.api.renew_lease(spec.name, self.uids[spec.name], self.lease_seconds)

    def run(self) -> None:
        while not self.stop_event.wait(self.interval):
            for spec in self.nodes:
                try:
                    if spec.name not in self.uids:
                        self.register()
                    else:
                        self.beat(spec)
                except Exception as exc:  # keep beating; the API server may be restarting
                    log.warning("heartbeat of node %s failed: %s", spec.name, exc)
                    if getattr(exc, "status", None) == 404:
                        self.uids.pop(spec.name, None)
