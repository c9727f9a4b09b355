"""Simulated edge agents for KWOK fake nodes, played against the real store.

KWOK fakes the pods of the fleet's agent DaemonSet on fake nodes; nothing runs there. This
module plays those agents so that the operator sees a fleet of thousands of nodes behave like
real ones: it polls the fleet's DesiredState once per poll interval for *all* nodes (one GET
with If-None-Match), "fetches" what each node lacks (the tier's bundle manifest is read once
per revision and tier, each module is stat'ed once; every node counts the bytes a real agent
would download, without downloading anything 5,000 times), reaches the revision after a
simulated delay and writes an ``AgentReport`` (``simulated=True``) per node to
``StoreLayout.agent_report`` — when its state changes and every report interval (with
``report_slots``, on a fixed per-node grid, so a steady share of the fleet reports every
second) — with the report's summary as the object's user metadata (``REPORT_SUMMARY_FIELDS``),
which the operator reads from its listing of the reports prefix.

What the reports say (counts and sizes only, never text, token ids or embeddings):

- ``drift_score``: per site (the node's ``ecc.dev/site`` label) a configured level — base
  low, shifted sites higher — times ``drift_relief ** (revision - drift_baseline_revision)``
  (a newer revision drifts less), plus Gaussian noise, clipped to 0..1;
- ``latency``: requests in the interval (Poisson-like), p50/p95 from a log-normal
  distribution (median ``latency_median_ms``, spread ``latency_sigma``), mean confidence
  falling with drift;
- failures: for every revision, ``failure_fraction`` of the nodes (those with the lowest
  seeded hash rank) report ``Failed`` instead of reaching it and stay on the one they serve;
- stragglers: ``late_fraction`` of the nodes reach every revision ``late_extra_seconds``
  later; ``silent_fraction`` stop reporting ``silent_after_seconds`` after the simulation
  started.

The decisions (``advance``, ``build_report``, ``drift_score``, ``select_fraction``) are pure
functions of the node, the desired state, the time and the seed, so a seed reproduces a run
(only ``time`` stamps differ). The loop (``SimRunner``) does the I/O: one desired-state poll
per poll interval, a thread pool for the report PUTs, reports only when changed or due.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ecc_workloads.contracts import (  # noqa: F401 - REPORT_SUMMARY_*: re-exported
    REPORT_SUMMARY_FIELDS,
    REPORT_SUMMARY_METADATA,
    report_summary_metadata,
    report_summary,
    EDGE_SITE_LABEL,
    NODE_KIND_KWOK,
    NODE_KIND_LABEL,
    NODE_KIND_REAL,
    AgentEnv,
    AgentReport,
    BundleManifest,
    DesiredState,
    LatencySummary,
    StoreLayout,
    fleet_agent_name,
)
from ecc_workloads.release_signing import KeyFormatError, UntrustedDocument, open_document, parse_trusted_keys
from ecc_workloads.sim.kube import api_client

# ---------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------
DEFAULT_SITE_DRIFT: dict[str, float] = {
    "base": 0.05,
    "colloquial": 0.25,
    "keyword": 0.35,
    "typos": 0.45,
    "voice": 0.50,
}
"""Drift level per edge site on the baseline revision (see contracts.EDGE_SITES)."""


class SimConfig(BaseModel):
    """How the simulated agents behave. Every random draw is seeded by ``seed``."""

    model_config = ConfigDict(extra="forbid")

    seed: int = 0
    site_drift: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_SITE_DRIFT),
                                         description="drift score per site on the baseline revision (0..1)")
    default_drift: float = Field(0.1, ge=0, le=1, description="drift of a node with no or an unknown site label")
    drift_noise: float = Field(0.03, ge=0, le=1, description="std of the Gaussian noise added to each report's drift")
    drift_relief: float = Field(0.4, ge=0, le=1, description="drift factor per revision above the baseline revision")
    drift_baseline_revision: int = Field(1, ge=1, description="revision on which sites drift at their full level")
    latency_median_ms: float = Field(8.0, gt=0)
    latency_sigma: float = Field(0.35, ge=0, description="log-normal spread of inference latency")
    requests_per_interval: float = Field(20.0, ge=0, description="mean requests per node per report interval")
    feedback_rate: float = Field(0.1, ge=0, le=1, description="share of requests with user feedback")
    apply_delay_seconds: tuple[float, float] = Field((1.0, 5.0), description="min, max seconds to reach a revision")
    failure_fraction: float = Field(0.0, ge=0, le=1, description="share of nodes that fail each new revision")
    fail_from_revision: int = Field(1, ge=1, description="only revisions >= this fail")
    late_fraction: float = Field(0.0, ge=0, le=1, description="share of nodes that reach revisions late")
    late_extra_seconds: float = Field(60.0, ge=0)
    silent_fraction: float = Field(0.0, ge=0, le=1, description="share of nodes that stop reporting")
    silent_after_seconds: float = Field(30.0, ge=0)
    report_interval_seconds: float | None = Field(None, gt=0, description="override the desired state's interval")
    poll_interval_seconds: float | None = Field(None, gt=0, description="override the desired state's interval")
    interval_jitter: float = Field(0.2, ge=0, lt=1, description="report interval varies by ± this share per report")
    report_slots: bool = Field(False, description="periodic reports at a fixed seeded phase per node (phase + k x "
                               "interval, no jitter), so that the same share of the nodes reports in every second; "
                               "state changes are still reported at once")
    report_metadata: bool = Field(True, description="write each report's summary (REPORT_SUMMARY_FIELDS) as the "
                                  "object's user metadata too, which the operator reads from its listing")

    @field_validator("site_drift")
    @classmethod
    def _drift_range(cls, v: dict[str, float]) -> dict[str, float]:
        bad = {k: x for k, x in v.items() if not 0 <= x <= 1}
        if bad:
            raise ValueError(f"site_drift values must be within 0..1, got {bad}")
        return v

    @field_validator("apply_delay_seconds")
    @classmethod
    def _delay_order(cls, v: tuple[float, float]) -> tuple[float, float]:
        if v[0] < 0 or v[1] < v[0]:
            raise ValueError(f"apply_delay_seconds must be (min, max) with 0 <= min <= max, got {v}")
        return v


def parse_site_drift(items: Iterable[str]) -> dict[str, float]:
    """``["typos=0.6", "base=0.02"]`` -> {site: level}; names the bad item."""
    out: dict[str, float] = {}
    for item in items:
        site, sep, value = item.partition("=")
        try:
            level = float(value)
        except ValueError:
            level = -1.0
        if not sep or not site or not 0 <= level <= 1:
            raise ValueError(f"--site-drift {item!r}: expected SITE=LEVEL with LEVEL in 0..1, e.g. typos=0.6")
        out[site.strip()] = level
    return out


# ---------------------------------------------------------------------------
# Seeded draws (pure)
# ---------------------------------------------------------------------------
def unit_hash(*parts: object) -> float:
    """A stable number in [0, 1) from the parts (sha256)."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def rng_for(*parts: object) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()[:8], "big"))


