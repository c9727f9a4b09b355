"""Edge adaptation: feedback, and LoRA (peft) on a device's sub-model.

1. Feedback: :class:`FeedbackItem` rows from users/agents (corrections) and, when the
   fleet's privacy settings allow cloud assist, teacher labels; :func:`select_training_rows`
   keeps corrections always and teacher labels only above a confidence threshold.
2. :func:`adapt_locally` injects LoRA (``peft.inject_adapter_in_model``) into a copy of
   the sub-model (default targets: attention ``query``/``value`` of every held block) and
   trains the adapters plus the profile's head; the base weights stay frozen. It returns
   each module's *full weight change* (``B @ A * scale`` per adapted Linear, and the head's
   new-minus-old weights) and the adapted model for local serving.
3. What leaves the device is built from that change by the delta wire format
   (``ecc_workloads.learning.deltas``: :func:`~ecc_workloads.learning.deltas.build_upload`), which the cloud's
   merge-back reads too.
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch.nn import functional as F

from ecc_workloads.learning.deltas import ModuleDelta, apply_update
from ecc_workloads.learning.distill import encode_texts, label_indices, pad_batch
from ecc_workloads.learning.modular import ModularEncoder, block_module, head_module

_ADAPTER = "default"


# ---------------------------------------------------------------------- documents
class FeedbackItem(BaseModel):
    """One labelled utterance kept on the device (never uploaded)."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1)
    label: str = Field(min_length=1, description="the correct intent")
    source: Literal["user", "agent", "teacher"] = Field(
        description="user/agent: a correction or confirmation; teacher: a cloud-assist label"
    )
    confidence: float | None = Field(None, ge=0, le=1, description="teacher's confidence (source=teacher)")
    predicted: str | None = Field(None, description="what the device predicted, if known")


class LoraSettings(BaseModel):
    """AdaptationPolicy.spec.localAdaptation maps onto these."""

    model_config = ConfigDict(extra="forbid")

    rank: int = Field(8, ge=1, le=256)
    alpha: float = Field(16.0, gt=0)
    dropout: float = Field(0.0, ge=0, lt=1)
    targets: list[str] = Field(default_factory=lambda: ["query", "value"], min_length=1,
                               description="Linear layer names inside blocks to adapt")
    train_head: bool = True
    epochs: float = Field(3.0, gt=0)
    lr: float = Field(5e-4, gt=0)
    head_lr: float | None = Field(None, gt=0, description="default: lr")
    batch_size: int = Field(16, ge=1)
    max_samples: int = Field(2000, ge=1)
    max_length: int = Field(64, ge=8)
    seed: int = 0


# ---------------------------------------------------------------------- feedback
class FeedbackBuffer:
    """Bounded, newest-wins buffer of feedback items on a device."""

    def __init__(self, max_items: int = 5000):
        if max_items < 1:
            raise ValueError("max_items must be >= 1")
        self.max_items = max_items
        self.items: list[FeedbackItem] = []

    def add(self, item: FeedbackItem) -> None:
        self.items.append(item)
        if len(self.items) > self.max_items:
            del self.items[: len(self.items) - self.max_items]

    def __len__(self) -> int:
        return len(self.items)


def select_training_rows(
    items: Sequence[FeedbackItem],
    allow_cloud_assist: bool,
    min_teacher_confidence: float = 0.9,
    max_samples: int | None = None,
) -> list[FeedbackItem]:
    """Corrections always; teacher labels only if cloud assist is allowed and the teacher
    was at least ``min_teacher_confidence`` sure. Newest rows win when capped."""
    keep = [
        it for it in items
        if it.source != "teacher"
        or (allow_cloud_assist and it.confidence is not None and it.confidence >= min_teacher_confidence)
    ]
    if max_samples is not None and len(keep) > max_samples:
        keep = keep[-max_samples:]
    return keep


def feedback_error_counts(items: Iterable[FeedbackItem]) -> tuple[int, int]:
    """(feedback items with a known prediction, of which the prediction was wrong) over
    user/agent feedback — the inputs of the drift score's error signal."""
    judged = [it for it in items if it.source != "teacher" and it.predicted is not None]
    return len(judged), sum(1 for it in judged if it.predicted != it.label)


