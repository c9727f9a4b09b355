"""`make images`: the project's three container images, built here without a daemon.

- **base**: a Debian root filesystem made from Debian's packages (``mmdebstrap --variant=minbase``
  with python3, its venv module and CA certificates; documentation left out, copyright files
  kept), committed as the buildah image ``localhost/ecc-base:<key>``. No image registry can be
  reached here, so no base image can be pulled.
- **images**: the Dockerfiles of ``images/`` built by buildah (chroot isolation, overlay storage,
  layer cache) over that base. torch comes from the default package index (the CUDA build: the
  CPU wheel index cannot be reached here); on an ordinary machine ``docker build`` takes the CPU
  wheel by default.
- **results**: one OCI image layout in the cache, ``<cache>/images/oci``, with one ref per image
  and key (``ecc-operator-<key>``); the big layers that two images share are stored once.
  ``<cache>/images/built/<name>.json`` records each image's key, digest and layers.

An image's key hashes everything that goes into it: the base's recipe, its Dockerfile, the build
arguments and every file of the build context that the Dockerfiles copy. A warm call is a hash
and a look-up; a change to the project's code rebuilds only the top layers (buildah's layer
cache); a change to pyproject.toml or requirements.lock rebuilds the dependency layers.

    python -m ecc_devcluster.images build [NAME ...]   # or: make images
    python -m ecc_devcluster.images list

Development only: this module never ships in an image.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import typer
from pydantic import BaseModel

from ecc_devcluster.filelock import exclusive
from ecc_workloads.contracts import cache_dir

REPO_ROOT = Path(__file__).resolve().parents[1]
VERSION = "0.1.0"
REGISTRY = "ghcr.io/ecc-fleet"

# The base image's recipe: every field is part of its key.
BASE_SUITE = "bookworm"
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates")
BASE_DPKG_OPTIONS = (
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/info/*",
    "path-exclude=/usr/share/locale/*",
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",  # licences stay with the binaries
)
BASE_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# What the Dockerfiles copy from the repository (see .dockerignore): every file under these
# paths is hashed into the keys.
CONTEXT_INPUTS = (
    ".dockerignore",
    "README.md",
    "LICENSE",
    "pyproject.toml",
    "requirements.lock",
    "images/requirements.py",
    "operator/ecc_operator",
    "ecc_workloads",
)
IGNORED_PARTS = ("__pycache__",)
IGNORED_SUFFIXES = (".pyc", ".pyo")

HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
BUILD_CA_PATH = "/run/ecc-build-ca.crt"
REQUIRED_TOOLS = {"buildah": "buildah", "mmdebstrap": "mmdebstrap"}
INSTALL_HINT = "install them from Debian's packages: apt-get install buildah mmdebstrap (or run `make setup`)"
LOG_TAIL_LINES = 40


@dataclass(frozen=True)
class ImageSpec:
    name: str
    dockerfile: str

    @property
    def repository(self) -> str:
        return f"{REGISTRY}/{self.name}"

    @property
    def reference(self) -> str:
        """The name a cluster knows it by (the chart's and the CRDs' defaults)."""
        return f"{self.repository}:{VERSION}"


IMAGES: dict[str, ImageSpec] = {
    spec.name: spec
    for spec in (
        ImageSpec("ecc-operator", "images/operator.Dockerfile"),
        ImageSpec("ecc-workloads", "images/workloads.Dockerfile"),
        ImageSpec("ecc-edge-agent", "images/edge-agent.Dockerfile"),
    )
}


class ImagesError(RuntimeError):
    """A build could not be done; the message says what failed and how to fix it."""


class Layer(BaseModel):
    digest: str
    size: int
    media_type: str
    created_by: str = ""


class BuiltImage(BaseModel):
    """What `build` records of one image (``<cache>/images/built/<name>.json``)."""

    schema_version: int = 1
    name: str
    reference: str
    key: str
    base_key: str
    layout: str
    ref: str
    manifest_digest: str
    config_digest: str
    layers: list[Layer]
    built_at: datetime
    build_seconds: float

    @property
    def size(self) -> int:
        return sum(layer.size for layer in self.layers)

    @property
    def layout_ref(self) -> str:
        """`<layout>:<ref>`, as umoci names an image."""
        return f"{self.layout}:{self.ref}"

    @property
    def oci_ref(self) -> str:
        """The `oci:` transport reference (buildah, skopeo)."""
        return f"oci:{self.layout_ref}"


# ---------------------------------------------------------------------------- paths
def images_dir() -> Path:
    return Path(cache_dir()) / "images"


def layout_dir() -> Path:
    return images_dir() / "oci"


def record_path(name: str) -> Path:
    return images_dir() / "built" / f"{name}.json"


def logs_dir() -> Path:
    return images_dir() / "logs"


def _runroot() -> Path:
    # buildah's run state belongs on tmpfs (stale locks vanish with a reboot), one per cache
    digest = hashlib.sha256(str(images_dir()).encode()).hexdigest()[:12]
    return Path("/run/ecc-fleet") / f"buildah-{digest}"


def buildah_global_args() -> list[str]:
    return ["--root", str(images_dir() / "storage"), "--runroot", str(_runroot()), "--storage-driver", "overlay"]


# ---------------------------------------------------------------------------- keys (pure)
def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def base_key() -> str:
    recipe = {"suite": BASE_SUITE, "packages": BASE_PACKAGES, "dpkg": BASE_DPKG_OPTIONS, "env": BASE_ENV}
    return _sha(json.dumps(recipe, sort_keys=True).encode())[:16]


def _ignored(path: Path) -> bool:
    return any(part in IGNORED_PARTS for part in path.parts) or path.suffix in IGNORED_SUFFIXES


def context_files(root: Path, inputs: Iterable[str] = CONTEXT_INPUTS) -> list[Path]:
    """Files of the build context the Dockerfiles copy, relative to root, sorted."""
    files: list[Path] = []
    for entry in inputs:
        path = root / entry
        if path.is_file():
            files.append(Path(entry))
        elif path.is_dir():
            files.extend(p.relative_to(root) for p in path.rglob("*") if p.is_file() and not _ignored(p.relative_to(root)))
        else:
            raise ImagesError(f"build context input {entry!r} is missing from {root}")
    return sorted(files)


def build_args(base: str) -> dict[str, str]:
    """Arguments every Dockerfile gets here. TORCH_INDEX_URL empty = the default package index."""
    args = {"BASE": f"localhost/ecc-base:{base}", "TORCH_INDEX_URL": ""}
    if HOST_CA_BUNDLE.is_file():
        args["PIP_CERT"] = BUILD_CA_PATH
    return args


def image_key(spec: ImageSpec, root: Path, base: str) -> str:
    h = hashlib.sha256()
    h.update(f"base={base}\n".encode())
    h.update(json.dumps(build_args(base), sort_keys=True).encode())
    h.update(_sha((root / spec.dockerfile).read_bytes()).encode())
    for rel in context_files(root):
        h.update(f"{rel}\0{_sha((root / rel).read_bytes())}\n".encode())
    return h.hexdigest()[:16]


def layout_ref(name: str, key: str) -> str:
    return f"{name}-{key}"


# ---------------------------------------------------------------------------- OCI layout (read)
def read_blob(layout: Path, digest: str) -> bytes:
    algo, _, hexdigest = digest.partition(":")
    return (layout / "blobs" / algo / hexdigest).read_bytes()


def find_manifest(layout: Path, ref: str) -> dict | None:
    """The index entry of `ref` in an OCI layout, or None."""
    index = layout / "index.json"
    if not index.is_file():
        return None
    for entry in json.loads(index.read_text()).get("manifests", []):
        if entry.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref:
            return entry
    return None


def describe(spec: ImageSpec, key: str, base: str, seconds: float) -> BuiltImage:
    layout = layout_dir()
    ref = layout_ref(spec.name, key)
    entry = find_manifest(layout, ref)
    if entry is None:
        raise ImagesError(f"{spec.name}: ref {ref} is not in {layout} after the push")
    manifest = json.loads(read_blob(layout, entry["digest"]))
    config = json.loads(read_blob(layout, manifest["config"]["digest"]))
    history = [h.get("created_by", "") for h in config.get("history", []) if not h.get("empty_layer")]
    layers = [
        Layer(digest=l["digest"], size=l["size"], media_type=l["mediaType"],
              created_by=history[i] if i < len(history) else "")
        for i, l in enumerate(manifest["layers"])
    ]
    return BuiltImage(name=spec.name, reference=spec.reference, key=key, base_key=base, layout=str(layout), ref=ref,
                      manifest_digest=entry["digest"], config_digest=manifest["config"]["digest"], layers=layers,
                      built_at=datetime.now(timezone.utc), build_seconds=round(seconds, 1))


def read_record(name: str) -> BuiltImage | None:
    path = record_path(name)
    if not path.is_file():
        return None
    try:
        return BuiltImage.model_validate_json(path.read_text())
    except ValueError:
        return None


# ---------------------------------------------------------------------------- side effects
def check_tools() -> None:
    missing = [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]
    if missing:
        raise ImagesError(f"building images needs {', '.join(missing)}: {INSTALL_HINT}")
    if os.geteuid() != 0:
        raise ImagesError("building images needs root here (buildah's chroot isolation and overlay storage)")


def _say(msg: str) -> None:
    print(f"[images] {msg}", file=sys.stderr, flush=True)


def _build_lock():
    lock = images_dir() / "build.lock"
    return exclusive(lock, lambda: _say(f"another process is building images (lock {lock}); waiting"))


def _run(argv: list[str], log: Path, what: str, echo_prefix: tuple[str, ...] = ()) -> None:
    """Run a build command, its output into `log`; echo lines starting with `echo_prefix`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as out:
        out.write(f"$ {' '.join(argv)}\n")
        out.flush()
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
        assert proc.stdout is not None
        for line in proc.stdout:
            out.write(line)
            if echo_prefix and line.startswith(echo_prefix):
                _say(f"{what}: {line.rstrip()[:160]}")
        rc = proc.wait()
    if rc != 0:
        tail = "".join(log.read_text(errors="replace").splitlines(keepends=True)[-LOG_TAIL_LINES:])
        raise ImagesError(f"{what} failed (exit {rc}); the end of {log}:\n{tail}")