def select_fraction(nodes: Iterable[str], fraction: float, seed: int, salt: str) -> frozenset[str]:
    """The ``round(fraction * n)`` nodes with the lowest seeded hash rank: exact in size,
    deterministic, independent of the order the nodes come in."""
    names = sorted(set(nodes))
    k = int(round(fraction * len(names)))
    if k <= 0:
        return frozenset()
    ranked = sorted(names, key=lambda n: (unit_hash(seed, salt, n), n))
    return frozenset(ranked[:k])


# ---------------------------------------------------------------------------
# Bundles as the simulated agents see them
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class TierBundle:
    """One tier's bundle at one revision: what a node must hold to serve it."""

    profile: str
    manifest_bytes: int
    modules: dict[str, int]
    """sha256 -> bytes of each module (from a stat of the stored module)."""
    problem: str = ""
    """Why a real agent could not run it (missing manifest or module); empty when fine."""


Catalog = dict[str, TierBundle]
"""manifest key -> its TierBundle."""


# ---------------------------------------------------------------------------
# One simulated node
# ---------------------------------------------------------------------------
@dataclass
class NodeSim:
    name: str
    site: str | None = None
    state: str = "Starting"
    message: str = ""
    tier: str | None = None
    profile: str | None = None
    revision: int | None = None
    desired_generation: int | None = None
    pending: int | None = None
    pending_ready_at: float | None = None
    failed_revision: int | None = None
    held: set[str] = field(default_factory=set)
    bytes_down: int = 0
    bytes_up: int = 0
    seq: int = 0
    requests_total: int = 0
    feedback_total: int = 0
    last_report_at: float | None = None
    last_reported: tuple | None = None

    def snapshot_key(self) -> tuple:
        """What makes a report due immediately when it changes."""
        return (self.state, self.revision, self.desired_generation, self.tier, self.profile, self.message)


