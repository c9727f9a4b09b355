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

import copy
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import torch
from safetensors import SafetensorError

from ecc_workloads.learning import patches
from ecc_workloads.contracts import MODULE_FORMAT, BundleManifest, ModuleRef, StoreLayout
from ecc_workloads.learning.modular import (
    BASE_MODEL_MINILM,
    EMBEDDINGS,
    POOLING,
    TEACHER_PROFILE,
    ModularEncoder,
    block_module,
    head_module,
    int8_inference_copy,
    model_from_config,
    prune_vocabulary,
    tokenizer_sha256,
)
from ecc_workloads.learning.tensorfile import (  # noqa: F401 - re-exported: the byte format bundles are written in
    QUANT_INT8,
    QUANT_NONE,
    decode_tensors,
    dequantize_int8,
    encode_tensors,
    quantize_int8,
)


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


PATCH_CHAIN_SHARE = 0.5
"""A module's patches may add up to this share of the module's own bytes; past it the revision
ships the module whole again (its patched weights, in the module's form), so a node never
downloads much more than the module for a chain of revisions it missed."""


@dataclass
class StagedRevision:
    """A profile's next revision made from a change, before anything is stored."""

    manifest: BundleManifest
    model: ModularEncoder
    """the sub-model exactly as a node loads it from ``files`` and the modules it holds"""
    files: dict[str, bytes] = field(default_factory=dict)
    """sha256 -> bytes of the patches (and modules shipped whole) this revision adds"""

    def download_bytes(self) -> int:
        """What a node holding the previous revision downloads for this one."""
        return sum(len(data) for data in self.files.values())


def stage_patched(manifest: BundleManifest, current: ModularEncoder, patch_files: Mapping[str, bytes],
                  revision: int, fetch: Fetch, *, chain_share: float = PATCH_CHAIN_SHARE) -> StagedRevision:
    """``manifest``'s profile at ``revision``: each module with a patch in ``patch_files`` gets it
    appended to its chain (or, past ``chain_share``, is shipped whole with the patch applied);
    every other module stays as it is. ``current`` is the profile's sub-model as loaded from
    ``manifest``; the result's model is loaded from the new chains' bytes, so it is what nodes run."""
    if revision < 0:
        raise BundleError(f"revision must be >= 0, got {revision}")
    refs: list[ModuleRef] = []
    files: dict[str, bytes] = {}
    changed: dict[str, list[ModuleRef]] = {}
    for name, chain in module_chains(manifest).items():
        data = patch_files.get(name)
        if data is None:
            refs += chain
            continue
        patch = ModuleRef(name=name, sha256=sha256_hex(data), bytes=len(data), dtype=QUANT_INT8, kind="patch")
        base = chain[0]
        if sum(r.bytes for r in chain[1:]) + patch.bytes <= chain_share * base.bytes:
            new_chain = [*chain, patch]
            files[patch.sha256] = data
        else:  # too long a chain: the module whole, patched, in its own form
            module = copy.deepcopy(current.module(name))
            try:
                patches.apply(module, patches.decode(name, data, module))
            except patches.PatchError as err:
                raise BundleError(str(err)) from err
            whole = module_bytes(name, {k: v.detach() for k, v in module.state_dict().items()},
                                 int8=base.dtype == QUANT_INT8)
            new_chain = [ModuleRef(name=name, sha256=sha256_hex(whole), bytes=len(whole), dtype=base.dtype)]
            files[new_chain[0].sha256] = whole
        refs += new_chain
        changed[name] = new_chain
    staged = manifest.model_copy(update={"revision": revision, "modules": refs, "drift_reference_sha256": None,
                                         "metrics": {}})
    model = copy.deepcopy(current)
    overlay = lambda sha: files[sha] if sha in files else fetch(sha)  # noqa: E731
    for chain in changed.values():
        load_module(model, chain, overlay)
    model.eval()
    return StagedRevision(manifest=staged, model=model, files=files)


def store_files(store: BlobStore, files: Mapping[str, bytes]) -> int:
    """Write content-addressed module and patch files the store lacks; returns the bytes written."""
    written = 0
    for sha, data in files.items():
        key = StoreLayout.module(sha)
        if not _exists(store, key):
            store.put(key, data)
            written += len(data)
    return written


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


def module_chains(manifest: BundleManifest) -> dict[str, list[ModuleRef]]:
    """module name -> [its weights, then its patches in the order they apply], in manifest order."""
    chains: dict[str, list[ModuleRef]] = {}
    for ref in manifest.modules:
        if ref.kind == "module":
            if ref.name in chains:
                raise BundleError(f"bundle {manifest.profile!r} rev {manifest.revision}: module {ref.name!r} is "
                                  "listed twice")
            chains[ref.name] = [ref]
        elif ref.name not in chains:
            raise BundleError(f"bundle {manifest.profile!r} rev {manifest.revision}: a patch of {ref.name!r} comes "
                              "before the module it applies to")
        else:
            chains[ref.name].append(ref)
    return chains


