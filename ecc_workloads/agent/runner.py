"""The edge agent: follows the fleet's DesiredState, serves its tier's bundle, learns
locally and reports.

Loop (``EdgeAgent.run``; one ``tick`` per second or so):

1. every ``poll_interval_seconds``: one HEAD of the desired state (ETag); only a changed
   ETag reads and parses it;
2. pick this node's revision and tier (``DesiredState.revision_for`` / ``tier_for``); if it
   differs from what is served, read the manifest, fetch only the modules not held, verify
   every hash, build the model fully, then swap it in (requests never fail during a swap).
   A module with a wrong hash is refused: the current model keeps serving, the report says
   Degraded and why, and the same target is not retried until the desired state changes;
3. flush the spool (reports and deltas written while the store was down), in order;
4. every ``report_interval_seconds``: write an AgentReport (through the spool when the store
   is unreachable); ``seq`` grows with every report made and survives restarts;
5. start a local adaptation when one is due (see agent_learning).

The store is anything with ``get(key) -> bytes``, ``put(key, bytes)`` and
``etag(key) -> str | None`` (:class:`AgentStore`): :class:`S3AgentStore` wraps
``store.Store`` (MinIO), :class:`LocalAgentStore` a directory. Unreachable means
``store.StoreUnavailable``; the agent then keeps serving what it has. On start, the last good
model is loaded from local disk before the store is asked anything.

Reports hold counts and sizes only — never text, token ids or embeddings.

Local state (``state_dir``, meant to be a node-local volume that outlives the pod) is durable and
bounded: modules (an LRU cache that never evicts the served or loading model's modules), the
last good model (``current.json``), the report sequence (``report-seq``), the spool with its
dead letters, and the feedback journal; every file is written to a temp name, fsynced and
renamed, and its directory fsynced (see agent_spool, agent_model). A full disk fails the write
that needed room — a load, a spooled report, a feedback request (503) — never the serving.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
import torch
from pydantic import BaseModel

from ecc_workloads.agent import model as agent_model
from ecc_workloads.learning import modular
from ecc_workloads.agent.learning import Learner, TeacherClient
from ecc_workloads.agent.model import CurrentRecord, ModelHolder, ModuleCache, ServingModel
from ecc_workloads.agent.server import AgentMetrics, BadField, NotReady
from ecc_workloads.agent.spool import (
    METRIC_CACHE_BYTES,
    METRIC_CACHE_EVICTIONS,
    METRIC_DEAD_LETTERS,
    METRIC_DEAD_LETTERS_HELD,
    METRIC_SPOOL_BYTES,
    METRIC_SPOOL_DROPPED,
    METRIC_SPOOL_REFUSED,
    FeedbackJournal,
    Outbox,
    Spool,
    SpoolFull,
    SpoolLimits,
    write_durably,
)
from ecc_workloads.learning.bundles import BucketKeys, BundleError, LocalDirStore
from ecc_workloads.contracts import (
    AgentReport,
    AgentStateLimits,
    BundleManifest,
    DesiredState,
    DesiredTier,
    IntentPrediction,
    LatencySummary,
    PredictResponse,
    StoreLayout,
    report_object_metadata,
)
from ecc_workloads.release_signing import UntrustedDocument, open_document
from ecc_workloads.store import StoreError, StoreUnavailable

log = logging.getLogger("ecc.agent")

DEFAULT_POLL_SECONDS = 10
DEFAULT_REPORT_SECONDS = 30
SEQ_FILE = "report-seq"
FOLLOWED_FILE = "followed.json"
"""The newest desired state the agent accepted (fleet uid, generation): a replay of an older
signed one is refused after a restart too."""


class Followed(BaseModel):
    """What FOLLOWED_FILE holds."""

    version: Literal[1] = 1
    fleet_uid: str | None
    generation: int
LOCAL_RETRY_SECONDS = 60


# ---------------------------------------------------------------------- the store interface
class AgentStore(Protocol):
    """What the agent needs from the object store, by key inside the bucket.

    ``get`` raises KeyError or ``store.KeyNotFound`` for a missing key and
    ``store.StoreUnavailable`` when the store cannot be reached (so do the others)."""

    def get(self, key: str) -> bytes: ...

    def put(self, key: str, data: bytes) -> None: ...

    def etag(self, key: str) -> str | None: ...


class S3AgentStore(BucketKeys):
    """``store.Store`` (MinIO / S3) as an AgentStore: the bundles' keys in its bucket, plus ETags. A
    report is written with its summary as the object's user metadata
    (``contracts.report_object_metadata``), which the operator reads from its listing instead of
    GETting every changed report."""

    def put(self, key: str, data: bytes) -> None:
        content_type = "application/json" if key.endswith(".json") else "application/octet-stream"
        self.store.put_bytes(self.store.uri(key), data, content_type=content_type,
                             metadata=report_object_metadata(key, data))

    def etag(self, key: str) -> str | None:
        return self.store.etag(self.store.uri(key))


class LocalAgentStore(LocalDirStore):
    """A local directory in the store's layout as an AgentStore (offline runs, tests)."""

    def etag(self, key: str) -> str | None:
        path = self._path(key)
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        return f"{st.st_mtime_ns:x}-{st.st_size:x}"


