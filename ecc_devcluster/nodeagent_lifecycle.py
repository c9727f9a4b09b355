"""Pod lifecycle decisions of the process node agent (a development stand-in for a kubelet).

Pure functions: restart policy and crash-loop back-off, the pod phase and
conditions derived from container states (following the kubelet's rules), the
termination message, and the JSON the pods/status subresource receives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Literal

StateName = Literal["waiting", "running", "terminated"]
TERMINATION_MESSAGE_MAX_BYTES = 4096
FALLBACK_LOG_LINES = 20


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class ContainerRuntimeState:
    """What the agent knows about one container (init or main)."""

    name: str
    image: str = ""
    init: bool = False
    state: StateName = "waiting"
    reason: str = "ContainerCreating"
    message: str = ""
    started_at: str | None = None
    finished_at: str | None = None
    exit_code: int | None = None
    signal: int | None = None
    restart_count: int = 0
    ready: bool = False
    pid: int | None = None
    last_terminated: dict | None = None

    def terminated_json(self) -> dict:
        out: dict = {
            "exitCode": self.exit_code if self.exit_code is not None else -1,
            "reason": self.reason or ("Completed" if self.exit_code == 0 else "Error"),
            "startedAt": self.started_at,
            "finishedAt": self.finished_at,
        }
        if self.message:
            out["message"] = self.message
        if self.signal:
            out["signal"] = self.signal
        if self.pid:
            out["containerID"] = f"ecc-process://{self.pid}"
        return out


# ---------------------------------------------------------------------------
# Restarts
# ---------------------------------------------------------------------------
def should_restart(restart_policy: str, exit_code: int) -> bool:
    """Whether a container that exited with `exit_code` is started again."""
    if restart_policy == "Always":
        return True
    if restart_policy == "OnFailure":
        return exit_code != 0
    return False


def backoff_seconds(restart_count: int, base: float = 10.0, cap: float = 300.0) -> float:
    """Crash-loop back-off before restart number `restart_count + 1` (kubelet: 10 s doubling to 5 min)."""
    if restart_count < 0:
        raise ValueError("restart_count must be >= 0")
    return min(cap, base * (2 ** min(restart_count, 30)))


def exit_reason(exit_code: int) -> str:
    return "Completed" if exit_code == 0 else "Error"


# ---------------------------------------------------------------------------
# Termination message
# ---------------------------------------------------------------------------
def tail_lines(text: str, lines: int = FALLBACK_LOG_LINES, max_bytes: int = TERMINATION_MESSAGE_MAX_BYTES) -> str:
    """The last `lines` lines of `text`, at most `max_bytes` bytes (cut at the front)."""
    tail = "\n".join(text.rstrip("\n").split("\n")[-lines:]) if text.strip() else ""
    data = tail.encode()
    if len(data) > max_bytes:
        tail = data[-max_bytes:].decode(errors="ignore")
    return tail


def termination_message(file_text: str, log_text: str, exit_code: int, policy: str) -> str:
    """The message the kubelet reports: the termination file if written, else (on error) the log's tail.

    The kubelet falls back to logs only with FallbackToLogsOnError; this stand-in does it for
    the default policy `File` too, so a failing Job always says why in its pod's status.
    """
    if file_text.strip():
        data = file_text.encode()[:TERMINATION_MESSAGE_MAX_BYTES]
        return data.decode(errors="ignore")
    if exit_code != 0 and policy in ("File", "FallbackToLogsOnError"):
        return tail_lines(log_text)
    return ""


# ---------------------------------------------------------------------------
# Phase and conditions
# ---------------------------------------------------------------------------
def init_done(init_states: list[ContainerRuntimeState]) -> bool:
    return all(s.state == "terminated" and s.exit_code == 0 for s in init_states)


def pod_phase(restart_policy: str, init_states: list[ContainerRuntimeState],
              main_states: list[ContainerRuntimeState]) -> str:
    """Pending / Running / Succeeded / Failed, by the kubelet's rules (getPhase)."""
    if not init_done(init_states):
        failed_init = any(s.state == "terminated" and s.exit_code not in (0, None) for s in init_states)
        if failed_init and restart_policy == "Never":
            return "Failed"
        return "Pending"
    waiting = running = stopped = succeeded = 0
    for s in main_states:
        if s.state == "running":
            running += 1
        elif s.state == "terminated":
            stopped += 1
            if s.exit_code == 0:
                succeeded += 1
        elif s.last_terminated is not None:
            stopped += 1  # waiting to restart
        else:
            waiting += 1
    if waiting > 0:
        return "Pending"
    if running > 0:
        return "Running"
    if stopped > 0:
        if restart_policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        if restart_policy == "OnFailure":
            return "Running"
        return "Failed"
    return "Pending"


