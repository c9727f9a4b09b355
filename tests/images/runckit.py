"""Run a built image for real: its root filesystem mounted read-only from the image store and
started by runc.

The container gets what a pod of the chart gets: a read-only root filesystem, a tmpfs on /tmp,
the image's user (non-root). It shares the host's network namespace so a test can reach a server
in it on 127.0.0.1 (loopback only).

The root filesystem is the image as buildah stored it, overlay-mounted (no copy, so a code change
does not unpack gigabytes again); :func:`mounted` first checks that it is the very image of the
OCI layout (same config digest, hence the same layer diff IDs), pulling it from the layout when
the store has lost it. umoci turns the layout's image config into the runtime config.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ecc_devcluster import images

TOOLS_HINT = "install them from Debian's packages: apt-get install runc umoci buildah (or run `make setup`)"
CONTAINER_PREFIX = "ecc-image-test-"


def check_tools() -> None:
    missing = [t for t in ("runc", "umoci", "buildah") if shutil.which(t) is None]
    assert not missing, f"running images needs {', '.join(missing)}: {TOOLS_HINT}"


def _buildah(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(images.buildah_argv(*args), capture_output=True, text=True)


def remove_stale_containers() -> None:
    """Working containers a killed test session left behind (and their mounts)."""
    listed = _buildah("containers", "--format", "{{.ContainerName}}")
    for name in listed.stdout.split():
        if name.startswith(CONTAINER_PREFIX):
            _buildah("umount", name)
            _buildah("rm", name)


@contextlib.contextmanager
def mounted(record: images.BuiltImage) -> Iterator[Path]:
    """The image's root filesystem, mounted for the duration (never written: runc mounts it read-only)."""
    local = f"localhost/{record.name}:{record.key}"
    inspected = _buildah("inspect", "--type", "image", "--format", "{{.FromImageID}}", local)
    if inspected.returncode != 0:  # the store lost it: take the image from the layout
        pulled = _buildah("pull", "--quiet", record.oci_ref)
        assert pulled.returncode == 0, f"buildah could not pull {record.oci_ref}: {pulled.stderr[-2000:]}"
        tagged = _buildah("tag", pulled.stdout.strip().splitlines()[-1], local)
        assert tagged.returncode == 0, tagged.stderr
        inspected = _buildah("inspect", "--type", "image", "--format", "{{.FromImageID}}", local)
    image_id = inspected.stdout.strip()
    assert f"sha256:{image_id}" == record.config_digest, (
        f"{record.name}: the stored image {image_id} is not the layout's ({record.config_digest})")
    name = f"{CONTAINER_PREFIX}{record.name}-{uuid.uuid4().hex[:8]}"
    created = _buildah("from", "--pull-never", "--name", name, local)
    assert created.returncode == 0, created.stderr
    try:
        mount = _buildah("mount", name)
        assert mount.returncode == 0, mount.stderr
        yield Path(mount.stdout.strip())
    finally:
        _buildah("umount", name)
        _buildah("rm", name)


@dataclass
class Container:
    """One runc container: `start()` it in the foreground of a child process, `stop()` it."""

    record: images.BuiltImage
    rootfs: Path
    args: list[str] | None = None  # None: the image's entrypoint + cmd
    binds: dict[str, str] = field(default_factory=dict)  # host path -> container path (read-write)
    env: dict[str, str] = field(default_factory=dict)
    workdir: Path = Path("/tmp")

    def __post_init__(self) -> None:
        self.id = f"ecc-test-{self.record.name}-{uuid.uuid4().hex[:8]}"
        self.bundle = self.workdir / self.id
        self.state_root = self.workdir / "runc-state"
        self.proc: subprocess.Popen | None = None

    def config(self) -> dict:
        """The OCI runtime config: the image's own (umoci), made read-only and loopback-reachable."""
        self.bundle.mkdir(parents=True, exist_ok=True)
        path = self.bundle / "config.json"
        result = subprocess.run(["umoci", "raw", "runtime-config", "--image", self.record.layout_ref,
                                 "--rootfs", str(self.rootfs), str(path)], capture_output=True, text=True)
        assert result.returncode == 0, f"umoci runtime-config for {self.record.name}: {result.stderr[-2000:]}"
        spec = json.loads(path.read_text())
        spec["root"] = {"path": str(self.rootfs), "readonly": True}
        process = spec["process"]
        process["terminal"] = False
        if self.args is not None:
            process["args"] = self.args
        process["env"] = [*process.get("env", []), *(f"{k}={v}" for k, v in self.env.items())]
        spec["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                               "options": ["nosuid", "nodev", "mode=1777", "size=256m"]})
        for host, inside in self.binds.items():
            spec["mounts"].append({"destination": inside, "type": "bind", "source": host, "options": ["rbind", "rw"]})
        linux = spec["linux"]
        linux["namespaces"] = [ns for ns in linux["namespaces"] if ns["type"] != "network"]
        path.write_text(json.dumps(spec, indent=2))
        return spec

    def _runc(self, *args: str) -> list[str]:
        return ["runc", "--root", str(self.state_root), *args]

    def run(self, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run to completion; the finished container is deleted."""
        self.config()
        try:
            return subprocess.run(self._runc("run", "--bundle", str(self.bundle), self.id),
                                  capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        finally:
            self.delete()

    def start(self, log: Path) -> None:
        self.config()
        self.log = log.open("w")
        self.proc = subprocess.Popen(self._runc("run", "--bundle", str(self.bundle), self.id),
                                     stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def stop(self) -> None:
        subprocess.run(self._runc("kill", self.id, "KILL"), capture_output=True)
        if self.proc is not None:
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.delete()

    def delete(self) -> None:
        subprocess.run(self._runc("delete", "--force", self.id), capture_output=True)
        shutil.rmtree(self.bundle, ignore_errors=True)


def user_of(spec: dict) -> tuple[int, int]:
    user = spec["process"]["user"]
    return user["uid"], user["gid"]
