"""Readiness of a component: its health endpoint answers 200 (or its ready file exists)
while its process stays alive."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx

from ecc_devcluster import processes
from ecc_devcluster.components import ComponentSpec, HealthCheck


class ComponentFailed(RuntimeError):
    """A component did not become ready; carries the tail of its log."""

    def __init__(self, component: str, reason: str, log: str):
        self.component = component
        self.reason = reason
        self.log = log
        self.log_tail = processes.tail(log, 40)
        super().__init__(
            f"component {component!r} failed to start: {reason}\n"
            f"--- last lines of {log} ---\n{self.log_tail}"
        )


def probe(check: HealthCheck, timeout_s: float = 2.0) -> tuple[bool, str]:
    """One readiness probe: (ready, detail)."""
    if check.kind == "file":
        return (Path(check.path).exists(), f"waiting for {check.path}")
    if check.kind == "exec":
        try:
            done = subprocess.run(check.argv, capture_output=True, text=True, timeout=timeout_s + 1)
        except subprocess.TimeoutExpired:
            return (False, f"`{' '.join(check.argv)}` timed out")
        return (done.returncode == 0, f"`{' '.join(check.argv)}` -> {done.returncode} {done.stderr.strip()[:200]}")
    try:
        with httpx.Client(verify=_ssl_context(check), timeout=timeout_s) as client:
            r = client.get(check.url)
        return (r.status_code == 200, f"GET {check.url} -> {r.status_code} {r.text[:200]!r}")
    except httpx.HTTPError as exc:
        return (False, f"GET {check.url}: {type(exc).__name__}: {exc}")


def _ssl_context(check: HealthCheck):
    import ssl

    if check.verify is False:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif isinstance(check.verify, str):
        ctx = ssl.create_default_context(cafile=check.verify)
    else:
        ctx = ssl.create_default_context()
    if check.client_cert:
        ctx.load_cert_chain(*check.client_cert)
    return ctx


def wait_ready(spec: ComponentSpec, pid: int, ticks: int, timeout_s: float | None = None) -> float:
    """Block until spec's health check passes; seconds waited. Raises ComponentFailed if
    the process exits or the timeout passes."""
    timeout_s = spec.ready_timeout_s if timeout_s is None else timeout_s
    start = time.monotonic()
    detail = "no probe yet"
    delay = 0.05
    while True:
        if not processes.is_alive(pid, ticks):
            raise ComponentFailed(spec.name, "process exited during start-up", spec.log)
        ok, detail = probe(spec.health)
        if ok:
            return time.monotonic() - start
        if time.monotonic() - start > timeout_s:
            raise ComponentFailed(
                spec.name, f"not ready after {timeout_s:.0f}s (last probe: {detail})", spec.log
            )
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)
