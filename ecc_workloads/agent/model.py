"""The edge agent's serving model: a local module cache and an atomically swapped predictor.

- :class:`ModuleCache` keeps modules on local disk, content-addressed exactly like the store
  (``<state>/modules/sha256/ab/<sha>.safetensors``). Only modules not held are fetched
  (:func:`bundles.modules_to_fetch`), each verified against its manifest entry
  (:func:`bundles.fetch_verified`) before it is kept: a module whose bytes do not match is
  refused and counted (``modules_rejected``). A held module that no longer verifies (disk
  corruption) is dropped and fetched again.
- :class:`ModelHolder` holds the serving model. A new model is built completely (modules
  loaded and verified, tokenizer, warm-up) *before* one reference is replaced under a lock:
  a request takes the reference once and finishes on the model it started with, so a swap
  never drops or fails a request. Inference is serialised by its own lock (one torch
  thread serves single queries fastest; the tokenizer is not safe for concurrent use).
  The cache is bounded (``max_bytes``, least recently used first): :meth:`ModuleCache.evict`
  never removes a module of the model being served or being loaded (``keep``), so the cap may
  be exceeded by those alone, never by anything else. Modules are written durably (temp file,
  fsync, rename, fsync of the directory); a write cut short by a crash leaves only a ``.tmp``
  file, removed on start, and a full disk first evicts what may be evicted, then fails the load
  (the current model keeps serving).
- The last good model (its manifest, tier and drift reference) is remembered on disk
  (``<state>/current.json``, durably, with a second copy ``current.json.bak``) so that a
  restarted agent serves again before the store answers; a truncated or damaged copy is
  ignored in favour of the other.

Store errors are not swallowed here: ``StoreUnavailable`` propagates to the caller (the agent
keeps serving what it has); a hash mismatch is a :class:`bundles.BundleError`.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from pydantic import BaseModel, ConfigDict

from ecc_workloads.learning import bundles, modular
from ecc_workloads.agent.spool import _no_space, fsync_dir, write_durably
from ecc_workloads.learning.bundles import BundleError
from ecc_workloads.contracts import BundleManifest, DesiredTier, ModuleRef, ReferenceStats, StoreLayout

log = logging.getLogger("ecc.agent.model")

CURRENT_FILE = "current.json"
BACKUP_SUFFIX = ".bak"


def manifest_shas(manifest: BundleManifest | None) -> set[str]:
    return {m.sha256 for m in manifest.modules} if manifest is not None else set()


class ModuleCache:
    """Content-addressed modules on local disk, fetched from the store on demand, at most
    ``max_bytes`` of them (None: unbounded) apart from the modules a caller keeps."""

    def __init__(self, root: str | Path, max_bytes: int | None = None):
        self.local = bundles.LocalDirStore(Path(root))
        self.max_bytes = max_bytes
        self.modules_rejected = 0
        self.bytes_down = 0
        self.evictions_total = 0
        self.evicted_bytes = 0
        self.last_rejection: str = ""
        self.over_cap: str = ""
        """why the cache holds more than max_bytes (the kept modules alone exceed it), or ''"""
        self._base = self.local.root / "modules" / "sha256"
        for stale in self._base.glob("*/*.tmp"):  # a write cut short by a crash
            stale.unlink(missing_ok=True)

    def _files(self) -> list[Path]:
        return list(self._base.glob("*/*.safetensors"))

    def held(self) -> set[str]:
        return {path.stem for path in self._files()}

    def bytes(self) -> int:
        total = 0
        for path in self._files():
            try:
                total += path.stat().st_size
            except FileNotFoundError:
                pass
        return total

    def evict(self, keep: set[str], need: int = 0) -> int:
        """Remove least recently used modules not in ``keep`` until the cache plus ``need`` bytes
        fits ``max_bytes``; returns the bytes removed."""
        if self.max_bytes is None and need == 0:
            return 0
        files = []
        for path in self._files():
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            files.append((st.st_mtime_ns, path, st.st_size))
        files.sort()
        total = sum(size for _, _, size in files)
        limit = self.max_bytes if self.max_bytes is not None else total
        freed = 0
        dirs = set()
        for _, path, size in files:
            if total + need <= limit:
                break
            if path.stem in keep:
                continue
            path.unlink(missing_ok=True)
            dirs.add(path.parent)
            total -= size
            freed += size
            self.evictions_total += 1
            self.evicted_bytes += size
            log.info("module cache: evicted %s (%d bytes, least recently used)", path.stem[:12], size)
        for d in dirs:
            fsync_dir(d)
        self.over_cap = "" if total + need <= limit else (
            f"module cache holds {total} bytes, over its cap of {limit}: the served and loading models' "
            "modules alone exceed it")
        return freed

    def _store(self, key: str, data: bytes, keep: set[str]) -> None:
        path = self.local._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            write_durably(path, data)
        except OSError as err:
            if not _no_space(err) or not self.evict(keep, need=self.bytes() + len(data)):
                raise
            write_durably(path, data)  # room was made: once more

    def holds(self, manifest: BundleManifest) -> bool:
        return not bundles.modules_to_fetch(manifest, self.held())

    def fetch_missing(self, manifest: BundleManifest, get: Callable[[str], bytes],
                      keep: set[str] | None = None) -> int:
        """Download and verify the modules of ``manifest`` that are not held; returns bytes
        fetched. ``get(store_key)`` reads from the store (raises StoreUnavailable when down).
        Room is made first by evicting modules that are neither ``manifest``'s nor in ``keep``."""
        fetched = 0
        keep = set(keep or ()) | manifest_shas(manifest)
        missing = bundles.modules_to_fetch(manifest, self.held())
        if missing and self.max_bytes is not None:
            self.evict(keep, need=sum(ref.bytes for ref in missing))
        for ref in missing:
            data = get(StoreLayout.module(ref.sha256))  # StoreUnavailable propagates
            self.bytes_down += len(data)
            fetched += len(data)
            try:
                bundles.fetch_verified(ref, lambda _sha, d=data: d)
            except BundleError as err:
                self.modules_rejected += 1
                self.last_rejection = str(err)
                raise
            self._store(StoreLayout.module(ref.sha256), data, keep)
        return fetched

    def read(self, ref: ModuleRef) -> bytes:
        """A held module, verified again; a corrupt copy is removed (fetched again next time)."""
        key = StoreLayout.module(ref.sha256)
        try:
            data = bundles.fetch_verified(ref, lambda _sha: self.local.get(key))
        except BundleError:
            (self.local.root / key).unlink(missing_ok=True)
            raise
        try:
            os.utime(self.local.root / key)  # recently used: evicted last
        except OSError:
            pass
        return data

    def fetcher(self, manifest: BundleManifest) -> bundles.Fetch:
        by_sha = {m.sha256: m for m in manifest.modules}
        return lambda sha: self.read(by_sha[sha])