def buildah_argv(*args: str) -> list[str]:
    """A buildah command line on the project's own storage (the cache, not the system's)."""
    return ["buildah", *buildah_global_args(), *args]


def _has_local_image(name: str) -> bool:
    result = subprocess.run(buildah_argv("inspect", "--type", "image", name), capture_output=True, text=True)
    return result.returncode == 0


def ensure_base() -> str:
    """The base image in buildah's storage (built from Debian's packages when missing); its key."""
    key = base_key()
    name = f"localhost/ecc-base:{key}"
    if _has_local_image(name):
        return key
    log = logs_dir() / f"ecc-base-{key}.log"
    started = time.monotonic()
    _say(f"base {name}: mmdebstrap {BASE_SUITE} (minbase + {', '.join(BASE_PACKAGES)}) from Debian's packages")
    with tempfile.TemporaryDirectory(prefix="ecc-base-", dir=images_dir()) as tmp:
        rootfs_tar = Path(tmp) / "rootfs.tar"
        argv = ["mmdebstrap", "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}", "--format=tar"]
        argv += [f"--dpkgopt={opt}" for opt in BASE_DPKG_OPTIONS]
        _run([*argv, BASE_SUITE, str(rootfs_tar)], log, "base")
        made = subprocess.run(buildah_argv("from", "scratch"), capture_output=True, text=True)
        if made.returncode != 0:
            raise ImagesError(f"base: `buildah from scratch` failed: {made.stderr.strip()[-500:]}")
        container = made.stdout.strip()
        try:
            _run(buildah_argv("add", container, str(rootfs_tar), "/"), log, "base")
            _run(buildah_argv("config", "--env", BASE_ENV, "--cmd", "/bin/bash",
                          "--label", f"org.opencontainers.image.description=Debian {BASE_SUITE} minbase + python3",
                          container), log, "base")
            _run(buildah_argv("commit", "--rm", container, name), log, "base")
        except ImagesError:
            subprocess.run(buildah_argv("rm", container), capture_output=True)
            raise
    _say(f"base {name}: built in {time.monotonic() - started:.0f} s")
    return key


