"""The images a real node runs, imported once into a containerd root that nodes hard-link.

Nothing can be pulled here, and every node needs its own containerd (a kubelet removes the
sandboxes it does not know), so each node's containerd root starts as a hard-linked copy of
one *seed* root that already holds every image, unpacked: a second of `cp -al` instead of a
minute of unpacking torch per node, and no second copy on disk. Overlay only ever reads the
unpacked layers (a container writes to its own upper directory); the two bolt databases are
copied, not linked.

Node images (the pod sandbox's pause and CoreDNS) are built here too, from the Go-built
binaries, with buildah FROM scratch.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from ecc_devcluster import images as project_images
from ecc_workloads import contracts as c

Say = Callable[[str], None]
NAMESPACE = "k8s.io"
"""The containerd namespace the CRI plugin uses."""
CONTAINERD = "/usr/bin/containerd"
CTR = "/usr/bin/ctr"
SEED_KEEP = 2
DB_FILES = ("meta.db", "metadata.db")


class NodeImage(BaseModel):
    """One image a node holds: its name for the kubelet and where its manifest is."""

    reference: str
    layout: str
    ref: str
    manifest_digest: str


class SeedError(RuntimeError):
    pass


def nodes_cache() -> Path:
    return Path(c.cache_dir()) / "nodes"


def node_layout() -> Path:
    return nodes_cache() / "oci"


# ---------------------------------------------------------------------------- node images
NODE_IMAGE_VERSION = "1"
PAUSE_REFERENCE = f"localhost/ecc-pause:{NODE_IMAGE_VERSION}"
COREDNS_REFERENCE = f"localhost/ecc-coredns:{NODE_IMAGE_VERSION}"
KSERVE_CONTROLLER_REFERENCE = "localhost/ecc-kserve-controller:v0.20.0"


def _file_sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _buildah(*args: str) -> str:
    done = subprocess.run(project_images.buildah_argv(*args), capture_output=True, text=True)
    if done.returncode != 0:
        raise SeedError(f"buildah {' '.join(args)} failed: {(done.stderr or done.stdout).strip()}")
    return done.stdout.strip()


def ensure_binary_image(name: str, reference: str, binary: Path, entrypoint: list[str], user: str) -> NodeImage:
    """A single-binary image FROM scratch in the node layout, keyed by the binary's hash."""
    if not os.access(binary, os.X_OK):
        raise SeedError(f"{binary} is missing: run `make binaries`")
    key = hashlib.sha256(f"{_file_sha(binary)} {entrypoint} {user} {reference}".encode()).hexdigest()[:16]
    layout = node_layout()
    ref = f"{name}-{key}"
    entry = project_images.find_manifest(layout, ref)
    if entry is None:
        layout.mkdir(parents=True, exist_ok=True)
        tag = f"localhost/{name}:{key}"
        container = _buildah("from", "--pull-never", "scratch")
        try:
            _buildah("copy", "--chmod", "0755", container, str(binary), f"/{binary.name}")
            _buildah("config", "--entrypoint", json.dumps(entrypoint), "--cmd", "", "--user", user,
                     "--label", f"org.opencontainers.image.title={name}", container)
            _buildah("commit", "--rm", container, tag)
        except BaseException:
            subprocess.run(project_images.buildah_argv("rm", container), capture_output=True)
            raise
        _buildah("push", tag, f"oci:{layout}:{ref}")
        entry = project_images.find_manifest(layout, ref)
        if entry is None:
            raise SeedError(f"{ref} is not in {layout} after the push")
    return NodeImage(reference=reference, layout=str(layout), ref=ref, manifest_digest=entry["digest"])


def node_images(bin_dir: Path) -> list[NodeImage]:
    return [
        ensure_binary_image("ecc-pause", PAUSE_REFERENCE, bin_dir / "pause", ["/pause"], "65535"),
        ensure_binary_image("ecc-coredns", COREDNS_REFERENCE, bin_dir / "coredns", ["/coredns"], "65532"),
        ensure_binary_image("ecc-kserve-controller", KSERVE_CONTROLLER_REFERENCE, bin_dir / "kserve-manager",
                            ["/kserve-manager"], "65532"),
    ]


def project_node_images() -> list[NodeImage]:
    """The project's three images as `make images` left them."""
    out = []
    for name, spec in project_images.IMAGES.items():
        record = project_images.read_record(name)
        if record is None or project_images.find_manifest(Path(record.layout), record.ref) is None:
            raise SeedError(f"image {name} is not built: run `make images`")
        out.append(NodeImage(reference=spec.reference, layout=record.layout, ref=record.ref,
                             manifest_digest=record.manifest_digest))
    return out


# ---------------------------------------------------------------------------- OCI archive stream
def _blobs(layout: Path, manifest_digest: str) -> list[str]:
    manifest = json.loads(project_images.read_blob(layout, manifest_digest))
    return [manifest_digest, manifest["config"]["digest"], *(l["digest"] for l in manifest["layers"])]


SEEDING_SUFFIX = "-seeding"
"""Images are imported under `<reference>-seeding` first and renamed once all are unpacked: an
import that replaced an older image of the same name would let containerd's garbage collector
remove the older image's snapshots while the new unpack still builds on them as parents
("parent snapshot ... does not exist")."""