# ---------------------------------------------------------------------- pure decisions
def target_for(desired: DesiredState, node: str) -> tuple[int, DesiredTier] | str:
    """(revision, tier) this node should serve, or why it should not change what it serves."""
    revision = desired.revision_for(node)
    if revision is None:
        if node not in desired.node_tiers:
            return f"node {node!r} is not in the fleet's node_tiers: serving nothing new"
        return f"no revision for node {node!r} yet (wave {desired.wave}, no previous revision)"
    tier = desired.tier_for(node, revision)
    if tier is None:
        return f"tier {desired.node_tiers.get(node)!r} has no bundle at revision {revision}"
    return revision, tier


def needs_load(current: ServingModel | None, revision: int, tier: DesiredTier) -> bool:
    return current is None or current.revision != revision or current.manifest_key != tier.manifest_key


def agent_state(has_model: bool, loading: bool, problems: dict[str, str]) -> str:
    if loading:
        return "Updating"
    if not has_model:
        return "Failed" if "bundle" in problems else "Starting"
    return "Degraded" if problems else "Ready"


def latency_summary(latencies_ms: list[float], confidences: list[float]) -> LatencySummary:
    if not latencies_ms:
        return LatencySummary()
    arr = np.asarray(latencies_ms, dtype=float)
    return LatencySummary(
        count=len(latencies_ms), p50_ms=float(np.percentile(arr, 50)), p95_ms=float(np.percentile(arr, 95)),
        mean_confidence=float(min(1.0, max(0.0, np.mean(confidences)))) if confidences else None,
    )


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


# ---------------------------------------------------------------------- the agent
@dataclass
class AgentConfig:
    node: str
    fleet: str
    namespace: str
    state_dir: Path
    teacher_model: str | None = None
    """model name of the served teacher; None: DesiredState.teacher (the operator serves it under that name)"""
    max_length: int = 64
    max_spooled_reports: int = AgentStateLimits.SPOOL_MAX_REPORTS
    spool_max_bytes: int = AgentStateLimits.SPOOL_MAX_BYTES
    dead_letter_after: int = AgentStateLimits.DEAD_LETTER_AFTER
    dead_letter_max_bytes: int = AgentStateLimits.DEAD_LETTER_MAX_BYTES
    module_cache_max_bytes: int | None = AgentStateLimits.MODULE_CACHE_MAX_BYTES
    """None: unbounded"""
    feedback_journal: bool = True
    """keep accepted feedback on local disk until the served revision changes (replayed on restart)"""
    feedback_journal_max_bytes: int = AgentStateLimits.FEEDBACK_JOURNAL_MAX_BYTES
    release_keys: tuple = ()
    """public keys (release_signing.parse_trusted_keys) whose signature the desired state must carry;
    none: every desired state is refused"""


