"""Intent corpus: read CSV/JSONL (local path or s3://), map columns, derive domains, clean, scrub.

Nothing here knows a particular corpus: a ``CorpusSpec`` names the columns and, when the corpus
has no domain column, a ``DomainRule`` derives the domain from a tag column. The Bitext spec
(``BITEXT_SPEC``) is only a default configuration.

Cleaning, in this order (each removal is counted by reason):
1. unicode NFKC, control characters dropped, whitespace runs collapsed to one space;
2. ``empty_text`` / ``missing_label`` / ``no_domain``;
3. PII scrubbing (``ecc_workloads.pii.scrubber``) — before de-duplication, so two messages that differ
   only by an order number are duplicates after scrubbing;
4. ``too_short`` (fewer than ``min_length`` characters or ``min_words`` words after scrubbing);
5. ``exact_duplicate``: identical scrubbed text;
6. ``near_duplicate``: same key after case-folding, dropping punctuation/symbols and collapsing
   whitespace (typos are NOT merged: they are a domain). Within a group the kept row is the
   one with the smallest text, so the result does not depend on the input order;
   ``conflicting_labels``: a group whose rows disagree on the label is dropped whole.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ecc_workloads.pii import scrubber
from ecc_workloads.contracts import CleaningSpec


UNLABELLED_SPLIT = "unlabelled"
"""``<name>.jsonl`` beside train/val/test holding the unlabelled rows (CleaningSpec.keep_unlabelled)."""


class CorpusError(ValueError):
    """Bad corpus input: unreadable file, unknown format, missing column."""


# ---------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------
class DomainRuleEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    domain: str = Field(min_length=1)
    require: list[str] = Field(default_factory=list, description="tags that must all be present")
    exclude: list[str] = Field(default_factory=list, description="tags that must all be absent")


class DomainRule(BaseModel):
    """Domain from a tag column: the first entry whose required tags are all present and whose
    excluded tags are all absent wins; ``default`` names the domain of rows no entry matches
    (None: such rows are removed as ``no_domain``)."""

    model_config = ConfigDict(extra="forbid")

    column: str
    tag_format: Literal["chars", "whitespace", "comma", "semicolon", "pipe"] = "chars"
    rules: list[DomainRuleEntry] = Field(min_length=1)
    default: str | None = None

    def tags_of(self, value: str) -> set[str]:
        value = value or ""
        if self.tag_format == "chars":
            return {ch for ch in value if not ch.isspace() and ch not in ",;|"}
        sep = {"whitespace": None, "comma": ",", "semicolon": ";", "pipe": "|"}[self.tag_format]
        return {t.strip() for t in value.split(sep) if t.strip()}

    def domain_of(self, value: str) -> str | None:
        tags = self.tags_of(value)
        for entry in self.rules:
            if all(t in tags for t in entry.require) and not any(t in tags for t in entry.exclude):
                return entry.domain
        return self.default


class EntityColumns(BaseModel):
    """Optional per-row entity annotation, used only to measure scrubbing recall."""

    model_config = ConfigDict(extra="forbid")

    type_col: str
    value_col: str
    start_col: str | None = None
    end_col: str | None = None
    personal_types: list[str] = Field(min_length=1, description="entity types that are personal data")


class CorpusSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text_col: str
    label_col: str
    domain_col: str | None = None
    domain_rule: DomainRule | None = None
    response_col: str | None = None
    entities: EntityColumns | None = None
    format: Literal["auto", "csv", "tsv", "jsonl"] = "auto"
    cleaning: CleaningSpec = Field(default_factory=CleaningSpec)

    @model_validator(mode="after")
    def _one_domain_source(self) -> "CorpusSpec":
        if self.domain_col and self.domain_rule:
            raise ValueError("set domain_col or domain_rule, not both")
        return self

    def required_columns(self) -> dict[str, str]:
        """column name → the role it plays (for error messages)."""
        cols = {self.text_col: "text_col", self.label_col: "label_col"}
        if self.domain_col:
            cols[self.domain_col] = "domain_col"
        if self.domain_rule:
            cols[self.domain_rule.column] = "domain_rule.column"
        if self.response_col:
            cols[self.response_col] = "response_col"
        if self.entities:
            cols[self.entities.type_col] = "entities.type_col"
            cols[self.entities.value_col] = "entities.value_col"
        return cols


# Bitext's language-variation tags → domains (documented in docs/data.md). Z (typos) wins over
# K (keyword) and Q (colloquial); K wins over Q.
BITEXT_DOMAIN_RULE = DomainRule(
    column="tags",
    tag_format="chars",
    rules=[
        DomainRuleEntry(domain="typos", require=["Z"]),
        DomainRuleEntry(domain="keyword", require=["K"], exclude=["Z"]),
        DomainRuleEntry(domain="colloquial", require=["Q"], exclude=["Z", "K"]),
        DomainRuleEntry(domain="base", exclude=["Q", "Z", "K"]),
    ],
)
BITEXT_SPEC = CorpusSpec(
    text_col="instruction",
    label_col="intent",
    domain_rule=BITEXT_DOMAIN_RULE,
    response_col="response",
    entities=EntityColumns(
        type_col="entity_type",
        value_col="entity_value",
        start_col="start_offset",
        end_col="end_offset",
        personal_types=["order_id", "invoice_id", "person_name"],
    ),
)


class Example(BaseModel):
    """One cleaned row."""

    model_config = ConfigDict(extra="forbid")

    id: str
    text: str
    label: str = Field(description="the intent; '' only for an unlabelled row (CleaningSpec.keep_unlabelled)")
    domain: str | None = None
    response: str | None = None


class CleanReport(BaseModel):
    rows_in: int
    rows_out: int
    unlabelled_out: int = Field(0, description="unlabelled rows kept (keep_unlabelled), not in rows_out")
    removed: dict[str, int]
    pii_spans: dict[str, int] = Field(description="scrubbed spans per placeholder type")
    rows_with_pii: int


class CleanResult(BaseModel):
    examples: list[Example]
    report: CleanReport
    unlabelled: list[Example] = Field(default_factory=list, description="label ''; only with keep_unlabelled")


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------

def iter_jsonl(text: str, source: str):
    """(line number, object) for every non-blank line of a JSONL text; a line that is not a
    JSON object is a CorpusError naming the source and the line."""
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{source} line {n}: not JSON: {exc}") from exc
        if not isinstance(obj, dict):
            raise CorpusError(f"{source} line {n}: expected a JSON object, got {type(obj).__name__}")
        yield n, obj

def _detect_format(source: str, fmt: str) -> str:
    if fmt != "auto":
        return fmt
    name = source.lower()
    for suffix, kind in ((".csv", "csv"), (".tsv", "tsv"), (".jsonl", "jsonl"), (".ndjson", "jsonl")):
        if name.endswith(suffix) or name.endswith(suffix + ".gz"):
            return kind
    raise CorpusError(f"cannot tell the format of {source!r} from its name: use .csv, .tsv or .jsonl, or set format")


def _read_bytes(source: str, store=None) -> bytes:
    from ecc_workloads.store import is_s3_uri

    if is_s3_uri(source):
        if store is None:
            from ecc_workloads.store import Store

            store = Store.from_env()
        data = store.get_bytes(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise CorpusError(f"corpus file not found: {source}")
        data = path.read_bytes()
    if source.lower().endswith(".gz"):
        import gzip

        data = gzip.decompress(data)
    return data


def parse_records(data: bytes, fmt: str, source: str = "<bytes>") -> list[dict]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{source} is not UTF-8: {exc}") from exc
    if fmt in ("csv", "tsv"):
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter="," if fmt == "csv" else "\t")
        if not reader.fieldnames:
            raise CorpusError(f"{source} has no header row")
        rows = []
        for row in reader:
            if None in row:
                raise CorpusError(f"{source} line {reader.line_num}: more fields than the header has")
            rows.append(row)
        return rows
    if fmt == "jsonl":
        return [obj for _, obj in iter_jsonl(text, source)]
    raise CorpusError(f"unknown corpus format {fmt!r}: use csv, tsv or jsonl")


def read_records(source: str, fmt: str = "auto", store=None) -> list[dict]:
    """Rows of a CSV/TSV/JSONL file at a local path or an s3:// URI, as dicts."""
    kind = _detect_format(source, fmt)
    return parse_records(_read_bytes(source, store), kind, source)


