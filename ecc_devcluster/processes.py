"""Background processes: start in their own process group, check, stop, find leftovers.

Thin wrappers over fork/exec and /proc. A process is identified by pid AND its
start time (field 22 of /proc/PID/stat) so a recycled pid is never mistaken for
one of ours.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

# Popen objects of processes this interpreter started, so that dead children are
# reaped (a zombie still answers kill(pid, 0)).
_CHILDREN: dict[int, subprocess.Popen] = {}

_BASE_ENV_KEYS = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "USER", "TMPDIR", "ECC_CACHE_DIR")


def base_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: os.environ[k] for k in _BASE_ENV_KEYS if k in os.environ}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.update(extra)
    return env


def start_ticks(pid: int) -> int | None:
    """Start time of pid in clock ticks since boot, or None if it does not exist."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # comm (field 2) may contain spaces/parens: split after the last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[19])


def _state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return stat[stat.rindex(")") + 2 :].split()[0]


def _reap(pid: int) -> None:
    popen = _CHILDREN.get(pid)
    if popen is not None and popen.poll() is not None:
        _CHILDREN.pop(pid, None)
        return
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def is_alive(pid: int | None, ticks: int | None = None) -> bool:
    if not pid:
        return False
    _reap(pid)
    state = _state(pid)
    if state is None or state in ("Z", "X"):
        return False
    if ticks is not None and start_ticks(pid) != ticks:
        return False
    return True


def spawn(argv: list[str], *, env: dict[str, str], cwd: str, log: str) -> tuple[int, int]:
    """Start argv detached in a new session (its own process group); output appended
    to `log`. Returns (pid, start ticks)."""
    Path(log).parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab", buffering=0) as out:
        out.write(f"\n===== {time.strftime('%Y-%m-%dT%H:%M:%S')} start: {' '.join(argv)}\n".encode())
        popen = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
    _CHILDREN[popen.pid] = popen
    ticks = start_ticks(popen.pid)
    return popen.pid, ticks if ticks is not None else -1


def group_members(pgid: int) -> list[int]:
    """Live pids whose process group is pgid."""
    members = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] in ("Z", "X"):
            continue
        if int(fields[2]) == pgid:
            members.append(pid)
    return members


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop(pid: int, ticks: int | None, timeout_s: float) -> str:
    """SIGTERM the process group led by pid, SIGKILL it after timeout_s.
    Returns 'not-running', 'terminated' or 'killed'."""
    current = start_ticks(pid)
    if ticks is not None and current is not None and current != ticks and _state(pid) != "Z":
        # pid recycled by an unrelated process. Linux never reuses a pid while a
        # process group of that id exists, so ours is gone entirely.
        return "not-running"
    leader_alive = is_alive(pid, ticks)
    members = group_members(pid)
    if not leader_alive and not members:
        _reap(pid)
        return "not-running"
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        _reap(pid)
        if not group_members(pid):
            return "terminated"
        time.sleep(0.05)
    _signal_group(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        _reap(pid)
        if not group_members(pid):
            break
        time.sleep(0.05)
    return "killed"


def dump_and_stop(pid: int, ticks: int | None, dump_signal: int | None, timeout_s: float) -> str:
    """Stop a process that hung: first `dump_signal` (a runtime that prints its stacks on it
    writes them to its log and exits), then `stop`. Returns how it ended: 'dumped' (it
    exited on the dump signal) or what `stop` returns."""
    if dump_signal is not None and is_alive(pid, ticks):
        try:
            os.kill(pid, dump_signal)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and is_alive(pid, ticks):
            time.sleep(0.05)
    outcome = stop(pid, ticks, timeout_s)
    return "dumped" if dump_signal is not None and outcome == "not-running" else outcome


def _ancestors() -> set[int]:
    pids = set()
    pid = os.getpid()
    while pid > 1:
        pids.add(pid)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            break
        pid = int(stat[stat.rindex(")") + 2 :].split()[1])
    return pids


def find_leftovers(markers: list[str], env_markers: list[str] = ()) -> list[int]:
    """Live processes (not us or our ancestors) whose command line or working directory
    mentions one of `markers` (paths), or whose environment holds all `env_markers`."""
    mine = _ancestors()
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if pid in mine or _state(pid) in (None, "Z", "X"):
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            cwd = ""
        hit = any(_mentions(cmdline, cwd, m.rstrip("/")) for m in markers)
        if not hit and env_markers:
            try:
                environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            except OSError:
                environ = []
            entries = {e.decode(errors="replace") for e in environ}
            hit = all(m in entries for m in env_markers)
        if hit:
            found.append(pid)
    return found


def _mentions(cmdline: str, cwd: str, path: str) -> bool:
    """Whether a command line or working directory refers to `path` or below it (a
    path that is merely a prefix of another name, e.g. dev/a vs dev/ab, does not count)."""
    if cwd == path or cwd.startswith(path + "/"):
        return True
    start = cmdline.find(path)
    while start != -1:
        end = start + len(path)
        if end == len(cmdline) or cmdline[end] in "/ :,;\"'":
            return True
        start = cmdline.find(path, start + 1)
    return False


def kill_pids(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    for pid in pids:
        _reap(pid)


def rss_bytes(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def tail(path: str, lines: int = 30) -> str:
    try:
        data = Path(path).read_bytes()[-64 * 1024 :]
    except OSError:
        return f"(no log at {path})"
    return "\n".join(data.decode(errors="replace").splitlines()[-lines:])