def module_identity(manifest: BundleManifest) -> dict[str, str]:
    """module name -> sha256 of its last file (its latest patch, else its weights): names exactly
    the weights a node holds, as an upload's base modules and merge-back's check of them do."""
    return {ref.name: ref.sha256 for ref in manifest.modules}


def load_module(model: ModularEncoder, chain: Sequence[ModuleRef], fetch: Fetch) -> None:
    """Load a module's weights into ``model``, then add each of its patches (all verified)."""
    base, *patch_refs = chain
    model.load_module_state(base.name, decode_module(base, fetch_verified(base, fetch)))
    for ref in patch_refs:
        target = model.module(ref.name)
        try:
            patches.apply(target, patches.decode(ref.name, fetch_verified(ref, fetch), target))
        except patches.PatchError as err:
            raise BundleError(str(err)) from err


def load_submodel(manifest: BundleManifest, fetch: Fetch) -> ModularEncoder:
    """Rebuild a profile's sub-model from its manifest, verifying every module and patch."""
    chains = module_chains(manifest)
    missing = [n for n in expected_modules(manifest) if n not in chains]
    if missing:
        raise BundleError(f"bundle {manifest.profile!r} rev {manifest.revision}: manifest lacks modules {missing}")
    extra = [n for n in chains if n not in expected_modules(manifest)]
    if extra:
        raise BundleError(f"bundle {manifest.profile!r} rev {manifest.revision}: unexpected modules {extra}")
    model = model_from_config(manifest.config, manifest.labels, manifest.blocks, manifest.profile, manifest.base_model)
    for chain in chains.values():
        load_module(model, chain, fetch)
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


def ships_int8(manifest: BundleManifest) -> bool:
    """Whether a profile's bundle carries its modules as int8 (the shipped form of a student)."""
    return any(r.dtype == "int8" for r in manifest.modules if r.kind == "module")


def serving_form(model: ModularEncoder, int8: bool) -> ModularEncoder:
    """``model`` as a node computes with it: an int8 bundle runs int8 dynamic inference
    (:func:`~ecc_workloads.learning.modular.int8_inference_copy`, deterministic for given weights), an fp32
    one as it is. The agent serves this form, and the distillation Job and the merge-back gate
    score it, so what is measured is what nodes run."""
    return int8_inference_copy(model) if int8 else model


def bundle_form(manifest: BundleManifest, fetch: Fetch) -> tuple[bool, list[int] | None]:
    """(int8, kept token ids or None): how a profile's bundle was written, to write (or score)
    the next revision the same way."""
    return ships_int8(manifest), bundle_vocabulary(manifest, fetch)


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
    chains = module_chains(first)
    for m in manifests:
        if m.profile != master:
            head = head_module(m.profile)
            chains[head] = module_chains(m).get(head, [])
            if not chains[head]:
                raise BundleError(f"bundle {m.profile!r} rev {m.revision}: manifest lacks modules [{head!r}]")
            missing = [b for b in m.blocks if b not in first.blocks]
            if missing:
                raise BundleError(f"profile {m.profile!r} uses blocks {missing} that {master!r} does not hold")
    model = ModularEncoder(first.config, first.labels, block_ids=first.blocks,
                           profiles={m.profile: m.blocks for m in [first, *[x for x in manifests if x.profile != master]]},
                           base_model=first.base_model)
    for chain in chains.values():
        load_module(model, chain, fetch)
    model.eval()
    return model


def bundle_vocabulary(manifest: BundleManifest, fetch: Fetch) -> list[int] | None:
    """The token ids a vocabulary-pruned bundle keeps (None if it is not pruned)."""
    if not manifest.config.get("original_vocab_size"):
        return None
    ref = module_chains(manifest)[EMBEDDINGS][0]  # patches never touch the kept ids (a buffer)
    return decode_module(ref, fetch_verified(ref, fetch))["kept_token_ids"].tolist()


def modules_to_fetch(manifest: BundleManifest, held_sha256: Iterable[str]) -> list[ModuleRef]:
    """The modules a device must download for ``manifest`` given the hashes it holds."""
    held = set(held_sha256)
    return [m for m in manifest.modules if m.sha256 not in held]


def bundle_bytes(manifest: BundleManifest) -> int:
    return sum(m.bytes for m in manifest.modules)
