"""The agent's spool and outbox: order, atomic items, restarts, and the report cap."""

from __future__ import annotations

import pytest

from ecc_workloads.agent.spool import Outbox, Spool
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


def test_byte_cap_drops_superseded_then_reports_never_a_live_delta(tmp_path):
    from ecc_workloads.agent.spool import SpoolFull, SpoolLimits

    spool = Spool(tmp_path, limits=SpoolLimits(max_bytes=4096))
    spool.append("delta", "d/1", b"a" * 1000)
    spool.append("report", "r", b"r" * 1000)
    spool.append("delta", "d/1", b"b" * 1000)  # supersedes the first delta of d/1
    assert spool.bytes <= 4096
    spool.append("delta", "d/2", b"c" * 1000)  # room: the superseded delta goes first
    assert [(i.key, i.read()[:1]) for i in spool.items()] == [("r", b"r"), ("d/1", b"b"), ("d/2", b"c")]
    spool.append("delta", "d/3", b"e" * 1500)  # then the old report
    assert [i.key for i in spool.items()] == ["d/1", "d/2", "d/3"]
    assert spool.dropped_total == 2 and spool.dropped_reports == 1
    with pytest.raises(SpoolFull):  # only live deltas left: the new item is refused, none is dropped
        spool.append("delta", "d/4", b"f" * 1000)
    with pytest.raises(SpoolFull):
        spool.append("report", "r", b"x" * 5000)  # larger than the whole spool
    assert [i.key for i in spool.items()] == ["d/1", "d/2", "d/3"] and spool.refused_total == 2
    assert Spool(tmp_path, limits=SpoolLimits(max_bytes=4096)).bytes == spool.bytes  # counted from disk


def test_permanent_refusals_dead_letter_transient_ones_never(tmp_path):
    from ecc_workloads.agent.spool import SpoolLimits
    from ecc_workloads.store import StoreDenied

    target = Target()
    box = Outbox(Spool(tmp_path, limits=SpoolLimits(dead_letter_after=2)), target.put)
    target.down = True
    for i in range(3):
        box.send("delta", f"d/{i}", str(i).encode())

    def put(key, data):
        if key == "d/0" and not target.down:
            raise StoreDenied("AccessDenied")
        target.put(key, data)

    box._put = put
    for _ in range(5):  # the store is down: never counted, order kept
        assert box.flush() == 0
    target.down = False
    assert box.flush() == 0 and box.depth == 3  # one refusal: still in order
    assert box.flush() == 2 and box.depth == 0  # two: dead-lettered, the rest delivered
    assert [d for _, d in target.got] == [b"1", b"2"]
    assert box.spool.dead_letters_total == 1 and [p.name for p in box.spool.dead_letters()] == ["000000000001-delta.item"]
    again = Spool(tmp_path)
    assert again.append("report", "r", b"{}").seq == 2  # never the seq of a dead letter (no name clash)
