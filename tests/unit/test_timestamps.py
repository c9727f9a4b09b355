"""One parser and one formatter for the RFC 3339 times Kubernetes, agents and the store write."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ecc_workloads.timestamps import epoch, now_rfc3339, parse_time, rfc3339


def test_times_are_read_as_aware_utc_whatever_their_zone():
    assert parse_time("2026-12-06T21:51:54Z") == datetime(2026, 12, 6, 21, 51, 54, tzinfo=timezone.utc)
    shifted = parse_time("2026-12-06T23:51:54+02:00")
    assert shifted == datetime(2026, 12, 6, 21, 51, 54, tzinfo=timezone.utc) and shifted.tzinfo == timezone.utc
    naive = parse_time("2026-12-06T21:51:54")  # no zone: UTC, never the host's local time
    assert naive.utcoffset() == timedelta(0) and naive.hour == 21
    assert parse_time(datetime(2026, 1, 1)) == datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_absent_or_hostile_values_are_none_not_an_exception():
    for value in (None, "", "yesterday", "2026-13-40T00:00:00Z", 12, ["2026-01-01"]):
        assert parse_time(value) is None and epoch(value) is None


def test_times_are_written_as_kubernetes_writes_them():
    assert rfc3339(datetime(2026, 12, 6, 23, 51, 54, 999, tzinfo=timezone(timedelta(hours=2)))) == "2026-12-06T21:51:54Z"
    assert rfc3339(0.0) == "1970-01-01T00:00:00Z" and rfc3339(datetime(2026, 1, 1)) == "2026-01-01T00:00:00Z"
    assert epoch(rfc3339(1_765_000_000.0)) == 1_765_000_000.0
    assert parse_time(now_rfc3339()) is not None and now_rfc3339().endswith("Z")