# ---------------------------------------------------------------------- the served model
@dataclass
class ServingModel:
    """One loaded model; immutable once published."""

    predictor: object  # predictor.IntentPredictor
    manifest: BundleManifest
    tier: str
    manifest_key: str
    reference: ReferenceStats | None = None
    adapted: bool = False
    base: modular.ModularEncoder | None = None
    """the un-adapted sub-model (what local adaptation starts from)"""
    loaded_at: float = field(default_factory=time.time)

    @property
    def revision(self) -> int:
        return self.manifest.revision

    @property
    def profile(self) -> str:
        return self.manifest.profile

    @property
    def labels(self) -> list[str]:
        return list(self.manifest.labels)


def build_predictor(model: modular.ModularEncoder, manifest: BundleManifest, max_length: int = 64):
    from ecc_workloads.serving.predictor import IntentPredictor

    # each predictor gets its own tokenizer: a fast tokenizer is not safe to share between
    # threads (the warm-up below runs while the previous model is still serving)
    pinned = modular.load_edge_tokenizer(manifest.config.get("tokenizer", modular.BASE_MODEL_MINILM),
                                         manifest.tokenizer_sha256)  # TokenizerError unless it hashes to the pin
    tokenizer = copy.deepcopy(pinned)
    # computed as the Job and the gate scored it: int8 inference when the bundle ships int8
    predictor = IntentPredictor(bundles.serving_form(model, bundles.ships_int8(manifest)), tokenizer,
                                manifest.profile, max_length=max_length)
    predictor.forward(["hello"])  # warm-up before it serves: the first request does not pay lazy init
    return predictor


def load_serving_model(
    cache: ModuleCache, manifest: BundleManifest, tier: DesiredTier | str, manifest_key: str,
    reference: ReferenceStats | None = None, max_length: int = 64,
) -> ServingModel:
    """Build a ServingModel from held modules (every module verified again)."""
    sub = bundles.load_submodel(manifest, cache.fetcher(manifest))
    for p in sub.parameters():
        p.requires_grad_(False)
    predictor = build_predictor(sub, manifest, max_length)
    name = tier.tier if isinstance(tier, DesiredTier) else tier
    return ServingModel(predictor=predictor, manifest=manifest, tier=name, manifest_key=manifest_key,
                        reference=reference, base=sub)


