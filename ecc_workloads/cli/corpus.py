"""`ecc corpus prepare`: read a corpus (path, s3:// or a built-in name), clean and scrub it, split
it, write the splits as JSONL plus a data card and a JobReport (job="corpus-prepare") to a
directory or an s3:// prefix. Store settings come from the StoreEnv variables when s3:// is
involved. A built-in name (`bitext`) reads the copy packaged with ecc_workloads
(`ecc_workloads.data.datasets`), so a Job needs no configuration for it."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from ecc_workloads.cli.job import job_from_options
from ecc_workloads.contracts import (
    CleaningSpec,
    CorpusPrepareJob,
    RuntimeEnv,
    SplitsSpec,
)
from ecc_workloads.crd_model import field_defaults
from ecc_workloads.data.prepare import default_preset, run_prepare

app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False)
console = Console(stderr=True)


@app.callback()
def _group() -> None:
    """Corpus preparation."""


_SPLITS = field_defaults(SplitsSpec)
"""The split defaults of the CloudTeacher's spec.corpus.splits, for the options."""


@app.command()
def prepare(
    source: str = typer.Argument(..., help="corpus file: a local path or s3://bucket/key (.csv, .tsv, .jsonl), "
                                 "or a built-in name (bitext)"),
    out: str = typer.Option(..., "--out", help="output directory or s3://bucket/prefix"),
    preset: Optional[str] = typer.Option(None, help="column preset: 'bitext' (the Bitext corpus's columns and "
                                         "domain rule) or 'none' (give --text-col and --label-col); default: "
                                         "a built-in corpus's own, else none"),
    spec_file: Optional[Path] = typer.Option(None, "--spec", help="CorpusSpec as JSON (overrides --preset)"),
    text_col: Optional[str] = typer.Option(None, help="text column"),
    label_col: Optional[str] = typer.Option(None, help="label column"),
    domain_col: Optional[str] = typer.Option(None, help="domain column (instead of a domain rule)"),
    response_col: Optional[str] = typer.Option(None, help="optional agent-response column"),
    train: float = typer.Option(_SPLITS["train"], help="train fraction"),
    validation: float = typer.Option(_SPLITS["validation"], "--validation", "--val", help="validation fraction"),
    test: float = typer.Option(_SPLITS["test"], help="test fraction"),
    seed: int = typer.Option(_SPLITS["seed"], help="split seed"),
    stratify: str = typer.Option(_SPLITS["stratify"], help="label | domain | label+domain"),
    min_length: Optional[int] = typer.Option(None, "--min-length", "--min-chars",
                                             help="drop texts shorter than this after scrubbing"),
    min_words: Optional[int] = typer.Option(None, help="drop texts with fewer words than this after scrubbing"),
    dedupe: Optional[str] = typer.Option(None, help="none | exact | near (near also drops exact duplicates)"),
    no_scrub: bool = typer.Option(False, "--no-scrub", help="do not scrub personal data (not for shipping)"),
    keep_unlabelled: bool = typer.Option(
        False, help="keep rows with an empty label as unlabelled training rows (unlabelled.jsonl; few-label corpora)"
    ),
    pii_report: Optional[Path] = typer.Option(
        None, help="pii.json from benchmarks/pii.py: adds the injected-data figures to the data card"
    ),
    report: Optional[str] = typer.Option(
        None, help=f"where the JobReport goes (path or s3://); default ${RuntimeEnv.REPORT_URI} or OUT/report.json"
    ),
) -> None:
    """Read, clean, scrub, split; write JSONL splits, a data card and a JSON report."""
    from ecc_workloads.data import corpus

    base = corpus.load_spec(str(spec_file)) if spec_file is not None else None
    given = {"min_length": min_length, "min_words": min_words, "dedupe": dedupe,
             "scrub_pii": False if no_scrub else None, "keep_unlabelled": True if keep_unlabelled else None}
    cleaning = {**(base.cleaning if base else CleaningSpec()).model_dump(),
                **{k: v for k, v in given.items() if v is not None}}
    job = job_from_options(CorpusPrepareJob, "corpus prepare", dict(
        source=source, preset=preset or default_preset(source), out=out, report=report,
        text_column=text_col, label_column=label_col, domain_column=domain_col, response_column=response_col,
        cleaning=cleaning, splits=dict(train=train, validation=validation, test=test, seed=seed, stratify=stratify),
    ))
    run_prepare(job, base_spec=base, pii_report=pii_report)