@dataclass(frozen=True)
class Roles:
    """Which nodes fail which revision and which straggle (computed over the played set)."""

    late: frozenset[str] = frozenset()
    silent: frozenset[str] = frozenset()


def roles_for(nodes: Iterable[str], cfg: SimConfig) -> Roles:
    names = list(nodes)
    return Roles(late=select_fraction(names, cfg.late_fraction, cfg.seed, "late"),
                 silent=select_fraction(names, cfg.silent_fraction, cfg.seed, "silent"))


def fails_revision(node: str, revision: int, nodes: Iterable[str], cfg: SimConfig,
                   _cache: dict | None = None) -> bool:
    """Whether ``node`` fails ``revision`` (the failure set is drawn per revision)."""
    if revision < cfg.fail_from_revision or cfg.failure_fraction <= 0:
        return False
    if _cache is not None:
        key = ("fail", revision)
        if key not in _cache:
            _cache[key] = select_fraction(nodes, cfg.failure_fraction, cfg.seed, f"fail:{revision}")
        return node in _cache[key]
    return node in select_fraction(nodes, cfg.failure_fraction, cfg.seed, f"fail:{revision}")


def apply_delay(node: str, revision: int, cfg: SimConfig, late: bool) -> float:
    lo, hi = cfg.apply_delay_seconds
    delay = lo + (hi - lo) * unit_hash(cfg.seed, "delay", node, revision)
    return delay + (cfg.late_extra_seconds if late else 0.0)


def wanted_revision(desired: DesiredState, node: str, canary: frozenset[str] | set[str] | None = None) -> int | None:
    """``DesiredState.revision_for`` with the canary set computed once by the caller."""
    if canary is None:
        return desired.revision_for(node)
    if node not in desired.node_tiers:
        return None
    if desired.wave == "all" or node in canary:
        return desired.target_revision
    return desired.previous_revision


def advance(node: NodeSim, desired: DesiredState, now: float, cfg: SimConfig, catalog: Catalog, *,
            late: bool = False, fails: Callable[[str, int], bool] = lambda n, r: False,
            canary: frozenset[str] | set[str] | None = None) -> NodeSim:
    """Move one node towards what the desired state wants of it at time ``now`` (mutates and
    returns the node). A node that fails a revision keeps serving the one it had; a node whose
    bundle cannot be read reports Failed and tries again on every step."""
    want = wanted_revision(desired, node.name, canary)
    node.tier = desired.node_tiers.get(node.name)
    if want is None:
        node.pending = node.pending_ready_at = None
        if node.revision is None:
            node.state, node.message = "Starting", "waiting for a revision for this node"
        node.desired_generation = desired.generation
        return node
    if want == node.revision:
        node.pending = node.pending_ready_at = None
        node.state, node.message = "Ready", ""
        node.desired_generation = desired.generation
        tier = desired.tier_for(node.name, want)
        node.profile = tier.profile if tier else node.profile
        return node
    if want == node.failed_revision:
        node.state = "Failed"
        node.desired_generation = desired.generation
        return node
    tier = desired.tier_for(node.name, want)
    bundle = catalog.get(tier.manifest_key) if tier else None
    if tier is not None and bundle is None:
        return node  # its manifest has not been read yet (store unreachable): keep serving, retry
    if tier is None or bundle.problem:
        node.pending = node.pending_ready_at = None
        node.state = "Failed"
        node.message = (f"no bundle for tier {node.tier!r} at revision {want}" if tier is None
                        else bundle.problem)[:1024]
        node.desired_generation = desired.generation
        return node
    if node.pending != want:
        node.pending = want
        node.pending_ready_at = now + apply_delay(node.name, want, cfg, late)
        node.state, node.message = "Updating", f"fetching revision {want} ({tier.profile})"
        # what a real agent downloads: the manifest and every module it does not hold
        node.bytes_down += bundle.manifest_bytes + sum(b for sha, b in bundle.modules.items() if sha not in node.held)
        node.held.update(bundle.modules)
    if now >= (node.pending_ready_at or now):
        node.pending = node.pending_ready_at = None
        node.desired_generation = desired.generation
        if fails(node.name, want):
            node.failed_revision = want
            node.state = "Failed"
            node.message = f"simulated failure applying revision {want}"
        else:
            node.revision = want
            node.profile = tier.profile
            node.state, node.message = "Ready", ""
    return node


