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


def read_object(store_client, bucket: str, key: str) -> bytes:
    """An object's bytes through a minio client (the connection released)."""
    resp = store_client.get_object(bucket, key)
    try:
        return resp.read()
    finally:
        resp.close()
        resp.release_conn()


def fleet_release_keys(kube, ns: str, fleet: str) -> str | None:
    """The release keys the operator gives a fleet's agents (its DaemonSet's env), if it has one yet."""
    from ecc_workloads.sim.agents import daemonset_release_keys

    try:
        return daemonset_release_keys(kube, ns, fleet)
    except LookupError:
        return None


def signed_desired_state(store_client, bucket: str, kube, ns: str, fleet: str):
    """The fleet's DesiredState if it is in the store and signed by the key its agents are given."""
    from minio.error import S3Error

    from ecc_workloads import contracts as c
    from ecc_workloads import release_signing

    keys = fleet_release_keys(kube, ns, fleet)
    if not keys:
        return None
    try:
        raw = read_object(store_client, bucket, c.StoreLayout.desired_state(ns, fleet))
        return release_signing.open_document(raw, c.DesiredState, release_signing.parse_trusted_keys(keys))
    except (S3Error, release_signing.UntrustedDocument):
        return None
