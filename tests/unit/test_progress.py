"""Progress lines of long Job phases: the same on a pipe as on a terminal, text or JSON."""

import io
import json

import pytest

from ecc_workloads import progress
from ecc_workloads.contracts import RuntimeEnv


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_a_line_at_the_first_step_then_one_per_interval_and_at_the_last_step():
    clock, out = Clock(), io.StringIO()
    rep = progress.StepReporter("teacher", steps_per_epoch=10, interval_s=15, fmt="text", stream=out, clock=clock)
    for step in range(1, 41):
        clock.now += 1.0  # a step a second
        rep(step, 40, 0.5)
    lines = out.getvalue().splitlines()
    assert [line.split()[2] for line in lines] == ["step=1/40", "step=16/40", "step=31/40", "step=40/40"]
    assert lines[0] == "event=progress phase=teacher step=1/40 epoch=0.10 loss=0.5000 elapsed=1s eta_at_most=39s"
    assert "eta_at_most" not in lines[-1]


def test_validation_and_done_lines_in_json():
    clock, out = Clock(), io.StringIO()
    rep = progress.StepReporter("students", steps_per_epoch=4, fmt="json", stream=out, clock=clock)
    clock.now += 90
    rep.validated(6, 12, 0.875, 0.9)
    rep.done(6, 12, "stopped early at step 6, kept step 4")
    first, last = (json.loads(line) for line in out.getvalue().splitlines())
    assert first == {"event": "validation", "phase": "students", "step": "6/12", "epoch": "1.50", "val": "0.8750",
                     "best_val": "0.9000", "elapsed": "1m30s", "eta_at_most": "1m30s"}
    assert last["event"] == "done" and last["note"].startswith("stopped early")


def test_log_format_comes_from_the_environment_and_refuses_others():
    assert progress.log_format({}) == "text"
    assert progress.log_format({RuntimeEnv.LOG_FORMAT: "JSON"}) == "json"
    with pytest.raises(ValueError, match="ECC_LOG_FORMAT='yaml': use one of text, json"):
        progress.log_format({RuntimeEnv.LOG_FORMAT: "yaml"})
