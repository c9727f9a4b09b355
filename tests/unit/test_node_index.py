"""The node index's paginated list: every page reduced to NodeInfo, continue tokens followed."""

from __future__ import annotations

import json
from decimal import Decimal

from ecc_operator.controllers.fleet.decisions import NodeInfo
from ecc_operator.controllers.fleet.node_index import NodeIndex, NodeWatcher


def kube_node(name: str, labels: dict, cpu: str = "1") -> dict:
    return {"metadata": {"name": name, "labels": labels},
            "status": {"allocatable": {"cpu": cpu, "memory": "1Gi"}}}


class Resp:
    def __init__(self, doc: dict):
        self.data = json.dumps(doc).encode()


class PagedCore:
    def __init__(self, nodes: list[dict], page: int):
        self.nodes, self.page, self.calls = nodes, page, []

    def list_node(self, limit, _preload_content, _continue=None):
        assert limit and _preload_content is False
        self.calls.append(_continue)
        start = int(_continue or 0)
        items = self.nodes[start:start + self.page]
        more = start + self.page < len(self.nodes)
        return Resp({"items": items, "metadata": {"resourceVersion": "42",
                                                  **({"continue": str(start + self.page)} if more else {})}})


def test_list_all_follows_pages_and_keeps_only_node_infos():
    nodes = [kube_node(f"n{i}", {"edge": "" if i % 2 else "no"}, cpu=str(1 + i % 3)) for i in range(7)]
    idx = NodeIndex()
    watcher = NodeWatcher.__new__(NodeWatcher)  # no API client: the core API is the fake
    watcher.core, watcher.index, watcher.relists = PagedCore(nodes, page=3), idx, 0
    assert watcher.list_all() == "42"
    assert watcher.core.calls == [None, "3", "6"]
    assert len(idx) == 7 and idx.synced.is_set() and watcher.relists == 1
    assert idx.get("n4") == NodeInfo("n4", {"edge": "no"}, Decimal(2), Decimal(2**30))
    v = idx.version
    watcher.list_all()  # the same nodes again: the index (and its selections' caches) unchanged
    assert idx.version == v


def test_replace_infos_is_replace_without_the_node_objects():
    a, b = NodeIndex(), NodeIndex()
    raw = [kube_node("x", {"k": "v"}), kube_node("y", {})]
    a.replace(raw)
    b.replace_infos(NodeInfo.from_node(n) for n in raw)
    assert a.get("x") == b.get("x") and len(a) == len(b) == 2 and b.synced.is_set()