# ---------------------------------------------------------------------- training
@dataclass
class AdaptResult:
    delta: ModuleDelta
    """full weight change per module (what merge-back aggregates)"""
    factors: dict[str, dict[str, tuple[torch.Tensor, torch.Tensor]]]
    """module -> param -> (A, B) LoRA factors (the head is trained whole; build_upload factorises its change)"""
    lora_scale: float
    adapted: ModularEncoder
    """base sub-model + delta, for serving on the device"""
    num_samples: int
    epoch_loss: list[float] = field(default_factory=list)
    trainable_params: int = 0


def _lora_module_path(path: str) -> tuple[str, str]:
    """'blocks.2.attention.self.query' -> ('block.2', 'attention.self.query.weight')."""
    parts = path.split(".")
    if parts[0] != "blocks" or not parts[1].isdigit():
        raise ValueError(f"LoRA landed outside a block: {path!r}; restrict targets to block layers")
    return block_module(int(parts[1])), ".".join(parts[2:]) + ".weight"


def adapt_locally(
    submodel: ModularEncoder,
    tokenizer,
    rows: Sequence[FeedbackItem],
    settings: LoraSettings,
    profile: str | None = None,
) -> AdaptResult:
    """Train LoRA adapters (+ head) of a copy of ``submodel`` on ``rows``."""
    from peft import LoraConfig, inject_adapter_in_model
    from peft.tuners.lora import LoraLayer

    if not rows:
        raise ValueError("no feedback rows to adapt on")
    profile = profile or submodel.default_profile()
    rows = list(rows)[-settings.max_samples:]
    torch.manual_seed(settings.seed)
    rng = random.Random(settings.seed)
    work = copy.deepcopy(submodel)
    for p in work.parameters():
        p.requires_grad_(False)
    config = LoraConfig(r=settings.rank, lora_alpha=settings.alpha, lora_dropout=settings.dropout,
                        target_modules=list(settings.targets), bias="none")
    try:
        inject_adapter_in_model(config, work)
    except ValueError as err:
        raise ValueError(f"LoRA targets {settings.targets} match no layer of the sub-model: {err}") from err
    head = work.heads[profile]
    for p in head.parameters():
        p.requires_grad_(settings.train_head)
    lora_params = [p for n, p in work.named_parameters() if "lora_" in n]
    groups = [{"params": lora_params, "lr": settings.lr}]
    if settings.train_head:
        groups.append({"params": list(head.parameters()), "lr": settings.head_lr or settings.lr})
    opt = torch.optim.AdamW(groups, weight_decay=0.0)
    y_all = label_indices(work, [r.label for r in rows])
    encoded = encode_texts(tokenizer, [r.text for r in rows], settings.max_length)
    pad_id = tokenizer.pad_token_id or 0
    steps = max(1, math.ceil(len(rows) / settings.batch_size * settings.epochs))
    work.train()
    losses: list[float] = []
    epoch_loss: list[float] = []
    step = 0
    while step < steps:
        order = list(range(len(rows)))
        rng.shuffle(order)
        for start in range(0, len(order), settings.batch_size):
            if step >= steps:
                break
            idx = order[start : start + settings.batch_size]
            ids, mask = pad_batch([encoded[i] for i in idx], pad_id)
            loss = F.cross_entropy(work(ids, mask, head=profile), y_all[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
            step += 1
        epoch_loss.append(sum(losses) / len(losses))
        losses = []
    work.eval()

    delta: ModuleDelta = {}
    factors: dict[str, dict[str, tuple[torch.Tensor, torch.Tensor]]] = {}
    scale = settings.alpha / settings.rank
    for path, layer in work.named_modules():
        if isinstance(layer, LoraLayer) and _ADAPTER in getattr(layer, "lora_A", {}):
            module, key = _lora_module_path(path)
            a = layer.lora_A[_ADAPTER].weight.detach().clone()
            b = layer.lora_B[_ADAPTER].weight.detach().clone()
            scale = float(layer.scaling[_ADAPTER])
            delta.setdefault(module, {})[key] = (b @ a) * scale
            factors.setdefault(module, {})[key] = (a, b)
    if settings.train_head:
        base_head = submodel.heads[profile].state_dict()
        delta[head_module(profile)] = {k: (v.detach() - base_head[k]).clone() for k, v in head.state_dict().items()}
    adapted = apply_update(submodel, delta, coefficient=1.0)
    return AdaptResult(
        delta=delta, factors=factors, lora_scale=scale, adapted=adapted, num_samples=len(rows),
        epoch_loss=epoch_loss, trainable_params=sum(p.numel() for g in groups for p in g["params"]),
    )