def drift_score(site: str | None, revision: int | None, cfg: SimConfig, noise_key: tuple) -> float | None:
    """The site's drift level, lower on newer revisions, with seeded noise; None before a model."""
    if revision is None:
        return None
    level = cfg.site_drift.get(site or "", cfg.default_drift)
    level *= cfg.drift_relief ** max(0, revision - cfg.drift_baseline_revision)
    noise = rng_for(cfg.seed, "drift", *noise_key).gauss(0.0, cfg.drift_noise) if cfg.drift_noise else 0.0
    return round(min(1.0, max(0.0, level + noise)), 4)


def latency_summary(node: NodeSim, drift: float | None, cfg: SimConfig) -> LatencySummary:
    """Requests in the interval and their latency/confidence summary (seeded by node and seq)."""
    if node.revision is None:
        return LatencySummary()
    rng = rng_for(cfg.seed, "latency", node.name, node.seq)
    lam = cfg.requests_per_interval
    count = max(0, int(round(rng.gauss(lam, math.sqrt(lam))))) if lam > 0 else 0
    if count == 0:
        return LatencySummary(count=0)
    jitter = math.exp(rng.gauss(0.0, 0.05))
    p50 = cfg.latency_median_ms * jitter
    p95 = cfg.latency_median_ms * math.exp(1.645 * cfg.latency_sigma) * jitter
    confidence = min(1.0, max(0.0, 0.95 - 0.6 * (drift or 0.0) + rng.gauss(0.0, 0.01)))
    return LatencySummary(count=count, p50_ms=round(p50, 3), p95_ms=round(p95, 3),
                          mean_confidence=round(confidence, 4))


def iso_utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def report_due(node: NodeSim, now: float, interval: float, jitter: float = 0.0, seed: int = 0,
               slots: bool = False) -> bool:
    """Due when the snapshot changed, or ``interval`` (± ``jitter`` share, seeded per node and
    report, so that thousands of nodes started together drift apart) passed since the last one.

    ``slots``: the periodic reports fall on the node's own grid instead — ``phase + k x interval``
    with a seeded phase in [0, interval) — due once a grid point passed since the last report;
    so ``1 / interval`` of the nodes report in every second, whatever the state changes did."""
    if node.last_reported != node.snapshot_key() or node.last_report_at is None:
        return True
    if slots:
        phase = interval * unit_hash(seed, "phase", node.name)
        return math.floor((now - phase) / interval) > math.floor((node.last_report_at - phase) / interval)
    factor = 1.0 + jitter * (2.0 * unit_hash(seed, "interval", node.name, node.seq) - 1.0) if jitter else 1.0
    return now - node.last_report_at >= interval * factor


def build_report(node: NodeSim, fleet: str, desired: DesiredState | None, now: float, wall: float,
                 cfg: SimConfig) -> AgentReport:
    """The node's next report (increments seq and the request counters; mutates the node)."""
    node.seq += 1
    drift = drift_score(node.site, node.revision, cfg, (node.name, node.seq))
    latency = latency_summary(node, drift, cfg)
    node.requests_total += latency.count
    node.feedback_total += int(round(latency.count * cfg.feedback_rate))
    signal = desired.adaptation.drift_signal if desired and desired.adaptation else "confidence"
    node.last_report_at = now
    node.last_reported = node.snapshot_key()
    return AgentReport(
        node=node.name, fleet=fleet, seq=node.seq, time=iso_utc(wall), state=node.state,
        message=node.message, simulated=True, tier=node.tier, profile=node.profile,
        revision=node.revision, desired_generation=node.desired_generation,
        drift_score=drift, drift_signal=signal if drift is not None else None, latency=latency,
        requests_total=node.requests_total, feedback_total=node.feedback_total,
        bytes_down=node.bytes_down, bytes_up=node.bytes_up,
    )


# ---------------------------------------------------------------------------
# Store access (the few operations the simulation needs)
# ---------------------------------------------------------------------------
class NotModified(Exception):
    pass


