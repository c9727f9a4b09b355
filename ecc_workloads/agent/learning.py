"""What the edge agent learns on the node: drift window, feedback, LoRA adaptation, uploads,
and cloud assist.

- :class:`DriftWindow` counts predictions (top confidence, predicted label, and — only for the
  ``embedding-shift`` signal — the unit sentence embedding, which never leaves the node) and
  feedback judgements over the trailing ``drift_window_seconds``, and turns them into a
  :class:`contracts.WindowStats` and a score with :mod:`ecc_workloads.learning.drift` against the
  revision's :class:`contracts.ReferenceStats`. The policy's ``drift_signal`` picks the score:

  ============== ===========================================================================
  confidence     drift's ``confidence`` component (PSI of the confidence histogram)
  label-shift    drift's ``labels`` component (PSI of the predicted-label mix)
  feedback-error drift's ``errors`` component (feedback error rate above the reference's)
  embedding-shift ``1 - exp(-d / 0.05)`` with ``d`` the cosine distance between the mean unit
                 embedding of the window and of the first 100 predictions this revision served
                 (no reference needed; computed on the node only)
  ============== ===========================================================================

- :class:`Learner` keeps the feedback of the revision being served (a new revision starts an
  empty buffer), adapts with LoRA (:func:`adapt.adapt_locally`) in one background thread once
  ``min_samples`` usable rows exist, and again each time they double (rule: adapt at
  ``n >= min_samples``, then at ``n >= 2 * n_at_last_adaptation``; user/agent corrections are
  always usable, teacher pseudo-labels only with cloud assist on and confidence >= 0.9). The
  adapted model is served locally (``on_adapted``) and, unless ``upload_deltas`` is off, its
  upload (:func:`deltas.build_upload`, checked to hold none of the feedback texts) goes to
  ``StoreLayout.delta`` through the outbox (spooled while the store is down).
- Cloud assist: a prediction below ``assist_below_confidence`` is sent (PII-scrubbed when
  ``scrub_before_assist``) to the served teacher's v2 endpoint in the background; its label
  becomes a pseudo-label in the buffer. Teacher failures never touch the request. The teacher
  is reached over HTTPS only and its certificate checked against ``DesiredState.teacher_ca_pem``
  (and only it): an ``http://`` URL or a desired state without the CA sends nothing (counted as
  a failed assist, logged once).
"""

from __future__ import annotations

import copy
import logging
import math
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ecc_workloads import tls
from ecc_workloads.learning import adapt, deltas, drift
from ecc_workloads.learning.adapt import FeedbackItem, LoraSettings
from ecc_workloads.learning.deltas import UploadSettings
from ecc_workloads.contracts import AdaptationSettings, PrivacySettings, ReferenceStats, StoreLayout, WindowStats

log = logging.getLogger("ecc.agent.learning")

TEACHER_MIN_CONFIDENCE = 0.9
"""Teacher pseudo-labels below this confidence are not trained on (adapt.select_training_rows)."""
EMBEDDING_BASELINE = 100
EMBEDDING_SCALE = 0.05
MAX_WINDOW_EVENTS = 20000
DEFAULT_TEACHER_MODEL = "ecc-intent"
"""Model name of ``ecc serve-teacher`` when started without ``--model-name``; the operator starts
it with the CloudTeacher's name, which the agent takes from ``DesiredState.teacher``."""
SIGNALS = ("confidence", "label-shift", "embedding-shift", "feedback-error")


# ---------------------------------------------------------------------- drift
def signal_score(signal: str, score: drift.DriftScore) -> float:
    """The component of a drift score the policy's signal names (embedding-shift is not one)."""
    key = {"confidence": "confidence", "label-shift": "labels", "feedback-error": "errors"}.get(signal)
    if key is None:
        raise ValueError(f"drift signal {signal!r} has no drift-score component (expected one of "
                         "confidence, label-shift, feedback-error)")
    return float(score.components[key])


def embedding_shift(baseline: np.ndarray, window: np.ndarray) -> float:
    """Score in [0, 1) from the cosine distance of two mean unit embeddings."""
    nb, nw = float(np.linalg.norm(baseline)), float(np.linalg.norm(window))
    if nb == 0 or nw == 0:
        return 0.0
    d = max(0.0, 1.0 - float(baseline @ window) / (nb * nw))
    return 1.0 - math.exp(-d / EMBEDDING_SCALE)


