"""The delta wire format: what an edge node uploads and how the cloud reads it.

:func:`build_upload` turns a node's weight change into the only thing that leaves the device:
safetensors bytes of weight changes (``form="full"``) or LoRA factors (``form="factors"``),
optionally L2-clipped, Gaussian-noised (``noise_multiplier * clip_norm``), int8-quantised and
sent at a lower rank (``UploadSettings.rank``, a truncated SVD), the head's change at a rank of
its own (``head_rank``) or only its largest rows (``head_rows``, the others zero), int8 values
rounded to fewer levels (``bits``, ``head_bits``: still int8 bytes, which deflate codes in fewer
bits), with an :class:`EdgeDeltaManifest` as metadata, deflated (:func:`pack_upload`).
:func:`verify_upload` checks — and ``build_upload`` asserts — that it holds only adapter/head
tensors of allowed names and dtypes (no integer token ids, no embeddings) and no feedback text.
:func:`decode_upload` (cloud side) returns the per-module full weight changes;
:func:`apply_update` adds one to a model; :func:`upload_size_report` compares an upload's bytes
with the sub-model and teacher.

Tensor names in an upload: ``<module>/<param>`` (full), ``<module>/<param>@A`` and ``@B``
(factors); int8 adds ``<name>:scale``. The edge's learning (``adapt``) and the cloud's
aggregation (``merge``) both depend on this module, never on each other.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import random
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import torch
from pydantic import BaseModel, ConfigDict, Field

from ecc_workloads.learning.bundles import decode_tensors, encode_tensors, module_identity
from ecc_workloads.contracts import BundleManifest, EdgeDeltaManifest
from ecc_workloads.learning.modular import ModularEncoder

ModuleDelta = dict[str, dict[str, torch.Tensor]]
"""module name -> parameter key (relative to the module) -> full weight change."""

class TrainedChange(Protocol):
    """What an upload is built from (adapt.AdaptResult is one)."""

    delta: ModuleDelta
    """full weight change per module"""
    factors: dict[str, dict[str, tuple[torch.Tensor, torch.Tensor]]]
    """module -> param -> (A, B) LoRA factors"""
    lora_scale: float
    num_samples: int


_TENSOR_NAME = re.compile(r"^(block\.\d+|head\.[a-z0-9-]+)/[A-Za-z0-9_.]+(@[AB])?(:scale)?$")


class UploadSettings(BaseModel):
    """EdgeFleet.spec.privacy maps onto these."""

    model_config = ConfigDict(extra="forbid")

    form: Literal["full", "factors"] = Field(
        "factors", description="factors: LoRA A and B (r·(in+out) per layer, ~20x smaller than full at r=8, "
        "hidden 384); full: B@A·scale per layer (required for noise)")
    clip_norm: float | None = Field(None, gt=0, description="clip the update's global L2 norm to this")
    noise_multiplier: float = Field(0.0, ge=0, description="Gaussian noise std = noise_multiplier * clip_norm")
    int8: bool = False
    seed: int | None = None
    rank: int | None = Field(
        None, ge=1, description="factors form: send each LoRA change at this rank when it is below the trained "
        "rank (the best approximation: a truncated SVD of B@A*scale); default: as trained")
    head_rank: int | None = Field(
        None, ge=0, description="factors form: the rank at which the head's weight change is sent (a "
        "truncated SVD: the head is not LoRA-trained, so its change is factorised for the upload); "
        "default: the rank the LoRA changes are sent at; 0 sends it whole")
    head_rows: int | None = Field(
        None, ge=0, description="factors form: send only the k rows (intents) of the head's change with the "
        "largest L2 norm (weight row and bias entry); the other rows are sent as zeros, which the deflated "
        "upload (pack_upload) carries in a few bytes each, and the cloud decodes them as no change. 0: no head "
        "change at all (LoRA only). Replaces head_rank (the head's change is sent row by row, not factorised)")
    bits: int = Field(
        8, ge=2, le=8, description="int8 uploads: each quantised row (per column for short rows, as the int8 "
        "scales) is first rounded to 2^(bits-1)-1 levels each side of zero, its step chosen for the least "
        "squared error (clipping the largest values); the bytes stay int8 — nothing changes for the cloud — "
        "and the deflated upload codes the few distinct values in about `bits` bits each or fewer. 8: plain int8")
    head_bits: int | None = Field(None, ge=2, le=8, description="bits for the head's change; default: bits")


class UploadRejected(ValueError):
    """An upload carries something other than adapter/head deltas."""


def labels_sha256(labels: Sequence[str]) -> str:
    return hashlib.sha256(json.dumps(list(labels)).encode()).hexdigest()


# ---------------------------------------------------------------------- applying a change
def apply_update(model: ModularEncoder, delta: ModuleDelta, coefficient: float = 1.0) -> ModularEncoder:
    """A copy of ``model`` with ``W += coefficient * delta`` on every listed parameter."""
    new = copy.deepcopy(model)
    with torch.no_grad():
        for module, params in delta.items():
            try:
                target = dict(new.module(module).named_parameters())
            except KeyError as err:
                raise ValueError(f"update touches module {module!r}, which the model does not hold") from err
            for key, d in params.items():
                if key not in target:
                    raise ValueError(f"update touches {module}/{key}, which is not a parameter of {module!r}")
                if tuple(target[key].shape) != tuple(d.shape):
                    raise ValueError(f"{module}/{key}: update shape {tuple(d.shape)} != weight {tuple(target[key].shape)}")
                target[key].add_(d.to(target[key].dtype), alpha=coefficient)
    return new


# ---------------------------------------------------------------------- upload
def global_norm(delta: ModuleDelta) -> float:
    return math.sqrt(sum(float(t.double().pow(2).sum()) for params in delta.values() for t in params.values()))


def clip_delta(delta: ModuleDelta, clip_norm: float) -> tuple[ModuleDelta, float]:
    """Scale the whole update so its global L2 norm is at most ``clip_norm``; returns the factor."""
    norm = global_norm(delta)
    factor = min(1.0, clip_norm / norm) if norm > 0 else 1.0
    return {m: {k: t * factor for k, t in ps.items()} for m, ps in delta.items()}, factor


def low_rank_factors(t: torch.Tensor, rank: int, scale: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(A, B) with ``B @ A * scale`` the best rank-``rank`` approximation of ``t`` (truncated SVD),
    in the same layout and scale as LoRA factors so the cloud decodes both alike."""
    u, sv, vh = torch.linalg.svd(t.double(), full_matrices=False)
    r = max(1, min(rank, sv.numel()))
    a = (sv[:r, None] * vh[:r]).float()
    b = (u[:, :r] / scale).float()
    return a.contiguous(), b.contiguous()


