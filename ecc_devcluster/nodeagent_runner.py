"""Runs one container of a launch plan as a local process (the process node agent's "runtime").

Each container process gets a private mount namespace (`unshare --mount
--propagation private`, we run as root) in which a small shell prologue
bind-mounts the pod's volumes, its hosts file on /etc/hosts and its termination
log file (keeping the checkout and venv visible when a volume lies over them, see
`kept_mounts`), then `exec`s the container's command — so the process keeps the PID
the agent started. Every container leads its own process group (stopping it
stops its children) and gets SIGKILL if the agent thread that started it dies
(`setpriv --pdeathsig KILL`), so no process outlives the agent.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ecc_devcluster.nodeagent_plan import ContainerPlan, FileContent, Mount, PodPlan, is_within, volume_dir

REQUIRED_TOOLS = ("unshare", "setpriv", "mount")


class RuntimeMissing(RuntimeError):
    pass


def check_tools() -> None:
    missing = [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]
    if missing:
        raise RuntimeMissing(
            f"the process node agent needs {', '.join(missing)} (util-linux / mount): "
            "install them with `apt-get install util-linux mount`"
        )
    if os.geteuid() != 0:
        raise RuntimeMissing("the process node agent must run as root (it creates a mount namespace per pod)")


# ---------------------------------------------------------------------------
# Files on the host
# ---------------------------------------------------------------------------
def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Replace a file by renaming a complete temporary one (readers never see half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def write_in_place(path: Path, data: bytes) -> None:
    """Overwrite a file keeping its inode (a bind mount pins the inode, so no rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "r+b" if path.exists() else "wb") as handle:
        handle.write(data)
        handle.truncate()


def materialise_volumes(plan: PodPlan, pod_dir: Path) -> None:
    """Write every Secret/ConfigMap/downwardAPI/projected file and create emptyDirs."""
    for volume in plan.volumes:
        root = Path(volume_dir(str(pod_dir), volume))
        if volume.kind == "hostPath":
            if not root.exists():
                root.mkdir(parents=True, exist_ok=True)
            continue
        root.mkdir(parents=True, exist_ok=True)
        for rel, content in volume.files.items():
            write_file_content(root / rel, content)


def write_file_content(path: Path, content: FileContent) -> None:
    write_atomic(path, content.data, content.mode)


def ensure_mount_target(mount: Mount) -> None:
    """Create an (empty) mount point on the host if missing: a directory, or a file for file mounts.

    Targets are created in the shared root file system (e.g. /var/run/secrets/kubernetes.io/
    serviceaccount, /dev/termination-log); they stay empty there — the content is only visible
    inside the pod's mount namespace.
    """
    target = Path(mount.target)
    source = Path(mount.source)
    if mount.kept:  # the target is the host's checkout or venv; only the staging directory is made
        source.mkdir(parents=True, exist_ok=True)
        return
    file_mount = mount.is_file or source.is_file()
    if file_mount:
        if not source.exists():
            source.parent.mkdir(parents=True, exist_ok=True)
            source.touch()
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.touch()
    else:
        source.mkdir(parents=True, exist_ok=True)
        target.mkdir(parents=True, exist_ok=True)


def mount_script(mounts: list[Mount], workdir: str) -> str:
    """The shell prologue run inside the new mount namespace before exec'ing the command.

    Kept paths first go onto their staging directories, where no volume hides them; each volume
    gets the mount points of the kept paths it hides (before it turns read-only); a kept path
    is moved back in its turn.
    """
    lines = ["set -e"]
    kept = [m for m in mounts if m.kept]
    lines += [f"mount --bind {shlex.quote(m.target)} {shlex.quote(m.source)}" for m in kept]
    for m in mounts:
        src, dst = shlex.quote(m.source), shlex.quote(m.target)
        if m.kept:
            lines.append(f"mount --move {src} {dst}")
            continue
        lines.append(f"mount --bind {src} {dst}")
        lines += [f"mkdir -p {shlex.quote(k.target)}" for k in kept
                  if k.target != m.target and is_within(k.target, m.target)]
        if m.read_only:
            lines.append(f"mount -o remount,bind,ro {dst}")
    lines.append(f"cd {shlex.quote(workdir)}")
    lines.append('exec "$@"')
    return "\n".join(lines)


