"""Seeded, stratified splits and k-shot samples (pure functions).

Determinism: an example's place depends only on the seed, its stratum and its id (a hash of its
normalised text), never on the input order. Within each stratum (label, or label × domain)
examples are ordered by ``sha256(seed, id)`` and cut by the fractions, with the remainder
rounded so every non-empty split of a stratum large enough gets at least one example.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from ecc_workloads.contracts import SplitsSpec
from ecc_workloads.data.corpus import Example
from ecc_workloads.crd_model import FLOAT_SLACK

SPLIT_NAMES = ("train", "val", "test")


def _rank(seed: int, example_id: str) -> str:
    return hashlib.sha256(f"{seed}:{example_id}".encode()).hexdigest()


def _stratum(ex: Example, stratify: str) -> tuple:
    if stratify == "label":
        return (ex.label,)
    if stratify == "domain":
        return (ex.domain,)
    return (ex.label, ex.domain)


def _cut(n: int, fractions: list[float], tie_break: str = "") -> list[int]:
    """Sizes per split summing to n (largest remainder), each non-zero fraction ≥ 1 when n allows.
    Equal remainders are broken by a hash of ``tie_break`` (the stratum), so that over many
    strata no split is favoured."""
    raw = [n * f for f in fractions]
    sizes = [int(x) for x in raw]
    order = sorted(
        range(len(raw)),
        key=lambda i: (-round(raw[i] - sizes[i], 9), hashlib.sha256(f"{tie_break}:{i}".encode()).hexdigest()),
    )
    for i in order[: n - sum(sizes)]:
        sizes[i] += 1
    for i, f in enumerate(fractions):
        if f > 0 and sizes[i] == 0:
            donor = max(range(len(sizes)), key=lambda j: sizes[j])
            if sizes[donor] > 1:
                sizes[donor] -= 1
                sizes[i] += 1
    return sizes


def split(examples: list[Example], config: SplitsSpec | None = None) -> dict[str, list[Example]]:
    """train/val/test, stratified and seeded; each list sorted by id. Fractions that add up to
    less than 1 leave the rest of every stratum out (SplitsSpec)."""
    config = config or SplitsSpec()
    strata: dict[tuple, list[Example]] = defaultdict(list)
    for ex in examples:
        strata[_stratum(ex, config.stratify)].append(ex)
    out: dict[str, list[Example]] = {name: [] for name in SPLIT_NAMES}
    fractions = [config.train, config.validation, config.test]
    rest = 1.0 - sum(fractions)
    fractions.append(rest if rest > FLOAT_SLACK else 0.0)  # the rows left out
    for key in sorted(strata, key=repr):
        members = sorted(strata[key], key=lambda ex: _rank(config.seed, ex.id))
        start = 0
        for name, size in zip(SPLIT_NAMES, _cut(len(members), fractions, f"{config.seed}:{key!r}")):
            out[name].extend(members[start:start + size])
            start += size
    return {name: sorted(rows, key=lambda ex: ex.id) for name, rows in out.items()}


def by_domain(examples: list[Example]) -> dict[str | None, list[Example]]:
    groups: dict[str | None, list[Example]] = defaultdict(list)
    for ex in examples:
        groups[ex.domain].append(ex)
    return dict(groups)


def k_shot(examples: list[Example], k: int, seed: int = 13) -> tuple[list[Example], list[Example]]:
    """(k examples per label, the rest). Labels with fewer than k examples give all they have."""
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    per_label: dict[str, list[Example]] = defaultdict(list)
    for ex in examples:
        per_label[ex.label].append(ex)
    picked: list[Example] = []
    rest: list[Example] = []
    for label in sorted(per_label):
        members = sorted(per_label[label], key=lambda ex: _rank(seed, ex.id))
        picked.extend(members[:k])
        rest.extend(members[k:])
    return sorted(picked, key=lambda ex: ex.id), sorted(rest, key=lambda ex: ex.id)