class SimStoreAPI(Protocol):
    def get_if_changed(self, key: str, etag: str | None) -> tuple[bytes, str | None]:
        """(body, etag); raises NotModified when ``etag`` still matches, KeyError when missing."""

    def get(self, key: str) -> bytes:
        """The object's bytes; KeyError when missing."""

    def stat_size(self, key: str) -> int | None:
        """Size in bytes, or None when the object is missing."""

    def put(self, key: str, data: bytes, metadata: dict[str, str] | None = None) -> None:
        """Write the object (``metadata``: user metadata, sent only when given)."""


class MinioSimStore:
    """SimStoreAPI over a minio client with a connection pool as large as the PUT pool."""

    def __init__(self, settings, pool_size: int = 32, timeout_s: float = 10.0):
        import urllib3

        from ecc_workloads.store import minio_client, store_http

        self.bucket = settings.bucket
        http = store_http(settings, read_timeout=timeout_s, maxsize=max(10, pool_size),
                          retries=urllib3.Retry(total=1, connect=1, read=0, redirect=2))
        self.client = minio_client(settings, http)

    @staticmethod
    def _missing(exc) -> bool:
        return getattr(exc, "code", "") in ("NoSuchKey", "NoSuchBucket", "ResourceNotFound")

    def get_if_changed(self, key: str, etag: str | None) -> tuple[bytes, str | None]:
        from minio.error import S3Error, ServerError

        headers = {"If-None-Match": f'"{etag}"'} if etag else None
        try:
            resp = self.client.get_object(self.bucket, key, request_headers=headers)
        except ServerError as exc:
            if exc.status_code == 304:
                raise NotModified(key) from None
            raise
        except S3Error as exc:
            if exc.code == "NotModified":
                raise NotModified(key) from None
            if self._missing(exc):
                raise KeyError(key) from None
            raise
        try:
            body = resp.read()
            new_etag = (resp.headers.get("ETag") or "").strip('"') or None
        finally:
            resp.close()
            resp.release_conn()
        return body, new_etag

    def get(self, key: str) -> bytes:
        return self.get_if_changed(key, None)[0]

    def stat_size(self, key: str) -> int | None:
        from minio.error import S3Error

        try:
            return int(self.client.stat_object(self.bucket, key).size)
        except S3Error as exc:
            if self._missing(exc):
                return None
            raise

    def put(self, key: str, data: bytes, metadata: dict[str, str] | None = None) -> None:
        import io

        self.client.put_object(self.bucket, key, io.BytesIO(data), len(data), content_type="application/json",
                               metadata=metadata or None)


def load_catalog(store: SimStoreAPI, desired: DesiredState, catalog: Catalog, module_sizes: dict[str, int | None],
                 prefix: str = "") -> Catalog:
    """Add the desired state's bundles to ``catalog`` (each manifest read once, each module
    stat'ed once). A manifest or module that is missing becomes a TierBundle with a problem."""
    for tier in [*desired.target, *desired.previous]:
        key = tier.manifest_key
        if key in catalog and not catalog[key].problem:
            continue
        try:
            raw = store.get(prefix + key)
            manifest = BundleManifest.model_validate_json(raw)
        except KeyError:
            catalog[key] = TierBundle(tier.profile, 0, {}, f"bundle manifest {key} does not exist")
            continue
        except ValueError as exc:
            catalog[key] = TierBundle(tier.profile, 0, {}, f"bundle manifest {key} is invalid: {exc}"[:1024])
            continue
        sizes: dict[str, int] = {}
        problem = ""
        for mod in manifest.modules:
            if mod.sha256 not in module_sizes:
                module_sizes[mod.sha256] = store.stat_size(prefix + StoreLayout.module(mod.sha256))
            size = module_sizes[mod.sha256]
            if size is None:
                problem = problem or f"module {mod.name} ({mod.sha256[:12]}) of {key} does not exist"
            sizes[mod.sha256] = size if size is not None else mod.bytes
        catalog[key] = TierBundle(manifest.profile, len(raw), sizes, problem)
    return catalog


# ---------------------------------------------------------------------------
# Which nodes to play
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class NodeInfo:
    name: str
    site: str | None
    kind: str | None