def check_columns(records: list[dict], spec: CorpusSpec, source: str) -> None:
    if not records:
        raise CorpusError(f"{source} has no rows")
    present: list[str] = []
    for rec in records:
        for key in rec:
            if key not in present:
                present.append(key)
    missing = [(col, role) for col, role in spec.required_columns().items() if col not in present]
    if missing:
        what = ", ".join(f"{col!r} ({role})" for col, role in missing)
        raise CorpusError(f"{source}: column {what} not found; columns present: {', '.join(present)}")


# ---------------------------------------------------------------------------
# Cleaning (pure)
# ---------------------------------------------------------------------------
_CONTROL = {c for c in range(32)} | {127}


def normalize_text(value, keep_newlines: bool = False) -> str:
    """NFKC, control characters removed, whitespace collapsed (newlines kept if asked)."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    text = "".join(ch for ch in text if ord(ch) not in _CONTROL or ch in "\n\t ")
    text = text.replace("\u200b", "").replace("\ufeff", "")
    if keep_newlines:
        lines = [" ".join(line.split()) for line in text.splitlines()]
        return "\n".join(lines).strip()
    return " ".join(text.split())


def near_duplicate_key(text: str) -> str:
    """Case-folded, punctuation and symbols dropped, whitespace collapsed."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    kept = "".join(" " if unicodedata.category(ch)[0] in "PS" else ch for ch in folded)
    return " ".join(kept.split())