class DriftWindow:
    """Counts over the trailing window (thread-safe). Reset when the served revision changes."""

    def __init__(self, window_seconds: float = 900, clock: Callable[[], float] = time.time):
        self.window_seconds = window_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._preds: deque[tuple[float, float, int]] = deque(maxlen=MAX_WINDOW_EVENTS)
            self._embs: deque[tuple[float, np.ndarray]] = deque(maxlen=MAX_WINDOW_EVENTS)
            self._feedback: deque[tuple[float, bool]] = deque(maxlen=MAX_WINDOW_EVENTS)
            self._baseline_sum: np.ndarray | None = None
            self._baseline_n = 0

    def add_prediction(self, confidence: float, label_index: int, unit_embedding: np.ndarray | None = None) -> None:
        now = self.clock()
        with self._lock:
            self._preds.append((now, float(confidence), int(label_index)))
            if unit_embedding is not None:
                emb = np.asarray(unit_embedding, dtype=np.float32)
                if self._baseline_n < EMBEDDING_BASELINE:
                    self._baseline_sum = emb.copy() if self._baseline_sum is None else self._baseline_sum + emb
                    self._baseline_n += 1
                self._embs.append((now, emb))

    def add_feedback(self, wrong: bool) -> None:
        with self._lock:
            self._feedback.append((self.clock(), bool(wrong)))

    def _prune(self) -> None:
        cutoff = self.clock() - self.window_seconds
        for q in (self._preds, self._embs, self._feedback):
            while q and q[0][0] < cutoff:
                q.popleft()

    def stats(self, ref: ReferenceStats) -> WindowStats:
        with self._lock:
            self._prune()
            confs = [c for _, c, _ in self._preds]
            preds = [p for _, _, p in self._preds]
            fb = [w for _, w in self._feedback]
        return drift.window_stats(ref, confs, preds, feedback_total=len(fb), feedback_errors=sum(fb))

    def embedding_score(self) -> float | None:
        with self._lock:
            self._prune()
            if self._baseline_sum is None or not self._embs:
                return None
            window = np.mean([e for _, e in self._embs], axis=0)
            return embedding_shift(self._baseline_sum / self._baseline_n, window)

    def score(self, signal: str, ref: ReferenceStats | None) -> tuple[float | None, WindowStats | None]:
        """(score of ``signal`` or None when it cannot be computed, window counts or None)."""
        window = self.stats(ref) if ref is not None else None
        if signal == "embedding-shift":
            return self.embedding_score(), window
        if window is None:
            return None, None
        return signal_score(signal, drift.drift_score(ref, window)), window


# ---------------------------------------------------------------------- settings mapping
def lora_settings(a: AdaptationSettings, max_length: int = 64) -> LoraSettings:
    return LoraSettings(rank=a.lora_rank, alpha=a.lora_alpha, dropout=a.lora_dropout, targets=list(a.target_modules),
                        train_head=a.train_head, epochs=float(a.epochs), lr=a.learning_rate,
                        max_samples=a.max_samples, max_length=max_length)


def upload_settings(p: PrivacySettings) -> UploadSettings:
    """The upload's settings; raises ValueError (the adaptation's error: nothing is uploaded) where
    the EdgeFleet's rule would: upload_bits below 8 or upload_head_bits without quantize_uploads."""
    bits = 8 if p.upload_bits is None else p.upload_bits
    if not p.quantize_uploads and (bits < 8 or p.upload_head_bits is not None):
        raise ValueError("privacy.upload_bits below 8 and upload_head_bits need quantize_uploads "
                         "(they round the int8 values)")
    return UploadSettings(form=p.upload_form, rank=p.upload_rank, head_rank=p.upload_head_rank,
                          clip_norm=p.upload_clip_norm, noise_multiplier=p.upload_noise_multiplier,
                          int8=p.quantize_uploads, bits=bits, head_bits=p.upload_head_bits)


