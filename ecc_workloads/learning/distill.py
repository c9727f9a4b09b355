"""Teacher fine-tuning and student distillation on the modular encoder.

Three trainings, one loop (:func:`train_profiles`):

- **teacher**: the full path (profile ``teacher``) with cross-entropy on labelled rows
  (:func:`fine_tune_teacher`).
- **shared-weight students** (ECLM-style, :func:`train_shared`): every step trains the
  *sandwich* — the full path (hard CE), the smallest student profile and one randomly
  drawn other profile. Students learn from soft labels of the full path of the *same*
  model (in-place distillation, detached) plus hard CE. All profiles share the embedding
  and block modules, so they ship the same hashes and merge back exactly.
- **separately distilled student** (:func:`distill_separate_student`): a copy of the
  teacher's embeddings and chosen blocks trained alone against a frozen teacher — the
  benchmark's baseline for what sharing costs.

Loss per student row: ``(1 - a) * CE(y) + a * T^2 * KL(p_teacher^T || p_student^T)``
with ``a = alpha`` on labelled rows and ``a = 1`` on unlabelled rows (label ``None``):
unlabelled traffic is learnt from the teacher alone. ``alpha`` is low by default
(0.1): with a near-perfect teacher, hard labels converge faster (DESIGN, measured hints).

Rows are given as texts and string labels; a label outside the model's label set is an
error naming it.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn
from torch.nn import functional as F

from ecc_workloads.contracts import TrainingSpec
from ecc_workloads.learning.modular import TEACHER_PROFILE, ModularEncoder

UNLABELLED = -1


class TrainSettings(BaseModel):
    """How one training phase runs (`from_spec`: from the CloudTeacher's ``distillation`` settings)."""

    model_config = ConfigDict(extra="forbid")

    epochs: float = Field(2.0, gt=0, description="passes over the rows (fractions allowed)")
    batch_size: int = Field(32, ge=1)
    lr: float = Field(5e-5, gt=0)
    head_lr: float | None = Field(None, gt=0, description="learning rate of the heads (default: 20 x lr)")
    weight_decay: float = Field(0.01, ge=0)
    warmup_fraction: float = Field(0.06, ge=0, lt=1)
    temperature: float = Field(2.0, gt=0)
    alpha: float = Field(0.1, ge=0, le=1, description="weight of the soft-label KL on labelled rows")
    freeze_embeddings: bool = Field(True, description="keep the embedding module fixed (faster; shared by all)")
    max_length: int = Field(64, ge=8)
    seed: int = 0
    min_steps: int = Field(0, ge=0, description="optimiser steps at least, however few the rows (small corpora)")
    eval_every: int | None = Field(
        None, ge=1, description="steps between validation checks, when validation rows are given (default: half "
        "an epoch, at least 20 steps)")
    group_by_length: bool = Field(True, description="batch rows of similar length together (less padding)")
    confidence_weighted: bool = Field(
        False, description="weigh each unlabelled row's soft-label loss by the teacher's top probability")
    min_confidence: float = Field(0.0, ge=0, lt=1, description="with confidence_weighted: unlabelled rows the "
                                  "teacher is less sure of than this teach nothing")
    patience: int = Field(3, ge=0, description="validation checks without improvement before training stops "
                          "early (0: never stop early; the best checked weights are kept either way)")

    @classmethod
    def from_spec(cls, spec: TrainingSpec, epochs: float, **extra) -> "TrainSettings":
        """One phase of the distillation Job, as the resource's training settings say (`extra`:
        the phase's own, e.g. confidence_weighted)."""
        return cls(epochs=epochs, batch_size=spec.batch_size, lr=spec.learning_rate, head_lr=spec.head_learning_rate,
                   temperature=spec.temperature, alpha=spec.alpha, freeze_embeddings=spec.freeze_embeddings,
                   max_length=spec.max_length, seed=spec.seed, patience=spec.patience, **extra)

    def total_steps(self, rows: int) -> int:
        per_epoch = math.ceil(rows / self.batch_size)
        return max(1, int(round(per_epoch * self.epochs)), self.min_steps)

    def validation_interval(self, rows: int) -> int:
        return self.eval_every or max(20, math.ceil(rows / self.batch_size / 2))


@dataclass
class TrainLog:
    steps: int = 0
    seconds: float = 0.0
    epoch_loss: list[float] = field(default_factory=list)
    profile_counts: dict[str, int] = field(default_factory=dict)
    planned_steps: int = 0
    validation: list[tuple[int, float]] = field(default_factory=list)
    """(step, score) of every validation check; score = mean accuracy of the trained paths."""
    best_step: int | None = None
    stopped_early: bool = False

    @property
    def best_score(self) -> float | None:
        return dict(self.validation).get(self.best_step) if self.best_step is not None else None


ProgressFn = Callable[[int, int, float], None]
"""progress(step, total_steps, loss) — called after every optimiser step. A progress object
with a ``validated(step, total, score, best)`` method is also told each validation check."""

Validation = tuple[Sequence[str], Sequence[str]]
"""(texts, labels) of held-out rows that early stopping and the choice of weights look at."""


# ---------------------------------------------------------------------- data
def label_indices(model: ModularEncoder, labels: Sequence[str | None]) -> torch.Tensor:
    index = {label: i for i, label in enumerate(model.labels)}
    out = []
    for row, label in enumerate(labels):
        if label is None or label == "":
            out.append(UNLABELLED)
        elif label in index:
            out.append(index[label])
        else:
            raise ValueError(f"label {label!r} (row {row}) is not in the model's label set {model.labels}")
    return torch.tensor(out, dtype=torch.long)


def encode_texts(tokenizer, texts: Sequence[str], max_length: int) -> list[list[int]]:
    return tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"]


def pad_batch(rows: Sequence[Sequence[int]], pad_id: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r, dtype=torch.long)
        mask[i, : len(r)] = 1
    return ids, mask


LENGTH_GROUP_BATCHES = 50
"""Batches per length group: rows are shuffled, cut into groups of this many batches, sorted by
length within a group, batched, and the batches shuffled (as Hugging Face's ``group_by_length``)."""


def shuffled_batches(lengths: Sequence[int], batch_size: int, rng: random.Random,
                     group_by_length: bool = True) -> list[list[int]]:
    """One epoch's batches of row indices. Grouped by length, a batch pads to a similar length
    (on an intent corpus the padded tokens of random batches are about twice the real ones); the
    order stays random at the scale of a group."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    if not group_by_length:
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    group = batch_size * LENGTH_GROUP_BATCHES
    batches = []
    for start in range(0, len(order), group):
        chunk = sorted(order[start : start + group], key=lambda i: -lengths[i])
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


# ---------------------------------------------------------------------- losses
def student_loss(
    logits: torch.Tensor, y: torch.Tensor, soft: torch.Tensor | None, alpha: float, temperature: float,
    unlabelled_weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Per-batch mean of (1-a)·CE + a·T²·KL with a = alpha (labelled) or 1 (unlabelled);
    ``unlabelled_weight`` (per row, e.g. the teacher's confidence) scales unlabelled rows."""
    labelled = y != UNLABELLED
    ce = F.cross_entropy(logits, y.clamp(min=0), reduction="none") * labelled
    if soft is None:
        return ce.sum() / labelled.sum().clamp(min=1)
    kd = F.kl_div(F.log_softmax(logits / temperature, -1), soft, reduction="none").sum(-1) * temperature**2
    a = torch.where(labelled, torch.full_like(kd, alpha), torch.ones_like(kd))
    per_row = (1 - a) * ce + a * kd
    if unlabelled_weight is not None:
        per_row = torch.where(labelled, per_row, per_row * unlabelled_weight)
    return per_row.mean()


def confidence_weights(teacher_logits: torch.Tensor, min_confidence: float) -> torch.Tensor:
    """Per row: the teacher's top probability (temperature 1), 0 below ``min_confidence``."""
    top = F.softmax(teacher_logits, -1).max(-1).values
    return torch.where(top >= min_confidence, top, torch.zeros_like(top))


# ---------------------------------------------------------------------- training
def _optimizer(model: nn.Module, settings: TrainSettings, steps: int):
    head_params = [p for n, p in model.named_parameters() if n.startswith("heads.") and p.requires_grad]
    other = [p for n, p in model.named_parameters() if not n.startswith("heads.") and p.requires_grad]
    head_lr = settings.head_lr or settings.lr * 20
    opt = torch.optim.AdamW(
        [{"params": other, "lr": settings.lr}, {"params": head_params, "lr": head_lr}],
        weight_decay=settings.weight_decay,
    )
    return opt, warmup_then_linear_decay(opt, steps, settings.warmup_fraction)


def warmup_then_linear_decay(opt: torch.optim.Optimizer, steps: int, warmup_fraction: float):
    """Learning rate: linear warm-up over ``warmup_fraction`` of ``steps``, then linear decay to 0."""
    warm = max(1, int(steps * warmup_fraction))

    def schedule(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return max(0.0, (steps - step) / max(1, steps - warm))

    return torch.optim.lr_scheduler.LambdaLR(opt, schedule)


def train_profiles(
    model: ModularEncoder,
    tokenizer,
    texts: Sequence[str],
    labels: Sequence[str | None],
    settings: TrainSettings,
    profiles: Sequence[str] = (),
    teacher: ModularEncoder | None = None,
    train_full: bool = True,
    progress: ProgressFn | None = None,
    validation: Validation | None = None,
) -> TrainLog:
    """The one training loop (see the module docstring).

    ``profiles``: student profiles of ``model`` to train with the sandwich schedule.
    ``teacher``: a frozen model whose full path gives soft labels; default: ``model``'s
    own full path (detached). ``train_full``: train ``model``'s full path with CE.
    ``validation``: held-out rows checked every ``settings.validation_interval`` steps (the
    score: mean accuracy of the paths being trained); training stops after
    ``settings.patience`` checks without improvement, and the model ends with the weights of
    the best check (ties: the earlier).
    """
    if len(texts) != len(labels):
        raise ValueError(f"texts ({len(texts)}) and labels ({len(labels)}) differ in length")
    if not texts:
        raise ValueError("no rows to train on")
    unknown = [p for p in profiles if p not in model.profiles]
    if unknown:
        raise ValueError(f"profiles {unknown} are not declared on the model (has {sorted(model.profiles)})")
    if train_full and TEACHER_PROFILE not in model.profiles:
        raise ValueError("train_full needs the model's teacher profile")
    if teacher is None and profiles and TEACHER_PROFILE not in model.profiles:
        raise ValueError("in-place distillation needs the model's full path (teacher profile) or a teacher")
    torch.manual_seed(settings.seed)
    rng = random.Random(settings.seed)
    y_all = label_indices(model, labels)
    encoded = encode_texts(tokenizer, texts, settings.max_length)
    lengths = [len(row) for row in encoded]
    pad_id = tokenizer.pad_token_id or 0
    for p in model.embeddings.parameters():
        p.requires_grad_(not settings.freeze_embeddings)
    ordered = sorted(profiles, key=lambda p: (len(model.profiles[p]), p))
    smallest, others = (ordered[0], ordered[1:]) if ordered else (None, [])
    total = settings.total_steps(len(texts))
    opt, sched = _optimizer(model, settings, total)
    if teacher is not None:
        teacher.eval()
    checker = None
    if validation is not None:
        scored = ([TEACHER_PROFILE] if train_full else []) + list(ordered)
        checker = _ValidationCheck(model, tokenizer, validation, scored, settings,
                                   every=settings.validation_interval(len(texts)))
    model.train()
    log = TrainLog(planned_steps=total)
    started = time.perf_counter()
    step = 0
    while step < total and not log.stopped_early:
        losses = []
        for idx in shuffled_batches(lengths, settings.batch_size, rng, settings.group_by_length):
            if step >= total:
                break
            ids, mask = pad_batch([encoded[i] for i in idx], pad_id)
            y = y_all[idx]
            loss = torch.zeros(())
            chosen = [smallest] if smallest else []
            if others:
                chosen.append(rng.choice(others))
            # one pass per shared prefix of blocks: a prefix student costs its head, not its blocks again
            logits_of = model.forward_heads(ids, mask, ([TEACHER_PROFILE] if train_full else []) + chosen)
            full = logits_of.get(TEACHER_PROFILE)
            if full is not None and (y != UNLABELLED).any():
                loss = loss + student_loss(full, y, None, 0.0, settings.temperature)
            soft = weight = None
            if ordered:  # soft labels for the students: a frozen teacher, else our own full path
                if teacher is not None:
                    with torch.no_grad():
                        teacher_logits = teacher(ids, mask, head=TEACHER_PROFILE)
                elif full is not None:
                    teacher_logits = full.detach()
                else:
                    with torch.no_grad():
                        teacher_logits = model(ids, mask, head=TEACHER_PROFILE)
                soft = F.softmax(teacher_logits / settings.temperature, -1)
                if settings.confidence_weighted:
                    weight = confidence_weights(teacher_logits, settings.min_confidence)
            for prof in chosen:
                loss = loss + student_loss(logits_of[prof], y, soft, settings.alpha, settings.temperature, weight)
                log.profile_counts[prof] = log.profile_counts.get(prof, 0) + 1
            if loss.requires_grad:
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
                opt.step()
            sched.step()
            step += 1
            value = float(loss.detach())
            losses.append(value)
            if progress:
                progress(step, total, value)
            if checker is not None and (step % checker.every == 0 or step == total):
                checker.check(step, log)
                model.train()
                if hasattr(progress, "validated"):
                    progress.validated(step, total, log.validation[-1][1], log.best_score)
                if step - (log.best_step or 0) >= checker.every * settings.patience > 0 and step < total:
                    log.stopped_early = True
                    break
        log.epoch_loss.append(float(np.mean(losses)) if losses else float("nan"))
    log.steps = step
    if checker is not None:
        checker.restore_best()
    log.seconds = time.perf_counter() - started
    model.eval()
    return log


class _ValidationCheck:
    """Scores ``profiles`` of ``model`` on held-out rows and keeps a copy of the best weights."""

    def __init__(self, model: ModularEncoder, tokenizer, validation: Validation, profiles: Sequence[str],
                 settings: TrainSettings, every: int) -> None:
        texts, labels = validation
        if not texts or len(texts) != len(labels):
            raise ValueError(f"validation: {len(texts)} texts and {len(labels)} labels (need the same, non-zero number)")
        self.model, self.profiles, self.max_length = model, list(profiles), settings.max_length
        self.y = label_indices(model, labels)
        if (self.y == UNLABELLED).any():
            raise ValueError("validation: every row needs a label")
        self.encoded = encode_texts(tokenizer, texts, settings.max_length)
        self.pad_id = tokenizer.pad_token_id or 0
        self.every = every
        self.best_state: dict[str, torch.Tensor] | None = None

    @torch.no_grad()
    def score(self) -> float:
        self.model.eval()
        correct = {p: 0 for p in self.profiles}
        for start in range(0, len(self.encoded), 128):
            ids, mask = pad_batch(self.encoded[start : start + 128], self.pad_id)
            y = self.y[start : start + 128]
            for p, logits in self.model.forward_heads(ids, mask, self.profiles).items():
                correct[p] += int((logits.argmax(-1) == y).sum())
        return float(np.mean([c / len(self.encoded) for c in correct.values()]))

    def check(self, step: int, log: TrainLog) -> None:
        value = self.score()
        log.validation.append((step, value))
        if log.best_score is None or value > log.best_score:
            log.best_step = step
            self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def restore_best(self) -> None:
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)


def fine_tune_teacher(model, tokenizer, texts, labels, settings: TrainSettings, progress=None,
                      validation: Validation | None = None) -> TrainLog:
    """Fine-tune the full path (encoder + teacher head) with cross-entropy."""
    return train_profiles(model, tokenizer, texts, labels, settings, profiles=(), train_full=True, progress=progress,
                          validation=validation)


def train_shared(
    model, tokenizer, texts, labels, settings: TrainSettings, profiles: Sequence[str] | None = None,
    teacher: ModularEncoder | None = None, progress=None, validation: Validation | None = None,
) -> TrainLog:
    """Sandwich-schedule training of all (or the given) student profiles on shared weights."""
    profiles = [p for p in (profiles if profiles is not None else model.profiles) if p != TEACHER_PROFILE]
    if not profiles:
        raise ValueError("train_shared: declare at least one student profile (model.add_profile)")
    return train_profiles(model, tokenizer, texts, labels, settings, profiles, teacher=teacher, train_full=True,
                          progress=progress, validation=validation)


def distill_separate_student(
    teacher: ModularEncoder, blocks: Sequence[int], name: str, tokenizer, texts, labels,
    settings: TrainSettings, progress=None, validation: Validation | None = None,
) -> tuple[ModularEncoder, TrainLog]:
    """A standalone student (own copy of embeddings, ``blocks`` and head, initialised from
    the teacher) distilled from the frozen teacher's full path. Shares no module hash."""
    student = ModularEncoder(teacher.spec, teacher.labels, block_ids=blocks, profiles={name: list(blocks)}, base_model=teacher.base_model)
    student.embeddings.load_state_dict(teacher.embeddings.state_dict())
    for b in blocks:
        student.blocks[str(b)].load_state_dict(teacher.blocks[str(b)].state_dict())
    student.heads[name].load_state_dict(teacher.heads[TEACHER_PROFILE].state_dict())
    log = train_profiles(student, tokenizer, texts, labels, settings, [name], teacher=teacher, train_full=False,
                         progress=progress, validation=validation)
    return student, log


# ---------------------------------------------------------------------- evaluation
@torch.no_grad()
def predict_proba(
    model: ModularEncoder, tokenizer, texts: Sequence[str], profile: str | None = None,
    batch_size: int = 64, max_length: int = 64,
) -> torch.Tensor:
    """Softmax probabilities, rows in input order."""
    model.eval()
    profile = profile or model.default_profile()
    encoded = encode_texts(tokenizer, texts, max_length)
    pad_id = tokenizer.pad_token_id or 0
    out = []
    for start in range(0, len(texts), batch_size):
        ids, mask = pad_batch(encoded[start : start + batch_size], pad_id)
        out.append(F.softmax(model(ids, mask, head=profile), -1))
    return torch.cat(out) if out else torch.zeros((0, len(model.labels)))


def classification_metrics(y_true: Sequence[int], y_pred: Sequence[int]) -> dict[str, float]:
    """accuracy and macro-F1 (over labels present in y_true or y_pred)."""
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if len(t) == 0:
        raise ValueError("no rows to evaluate")
    f1s = []
    for c in np.union1d(t, p):
        tp = np.sum((t == c) & (p == c))
        fp = np.sum((t != c) & (p == c))
        fn = np.sum((t == c) & (p != c))
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return {"accuracy": float(np.mean(t == p)), "macro_f1": float(np.mean(f1s)), "n": float(len(t))}


def evaluate(model, tokenizer, texts, labels, profile: str | None = None, max_length: int = 64) -> dict[str, float]:
    y = label_indices(model, labels)
    if (y == UNLABELLED).any():
        raise ValueError("evaluate: every row needs a label")
    pred = predict_proba(model, tokenizer, texts, profile, max_length=max_length).argmax(-1)
    return classification_metrics(y.tolist(), pred.tolist())
