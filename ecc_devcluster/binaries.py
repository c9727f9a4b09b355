"""Build the real control-plane binaries from the Go wrapper modules in ``gomods/``.

No container runtime and no release download exist on the development machines, but the Go
module proxy does, so kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, the node
binaries kubelet and kube-proxy, etcd, KWOK, Helm, the MinIO server and CoreDNS are compiled from
their published Go modules. Each tool has a small wrapper module (``gomods/<tool>/go.mod`` +
``go.sum``, committed) pinning one release; ``gomods/pause`` is our own pod sandbox process.

Cache layout, outside the checkout (``contracts.cache_dir()``)::

    builds/<tool>-<first 16 hex of sha256(go.sum)>/   one finished build (binaries + build.json)
    builds/.<tool>.lock                               held while <tool> is being built
    bin/<binary> -> builds/<tool>-<key>/<binary>      stable directory, goes first on PATH
    logs/build-<tool>-<key>.log                       full `go build -v` output of the last build

A tool is rebuilt only when its go.sum changes (for a wrapper with its own code and no
dependencies, like pause, the key also covers its ``key_sources``). Every build is static
(``CGO_ENABLED=0``) unless its ToolSpec says ``cgo=True``; a static tool whose binary still
needs a dynamic loader fails the build. Builds go to a temporary directory that is
renamed into place when complete, so an interrupted build never leaves a half cache entry.

Versions are stamped with ``-ldflags -X`` from the versions pinned in each go.mod (the single
source of truth), the way each project's own release build does it, so ``--version`` and the
API server's ``/version`` report the real release.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import typer
from pydantic import BaseModel, ConfigDict
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from ecc_devcluster.filelock import exclusive
from ecc_workloads.contracts import cache_dir

GOMODS_DIR = Path(__file__).resolve().parent / "gomods"
DEFAULT_JOBS = 2
"""`go build -p`: the development machines have 2 cores."""
MAKE_HINT = "run `make binaries` (or `python -m ecc_devcluster.binaries ensure`)"
GO_INSTALL_HINT = (
    "install Go >= 1.26 (https://go.dev/dl/: download go1.26.x.linux-amd64.tar.gz, "
    "`tar -C /usr/local -xzf go1.26.x.linux-amd64.tar.gz`, add /usr/local/go/bin to PATH)"
)
GO_FALLBACK_DIRS: tuple[str, ...] = ("/usr/local/go/bin", str(Path.home() / "go" / "bin"))
"""Searched for `go` when it is not on PATH (a default tarball install is often not on PATH)."""
PLAIN_PROGRESS_EVERY_S = 30.0
"""Without a terminal, print one progress line this often."""
LOG_TAIL_LINES = 30


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------
class BinariesError(RuntimeError):
    """Base class: every failure of this module says what is wrong and what to do."""


class UnknownToolError(BinariesError, ValueError):
    """A tool or binary name that is not in the registry."""


class GoNotFoundError(BinariesError):
    """No Go toolchain to build with."""


class GoBuildError(BinariesError):
    """`go build` (or `go list`) failed; the message carries a diagnosis and the log's tail."""


class BinaryMissingError(BinariesError, FileNotFoundError):
    """A binary is not built (or is out of date with its go.sum)."""


# ---------------------------------------------------------------------------
# go.mod reading and version stamping (pure functions)
# ---------------------------------------------------------------------------
def _directive_lines(go_mod_text: str, directive: str) -> Iterator[str]:
    """Yield the bodies of `directive` lines, single or in a `directive ( ... )` block."""
    in_block = False
    for raw in go_mod_text.splitlines():
        line = raw.split("//", 1)[0].strip()
        if not line:
            continue
        if in_block:
            if line == ")":
                in_block = False
            else:
                yield line
        elif line == f"{directive} (" or line == f"{directive}(":
            in_block = True
        elif line.startswith(directive + " "):
            yield line[len(directive) :].strip()


def required_version(go_mod_text: str, module: str) -> str:
    """The version of `module` in go.mod's require directives."""
    for body in _directive_lines(go_mod_text, "require"):
        parts = body.split()
        if len(parts) == 2 and parts[0] == module:
            return parts[1]
    raise BinariesError(f"go.mod does not require {module}")


def replaced_versions(go_mod_text: str) -> dict[str, str]:
    """`old => new version` replace directives as {old module: version}."""
    out: dict[str, str] = {}
    for body in _directive_lines(go_mod_text, "replace"):
        left, sep, right = body.partition("=>")
        new = right.split()
        if sep and len(new) == 2:
            out[left.split()[0]] = new[1]
    return out


