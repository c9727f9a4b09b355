"""Prometheus metrics of the operator (prometheus_client), served on --metrics-port.

Labels stay low-cardinality: the kind, an outcome, an error class — never an object name."""

from __future__ import annotations

import contextlib
import time

from prometheus_client import Counter, Histogram, start_http_server

RECONCILE_SECONDS = Histogram(
    "ecc_operator_reconcile_duration_seconds", "time spent in one reconcile", ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
RECONCILE_ERRORS = Counter(
    "ecc_operator_reconcile_errors_total", "reconciles that raised (retried with backoff)", ["kind", "error"],
)
JOBS = Counter(
    "ecc_operator_jobs_total", "Jobs by outcome (created, succeeded, failed, gate-failed)", ["kind", "outcome"],
)
REVISIONS_PUBLISHED = Counter(
    "ecc_operator_revisions_published_total", "teacher revisions published", [],
)


@contextlib.contextmanager
def reconcile_timer(kind: str):
    t0 = time.perf_counter()
    try:
        yield
    except Exception as exc:
        RECONCILE_ERRORS.labels(kind=kind, error=type(exc).__name__).inc()
        raise
    finally:
        RECONCILE_SECONDS.labels(kind=kind).observe(time.perf_counter() - t0)


def serve(port: int, addr: str = "0.0.0.0") -> None:
    """Start the /metrics HTTP server in a background thread (port 0: disabled)."""
    if port:
        start_http_server(port, addr=addr)