def write_archive(image: NodeImage, out, name: str | None = None) -> None:
    """Stream an OCI archive of one image, named for containerd (`name`, default its
    reference), to a binary file object."""
    layout = Path(image.layout)
    entry = project_images.find_manifest(layout, image.ref)
    if entry is None:
        raise SeedError(f"{image.ref} is not in {layout}")
    entry = dict(entry)
    name = name or image.reference
    entry["annotations"] = {"io.containerd.image.name": name,
                            "org.opencontainers.image.ref.name": name.rsplit(":", 1)[-1]}
    with tarfile.open(fileobj=out, mode="w|") as tar:
        def add_bytes(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))

        add_bytes("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add_bytes("index.json", json.dumps({"schemaVersion": 2, "manifests": [entry]}).encode())
        for digest in _blobs(layout, entry["digest"]):
            algo, _, hexd = digest.partition(":")
            path = layout / "blobs" / algo / hexd
            info = tarfile.TarInfo(f"blobs/{algo}/{hexd}")
            info.size, info.mode, info.mtime = path.stat().st_size, 0o644, 0
            with open(path, "rb") as fh:
                tar.addfile(info, fh)


# ---------------------------------------------------------------------------- the seed root
def seed_key(images: list[NodeImage]) -> str:
    version = subprocess.run([CONTAINERD, "--version"], capture_output=True, text=True).stdout.strip()
    doc = json.dumps([version, sorted((i.reference, i.manifest_digest) for i in images)])
    return hashlib.sha256(doc.encode()).hexdigest()[:16]


def seed_dir(key: str) -> Path:
    return nodes_cache() / f"seed-{key}"


def hardlink_copy(src: Path, dst: Path) -> None:
    """cp -al, then real copies of the bolt databases (containerd writes them)."""
    done = subprocess.run(["cp", "-al", str(src), str(dst)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SeedError(f"cp -al {src} {dst} failed: {done.stderr.strip()}")
    for db in dst.rglob("*.db"):
        if db.name in DB_FILES:
            tmp = db.with_suffix(".copy")
            shutil.copy2(db, tmp)
            os.replace(tmp, db)


def _containerd_config(root: Path, socket: Path) -> str:
    """A containerd that only imports and unpacks (no CRI; overlayfs, the nodes' snapshotter, is its default)."""
    from ecc_devcluster.nodes.configs import CONTAINERD_STATE, to_toml

    return to_toml({
        "version": 2, "root": str(root), "state": CONTAINERD_STATE,
        "disabled_plugins": ["io.containerd.grpc.v1.cri"],
        "grpc": {"address": str(socket)},
    })


def ensure_seed(images: list[NodeImage], say: Say) -> Path:
    """The seed containerd root holding `images` (made when missing, from the newest older seed
    so only new layers are unpacked); older seeds beyond SEED_KEEP are removed."""
    key = seed_key(images)
    final = seed_dir(key)
    if (final / "complete").exists():
        return final / "root"
    nodes_cache().mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix=f"seed-{key}-", dir=nodes_cache()))
    try:
        older = sorted((p for p in nodes_cache().glob("seed-*") if (p / "complete").exists()),
                       key=lambda p: p.stat().st_mtime, reverse=True)
        root = work / "root"
        if older:
            hardlink_copy(older[0] / "root", root)
        else:
            root.mkdir()
        sock = work / "containerd.sock"
        (work / "config.toml").write_text(_containerd_config(root, sock))
        log = open(work / "containerd.log", "wb")
        # A private mount namespace with its own /run: the unpack's mounts never reach the host.
        proc = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
             'mount -t tmpfs -o size=16m ecc-seed-run /run && exec "$@"', "sh",
             CONTAINERD, "--config", str(work / "config.toml")],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while not sock.exists():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SeedError(f"seed containerd did not start; see {work / 'containerd.log'}")
                time.sleep(0.2)
            def ctr_run(*args: str) -> None:
                done = subprocess.run([CTR, "--address", str(sock), "-n", NAMESPACE, *args],
                                      capture_output=True, text=True)
                if done.returncode != 0:
                    raise SeedError(f"ctr {' '.join(args)} failed: {(done.stdout + done.stderr).strip()[-2000:]}")

            for image in images:
                t = time.monotonic()
                say(f"importing {image.reference} into the node seed")
                ctr = subprocess.Popen([CTR, "--address", str(sock), "-n", NAMESPACE, "images", "import", "-"],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                assert ctr.stdin is not None
                try:
                    write_archive(image, ctr.stdin, image.reference + SEEDING_SUFFIX)
                finally:
                    ctr.stdin.close()
                out = ctr.stdout.read().decode(errors="replace") if ctr.stdout else ""
                if ctr.wait() != 0:
                    raise SeedError(f"ctr import of {image.reference} failed: {out.strip()[-2000:]}")
                say(f"imported {image.reference} in {time.monotonic() - t:.0f} s")
            for image in images:  # all unpacked: now the older images of these names may go
                ctr_run("images", "tag", "--force", image.reference + SEEDING_SUFFIX, image.reference)
                ctr_run("images", "rm", image.reference + SEEDING_SUFFIX)
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
        (work / "complete").write_text(json.dumps([i.model_dump() for i in images], indent=2))
        if final.exists():
            shutil.rmtree(final)
        os.replace(work, final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    say(f"node seed {key} ready in {time.monotonic() - started:.0f} s")
    for stale in sorted((p for p in nodes_cache().glob("seed-*") if p != final),
                        key=lambda p: p.stat().st_mtime, reverse=True)[SEED_KEEP - 1:]:
        shutil.rmtree(stale, ignore_errors=True)
    return final / "root"
