"""The agent's spool and outbox: order, atomic items, restarts, and the report cap."""

from __future__ import annotations

import pytest

from ecc_workloads.agent_spool import Outbox, Spool
from ecc_workloads.store import StoreUnavailable


class Target:
    def __init__(self):
        self.down = False
        self.got: list[tuple[str, bytes]] = []

    def put(self, key, data):
        if self.down:
            raise StoreUnavailable("down")
        self.got.append((key, data))


def test_items_keep_order_and_survive_a_restart(tmp_path):
    spool = Spool(tmp_path)
    spool.append("report", "r/a.json", b'{"seq": 1}')
    spool.append("delta", "d/1/a.safetensors", b"\x00\x01binary\nwith newline")
    (tmp_path / "000000000099-delta.item.tmp").write_bytes(b"half written")  # a crash mid-write
    again = Spool(tmp_path)
    assert not list(tmp_path.glob("*.tmp"))
    items = again.items()
    assert [(i.seq, i.kind, i.key) for i in items] == [(1, "report", "r/a.json"), (2, "delta", "d/1/a.safetensors")]
    assert items[1].read() == b"\x00\x01binary\nwith newline"
    assert again.append("report", "r/a.json", b"{}").seq == 3
    again.remove(items[0])
    assert len(again) == 2
    with pytest.raises(ValueError, match="kind"):
        again.append("text", "x", b"")


def test_only_reports_are_capped(tmp_path):
    spool = Spool(tmp_path, max_reports=2)
    spool.append("delta", "d", b"1")
    for i in range(4):
        spool.append("report", "r", str(i).encode())
    assert [(i.kind, i.read()) for i in spool.items()] == [("delta", b"1"), ("report", b"2"), ("report", b"3")]
    assert spool.dropped_reports == 2


def test_outbox_writes_in_order_through_an_outage(tmp_path):
    target = Target()
    box = Outbox(Spool(tmp_path), target.put)
    assert box.send("report", "r", b"1")
    target.down = True
    assert not box.send("report", "r", b"2")
    assert not box.send("delta", "d", b"3")
    assert box.store_ok is False and box.depth == 2 and "down" in box.last_error
    target.down = False
    assert box.send("report", "r", b"4")  # queues behind the spooled ones, then all go in order
    assert [d for _, d in target.got] == [b"1", b"2", b"3", b"4"]
    assert box.depth == 0 and box.flushed_total == 3 and box.bytes_up == 4 and box.store_ok


def test_flush_stops_at_the_first_failure(tmp_path):
    target = Target()
    box = Outbox(Spool(tmp_path), target.put)
    target.down = True
    for i in range(3):
        box.send("report", "r", str(i).encode())
    calls = []

    def flaky(key, data):
        calls.append(data)
        if len(calls) == 2:
            raise StoreUnavailable("gone again")
        target.got.append((key, data))

    box._put = flaky
    assert box.flush() == 1 and box.depth == 2
    box._put = target.put
    target.down = False
    assert box.flush() == 2
    assert [d for _, d in target.got] == [b"0", b"1", b"2"]
