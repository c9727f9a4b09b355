"""safetensors files with int8 matrices and one JSON metadata entry: the byte format of every
module, patch and upload (:mod:`ecc_workloads.learning.bundles`, :mod:`ecc_workloads.learning.patches`,
:mod:`ecc_workloads.learning.adapt`).

With ``int8=True`` every 2-D floating tensor is stored as ``<key>`` (int8, symmetric) plus
``<key>:scale`` (float32, one per row — or per column for rows shorter than 16, see
:func:`quantize_int8`); other tensors stay fp32. The metadata entry ``ecc`` holds JSON with the
caller's fields plus ``quant``.
"""

from __future__ import annotations

import json

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

QUANT_NONE = "none"
QUANT_INT8 = "int8"
SCALE_SUFFIX = ":scale"


class TensorFileError(ValueError):
    """Bytes that are not a tensor file of this format."""


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
        if SCALE_SUFFIX in key:
            raise TensorFileError(f"tensor name {key!r} must not contain {SCALE_SUFFIX!r}")
        value = value.detach().cpu()
        if int8 and value.is_floating_point() and value.dim() == 2:
            q, scale = quantize_int8(value)
            out[key] = q.contiguous()
            out[key + SCALE_SUFFIX] = scale.contiguous()
        else:
            out[key] = value.contiguous().clone()
    meta = dict(meta, quant=QUANT_INT8 if int8 else QUANT_NONE)
    return st_save(out, metadata={"ecc": json.dumps(meta, sort_keys=True)})


def decode_tensors(data: bytes) -> tuple[dict[str, torch.Tensor], dict]:
    """Inverse of :func:`encode_tensors` (int8 tensors come back as float32)."""
    raw = st_load(data)
    meta = read_metadata(data)
    out: dict[str, torch.Tensor] = {}
    for key, value in raw.items():
        if key.endswith(SCALE_SUFFIX):
            continue
        scale = raw.get(key + SCALE_SUFFIX)
        out[key] = dequantize_int8(value, scale) if scale is not None else value
    return out, meta


def read_metadata(data: bytes) -> dict:
    if len(data) < 8:
        raise TensorFileError("not a safetensors file (shorter than its header length)")
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + n])
    return json.loads(header.get("__metadata__", {}).get("ecc", "{}"))
