"""`ecc job`: run the Job whose spec the operator put in the environment.

The operator hands every Job its settings as one versioned document (a `contracts.JobSpec`:
`CorpusPrepareJob`, `DistillJob`, `MergeBackJob`) in ``$ECC_JOB_SPEC`` — no command-line flags
to rename or re-default on the way. The same pipelines run behind `ecc corpus prepare`,
`ecc distill` and `ecc merge-back`, which build these documents from their options.
"""

from __future__ import annotations

import json
import os
from typing import TypeVar

import typer
from rich.console import Console

from ecc_workloads.contracts import CorpusPrepareJob, DistillJob, MergeBackJob, RuntimeEnv, parse_job_spec
from ecc_workloads.crd_model import CRDModel

console = Console(stderr=True)
J = TypeVar("J", bound=CRDModel)

_JOB_NAMES = {"CorpusPrepareJob": "corpus-prepare", "DistillJob": "distill", "MergeBackJob": "merge-back"}


def job_command() -> None:
    """Run the Job described by $ECC_JOB_SPEC (what the operator's Jobs run)."""
    raw = os.environ.get(RuntimeEnv.JOB_SPEC)
    if not raw:
        console.print(f"[red]{RuntimeEnv.JOB_SPEC} is not set: it holds the Job's spec as JSON "
                      "(contracts.CorpusPrepareJob, DistillJob or MergeBackJob)")
        raise typer.Exit(code=2)
    try:
        spec = parse_job_spec(raw)
    except ValueError as exc:
        _report_refusal(raw, str(exc))
        console.print(f"[red]{exc}")
        raise typer.Exit(code=2) from None
    if isinstance(spec, CorpusPrepareJob):
        from ecc_workloads.data.prepare import run_prepare

        run_prepare(spec)
    elif isinstance(spec, DistillJob):
        from ecc_workloads.learning.pipeline import run_distill

        run_distill(spec)
    elif isinstance(spec, MergeBackJob):
        from ecc_workloads.learning.pipeline import run_merge_back

        run_merge_back(spec)


def job_from_options(model: type[J], command: str, fields: dict) -> J:
    """A Job spec built from a command's options; a value the spec refuses ends the command
    (exit 2) with each wrong field and what it allows — nothing has run yet."""
    from pydantic import ValidationError

    from ecc_workloads.crd_model import describe

    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        console.print(f"[red]{command}: {describe(exc)}")
        raise typer.Exit(code=2) from None


def _report_refusal(raw: str, message: str) -> None:
    """A spec that does not parse still gets a failed JobReport where the operator looks for it
    ($ECC_REPORT_URI, else the document's own `report`), so the resource says why."""
    from datetime import datetime, timezone

    from ecc_workloads.job_reports import failed_report, write_report

    target = os.environ.get(RuntimeEnv.REPORT_URI)
    doc = {}
    try:
        doc = json.loads(raw)
    except ValueError:
        pass
    if not target and isinstance(doc, dict) and isinstance(doc.get("report"), str):
        target = doc["report"]
    kind = doc.get("kind") if isinstance(doc, dict) else None
    job = _JOB_NAMES.get(kind, "distill") if isinstance(kind, str) else "distill"
    if not target:
        return
    try:
        write_report(failed_report(job, datetime.now(timezone.utc), message), target)
    except Exception as exc:  # noqa: BLE001 — the refusal itself is already on stderr
        console.print(f"[red]could not write the report to {target}: {exc}")