def keep_top_rows(params: Mapping[str, torch.Tensor], k: int) -> dict[str, torch.Tensor]:
    """A head's change with only its ``k`` rows (intents) of the largest L2 norm kept — each
    row's weights and bias entry together — and every other row zero."""
    rows = next((t.shape[0] for t in params.values() if t.dim() == 2), None)
    if rows is None:
        return dict(params)
    norms = sum(t.double().pow(2).reshape(rows, -1).sum(1) for t in params.values() if t.shape[:1] == (rows,))
    keep = torch.zeros(rows, dtype=torch.bool)
    keep[torch.topk(norms, min(k, rows)).indices] = True
    return {key: t * keep.reshape(rows, *[1] * (t.dim() - 1)).to(t.dtype) if t.shape[:1] == (rows,) else t
            for key, t in params.items()}


_CLIP_FRACTIONS = torch.linspace(0.1, 1.0, 46)


def coarsen(t: torch.Tensor, bits: int) -> torch.Tensor:
    """``t`` rounded to ``2^(bits-1)-1`` levels each side of zero per row — per column for rows
    shorter than 16 values, the axis of the int8 scales (``bundles.quantize_int8``) — with each
    row's step chosen among clipping points (10–100 % of its largest value) for the least squared
    error. Sent as int8, such a row holds at most ``2^bits - 1`` distinct bytes, which the deflated
    upload codes in about ``bits`` bits each or fewer; the cloud decodes it as any int8 upload."""
    if bits >= 8 or t.dim() != 2 or not t.is_floating_point() or t.numel() == 0:
        return t
    levels = 2 ** (bits - 1) - 1
    x = t.detach().float()
    x = x if x.shape[1] >= 16 else x.T
    peak = x.abs().amax(1, keepdim=True).clamp(min=1e-12)
    best = torch.zeros_like(x)
    best_err = torch.full((x.shape[0],), math.inf)
    for frac in _CLIP_FRACTIONS.tolist():
        step = peak * (frac / levels)
        q = torch.round(x / step).clamp(-levels, levels) * step
        err = (q - x).pow(2).sum(1)
        better = err < best_err
        best[better], best_err[better] = q[better], err[better]
    return best if t.shape[1] >= 16 else best.T.contiguous()


