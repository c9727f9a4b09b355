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

(c) held-out evaluation (``--eval``): the sets of ``benchmarks/pii_data/`` built once by
    ``benchmarks/pii_build_eval.py`` — personal data of 14 types from Faker in locales and
    templates never used in development, and clean customer-service sentences from other
    domains (every span there is a false positive). Development: ``*_dev``, ``*_dev2``,
    ``*_heldout_v2`` (looked at row by row in round 3), ``*_heldout_v3`` (looked at row by
    row in round 4), ``*_heldout_v4`` (looked at row by row in round 5), ``*_heldout_v5``
    (looked at row by row in round 6), ``*_heldout_v6`` (scored once in round 6, read after it),
    the SNIPS and HWU64 intent corpora (``benchmarks/corpora``, read in round 7), ``*_heldout_v7``
    (scored once after round 7, read after it) and ``*_heldout_v8`` (scored once after round 8); held out:
    ``*_heldout_v9`` (built before that run, never scored: the next change is measured on it once).
    Recall per type, the clean-row alteration
    rate, span precision on held-out + clean rows, throughput per core and the NER cost, for
    the rules path (``ner=False``, the edge) and the NER path (``ner=None``); ``--before``
    adds the same figures for the scrubber of a git revision (default HEAD).
(d) learning cost (``--learning``): the teacher's encoder (all-MiniLM-L6-v2, frozen) with a
    linear intent head trained on the Bitext train split and scored on its test split, with
    and without scrubbing.

Usage:
    python benchmarks/pii.py [--corpus PATH] [--n 3000] [--seed 7] --out DIR
    python benchmarks/pii.py --eval [--dev-only] [--before HEAD] [--errors] [--learning] --out DIR

Needs the `faker` package for (b) (pip install faker==40.54.0). `run()` is importable from
the learning benchmark; it returns the same dict that is written to DIR/pii.json. Some Faker
providers draw from sets, so rows are reproducible only with PYTHONHASHSEED=0 (main() pins it;
a caller of run() should start its process with it).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ecc_workloads.pii import scrubber  # noqa: E402
from ecc_workloads.data.corpus import read_records  # noqa: E402
from ecc_workloads.data.datasets import bitext_csv  # noqa: E402

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
                    scrubber.AnnotatedEntity(rec[text_col], etype, rec.get(entity_value_col) or "", _int(start_col), _int(end_col))
                )
            else:
                plain.append(rec[text_col])
        annotated = scrubber.score_annotated(entities, plain, set(personal_types))
        hosts = plain
    else:
        hosts = [rec[text_col] for rec in records]
    injected = scrubber.score_rows(inject(hosts, n, seed), criterion="coverage")
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


DATA = Path(__file__).with_name("pii_data")
CORPORA = Path(__file__).with_name("corpora")


def _load_set(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / f"{name}.jsonl").open(encoding="utf-8")]


def score_set(rows: list[dict], scrub, errors: list[dict] | None = None, label: str = "") -> dict:
    """Recall per type (coverage criterion), rows with any span outside the truth, spans.
    ``errors``: if given, every miss and every wrong span is appended to it (one dict per error,
    with the row's template and locale, for grouping by cause)."""
    recall: dict[str, list[int]] = {}
    altered = 0
    spans_total = spans_correct = 0
    false_pos: list[dict] = []
    for row in rows:
        text = row["text"]
        result = scrub(text)
        truths = [(e["start"], e["end"]) for e in row["entities"]]
        for e in row["entities"]:
            ok = scrubber.value_covered(text, (e["start"], e["end"]), result.spans)
            cell = recall.setdefault(e["type"], [0, 0])
            cell[0] += int(ok)
            cell[1] += 1
            if not ok and errors is not None:
                errors.append({"path": label, "set": row.get("set"), "error": "miss", "type": e["type"],
                               "value": text[e["start"]:e["end"]], "template": row.get("template"),
                               "locale": row.get("locale"), "text": text, "scrubbed": result.text})
        wrong = [sp for sp in result.spans if not any(scrubber.overlaps((sp.start, sp.end), t) for t in truths)]
        spans_total += len(result.spans)
        spans_correct += len(result.spans) - len(wrong)
        altered += bool(wrong)
        if wrong and len(false_pos) < 20:
            false_pos.append({"text": text, "spans": [(sp.kind.value, sp.value) for sp in wrong]})
        if errors is not None:
            for sp in wrong:
                errors.append({"path": label, "set": row.get("set"), "error": "false_span", "type": sp.kind.value,
                               "value": sp.value, "template": row.get("template"), "locale": row.get("locale"),
                               "text": text, "scrubbed": result.text})
    return {
        "rows": len(rows),
        "recall": {k: {"found": v[0], "total": v[1], "recall": v[0] / v[1]} for k, v in sorted(recall.items())},
        "rows_with_false_positive": altered,
        "false_positive_row_rate": altered / len(rows) if rows else None,
        "spans": spans_total,
        "correct_spans": spans_correct,
        "false_positive_examples": false_pos,
    }


