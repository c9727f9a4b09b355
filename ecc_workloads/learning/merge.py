"""Merge-back: module-wise aggregation of edge weight changes into a *candidate* model.

Inputs are :class:`ecc_workloads.learning.deltas.EdgeUpdate` s — each device's **full weight change**
per module (for LoRA the product ``B @ A * scale``; averaging the factors separately is
not the average of the changes). For every (module, parameter) the updates of the
devices that hold that module are aggregated:

- ``fedavg``        sample-weighted mean  Σ nᵢ Δᵢ / Σ nᵢ
- ``trimmed-mean``  coordinate-wise: drop the ``trim_fraction`` largest and smallest
                    values (at least one each side when 3+ devices), mean of the rest
- ``median``        coordinate-wise median (mean of the two middle values for even counts)

A coordinate-wise trimmed mean or median of low-rank changes is full-rank; it is projected back
onto the column and row spaces the devices' changes span (:func:`project_to_span`), which no
honest change leaves, so the aggregate keeps a low rank (small patches) and never grows.

Before aggregating, a *screen* leaves out whole updates that sit far from the rest (Multi-Krum's
score, Blanchard et al. 2017): with n holders of a module and f = ``screen_fraction`` x n presumed
hostile, each update's score is the sum of squared distances to its n - f - 2 nearest others; of
the f highest-scoring, those scoring above ``screen_multiple`` x the median score of the others are
left out of that module's aggregation. A coordinate-wise trimmed mean drops an outlier's
coordinates *and* one honest extreme on the other side of each coordinate (a bias towards the
outlier's direction); leaving the outlier out first removes both.

The cloud model's new weights are ``W + coefficient * aggregate``. A coefficient above 1
approximates *adding* the devices' changes instead of averaging them (useful when
their shifts are related); the evaluation gate decides whether that helped.

:func:`gate` refuses a candidate whose held-out score is worse than the current model's
(mean over the evaluated slices, with a tolerance, and no single slice dropping more than
``max_slice_drop``). :func:`merge_back` returns the candidate and the decision; the
operator, which owns revision numbers, decides whether it becomes the next revision.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field

from ecc_workloads.learning.deltas import EdgeUpdate, ModuleDelta, apply_update, clip_delta, global_norm, labels_sha256
from ecc_workloads.learning.bundles import module_identity
from ecc_workloads.contracts import MergeBackJob
from ecc_workloads.learning.modular import ModularEncoder

Method = Literal["fedavg", "trimmed-mean", "median"]


class MergeSettings(BaseModel):
    """How a round aggregates and gates (`from_job`: from the merge-back Job's spec)."""

    model_config = ConfigDict(extra="forbid")

    method: Method = "trimmed-mean"
    trim_fraction: float = Field(0.2, ge=0, lt=0.5, description="share trimmed from each end (trimmed-mean)")
    coefficient: float = Field(1.0, gt=0, le=10, description="W += coefficient * aggregated change")
    min_updates: int = Field(1, ge=1, description="quorum: accepted updates needed to merge at all")
    gate_tolerance: float = Field(0.0, ge=0, le=1, description="allowed drop of the mean held-out score")
    max_slice_drop: float = Field(0.05, ge=0, le=1, description="allowed drop on any single held-out slice")
    max_update_norm: float | None = Field(None, gt=0, description="reject updates whose L2 norm exceeds this")
    clip_multiple: float | None = Field(
        3.0, gt=0, description="server-side clipping: an update whose global L2 norm exceeds this multiple of the "
        "round's median norm is scaled down to it (None: off). A node's own clipping is not trusted")
    max_weight_multiple: float = Field(
        10.0, ge=1, description="fedavg: a node's sample count weighs at most this multiple of the round's median "
        "(a node's num_samples is its own claim)")
    screen_fraction: float = Field(
        0.2, ge=0, lt=0.5, description="outlier screen: share of a module's updates presumed hostile (0: off); "
        "needs n >= 2f + 3 updates, so it acts from 5 updates on")
    screen_multiple: float | None = Field(
        2.0, gt=0, description="outlier screen: leave an update out only if its score exceeds this multiple of the "
        "median score of the others (None: always leave out the f highest, as Multi-Krum)")

    @classmethod
    def from_job(cls, job: MergeBackJob) -> "MergeSettings":
        """The merge-back Job's settings: its gate's minImprovement tolerates a drop when negative
        (a positive one is checked on the gain after the gate)."""
        d = job.defences
        return cls(method=job.aggregation, trim_fraction=job.trim_fraction, coefficient=job.merge_coefficient,
                   min_updates=job.min_updates, gate_tolerance=max(0.0, -job.evaluation_gate.min_improvement),
                   max_slice_drop=job.evaluation_gate.max_regression, max_update_norm=job.max_update_norm,
                   clip_multiple=d.clip_multiple, max_weight_multiple=d.max_weight_multiple,
                   screen_fraction=d.screen_fraction, screen_multiple=d.screen_multiple)


# ---------------------------------------------------------------------- tensor maths (pure)
def aggregate_tensors(stack: torch.Tensor, weights: torch.Tensor, method: Method, trim_fraction: float = 0.2) -> torch.Tensor:
    """Aggregate ``stack`` (devices along dim 0) into one tensor."""
    m = stack.shape[0]
    if m == 0:
        raise ValueError("nothing to aggregate")
    if weights.shape != (m,):
        raise ValueError(f"weights must have shape ({m},), got {tuple(weights.shape)}")
    x = stack.double()
    if method == "fedavg":
        w = weights.double()
        if (w < 0).any() or w.sum() <= 0:
            raise ValueError("fedavg weights (sample counts) must be >= 0 and not all 0")
        w = w / w.sum()
        out = (x * w.view(-1, *([1] * (x.dim() - 1)))).sum(0)
    elif method == "trimmed-mean":
        k = int(math.floor(trim_fraction * m))
        if trim_fraction > 0 and m >= 3:
            k = max(k, 1)
        k = min(k, (m - 1) // 2)
        s = x.sort(dim=0).values
        out = s[k : m - k].mean(0)
    elif method == "median":
        s = x.sort(dim=0).values
        out = s[(m - 1) // 2] if m % 2 else (s[m // 2 - 1] + s[m // 2]) / 2
    else:
        raise ValueError(f"aggregation method {method!r}: use fedavg, trimmed-mean or median")
    return out.to(stack.dtype)



def project_to_span(aggregate: torch.Tensor, changes: Sequence[torch.Tensor]) -> torch.Tensor:
    """``aggregate`` (a 2-D change) projected onto the column and row spaces the ``changes`` span:
    ``U Uᵀ M V Vᵀ``. A coordinate-wise trimmed mean or median of low-rank changes (LoRA's, rank r
    each) is full-rank — each coordinate picks another device's value — though no device changed
    anything outside those spaces; projected back it has rank at most the sum of theirs (so a
    merge-back revision ships it as small factors, :mod:`ecc_workloads.learning.patches`), points closer to
    the changes' mean, and is never larger (an orthogonal projection), so a clipped outlier gains
    nothing. Changes that span everything (full-rank) leave it as it is."""
    mats = [c.double() for c in changes]
    left = _basis(sum(m @ m.T for m in mats))
    right = _basis(sum(m.T @ m for m in mats))
    x = aggregate.double()
    return (left @ ((left.T @ x) @ right) @ right.T).to(aggregate.dtype)


def _basis(gram: torch.Tensor) -> torch.Tensor:
    """Orthonormal basis of a Gram matrix's range (eigenvalues above 1e-10 x the largest)."""
    w, v = torch.linalg.eigh(gram)
    return v[:, w > w.max().clamp(min=0) * 1e-10] if float(w.max()) > 0 else v[:, :0]


def aggregate_deltas(
    deltas: Sequence[ModuleDelta], weights: Sequence[float], method: Method, trim_fraction: float = 0.2,
    left_out: Mapping[str, set[int]] | None = None,
) -> tuple[ModuleDelta, dict[str, int]]:
    """Module-wise: each (module, param) over the devices whose delta holds it (less those
    ``left_out`` of that module by the screen). Returns the aggregate and, per module, how many
    devices contributed."""
    if len(deltas) != len(weights):
        raise ValueError("one weight per delta")
    left_out = left_out or {}
    keys: dict[tuple[str, str], list[int]] = {}
    for i, d in enumerate(deltas):
        for module, params in d.items():
            if i in left_out.get(module, ()):
                continue
            for key in params:
                keys.setdefault((module, key), []).append(i)
    out: ModuleDelta = {}
    contributors: dict[str, int] = {}
    for (module, key), holders in sorted(keys.items()):
        shapes = {tuple(deltas[i][module][key].shape) for i in holders}
        if len(shapes) != 1:
            raise ValueError(f"{module}/{key}: devices disagree on the shape {sorted(shapes)}")
        stack = torch.stack([deltas[i][module][key].float() for i in holders])
        w = torch.tensor([float(weights[i]) for i in holders])
        agg = aggregate_tensors(stack, w, method, trim_fraction)
        if method != "fedavg" and agg.dim() == 2:  # a mean of changes is in their span already
            agg = project_to_span(agg, [deltas[i][module][key] for i in holders])
        out.setdefault(module, {})[key] = agg
        contributors[module] = max(contributors.get(module, 0), len(holders))
    return out, contributors


def _flat(delta: ModuleDelta, module: str) -> torch.Tensor:
    return torch.cat([delta[module][k].double().flatten() for k in sorted(delta[module])])


def screen_scores(vectors: Sequence[torch.Tensor], f: int) -> list[float]:
    """Multi-Krum's score of each vector: the sum of its squared distances to its n - f - 2
    nearest others."""
    n = len(vectors)
    k = n - f - 2
    if f < 1 or n < 2 * f + 3:
        raise ValueError(f"a screen of {n} updates presuming {f} hostile needs n >= 2f + 3")
    x = torch.stack(list(vectors))
    d = torch.cdist(x, x).pow(2)
    d.fill_diagonal_(float("inf"))
    return [float(v) for v in d.sort(dim=1).values[:, :k].sum(1)]


def screen_outliers(deltas: Sequence[ModuleDelta], fraction: float, multiple: float | None) -> dict[str, set[int]]:
    """Per module, the indices of the deltas to leave out of its aggregation (see the module's
    docstring). Modules held by fewer than 5 deltas (or fraction 0) are not screened."""
    holders: dict[str, list[int]] = {}
    for i, d in enumerate(deltas):
        for module in d:
            holders.setdefault(module, []).append(i)
    out: dict[str, set[int]] = {}
    for module, idx in sorted(holders.items()):
        n = len(idx)
        f = min(int(math.floor(fraction * n)), (n - 3) // 2)
        if f < 1:
            continue
        scores = screen_scores([_flat(deltas[i], module) for i in idx], f)
        others = medians_of_others(scores)
        worst = sorted(range(n), key=lambda j: scores[j], reverse=True)[:f]
        left_out = {idx[j] for j in worst if multiple is None or scores[j] > multiple * others[j]}
        if left_out:
            out[module] = left_out
    return out


# ---------------------------------------------------------------------- validation (pure)
def update_problem(
    update: EdgeUpdate, base_revision: int, labels: Sequence[str],
    module_hashes: Mapping[str, Mapping[str, str]] | None, max_update_norm: float | None = None,
) -> str | None:
    """Why an update must not be merged, or None. ``module_hashes``: profile -> module ->
    sha256 of the revision's bundles (see :func:`manifest_hashes`)."""
    m = update.manifest
    if m.base_revision != base_revision:
        return f"node {m.node}: delta is against revision {m.base_revision}, merging into {base_revision}"
    if m.labels_sha256 != labels_sha256(labels):
        return f"node {m.node}: label set differs from the cloud model's"
    if module_hashes is not None:
        if m.profile not in module_hashes:
            return f"node {m.node}: profile {m.profile!r} is not part of revision {base_revision}"
        for module, sha in m.base_modules.items():
            if module_hashes[m.profile].get(module) != sha:
                return f"node {m.node}: module {module} is not the revision's ({sha[:12]}…)"
    undeclared = set(update.delta) - set(m.base_modules)
    if undeclared:
        return f"node {m.node}: delta touches undeclared modules {sorted(undeclared)}"
    norm = 0.0
    for module, params in update.delta.items():
        for key, t in params.items():
            if not torch.isfinite(t).all():
                return f"node {m.node}: {module}/{key} has non-finite values"
            norm += float(t.double().pow(2).sum())
    if max_update_norm is not None and math.sqrt(norm) > max_update_norm:
        return f"node {m.node}: update norm {math.sqrt(norm):.3g} exceeds {max_update_norm}"
    return None


def membership_problem(key_node: str, update: EdgeUpdate, desired) -> str | None:
    """Why a delta stored under ``key_node``'s key is not that fleet member's, or None: its
    manifest must name the same node, the node must be in the fleet's desired state (a
    contracts.DesiredState) and its tier must serve the delta's profile."""
    m = update.manifest
    if m.node != key_node:
        return f"the delta under node {key_node}'s key claims to be node {m.node!r}'s"
    if desired is None:
        return "the fleet's desired state is unreadable: its members are unknown"
    tier = desired.node_tiers.get(key_node)
    if tier is None:
        return f"node {key_node} is not a member of fleet {desired.namespace}/{desired.fleet}"
    profiles = {t.tier: t.profile for t in (*desired.previous, *desired.target)}
    if profiles.get(tier) != m.profile:
        return f"node {key_node}: a delta of profile {m.profile!r}, its tier {tier!r} serves {profiles.get(tier)!r}"
    return None


def medians_of_others(values: Sequence[float]) -> list[float | None]:
    """For each value, the median of all the *other* values (None for a lone value): a node's
    bound is never raised by its own claim — with two updates, each is measured against the other."""
    n = len(values)
    if n < 2:
        return [None] * n
    order = sorted(range(n), key=lambda i: values[i])
    ranked = [values[i] for i in order]

    def without(k: int, j: int) -> float:  # the j-th smallest once the k-th smallest is left out
        return ranked[j] if j < k else ranked[j + 1]

    out: list[float | None] = [None] * n
    m = n - 1
    for k, i in enumerate(order):
        out[i] = without(k, m // 2) if m % 2 else (without(k, m // 2 - 1) + without(k, m // 2)) / 2
    return out


def clip_to_median(deltas: Sequence[ModuleDelta], multiple: float) -> tuple[list[ModuleDelta], dict[int, float]]:
    """Each delta whose global norm exceeds ``multiple`` x the median norm of the *other* deltas,
    scaled down to that bound (deltas.clip_delta); returns the deltas and {index: norm before} of
    the clipped ones. A single update has nothing to be compared with and is left as it is."""
    norms = [global_norm(d) for d in deltas]
    out, clipped = [], {}
    for i, (d, n, others) in enumerate(zip(deltas, norms, medians_of_others(norms))):
        bound = multiple * others if others is not None else 0.0
        if bound > 0 and n > bound:
            out.append(clip_delta(d, bound)[0])
            clipped[i] = n
        else:
            out.append(d)
    return out, clipped


def bounded_weights(samples: Sequence[int], max_multiple: float) -> list[float]:
    """Sample counts as aggregation weights, none above ``max_multiple`` x the median of the other
    nodes' counts (and at least 1: a node that claims nothing still counts once)."""
    counts = [max(1, int(n)) for n in samples]
    return [float(min(n, max_multiple * others)) if others is not None else float(n)
            for n, others in zip(counts, medians_of_others(counts))]


def bound_and_screen(deltas: Sequence[ModuleDelta], settings: MergeSettings
                     ) -> tuple[list[ModuleDelta], dict[int, float], dict[str, set[int]]]:
    """What merge_back does to the accepted updates before aggregating: the server-side clipping
    (clip_to_median), then the outlier screen (screen_outliers). Returns the deltas, {index: norm
    before} of the clipped ones and, per module, the indices left out."""
    clipped: dict[int, float] = {}
    if settings.clip_multiple is not None:
        deltas, clipped = clip_to_median(deltas, settings.clip_multiple)
    return list(deltas), clipped, screen_outliers(deltas, settings.screen_fraction, settings.screen_multiple)


def manifest_hashes(manifests) -> dict[str, dict[str, str]]:
    """profile -> module -> sha256, from a revision's BundleManifests."""
    return {m.profile: module_identity(m) for m in manifests}


# ---------------------------------------------------------------------- gate (pure)
class GateDecision(BaseModel):
    passed: bool
    reason: str
    current_mean: float
    candidate_mean: float
    worst_slice: str | None = None
    worst_slice_drop: float = 0.0


def gate(current: Mapping[str, float], candidate: Mapping[str, float], tolerance: float = 0.0, max_slice_drop: float = 0.05) -> GateDecision:
    """Pass only if the candidate's mean held-out score is not below the current one's
    minus ``tolerance`` and no slice drops by more than ``max_slice_drop``."""
    if not current or set(current) != set(candidate):
        raise ValueError(f"gate needs the same non-empty slices for both models: {sorted(current)} vs {sorted(candidate)}")
    cur = sum(current.values()) / len(current)
    cand = sum(candidate.values()) / len(candidate)
    drops = {k: current[k] - candidate[k] for k in current}
    worst = max(drops, key=drops.get)
    common = dict(current_mean=cur, candidate_mean=cand, worst_slice=worst, worst_slice_drop=drops[worst])
    if cand < cur - tolerance:
        return GateDecision(passed=False, reason=f"candidate mean {cand:.4f} is below current {cur:.4f} (tolerance {tolerance})", **common)
    if drops[worst] > max_slice_drop:
        return GateDecision(passed=False, reason=f"slice {worst} drops {drops[worst]:.4f} > {max_slice_drop}", **common)
    return GateDecision(passed=True, reason=f"candidate mean {cand:.4f} >= current {cur:.4f} - {tolerance}", **common)


# ---------------------------------------------------------------------- orchestration
@dataclass
class MergeResult:
    candidate: ModularEncoder | None
    decision: GateDecision | None
    accepted: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)
    contributors: dict[str, int] = field(default_factory=dict)
    current_metrics: dict[str, float] = field(default_factory=dict)
    candidate_metrics: dict[str, float] = field(default_factory=dict)
    changed_modules: list[str] = field(default_factory=list)
    clipped: dict[str, float] = field(default_factory=dict)
    """node -> its update's norm before the server scaled it down"""
    screened: dict[str, list[str]] = field(default_factory=dict)
    """node -> the modules whose aggregation the outlier screen left its update out of"""
    notes: list[str] = field(default_factory=list)
    change: ModuleDelta | None = None
    """module -> parameter -> coefficient x the aggregate (None: no merge, below the quorum)"""

    @property
    def passed(self) -> bool:
        return self.decision is not None and self.decision.passed


Evaluate = Callable[[ModularEncoder], dict[str, float]]
"""model -> {slice name: score in [0, 1]} on held-out data (e.g. 'teacher@base': accuracy)."""


def aggregate_round(
    cloud: ModularEncoder,
    updates: Sequence[EdgeUpdate],
    settings: MergeSettings,
    base_revision: int,
    module_hashes: Mapping[str, Mapping[str, str]] | None = None,
) -> MergeResult:
    """Validate, bound, screen and aggregate a round's updates module-wise: the result's
    ``change`` is ``coefficient * aggregate`` (None below the quorum). Nothing is applied or
    evaluated here (see :func:`merge_back`, or the merge-back Job, which ships the change as
    patches and gates the patched models)."""
    result = MergeResult(candidate=None, decision=None)
    good: list[EdgeUpdate] = []
    for u in updates:
        problem = update_problem(u, base_revision, cloud.labels, module_hashes, settings.max_update_norm)
        if problem:
            result.rejected[u.manifest.node] = problem
        else:
            good.append(u)
            result.accepted.append(u.manifest.node)
    if len(good) < settings.min_updates:
        return result
    deltas, clipped, left_out = bound_and_screen([u.delta for u in good], settings)
    result.clipped = {good[i].manifest.node: norm for i, norm in clipped.items()}
    if settings.method != "fedavg" and len(good) < 3:
        result.notes.append(f"{settings.method} of {len(good)} update(s) leaves none out: it is their mean "
                            "(robust from 3 updates on)")
    for module, idx in left_out.items():
        for i in idx:
            result.screened.setdefault(good[i].manifest.node, []).append(module)
    agg, result.contributors = aggregate_deltas(
        deltas, bounded_weights([u.manifest.num_samples for u in good], settings.max_weight_multiple),
        settings.method, settings.trim_fraction, left_out)
    result.changed_modules = sorted(agg)
    result.change = {m: {k: t * settings.coefficient for k, t in ps.items()} for m, ps in agg.items()}
    return result


def merge_back(
    cloud: ModularEncoder,
    updates: Sequence[EdgeUpdate],
    settings: MergeSettings,
    evaluate: Evaluate,
    base_revision: int,
    module_hashes: Mapping[str, Mapping[str, str]] | None = None,
) -> MergeResult:
    """:func:`aggregate_round`, then the cloud model with the change applied (uncompressed),
    evaluated and gated."""
    result = aggregate_round(cloud, updates, settings, base_revision, module_hashes)
    if result.change is None:
        return result
    candidate = apply_update(cloud, result.change)
    candidate.eval()
    result.current_metrics = evaluate(cloud)
    result.candidate_metrics = evaluate(candidate)
    result.decision = gate(result.current_metrics, result.candidate_metrics, settings.gate_tolerance, settings.max_slice_drop)
    result.candidate = candidate
    return result