def build_upload(
    result: TrainedChange,
    base: BundleManifest,
    node: str,
    settings: UploadSettings,
    forbidden_texts: Iterable[str] = (),
) -> bytes:
    """The safetensors bytes a device uploads (verified to hold no text or token ids)."""
    if settings.noise_multiplier > 0 and settings.clip_norm is None:
        raise ValueError("noise_multiplier needs clip_norm (noise std = noise_multiplier * clip_norm)")
    if settings.noise_multiplier > 0 and settings.form != "full":
        raise ValueError("noise is defined on the full weight change: use form='full' with noise_multiplier")
    if settings.head_rows is not None and (settings.form != "factors" or settings.head_rank):
        raise ValueError("head_rows sends the head's change row by row in the factors form: use form='factors' "
                         "and no head_rank (or 0)")
    head_bits = settings.bits if settings.head_bits is None else settings.head_bits
    if min(settings.bits, head_bits) < 8 and not settings.int8:
        raise ValueError("bits/head_bits below 8 round int8 values: they need int8=True")
    delta, factor = result.delta, 1.0
    if settings.clip_norm is not None:
        delta, factor = clip_delta(delta, settings.clip_norm)
    if settings.head_rows is not None:  # after clipping: the rows that carry the clipped change
        delta = {m: keep_top_rows(ps, settings.head_rows) if m.startswith("head.") else ps
                 for m, ps in delta.items() if settings.head_rows > 0 or not m.startswith("head.")}
    if settings.noise_multiplier > 0:
        gen = torch.Generator().manual_seed(settings.seed if settings.seed is not None else random.SystemRandom().randrange(2**63))
        std = settings.noise_multiplier * settings.clip_norm
        delta = {m: {k: t + torch.randn(t.shape, generator=gen) * std for k, t in ps.items()} for m, ps in delta.items()}
    lora_rank = next((a.shape[0] for ps in result.factors.values() for a, _ in ps.values()), 0)
    sent_rank = min(lora_rank, settings.rank) if settings.rank else lora_rank
    head_rank = 0 if settings.head_rows is not None else sent_rank if settings.head_rank is None else settings.head_rank
    tensors: dict[str, torch.Tensor] = {}
    for module, params in delta.items():
        for key, t in params.items():
            pair = result.factors.get(module, {}).get(key)
            if settings.form == "factors" and pair is not None:
                a, b = pair
                if sent_rank < a.shape[0]:  # t is B @ A * scale, already clipped
                    a, b = low_rank_factors(t, sent_rank, result.lora_scale)
                else:
                    b = b * factor
                tensors[f"{module}/{key}@A"] = a
                tensors[f"{module}/{key}@B"] = b
            elif (settings.form == "factors" and module.startswith("head.") and t.dim() == 2
                  and 0 < head_rank < min(t.shape)):
                a, b = low_rank_factors(t, head_rank, result.lora_scale)  # t is already clipped
                tensors[f"{module}/{key}@A"] = a
                tensors[f"{module}/{key}@B"] = b
            else:
                tensors[f"{module}/{key}"] = t
    if min(settings.bits, head_bits) < 8:
        tensors = {name: coarsen(t, head_bits if name.startswith("head.") else settings.bits)
                   for name, t in tensors.items()}
    refs = module_identity(base)  # a patched module is named by its latest patch, as merge-back checks
    missing = [m for m in delta if m not in refs]
    if missing:
        raise ValueError(f"delta touches modules {missing} that the base bundle {base.profile!r} does not hold")
    manifest = EdgeDeltaManifest(
        node=node, base_revision=base.revision, profile=base.profile, blocks=list(base.blocks),
        labels_sha256=labels_sha256(base.labels), base_modules={m: refs[m] for m in sorted(delta)},
        num_samples=result.num_samples, form=settings.form, quant="int8" if settings.int8 else "none",
        lora_rank=lora_rank,
        lora_scale=result.lora_scale, clip_norm=settings.clip_norm, noise_multiplier=settings.noise_multiplier,
        update_norm=global_norm(delta),
    )
    blob = encode_tensors(tensors, {"delta": manifest.model_dump(mode="json")}, int8=settings.int8)
    verify_upload(blob, forbidden_texts)
    return pack_upload(blob)


def _header(blob: bytes) -> dict:
    if len(blob) < 8:
        raise UploadRejected("not a safetensors file")
    n = int.from_bytes(blob[:8], "little")
    if n <= 0 or 8 + n > len(blob):
        raise UploadRejected("safetensors header length is out of range")
    try:
        return json.loads(blob[8 : 8 + n])
    except ValueError as err:
        raise UploadRejected(f"safetensors header is not JSON: {err}") from err