class StateUnavailable(NotReady):
    """The agent could not record something on its local disk (full): not accepted (503)."""


class _StateCollector:
    """The local state's gauges and counters, read at scrape time (cheap: no snapshot)."""

    def __init__(self, agent: "EdgeAgent"):
        self.agent = agent

    def collect(self):
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        a = self.agent
        labels, values = ["fleet", "node"], [a.config.fleet, a.config.node]
        spool = a.outbox.spool
        for kind, name, doc, value in (
            (GaugeMetricFamily, METRIC_SPOOL_BYTES, "bytes of reports and deltas waiting on local disk", spool.bytes),
            (CounterMetricFamily, METRIC_SPOOL_DROPPED, "spooled items dropped to stay within the spool's bounds "
             "(superseded, or old reports)", spool.dropped_total),
            (CounterMetricFamily, METRIC_SPOOL_REFUSED, "writes neither delivered nor spooled (spool or disk full)",
             spool.refused_total),
            (CounterMetricFamily, METRIC_DEAD_LETTERS, "spooled items dead-lettered (failing permanently or "
             "unreadable)", spool.dead_letters_total),
            (GaugeMetricFamily, METRIC_DEAD_LETTERS_HELD, "dead letters kept on local disk", len(spool.dead_letters())),
            (GaugeMetricFamily, METRIC_CACHE_BYTES, "bytes of modules held on local disk", a.cache.bytes()),
            (CounterMetricFamily, METRIC_CACHE_EVICTIONS, "modules evicted from the local cache (LRU)",
             a.cache.evictions_total),
        ):
            m = kind(name, doc, labels=labels)
            m.add_metric(values, value)
            yield m


