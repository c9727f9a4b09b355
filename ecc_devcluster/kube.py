"""Kubernetes API access for the orchestration (kubernetes python client, admin kubeconfig).

Bulk paths (thousands of Nodes) send and read plain JSON through the client's
transport, skipping its per-object model validation.
"""

from __future__ import annotations

import json


class KubeError(RuntimeError):
    def __init__(self, method: str, path: str, status: int, body: str):
        self.status = status
        self.body = body
        super().__init__(f"{method} {path} -> HTTP {status}: {body[:500]}")


def api_client(kubeconfig: str, pool_size: int = 32):
    """An ApiClient for the kubeconfig with a connection pool big enough for the thread
    pools that create thousands of nodes."""
    from ecc_workloads.sim.kube import api_client as client_of

    return client_of(kubeconfig, pool_size)


def request(
    api,
    method: str,
    path: str,
    *,
    query: dict[str, str] | None = None,
    body: dict | None = None,
    timeout: float = 30,
    ok: tuple[int, ...] = (200, 201, 202),
) -> tuple[int, dict | None]:
    """One API request with a JSON body/answer; raises KubeError unless status in `ok`."""
    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    serialized = api.param_serialize(
        method=method,
        resource_path=path,
        query_params=list((query or {}).items()),
        header_params=headers,
        body=body,
        auth_settings=["BearerToken"],
    )
    resp = api.call_api(*serialized, _request_timeout=timeout)
    data = resp.read()
    if resp.status not in ok:
        raise KubeError(method, path, resp.status, data.decode(errors="replace") if data else "")
    return resp.status, (json.loads(data) if data else None)


def node_is_ready(node: dict) -> bool:
    for cond in node.get("status", {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond.get("status") == "True"
    return False


def list_nodes(api, label_selector: str | None = None) -> list[dict]:
    """All nodes, served from the API server's watch cache (resourceVersion=0)."""
    query = {"resourceVersion": "0"}
    if label_selector:
        query["labelSelector"] = label_selector
    _, doc = request(api, "GET", "/api/v1/nodes", query=query, timeout=120)
    return (doc or {}).get("items", [])


def node_counts(api) -> dict[str, int]:
    """Total / Ready nodes, overall and by ecc.dev/node-kind."""
    from ecc_workloads.contracts import NODE_KIND_LABEL

    counts: dict[str, int] = {"total": 0, "ready": 0}
    for node in list_nodes(api):
        kind = (node.get("metadata", {}).get("labels") or {}).get(NODE_KIND_LABEL, "other")
        ready = int(node_is_ready(node))
        counts["total"] += 1
        counts["ready"] += ready
        counts[f"{kind}_total"] = counts.get(f"{kind}_total", 0) + 1
        counts[f"{kind}_ready"] = counts.get(f"{kind}_ready", 0) + ready
    return counts