def _old_scrubber(rev: str):
    """The scrubber of git revision ``rev`` with, where the revision has them, its helper modules,
    loaded as a package of their own so the "before" figures do not mix old and new code. Reads
    both layouts: ``ecc_workloads/pii/{scrubber,ids,names,normalise}.py`` and the flat one before
    it (``ecc_workloads/pii.py``, ``pii_ids.py``, ``pii_names.py``, ``pii_norm.py``)."""
    import importlib
    import subprocess
    import tempfile

    root = Path(__file__).resolve().parents[1]
    pkg = Path(tempfile.mkdtemp()) / "pii_before"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    layouts = {"scrubber": ("pii/scrubber", "pii"), "ids": ("pii/ids", "pii_ids"),
               "names": ("pii/names", "pii_names"), "normalise": ("pii/normalise", "pii_norm")}
    flat = {"pii_ids": "ids", "pii_names": "names", "pii_norm": "normalise"}
    for name, paths in layouts.items():
        for path in paths:
            got = subprocess.run(["git", "show", f"{rev}:ecc_workloads/{path}.py"], cwd=root,
                                 capture_output=True, text=True)
            if got.returncode == 0:
                break
        else:
            if name == "scrubber":
                raise SystemExit(f"{rev} has neither ecc_workloads/pii/scrubber.py nor ecc_workloads/pii.py")
            continue
        src = got.stdout.replace("from ecc_workloads.pii.", "from pii_before.")
        src = src.replace("from ecc_workloads.pii import", "from pii_before import")
        for old, new in flat.items():
            src = src.replace(f"from ecc_workloads.{old} import", f"from pii_before.{new} import")
        src = src.replace("from ecc_workloads import pii_ids, pii_names",
                          "from pii_before import ids as pii_ids, names as pii_names")
        src = src.replace("from ecc_workloads import pii_names", "from pii_before import names as pii_names")
        (pkg / f"{name}.py").write_text(src)
    sys.path.insert(0, str(pkg.parent))
    try:
        return importlib.import_module("pii_before.scrubber")
    finally:
        sys.path.remove(str(pkg.parent))


def _throughput(scrub, texts: list[str]) -> float:
    t0 = time.process_time()
    for text in texts:
        scrub(text)
    return len(texts) / max(time.process_time() - t0, 1e-9)


# held-out v2 was looked at row by row in round 3, v3 in round 4, v4 in round 5, v5 in round 6, v6 after
# its one run in round 6, v7 after its one run in round 7, v8 after its one run in round 8: development data now
DEV_SETS = ("injected_dev", "injected_dev2", "injected_heldout_v2", "injected_heldout_v3", "injected_heldout_v4",
            "injected_heldout_v5", "clean_dev", "clean_dev2", "clean_heldout_v2", "clean_heldout_v3",
            "clean_heldout_v4", "clean_heldout_v5", "injected_heldout_v6", "clean_heldout_v6", "injected_heldout_v7",
            "clean_heldout_v7", "injected_heldout_v8", "clean_heldout_v8")
HELDOUT_SETS = ("injected_heldout_v9", "clean_heldout_v9")
# Intent corpora of other domains (vendored for the learning benchmark): development data for clean text since
# round 7, which read their altered rows. Not all are false positives — HWU64 has contacts' names and e-mails.
OTHER_DOMAINS = {name: [CORPORA / name / f"{split}.csv" for split in ("train", "test")] for name in ("snips", "hwu64")}


def _other_domain_texts() -> dict[str, list[str]]:
    return {name: [row["text"] for path in paths for row in csv.DictReader(path.open(encoding="utf-8"))]
            for name, paths in OTHER_DOMAINS.items()}


def score_other_domain(texts: list[str], scrub) -> dict:
    """Rows of a corpus of another domain that scrubbing alters, and the types of the spans."""
    by_type: dict[str, int] = {}
    altered = 0
    for text in texts:
        spans = scrub(text).spans
        altered += bool(spans)
        for sp in spans:
            by_type[sp.kind.value] = by_type.get(sp.kind.value, 0) + 1
    return {"rows": len(texts), "rows_altered": altered, "rate": altered / len(texts) if texts else None,
            "spans_by_type": dict(sorted(by_type.items()))}


