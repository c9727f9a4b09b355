"""Corpus preparation as a pipeline over one contracts.CorpusPrepareJob (`run_prepare`): read a
corpus (path, s3:// or a built-in name), clean and scrub it, split it, and write the splits as
JSONL, a data card and a JobReport (job="corpus-prepare") to a directory or an s3:// prefix.
`ecc job` runs it on the distillation Job's init container spec, `ecc corpus prepare` on one built
from its options."""

from __future__ import annotations

import hashlib
import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ecc_workloads.contracts import (
    CORPUS_LICENCE_FILES,
    CorpusPrepareJob,
    JobReport,
    RuntimeEnv,
)
from ecc_workloads.job_reports import write_failure, write_report

console = Console(stderr=True)


LICENCE_FILE_NAMES = CORPUS_LICENCE_FILES


class _Sink:
    """Writes named outputs to a local directory or under an s3:// prefix."""

    def __init__(self, out: str, store_factory):
        from ecc_workloads.store import is_s3_uri, parse_s3_uri

        self.out = out.rstrip("/")
        self.remote = is_s3_uri(out)
        self._store = None
        self._store_factory = store_factory
        if self.remote:
            parse_s3_uri(self.out + "/x")  # validate early: names the URI if malformed
        else:
            Path(self.out).mkdir(parents=True, exist_ok=True)

    @property
    def store(self):
        if self._store is None:
            self._store = self._store_factory()
        return self._store

    def where(self, name: str) -> str:
        return f"{self.out}/{name}"

    def put(self, name: str, data: bytes) -> str:
        target = self.where(name)
        if self.remote:
            self.store.put_bytes(target, data)
        else:
            Path(target).write_bytes(data)
        return target


def _licence_beside(source: str, store) -> tuple[str, bytes] | None:
    """A licence file next to the source, to ship with the derived data."""
    from ecc_workloads.store import is_s3_uri

    for name in LICENCE_FILE_NAMES:
        if is_s3_uri(source):
            uri = source.rsplit("/", 1)[0] + "/" + name
            if store.exists(uri):
                return name, store.get_bytes(uri)
        else:
            path = Path(source).parent / name
            if path.is_file():
                return name, path.read_bytes()
    return None


def run_prepare(job: CorpusPrepareJob, base_spec=None, pii_report: Path | None = None) -> None:
    """The corpus preparation `job` describes (`ecc corpus prepare` and `ecc job`); `base_spec`:
    a corpus.CorpusSpec whose columns and domain rule replace the preset's (`--spec FILE`)."""
    from ecc_workloads.data import corpus, datacard, datasets, splits
    from ecc_workloads.store import Store

    started = datetime.now(timezone.utc)
    store_cache: dict = {}

    def store_factory():
        if "store" not in store_cache:
            store_cache["store"] = Store.from_env()
        return store_cache["store"]

    out = job.out
    report_target = job.report or os.environ.get(RuntimeEnv.REPORT_URI) or f"{out.rstrip('/')}/report.json"
    t0 = time.perf_counter()
    try:
        source = datasets.resolve_corpus_source(job.source)
        spec = corpus_spec(job, base_spec)
        sink = _Sink(out, store_factory)
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console) as bar:
            task = bar.add_task(f"reading {source}", total=None)
            kind = corpus._detect_format(source, spec.format)
            raw = corpus._read_bytes(source, store_factory() if source.startswith("s3://") else None)
            records = corpus.parse_records(raw, kind, source)
            corpus.check_columns(records, spec, source)
            bar.update(task, description=f"cleaning and scrubbing {len(records)} rows")
            cleaned = corpus.clean(records, spec)
            bar.update(task, description="measuring scrubbing on the corpus's annotations")
            figures = []
            annotated = corpus.measure_scrubbing(records, spec)
            if annotated is not None:
                figures.append(datacard.figures_from_report("annotated", annotated))
            if pii_report is not None:
                injected = json.loads(pii_report.read_text())["injected"]
                figures.append(datacard.figures_from_report("injected", injected))
            bar.update(task, description="splitting")
            parts = splits.split(cleaned.examples, job.splits)
            bar.update(task, description=f"writing to {out}")
            written = [sink.put(f"{name}.jsonl", corpus.write_jsonl(rows)) for name, rows in parts.items()]
            if spec.cleaning.keep_unlabelled:
                written.append(sink.put(f"{corpus.UNLABELLED_SPLIT}.jsonl", corpus.write_jsonl(cleaned.unlabelled)))
            licence = _licence_beside(source, store_factory() if source.startswith("s3://") else None)
            if licence:
                written.append(sink.put(licence[0], licence[1]))
            card = datacard.build(
                source=source,
                source_sha256=hashlib.sha256(raw).hexdigest(),
                spec=spec,
                report=cleaned.report,
                examples=cleaned.examples,
                splits=parts,
                split_seed=job.splits.seed,
                scrubbing=figures,
                licence_note=(f"{licence[0]} from beside the source is shipped with the splits" if licence else ""),
            )
            written.append(sink.put("datacard.json", card.model_dump_json(indent=2).encode()))
            written.append(sink.put("datacard.md", datacard.to_markdown(card).encode()))
        metrics = {
            "rows_in": float(cleaned.report.rows_in),
            "rows_out": float(cleaned.report.rows_out),
            "rows_unlabelled": float(cleaned.report.unlabelled_out),
            "labels": float(len(card.labels)),
            "domains": float(len(card.domains)),
            "seconds": round(time.perf_counter() - t0, 3),
        }
        for name, n in card.splits.items():
            metrics[f"rows_{name}"] = float(n)
        for fig in figures:
            for kind_name, value in fig.recall.items():
                if value is not None:
                    metrics[f"pii_recall_{fig.measure}_{kind_name}"] = value
            for kind_name, value in fig.precision.items():
                if value is not None:
                    metrics[f"pii_precision_{fig.measure}_{kind_name}"] = value
        job = JobReport(
            job="corpus-prepare",
            succeeded=True,
            message=f"{cleaned.report.rows_out} of {cleaned.report.rows_in} rows kept; wrote " + ", ".join(written),
            metrics=metrics,
            started_at=started.isoformat(),
            finished_at=datetime.now(timezone.utc).isoformat(),
        )
        write_report(job, report_target, store_factory)
        _print_summary(card)
        console.print(f"report: {report_target}")
    except Exception as exc:  # the operator reads the report: always write one
        write_failure("corpus-prepare", started, exc, report_target, console, store_factory)
        raise SystemExit(1) from exc


