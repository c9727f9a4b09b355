"""PII scrubbing benchmark: recall and precision per personal-data type, measured two ways.

(a) annotated: the corpus's own entity annotations (Bitext by default: order_id, invoice_id,
    person_name are personal data). An entity counts as scrubbed when no word of the whole token
    that contains it survives (offsets are wrong in about a third of the rows, so the value is
    searched in the text). Every found span that overlaps no annotated personal data counts as
    a false positive, including spans on rows without annotations (strict).
(b) injected: personal data made by Faker (a third-party generator, seeded; several locales)
    is put into the corpus's utterances with templates written like customer messages.
    An injected value counts as scrubbed when every letter and digit of it is inside a found
    span. A found span that overlaps no injected value is a false positive (the host utterances
    are rows without annotated personal data).

Usage:
    python benchmarks/pii.py [--corpus PATH] [--n 3000] [--seed 7] --out DIR

Needs the `faker` package for (b) (pip install faker==40.54.0). `run()` is importable from
the learning benchmark; it returns the same dict that is written to DIR/pii.json. Some Faker
providers draw from sets, so rows are reproducible only with PYTHONHASHSEED=0 (main() pins it;
a caller of run() should start its process with it).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ecc_workloads import pii  # noqa: E402
from ecc_workloads.corpus import read_records  # noqa: E402
from ecc_workloads.datasets import bitext_csv  # noqa: E402

DEFAULT_CORPUS = str(bitext_csv())
LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "en_IE"]

# Templates written as customers write, with and without cue words. {v} is the value.
TEMPLATES: dict[str, list[str]] = {
    "person": [
        "my name is {v}", "this is {v}", "I'm {v}", "I am {v}", "Regards, {v}", "Thanks, {v}",
        "the account is under {v}", "the order was placed by {v}", "name: {v}", "- {v}",
        "please ask {v} to call me back", "it is for {v}", "Hello, {v} here", "Kind regards,\n{v}",
        "the parcel is addressed to {v}", "my wife {v} ordered it", "Cheers, {v}",
    ],
    "email": [
        "my email is {v}", "contact me at {v}", "{v}", "send the invoice to {v}", "e-mail: {v}",
        "you can write to {v}", "my new address is {v}", "reply to {v} please", "({v})",
    ],
    "phone": [
        "call me on {v}", "my number is {v}", "{v}", "phone: {v}", "text me at {v}",
        "you can reach me at {v}", "my mobile is {v}", "tel. {v}", "call {v} after 5pm",
    ],
    "address": [
        "ship it to {v}", "my address is {v}", "I moved to {v}", "deliver to {v}", "{v}",
        "the parcel should go to {v}", "I live at {v}", "new address: {v}", "send it to {v} please",
    ],
    "order": [
        "order {v}", "my order number is {v}", "ref {v}", "{v}", "about invoice {v}",
        "the tracking number is {v}", "purchase {v}", "order no. {v}", "invoice #{v}",
        "booking reference {v}", "({v})", "I got {v} yesterday",
    ],
    "card": [
        "my card {v} was charged twice", "card number {v}", "I paid with {v}", "{v}",
        "charged on {v}",
    ],
}
# Order and invoice numbers in shapes shops use (Faker placeholders: # digit, ? letter).
ORDER_SHAPES = [
    "ORD-########", "#########", "###-#######-#######", "INV/20##/####", "W#########",
    "PO-####-###", "SO#######", "??-##-#####", "??########", "#?#?#?#?", "INV-######",
    "##########", "R-#####-##", "A########", "2024-######", "CS#######",
]


# Hard negatives: things customers write that are NOT personal data (prices, dates, times,
# quantities, cities, shops, colours, versions). Half the injected rows carry one, so a scrubber
# that fires on any number or capitalised word pays for it in precision.
NEGATIVES: list[tuple[str, callable]] = [
    ("I was charged {v}", lambda f, r: f"${r.randint(1, 999)}.{r.randint(0, 99):02d}"),
    ("it was {v} euros", lambda f, r: str(r.randint(2, 2500))),
    ("on {v}", lambda f, r: f.date(pattern=r.choice(["%d/%m/%Y", "%Y-%m-%d", "%B %d", "%d %B %Y"]))),
    ("at {v}", lambda f, r: f.time(pattern=r.choice(["%H:%M", "%I:%M %p"]))),
    ("I ordered {v} items", lambda f, r: str(r.randint(1, 40))),
    ("shipping to {v}", lambda f, r: f.city()),
    ("I bought it from {v}", lambda f, r: f.company()),
    ("since {v}", lambda f, r: f.month_name()),
    ("last {v}", lambda f, r: f.day_of_week()),
    ("the {v} one", lambda f, r: f.color_name()),
    ("app version {v}", lambda f, r: f"{r.randint(1, 19)}.{r.randint(0, 12)}.{r.randint(0, 40)}"),
    ("{v}% off", lambda f, r: str(r.randint(5, 70))),
    ("for {v} years", lambda f, r: str(r.randint(2, 30))),
    ("in {v}", lambda f, r: f.country()),
    ("my {v} broke", lambda f, r: r.choice(["iPhone 15", "Galaxy S24", "ThinkPad X1", "PS5", "Pixel 8a"])),
]


def _value(fake, kind: str, rng: random.Random) -> str:
    if kind == "person":
        return fake.first_name() if rng.random() < 0.3 else f"{fake.first_name()} {fake.last_name()}"
    if kind == "email":
        return rng.choice([fake.email, fake.free_email, fake.company_email, fake.ascii_email])()
    if kind == "phone":
        return fake.phone_number()
    if kind == "address":
        if rng.random() < 0.5:
            return fake.street_address()
        return ", ".join(line.strip() for line in fake.address().splitlines() if line.strip())
    if kind == "order":
        return fake.bothify(rng.choice(ORDER_SHAPES)).upper()
    if kind == "card":
        return fake.credit_card_number()
    raise ValueError(kind)


def inject(hosts: list[str], n: int, seed: int) -> list[tuple[str, list[tuple[str, tuple[int, int]]]]]:
    """``n`` utterances, each a host utterance plus one fragment carrying a generated value."""
    try:
        from faker import Faker
    except ImportError as exc:  # a missing generator is a failure, not a skip
        raise SystemExit("benchmarks/pii.py needs faker: pip install faker==40.54.0") from exc
    rng = random.Random(seed)
    fakers = {}
    for locale in LOCALES:
        fake = Faker(locale)
        fake.seed_instance(seed + LOCALES.index(locale))
        fakers[locale] = fake
    kinds = list(TEMPLATES)
    rows = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        fake = fakers[rng.choice(LOCALES)]
        value = _value(fake, kind, rng)
        template = rng.choice(TEMPLATES[kind])
        head, tail = template.split("{v}")
        fragment = head + value + tail
        host = rng.choice(hosts).strip().rstrip(".?!")
        if rng.random() < 0.5:
            neg_template, neg_value = rng.choice(NEGATIVES)
            host = f"{host}, {neg_template.replace('{v}', neg_value(fake, rng))}"
        if rng.random() < 0.5:
            text = f"{host}. {fragment}"
            start = len(host) + 2 + len(head)
        else:
            text = f"{fragment}. {host}"
            start = len(head)
        rows.append((text, [(kind, (start, start + len(value)))]))
    return rows


def run(
    corpus: str = DEFAULT_CORPUS,
    text_col: str = "instruction",
    entity_type_col: str | None = "entity_type",
    entity_value_col: str | None = "entity_value",
    start_col: str | None = "start_offset",
    end_col: str | None = "end_offset",
    personal_types: tuple[str, ...] = ("order_id", "invoice_id", "person_name"),
    n: int = 3000,
    seed: int = 7,
) -> dict:
    t0 = time.perf_counter()
    records = read_records(corpus)
    annotated = None
    hosts = []
    if entity_type_col and entity_value_col and entity_type_col in records[0]:
        entities, plain = [], []
        for rec in records:
            etype = (rec.get(entity_type_col) or "").strip()
            if etype:
                def _int(col):
                    try:
                        return int(rec[col]) if col and rec.get(col) not in (None, "") else None
                    except ValueError:
                        return None
                entities.append(
                    pii.AnnotatedEntity(rec[text_col], etype, rec.get(entity_value_col) or "", _int(start_col), _int(end_col))
                )
            else:
                plain.append(rec[text_col])
        annotated = pii.score_annotated(entities, plain, set(personal_types))
        hosts = plain
    else:
        hosts = [rec[text_col] for rec in records]
    injected = pii.score_rows(inject(hosts, n, seed), criterion="coverage")
    injected["rows"] = n
    figures = [annotated, injected] if annotated else [injected]
    recalls = [c["recall"] for f in figures for c in f["recall"].values() if c["recall"] is not None]
    precisions = [c["precision"] for f in figures for c in f["precision"].values() if c["precision"] is not None]
    return {
        "corpus": corpus,
        "seed": seed,
        "injected_rows": n,
        "locales": LOCALES,
        "annotated": annotated,
        "injected": injected,
        "pii_recall_min": min(recalls) if recalls else None,
        "pii_precision_min": min(precisions) if precisions else None,
        "seconds": round(time.perf_counter() - t0, 2),
    }


def print_table(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"PII scrubbing (seed {result['seed']})")
    for col in ("measure", "type", "recall", "n", "precision (found spans)", "spans"):
        table.add_column(col)
    for measure in ("annotated", "injected"):
        block = result.get(measure)
        if not block:
            continue
        for kind, cell in block["recall"].items():
            table.add_row(measure, kind, f"{cell['recall']:.4f}", str(cell["total"]), "", "")
        for kind, cell in block["precision"].items():
            table.add_row(measure, kind, "", "", f"{cell['precision']:.4f}", str(cell["spans"]))
    Console().print(table)
    Console().print(
        f"min recall {result['pii_recall_min']:.4f}  min precision {result['pii_precision_min']:.4f}  "
        f"({result['seconds']} s)"
    )


def main() -> None:
    # Some Faker providers pick from sets, whose order follows Python's string hashing:
    # pin it so the same seed gives the same rows in every process.
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable, *sys.argv])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=DEFAULT_CORPUS)
    parser.add_argument("--text-col", default="instruction")
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    result = run(args.corpus, text_col=args.text_col, n=args.n, seed=args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "pii.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print_table(result)
    print(f"wrote {out / 'pii.json'}")


if __name__ == "__main__":
    main()
