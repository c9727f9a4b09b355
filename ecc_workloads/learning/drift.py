"""Drift detection per device: one score in [0, 1] from three signals.

Reference (:class:`ReferenceStats`, computed by the distillation Job on held-out data
for each revision and profile): the histogram of the model's confidence (top softmax
probability) over *equal-mass* bins (edges at the reference's quantiles, so each bin
holds ~1/k of the reference), the predicted-label distribution, and the held-out
error rate.

A device accumulates a :class:`WindowStats` (counts only — mergeable, no text) and
:func:`drift_score` compares it with the reference:

- ``psi_confidence`` and ``psi_labels``: Population Stability Index
  ``Σ (a - e) · ln(a / e)`` over bins (fractions smoothed by ``eps``), minus an allowance
  for sampling noise alone: PSI ≈ χ²_{k-1} · (1/n + 1/n_ref), so we subtract its mean
  plus two standard deviations, ``(k - 1 + 2·sqrt(2(k - 1))) · (1/n + 1/n_ref)``.
- ``error_excess``: feedback error rate above the reference error rate, the rate shrunk
  towards the reference with ``prior`` pseudo-observations so a handful of corrections
  cannot fire the alarm.

Each signal becomes a component in [0, 1): ``c = 1 - exp(-x / scale)`` with scale 0.25 for
PSI (the usual "major shift" threshold, giving c ≈ 0.63 there; PSI 0.1, the "moderate"
threshold, gives 0.33) and 0.10 for the error excess (10 points above reference ≈ 0.63).
The score is their noisy-OR ``1 - Π (1 - c)``: one strong signal suffices, several
moderate ones add up.

Scale: **< 0.3 stable · 0.3–0.6 watch · ≥ 0.6 drift** (suggested AdaptationPolicy
threshold: 0.5). Windows with fewer than ``min_samples`` predictions report
``enough_data = False``; the operator should not act on them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ecc_workloads.contracts import ReferenceStats, WindowStats  # noqa: F401  (re-exported)


class DriftSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    psi_scale: float = Field(0.25, gt=0)
    error_scale: float = Field(0.10, gt=0)
    error_prior: float = Field(20.0, ge=0, description="pseudo-observations at the reference error rate")
    eps: float = Field(1e-4, gt=0)
    min_samples: int = Field(100, ge=1)


class DriftScore(BaseModel):
    score: float = Field(ge=0, le=1)
    psi_confidence: float
    psi_labels: float
    error_rate: float | None
    error_excess: float
    components: dict[str, float]
    n: int
    enough_data: bool


# ---------------------------------------------------------------------- building blocks
def psi(expected: Sequence[float], actual: Sequence[float], eps: float = 1e-4) -> float:
    """Population Stability Index of two distributions (fractions or counts)."""
    e = np.asarray(expected, dtype=float)
    a = np.asarray(actual, dtype=float)
    if e.shape != a.shape:
        raise ValueError(f"psi: {e.shape} vs {a.shape} bins")
    e = np.clip(e / max(e.sum(), eps), eps, None)
    a = np.clip(a / max(a.sum(), eps), eps, None)
    e, a = e / e.sum(), a / a.sum()
    return float(np.sum((a - e) * np.log(a / e)))


def quantile_edges(confidences: Sequence[float], bins: int = 10) -> list[float]:
    """Equal-mass bin edges over [0, 1] from reference confidences (duplicates merged)."""
    c = np.asarray(confidences, dtype=float)
    if c.size == 0:
        raise ValueError("no reference confidences")
    inner = np.quantile(c, np.linspace(0, 1, bins + 1)[1:-1])
    edges = sorted({0.0, 1.0, *[float(x) for x in inner if 0.0 < x < 1.0]})
    return edges


def histogram(values: Sequence[float], edges: Sequence[float]) -> list[int]:
    """Counts per bin; bins are [e_i, e_{i+1}) except the last, which includes 1."""
    v = np.clip(np.asarray(values, dtype=float), 0.0, 1.0)
    idx = np.searchsorted(np.asarray(edges[1:-1]), v, side="right")
    return np.bincount(idx, minlength=len(edges) - 1).astype(int).tolist()


def reference_stats(
    confidences: Sequence[float], predicted: Sequence[int], labels: Sequence[str], error_rate: float,
    revision: int, profile: str, bins: int = 10,
) -> ReferenceStats:
    """Reference statistics from held-out predictions (confidence = top probability)."""
    if len(confidences) != len(predicted):
        raise ValueError("one confidence per prediction")
    edges = quantile_edges(confidences, bins)
    hist = np.asarray(histogram(confidences, edges), dtype=float)
    lab = np.bincount(np.asarray(predicted, dtype=int), minlength=len(labels)).astype(float)
    return ReferenceStats(
        revision=revision, profile=profile, labels=list(labels), confidence_edges=edges,
        confidence_hist=(hist / hist.sum()).tolist(), label_dist=(lab / lab.sum()).tolist(),
        error_rate=float(error_rate), n=len(confidences),
    )


def window_stats(
    ref: ReferenceStats, confidences: Sequence[float], predicted: Sequence[int],
    feedback_total: int = 0, feedback_errors: int = 0,
) -> WindowStats:
    if feedback_errors > feedback_total:
        raise ValueError("feedback_errors cannot exceed feedback_total")
    bad = [p for p in predicted if not 0 <= int(p) < len(ref.labels)]
    if bad:
        raise ValueError(f"predicted label indices {bad[:5]} are outside 0..{len(ref.labels) - 1}")
    return WindowStats(
        confidence_counts=histogram(confidences, ref.confidence_edges),
        label_counts=np.bincount(np.asarray(predicted, dtype=int), minlength=len(ref.labels)).astype(int).tolist(),
        feedback_total=feedback_total, feedback_errors=feedback_errors,
    )


def merge_windows(windows: Iterable[WindowStats]) -> WindowStats:
    """Sum of several windows (e.g. a fleet's, or consecutive periods of one device)."""
    ws = list(windows)
    if not ws:
        raise ValueError("no windows to merge")
    if len({len(w.confidence_counts) for w in ws}) != 1 or len({len(w.label_counts) for w in ws}) != 1:
        raise ValueError("windows were counted against different references")
    return WindowStats(
        confidence_counts=np.sum([w.confidence_counts for w in ws], axis=0).astype(int).tolist(),
        label_counts=np.sum([w.label_counts for w in ws], axis=0).astype(int).tolist(),
        feedback_total=sum(w.feedback_total for w in ws), feedback_errors=sum(w.feedback_errors for w in ws),
    )


def noise_allowance(bins: int, n: int, n_ref: int) -> float:
    """PSI that sampling noise alone reaches ~97% of the time (mean + 2 sd of χ²/n)."""
    dof = max(0, bins - 1)
    return (dof + 2 * math.sqrt(2 * dof)) * (1 / n + 1 / n_ref)


def _component(x: float, scale: float) -> float:
    return 1.0 - math.exp(-max(0.0, x) / scale)


def drift_score(ref: ReferenceStats, window: WindowStats, settings: DriftSettings | None = None) -> DriftScore:
    """The device's drift score (see the module docstring for the scale)."""
    s = settings or DriftSettings()
    if len(window.confidence_counts) != len(ref.confidence_hist) or len(window.label_counts) != len(ref.labels):
        raise ValueError("window was counted against a different reference (bin or label count differs)")
    n = window.n
    if n == 0:
        psi_c = psi_l = 0.0
    else:
        k_c = sum(1 for x in ref.confidence_hist if x > 0)
        k_l = sum(1 for x in ref.label_dist if x > 0)
        psi_c = max(0.0, psi(ref.confidence_hist, window.confidence_counts, s.eps) - noise_allowance(k_c, n, ref.n))
        psi_l = max(0.0, psi(ref.label_dist, window.label_counts, s.eps) - noise_allowance(k_l, n, ref.n))
    err = None
    excess = 0.0
    if window.feedback_total:
        err = window.feedback_errors / window.feedback_total
        shrunk = (window.feedback_errors + s.error_prior * ref.error_rate) / (window.feedback_total + s.error_prior)
        excess = max(0.0, shrunk - ref.error_rate)
    comps = {
        "confidence": _component(psi_c, s.psi_scale),
        "labels": _component(psi_l, s.psi_scale),
        "errors": _component(excess, s.error_scale),
    }
    score = 1.0 - math.prod(1.0 - c for c in comps.values())
    return DriftScore(
        score=min(1.0, max(0.0, score)), psi_confidence=psi_c, psi_labels=psi_l, error_rate=err,
        error_excess=excess, components=comps, n=n, enough_data=n >= s.min_samples,
    )
