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


def s3_outcome(call: Callable[[], Any]) -> str:
    """"allowed", or the S3 error code the store answered (e.g. "AccessDenied")."""
    from minio.error import S3Error

    try:
        call()
    except S3Error as exc:
        return exc.code
    return "allowed"


class S3Probe:
    """put/get of one key with a client, as their S3 outcome (for permission tests)."""

    def __init__(self, client, bucket: str):
        self.client, self.bucket = client, bucket

    def put(self, key: str) -> str:
        import io

        return s3_outcome(lambda: self.client.put_object(self.bucket, key, io.BytesIO(b"x"), 1))

    def get(self, key: str) -> str:
        return s3_outcome(lambda: self.client.get_object(self.bucket, key).read())