def run_eval(before: str | None = "HEAD", heldout: bool = True, throughput: bool = True,
             errors: list[dict] | None = None) -> dict:
    """Score the development sets and (``heldout``) the held-out sets (``HELDOUT_SETS``). The held-out sets
    are for the final measurement only: iterate with ``heldout=False``. ``errors``: collects every
    miss and wrong span (see ``score_set``)."""
    names = DEV_SETS + (HELDOUT_SETS if heldout else ())
    sets = {name: _load_set(name) for name in names}
    bitext_plain = [r["instruction"] for r in read_records(DEFAULT_CORPUS) if not r.get("entity_type")]
    other = _other_domain_texts()
    paths = {
        "rules (edge)": lambda t: scrubber.scrub(t, ner=False),
        "rules+ner (corpus prepare)": lambda t: scrubber.scrub(t, ner=None),
    }
    if before:
        old = _old_scrubber(before)
        paths = {f"before ({before})": old.scrub, **paths}
    inj, clean = HELDOUT_SETS if heldout else ("injected_heldout_v4", "clean_heldout_v4")
    out: dict = {"backend": scrubber.backend(), "headline_sets": [inj, clean], "paths": {}}
    sample = [r["text"] for r in sets[inj][::3]] + [r["text"] for r in sets[clean]] + bitext_plain[:1000]
    for label, scrub in paths.items():
        block = {name: score_set(rows, scrub, errors if errors is not None and not label.startswith("before") else None,
                                 label) for name, rows in sets.items()}
        held, cl = block[inj], block[clean]
        block["headline_span_precision"] = (held["correct_spans"] + cl["correct_spans"]) / max(held["spans"] + cl["spans"], 1)
        block["clean_span_precision"] = cl["correct_spans"] / max(cl["spans"], 1) if cl["spans"] else None
        block["headline_recall_min"] = min(c["recall"] for c in held["recall"].values())
        block["bitext_unannotated_rows_altered"] = sum(scrub(t).spans != () for t in bitext_plain)
        block["other_domains"] = {name: score_other_domain(texts, scrub) for name, texts in other.items()}
        if throughput:
            block["utterances_per_second_one_core"] = round(_throughput(scrub, sample), 1)
        out["paths"][label] = block
    # the NER model's own cost: every text through it, no gating
    if throughput and scrubber.names.load_ner() is not None:
        nlp_texts = sample[:1000]
        t0 = time.process_time()
        for text in nlp_texts:
            scrubber.names.ner_persons(text)
        out["ner_cpu_seconds_per_1000_utterances_ungated"] = round((time.process_time() - t0) / len(nlp_texts) * 1000, 2)
        gated = sum(scrubber._ner_worth_running(t) for t in nlp_texts)
        out["ner_gated_fraction"] = gated / len(nlp_texts)
    return out


