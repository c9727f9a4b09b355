"""Data card of a prepared corpus: a pydantic document (JSON) and its markdown rendering."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import BaseModel, Field

from ecc_workloads.data.corpus import CleanReport, CorpusSpec, Example


class ScrubFigures(BaseModel):
    """Recall per true personal-data type and precision per found-span category."""

    measure: str = Field(description="annotated | injected")
    recall: dict[str, float | None]
    precision: dict[str, float | None]
    n: dict[str, int] = Field(default_factory=dict, description="true entities per type")


class DataCard(BaseModel):
    kind: str = "DataCard"
    schema_version: int = 1
    source: str
    source_sha256: str
    licence_note: str = ""
    spec: CorpusSpec
    rows_in: int
    rows_out: int
    removed: dict[str, int]
    pii_spans: dict[str, int]
    rows_with_pii: int
    labels: dict[str, int]
    domains: dict[str, int]
    splits: dict[str, int]
    split_domains: dict[str, dict[str, int]]
    split_seed: int
    scrubbing: list[ScrubFigures] = Field(default_factory=list)
    # which PII scrubber made the text: pii.backend() (NER model or rules only, library versions)
    scrubber: dict[str, Any] = Field(default_factory=dict)


def figures_from_report(measure: str, report: dict) -> ScrubFigures:
    """ScrubFigures from a dict made by ``pii.score_rows``/``score_annotated``."""
    return ScrubFigures(
        measure=measure,
        recall={k: v["recall"] for k, v in report["recall"].items()},
        precision={k: v["precision"] for k, v in report["precision"].items()},
        n={k: v["total"] for k, v in report["recall"].items()},
    )


def build(
    *,
    source: str,
    source_sha256: str,
    spec: CorpusSpec,
    report: CleanReport,
    examples: list[Example],
    splits: dict[str, list[Example]],
    split_seed: int,
    scrubbing: list[ScrubFigures],
    licence_note: str = "",
    scrubber: dict[str, Any] | None = None,
) -> DataCard:
    if scrubber is None:
        from ecc_workloads.pii import scrubber as pii

        scrubber = pii.backend()
    labels = Counter(ex.label for ex in examples)
    domains = Counter(str(ex.domain) for ex in examples)
    return DataCard(
        source=source,
        source_sha256=source_sha256,
        licence_note=licence_note,
        spec=spec,
        rows_in=report.rows_in,
        rows_out=report.rows_out,
        removed=report.removed,
        pii_spans=report.pii_spans,
        rows_with_pii=report.rows_with_pii,
        labels=dict(sorted(labels.items())),
        domains=dict(sorted(domains.items())),
        splits={name: len(rows) for name, rows in splits.items()},
        split_domains={
            name: dict(sorted(Counter(str(ex.domain) for ex in rows).items())) for name, rows in splits.items()
        },
        split_seed=split_seed,
        scrubbing=scrubbing,
        scrubber=scrubber,
    )


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def to_markdown(card: DataCard) -> str:
    lines = [
        "# Data card",
        "",
        f"- Source: `{card.source}` (sha256 `{card.source_sha256}`)",
        f"- Columns: text `{card.spec.text_col}`, label `{card.spec.label_col}`, "
        + (
            f"domain `{card.spec.domain_col}`"
            if card.spec.domain_col
            else (f"domain rule on `{card.spec.domain_rule.column}`" if card.spec.domain_rule else "no domain")
        ),
        f"- Rows in: {card.rows_in}; rows out: {card.rows_out}; rows with scrubbed PII: {card.rows_with_pii}",
        f"- Split seed: {card.split_seed}",
    ]
    if card.licence_note:
        lines.append(f"- Licence: {card.licence_note}")
    if card.scrubber:
        lines.append(f"- PII scrubber: backend `{card.scrubber.get('backend', '?')}`, NER `{card.scrubber.get('ner') or 'none'}`")
    if card.spec.domain_rule:
        lines += ["", "## Domain rule (first match wins)", "", "| domain | requires tags | excludes tags |", "|---|---|---|"]
        for entry in card.spec.domain_rule.rules:
            lines.append(f"| {entry.domain} | {' '.join(entry.require) or '—'} | {' '.join(entry.exclude) or '—'} |")
    lines += ["", "## Rows removed by reason", "", "| reason | rows |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in card.removed.items()] or ["| (none) | 0 |"]
    lines += ["", "## Scrubbed spans by placeholder", "", "| placeholder | spans |", "|---|---|"]
    lines += [f"| {{{{{k}}}}} | {v} |" for k, v in card.pii_spans.items()] or ["| (none) | 0 |"]
    lines += ["", "## Domains", "", "| domain | rows | " + " | ".join(card.splits) + " |", "|---|---|" + "---|" * len(card.splits)]
    for domain, n in card.domains.items():
        per = [str(card.split_domains[s].get(domain, 0)) for s in card.splits]
        lines.append(f"| {domain} | {n} | " + " | ".join(per) + " |")
    lines.append("| **all** | " + str(card.rows_out) + " | " + " | ".join(str(v) for v in card.splits.values()) + " |")
    lines += ["", "## Labels", "", "| label | rows |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in card.labels.items()]
    if card.scrubbing:
        lines += ["", "## PII scrubbing", ""]
        for fig in card.scrubbing:
            lines += [f"### {fig.measure}", "", "| true type | n | recall |", "|---|---|---|"]
            lines += [f"| {k} | {fig.n.get(k, '')} | {_fmt(v)} |" for k, v in fig.recall.items()]
            lines += ["", "| found-span category | precision |", "|---|---|"]
            lines += [f"| {k} | {_fmt(v)} |" for k, v in fig.precision.items()]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