def list_nodes_from_kube(kubeconfig: str | None, label_selector: str | None = None) -> dict[str, NodeInfo]:
    """Nodes (name, site label, node kind) through the API server's watch cache, parsed as
    plain JSON (thousands of nodes: no per-object model validation)."""
    from kubernetes import client

    api = api_client(kubeconfig)
    try:
        core = client.CoreV1Api(api)
        kwargs = {"resource_version": "0", "_preload_content": False, "_request_timeout": 120}
        if label_selector:
            kwargs["label_selector"] = label_selector
        resp = core.list_node(**kwargs)
        doc = json.loads(resp.data)
    finally:
        api.close()
    out: dict[str, NodeInfo] = {}
    for item in doc.get("items", []):
        meta = item.get("metadata", {})
        labels = meta.get("labels") or {}
        out[meta["name"]] = NodeInfo(meta["name"], labels.get(EDGE_SITE_LABEL), labels.get(NODE_KIND_LABEL))
    return out


def release_keys_from_daemonset(kubeconfig: str | None, namespace: str, fleet: str) -> str:
    """daemonset_release_keys through a client of ``kubeconfig``."""

    api = api_client(kubeconfig)
    try:
        return daemonset_release_keys(api, namespace, fleet)
    finally:
        api.close()


def daemonset_release_keys(api, namespace: str, fleet: str) -> str:
    """The release keys the operator gives the fleet's real agents (their DaemonSet's
    AgentEnv.RELEASE_KEYS); LookupError while there is no such DaemonSet yet."""
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    try:
        ds = client.AppsV1Api(api).read_namespaced_daemon_set(fleet_agent_name(fleet), namespace)
    except ApiException as exc:
        raise LookupError(f"no DaemonSet {namespace}/{fleet_agent_name(fleet)} to take the release keys from "
                          f"yet ({exc.status})") from exc
    for container in ds.spec.template.spec.containers:
        for env in container.env or []:
            if env.name == AgentEnv.RELEASE_KEYS and env.value:
                return env.value
    raise LookupError(f"DaemonSet {namespace}/{fleet_agent_name(fleet)} sets no {AgentEnv.RELEASE_KEYS}")


def played_nodes(desired: DesiredState, source: str, known: dict[str, NodeInfo] | None,
                 exclude: re.Pattern | None = None) -> dict[str, str | None]:
    """node -> site of the nodes to simulate.

    ``source="kube"``: nodes of ``node_tiers`` that the cluster labels ``ecc.dev/node-kind=kwok``.
    ``source="desired-state"``: every node of ``node_tiers`` that is not a real node (by its
    label when ``known`` has it, else by the ``exclude`` name pattern)."""
    if source not in ("kube", "desired-state"):
        raise ValueError(f"node source {source!r}: use 'kube' or 'desired-state'")
    out: dict[str, str | None] = {}
    for name in desired.node_tiers:
        info = (known or {}).get(name)
        if source == "kube":
            if info is not None and info.kind == NODE_KIND_KWOK:
                out[name] = info.site
        else:
            if info is not None and info.kind == NODE_KIND_REAL:
                continue
            if info is None and exclude is not None and exclude.search(name):
                continue
            out[name] = info.site if info else None
    return out


# ---------------------------------------------------------------------------
# The loop
# ---------------------------------------------------------------------------
class SimSummary(BaseModel):
    nodes: int = 0
    reports_written: int = 0
    report_errors: int = 0
    polls: int = 0
    polls_not_modified: int = 0
    poll_errors: int = 0
    ticks: int = 0
    elapsed_s: float = 0.0
    states: dict[str, int] = Field(default_factory=dict)
    revisions: dict[str, int] = Field(default_factory=dict)
    bytes_down_total: int = 0
    desired_generation: int | None = None
    target_revision: int | None = None
    stopped_because: str = ""
    last_error: str = ""


