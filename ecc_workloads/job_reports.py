"""A Job's JobReport: where it goes and writing it, also when the Job fails, so the operator can
always read the outcome (the distillation, merge-back and corpus Jobs, and `ecc job` refusing a
spec)."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from ecc_workloads.contracts import JobReport, RuntimeEnv, StoreLayout


def report_target(explicit: str | None, store: str, namespace: str, owner: str, fallback_job: str) -> str:
    """Where a Job writes its JobReport: the spec's `report`, else $ECC_REPORT_URI, else the store's
    report key for this Job (the pod's name, or `fallback_job` outside a pod)."""
    if explicit or os.environ.get(RuntimeEnv.REPORT_URI):
        return explicit or os.environ[RuntimeEnv.REPORT_URI]
    key = StoreLayout.job_report(namespace, owner, os.environ.get(RuntimeEnv.POD_NAME, fallback_job))
    return f"{store.rstrip('/')}/{key}" if store.startswith("s3://") else str(Path(store) / key)


def write_report(report: JobReport, target: str, store_factory: Callable | None = None) -> None:
    """To an s3:// URI (the store from `store_factory`, else from the StoreEnv variables) or a file."""
    if target.startswith("s3://"):
        from ecc_workloads.store import Store

        (store_factory or Store.from_env)().put_json(target, report)
    else:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_text(report.model_dump_json(indent=2))


def write_success(report: JobReport, target: str, console, store_factory: Callable | None = None) -> None:
    """Write `report` and say so on `console`: its message and where it is."""
    write_report(report, target, store_factory)
    console.print(report.message)
    console.print(f"report: {target}")


def failed_report(job: str, started: datetime, message: str) -> JobReport:
    return JobReport(job=job, succeeded=False, message=message, started_at=started.isoformat(),
                     finished_at=datetime.now(timezone.utc).isoformat())


def write_failure(job: str, started: datetime, exc: BaseException, target: str, console,
                  store_factory: Callable | None = None) -> None:
    """The failed JobReport of `exc` (type and message), and a line saying so on `console`."""
    report = failed_report(job, started, f"{exc.__class__.__name__}: {exc}")
    try:
        write_report(report, target, store_factory)
        console.print(f"[red]failed[/red]: {report.message}\nreport: {target}")
    except Exception as inner:  # noqa: BLE001
        console.print(f"[red]failed[/red]: {report.message}; and the report could not be written: {inner}")
