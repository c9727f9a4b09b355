"""Splits: deterministic per seed, independent of input order, stratified; k-shot sampling."""

from __future__ import annotations

from collections import Counter

import pytest

from ecc_workloads.data.corpus import Example, example_id
from ecc_workloads.contracts import SplitsSpec
from ecc_workloads.data.splits import k_shot, split


def _examples():
    out = []
    for label in ("a", "b", "c"):
        for domain, n in (("base", 40), ("typos", 10)):
            for i in range(n):
                text = f"{label} {domain} utterance {i}"
                out.append(Example(id=example_id(text), text=text, label=label, domain=domain))
    return out


def _ids(parts):
    return {name: [ex.id for ex in rows] for name, rows in parts.items()}


def test_same_seed_same_split_regardless_of_order():
    exs = _examples()
    a = split(exs, SplitsSpec(seed=3))
    b = split(list(reversed(exs)), SplitsSpec(seed=3))
    assert _ids(a) == _ids(b)
    c = split(exs, SplitsSpec(seed=4))
    assert _ids(a) != _ids(c)


def test_partition_and_stratification():
    exs = _examples()
    parts = split(exs, SplitsSpec(train=0.6, validation=0.2, test=0.2, seed=1))
    ids = [ex.id for rows in parts.values() for ex in rows]
    assert sorted(ids) == sorted(ex.id for ex in exs)  # a partition: nothing lost, nothing twice
    for name, frac in (("train", 0.6), ("val", 0.2), ("test", 0.2)):
        strata = Counter((ex.label, ex.domain) for ex in parts[name])
        assert strata[("a", "base")] == round(40 * frac)
        assert strata[("c", "typos")] == round(10 * frac)


def test_fractions_must_not_exceed_one():
    with pytest.raises(ValueError, match="must not exceed 1"):
        SplitsSpec(train=0.8, validation=0.1, test=0.2)


def test_fractions_below_one_leave_the_rest_out():
    """The CloudTeacher's splits may add up to less than 1 (the API server accepts it); the Job
    then leaves the rest of every stratum out instead of failing."""
    exs = _examples()
    parts = split(exs, SplitsSpec(train=0.5, validation=0.1, test=0.1, seed=1))
    assert Counter((ex.label, ex.domain) for ex in parts["train"])[("a", "base")] == 20
    assert Counter((ex.label, ex.domain) for ex in parts["val"])[("a", "base")] == 4
    assert Counter((ex.label, ex.domain) for ex in parts["test"])[("a", "base")] == 4
    assert sum(len(rows) for rows in parts.values()) < len(exs)
    ids = [ex.id for rows in parts.values() for ex in rows]
    assert len(ids) == len(set(ids))


def test_k_shot_takes_k_per_label_deterministically():
    exs = _examples()
    picked, rest = k_shot(exs, 5, seed=2)
    assert Counter(ex.label for ex in picked) == {"a": 5, "b": 5, "c": 5}
    assert len(picked) + len(rest) == len(exs)
    assert not {ex.id for ex in picked} & {ex.id for ex in rest}
    again, _ = k_shot(list(reversed(exs)), 5, seed=2)
    assert [ex.id for ex in picked] == [ex.id for ex in again]
    with pytest.raises(ValueError):
        k_shot(exs, -1)