def resolve_executable(argv0: str, path_env: str) -> str | None:
    if "/" in argv0:
        return argv0 if os.access(argv0, os.X_OK) else None
    return shutil.which(argv0, path=path_env)


# ---------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------
@dataclass
class StartFailure:
    exit_code: int
    message: str


class ContainerProcess:
    """One running container process and its log."""

    def __init__(self, plan: ContainerPlan, log_path: Path, popen: subprocess.Popen, log_offset: int):
        self.plan = plan
        self.log_path = log_path
        self.popen = popen
        self.log_offset = log_offset
        self.started = time.monotonic()

    @property
    def pid(self) -> int:
        return self.popen.pid

    def poll(self) -> int | None:
        return self.popen.poll()

    def exit_status(self) -> tuple[int, int | None]:
        """(exit code as the kubelet reports it, signal or None): a signal N gives 128+N."""
        code = self.popen.returncode
        if code is None:
            raise RuntimeError("process still running")
        if code < 0:
            return 128 - code, -code
        return code, None

    def log_since_start(self, max_bytes: int = 65536) -> str:
        try:
            with open(self.log_path, "rb") as handle:
                size = handle.seek(0, os.SEEK_END)
                start = max(self.log_offset, size - max_bytes)
                handle.seek(start)
                return handle.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.popen.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def stop(self, grace_seconds: float) -> int:
        """SIGTERM the process group, wait up to the grace period, then SIGKILL. Returns the exit code."""
        if self.poll() is None:
            self.signal_group(signal.SIGTERM)
            try:
                self.popen.wait(timeout=max(0.0, grace_seconds))
            except subprocess.TimeoutExpired:
                pass
        # Also reap stragglers of the group (children that ignored SIGTERM).
        self.signal_group(signal.SIGKILL)
        self.popen.wait()
        return self.exit_status()[0]


def start_container(plan: ContainerPlan, pod_dir: Path, log_path: Path) -> ContainerProcess | StartFailure:
    """Start a container's command in its own mount namespace and process group."""
    executable = resolve_executable(plan.argv[0], plan.env.get("PATH", ""))
    if executable is None:
        return StartFailure(
            exit_code=128,
            message=f"executable file not found in $PATH: {plan.argv[0]!r} (PATH={plan.env.get('PATH', '')})",
        )
    workdir = Path(plan.workdir)
    if not workdir.is_dir():
        if workdir.is_relative_to(pod_dir):
            workdir.mkdir(parents=True, exist_ok=True)
        else:
            return StartFailure(exit_code=128, message=f"workingDir {plan.workdir!r} does not exist on the process node")
    for mount in plan.mounts:
        try:
            ensure_mount_target(mount)
        except OSError as exc:
            return StartFailure(exit_code=128, message=f"cannot prepare mount point {mount.target!r}: {exc}")
    term_file = next((m.source for m in plan.mounts if m.target == plan.termination_message_path), None)
    if term_file:
        write_in_place(Path(term_file), b"")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "ab")
    offset = log.tell()
    argv = [
        "setpriv", "--pdeathsig", "KILL", "--",
        "unshare", "--mount", "--propagation", "private", "--",
        "/bin/sh", "-c", mount_script(plan.mounts, str(workdir)), f"ecc-{plan.name}",
        *plan.argv,
    ]
    try:
        popen = subprocess.Popen(
            argv, env=plan.env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, close_fds=True,
        )
    except OSError as exc:
        log.close()
        return StartFailure(exit_code=128, message=f"failed to start {plan.argv[0]!r}: {exc}")
    log.close()
    return ContainerProcess(plan, log_path, popen, offset)


def read_termination_file(plan: ContainerPlan) -> str:
    source = next((m.source for m in plan.mounts if m.target == plan.termination_message_path), None)
    if not source:
        return ""
    try:
        return Path(source).read_text(errors="replace")
    except OSError:
        return ""