def cache_key(go_sum: bytes) -> str:
    """First 16 hex digits of sha256(go.sum): a tool's build is reused until go.sum changes."""
    return hashlib.sha256(go_sum).hexdigest()[:16]


def _release_parts(version: str, module: str) -> tuple[int, int, int]:
    match = re.fullmatch(r"v(\d+)\.(\d+)\.(\d+)(?:-[0-9A-Za-z.-]+)?", version)
    if not match:
        raise BinariesError(f"{module} {version} is not a semantic version")
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch)


def kubernetes_version(go_mod_text: str) -> str:
    return required_version(go_mod_text, "k8s.io/kubernetes")


def staging_version(kubernetes: str) -> str:
    """k8s.io/kubernetes v1.X.Y publishes its staging modules (k8s.io/api, ...) as v0.X.Y."""
    _release_parts(kubernetes, "k8s.io/kubernetes")
    return "v0." + kubernetes.split(".", 1)[1]


def kubernetes_x_flags(go_mod_text: str, built_at: datetime) -> dict[str, str]:
    """What Kubernetes' hack/lib/version.sh stamps, for both version packages."""
    version = kubernetes_version(go_mod_text)
    _, minor, _ = _release_parts(version, "k8s.io/kubernetes")
    staging = staging_version(version)
    wrong = {
        module: pinned
        for module, pinned in replaced_versions(go_mod_text).items()
        if module.startswith("k8s.io/") and pinned != staging
    }
    if wrong:
        raise BinariesError(
            f"gomods/kubernetes/go.mod pins k8s.io/kubernetes {version}, so every staging module "
            f"must be replaced by {staging}; these are not: {wrong}"
        )
    values = {
        "gitVersion": version,
        "gitMajor": "1",
        "gitMinor": str(minor),
        # The proxy does not say which commit a tag points at: leave it empty rather than
        # the "$Format:%H$" placeholder or an invented hash.
        "gitCommit": "",
        "gitTreeState": "clean",
        "buildDate": built_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return {
        f"{package}.{name}": value
        for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")
        for name, value in values.items()
    }


def etcd_version(go_mod_text: str) -> str:
    return required_version(go_mod_text, "go.etcd.io/etcd/server/v3")


def etcd_x_flags(go_mod_text: str, built_at: datetime) -> dict[str, str]:
    """etcd's version is a source constant of go.etcd.io/etcd/api/v3/version: nothing to stamp,
    but the api module must be the server's release or `etcd --version` would report it."""
    server = etcd_version(go_mod_text)
    api = required_version(go_mod_text, "go.etcd.io/etcd/api/v3")
    if api != server:
        raise BinariesError(
            f"gomods/etcd/go.mod: go.etcd.io/etcd/api/v3 is {api} but the server is {server}; "
            "they must match (etcd reports the api module's version)"
        )
    return {}


def kwok_version(go_mod_text: str) -> str:
    return required_version(go_mod_text, "sigs.k8s.io/kwok")


def kwok_x_flags(go_mod_text: str, built_at: datetime) -> dict[str, str]:
    """What kwok's hack/releases.sh stamps (its consts package keeps the version without "v")."""
    return {"sigs.k8s.io/kwok/pkg/consts.Version": kwok_version(go_mod_text).removeprefix("v")}


def helm_version(go_mod_text: str) -> str:
    return required_version(go_mod_text, "helm.sh/helm/v3")


def helm_x_flags(go_mod_text: str, built_at: datetime) -> dict[str, str]:
    """What Helm's Makefile stamps; the Kubernetes version Helm assumes comes from client-go."""
    client_go = required_version(go_mod_text, "k8s.io/client-go")
    major, minor, _ = _release_parts(client_go, "k8s.io/client-go")
    flags = {
        "helm.sh/helm/v3/internal/version.version": helm_version(go_mod_text),
        "helm.sh/helm/v3/internal/version.gitTreeState": "clean",
    }
    for package in ("helm.sh/helm/v3/pkg/lint/rules", "helm.sh/helm/v3/pkg/chartutil"):
        flags[f"{package}.k8sVersionMajor"] = str(major + 1)
        flags[f"{package}.k8sVersionMinor"] = str(minor)
    return flags


_PSEUDO_VERSION = re.compile(r"v\d+\.\d+\.\d+-(?:0\.)?(?P<time>\d{14})-(?P<commit>[0-9a-f]{12})")


def minio_version(go_mod_text: str) -> str:
    return required_version(go_mod_text, "github.com/minio/minio")


def minio_release(go_mod_text: str) -> tuple[datetime, str]:
    """(commit time, 12-hex commit) of the pinned MinIO pseudo-version."""
    version = minio_version(go_mod_text)
    match = _PSEUDO_VERSION.fullmatch(version)
    if not match:
        raise BinariesError(
            f"github.com/minio/minio {version} is not a pseudo-version (MinIO publishes none "
            "of its releases as Go module tags; pin the commit's pseudo-version)"
        )
    when = datetime.strptime(match["time"], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    return when, match["commit"]


def minio_x_flags(go_mod_text: str, built_at: datetime) -> dict[str, str]:
    """What MinIO's buildscripts/gen-ldflags.go stamps for a `make build` at that commit:
    Version = the commit time, ReleaseTag = DEVELOPMENT.<commit time>."""
    when, commit = minio_release(go_mod_text)
    package = "github.com/minio/minio/cmd"
    return {
        f"{package}.Version": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        f"{package}.ReleaseTag": "DEVELOPMENT." + when.strftime("%Y-%m-%dT%H-%M-%SZ"),
        # Only the 12-hex prefix is known from the pseudo-version.
        f"{package}.CommitID": commit,
        f"{package}.ShortCommitID": commit,
        f"{package}.CopyrightYear": str(when.year),
    }


def minio_display_version(go_mod_text: str) -> str:
    when, commit = minio_release(go_mod_text)
    return f"DEVELOPMENT.{when.strftime('%Y-%m-%dT%H-%M-%SZ')} ({commit})"


def coredns_version(go_mod_text: str) -> str:
    return required_version(go_mod_text, "github.com/coredns/coredns")


def coredns_x_flags(go_mod_text: str, built_at: datetime) -> dict[str, str]:
    """What CoreDNS' Makefile stamps: GitCommit = `git describe --dirty --always`, which is the
    tag itself in a clean checkout of the release. The version (coremain.CoreVersion,
    "CoreDNS-1.x.y") is a source constant of the module."""
    return {"github.com/coredns/coredns/coremain.GitCommit": coredns_version(go_mod_text)}


def kserve_version(go_mod_text: str) -> str:
    return required_version(go_mod_text, "github.com/kserve/kserve")


PAUSE_DIR = GOMODS_DIR / "pause"
_PAUSE_VERSION = re.compile(r'^const version = "(?P<version>v\d+\.\d+\.\d+)"$', re.MULTILINE)


def pause_version(go_mod_text: str) -> str:
    """Our pause command has no upstream release: its version is the `version` constant of
    gomods/pause/main.go (which `pause -v` prints; nothing to stamp)."""
    source = _read(PAUSE_DIR / "main.go", "pause").decode()
    match = _PAUSE_VERSION.search(source)
    if not match:
        raise BinariesError(f'{PAUSE_DIR / "main.go"} has no `const version = "vX.Y.Z"` line')
    return match["version"]


def no_x_flags(go_mod_text: str, built_at: datetime) -> dict[str, str]:
    return {}


def ldflags(x_flags: dict[str, str]) -> str:
    """`-s -w` plus one `-X symbol=value` per stamped variable."""
    parts = ["-s", "-w"]
    for symbol, value in sorted(x_flags.items()):
        if re.search(r"\s|['\"]", value):
            raise BinariesError(f"ldflags value for {symbol} must not contain spaces or quotes: {value!r}")
        parts += ["-X", f"{symbol}={value}"]
    return " ".join(parts)


# ---------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ToolSpec:
    """One Go wrapper module and what to build from it."""

    name: str
    module_dir: Path
    packages: tuple[str, ...]
    """Main packages to build (import paths, or "." for the wrapper's own main package)."""
    binaries: tuple[str, ...]
    """Executables `go build -o DIR/` leaves behind (last element of each package path)."""
    version: Callable[[str], str]
    """go.mod text -> the pinned version, for humans."""
    x_flags: Callable[[str, datetime], dict[str, str]]
    """(go.mod text, build time) -> `-X` symbol values."""
    tags: tuple[str, ...] = ()
    cgo: bool = False
    """CGO_ENABLED for this tool's build. False (every tool today): static binaries, checked
    after the build (no ELF interpreter), so they run anywhere, even alone in a FROM-scratch
    image."""
    renames: tuple[tuple[str, str], ...] = ()
    """(built name, name kept) pairs: a package whose main is called something generic
    (KServe's `cmd/manager`) gets a name of its own in bin/."""
    key_sources: tuple[str, ...] = ()
    """Files of the wrapper module hashed into the cache key after go.sum: needed when the
    wrapper's own code (not a pinned dependency) is what gets built. Empty: the key is
    sha256(go.sum) alone."""

    @property
    def go_mod(self) -> Path:
        return self.module_dir / "go.mod"

    @property
    def go_sum(self) -> Path:
        return self.module_dir / "go.sum"

    def read_go_mod(self) -> str:
        return _read(self.go_mod, self.name).decode()

    def read_go_sum(self) -> bytes:
        return _read(self.go_sum, self.name)

    def read_key_material(self) -> bytes:
        """What the cache key hashes: go.sum, then each key source as NUL name NUL content."""
        material = self.read_go_sum()
        for name in self.key_sources:
            material += b"\0" + name.encode() + b"\0" + _read(self.module_dir / name, self.name)
        return material


def _read(path: Path, tool: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise BinariesError(
            f"{path} is missing for tool {tool!r}; the wrapper module needs a committed go.mod "
            f"and go.sum (run `go mod tidy` in {path.parent})"
        ) from None


KUBERNETES_COMMANDS = (
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubectl",
    "kubelet",
    "kube-proxy",
)

TOOLS: dict[str, ToolSpec] = {
    spec.name: spec
    for spec in (
        ToolSpec(
            name="kubernetes",
            module_dir=GOMODS_DIR / "kubernetes",
            packages=tuple(f"k8s.io/kubernetes/cmd/{cmd}" for cmd in KUBERNETES_COMMANDS),
            binaries=KUBERNETES_COMMANDS,
            version=kubernetes_version,
            x_flags=kubernetes_x_flags,
        ),
        ToolSpec(
            name="etcd",
            module_dir=GOMODS_DIR / "etcd",
            packages=(".",),
            binaries=("etcd",),
            version=etcd_version,
            x_flags=etcd_x_flags,
        ),
        ToolSpec(
            name="kwok",
            module_dir=GOMODS_DIR / "kwok",
            packages=("sigs.k8s.io/kwok/cmd/kwok",),
            binaries=("kwok",),
            version=kwok_version,
            x_flags=kwok_x_flags,
        ),
        ToolSpec(
            name="helm",
            module_dir=GOMODS_DIR / "helm",
            packages=("helm.sh/helm/v3/cmd/helm",),
            binaries=("helm",),
            version=helm_version,
            x_flags=helm_x_flags,
        ),
        ToolSpec(
            name="minio",
            module_dir=GOMODS_DIR / "minio",
            packages=("github.com/minio/minio",),
            binaries=("minio",),
            version=minio_display_version,
            x_flags=minio_x_flags,
            tags=("kqueue",),  # as MinIO's Makefile builds it
        ),
        ToolSpec(
            name="coredns",
            module_dir=GOMODS_DIR / "coredns",
            packages=("github.com/coredns/coredns",),
            binaries=("coredns",),
            version=coredns_version,
            x_flags=coredns_x_flags,
            tags=("grpcnotrace",),  # as CoreDNS' Makefile builds it
            cgo=False,  # goes alone into a FROM-scratch image
        ),
        ToolSpec(
            name="kserve",
            module_dir=GOMODS_DIR / "kserve",
            packages=("github.com/kserve/kserve/cmd/manager",),
            binaries=("kserve-manager",),
            renames=(("manager", "kserve-manager"),),
            version=kserve_version,
            x_flags=lambda _go_mod, _at: {},  # the manager has no version variable to stamp
            cgo=False,  # goes alone into a FROM-scratch image
        ),
        ToolSpec(
            name="pause",
            module_dir=PAUSE_DIR,
            packages=(".",),
            binaries=("pause",),
            version=pause_version,
            x_flags=no_x_flags,
            cgo=False,  # goes alone into a FROM-scratch image
            key_sources=("go.mod", "main.go"),
        ),
    )
}


def tool_spec(name: str, registry: dict[str, ToolSpec] | None = None) -> ToolSpec:
    registry = TOOLS if registry is None else registry
    try:
        return registry[name]
    except KeyError:
        raise UnknownToolError(
            f"unknown tool {name!r}; known tools: {', '.join(sorted(registry))}"
        ) from None


def tool_for_binary(binary: str, registry: dict[str, ToolSpec] | None = None) -> ToolSpec:
    registry = TOOLS if registry is None else registry
    for spec in registry.values():
        if binary in spec.binaries:
            return spec
    known = sorted(b for spec in registry.values() for b in spec.binaries)
    raise UnknownToolError(f"unknown binary {binary!r}; known binaries: {', '.join(known)}")


# ---------------------------------------------------------------------------
# Cache paths
# ---------------------------------------------------------------------------
def cache_root() -> Path:
    return Path(cache_dir())


def bin_dir() -> Path:
    """The stable directory of symlinks to the current builds: put it first on PATH."""
    return cache_root() / "bin"


def builds_dir() -> Path:
    return cache_root() / "builds"


def logs_dir() -> Path:
    return cache_root() / "logs"


def build_dir(spec: ToolSpec) -> Path:
    return builds_dir() / f"{spec.name}-{cache_key(spec.read_key_material())}"


class BuildRecord(BaseModel):
    """build.json, written next to the binaries of one finished build."""

    model_config = ConfigDict(frozen=True)

    tool: str
    version: str
    cache_key: str
    go_version: str
    packages: list[str]
    binaries: list[str]
    ldflags: str
    tags: list[str]
    cgo: bool = False
    built_at: datetime
    build_seconds: float


BUILD_RECORD = "build.json"


def read_build_record(directory: Path) -> BuildRecord | None:
    try:
        return BuildRecord.model_validate_json((directory / BUILD_RECORD).read_text())
    except (FileNotFoundError, ValueError):
        return None


def _is_complete(directory: Path, spec: ToolSpec) -> bool:
    return (directory / BUILD_RECORD).is_file() and all(
        (directory / name).is_file() for name in spec.binaries
    )


# ---------------------------------------------------------------------------
# Go
# ---------------------------------------------------------------------------
def find_go() -> str:
    """Path of the `go` command, or GoNotFoundError saying how to install Go."""
    found = shutil.which("go") or shutil.which("go", path=os.pathsep.join(GO_FALLBACK_DIRS))
    if not found:
        raise GoNotFoundError(
            "the Go toolchain (`go`) was not found on PATH nor in "
            f"{', '.join(GO_FALLBACK_DIRS)}; the control-plane binaries are compiled from Go "
            f"modules, so {GO_INSTALL_HINT}, then {MAKE_HINT}"
        )
    return found


def go_env(base: dict[str, str] | None = None, *, cgo: bool = False) -> dict[str, str]:
    """Build environment: the local toolchain only, no VCS stamping, static binaries (unless
    `cgo`)."""
    env = dict(os.environ if base is None else base)
    env["GOTOOLCHAIN"] = "local"
    env["CGO_ENABLED"] = "1" if cgo else "0"
    flags = env.get("GOFLAGS", "").split()
    if not any(f.startswith("-buildvcs") for f in flags):
        flags.append("-buildvcs=false")
    env["GOFLAGS"] = " ".join(flags)
    return env


_TOO_OLD = re.compile(r"requires go >= (?P<need>\S+) \(running go (?P<have>[^;\s)]+)")
_MODULE_FAILURE = re.compile(
    r"(?P<module>[A-Za-z0-9][\w.~/-]*\.[\w.~/-]*)@(?P<version>v[^\s:/]+): (?P<why>.+)$", re.MULTILINE
)
_DOWNLOADING = re.compile(r"^go: downloading (?P<module>\S+) (?P<version>v\S+)$", re.MULTILINE)
_NETWORK_FAILURE = re.compile(
    r"lookup disabled|dial tcp|no such host|i/o timeout|proxyconnect|TLS handshake|connection refused"
    r"|Not Found|Gone|Bad Request|unknown revision|invalid version"
)
_MISSING_SUM = re.compile(r"missing go\.sum entry|updates to go\.mod needed|go: inconsistent vendoring")
_COMPILE_PACKAGE = re.compile(r"^# (?P<package>\S+)$", re.MULTILINE)


def diagnose_go_failure(output: str, module_dir: Path | None = None) -> str:
    """One sentence naming what went wrong in a failed `go` run, from its output."""
    where = f" in {module_dir}" if module_dir else ""
    if match := _TOO_OLD.search(output):
        return (
            f"Go {match['have']} is too old: the module needs go >= {match['need']} "
            f"(GOTOOLCHAIN=local forbids downloading another toolchain); {GO_INSTALL_HINT}"
        )
    if match := _MODULE_FAILURE.search(output):
        if "checksum mismatch" in match["why"]:
            return (
                f"Go module {match['module']} {match['version']} does not match its go.sum hash "
                f"(checksum mismatch){where}: the download was altered or go.sum is wrong; do not "
                "just delete the line — check where the module comes from (GOPROXY, GONOSUMDB)"
            )
        return (
            f"could not get Go module {match['module']} {match['version']}: {match['why'].strip()} "
            "(is the Go module proxy reachable — GOPROXY, network — and is that version published?)"
        )
    downloads = _DOWNLOADING.findall(output)
    if downloads and (failure := _NETWORK_FAILURE.search(output)):
        module, version = downloads[-1]
        line = next(l for l in output.splitlines() if failure.group(0) in l)
        return (
            f"could not get Go module {module} {version} (the last one go was downloading): "
            f"{line.strip()} (is the Go module proxy reachable — GOPROXY, network?)"
        )
    if _MISSING_SUM.search(output):
        return f"go.mod/go.sum are not tidy{where}: run `go mod tidy` there and commit both"
    if match := _COMPILE_PACKAGE.search(output):
        return f"compile error in package {match['package']} (see the log below)"
    return "go failed (see the log below)"


_PT_INTERP = 3


def elf_interpreter(path: Path) -> str | None:
    """The dynamic loader an ELF executable names (its PT_INTERP segment), or None: a static
    binary, or not an ELF file at all."""
    with path.open("rb") as f:
        ident = f.read(16)
        if len(ident) < 16 or ident[:4] != b"\x7fELF":
            return None
        endian = "<" if ident[5] == 1 else ">"
        if ident[4] == 2:  # ELF64: e_phoff at 32, e_phentsize/e_phnum at 54; p_offset, p_filesz
            header_format, entry_format = "32xQ14xHH", "I4xQ16xQ"
        else:  # ELF32: e_phoff at 28, e_phentsize/e_phnum at 42
            header_format, entry_format = "28xI10xHH", "II8xI"
        f.seek(0)
        phoff, phentsize, phnum = struct.unpack(
            endian + header_format, f.read(struct.calcsize(endian + header_format))
        )
        for index in range(phnum):
            f.seek(phoff + index * phentsize)
            kind, offset, size = struct.unpack(
                endian + entry_format, f.read(struct.calcsize(endian + entry_format))
            )
            if kind == _PT_INTERP:
                f.seek(offset)
                return f.read(size).rstrip(b"\0").decode(errors="replace")
    return None


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return ""


# ---------------------------------------------------------------------------
# Progress
# ---------------------------------------------------------------------------
_PACKAGE_LINE = re.compile(r"^[A-Za-z0-9_.~+-]+(?:/[A-Za-z0-9_.~+-]+)*$")


class _Reporter:
    """Shows a build's progress: a rich bar on a terminal, a line every 30 s otherwise."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._progress: Progress | None = None
        self._task = None
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()
        self.tool = ""
        self.done = 0
        self.total: int | None = None
        self.phase = ""
        self.started = 0.0

    def note(self, message: str) -> None:
        self.console.print(message, highlight=False, markup=False, soft_wrap=True)

    @contextlib.contextmanager
    def build(self, tool: str) -> Iterator[_Reporter]:
        self.tool, self.done, self.total, self.phase = tool, 0, None, "resolving packages"
        self.started = time.monotonic()
        if self.console.is_terminal:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("[bold]{task.fields[tool]}[/]"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("packages"),
                TimeElapsedColumn(),
                TextColumn("{task.description}"),
                console=self.console,
                transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task(self.phase, total=None, tool=tool)
        else:
            self._stop.clear()
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()
        try:
            yield self
            if self._progress and self.total:  # cached packages are never listed by -v
                self._progress.update(self._task, completed=self.total, description="go finished")
        finally:
            self._stop.set()
            if self._ticker:
                self._ticker.join(timeout=1)
                self._ticker = None
            if self._progress:
                self._progress.stop()
                self._progress = None

    def _tick(self) -> None:
        while not self._stop.wait(PLAIN_PROGRESS_EVERY_S):
            self.note(self._line())

    def _line(self) -> str:
        elapsed = int(time.monotonic() - self.started)
        of = f" (of {self.total} in the build; cached ones are not recompiled)" if self.total else ""
        return f"[{self.tool}] {elapsed // 60}m{elapsed % 60:02d}s: {self.done} packages compiled{of}; {self.phase}"

    def set_total(self, total: int) -> None:
        self.total = total
        if self._progress:
            self._progress.update(self._task, total=total)

    def set_phase(self, phase: str) -> None:
        self.phase = phase
        if self._progress:
            self._progress.update(self._task, description=phase)

    def compiled(self, package: str) -> None:
        self.done += 1
        self.phase = package
        if self._progress:
            self._progress.update(self._task, completed=self.done, description=package)


# ---------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------
def _run_go(
    args: Sequence[str], spec: ToolSpec, log: TextIO, on_line: Callable[[str], None], env: dict[str, str]
) -> int:
    """Run go in the tool's module, teeing its output to the log; returns the exit code."""
    log.write(f"$ {' '.join(args)}\n")
    log.flush()
    with subprocess.Popen(
        list(args),
        cwd=spec.module_dir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            on_line(line.rstrip("\n"))
        return proc.wait()


def _go_version(go: str) -> str:
    return subprocess.run(
        [go, "env", "GOVERSION"], capture_output=True, text=True, check=False, env=go_env()
    ).stdout.strip()


def _build_into(spec: ToolSpec, out_dir: Path, jobs: int, reporter: _Reporter, log_path: Path) -> BuildRecord:
    go = find_go()
    go_mod = spec.read_go_mod()
    built_at = datetime.now(UTC).replace(microsecond=0)
    flags = ldflags(spec.x_flags(go_mod, built_at))
    env = go_env(cgo=spec.cgo)
    started = time.monotonic()
    listed: list[str] = []

    def on_list_line(line: str) -> None:
        if line.startswith("go: downloading "):
            reporter.set_phase(line.removeprefix("go: "))
        elif _PACKAGE_LINE.match(line):
            listed.append(line)

    def on_build_line(line: str) -> None:
        if line.startswith("go: downloading "):
            reporter.set_phase(line.removeprefix("go: "))
        elif _PACKAGE_LINE.match(line):
            reporter.compiled(line)

    tag_args = ["-tags", ",".join(spec.tags)] if spec.tags else []
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log, reporter.build(spec.name):
        rc = _run_go(
            [go, "list", "-deps", *tag_args, "-f", "{{.ImportPath}}", *spec.packages],
            spec, log, on_list_line, env,
        )
        if rc == 0:
            reporter.set_total(len(listed))
            reporter.set_phase("compiling")
            rc = _run_go(
                [go, "build", "-p", str(jobs), "-v", "-trimpath", *tag_args, "-ldflags", flags,
                 "-o", str(out_dir) + os.sep, *spec.packages],
                spec, log, on_build_line, env,
            )
    if rc != 0:
        output = log_path.read_text(errors="replace")
        raise GoBuildError(
            f"building {spec.name} {spec.version(go_mod)} failed (go exit code {rc}): "
            f"{diagnose_go_failure(output, spec.module_dir)}\n"
            f"full log: {log_path}\n--- last {LOG_TAIL_LINES} lines ---\n{_tail(log_path)}"
        )
    for built, kept in spec.renames:
        if (out_dir / built).is_file():
            os.replace(out_dir / built, out_dir / kept)
    missing = [name for name in spec.binaries if not (out_dir / name).is_file()]
    if missing:
        raise GoBuildError(f"go build of {spec.name} succeeded but left no {missing} in {out_dir}")
    if not spec.cgo:
        dynamic = {
            name: interp for name in spec.binaries if (interp := elf_interpreter(out_dir / name))
        }
        if dynamic:
            raise GoBuildError(
                f"{spec.name} is built with CGO_ENABLED=0 but these binaries still need a dynamic "
                f"loader: {dynamic} (is -linkshared or -buildmode=pie set in GOFLAGS?)"
            )
    return BuildRecord(
        tool=spec.name,
        version=spec.version(go_mod),
        cache_key=cache_key(spec.read_key_material()),
        go_version=_go_version(go),
        packages=list(spec.packages),
        binaries=list(spec.binaries),
        ldflags=flags,
        tags=list(spec.tags),
        cgo=spec.cgo,
        built_at=built_at,
        build_seconds=round(time.monotonic() - started, 1),
    )


def _link(spec: ToolSpec, build: Path) -> None:
    """Point bin/<binary> at this build, atomically (symlink to a temp name, then rename)."""
    target_dir = bin_dir()
    target_dir.mkdir(parents=True, exist_ok=True)
    for name in spec.binaries:
        link = target_dir / name
        target = build / name
        if link.is_symlink() and Path(os.readlink(link)) == target:
            continue
        # unique per caller: threads of one process share the pid
        temp = target_dir / f".{name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
        temp.symlink_to(target)
        os.replace(temp, link)


def _ensure_tool(spec: ToolSpec, jobs: int, reporter: _Reporter) -> Path:
    final = build_dir(spec)
    if not _is_complete(final, spec):
        lock = builds_dir() / f".{spec.name}.lock"
        with exclusive(lock, lambda: reporter.note(f"[{spec.name}] another process is building it (lock {lock}); waiting")):
            if not _is_complete(final, spec):  # nobody built it while we waited
                _build_fresh(spec, final, jobs, reporter)
    _link(spec, final)
    return final


def _build_fresh(spec: ToolSpec, final: Path, jobs: int, reporter: _Reporter) -> None:
    """Build into a temp dir beside `final`, then rename it into place. Holds the tool's lock."""
    for stale in builds_dir().glob(f".tmp-{spec.name}-*"):  # left by an interrupted build
        shutil.rmtree(stale, ignore_errors=True)
    if final.exists():  # incomplete: should not happen thanks to the rename, but never trust it
        shutil.rmtree(final)
    reporter.note(f"[{spec.name}] building {spec.version(spec.read_go_mod())} -> {final}")
    temp = Path(tempfile.mkdtemp(prefix=f".tmp-{spec.name}-", dir=builds_dir()))
    try:
        log_path = logs_dir() / f"build-{final.name}.log"
        record = _build_into(spec, temp, jobs, reporter, log_path)
        (temp / BUILD_RECORD).write_text(record.model_dump_json(indent=2) + "\n")
        os.rename(temp, final)
        reporter.note(f"[{spec.name}] built in {record.build_seconds:.0f} s (log {log_path})")
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def ensure_binaries(
    tools: Sequence[str] | None = None,
    *,
    jobs: int = DEFAULT_JOBS,
    console: Console | None = None,
) -> Path:
    """Build whatever of `tools` (default: all) is missing for the current go.sum files, point
    bin/ at the builds and return bin/ (put it first on PATH). A no-op on a warm cache."""
    names = list(TOOLS) if tools is None else list(tools)
    specs = [tool_spec(name) for name in names]
    if jobs < 1:
        raise BinariesError(f"jobs must be >= 1, got {jobs}")
    reporter = _Reporter(console or Console(stderr=True))
    builds_dir().mkdir(parents=True, exist_ok=True)
    for spec in specs:
        _ensure_tool(spec, jobs, reporter)
    return bin_dir()


def binary_path(name: str) -> Path:
    """bin/<name> when it is built for the current go.sum; BinaryMissingError otherwise."""
    spec = tool_for_binary(name)
    path = bin_dir() / name
    current = build_dir(spec)
    if not path.exists():
        raise BinaryMissingError(f"{name} is not built ({path} does not exist): {MAKE_HINT}")
    if path.resolve().parent != current.resolve():
        raise BinaryMissingError(
            f"{path} points at {path.resolve().parent}, not the build for the current "
            f"gomods/{spec.name}/go.sum ({current}): {MAKE_HINT}"
        )
    return path


# ---------------------------------------------------------------------------
# CLI: `python -m ecc_devcluster.binaries ...`, mounted as `ecc-dev binaries`
# ---------------------------------------------------------------------------
app = typer.Typer(
    help="Build (from Go modules) and locate the real control-plane binaries, cached outside the repo.",
    no_args_is_help=True,
)


def _fail(error: BinariesError) -> typer.Exit:
    Console(stderr=True).print(f"[bold red]error:[/] {error}", highlight=False)
    return typer.Exit(code=1)


@app.command("ensure")
def ensure_command(
    tools: list[str] | None = typer.Argument(None, help=f"Tools to build (default: all of {', '.join(TOOLS)})."),
    jobs: int = typer.Option(DEFAULT_JOBS, "--jobs", "-j", help="go build -p"),
) -> None:
    """Build what is missing; print the bin directory to put first on PATH."""
    try:
        directory = ensure_binaries(tools or None, jobs=jobs)
    except BinariesError as error:
        raise _fail(error) from None
    print(directory)


@app.command("path")
def path_command(name: str = typer.Argument(..., help="A binary name, e.g. kube-apiserver.")) -> None:
    """Print the path of one built binary."""
    try:
        print(binary_path(name))
    except BinariesError as error:
        raise _fail(error) from None


@app.command("list")
def list_command() -> None:
    """Show each tool's pinned version, cache key and build state."""
    table = Table("tool", "version", "binaries", "cache key", "state")
    for spec in TOOLS.values():
        try:
            go_mod = spec.read_go_mod()
            directory = build_dir(spec)
            version = spec.version(go_mod)
        except BinariesError as error:
            table.add_row(spec.name, "?", " ".join(spec.binaries), "?", f"[red]{error}[/]")
            continue
        record = read_build_record(directory)
        state = (
            f"[green]built[/] {record.built_at:%Y-%m-%d %H:%M} in {record.build_seconds:.0f} s"
            if record and _is_complete(directory, spec)
            else "[yellow]missing[/]"
        )
        key = directory.name.rsplit("-", 1)[1]
        table.add_row(spec.name, version, "\n".join(spec.binaries), key, state)
    console = Console()
    console.print(table)
    console.print(f"builds: {builds_dir()}/<tool>-<cache key>\nbin (put first on PATH): {bin_dir()}", highlight=False)


if __name__ == "__main__":
    sys.exit(app())
