"""An in-memory index of the cluster's Nodes, fed by ONE cluster-wide list + watch.

Every EdgeFleet reconcile asks the index for the nodes its selector matches instead of
listing Nodes from the API server: with thousands of nodes and a reconcile every few seconds
per fleet, one watch is the only load that does not grow with fleets x period.

Why a watch thread rather than `@kopf.on.event('', 'v1', 'nodes')`: kopf runs a per-object
worker, reads and may patch progress annotations for each Node event, and in namespaced mode
(`--namespace`) it serves namespaced resources only; the thread is one paginated list, one
streaming watch (raw JSON, no model deserialisation: thousands of heartbeats stay cheap), a
relist when the server answers 410 Gone, and works the same cluster-wide or namespaced.

Only labels and allocatable cpu / memory are kept; heartbeats that change neither leave the
index (and its `version`) untouched, so selections are cached per selector until a node
joins, leaves or changes labels/capacity. Joins and departures are visible as soon as the
watch delivers them (well within one reconcile period).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Iterable, Mapping

from ecc_operator.controllers.fleet.decisions import NodeInfo, selector_matches
from ecc_operator.api.common import NodeSelector

log = logging.getLogger(__name__)

PAGE = 500
WATCH_TIMEOUT_S = 300
RETRY_S = 2.0


class NodeIndex:
    """Thread-safe name -> NodeInfo, with a change counter and per-selector caches."""

    def __init__(self) -> None:
        self._nodes: dict[str, NodeInfo] = {}
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[int, dict[str, NodeInfo]]] = {}
        self.version = 0
        self.synced = threading.Event()
        """set once the first full list is in"""

    # ---------------------------------------------------------------- updates
    def replace(self, nodes: Iterable[Mapping]) -> None:
        self.replace_infos(NodeInfo.from_node(n) for n in nodes)

    def replace_infos(self, infos: Iterable[NodeInfo]) -> None:
        """The whole set of nodes, already reduced to NodeInfo (see NodeWatcher.list_all)."""
        fresh = {info.name: info for info in infos}
        with self._lock:
            if fresh != self._nodes:
                self._nodes = fresh
                self.version += 1
        self.synced.set()

    def apply_event(self, event_type: str, node: Mapping) -> bool:
        """ADDED / MODIFIED / DELETED; returns True when the index changed."""
        if event_type not in ("ADDED", "MODIFIED", "DELETED"):
            return False
        name = (node.get("metadata") or {}).get("name")
        if not name:
            return False
        with self._lock:
            if event_type == "DELETED":
                if self._nodes.pop(name, None) is None:
                    return False
            else:
                info = NodeInfo.from_node(node)
                if self._nodes.get(name) == info:
                    return False
                self._nodes[name] = info
            self.version += 1
            return True

    # ---------------------------------------------------------------- reads
    def __len__(self) -> int:
        return len(self._nodes)

    def get(self, name: str) -> NodeInfo | None:
        return self._nodes.get(name)

    def select(self, selector: NodeSelector) -> dict[str, NodeInfo]:
        """Nodes the selector matches (a shared dict: do not modify)."""
        key = selector.model_dump_json()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] == self.version:
                return hit[1]
            nodes, version = list(self._nodes.values()), self.version
        out = {n.name: n for n in nodes if selector_matches(selector, n.labels)}
        with self._lock:
            self._cache[key] = (version, out)
            if len(self._cache) > 256:  # selectors of deleted fleets
                self._cache = {key: (version, out)}
        return out


# ---------------------------------------------------------------------------
# The watch thread
# ---------------------------------------------------------------------------
class NodeWatcher:
    """List + watch Nodes into a NodeIndex until stopped; relists on 410 Gone and errors."""

    def __init__(self, api_client, index: NodeIndex):
        from kubernetes import client

        self.core = client.CoreV1Api(api_client)
        self.index = index
        self.stop_event = threading.Event()
        self._thread: threading.Thread | None = None
        self.relists = 0

    def list_all(self) -> str:
        """One paginated list; each page is reduced to NodeInfo before the next is read, so the
        operator never holds more than PAGE whole Node objects (thousands of them would raise
        its resident memory for good: the allocator keeps the arenas)."""
        infos: list[NodeInfo] = []
        token, rv = None, ""
        while True:
            kw = {"limit": PAGE, "_preload_content": False}
            if token:
                kw["_continue"] = token
            resp = self.core.list_node(**kw)
            page = json.loads(resp.data)
            infos += [NodeInfo.from_node(n) for n in page.get("items") or []]
            meta = page.get("metadata") or {}
            token, rv = meta.get("continue"), meta.get("resourceVersion") or rv
            del page, resp
            if not token:
                break
        self.index.replace_infos(infos)
        self.relists += 1
        return rv

    def watch_from(self, rv: str) -> str | None:
        """Stream events from `rv`; returns the last resourceVersion seen, None when a relist is needed."""
        resp = self.core.list_node(watch=True, resource_version=rv, allow_watch_bookmarks=True,
                                   timeout_seconds=WATCH_TIMEOUT_S, _preload_content=False,
                                   _request_timeout=(10, WATCH_TIMEOUT_S + 30))
        from kubernetes.watch.watch import iter_resp_lines

        try:
            for line in iter_resp_lines(resp):
                if self.stop_event.is_set():
                    return rv
                if not line.strip():
                    continue
                ev = json.loads(line)
                obj = ev.get("object") or {}
                if ev.get("type") == "ERROR":
                    if obj.get("code") == 410:
                        return None
                    raise RuntimeError(f"node watch error: {obj.get('reason')}: {obj.get('message')}")
                rv = (obj.get("metadata") or {}).get("resourceVersion") or rv
                if ev.get("type") != "BOOKMARK":
                    self.index.apply_event(ev.get("type", ""), obj)
        finally:
            resp.close()
            resp.release_conn()
        return rv

    def run(self) -> None:
        rv: str | None = None
        while not self.stop_event.is_set():
            try:
                if rv is None:
                    rv = self.list_all()
                rv = self.watch_from(rv)
            except Exception as exc:  # noqa: BLE001 - relist after a pause
                from kubernetes.client.rest import ApiException

                if isinstance(exc, ApiException) and exc.status == 410:
                    rv = None
                    continue
                log.warning(f"node watch failed ({type(exc).__name__}: {exc}); relisting in {RETRY_S:g}s")
                rv = None
                self.stop_event.wait(RETRY_S)

    def start(self) -> threading.Thread:
        self._thread = threading.Thread(target=self.run, name="ecc-node-index", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self) -> None:
        self.stop_event.set()


def wait_synced(index: NodeIndex, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not index.synced.is_set() and time.monotonic() < deadline:
        index.synced.wait(0.2)
    return index.synced.is_set()
