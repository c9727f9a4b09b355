"""Bundles: content-addressed safetensors modules plus a JSON manifest per profile.

Every module (``embeddings``, ``block.<i>``, ``pooling``, ``head.<profile>``) is one
safetensors file whose store key is ``contracts.StoreLayout.module(sha256(bytes))``. A
profile's bundle is a :class:`contracts.BundleManifest` listing its modules in order.
Because a block's bytes do not depend on which profile ships it, profiles that share a
module share its hash and its stored object; a revision that changes one module uploads
only that module (:func:`write_bundles` skips keys that already exist).

Module file format (``ecc-module/1``): tensors named as in the module's state dict; one
metadata entry ``ecc`` holding JSON ``{"format", "module", "quant"}``. With
``quant="int8"`` every 2-D floating tensor is stored as ``<key>`` (int8, symmetric) plus
``<key>:scale`` (float32, one per row — or per column for rows shorter than 16, see
:func:`quantize_int8`); other tensors stay fp32.

Loading (:func:`load_submodel`) verifies every module's length and sha256 before it is
decoded: a tampered, truncated or missing module is a :class:`BundleError` naming it.

Options when writing: ``int8=True`` (4x smaller matrices) and ``vocabulary=[token ids]``
(prune the word-embedding table to the ids a corpus uses; see :func:`corpus_token_ids`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from ecc_workloads.contracts import MODULE_FORMAT, BundleManifest, ModuleRef, StoreLayout
from ecc_workloads.modular import (
    BASE_MODEL_MINILM,
    EMBEDDINGS,
    POOLING,
    TEACHER_PROFILE,
    ModularEncoder,
    block_module,
    head_module,
    model_from_config,
    prune_vocabulary,
    tokenizer_sha256,
)

QUANT_NONE = "none"
QUANT_INT8 = "int8"
_SCALE_SUFFIX = ":scale"


class BundleError(Exception):
    """A bundle cannot be written or loaded; the message names the module or field."""


class BlobStore(Protocol):
    """What bundles need from a store: bytes by key. ecc_workloads.store provides one for
    MinIO; :class:`LocalDirStore` keeps the same key layout in a directory."""

    def get(self, key: str) -> bytes: ...

    def put(self, key: str, data: bytes) -> None: ...


class LocalDirStore:
    """The store's key layout under a local directory (tests, offline runs)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if key.startswith("/") or ".." in Path(key).parts:
            raise ValueError(f"store key {key!r} must be relative and stay inside the store")
        return self.root / key

    def get(self, key: str) -> bytes:
        path = self._path(key)
        if not path.is_file():
            raise KeyError(f"{key} not found in {self.root}")
        return path.read_bytes()

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list_keys(self, prefix: str) -> list[str]:
        base = self.root
        return sorted(
            str(p.relative_to(base)) for p in base.rglob("*")
            if p.is_file() and not p.name.endswith(".tmp") and str(p.relative_to(base)).startswith(prefix)
        )

    def key_sizes(self, prefix: str) -> dict[str, int]:
        """key -> size in bytes under ``prefix``, without reading any object."""
        return {k: self._path(k).stat().st_size for k in self.list_keys(prefix)}


class BucketKeys:
    """Adapts ``ecc_workloads.store.Store`` (s3:// URIs) to keys inside its bucket."""

    def __init__(self, store):
        self.store = store

    def get(self, key: str) -> bytes:
        return self.store.get_bytes(self.store.uri(key))

    def put(self, key: str, data: bytes) -> None:
        self.store.put_bytes(self.store.uri(key), data)

    def exists(self, key: str) -> bool:
        return self.store.exists(self.store.uri(key))

    def list_keys(self, prefix: str) -> list[str]:
        from ecc_workloads.store import parse_s3_uri

        return [parse_s3_uri(u).key for u in self.store.list(self.store.uri(prefix))]

    def key_sizes(self, prefix: str) -> dict[str, int]:
        """key -> size in bytes under ``prefix``, from one listing (no object is read)."""
        from ecc_workloads.store import parse_s3_uri

        return {parse_s3_uri(u).key: n for u, n in self.store.list_sizes(self.store.uri(prefix)).items()}