def adaptation_due(usable: int, min_samples: int, last_adapted_at: int) -> bool:
    """Adapt at ``min_samples`` usable rows, then each time they double."""
    if usable < min_samples:
        return False
    return last_adapted_at == 0 or usable >= 2 * last_adapted_at


def usable_for_training(item: FeedbackItem, cloud_assist: bool) -> bool:
    return bool(adapt.select_training_rows([item], cloud_assist, TEACHER_MIN_CONFIDENCE))


# ---------------------------------------------------------------------- cloud assist
def teacher_infer_url(teacher_url: str, model_name: str = DEFAULT_TEACHER_MODEL, protocol: str = "v2") -> str:
    """``http://host:port`` -> ``.../v2/models/<name>/infer`` (v2) or ``.../v1/models/<name>:predict``
    (v1); a URL already naming a model of that protocol is used as given."""
    url = teacher_url.rstrip("/")
    if protocol == "v1":
        if url.endswith(":predict"):
            return url
        if "/v1/models/" in url:
            return url + ":predict"
        return f"{url}/v1/models/{model_name}:predict"
    if url.endswith("/infer"):
        return url
    if "/v2/models/" in url:
        return url + "/infer"
    return f"{url}/v2/models/{model_name}/infer"


def v1_request(texts: Sequence[str]) -> dict:
    return {"instances": list(texts)}


def parse_v1_labels(body: dict) -> list[tuple[str, float]]:
    """(intent, confidence) per text from a v1 response of ``ecc serve-teacher``."""
    preds = body.get("predictions") if isinstance(body, dict) else None
    if not isinstance(preds, list) or not all(isinstance(p, dict) and "intent" in p and "confidence" in p
                                              for p in preds):
        raise ValueError("v1 response lacks \"predictions\" of {intent, confidence} objects")
    return [(str(p["intent"]), float(p["confidence"])) for p in preds]


def v2_request(texts: Sequence[str]) -> dict:
    return {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [len(texts)], "data": list(texts)}]}


def parse_v2_labels(body: dict) -> list[tuple[str, float]]:
    """(intent, confidence) per text from a v2 response of ``ecc serve-teacher``."""
    outputs = {o.get("name"): o.get("data") for o in body.get("outputs", [])}
    intents, confs = outputs.get("intent"), outputs.get("confidence")
    if not isinstance(intents, list) or not isinstance(confs, list) or len(intents) != len(confs):
        raise ValueError(f"v2 response lacks matching 'intent' and 'confidence' outputs (has {sorted(outputs)})")
    return [(str(i), float(c)) for i, c in zip(intents, confs)]


class TeacherRefused(ValueError):
    """Cloud assist will not send text to this teacher (the message says why); nothing was sent."""


def check_teacher_url(teacher_url: str) -> None:
    """TeacherRefused unless `teacher_url` is https://HOST…: user text never goes over plaintext."""
    from urllib.parse import urlsplit

    parts = urlsplit(teacher_url)
    if parts.scheme != "https" or not parts.hostname:
        raise TeacherRefused(f"DesiredState.teacher_url {teacher_url!r}: cloud assist sends user text, so it asks "
                             "an https:// teacher only; nothing sent")


def teacher_context(teacher_url: str, ca_pem: str | None) -> ssl.SSLContext:
    """The TLS context that checks the teacher's certificate against `ca_pem` alone (and its host
    name); TeacherRefused for a URL that is not https:// or a missing or unreadable CA."""
    check_teacher_url(teacher_url)
    if not ca_pem:
        raise TeacherRefused("DesiredState.teacher_ca_pem is empty: the teacher's certificate cannot be checked, so "
                             "cloud assist sends nothing (the operator sets it to the ca.crt of its Secret "
                             "ecc-node-credentials-tls)")
    try:
        return tls.client_context(ca_pem, "DesiredState.teacher_ca_pem")
    except tls.CertificateError as err:
        raise TeacherRefused(f"{err}; cloud assist sends nothing") from err


