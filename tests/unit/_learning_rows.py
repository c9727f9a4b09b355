"""Tiny adapter the learning tests use to read intent rows from the Bitext CSV (the packaged
copy, or $ECC_BITEXT_CSV when set).

Swap for ecc_workloads.data.corpus once it lands (kept to one function on purpose)."""

from __future__ import annotations

import csv
import random
from pathlib import Path

from ecc_workloads.data import datasets

BITEXT_CSV = Path(datasets.bitext_source())


def bitext_rows(intents: list[str], per_intent: int, seed: int = 0, skip: int = 0) -> list[tuple[str, str, str]]:
    """(text, intent, tags) rows, ``per_intent`` of each intent, deterministic for a seed."""
    if not BITEXT_CSV.exists():
        raise FileNotFoundError(f"{BITEXT_CSV} is missing: $ECC_BITEXT_CSV must name the Bitext CSV "
                                "(unset: the copy packaged with ecc_workloads)")
    by_intent: dict[str, list[tuple[str, str, str]]] = {i: [] for i in intents}
    with BITEXT_CSV.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["intent"] in by_intent:
                by_intent[row["intent"]].append((row["instruction"].strip(), row["intent"], row["tags"]))
    out = []
    rng = random.Random(seed)
    for intent in intents:
        rows = by_intent[intent]
        rng.shuffle(rows)
        if len(rows) < skip + per_intent:
            raise ValueError(f"intent {intent!r} has {len(rows)} rows, need {skip + per_intent}")
        out.extend(rows[skip : skip + per_intent])
    rng.shuffle(out)
    return out


def tiny_bench_context(learning, workdir, intents: set[str], **settings):
    """(corpus, context) for a benchmark script's smoke test: the Bitext rows of ``intents`` as
    ``learning.Corpus`` (with domains), and a ``learning.Context`` on a tiny random 2-layer
    encoder with one-epoch settings (``settings`` override them). ``learning`` is the script's
    benchmarks/learning.py module."""
    import pytest

    from ecc_workloads.learning import modular
    from ecc_workloads.data.corpus import BITEXT_SPEC, clean, read_records

    if not BITEXT_CSV.exists():
        pytest.fail(f"{BITEXT_CSV} is missing: $ECC_BITEXT_CSV must name the Bitext CSV "
                    "(unset: the copy packaged with ecc_workloads)")
    records = [r for r in read_records(str(BITEXT_CSV)) if r["intent"] in intents]
    corpus = learning.Corpus(clean(records, BITEXT_SPEC).examples, str(BITEXT_CSV), BITEXT_SPEC, True, {})
    ctx = learning.Context(
        tokenizer=modular.load_tokenizer(),
        make_model=lambda labels: modular.tiny_encoder(labels, num_hidden_layers=2, seed=0),
        settings=learning.BenchSettings(**{"mode": "smoke", "teacher_epochs": 1, "student_epochs": 1, "lr": 1e-3,
                                           "head_lr": 5e-3, **settings}),
        workdir=workdir, threads=1, log=lambda msg: None,
    )
    return corpus, ctx