FORWARD_CHUNK = 16
"""Utterances per forward pass of one request (see ModelHolder.forward)."""


class FairLock:
    """A lock taken in the order it was asked for (threading.Lock is not: the thread that lets go
    usually takes it straight back, so a long request would still starve a short one)."""

    def __init__(self):
        self._cond = threading.Condition()
        self._next = self._serving = 0

    @property
    def waiting(self) -> int:
        """Holders and waiters."""
        return self._next - self._serving

    def __enter__(self) -> "FairLock":
        with self._cond:
            ticket, self._next = self._next, self._next + 1
            self._cond.wait_for(lambda: self._serving == ticket)
        return self

    def __exit__(self, *_) -> None:
        with self._cond:
            self._serving += 1
            self._cond.notify_all()


class ModelHolder:
    """The one reference requests read; swapped atomically."""

    def __init__(self):
        self._lock = threading.Lock()
        self._infer_lock = FairLock()
        self._current: ServingModel | None = None
        self.swaps = 0

    @property
    def current(self) -> ServingModel | None:
        return self._current

    def swap(self, new: ServingModel) -> ServingModel | None:
        with self._lock:
            old, self._current = self._current, new
            self.swaps += 1
        return old

    def forward(self, texts: list[str]) -> tuple[ServingModel, torch.Tensor, torch.Tensor]:
        """(model used, probabilities [n, L], unit embeddings [n, d]) on the current model.

        One forward pass at a time (the tokenizer is not thread-safe), but a long request takes
        the model FORWARD_CHUNK utterances at a time and lets go in between: a one-line request
        behind a 256-line one waits for one chunk, not for all of it."""
        model = self._current
        if model is None:
            raise RuntimeError("no model loaded yet")
        parts = []
        for start in range(0, len(texts), FORWARD_CHUNK):
            with self._infer_lock:
                parts.append(model.predictor.forward(texts[start:start + FORWARD_CHUNK]))
        if len(parts) == 1:
            return model, parts[0][0], parts[0][1]
        return model, torch.cat([p for p, _ in parts]), torch.cat([u for _, u in parts])


# ---------------------------------------------------------------------- last good model
class CurrentRecord(BaseModel):
    """What ``current.json`` remembers about the model being served."""

    model_config = ConfigDict(extra="forbid")

    manifest: BundleManifest
    manifest_key: str
    tier: str
    desired_generation: int | None = None
    reference: ReferenceStats | None = None


def save_current(state_dir: str | Path, record: CurrentRecord) -> None:
    """Remember ``record`` durably, in two copies written one after the other (each atomic):
    a crash or a damaged file leaves at least one whole copy, of this record or the last."""
    path = Path(state_dir) / CURRENT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    data = record.model_dump_json(indent=2).encode()
    write_durably(path, data)
    write_durably(path.with_name(CURRENT_FILE + BACKUP_SUFFIX), data)


def load_current(state_dir: str | Path) -> CurrentRecord | None:
    """The remembered model: ``current.json``, or its copy if that is missing or unreadable."""
    base = Path(state_dir)
    for path in (base / CURRENT_FILE, base / (CURRENT_FILE + BACKUP_SUFFIX)):
        if not path.is_file():
            continue
        try:
            return CurrentRecord.model_validate_json(path.read_bytes())
        except (ValueError, OSError) as err:
            log.warning("ignoring unreadable %s: %s", path, str(err)[:300])
    return None


class UnpinnedReference(ValueError):
    """A drift reference whose bytes are not the ones its manifest pins."""


def parse_reference(data: bytes, manifest: BundleManifest) -> ReferenceStats:
    """A drift reference, checked to be the one the manifest pins and to fit its label set."""
    if manifest.drift_reference_sha256 != hashlib.sha256(data).hexdigest():
        raise UnpinnedReference("it is not the reference the manifest pins" if manifest.drift_reference_sha256
                                else "the manifest pins no drift reference")
    ref = ReferenceStats.model_validate_json(data)
    if ref.labels != list(manifest.labels):
        raise ValueError(
            f"drift reference is for labels {ref.labels[:5]}..., the bundle has {manifest.labels[:5]}...")
    return ref


def describe(model: ServingModel | None) -> dict:
    if model is None:
        return {}
    return {"revision": model.revision, "profile": model.profile, "tier": model.tier, "adapted": model.adapted}

