"""Restart policy, back-off, phase, conditions and termination messages of the process node agent."""

from __future__ import annotations

import pytest

from ecc_devcluster.nodeagent_lifecycle import (
    ContainerRuntimeState,
    RestartTracker,
    backoff_seconds,
    container_status_json,
    pod_conditions,
    pod_phase,
    should_restart,
    tail_lines,
    termination_message,
)


@pytest.mark.parametrize(
    "policy, code, restart",
    [("Always", 0, True), ("Always", 1, True), ("OnFailure", 0, False), ("OnFailure", 2, True),
     ("Never", 0, False), ("Never", 1, False)],
)
def test_restart_decisions(policy, code, restart):
    assert should_restart(policy, code) is restart


def test_backoff_doubles_and_caps():
    assert [backoff_seconds(n) for n in range(7)] == [10, 20, 40, 80, 160, 300, 300]
    assert backoff_seconds(3, base=1, cap=5) == 5


def test_tracker_resets_after_a_long_run():
    tracker = RestartTracker(base=1, cap=100)
    assert [tracker.on_exit(0, 1) for _ in range(3)] == [1, 2, 4]
    assert tracker.on_exit(0, ran_for=900) == 1


def running(name="c"):
    return ContainerRuntimeState(name=name, state="running", ready=True, started_at="t")


def terminated(code, name="c"):
    return ContainerRuntimeState(name=name, state="terminated", exit_code=code, reason="Error" if code else "Completed")


def test_phases():
    assert pod_phase("Never", [], [ContainerRuntimeState(name="c")]) == "Pending"
    assert pod_phase("Never", [], [running()]) == "Running"
    assert pod_phase("Never", [], [terminated(0)]) == "Succeeded"
    assert pod_phase("Never", [], [terminated(1)]) == "Failed"
    assert pod_phase("Never", [], [terminated(0, "a"), running("b")]) == "Running"
    assert pod_phase("OnFailure", [], [terminated(0)]) == "Succeeded"
    restarting = ContainerRuntimeState(name="c", state="waiting", reason="CrashLoopBackOff", last_terminated={"exitCode": 1})
    assert pod_phase("OnFailure", [], [restarting]) == "Running"
    assert pod_phase("Always", [], [terminated(0)]) == "Running"
    # init containers first
    assert pod_phase("Never", [terminated(1, "init")], [ContainerRuntimeState(name="c")]) == "Failed"
    assert pod_phase("OnFailure", [terminated(1, "init")], [ContainerRuntimeState(name="c")]) == "Pending"
    assert pod_phase("Never", [running("init")], [ContainerRuntimeState(name="c")]) == "Pending"


def test_conditions_follow_readiness_and_keep_transition_times():
    conds = pod_conditions("Running", [terminated(0, "init")], [running()], now="T1")
    by = {c["type"]: c for c in conds}
    assert [c["type"] for c in conds] == ["PodScheduled", "Initialized", "ContainersReady", "Ready"]
    assert all(c["status"] == "True" for c in conds)
    again = {c["type"]: c for c in pod_conditions("Running", [], [running()], previous=conds, now="T2")}
    assert again["Ready"]["lastTransitionTime"] == "T1"
    done = {c["type"]: c for c in pod_conditions("Succeeded", [], [terminated(0)], previous=conds, now="T3")}
    assert done["Ready"]["status"] == "False" and done["Ready"]["reason"] == "PodCompleted"
    assert done["Ready"]["lastTransitionTime"] == "T3"
    assert by["PodScheduled"]["status"] == "True"
    waiting = {c["type"]: c for c in pod_conditions("Pending", [running("init")], [ContainerRuntimeState(name="c")])}
    assert waiting["Initialized"]["status"] == "False" and waiting["Ready"]["reason"] == "ContainersNotInitialized"


def test_termination_message_prefers_file_then_log_tail_on_error():
    log = "\n".join(f"line {i}" for i in range(100)) + "\n"
    assert termination_message("written by app", log, 1, "File") == "written by app"
    tail = termination_message("", log, 1, "File")
    assert tail.splitlines()[-1] == "line 99" and len(tail.splitlines()) == 20
    assert termination_message("", log, 0, "File") == ""
    assert termination_message("", log, 3, "FallbackToLogsOnError").endswith("line 99")
    assert len(tail_lines("x" * 10000, max_bytes=4096).encode()) <= 4096


def test_container_status_json_shapes():
    t = terminated(3)
    t.message, t.started_at, t.finished_at = "boom", "a", "b"
    js = container_status_json(t)
    assert js["state"]["terminated"]["exitCode"] == 3
    assert js["state"]["terminated"]["message"] == "boom" and js["ready"] is False
    w = ContainerRuntimeState(name="c", state="waiting", reason="CrashLoopBackOff", restart_count=2,
                              last_terminated={"exitCode": 1, "reason": "Error"})
    js = container_status_json(w)
    assert js["state"] == {"waiting": {"reason": "CrashLoopBackOff"}} and js["restartCount"] == 2
    assert js["lastState"]["terminated"]["exitCode"] == 1
    assert container_status_json(running())["state"]["running"]["startedAt"] == "t"