class TeacherClient:
    """Asks the served teacher for labels (KServe v1/v2) over HTTPS in one background worker."""

    def __init__(self, model_name: str | None = None, timeout: float = 5.0, max_pending: int = 64):
        self.model_name = model_name
        """fixed model name; None: the name passed with each request (the DesiredState's teacher)"""
        self.timeout = timeout
        self.max_pending = max_pending
        self._pending = 0
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ecc-assist")
        self.sent = 0
        self.failed = 0
        self.last_error = ""
        self._context: tuple[str, ssl.SSLContext] | None = None
        self._refusal_logged = ""

    def context(self, teacher_url: str, ca_pem: str | None) -> ssl.SSLContext:
        """teacher_context, kept while the CA stays the same (TeacherRefused as it)."""
        check_teacher_url(teacher_url)
        cached = self._context
        if cached is not None and ca_pem and cached[0] == ca_pem:
            return cached[1]
        ctx = teacher_context(teacher_url, ca_pem)
        self._context = (ca_pem or "", ctx)
        return ctx

    def label(self, teacher_url: str, texts: Sequence[str], model_name: str | None = None,
              protocol: str = "v2", ca_pem: str | None = None) -> list[tuple[str, float]]:
        """The teacher's (label, confidence) per text; TeacherRefused before anything is sent
        unless the URL is https:// and the CA given, an error for an impostor or a bad answer."""
        import httpx

        ctx = self.context(teacher_url, ca_pem)
        name = self.model_name or model_name or DEFAULT_TEACHER_MODEL
        body = v1_request(texts) if protocol == "v1" else v2_request(texts)
        resp = httpx.post(teacher_infer_url(teacher_url, name, protocol), json=body, timeout=self.timeout,
                          verify=ctx)
        resp.raise_for_status()
        answers = parse_v1_labels(resp.json()) if protocol == "v1" else parse_v2_labels(resp.json())
        if len(answers) != len(texts):
            raise ValueError(f"the teacher answered {len(answers)} labels for {len(texts)} texts")
        return answers

    def submit(self, teacher_url: str, texts: Sequence[str], done: Callable[[list[tuple[str, float]]], None],
               model_name: str | None = None, protocol: str = "v2", ca_pem: str | None = None) -> bool:
        """Queue one request; False (nothing sent) when too many are pending or the teacher is
        refused (TeacherRefused: counted as failed, logged once per reason)."""
        try:
            self.context(teacher_url, ca_pem)
        except TeacherRefused as err:
            self._refused(str(err))
            return False
        with self._lock:
            if self._pending >= self.max_pending:
                return False
            self._pending += 1
            self.sent += 1

        def run() -> None:
            try:
                done(self.label(teacher_url, texts, model_name, protocol, ca_pem))
            except Exception as err:  # noqa: BLE001 - the teacher never fails a request
                self.failed += 1
                self.last_error = f"{err.__class__.__name__}: {err}"[:300]
                log.info("cloud assist failed: %s", self.last_error)
            finally:
                with self._lock:
                    self._pending -= 1

        self._pool.submit(run)
        return True

    def _refused(self, why: str) -> None:
        with self._lock:
            self.failed += 1
            self.last_error = why[:300]
            first = why != self._refusal_logged
            self._refusal_logged = why
        if first:
            log.warning("cloud assist skipped: %s", why)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


# ---------------------------------------------------------------------- the learner
@dataclass
class LearnerCounters:
    feedback_total: int = 0
    adaptations_total: int = 0
    adapted_samples: int = 0
    delta_revision: int | None = None
    assists_total: int = 0
    last_error: str = ""