class SimRunner:
    """Plays the agents of the selected nodes of one fleet until a stop condition."""

    def __init__(self, store: SimStoreAPI, namespace: str, fleet: str, cfg: SimConfig, *,
                 node_source: str = "kube", node_lister: Callable[[], dict[str, NodeInfo]] | None = None,
                 exclude: str | None = r"^ecc-edge-\d+$|^ecc-cloud-", workers: int = 16, tick_seconds: float = 1.0,
                 node_refresh_seconds: float = 60.0, prefix: str = "",
                 clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep, log: Callable[[str], None] | None = None,
                 release_keys: Sequence = (), release_key_source: Callable[[], str] | None = None):
        self.store, self.namespace, self.fleet, self.cfg = store, namespace, fleet, cfg
        self.release_keys = tuple(release_keys)
        """keys the desired state must be signed by, as real agents check (release_signing)"""
        self.release_key_source = release_key_source
        """where to read them while there are none yet (the fleet's DaemonSet: what real agents get)"""
        self.node_source, self.node_lister = node_source, node_lister
        self.exclude = re.compile(exclude) if exclude else None
        self.workers, self.tick_seconds, self.node_refresh_seconds = workers, tick_seconds, node_refresh_seconds
        self.prefix = prefix
        self.clock, self.wall, self.sleep, self.log = clock, wall, sleep, log or (lambda _m: None)
        self.desired: DesiredState | None = None
        self.etag: str | None = None
        self.catalog: Catalog = {}
        self.module_sizes: dict[str, int | None] = {}
        self.nodes: dict[str, NodeSim] = {}
        self.roles = Roles()
        self.fail_cache: dict = {}
        self.known: dict[str, NodeInfo] | None = None
        self.known_at: float | None = None
        self.known_tiers: frozenset[str] = frozenset()
        self.started = clock()
        self.next_poll = self.started
        self.summary = SimSummary()

    # -- polling ----------------------------------------------------------
    def _trusted_keys(self) -> tuple:
        if not self.release_keys and self.release_key_source is not None:
            self.release_keys = tuple(parse_trusted_keys(self.release_key_source()))
        return self.release_keys

    def poll(self, now: float) -> bool:
        """One desired-state GET with If-None-Match; True when the document changed."""
        key = self.prefix + StoreLayout.desired_state(self.namespace, self.fleet)
        self.summary.polls += 1
        interval = self.cfg.poll_interval_seconds or (self.desired.poll_interval_seconds if self.desired else 2.0)
        self.next_poll = now + interval
        try:
            raw, etag = self.store.get_if_changed(key, self.etag)
        except NotModified:
            self.summary.polls_not_modified += 1
            wanted = [t.manifest_key for t in [*self.desired.target, *self.desired.previous]] if self.desired else []
            if any(k not in self.catalog or self.catalog[k].problem for k in wanted):
                # a real agent retries a bundle it could not read; so do we, once per poll
                self.catalog = {k: b for k, b in self.catalog.items() if not b.problem}
                self.module_sizes = {k: v for k, v in self.module_sizes.items() if v is not None}
                self._load_catalog()
            return False
        except KeyError:
            self.log(f"desired state {key} not written yet")
            return False
        except Exception as exc:  # store down: keep playing with what we have
            self.summary.poll_errors += 1
            self.summary.last_error = f"poll: {exc.__class__.__name__}: {exc}"[:500]
            return False
        try:
            desired = open_document(raw, DesiredState, self._trusted_keys())
        except (UntrustedDocument, KeyFormatError, LookupError) as exc:
            self.summary.poll_errors += 1
            self.summary.last_error = f"desired state {key} refused: {exc}"[:500]
            return False
        self.etag, self.desired = etag, desired
        self.summary.desired_generation, self.summary.target_revision = desired.generation, desired.target_revision
        self._load_catalog()
        self.fail_cache.clear()
        self.log(f"desired state generation {desired.generation}: revision {desired.target_revision}, "
                 f"wave {desired.wave}, {len(desired.node_tiers)} node(s)")
        return True

    def _load_catalog(self) -> None:
        assert self.desired is not None
        try:
            load_catalog(self.store, self.desired, self.catalog, self.module_sizes, self.prefix)
        except Exception as exc:  # store down while reading bundles: nodes wait, we retry
            self.summary.poll_errors += 1
            self.summary.last_error = f"bundles: {exc.__class__.__name__}: {exc}"[:500]

    def refresh_nodes(self, now: float, force: bool = False) -> None:
        assert self.desired is not None
        tiers = frozenset(self.desired.node_tiers)
        lister_due = self.node_lister is not None and (
            self.known_at is None or now - self.known_at >= self.node_refresh_seconds
            or (tiers - self.known_tiers and any(n not in (self.known or {}) for n in tiers)))
        if lister_due:
            try:
                self.known = self.node_lister()
                self.known_at = now
            except Exception as exc:
                self.summary.last_error = f"node list: {exc.__class__.__name__}: {exc}"[:500]
                self.known_at = now
        if not (force or lister_due or tiers != self.known_tiers):
            return
        self.known_tiers = tiers
        wanted = played_nodes(self.desired, self.node_source, self.known, self.exclude)
        for name in list(self.nodes):
            if name not in wanted:
                del self.nodes[name]
        for name, site in wanted.items():
            if name in self.nodes:
                self.nodes[name].site = site
            else:
                self.nodes[name] = NodeSim(name=name, site=site)
        self.roles = roles_for(self.nodes, self.cfg)
        self.fail_cache.clear()

    # -- one step ---------------------------------------------------------
    def _fails(self, node: str, revision: int) -> bool:
        return fails_revision(node, revision, self.nodes, self.cfg, self.fail_cache)

    def step(self, now: float, pool: ThreadPoolExecutor | None = None) -> list[AgentReport]:
        """Advance every node, write the reports that are due; returns them."""
        changed = False
        if now >= self.next_poll:
            changed = self.poll(now)
        if self.desired is None:
            return []
        self.refresh_nodes(now, force=changed)
        desired = self.desired
        interval = self.cfg.report_interval_seconds or desired.report_interval_seconds
        silent_from = self.started + self.cfg.silent_after_seconds
        canary = set(desired.canary_nodes)
        due: list[NodeSim] = []
        for node in self.nodes.values():
            advance(node, desired, now, self.cfg, self.catalog, late=node.name in self.roles.late, fails=self._fails,
                    canary=canary)
            if node.name in self.roles.silent and now >= silent_from:
                continue
            if report_due(node, now, interval, self.cfg.interval_jitter, self.cfg.seed, self.cfg.report_slots):
                due.append(node)
        wall = self.wall()
        reports = [build_report(n, self.fleet, desired, now, wall, self.cfg) for n in due]
        self._write(reports, pool)
        self.summary.ticks += 1
        return reports

    def _write(self, reports: list[AgentReport], pool: ThreadPoolExecutor | None) -> None:
        def put(report: AgentReport) -> tuple[str, int, str]:
            data = report.model_dump_json(exclude_none=True).encode()
            key = self.prefix + StoreLayout.agent_report(self.namespace, self.fleet, report.node)
            try:
                self.store.put(key, data, metadata=report_summary_metadata(report) if self.cfg.report_metadata else None)
                return report.node, len(data), ""
            except Exception as exc:  # counted; the node reports again next tick
                return report.node, 0, f"{exc.__class__.__name__}: {exc}"

        results = list(pool.map(put, reports)) if pool is not None and len(reports) > 1 else [put(r) for r in reports]
        for name, size, error in results:
            node = self.nodes.get(name)
            if error:
                self.summary.report_errors += 1
                self.summary.last_error = f"report {name}: {error}"[:500]
                if node is not None:
                    node.last_reported = None  # due again at the next tick
            else:
                self.summary.reports_written += 1
                if node is not None:
                    node.bytes_up += size

    # -- stop conditions and the run --------------------------------------
    def reached(self, revision: int) -> bool:
        """Every played node that is expected to report serves ``revision`` or newer (nodes that
        failed it, or stopped reporting, are not waited for)."""
        if not self.nodes:
            return False
        for node in self.nodes.values():
            if node.name in self.roles.silent or (node.failed_revision is not None and node.failed_revision >= revision):
                continue
            if node.revision is None or node.revision < revision or node.last_reported != node.snapshot_key():
                return False
        return True

    def finish_summary(self) -> SimSummary:
        s = self.summary
        s.nodes = len(self.nodes)
        s.elapsed_s = round(self.clock() - self.started, 3)
        s.states = dict(sorted(Counter(n.state for n in self.nodes.values()).items()))
        s.revisions = dict(sorted(Counter(str(n.revision) for n in self.nodes.values()).items()))
        s.bytes_down_total = sum(n.bytes_down for n in self.nodes.values())
        return s

    def run(self, max_seconds: float | None = None, until_revision: int | None = None) -> SimSummary:
        with ThreadPoolExecutor(max_workers=max(1, self.workers), thread_name_prefix="sim-put") as pool:
            while True:
                t0 = self.clock()
                self.step(t0, pool)
                if until_revision is not None and self.reached(until_revision):
                    self.summary.stopped_because = f"every played node reached revision {until_revision}"
                    break
                if max_seconds is not None and self.clock() - self.started >= max_seconds:
                    self.summary.stopped_because = f"--max-seconds {max_seconds:g} elapsed"
                    break
                self.sleep(max(0.0, self.tick_seconds - (self.clock() - t0)))
        return self.finish_summary()