PACKED_MAGIC = b"ECCZ\x01"
"""An upload is its safetensors bytes deflated (zlib) behind this prefix. A safetensors file
cannot start with it: its first 8 bytes are a little-endian header length, whose fifth byte is 0
for any header under 4 GiB."""


def pack_upload(blob: bytes) -> bytes:
    """What a device sends: the safetensors bytes deflated (the JSON header and the metadata are
    about half of a low-rank int8 upload, and they compress well) — the smaller of zlib's default
    and ``Z_FILTERED`` strategies (the latter codes int8 values rounded to few levels, ``bits``,
    up to 15 % smaller); either is one deflate stream, read alike."""
    streams = []
    for strategy in (zlib.Z_DEFAULT_STRATEGY, zlib.Z_FILTERED):
        z = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS, 9, strategy)
        streams.append(z.compress(blob) + z.flush())
    return PACKED_MAGIC + min(streams, key=len)


def unpack_upload(blob: bytes) -> bytes:
    """The safetensors bytes of an upload, packed or not; UploadRejected for a corrupt or
    truncated stream or one that inflates beyond MAX_UPLOAD_BYTES (read no further than that)."""
    if not blob.startswith(PACKED_MAGIC):
        return blob
    inflate = zlib.decompressobj()
    try:
        out = inflate.decompress(blob[len(PACKED_MAGIC):], MAX_UPLOAD_BYTES + 1)
    except zlib.error as err:
        raise UploadRejected(f"packed upload is not a valid deflate stream: {err}") from err
    if len(out) > MAX_UPLOAD_BYTES or inflate.unconsumed_tail:
        raise UploadRejected(f"packed upload inflates beyond {MAX_UPLOAD_BYTES} bytes")
    if not inflate.eof:
        raise UploadRejected("packed upload is truncated")
    return out


def verify_upload(blob: bytes, forbidden_texts: Iterable[str] = ()) -> EdgeDeltaManifest:
    """Reject anything but adapter/head weight deltas: tensor names must be
    ``block.<i>/...`` or ``head.<p>/...``; dtypes float32, or int8 paired with a float32
    ``:scale``; metadata exactly one EdgeDeltaManifest; no ``forbidden_texts`` (the
    device's feedback texts, 8+ chars) anywhere in the bytes (unpacked)."""
    blob = unpack_upload(blob)
    header = _header(blob)
    meta = header.pop("__metadata__", {}) or {}
    if set(meta) != {"ecc"}:
        raise UploadRejected(f"metadata must be exactly one 'ecc' entry, got keys {sorted(meta)}")
    try:
        outer = json.loads(meta["ecc"])
        manifest = EdgeDeltaManifest.model_validate(outer.pop("delta"))
    except Exception as err:  # noqa: BLE001
        raise UploadRejected(f"metadata is not an EdgeDeltaManifest: {err}") from err
    extra = set(outer) - {"quant"}
    if extra:
        raise UploadRejected(f"unexpected metadata fields {sorted(extra)}")
    for name, info in header.items():
        if not _TENSOR_NAME.match(name):
            raise UploadRejected(f"tensor {name!r} is not an adapter or head delta")
        if name.startswith("embeddings") or "embeddings" in name:
            raise UploadRejected(f"tensor {name!r}: embeddings never leave the device")
        dtype = info.get("dtype")
        if dtype == "I8":
            if name + ":scale" not in header:
                raise UploadRejected(f"int8 tensor {name!r} has no scale: integer data is not allowed")
        elif dtype != "F32":
            raise UploadRejected(f"tensor {name!r} has dtype {dtype}: only F32 (and I8 with a scale) are allowed")
    for text in forbidden_texts:
        for needle in {text, text.lower(), text.strip()}:
            if len(needle) >= 8 and needle.encode("utf-8") in blob:
                raise UploadRejected("the upload contains feedback text")
    return manifest


@dataclass
class EdgeUpdate:
    manifest: EdgeDeltaManifest
    delta: ModuleDelta


MAX_UPLOAD_BYTES = 64 * 1024 * 1024
"""An upload larger than this is refused unread (the shipped student's whole fp32 blocks are ~55 MB)."""
MAX_UPLOAD_RANK = 64
MAX_DELTA_ELEMENTS = 4 * 1024 * 1024
"""Elements of one parameter's change when no expected shapes are given (MiniLM's largest is 590k)."""

ParamShapes = Mapping[str, Mapping[str, tuple[int, ...]]]
"""module -> parameter -> shape (``parameter_shapes`` of the cloud model)."""


def parameter_shapes(model) -> dict[str, dict[str, tuple[int, ...]]]:
    """module -> parameter -> shape of every module a ModularEncoder holds."""
    return {name: {k: tuple(p.shape) for k, p in model.module(name).named_parameters()}
            for name in model.module_names()}


