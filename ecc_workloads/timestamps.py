"""RFC 3339 timestamps as Kubernetes and the store write them: one parser, one formatter.

Kubernetes writes ``2026-12-06T21:51:54Z``; Python's ``isoformat`` writes ``+00:00``. A time
without a zone is read as UTC (never as the host's local time); anything unparseable is None,
so a hand-edited status or a hostile report field never raises in a controller.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any


def parse_time(value: Any) -> datetime | None:
    """An aware UTC datetime from an RFC 3339 string (or a datetime); None when absent or not a time."""
    if not value:
        return None
    if isinstance(value, datetime):
        t = value
    else:
        try:
            t = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            return None
    return (t if t.tzinfo else t.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def epoch(value: Any) -> float | None:
    """Seconds since the epoch of `value` (as parse_time reads it); None when absent or not a time."""
    t = parse_time(value)
    return None if t is None else t.timestamp()


def rfc3339(t: datetime | float) -> str:
    """``2026-12-06T21:51:54Z``: a datetime (naive: UTC) or epoch seconds, to the second."""
    if isinstance(t, (int, float)):
        t = datetime.fromtimestamp(t, timezone.utc)
    elif t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def now_rfc3339() -> str:
    return rfc3339(datetime.now(timezone.utc))
