"""Module patches: a merge-back revision ships its change, not whole modules.

A merge-back round changes a few modules of the cloud model (the blocks the fleet adapted with
LoRA, the heads it trained) by the aggregate of the nodes' changes. Re-shipping those modules
whole costs a node the whole block again; the change itself is small and low-rank (an average
of low-rank LoRA changes). A **patch file** (``ecc-patch/1``, one per changed module) holds it:

- a 2-D parameter's change as factors ``B`` [out, r] and ``A`` [r, in] — a truncated SVD, at the
  smallest rank ``r`` whose relative error (Frobenius) is at most ``tolerance``, up to
  ``max_rank`` — when the factors are smaller than the change itself, else the change whole;
- 1-D changes (biases, norms) whole;
- every 2-D tensor in int8 (:mod:`ecc_workloads.learning.tensorfile`), 1-D ones in float32.

A bundle manifest lists a module's patches right after the module (``ModuleRef.kind ==
"patch"``, in the order they apply): the module's weights are its file's plus each patch's
decoded change (:func:`decode` then :func:`apply`), the same float operations in the cloud and
on a node, so the model the merge-back gate scores is the model nodes load. A node that holds a
revision's modules downloads only the next revision's patches.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from ecc_workloads.contracts import PATCH_FORMAT
from ecc_workloads.learning.tensorfile import decode_tensors, encode_tensors

FACTOR_B = "@B"
FACTOR_A = "@A"

Change = dict[str, torch.Tensor]
"""parameter key (relative to its module) -> the change to add to it."""


class PatchError(ValueError):
    """A patch that cannot be written or applied; the message names the module and tensor."""


class PatchSettings(BaseModel):
    """How a merge-back revision's change is compressed (``ecc merge-back --patch-*``)."""

    model_config = ConfigDict(extra="forbid")

    tolerance: float = Field(0.02, ge=0, lt=1, description="largest relative error (Frobenius) of a factorised "
                             "change; 0 keeps every singular value (factors only when the change's rank is low)")
    max_rank: int = Field(32, ge=1, le=512, description="factors of at most this rank; a change that needs more "
                          "is shipped whole (int8)")


def _rank_for(singular: torch.Tensor, tolerance: float) -> int:
    """The smallest r whose truncation error ||s[r:]|| is at most ``tolerance`` x ||s||."""
    energy = singular.double().pow(2)
    total = float(energy.sum())
    if total == 0.0:
        return 1
    tail = torch.flip(torch.cumsum(torch.flip(energy, [0]), 0), [0])  # tail[r] = sum(s[r:]^2)
    allowed = (tolerance ** 2) * total
    for r in range(1, energy.numel()):
        if float(tail[r]) <= allowed:
            return r
    return energy.numel()


def factorise(change: torch.Tensor, settings: PatchSettings) -> tuple[torch.Tensor, torch.Tensor] | None:
    """(B, A) with ``B @ A`` within ``settings.tolerance`` of ``change``, or None when the factors
    would not be smaller than the change (or need more than ``max_rank``)."""
    out_dim, in_dim = change.shape
    u, s, vh = torch.linalg.svd(change.double(), full_matrices=False)
    r = _rank_for(s, settings.tolerance)
    if r > settings.max_rank or r * (out_dim + in_dim) >= out_dim * in_dim:
        return None
    root = s[:r].sqrt()
    return (u[:, :r] * root).float().contiguous(), (root[:, None] * vh[:r]).float().contiguous()


def encode(module: str, change: Mapping[str, torch.Tensor], settings: PatchSettings) -> bytes:
    """The patch file of one module's change."""
    tensors: dict[str, torch.Tensor] = {}
    for key in sorted(change):
        t = change[key].detach().float().cpu()
        if not torch.isfinite(t).all():
            raise PatchError(f"patch of {module!r}: the change of {key!r} is not finite")
        pair = factorise(t, settings) if t.dim() == 2 else None
        if pair is None:
            tensors[key] = t
        else:
            tensors[key + FACTOR_B], tensors[key + FACTOR_A] = pair
    return encode_tensors(tensors, {"format": PATCH_FORMAT, "module": module}, int8=True)


def encode_all(change: Mapping[str, Mapping[str, torch.Tensor]], settings: PatchSettings) -> dict[str, bytes]:
    """module -> patch file, for every module of a merge-back round's change."""
    return {module: encode(module, params, settings) for module, params in sorted(change.items())}


def decode(module: str, data: bytes, target: nn.Module) -> Change:
    """The change a patch file adds to ``target`` (the module named ``module``), checked against
    its parameters: every tensor must name one, with a shape that fits, and be finite."""
    try:
        tensors, meta = decode_tensors(data)
    except Exception as err:  # noqa: BLE001 - safetensors raises several kinds
        raise PatchError(f"patch of {module!r}: not a readable patch file: {err}") from err
    if meta.get("format") != PATCH_FORMAT or meta.get("module") != module:
        raise PatchError(f"patch of {module!r}: file says format={meta.get('format')!r} module={meta.get('module')!r}")
    params = dict(target.named_parameters())
    out: Change = {}
    for name, t in tensors.items():
        if name.endswith(FACTOR_A):
            if name.removesuffix(FACTOR_A) + FACTOR_B not in tensors:
                raise PatchError(f"patch of {module!r}: {name!r} has no {FACTOR_B} factor")
            continue
        key = name.removesuffix(FACTOR_B)
        if key not in params:
            raise PatchError(f"patch of {module!r}: {key!r} is not a parameter of the module "
                             f"(has {sorted(params)})")
        shape = tuple(params[key].shape)
        if name.endswith(FACTOR_B):
            a = tensors.get(key + FACTOR_A)
            if a is None:
                raise PatchError(f"patch of {module!r}: {name!r} has no {FACTOR_A} factor")
            if t.dim() != 2 or a.dim() != 2 or len(shape) != 2 or t.shape[1] != a.shape[0] \
                    or (t.shape[0], a.shape[1]) != shape:
                raise PatchError(f"patch of {module!r}: factors of {key!r} {tuple(t.shape)} x {tuple(a.shape)} "
                                 f"do not make its shape {shape}")
            t = t.float() @ a.float()
        elif tuple(t.shape) != shape:
            raise PatchError(f"patch of {module!r}: {key!r} has shape {tuple(t.shape)}, the parameter {shape}")
        if not torch.isfinite(t).all():
            raise PatchError(f"patch of {module!r}: the change of {key!r} is not finite")
        out[key] = t.float()
    return out


def apply(target: nn.Module, change: Mapping[str, torch.Tensor]) -> None:
    """Add ``change`` (from :func:`decode`) to ``target``'s parameters in place."""
    params = dict(target.named_parameters())
    with torch.no_grad():
        for key, d in change.items():
            params[key].add_(d.to(params[key].dtype))