def check_upload_shapes(blob: bytes, shapes: ParamShapes | None = None, max_rank: int = MAX_UPLOAD_RANK) -> None:
    """From the header alone, before any tensor is decoded or multiplied: every factor pair is 2-D
    with a rank of at most ``max_rank`` and inner sizes that agree, and every change (B @ A, or a
    full tensor) has the shape of the parameter it changes (``shapes``; without them, at most
    MAX_DELTA_ELEMENTS elements). A forged pair such as A (1, 10⁵) and B (10⁵, 1) would
    otherwise make a 40 GB product."""
    if len(blob) > MAX_UPLOAD_BYTES:
        raise UploadRejected(f"upload of {len(blob)} bytes, more than {MAX_UPLOAD_BYTES}")
    blob = unpack_upload(blob)
    if len(blob) > MAX_UPLOAD_BYTES:
        raise UploadRejected(f"upload of {len(blob)} bytes, more than {MAX_UPLOAD_BYTES}")
    header = {k: v for k, v in _header(blob).items() if k != "__metadata__" and not k.endswith(":scale")}
    changes: dict[str, tuple[int, ...]] = {}
    for name, info in header.items():
        shape = tuple(int(x) for x in info.get("shape") or ())
        if name.endswith("@B"):
            if name[:-1] + "A" not in header:
                raise UploadRejected(f"factor {name!r} has no matching @A")
            continue
        if name.endswith("@A"):
            b_name = name[:-1] + "B"
            if b_name not in header:
                raise UploadRejected(f"factor {name!r} has no matching @B")
            b_shape = tuple(int(x) for x in header[b_name].get("shape") or ())
            if len(shape) != 2 or len(b_shape) != 2 or shape[0] != b_shape[1]:
                raise UploadRejected(f"factors of {name[:-2]!r}: A {shape} and B {b_shape} do not make B @ A")
            if not 1 <= shape[0] <= max_rank:
                raise UploadRejected(f"factors of {name[:-2]!r}: rank {shape[0]}, at most {max_rank} is accepted")
            changes[name[:-2]] = (b_shape[0], shape[1])
        else:
            changes[name] = shape
    for name, shape in changes.items():
        module, _, key = name.partition("/")
        if shapes is not None:
            want = (shapes.get(module) or {}).get(key)
            if want is None:
                raise UploadRejected(f"{name}: the cloud model has no such parameter")
            if tuple(want) != shape:
                raise UploadRejected(f"{name}: change of shape {shape}, the parameter is {tuple(want)}")
        elif math.prod(shape) > MAX_DELTA_ELEMENTS:
            raise UploadRejected(f"{name}: change of shape {shape} has more than {MAX_DELTA_ELEMENTS} elements")


def decode_upload(blob: bytes, shapes: ParamShapes | None = None) -> EdgeUpdate:
    """Cloud side: verify an upload and return its full weight change per module
    (LoRA factors are multiplied out: ``B @ A * lora_scale``), after checking every shape
    (:func:`check_upload_shapes`; ``shapes``: the cloud model's)."""
    blob = unpack_upload(blob)
    manifest = verify_upload(blob)
    check_upload_shapes(blob, shapes)
    tensors, _ = decode_tensors(blob)
    delta: ModuleDelta = {}
    for name, t in tensors.items():
        module, _, key = name.partition("/")
        if key.endswith("@B"):
            continue
        if key.endswith("@A"):
            base_key = key[:-2]
            b = tensors.get(f"{module}/{base_key}@B")
            if b is None:
                raise UploadRejected(f"factor {name!r} has no matching @B")
            delta.setdefault(module, {})[base_key] = (b @ t) * manifest.lora_scale
        else:
            delta.setdefault(module, {})[key] = t
    return EdgeUpdate(manifest=manifest, delta=delta)


def upload_size_report(blob: bytes, submodel: BundleManifest, teacher: BundleManifest | None = None) -> dict[str, float]:
    """Bytes of one upload against re-sending the whole sub-model (and the teacher)."""
    sub_bytes = sum(m.bytes for m in submodel.modules)
    out = {"upload_bytes": float(len(blob)), "submodel_bytes": float(sub_bytes), "submodel_ratio": sub_bytes / len(blob)}
    if teacher is not None:
        t = sum(m.bytes for m in teacher.modules)
        out.update(teacher_bytes=float(t), teacher_ratio=t / len(blob))
    return out


def delta_param_count(delta: ModuleDelta) -> int:
    return sum(t.numel() for ps in delta.values() for t in ps.values())