def example_id(text: str) -> str:
    """Stable id of a cleaned text (unique once exact duplicates are dropped)."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _cell(rec: dict, col: str | None):
    if col is None:
        return None
    value = rec.get(col)
    return None if value is None else str(value)


def clean(records: list[dict], spec: CorpusSpec) -> CleanResult:
    opts = spec.cleaning
    removed: Counter[str] = Counter()
    pii_spans: Counter[str] = Counter()
    rows_with_pii = 0
    candidates: list[Example] = []
    for rec in records:
        text = normalize_text(_cell(rec, spec.text_col))
        label = normalize_text(_cell(rec, spec.label_col))
        if not text:
            removed["empty_text"] += 1
            continue
        if not label and not opts.keep_unlabelled:
            removed["missing_label"] += 1
            continue
        if spec.domain_col:
            domain = normalize_text(_cell(rec, spec.domain_col)) or None
        elif spec.domain_rule:
            domain = spec.domain_rule.domain_of(_cell(rec, spec.domain_rule.column) or "")
        else:
            domain = None
        if (spec.domain_col or spec.domain_rule) and domain is None:
            removed["no_domain"] += 1
            continue
        response = normalize_text(_cell(rec, spec.response_col), keep_newlines=True) if spec.response_col else None
        if opts.scrub_pii:
            result = scrubber.scrub(text)
            text = result.text
            if result.spans:
                rows_with_pii += 1
            for span in result.spans:
                pii_spans[span.kind.value] += 1
            if response:
                response = scrubber.scrub_text(response)
        if len(text) < opts.min_length or len(text.split()) < opts.min_words:
            removed["too_short"] += 1
            continue
        candidates.append(Example(id=example_id(text), text=text, label=label, domain=domain, response=response or None))

    # labelled rows first: an unlabelled duplicate of a labelled row is the one dropped
    kept = sorted(candidates, key=lambda ex: ex.label == "")
    if opts.dedupe in ("exact", "near"):
        seen: dict[str, Example] = {}
        for ex in kept:
            if ex.text in seen:
                removed["exact_duplicate"] += 1
            else:
                seen[ex.text] = ex
        kept = list(seen.values())
    if opts.dedupe == "near":
        groups: dict[str, list[Example]] = {}
        for ex in kept:
            groups.setdefault(near_duplicate_key(ex.text), []).append(ex)
        kept = []
        for members in groups.values():
            if len({m.label for m in members if m.label}) > 1:
                removed["conflicting_labels"] += len(members)
                continue
            members.sort(key=lambda m: (m.label == "", m.text))
            kept.append(members[0])
            removed["near_duplicate"] += len(members) - 1
    removed = Counter({k: v for k, v in removed.items() if v})
    kept.sort(key=lambda ex: ex.id)
    unlabelled = [ex for ex in kept if not ex.label]
    kept = [ex for ex in kept if ex.label]
    report = CleanReport(
        rows_in=len(records),
        rows_out=len(kept),
        unlabelled_out=len(unlabelled),
        removed=dict(sorted(removed.items())),
        pii_spans=dict(sorted(pii_spans.items())),
        rows_with_pii=rows_with_pii,
    )
    return CleanResult(examples=kept, report=report, unlabelled=unlabelled)


def annotated_entities(records: list[dict], spec: CorpusSpec) -> tuple[list[scrubber.AnnotatedEntity], list[str]]:
    """(annotated rows as entities, texts of rows without annotation) for scrub scoring.
    Texts are normalised the same way ``clean`` normalises them before scrubbing."""
    if spec.entities is None:
        return [], []
    cols = spec.entities
    entities: list[scrubber.AnnotatedEntity] = []
    plain: list[str] = []

    def _int(rec, col):
        try:
            return int(rec[col]) if col and rec.get(col) not in (None, "") else None
        except (TypeError, ValueError):
            return None

    for rec in records:
        raw = _cell(rec, spec.text_col) or ""
        etype = (_cell(rec, cols.type_col) or "").strip()
        if etype:
            # offsets refer to the raw text; locate_entity searches the value first anyway
            entities.append(
                scrubber.AnnotatedEntity(raw, etype, _cell(rec, cols.value_col) or "", _int(rec, cols.start_col), _int(rec, cols.end_col))
            )
        elif raw.strip():
            plain.append(raw)
    return entities, plain


def measure_scrubbing(records: list[dict], spec: CorpusSpec) -> dict | None:
    """Recall/precision on the corpus's own annotations, or None if the spec has none."""
    if spec.entities is None:
        return None
    entities, plain = annotated_entities(records, spec)
    return scrubber.score_annotated(entities, plain, set(spec.entities.personal_types))


def write_jsonl(examples: list[Example]) -> bytes:
    return "".join(ex.model_dump_json(exclude_none=True) + "\n" for ex in examples).encode()


def load_spec(path: str) -> CorpusSpec:
    """A CorpusSpec from a JSON file."""
    try:
        return CorpusSpec.model_validate_json(Path(path).read_text())
    except FileNotFoundError as exc:
        raise CorpusError(f"corpus spec file not found: {path}") from exc