def default_preset(source: str) -> str:
    """The column preset when --preset is not given: a built-in corpus's own, else 'none'."""
    from ecc_workloads.data import datasets

    return source if datasets.is_builtin_corpus(source) else "none"


def corpus_spec(job: CorpusPrepareJob, base=None):
    """The corpus.CorpusSpec `job` reads with: `base` (a --spec file), else its preset's, with the
    job's columns and cleaning on top."""
    from ecc_workloads.data import corpus

    if base is not None:
        spec = base
    elif job.preset == "bitext":
        spec = corpus.BITEXT_SPEC
    elif not (job.text_column and job.label_column):
        raise corpus.CorpusError("give --text-col and --label-col, or --preset bitext, or --spec FILE "
                                 "(a Job spec: textColumn and labelColumn, or preset bitext)")
    else:
        spec = corpus.CorpusSpec(text_col=job.text_column, label_col=job.label_column)
    update: dict = {"cleaning": job.cleaning}
    if job.text_column:
        update["text_col"] = job.text_column
    if job.label_column:
        update["label_col"] = job.label_column
    if job.domain_column:
        update.update(domain_col=job.domain_column, domain_rule=None)
    if job.response_column:
        update["response_col"] = job.response_column
    return corpus.CorpusSpec.model_validate({**spec.model_dump(), **{
        k: (v.model_dump() if hasattr(v, "model_dump") else v) for k, v in update.items()}})


def _print_summary(card) -> None:
    table = Table(title=f"corpus: {card.rows_out} of {card.rows_in} rows kept")
    table.add_column("domain")
    table.add_column("rows", justify="right")
    for name in card.splits:
        table.add_column(name, justify="right")
    for domain, n in card.domains.items():
        table.add_row(domain, str(n), *[str(card.split_domains[s].get(domain, 0)) for s in card.splits])
    console.print(table)
    if card.removed:
        console.print("removed: " + ", ".join(f"{k}={v}" for k, v in card.removed.items()))
    if card.pii_spans:
        console.print("scrubbed: " + ", ".join(f"{k}={v}" for k, v in card.pii_spans.items()))
    for fig in card.scrubbing:
        rec = ", ".join(f"{k} {v:.3f}" for k, v in fig.recall.items() if v is not None)
        prec = ", ".join(f"{k} {v:.3f}" for k, v in fig.precision.items() if v is not None)
        console.print(f"PII {fig.measure}: recall {rec}; precision {prec}")