def _exists(store: BlobStore, key: str) -> bool:
    exists = getattr(store, "exists", None)
    if exists is not None:
        return bool(exists(key))
    try:
        store.get(key)
        return True
    except Exception:  # noqa: BLE001 - any "not found" flavour of any store
        return False


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------- module files
def quantize_int8(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric int8 for a 2-D tensor: ``t ≈ q * scale`` (broadcast). One scale per row
    (shape [rows, 1]); for short rows (< 16 values, e.g. LoRA's B of shape [out, r]) one
    scale per column instead (shape [1, cols]), so scales never outweigh the data."""
    if t.dim() != 2:
        raise ValueError(f"int8 quantisation takes 2-D tensors, got shape {tuple(t.shape)}")
    x = t.detach().float()
    dim = 1 if x.shape[1] >= 16 else 0
    scale = x.abs().amax(dim=dim, keepdim=True).clamp(min=1e-12) / 127.0
    q = torch.round(x / scale).clamp(-127, 127).to(torch.int8)
    return q, scale


def dequantize_int8(q: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    if scale.dim() == 1:  # one scale per row, stored flat
        scale = scale[:, None]
    return q.float() * scale


def encode_tensors(tensors: dict[str, torch.Tensor], meta: dict, int8: bool = False) -> bytes:
    """safetensors bytes of ``tensors`` (+ int8 option) with one JSON metadata entry."""
    out: dict[str, torch.Tensor] = {}
    for key, value in tensors.items():
        if _SCALE_SUFFIX in key:
            raise BundleError(f"tensor name {key!r} must not contain {_SCALE_SUFFIX!r}")
        value = value.detach().cpu()
        if int8 and value.is_floating_point() and value.dim() == 2:
            q, scale = quantize_int8(value)
            out[key] = q.contiguous()
            out[key + _SCALE_SUFFIX] = scale.contiguous()
        else:
            out[key] = value.contiguous().clone()
    meta = dict(meta, quant=QUANT_INT8 if int8 else QUANT_NONE)
    return st_save(out, metadata={"ecc": json.dumps(meta, sort_keys=True)})


def decode_tensors(data: bytes) -> tuple[dict[str, torch.Tensor], dict]:
    """Inverse of :func:`encode_tensors` (int8 tensors come back as float32)."""
    raw = st_load(data)
    meta = _read_metadata(data)
    out: dict[str, torch.Tensor] = {}
    for key, value in raw.items():
        if key.endswith(_SCALE_SUFFIX):
            continue
        scale = raw.get(key + _SCALE_SUFFIX)
        out[key] = dequantize_int8(value, scale) if scale is not None else value
    return out, meta


def _read_metadata(data: bytes) -> dict:
    if len(data) < 8:
        raise BundleError("not a safetensors file (shorter than its header length)")
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + n])
    return json.loads(header.get("__metadata__", {}).get("ecc", "{}"))


def module_bytes(name: str, state: dict[str, torch.Tensor], int8: bool = False) -> bytes:
    return encode_tensors(state, {"format": MODULE_FORMAT, "module": name}, int8=int8)


# ---------------------------------------------------------------------- writing
@dataclass
class WriteResult:
    manifests: dict[str, BundleManifest]
    uploaded: list[str] = field(default_factory=list)
    """module keys written by this call"""
    reused: list[str] = field(default_factory=list)
    """module keys that were already in the store (not re-sent)"""
    bytes_uploaded: int = 0


def corpus_token_ids(tokenizer, texts: Iterable[str], max_length: int = 64) -> list[int]:
    """Every token id the tokenizer produces on ``texts`` (special tokens included)."""
    ids: set[int] = set(int(i) for i in tokenizer.all_special_ids)
    for row in tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"]:
        ids.update(row)
    return sorted(ids)


def write_bundles(
    model: ModularEncoder,
    profiles: Sequence[str],
    revision: int,
    store: BlobStore,
    *,
    int8: bool = False,
    vocabulary: Sequence[int] | None = None,
    metrics: dict[str, dict[str, float]] | None = None,
) -> WriteResult:
    """Write the modules of ``profiles`` (skipping those already stored) and return one
    manifest per profile. Manifests are not stored here: see :func:`publish_manifests`."""
    if revision < 0:
        raise BundleError(f"revision must be >= 0, got {revision}")
    unknown = [p for p in profiles if p not in model.profiles]
    if unknown:
        raise BundleError(f"profiles {unknown} are not declared on the model (has {sorted(model.profiles)})")
    source = prune_vocabulary(model, vocabulary) if vocabulary is not None else model
    result = WriteResult(manifests={})
    refs: dict[str, ModuleRef] = {}
    for profile in profiles:
        modules = []
        for name in source.module_names(profile):
            if name not in refs:
                data = module_bytes(name, source.module_state_dicts([name])[name], int8=int8 and name != POOLING)
                sha = sha256_hex(data)
                key = StoreLayout.module(sha)
                if _exists(store, key):
                    result.reused.append(key)
                else:
                    store.put(key, data)
                    result.uploaded.append(key)
                    result.bytes_uploaded += len(data)
                refs[name] = ModuleRef(name=name, sha256=sha, bytes=len(data), dtype="int8" if int8 and name != POOLING else "float32")
            modules.append(refs[name])
        result.manifests[profile] = BundleManifest(
            revision=revision,
            profile=profile,
            blocks=list(source.profiles[profile]),
            modules=modules,
            labels=list(source.labels),
            base_model=source.base_model,
            config=dict(source.spec),
            tokenizer_sha256=tokenizer_sha256(source.spec.get("tokenizer", BASE_MODEL_MINILM)),
            metrics=dict((metrics or {}).get(profile, {})),
        )
    return result


def pin_references(manifests: dict[str, BundleManifest], references: dict[str, bytes]) -> dict[str, BundleManifest]:
    """Each manifest with the sha256 of its profile's drift reference (as stored) pinned."""
    return {p: m.model_copy(update={"drift_reference_sha256": sha256_hex(references[p])}) if p in references else m
            for p, m in manifests.items()}


def publish_manifests(store: BlobStore, manifests: Iterable[BundleManifest], namespace: str, teacher: str) -> list[str]:
    """Store each manifest as JSON under StoreLayout.bundle_manifest; returns the keys."""
    keys = []
    for m in manifests:
        key = StoreLayout.bundle_manifest(namespace, teacher, m.revision, m.profile)
        store.put(key, m.model_dump_json(indent=2).encode())
        keys.append(key)
    return keys


def read_manifest(store: BlobStore, key: str) -> BundleManifest:
    try:
        return BundleManifest.model_validate_json(store.get(key))
    except Exception as err:
        raise BundleError(f"bundle manifest {key}: {err}") from err


# ---------------------------------------------------------------------- loading
Fetch = Callable[[str], bytes]
"""sha256 -> module bytes (raises if the module is not available)."""


def store_fetcher(store: BlobStore) -> Fetch:
    return lambda sha: store.get(StoreLayout.module(sha))


def expected_modules(manifest: BundleManifest) -> list[str]:
    return [EMBEDDINGS] + [block_module(b) for b in manifest.blocks] + [POOLING, head_module(manifest.profile)]


def fetch_verified(ref: ModuleRef, fetch: Fetch) -> bytes:
    """The module's bytes, checked against its length and sha256 (BundleError naming it)."""
    try:
        data = fetch(ref.sha256)
    except Exception as err:
        raise BundleError(f"module {ref.name!r} (sha256 {ref.sha256[:12]}…) is missing: {err}") from err
    got = sha256_hex(data)
    if got != ref.sha256:
        raise BundleError(
            f"module {ref.name!r}: sha256 mismatch (expected {ref.sha256[:12]}…, got {got[:12]}…): tampered or corrupt"
        )
    if len(data) != ref.bytes:
        raise BundleError(f"module {ref.name!r}: {len(data)} bytes, manifest says {ref.bytes}")
    return data


def decode_module(ref: ModuleRef, data: bytes) -> dict[str, torch.Tensor]:
    try:
        tensors, meta = decode_tensors(data)
    except (SafetensorError, ValueError) as err:
        raise BundleError(f"module {ref.name!r}: not a readable module file: {err}") from err
    if meta.get("format") != MODULE_FORMAT or meta.get("module") != ref.name:
        raise BundleError(f"module {ref.name!r}: file says format={meta.get('format')!r} module={meta.get('module')!r}")
    return tensors


def load_submodel(manifest: BundleManifest, fetch: Fetch) -> ModularEncoder:
    """Rebuild a profile's sub-model from its manifest, verifying every module."""
    names = [m.name for m in manifest.modules]
    missing = [n for n in expected_modules(manifest) if n not in names]
    if missing:
        raise BundleError(f"bundle {manifest.profile!r} rev {manifest.revision}: manifest lacks modules {missing}")
    extra = [n for n in names if n not in expected_modules(manifest)]
    if extra:
        raise BundleError(f"bundle {manifest.profile!r} rev {manifest.revision}: unexpected modules {extra}")
    model = model_from_config(manifest.config, manifest.labels, manifest.blocks, manifest.profile, manifest.base_model)
    for ref in manifest.modules:
        model.load_module_state(ref.name, decode_module(ref, fetch_verified(ref, fetch)))
    model.eval()
    return model


def shipped_submodel(model: ModularEncoder, profile: str, int8: bool = False,
                     vocabulary: Sequence[int] | None = None) -> ModularEncoder:
    """``profile``'s sub-model exactly as a node would load it from bundles written in this form
    (:func:`write_bundles` with ``int8``/``vocabulary``): every module through its bytes and back,
    without a store. What a gate must score — the shipped form, not the fp32 model."""
    source = prune_vocabulary(model, vocabulary) if vocabulary is not None else model
    sub = model_from_config(source.spec, source.labels, source.profiles[profile], profile, source.base_model)
    for name in source.module_names(profile):
        q8 = int8 and name != POOLING
        data = module_bytes(name, source.module_state_dicts([name])[name], int8=q8)
        ref = ModuleRef(name=name, sha256=sha256_hex(data), bytes=len(data), dtype="int8" if q8 else "float32")
        sub.load_module_state(name, decode_module(ref, data))
    sub.eval()
    return sub


def bundle_form(manifest: BundleManifest, fetch: Fetch) -> tuple[bool, list[int] | None]:
    """(int8, kept token ids or None): how a profile's bundle was written, to write (or score)
    the next revision the same way."""
    return any(r.dtype == "int8" for r in manifest.modules), bundle_vocabulary(manifest, fetch)


def load_cloud_model(manifests: Sequence[BundleManifest], fetch: Fetch, master: str = TEACHER_PROFILE) -> ModularEncoder:
    """The cloud model of a revision, to merge edge updates into: every module of the
    ``master`` profile's manifest (the fp32 teacher: embeddings and all blocks) plus the
    head of every other profile. Student bundles may be int8 or vocabulary-pruned
    variants; only their heads are taken."""
    if not manifests:
        raise BundleError("load_cloud_model: no manifests")
    by_profile = {m.profile: m for m in manifests}
    if master not in by_profile:
        raise BundleError(f"load_cloud_model: no manifest for the master profile {master!r} (have {sorted(by_profile)})")
    first = by_profile[master]
    for m in manifests:
        for fld in ("revision", "labels", "base_model"):
            if getattr(m, fld) != getattr(first, fld):
                raise BundleError(f"manifests disagree on {fld}: {master!r} vs {m.profile!r}")
    refs: list[ModuleRef] = list(first.modules)
    for m in manifests:
        if m.profile != master:
            refs += [r for r in m.modules if r.name == head_module(m.profile)]
            missing = [b for b in m.blocks if b not in first.blocks]
            if missing:
                raise BundleError(f"profile {m.profile!r} uses blocks {missing} that {master!r} does not hold")
    model = ModularEncoder(first.config, first.labels, block_ids=first.blocks,
                           profiles={m.profile: m.blocks for m in [first, *[x for x in manifests if x.profile != master]]},
                           base_model=first.base_model)
    for ref in refs:
        model.load_module_state(ref.name, decode_module(ref, fetch_verified(ref, fetch)))
    model.eval()
    return model


def bundle_vocabulary(manifest: BundleManifest, fetch: Fetch) -> list[int] | None:
    """The token ids a vocabulary-pruned bundle keeps (None if it is not pruned)."""
    if not manifest.config.get("original_vocab_size"):
        return None
    ref = next(r for r in manifest.modules if r.name == EMBEDDINGS)
    return decode_module(ref, fetch_verified(ref, fetch))["kept_token_ids"].tolist()


def modules_to_fetch(manifest: BundleManifest, held_sha256: Iterable[str]) -> list[ModuleRef]:
    """The modules a device must download for ``manifest`` given the hashes it holds."""
    held = set(held_sha256)
    return [m for m in manifest.modules if m.sha256 not in held]


def bundle_bytes(manifest: BundleManifest) -> int:
    return sum(m.bytes for m in manifest.modules)