class EdgeAgent:
    def __init__(self, config: AgentConfig, store: AgentStore, clock=time.time):
        self.config = config
        self.store = store
        self.clock = clock
        state = Path(config.state_dir)
        state.mkdir(parents=True, exist_ok=True)
        for stale in state.glob("*.tmp"):  # current.json, report-seq, journal writes cut short by a crash
            stale.unlink(missing_ok=True)
        self.cache = ModuleCache(state, max_bytes=config.module_cache_max_bytes)
        self.holder = ModelHolder()
        limits = SpoolLimits(max_reports=config.max_spooled_reports, max_bytes=config.spool_max_bytes,
                             dead_letter_after=config.dead_letter_after, dead_max_bytes=config.dead_letter_max_bytes)
        self.outbox = Outbox(Spool(state / "spool", limits=limits), store.put)
        self.journal = FeedbackJournal(state, max_bytes=config.feedback_journal_max_bytes) \
            if config.feedback_journal else None
        self.reports_refused = 0
        self.documents_refused = 0
        self.metrics = AgentMetrics(config.fleet, config.node)
        self.learner = Learner(config.node, config.namespace, config.fleet, on_adapted=self._on_adapted,
                               send_delta=lambda key, blob: self.outbox.send("delta", key, blob),
                               teacher=TeacherClient(config.teacher_model))
        self.desired: DesiredState | None = None
        self.desired_etag: str | None = None
        self.applied_generation: int | None = None
        self.problems: dict[str, str] = {}
        self.notes: dict[str, str] = {}
        self.loading = False
        self._refused: tuple[int, str] | None = None  # (generation, manifest key) not to retry
        self._local_retry_at = 0.0  # after a local disk error: no load before this time
        self._swap_lock = threading.Lock()
        self._stats_lock = threading.Lock()
        self._latencies: list[float] = []
        self._confidences: list[float] = []
        self.requests_total = 0
        self.bytes_down = 0
        self._recent: OrderedDict[str, str] = OrderedDict()  # sha256(text) -> predicted label, local only
        self._seq_path = state / SEQ_FILE
        self.followed = self._read_followed()
        self.seq = self._read_seq()
        self._next_poll = 0.0
        self._next_report = 0.0
        self.metrics.attach(self.snapshot, lambda: self.holder.swaps)
        self.metrics.registry.register(_StateCollector(self))

    # -- persistence ---------------------------------------------------------------
    def _read_seq(self) -> int:
        """The last report's seq: the highest of ``report-seq``, its copy and the reports still on
        local disk, so seq never goes back while any trace of it is left (a copy may be damaged)."""
        values, damaged = [], False
        for path in (self._seq_path, self._seq_path.with_name(SEQ_FILE + ".bak")):
            try:
                values.append(int(path.read_text().strip()))
            except FileNotFoundError:
                continue
            except (ValueError, OSError) as err:
                damaged = True
                log.warning("%s unreadable: %s", path, err)
        if damaged:
            self.notes["seq"] = f"{SEQ_FILE} was unreadable: report seq continues after the newest one on disk"
        return max(values + [self._seq_from_spool()])

    def _refuse_desired(self, key: str, etag: str, why: str) -> bool:
        """Not followed (the agent keeps serving what it has): Degraded, counted, not read again
        until the document changes."""
        self.documents_refused += 1
        self.problems["desired"] = f"desired state {key} refused: {why}"[:400]
        self.desired_etag = etag
        log.warning("%s", self.problems["desired"])
        return False

    def _read_followed(self) -> Followed | None:
        try:
            return Followed.model_validate_json((Path(self.config.state_dir) / FOLLOWED_FILE).read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as err:  # damaged: the in-memory floor still holds from the first poll
            self.notes["followed"] = f"{FOLLOWED_FILE} unreadable ({err}); replays are refused from the next poll"
            return None

    def _remember_followed(self, desired: DesiredState) -> None:
        followed = Followed(fleet_uid=desired.fleet_uid, generation=desired.generation)
        if followed == self.followed:
            return
        self.followed = followed
        try:
            write_durably(Path(self.config.state_dir) / FOLLOWED_FILE, followed.model_dump_json().encode())
            self.notes.pop("followed", None)
        except OSError as err:  # still refused while this process lives
            self.notes["followed"] = f"could not remember generation {desired.generation} on local disk: {err}"

    def _seq_from_spool(self) -> int:
        """The highest seq of the reports on local disk (spooled or dead-lettered): never go back."""
        best = 0
        spool = self.outbox.spool
        reports = [it.path for it in spool.items() if it.kind == "report"]
        dead = [p for p in spool.dead_letters() if p.name.endswith("-report.item")]
        for paths in (reports, dead):  # spooled in seq order: the newest readable one of each is enough
            for path in reversed(paths):
                try:
                    best = max(best, AgentReport.model_validate_json(path.read_bytes().partition(b"\n")[2]).seq)
                    break
                except (OSError, ValueError):
                    continue
        return best

    def _write_seq(self) -> None:
        try:
            write_durably(self._seq_path, str(self.seq).encode())
            write_durably(self._seq_path.with_name(SEQ_FILE + ".bak"), str(self.seq).encode())
        except OSError as err:  # a full disk: the report still goes out; seq lives on in memory
            log.warning("could not write %s: %s", self._seq_path, err)

    def restore(self) -> bool:
        """Serve the last good model from local disk (before the store is asked anything)."""
        record = agent_model.load_current(self.config.state_dir)
        if record is None or not self.cache.holds(record.manifest):
            return False
        try:
            model = agent_model.load_serving_model(self.cache, record.manifest, record.tier, record.manifest_key,
                                                   record.reference, self.config.max_length)
        except (BundleError, OSError, ValueError) as err:
            self.notes["restore"] = f"could not restore the last model from disk: {err}"
            return False
        self._publish(model)
        self.applied_generation = record.desired_generation
        self._replay_feedback(model)
        self._trim_cache()
        log.info("restored revision %s (%s) from local disk", model.revision, model.profile)
        return True

    def _replay_feedback(self, model: ServingModel) -> int:
        """Feed the journal's items (accepted before a restart) to the learner again."""
        if self.journal is None:
            return 0
        entries = self.journal.entries(model.revision, model.manifest_key)
        before = self.learner.counters.feedback_total
        for e in entries:
            predicted = e.get("predicted")
            self.learner.add_feedback(e["text"], e["label"], predicted if isinstance(predicted, str) else None,
                                      bool(e.get("cloud_assist")))
        self.learner.counters.feedback_total = before  # received by this process: none of these
        if entries:
            log.info("replayed %d feedback items from the journal", len(entries))
        return len(entries)

    def _trim_cache(self) -> None:
        """Keep the module cache within its cap, never evicting the served model's modules."""
        try:
            self.cache.evict(agent_model.manifest_shas(self.holder.current.manifest if self.holder.current else None))
        except OSError as err:
            log.warning("module cache not trimmed: %s", err)

    # -- serving -------------------------------------------------------------------
    def ready(self) -> bool:
        return self.holder.current is not None

    def _publish(self, model: ServingModel) -> None:
        with self._swap_lock:
            self.holder.swap(model)
        self.learner.on_model(model)
        if self.journal is not None:
            try:
                self.journal.start(model.revision, model.manifest_key)
            except OSError as err:  # feedback is refused (503) until the journal can be written
                log.warning("feedback journal not started: %s", err)

    def _on_adapted(self, base: ServingModel, adapted_encoder) -> bool:
        """Serve a locally adapted model if its base is still the model being served."""
        predictor = agent_model.build_predictor(adapted_encoder, base.manifest, self.config.max_length)
        with self._swap_lock:
            current = self.holder.current
            if current is None or current.manifest_key != base.manifest_key or current.revision != base.revision:
                return False
            self.holder.swap(ServingModel(predictor=predictor, manifest=base.manifest, tier=base.tier,
                                          manifest_key=base.manifest_key, reference=base.reference,
                                          adapted=True, base=base.base))
        return True

    def predict(self, texts: list[str], learn: bool = True) -> PredictResponse:
        started = time.perf_counter()
        try:
            model, probs, unit = self.holder.forward(list(texts))
        except RuntimeError as err:
            if self.holder.current is None:
                raise NotReady("no model loaded yet: the agent is still fetching its bundle") from err
            raise
        seconds = time.perf_counter() - started
        best = torch.argmax(probs, dim=-1).tolist()
        confs = [float(probs[i, b]) for i, b in enumerate(best)]
        labels = [model.labels[b] for b in best]
        signal = self._signal()
        for i, (b, c) in enumerate(zip(best, confs) if learn else ()):
            self.learner.window.add_prediction(c, b, unit[i].numpy() if signal == "embedding-shift" else None)
        with self._stats_lock:
            self.requests_total += 1
            self._latencies.append(seconds * 1000.0)
            self._confidences.extend(confs)
            for text, label in zip(texts, labels) if learn else ():
                self._recent[_text_key(text)] = label
                self._recent.move_to_end(_text_key(text))
            while len(self._recent) > 4096:
                self._recent.popitem(last=False)
        self.metrics.observe(seconds, confs)
        if learn:
            self._maybe_assist(model, texts, labels, confs)
        return PredictResponse(
            predictions=[IntentPrediction(label=l, confidence=min(1.0, max(0.0, c))) for l, c in zip(labels, confs)],
            revision=model.revision, profile=model.profile, adapted=model.adapted,
        )

    def _signal(self) -> str:
        a = self.desired.adaptation if self.desired else None
        return a.drift_signal if a else "confidence"

    def _maybe_assist(self, model: ServingModel, texts, labels, confs) -> None:
        d = self.desired
        if d is None or not d.privacy.cloud_assist or not d.teacher_url:
            return
        low = [i for i, c in enumerate(confs) if c < d.privacy.assist_below_confidence]
        if low:
            self.learner.assist(d.teacher_url, [texts[i] for i in low], [labels[i] for i in low], d.privacy,
                                model.labels, model_name=d.teacher, protocol=d.teacher_protocol,
                                ca_pem=d.teacher_ca_pem)

    def feedback(self, text: str, label: str) -> None:
        model = self.holder.current
        if model is None:
            raise NotReady("no model loaded yet: feedback needs the model's label set")
        if label not in model.labels:
            shown = ", ".join(model.labels[:20]) + (" …" if len(model.labels) > 20 else "")
            raise BadField("label", f"unknown intent {label!r}; the served model knows: {shown}")
        with self._stats_lock:
            predicted = self._recent.get(_text_key(text))
        if predicted is None:
            _, probs, _ = self.holder.forward([text])
            predicted = model.labels[int(torch.argmax(probs[0]))]
        d = self.desired
        cloud_assist = bool(d and d.privacy.cloud_assist)
        if self.journal is not None:  # accepted only once it is on disk: a restart learns from it too
            try:
                self.journal.append(model.revision, model.manifest_key,
                                    {"text": text, "label": label, "predicted": predicted,
                                     "cloud_assist": cloud_assist})
            except OSError as err:
                raise StateUnavailable(f"feedback not recorded: the agent's local disk refused it ({err}); "
                                       "retry later") from err
        self.learner.add_feedback(text, label, predicted, cloud_assist)
        if d is not None:
            self.learner.maybe_adapt(d.adaptation, d.privacy)

    # -- following the desired state -----------------------------------------------
    def poll(self) -> bool:
        """Read the desired state if its ETag changed; True if a new document was read."""
        key = StoreLayout.desired_state(self.config.namespace, self.config.fleet)
        etag = self.store.etag(key)
        if etag is None:
            self.notes["desired"] = f"no desired state at {key} yet"
            return False
        if etag == self.desired_etag and self.desired is not None:
            return False
        try:
            desired = open_document(self.store.get(key), DesiredState, self.config.release_keys)
        except StoreUnavailable:
            raise
        except (KeyError, StoreError) as err:
            self.notes["desired"] = f"desired state {key} vanished: {err}"
            return False
        except UntrustedDocument as err:  # keeps following (and serving) the last one it trusted
            return self._refuse_desired(key, etag, str(err)[:300])
        if (desired.namespace, desired.fleet) != (self.config.namespace, self.config.fleet):
            # signed, but for another fleet: replayed from elsewhere
            return self._refuse_desired(key, etag, f"it is signed for fleet {desired.namespace}/{desired.fleet}")
        floor = self.followed
        if floor is not None and floor.fleet_uid == desired.fleet_uid and desired.generation < floor.generation:
            # an older signed document put back: never go back
            return self._refuse_desired(key, etag, f"generation {desired.generation} is older than the one "
                                                   f"followed ({floor.generation})")
        self._remember_followed(desired)
        self.problems.pop("desired", None)
        self.notes.pop("desired", None)
        self.desired, self.desired_etag = desired, etag
        if desired.adaptation is not None:
            self.learner.window.window_seconds = desired.adaptation.drift_window_seconds
        return True

    def apply(self) -> None:
        """Load this node's target if it is not what is served."""
        d = self.desired
        if d is None:
            return
        target = target_for(d, self.config.node)
        if isinstance(target, str):
            self.notes["target"] = target
            return
        self.notes.pop("target", None)
        revision, tier = target
        if not needs_load(self.holder.current, revision, tier):
            self.applied_generation = d.generation
            self.problems.pop("bundle", None)
            return
        if self._refused == (d.generation, tier.manifest_key):
            return
        if self.clock() < self._local_retry_at:
            return
        self.loading = True
        try:
            model = self._load(tier)
        except StoreUnavailable:
            raise
        except (BundleError, KeyError, StoreError, ValueError, OSError) as err:
            if isinstance(err, OSError):  # local disk (full?): try again later, not only on a new desired state
                self._local_retry_at = self.clock() + LOCAL_RETRY_SECONDS
            else:
                self._refused = (d.generation, tier.manifest_key)
                if isinstance(err, modular.TokenizerError):
                    self.documents_refused += 1
            served = self.holder.current
            keep = f"; still serving revision {served.revision}" if served else ""
            self.problems["bundle"] = f"revision {revision} ({tier.profile}) refused: {err}{keep}"[:600]
            log.warning("%s", self.problems["bundle"])
            return
        finally:
            self.loading = False
        # remembered before it serves (it is whole and verified): a crash in between restarts on it,
        # and the feedback journal is never for a newer model than current.json names
        try:
            agent_model.save_current(self.config.state_dir, CurrentRecord(
                manifest=model.manifest, manifest_key=model.manifest_key, tier=model.tier,
                desired_generation=d.generation, reference=model.reference))
            self.notes.pop("current", None)
        except OSError as err:  # serving it all the same; a restart serves the previous one first
            self.notes["current"] = f"could not remember revision {model.revision} on local disk: {err}"[:300]
        self._publish(model)
        self.applied_generation = d.generation
        self.problems.pop("bundle", None)
        self._local_retry_at = 0.0
        self._trim_cache()
        log.info("serving revision %s (%s, tier %s)", model.revision, model.profile, model.tier)

    def _read(self, key: str) -> bytes:
        data = self.store.get(key)
        self.bytes_down += len(data)
        return data

    def _load(self, tier: DesiredTier) -> ServingModel:
        raw = self._read(tier.manifest_key)
        if hashlib.sha256(raw).hexdigest() != tier.manifest_sha256:
            self.documents_refused += 1
            raise BundleError(f"manifest {tier.manifest_key} does not match the sha256 the signed desired state "
                              f"pins ({tier.manifest_sha256[:16]}…)")
        manifest = BundleManifest.model_validate_json(raw)
        if manifest.profile != tier.profile:
            raise ValueError(f"manifest {tier.manifest_key} is for profile {manifest.profile!r}, tier says {tier.profile!r}")
        served = self.holder.current
        self.cache.fetch_missing(manifest, self.store.get,
                                 keep=agent_model.manifest_shas(served.manifest if served else None))
        reference = None
        self.notes.pop("reference", None)
        if tier.drift_reference_key:
            try:
                reference = agent_model.parse_reference(self._read(tier.drift_reference_key), manifest)
            except StoreUnavailable:
                raise
            except (KeyError, StoreError, ValueError) as err:
                if isinstance(err, agent_model.UnpinnedReference):
                    self.documents_refused += 1
                self.notes["reference"] = f"no drift score: reference {tier.drift_reference_key}: {str(err)[:200]}"
        return agent_model.load_serving_model(self.cache, manifest, tier, tier.manifest_key, reference,
                                              self.config.max_length)

    # -- reports -------------------------------------------------------------------
    def message(self) -> str:
        parts = list(self.problems.values())
        if self.outbox.store_ok is False:
            parts.append(f"store unreachable ({self.outbox.last_error[:200]}); "
                         f"serving from local disk, {self.outbox.depth} writes spooled")
        if self.learner.counters.last_error:
            parts.append(self.learner.counters.last_error)
        spool = self.outbox.spool
        if spool.dead_letters_total:
            parts.append(f"{spool.dead_letters_total} spooled writes dead-lettered (last: {spool.last_dead_reason[:160]})")
        if self.reports_refused:
            parts.append(f"{self.reports_refused} reports neither written nor spooled (local disk full)")
        if self.cache.over_cap:
            parts.append(self.cache.over_cap)
        parts += list(self.notes.values())
        return "; ".join(parts)[:1024]

    def snapshot(self, seq: int | None = None, consume: bool = False) -> AgentReport:
        """The current report (``consume`` resets the latency interval)."""
        model = self.holder.current
        with self._stats_lock:
            latency = latency_summary(self._latencies, self._confidences)
            if consume:
                self._latencies, self._confidences = [], []
            requests = self.requests_total
        signal = self._signal()
        score, window = (None, None)
        if model is not None:
            try:
                score, window = self.learner.window.score(signal, model.reference)
            except ValueError as err:
                self.notes["drift"] = f"drift not computed: {err}"
        problems = dict(self.problems)
        if self.outbox.store_ok is False:
            problems["store"] = "unreachable"
        if self.learner.counters.last_error:
            problems["learning"] = self.learner.counters.last_error
        c = self.learner.counters
        return AgentReport(
            node=self.config.node, fleet=self.config.fleet, seq=max(1, seq if seq is not None else self.seq),
            time=utc_now(), state=agent_state(model is not None, self.loading, problems), message=self.message(),
            tier=model.tier if model else None, profile=model.profile if model else None,
            revision=model.revision if model else None, desired_generation=self.applied_generation,
            drift_score=None if score is None else min(1.0, max(0.0, score)), drift_signal=signal,
            window=window, latency=latency, requests_total=requests, feedback_total=c.feedback_total,
            assists_total=c.assists_total, assists_failed_total=self.learner.teacher.failed,
            adaptations_total=c.adaptations_total, adapted_samples=c.adapted_samples,
            delta_revision=c.delta_revision, bytes_down=self.bytes_down + self.cache.bytes_down,
            bytes_up=self.outbox.bytes_up, modules_rejected=self.cache.modules_rejected,
            documents_refused=self.documents_refused,
            spool_depth=self.outbox.depth, spool_flushed_total=self.outbox.flushed_total,
            spool_bytes=self.outbox.spool.bytes, spool_dropped_total=self.outbox.spool.dropped_total,
            spool_refused_total=self.outbox.spool.refused_total,
            dead_letters_total=self.outbox.spool.dead_letters_total, cache_bytes=self.cache.bytes(),
            cache_evictions_total=self.cache.evictions_total,
        )

    def report(self) -> AgentReport:
        """Make the next report and write it (or spool it)."""
        self.seq += 1
        self._write_seq()
        rep = self.snapshot(seq=self.seq, consume=True)
        key = StoreLayout.agent_report(self.config.namespace, self.config.fleet, self.config.node)
        try:
            self.outbox.send("report", key, rep.model_dump_json().encode())
        except SpoolFull as err:  # neither written nor kept: the next report supersedes it
            self.reports_refused += 1
            log.warning("report %d not kept: %s", rep.seq, err)
        return rep

    # -- the loop ----------------------------------------------------------------------
    def tick(self) -> None:
        now = self.clock()
        d = self.desired
        if now >= self._next_poll:
            self._next_poll = now + (d.poll_interval_seconds if d else DEFAULT_POLL_SECONDS)
            try:
                if self.outbox.depth:
                    self.outbox.flush()
                self.poll()
                self.apply()
                self.outbox.store_ok = True if self.outbox.depth == 0 else self.outbox.store_ok
            except StoreUnavailable as err:
                self.outbox.store_ok = False
                self.outbox.last_error = f"{err.__class__.__name__}: {err}"[:300]
                self.loading = False
        d = self.desired
        if d is not None:
            self.learner.maybe_adapt(d.adaptation, d.privacy)
        if now >= self._next_report:
            self._next_report = now + (d.report_interval_seconds if d else DEFAULT_REPORT_SECONDS)
            self.report()

    def run(self, stop: threading.Event, max_seconds: float | None = None, step: float = 0.5) -> None:
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        while not stop.is_set():
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - the loop must survive anything and keep serving
                log.exception("agent tick failed")
            if deadline is not None and time.monotonic() >= deadline:
                break
            stop.wait(step)

    def close(self) -> None:
        self.learner.close()


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