def _condition(ctype: str, ok: bool, reason: str, previous: dict[str, dict], now: str) -> dict:
    status = "True" if ok else "False"
    prev = previous.get(ctype)
    since = prev["lastTransitionTime"] if prev and prev.get("status") == status and prev.get("lastTransitionTime") else now
    cond = {"type": ctype, "status": status, "lastProbeTime": None, "lastTransitionTime": since}
    if not ok and reason:
        cond["reason"] = reason
    return cond


def pod_conditions(phase: str, init_states: list[ContainerRuntimeState], main_states: list[ContainerRuntimeState],
                   previous: list[dict] | None = None, now: str | None = None) -> list[dict]:
    """PodScheduled, Initialized, ContainersReady and Ready, keeping transition times."""
    now = now or now_iso()
    prev = {c["type"]: c for c in previous or []}
    terminal = phase in ("Succeeded", "Failed")
    initialized = init_done(init_states) or (terminal and phase == "Succeeded")
    ready = (not terminal) and initialized and all(s.state == "running" and s.ready for s in main_states)
    not_ready_reason = "PodCompleted" if terminal else ("ContainersNotInitialized" if not initialized else "ContainersNotReady")
    return [
        _condition("PodScheduled", True, "", prev, now),
        _condition("Initialized", initialized, "PodCompleted" if terminal else "ContainersNotInitialized", prev, now),
        _condition("ContainersReady", ready, not_ready_reason, prev, now),
        _condition("Ready", ready, not_ready_reason, prev, now),
    ]


def container_status_json(s: ContainerRuntimeState) -> dict:
    """One entry of status.containerStatuses / initContainerStatuses."""
    if s.state == "running":
        state = {"running": {"startedAt": s.started_at}}
    elif s.state == "terminated":
        state = {"terminated": s.terminated_json()}
    else:
        waiting = {"reason": s.reason or "ContainerCreating"}
        if s.message:
            waiting["message"] = s.message
        state = {"waiting": waiting}
    out = {
        "name": s.name,
        "image": s.image or "process",
        "imageID": "",
        "ready": bool(s.ready and s.state == "running"),
        "restartCount": s.restart_count,
        "started": s.state == "running",
        "state": state,
        "lastState": {"terminated": s.last_terminated} if s.last_terminated else {},
    }
    if s.pid:
        out["containerID"] = f"ecc-process://{s.pid}"
    return out


def pod_status_json(*, phase: str, pod_ip: str, host_ip: str, start_time: str,
                    init_states: list[ContainerRuntimeState], main_states: list[ContainerRuntimeState],
                    previous_conditions: list[dict] | None = None, message: str = "", reason: str = "") -> dict:
    """The `status` the agent writes through the pods/status subresource."""
    status = {
        "phase": phase,
        "conditions": pod_conditions(phase, init_states, main_states, previous_conditions),
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "podIP": pod_ip or None,
        "podIPs": [{"ip": pod_ip}] if pod_ip else [],
        "startTime": start_time,
        "initContainerStatuses": [container_status_json(s) for s in init_states],
        "containerStatuses": [container_status_json(s) for s in main_states],
        "message": message or None,
        "reason": reason or None,
    }
    return status


@dataclass
class RestartTracker:
    """Back-off bookkeeping of one container (pure; the caller passes the clock)."""

    base: float = 10.0
    cap: float = 300.0
    restarts: int = 0
    not_before: float = 0.0
    history: list[float] = field(default_factory=list)

    def on_exit(self, now: float, ran_for: float) -> float:
        """Record an exit; returns the delay before the next start. A container that
        ran 10 minutes or longer starts again from the base delay, like the kubelet."""
        if ran_for >= 600:
            self.restarts = 0
        delay = backoff_seconds(self.restarts, self.base, self.cap)
        self.restarts += 1
        self.not_before = now + delay
        self.history.append(delay)
        return delay
