"""Prometheus metrics of the operator (prometheus_client), served on --metrics-port.

Labels of the operator's own series stay low-cardinality: the kind, an outcome, an error class.
The fleet, policy and teacher series (names from contracts.MetricNames) carry the object's
namespace and name, one series per object, removed when the object is deleted."""

from __future__ import annotations

import contextlib
import threading
import time

from prometheus_client import Counter, Gauge, Histogram, start_http_server

from ecc_workloads.contracts import MetricNames

RECONCILE_SECONDS = Histogram(
    "ecc_operator_reconcile_duration_seconds", "time spent in one reconcile", ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 5, 7.5, 10, 15, 30, 60),
)
FLEET_REPORTS_LISTED = Counter(
    "ecc_operator_fleet_reports_listed_total", "agent report objects seen in the listings of the fleets' report "
    "prefixes (one listing per EdgeFleet reconcile)", [],
)
FLEET_REPORTS_READ = Counter(
    "ecc_operator_fleet_reports_read_total", "new or changed agent reports taken in, by how: from the summary in the "
    "listing's object metadata (listing) or by reading the object (get)", ["via"],
)
RECONCILE_ERRORS = Counter(
    "ecc_operator_reconcile_errors_total", "reconciles that raised (retried with backoff)", ["kind", "error"],
)
JOBS = Counter(
    "ecc_operator_jobs_total", "Jobs by outcome (created, succeeded, failed, gate-failed)", ["kind", "outcome"],
)
NODE_CREDENTIALS = Counter(
    "ecc_operator_node_credentials_total", "agents' requests for store credentials, by result (Issued or why "
    "refused: InvalidToken, NotAnAgent, WrongNode, FleetNotActive, ...)", ["result"],
)
REVISIONS_PUBLISHED = Counter(
    "ecc_operator_revisions_published_total", "teacher revisions published", [],
)


# ---------------------------------------------------------------------------
# Per-object series (contracts.MetricNames)
# ---------------------------------------------------------------------------
FLEET = ["namespace", "fleet"]
FLEET_NODES = Gauge(MetricNames.FLEET_NODES, "nodes of the fleet by state (matched, ready, on_target, failed, stale)",
                    FLEET + ["state"])
FLEET_NODES_BY_REVISION = Gauge(MetricNames.FLEET_NODES_BY_REVISION,
                                "nodes reporting (fresh reports) by the revision they serve", FLEET + ["revision"])
FLEET_TARGET_REVISION = Gauge(MetricNames.FLEET_TARGET_REVISION, "the teacher revision being rolled out", FLEET)
FLEET_REVISION_SKEW = Gauge(MetricNames.FLEET_REVISION_SKEW, "newest minus oldest revision among reporting nodes",
                            FLEET)
FLEET_DRIFT = Gauge(MetricNames.FLEET_DRIFT, "mean drift score of the nodes reporting on the target revision", FLEET)
FLEET_DRIFTING_NODES = Gauge(MetricNames.FLEET_DRIFTING_NODES,
                             "nodes whose drift score exceeds the AdaptationPolicy's threshold", FLEET)
FLEET_BYTES_DOWN = Gauge(MetricNames.FLEET_BYTES_DOWN, "module and manifest bytes fetched, summed over the agents' "
                         "latest reports", FLEET)
FLEET_BYTES_UP = Gauge(MetricNames.FLEET_BYTES_UP, "delta and report bytes written, summed over the agents' latest "
                       "reports", FLEET)
FLEET_ROLLOUT_PROGRESS = Gauge(MetricNames.FLEET_ROLLOUT_PROGRESS, "share of the fleet's tiered nodes on the target "
                               "revision (0..1)", FLEET)
MERGEBACK_ROUNDS = Counter(MetricNames.MERGEBACK_ROUNDS, "merge-back rounds by result (Published, Rejected, Failed)",
                           ["namespace", "policy", "result"])
POLICY_PENDING_UPDATES = Gauge(MetricNames.POLICY_PENDING_UPDATES, "edge deltas waiting for the current round",
                               ["namespace", "policy"])
TEACHER_REVISION = Gauge(MetricNames.TEACHER_REVISION, "published revision of the teacher", ["namespace", "teacher"])

_FLEET_SCALARS = (FLEET_TARGET_REVISION, FLEET_REVISION_SKEW, FLEET_DRIFT, FLEET_DRIFTING_NODES, FLEET_BYTES_DOWN,
                  FLEET_BYTES_UP, FLEET_ROLLOUT_PROGRESS)
_fleet_series: dict[tuple[str, str], tuple[set[str], set[str]]] = {}
"""(namespace, fleet) -> (states, revisions) exported, to remove what disappears"""
_fleet_lock = threading.Lock()


def set_fleet(namespace: str, fleet: str, m) -> None:
    """Export one fleet's values (a controllers.fleet.decisions.FleetMetrics); None values remove their series."""
    labels = {"namespace": namespace, "fleet": fleet}
    with _fleet_lock:
        states, revisions = _fleet_series.setdefault((namespace, fleet), (set(), set()))
        for state, value in m.nodes.items():
            FLEET_NODES.labels(**labels, state=state).set(value)
            states.add(state)
        now_revs = {str(r) for r in m.by_revision}
        for gone in revisions - now_revs:
            _remove(FLEET_NODES_BY_REVISION, namespace, fleet, gone)
        for rev, count in m.by_revision.items():
            FLEET_NODES_BY_REVISION.labels(**labels, revision=str(rev)).set(count)
        revisions.clear()
        revisions.update(now_revs)
        for gauge, value in ((FLEET_TARGET_REVISION, m.target_revision), (FLEET_REVISION_SKEW, m.revision_skew),
                             (FLEET_DRIFT, m.drift), (FLEET_DRIFTING_NODES, m.drifting),
                             (FLEET_BYTES_DOWN, m.bytes_down), (FLEET_BYTES_UP, m.bytes_up),
                             (FLEET_ROLLOUT_PROGRESS, m.progress)):
            if value is None:
                _remove(gauge, namespace, fleet)
            else:
                gauge.labels(**labels).set(value)


def remove_fleet(namespace: str, fleet: str) -> None:
    """Drop every series of a deleted fleet."""
    with _fleet_lock:
        states, revisions = _fleet_series.pop((namespace, fleet), (set(), set()))
        for state in states:
            _remove(FLEET_NODES, namespace, fleet, state)
        for rev in revisions:
            _remove(FLEET_NODES_BY_REVISION, namespace, fleet, rev)
        for gauge in _FLEET_SCALARS:
            _remove(gauge, namespace, fleet)


def _remove(metric, *labels: str) -> None:
    try:
        metric.remove(*labels)
    except KeyError:
        pass


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