def build_image(spec: ImageSpec, root: Path, base: str, key: str) -> BuiltImage:
    log = logs_dir() / f"{spec.name}-{key}.log"
    tag = f"localhost/{spec.name}:{key}"
    started = time.monotonic()
    argv = buildah_argv("bud", "--layers", "--force-rm", "--pull-never", "--isolation", "chroot", "--network", "host",
                    "-f", str(root / spec.dockerfile), "-t", tag)
    for name, value in build_args(base).items():
        argv += ["--build-arg", f"{name}={value}"]
    if HOST_CA_BUNDLE.is_file():  # pip trusts what this machine trusts (a TLS-inspecting proxy's CA)
        argv += ["--volume", f"{HOST_CA_BUNDLE}:{BUILD_CA_PATH}:ro"]
    _say(f"{spec.name}: building {tag} ({spec.dockerfile}; log {log})")
    _run([*argv, str(root)], log, spec.name, echo_prefix=("STEP", "Using cache"))
    layout = layout_dir()
    layout.mkdir(parents=True, exist_ok=True)
    # gzip'd layers, as a registry ships them. buildah 1.28 compresses every layer again on each
    # push (an OCI layout destination cannot reuse a compressed blob it already holds): that is
    # most of a code-only rebuild of the torch images (docs/images.md)
    _run(buildah_argv("push", tag, f"oci:{layout}:{layout_ref(spec.name, key)}"), log, spec.name)
    record = describe(spec, key, base, time.monotonic() - started)
    path = record_path(spec.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(record.model_dump_json(indent=2))
    _say(f"{spec.name}: {record.size / 1e6:.0f} MB in {len(record.layers)} layers, built in {record.build_seconds:.0f} s")
    return record


def prune_layout(layout: Path, keep_refs: set[str]) -> int:
    """Drop the refs of our images other than `keep_refs` from the layout's index, then every blob
    no remaining manifest uses; the bytes freed."""
    index_path = layout / "index.json"
    index = json.loads(index_path.read_text())
    ours = tuple(f"{name}-" for name in IMAGES)
    kept = [m for m in index.get("manifests", [])
            if not (ref := m.get("annotations", {}).get("org.opencontainers.image.ref.name", "")).startswith(ours)
            or ref in keep_refs]
    if len(kept) != len(index.get("manifests", [])):
        index["manifests"] = kept
        tmp = index_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(index))
        tmp.replace(index_path)
    used: set[str] = set()
    for entry in kept:
        used.add(entry["digest"])
        manifest = json.loads(read_blob(layout, entry["digest"]))
        used.add(manifest["config"]["digest"])
        used.update(layer["digest"] for layer in manifest["layers"])
    freed = 0
    for blob in (layout / "blobs" / "sha256").iterdir():
        if f"sha256:{blob.name}" not in used:
            freed += blob.stat().st_size
            blob.unlink()
    return freed