def run_learning(max_train: int | None = None, epochs: int = 60) -> dict:
    """Teacher's frozen encoder + a linear intent head, Bitext train → test, with/without scrubbing."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from ecc_workloads.data.corpus import BITEXT_SPEC, clean
    from ecc_workloads.learning.modular import minilm_path
    from ecc_workloads.data.splits import split

    torch.manual_seed(0)
    torch.set_num_threads(1)
    tok = AutoTokenizer.from_pretrained(minilm_path())
    model = AutoModel.from_pretrained(minilm_path()).eval()

    @torch.no_grad()
    def embed(texts: list[str]) -> torch.Tensor:
        outs = []
        for i in range(0, len(texts), 64):
            batch = tok(texts[i:i + 64], padding=True, truncation=True, max_length=64, return_tensors="pt")
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).float()
            outs.append(torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1))
        return torch.cat(outs)

    records = read_records(DEFAULT_CORPUS)
    result: dict = {"encoder": "all-MiniLM-L6-v2 (frozen, mean-pooled) + linear head", "epochs": epochs}
    for variant, scrub_on in (("without_scrubbing", False), ("with_scrubbing", True)):
        spec = BITEXT_SPEC.model_copy(update={"cleaning": BITEXT_SPEC.cleaning.model_copy(update={"scrub_pii": scrub_on})})
        cleaned = clean(records, spec)
        parts = split(cleaned.examples)
        train, test = parts["train"][:max_train] if max_train else parts["train"], parts["test"]
        labels = sorted({e.label for e in cleaned.examples})
        index = {lab: i for i, lab in enumerate(labels)}
        xtr, xte = embed([e.text for e in train]), embed([e.text for e in test])
        ytr = torch.tensor([index[e.label] for e in train])
        yte = torch.tensor([index[e.label] for e in test])
        head = torch.nn.Linear(xtr.shape[1], len(labels))
        opt = torch.optim.Adam(head.parameters(), lr=0.05)
        for _ in range(epochs):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(head(xtr * 10), ytr)
            loss.backward()
            opt.step()
        acc = (head(xte * 10).argmax(1) == yte).float().mean().item()
        result[variant] = {"train": len(train), "test": len(test), "accuracy": round(acc, 4),
                           "rows_with_pii": cleaned.report.rows_with_pii, "pii_spans": cleaned.report.pii_spans}
    return result


def print_eval(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    paths = result["paths"]
    inj, clean = result["headline_sets"]
    types = sorted({k for block in paths.values() for k in block[inj]["recall"]})
    table = Table(title=f"{inj}: recall per type")
    table.add_column("type")
    for label in paths:
        table.add_column(label)
    for kind in types:
        cells = []
        for block in paths.values():
            c = block[inj]["recall"].get(kind)
            cells.append(f"{c['recall']:.3f} ({c['found']}/{c['total']})" if c else "-")
        table.add_row(kind, *cells)
    console.print(table)
    t2 = Table(title="Clean text, other sets and cost")
    t2.add_column("measure")
    for label in paths:
        t2.add_column(label)

    def altered(name):
        return lambda b: (f"{b[name]['rows_with_false_positive']}/{b[name]['rows']} "
                          f"({b[name]['false_positive_row_rate']:.2%})") if name in b else "-"

    def min_recall(name):
        return lambda b: f"{min(c['recall'] for c in b[name]['recall'].values()):.3f}" if name in b else "-"

    rows = [(f"{name} rows altered", altered(name)) for name in (*DEV_SETS, *HELDOUT_SETS) if name.startswith("clean")]
    rows += [(f"{name} min recall", min_recall(name)) for name in (*DEV_SETS, *HELDOUT_SETS) if name.startswith("injected")]
    rows += [
        (f"span precision, {inj} + {clean}", lambda b: f"{b['headline_span_precision']:.3f}"),
        (f"span precision, {clean}", lambda b: f"{b['clean_span_precision']:.3f}" if b["clean_span_precision"] is not None else "no spans"),
        ("Bitext rows w/o annotation altered", lambda b: str(b["bitext_unannotated_rows_altered"])),
        *((f"{name} (train + test) rows altered",
           lambda b, name=name: f"{b['other_domains'][name]['rows_altered']}/{b['other_domains'][name]['rows']} "
                                f"({b['other_domains'][name]['rate']:.2%})")
          for name in OTHER_DOMAINS),
        ("utterances/s, one core", lambda b: str(b.get("utterances_per_second_one_core", "-"))),
    ]
    for name, fn in rows:
        t2.add_row(name, *(fn(b) for b in paths.values()))
    console.print(t2)
    if "ner_cpu_seconds_per_1000_utterances_ungated" in result:
        console.print(f"NER model alone: {result['ner_cpu_seconds_per_1000_utterances_ungated']} CPU s per 1,000 "
                      f"utterances (ungated); the default path runs it on {result['ner_gated_fraction']:.0%} of them")


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
    parser.add_argument("--eval", action="store_true", help="(c): the sets of benchmarks/pii_data/")
    parser.add_argument("--dev-only", action="store_true", help="with --eval: development sets only (iterate with this)")
    parser.add_argument("--before", default="HEAD", help="git revision whose scrubber to compare with ('' for none)")
    parser.add_argument("--learning", action="store_true", help="(d): teacher accuracy with/without scrubbing")
    parser.add_argument("--errors", action="store_true",
                        help="with --eval: write every miss and wrong span, one JSON line each, to DIR/pii_errors.jsonl")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.eval or args.learning:
        if args.eval:
            errors: list[dict] | None = [] if args.errors else None
            ev = run_eval(args.before or None, heldout=not args.dev_only, throughput=not args.dev_only, errors=errors)
            (out / "pii_eval.json").write_text(json.dumps(ev, indent=2, ensure_ascii=False))
            if errors is not None:
                with (out / "pii_errors.jsonl").open("w", encoding="utf-8") as fh:
                    for err in errors:
                        fh.write(json.dumps(err, ensure_ascii=False) + "\n")
                print(f"wrote {len(errors)} errors to {out / 'pii_errors.jsonl'}")
            print_eval(ev)
            print(f"wrote {out / 'pii_eval.json'}")
        if args.learning:
            lc = run_learning()
            (out / "pii_learning.json").write_text(json.dumps(lc, indent=2, ensure_ascii=False))
            print(json.dumps(lc, indent=2))
            print(f"wrote {out / 'pii_learning.json'}")
        return
    result = run(args.corpus, text_col=args.text_col, n=args.n, seed=args.seed)
    (out / "pii.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print_table(result)
    print(f"wrote {out / 'pii.json'}")


if __name__ == "__main__":
    main()
