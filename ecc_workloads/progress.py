"""Progress of a long Job step, as log lines that read the same on a pipe as on a terminal.

``kubectl logs -f`` of a distillation Job shows what it is doing while it runs: one line per
``interval`` seconds (and one at the start and end of each phase) with the phase, step,
epoch, loss, the last validation score and an ETA. Lines go to stderr; as JSON objects when
``ECC_LOG_FORMAT=json`` (``RuntimeEnv.LOG_FORMAT``), else as ``key=value`` text.

A reporter is a ``distill.ProgressFn`` (``step, total, loss``) plus ``validated(step, score)``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from typing import TextIO

from ecc_workloads.contracts import RuntimeEnv

LOG_FORMATS = ("text", "json")
DEFAULT_INTERVAL_S = 15.0
"""Seconds between two progress lines of one phase (the goal: at least one every 30 s)."""


def log_format(environ: dict[str, str] | None = None) -> str:
    """``text`` or ``json`` from ``ECC_LOG_FORMAT``; anything else is an error naming the variable."""
    value = (os.environ if environ is None else environ).get(RuntimeEnv.LOG_FORMAT, "text").strip().lower() or "text"
    if value not in LOG_FORMATS:
        raise ValueError(f"{RuntimeEnv.LOG_FORMAT}={value!r}: use one of {', '.join(LOG_FORMATS)}")
    return value


def format_seconds(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    minutes, s = divmod(seconds, 60)
    return f"{minutes}m{s:02d}s" if minutes else f"{s}s"


def render(fields: dict, fmt: str) -> str:
    """One log line of ``fields`` (values None are left out)."""
    fields = {k: v for k, v in fields.items() if v is not None}
    if fmt == "json":
        return json.dumps(fields, separators=(",", ":"))
    return " ".join(f"{k}={v}" for k, v in fields.items())


class StepReporter:
    """Reports one training phase (``teacher``, ``students``, …) of ``steps_per_epoch`` steps."""

    def __init__(self, phase: str, steps_per_epoch: int, *, interval_s: float = DEFAULT_INTERVAL_S,
                 fmt: str | None = None, stream: TextIO | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.phase = phase
        self.steps_per_epoch = max(1, steps_per_epoch)
        self.interval_s = interval_s
        self.fmt = fmt or log_format()
        self.stream = stream or sys.stderr
        self.clock = clock
        self.started = clock()
        self.last_line: float | None = None
        self.val: float | None = None
        self.best: float | None = None

    def _fields(self, event: str, step: int, total: int, loss: float | None) -> dict:
        elapsed = self.clock() - self.started
        eta = elapsed / step * (total - step) if step else None
        return {
            "event": event, "phase": self.phase, "step": f"{step}/{total}",
            "epoch": f"{step / self.steps_per_epoch:.2f}",
            "loss": None if loss is None else f"{loss:.4f}",
            "val": None if self.val is None else f"{self.val:.4f}",
            "best_val": None if self.best is None else f"{self.best:.4f}",
            "elapsed": format_seconds(elapsed),
            "eta_at_most": None if eta is None or step >= total else format_seconds(eta),
        }

    def _emit(self, fields: dict) -> None:
        print(render(fields, self.fmt), file=self.stream, flush=True)
        self.last_line = self.clock()

    def __call__(self, step: int, total: int, loss: float) -> None:
        now = self.clock()
        if self.last_line is None or now - self.last_line >= self.interval_s or step >= total:
            self._emit(self._fields("progress", step, total, loss))

    def validated(self, step: int, total: int, score: float, best: float) -> None:
        self.val, self.best = score, best
        self._emit(self._fields("validation", step, total, None))

    def done(self, step: int, total: int, note: str) -> None:
        fields = self._fields("done", step, total, None)
        fields["note"] = note
        self._emit(fields)