def prune_store(keep_tags: set[str]) -> None:
    """Untag older builds of our images in buildah's storage. The untagged intermediate images
    of the layer cache stay: they are what makes the next build fast (docs/images.md)."""
    listed = subprocess.run(buildah_argv("images", "--format", "{{.Name}}:{{.Tag}}"), capture_output=True, text=True)
    stale = [tag for tag in listed.stdout.split()
             if tag.startswith(tuple(f"localhost/{name}:" for name in IMAGES)) and tag not in keep_tags]
    if stale:
        subprocess.run(buildah_argv("rmi", *stale), capture_output=True)


def ensure(names: Iterable[str] | None = None, root: Path = REPO_ROOT) -> list[BuiltImage]:
    """Each named image (all by default) from the cache, or built; the records in order."""
    specs = [image_spec(n) for n in (names or IMAGES)]
    check_tools()
    images_dir().mkdir(parents=True, exist_ok=True)
    out: list[BuiltImage] = []
    built = False
    with _build_lock():
        base = base_key()
        for spec in specs:
            key = image_key(spec, root, base)
            record = read_record(spec.name)
            if record and record.key == key and find_manifest(Path(record.layout), record.ref):
                out.append(record)
                continue
            ensure_base()
            out.append(build_image(spec, root, base, key))
            built = True
        current = {r.name: r for r in (read_record(n) for n in IMAGES) if r is not None}
        if built and len(current) == len(IMAGES):  # keep the newest build of each image only
            freed = prune_layout(layout_dir(), {r.ref for r in current.values()})
            prune_store({f"localhost/{r.name}:{r.key}" for r in current.values()})
            if freed:
                _say(f"pruned {freed / 1e6:.0f} MB of older builds from {layout_dir()}")
    return out


def image_spec(name: str) -> ImageSpec:
    try:
        return IMAGES[name]
    except KeyError:
        raise ImagesError(f"unknown image {name!r}: known images are {', '.join(IMAGES)}") from None


# ---------------------------------------------------------------------------- CLI
app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False,
                  help="Build the project's container images without a daemon (buildah over a Debian base).")


@app.command("build")
def build_cmd(names: list[str] = typer.Argument(None, help=f"images to build (default: all of {', '.join(IMAGES)})")) -> None:
    """Build the images whose inputs changed; take the others from the cache."""
    started = time.monotonic()
    try:
        records = ensure(names or None)
    except ImagesError as err:
        _say(f"error: {err}")
        raise typer.Exit(1) from None
    for r in records:
        _say(f"{r.name:15} {r.size / 1e6:8.0f} MB  {r.oci_ref}")
    _say(f"done in {time.monotonic() - started:.1f} s")


@app.command("prune")
def prune_cmd() -> None:
    """Drop buildah's layer cache (untagged intermediate images): frees the torch layers of older
    dependency sets; the next build of each image starts from its dependency layers."""
    check_tools()
    with _build_lock():
        result = subprocess.run(buildah_argv("rmi", "--prune"), capture_output=True, text=True)
    if result.returncode != 0:
        _say(f"error: buildah rmi --prune: {result.stderr.strip()[-500:]}")
        raise typer.Exit(1)
    _say(f"removed {len(result.stdout.split())} cached intermediate images")


@app.command("list")
def list_cmd() -> None:
    """The images built so far: reference, key, size, layers."""
    for spec in IMAGES.values():
        r = read_record(spec.name)
        if r is None:
            print(f"{spec.name:15} (not built)")
            continue
        print(f"{spec.name:15} {r.reference}  key {r.key}  {r.size / 1e6:.0f} MB in {len(r.layers)} layers  {r.oci_ref}")


if __name__ == "__main__":
    app()
