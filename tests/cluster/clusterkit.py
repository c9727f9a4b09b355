"""Small helpers shared by the tests that run against the local cluster."""

from __future__ import annotations

import time
from typing import Any, Callable

import pytest


def eventually(check: Callable[[], Any], timeout_s: float, what: str, interval: float = 0.5) -> Any:
    """Poll `check` until it returns something truthy and return that; otherwise fail the
    test naming `what` and the last value seen."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"{what}: not true after {timeout_s:g}s (last: {last!r})")