class Learner:
    """Feedback, local adaptation and uploads for the model being served.

    ``on_adapted(base_model, adapted_encoder)`` publishes the adapted model (the agent swaps
    it in if ``base_model`` is still the one served); ``send_delta(key, blob)`` writes an
    upload (the agent's outbox: spooled while the store is down)."""

    def __init__(self, node: str, namespace: str, fleet: str,
                 on_adapted: Callable[[object, object], bool],
                 send_delta: Callable[[str, bytes], None],
                 teacher: TeacherClient | None = None, max_feedback: int = 5000):
        self.node, self.namespace, self.fleet = node, namespace, fleet
        self.on_adapted = on_adapted
        self.send_delta = send_delta
        self.teacher = teacher or TeacherClient()
        self.max_feedback = max_feedback
        self.counters = LearnerCounters()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._model = None  # agent_model.ServingModel the buffer belongs to (its base)
        self.buffer = adapt.FeedbackBuffer(max_feedback)
        self.usable = 0
        self.adapted_at = 0
        self.window = DriftWindow()

    # -- the served model changed ------------------------------------------------
    def on_model(self, model) -> None:
        """A new base model is served: a new revision (or tier) starts fresh feedback."""
        with self._lock:
            same = (self._model is not None and self._model.revision == model.revision
                    and self._model.manifest_key == model.manifest_key)
            self._model = model
            if not same:
                self.buffer = adapt.FeedbackBuffer(self.max_feedback)
                self.usable = 0
                self.adapted_at = 0
                self.window.reset()

    @property
    def training(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- events ----------------------------------------------------------------
    def add_feedback(self, text: str, label: str, predicted: str | None, cloud_assist: bool,
                     source: str = "user", confidence: float | None = None) -> None:
        item = FeedbackItem(text=text, label=label, source=source, confidence=confidence, predicted=predicted)
        with self._lock:
            self.buffer.add(item)
            if usable_for_training(item, cloud_assist):
                self.usable += 1
            if source != "teacher":
                self.counters.feedback_total += 1
        if source != "teacher" and predicted is not None:
            self.window.add_feedback(predicted != label)

    def assist(self, teacher_url: str, texts: Sequence[str], predicted: Sequence[str], privacy: PrivacySettings,
               labels: Sequence[str], model_name: str | None = None, protocol: str = "v2",
               ca_pem: str | None = None) -> bool:
        """Ask the teacher (over HTTPS, its certificate checked against `ca_pem`) about
        low-confidence texts; its answers become pseudo-labels."""
        from ecc_workloads.pii import scrubber

        sent = [scrubber.scrub_text(t) if privacy.scrub_before_assist else t for t in texts]
        known = set(labels)

        def done(answers: list[tuple[str, float]]) -> None:
            for text, pred, (label, conf) in zip(texts, predicted, answers):
                if label in known:  # the teacher may know intents this bundle does not
                    self.add_feedback(text, label, pred, privacy.cloud_assist, source="teacher",
                                      confidence=min(1.0, max(0.0, conf)))

        ok = self.teacher.submit(teacher_url, sent, done, model_name, protocol, ca_pem)
        if ok:
            self.counters.assists_total += len(texts)
        return ok

    # -- adaptation --------------------------------------------------------------
    def maybe_adapt(self, settings: AdaptationSettings | None, privacy: PrivacySettings) -> bool:
        """Start a background adaptation if one is due and none is running."""
        if settings is None or self._model is None:
            return False
        with self._lock:
            if self.training or not adaptation_due(self.usable, settings.min_samples, self.adapted_at):
                return False
            model = self._model
            rows = adapt.select_training_rows(self.buffer.items, privacy.cloud_assist, TEACHER_MIN_CONFIDENCE,
                                              settings.max_samples)
            self.adapted_at = self.usable
            self._thread = threading.Thread(target=self._adapt, args=(model, rows, settings, privacy),
                                            name="ecc-adapt", daemon=True)
            self._thread.start()
        return True

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _adapt(self, model, rows: list[FeedbackItem], settings: AdaptationSettings, privacy: PrivacySettings) -> None:
        try:
            tokenizer = copy.deepcopy(model.predictor.tokenizer)  # not shared with the serving thread
            result = adapt.adapt_locally(model.base, tokenizer, rows, lora_settings(settings, model.predictor.max_length),
                                         profile=model.profile)
            self.on_adapted(model, result.adapted)
            with self._lock:
                self.counters.adaptations_total += 1
                self.counters.adapted_samples = result.num_samples
            if settings.upload_deltas:
                blob = deltas.build_upload(result, model.manifest, self.node, upload_settings(privacy),
                                          forbidden_texts=[r.text for r in rows])
                self.send_delta(StoreLayout.delta(self.namespace, self.fleet, model.revision, self.node), blob)
                self.counters.delta_revision = model.revision
            self.counters.last_error = ""
        except Exception as err:  # noqa: BLE001 - a failed adaptation never stops serving
            self.counters.last_error = f"local adaptation failed: {err.__class__.__name__}: {err}"[:500]
            log.warning("%s", self.counters.last_error)

    def close(self) -> None:
        self.teacher.close()
