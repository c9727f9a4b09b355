"""Tiny adapter the learning tests use to read intent rows from the shared Bitext CSV.

Swap for ecc_workloads.corpus once it lands (kept to one function on purpose)."""

from __future__ import annotations

import csv
import os
import random
from pathlib import Path

BITEXT_CSV = Path(
    os.environ.get(
        "ECC_BITEXT_CSV",
        Path(__file__).resolve().parents[3] / "shared" / "datasets" / "bitext-customer-support" / "bitext_customer_support.csv",
    )
)


def bitext_rows(intents: list[str], per_intent: int, seed: int = 0, skip: int = 0) -> list[tuple[str, str, str]]:
    """(text, intent, tags) rows, ``per_intent`` of each intent, deterministic for a seed."""
    if not BITEXT_CSV.exists():
        raise FileNotFoundError(f"{BITEXT_CSV} is missing: the shared corpus lives in ../shared/datasets (or set ECC_BITEXT_CSV)")
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
