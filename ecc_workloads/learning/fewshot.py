"""Few labels: contrastive sentence-pair fine-tuning of the encoder, then its head (SetFit), then self-training.

With a handful of labelled rows per intent, cross-entropy fine-tuning of a whole encoder
overfits and moves the sentence space little. SetFit (Tunstall et al., 2022) fine-tunes the
encoder's sentence embeddings instead on *pairs* of the labelled rows — same intent: cosine
1, different intents: cosine 0 — which multiplies the training signal (R positive and R
negative pairs per row), then fits a classification head on the tuned embeddings. Here:

1. :func:`contrastive_pairs` draws the pairs (seeded; positives only from intents with ≥ 2
   rows); :func:`contrastive_fine_tune` trains the embedding path of ``model``'s full path
   with the mean squared error between the pair's cosine similarity and its target
   (sentence-transformers' ``CosineSimilarityLoss``, on our modular encoder);
2. :func:`fit_head` trains the full path's head on the tuned, fixed embeddings;
3. :func:`self_train` (when unlabelled rows exist): the tuned teacher labels them, keeps the
   rows it is surest of — at least ``min_confidence``, at most ``per_intent`` per intent in the
   first round (``r × per_intent`` in round r), most confident first, so that no intent floods
   the set — and is fine-tuned with cross-entropy on the labelled rows plus those (pseudo-labels,
   Lee 2013; the per-class cap follows the class-balanced selection of UST, Mukherjee & Awadallah
   2020). :func:`pseudo_labels` is the pure choice of rows.

The distillation that follows (the students learning over unlabelled rows from this teacher,
weighted by its confidence) is :mod:`ecc_workloads.learning.distill`'s, with
``TrainSettings.confidence_weighted`` (and ``min_confidence``).

Defaults are the SetFit paper's (20 pair iterations, 1 epoch, lr 2e-5, batch 16 pairs), not
tuned here.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch.nn import functional as F

from ecc_workloads.learning.distill import (ProgressFn, TrainLog, TrainSettings, Validation, encode_texts, fine_tune_teacher,
                                   label_indices, pad_batch, predict_proba, shuffled_batches,
                                   warmup_then_linear_decay)
from ecc_workloads.learning.modular import TEACHER_PROFILE, ModularEncoder

FEW_LABELS_PER_INTENT = 16
"""A corpus whose median labelled rows per intent is at most this is trained in few-label mode."""


class ContrastiveSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    iterations: int = Field(20, ge=1, description="positive and negative pairs drawn per labelled row")
    epochs: float = Field(1.0, gt=0)
    batch_size: int = Field(16, ge=1, description="pairs per optimiser step")
    lr: float = Field(2e-5, gt=0)
    warmup_fraction: float = Field(0.1, ge=0, lt=1)
    head_steps: int = Field(300, ge=1, description="full-batch steps of the head on the tuned embeddings")
    head_lr: float = Field(1e-2, gt=0)
    head_weight_decay: float = Field(1e-3, ge=0)
    max_length: int = Field(64, ge=8)
    freeze_embeddings: bool = True
    seed: int = 0


class SelfTrainingSettings(BaseModel):
    """Rounds of pseudo-labelling after the pair-tuned teacher (chosen on Bitext's validation split
    at k = 5 and 8: docs/benchmarks.md, "Few labels on Bitext"; the Job's count is
    ``TrainingSpec.self_training_rounds``)."""

    model_config = ConfigDict(extra="forbid")

    rounds: int = Field(3, ge=0, le=5, description="rounds of pseudo-labelling; 0: none")
    min_confidence: float = Field(0.5, ge=0, le=1, description="a row is kept when the teacher gives its intent at "
                                  "least this probability")
    per_intent: int = Field(40, ge=1, description="rows kept per intent in round 1 (r x this in round r), most "
                            "confident first")


def is_few_label(labels: Sequence[str | None], threshold: int = FEW_LABELS_PER_INTENT) -> bool:
    """True when the median count of labelled rows per intent is at most ``threshold``."""
    counts = sorted(n for n in _counts(labels).values())
    return bool(counts) and counts[len(counts) // 2] <= threshold


def _counts(labels: Sequence[str | None]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for label in labels:
        if label:
            out[label] += 1
    return dict(out)


def contrastive_pairs(labels: Sequence[str], iterations: int, rng: random.Random) -> list[tuple[int, int, float]]:
    """(row a, row b, target cosine) pairs: per row and iteration one pair with a row of the same
    intent (target 1; skipped when the intent has one row) and one with another intent's row (0)."""
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        by_label[label].append(i)
    if len(by_label) < 2:
        raise ValueError(f"contrastive pairs need at least 2 intents with labelled rows (got {len(by_label)})")
    pairs: list[tuple[int, int, float]] = []
    everyone = list(range(len(labels)))
    for _ in range(iterations):
        for i, label in enumerate(labels):
            same = by_label[label]
            if len(same) > 1:
                j = i
                while j == i:
                    j = rng.choice(same)
                pairs.append((i, j, 1.0))
            j = rng.choice(everyone)
            while labels[j] == label:
                j = rng.choice(everyone)
            pairs.append((i, j, 0.0))
    rng.shuffle(pairs)
    return pairs


def contrastive_fine_tune(model: ModularEncoder, tokenizer, texts: Sequence[str], labels: Sequence[str],
                          settings: ContrastiveSettings, progress: ProgressFn | None = None) -> dict:
    """Tune the full path's sentence embeddings on pairs of the labelled rows (see the module)."""
    if len(texts) != len(labels) or not texts:
        raise ValueError(f"contrastive fine-tuning: {len(texts)} texts and {len(labels)} labels")
    label_indices(model, labels)  # every label must be the model's
    rng = random.Random(settings.seed)
    torch.manual_seed(settings.seed)
    pairs = contrastive_pairs(list(labels), settings.iterations, rng)
    encoded = encode_texts(tokenizer, texts, settings.max_length)
    blocks = model.profiles[TEACHER_PROFILE]
    for p in model.embeddings.parameters():
        p.requires_grad_(not settings.freeze_embeddings)
    params = [p for n, p in model.named_parameters() if not n.startswith("heads.") and p.requires_grad]
    opt = torch.optim.AdamW(params, lr=settings.lr)
    per_epoch = -(-len(pairs) // settings.batch_size)
    total = max(1, int(round(per_epoch * settings.epochs)))
    sched = warmup_then_linear_decay(opt, total, settings.warmup_fraction)
    lengths = [len(encoded[a]) + len(encoded[b]) for a, b, _ in pairs]
    model.train()
    started, step, losses = time.perf_counter(), 0, []
    while step < total:
        for batch in shuffled_batches(lengths, settings.batch_size, rng):
            if step >= total:
                break
            rows = [pairs[i] for i in batch]
            ids, mask = pad_batch([encoded[a] for a, _, _ in rows] + [encoded[b] for _, b, _ in rows],
                                  tokenizer.pad_token_id or 0)
            emb = model.encode(ids, mask, blocks, normalize=True)
            u, v = emb[: len(rows)], emb[len(rows):]
            target = torch.tensor([t for _, _, t in rows])
            loss = F.mse_loss((u * v).sum(-1), target)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            step += 1
            losses.append(float(loss.detach()))
            if progress:
                progress(step, total, losses[-1])
    model.eval()
    return {"pairs": len(pairs), "steps": step, "seconds": round(time.perf_counter() - started, 1),
            "loss_first": losses[0], "loss_last": sum(losses[-20:]) / len(losses[-20:])}


@torch.no_grad()
def sentence_embeddings(model: ModularEncoder, tokenizer, texts: Sequence[str], max_length: int = 64,
                        batch_size: int = 128) -> torch.Tensor:
    """Pooled (not normalised) embeddings of the full path, as its head sees them."""
    model.eval()
    encoded = encode_texts(tokenizer, texts, max_length)
    pad_id = tokenizer.pad_token_id or 0
    out = [model.encode(*pad_batch(encoded[s : s + batch_size], pad_id), model.profiles[TEACHER_PROFILE])
           for s in range(0, len(encoded), batch_size)]
    return torch.cat(out)


def fit_head(model: ModularEncoder, tokenizer, texts: Sequence[str], labels: Sequence[str],
             settings: ContrastiveSettings) -> dict:
    """Train the full path's head (full batch, AdamW) on the fixed embeddings of the labelled rows."""
    y = label_indices(model, labels)
    x = sentence_embeddings(model, tokenizer, texts, settings.max_length)
    head = model.heads[TEACHER_PROFILE]
    torch.manual_seed(settings.seed)
    opt = torch.optim.AdamW(head.parameters(), lr=settings.head_lr, weight_decay=settings.head_weight_decay)
    with torch.enable_grad():
        for _ in range(settings.head_steps):
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(head(x), y)
            loss.backward()
            opt.step()
    train_acc = float((head(x).argmax(-1) == y).float().mean())
    return {"head_loss": float(loss.detach()), "head_train_accuracy": train_acc}


def few_label_teacher(model: ModularEncoder, tokenizer, texts: Sequence[str], labels: Sequence[str],
                      settings: ContrastiveSettings | None = None, progress: ProgressFn | None = None) -> dict:
    """SetFit on ``model``'s full path: contrastive fine-tuning, then the head."""
    settings = settings or ContrastiveSettings()
    report = contrastive_fine_tune(model, tokenizer, texts, labels, settings, progress)
    report.update(fit_head(model, tokenizer, texts, labels, settings))
    return report


def pseudo_labels(confidence: Sequence[float], predicted: Sequence[str], min_confidence: float,
                  per_intent: int) -> list[int]:
    """Indices of the rows to keep as pseudo-labelled, most confident first: confidence at least
    ``min_confidence`` and at most ``per_intent`` rows per predicted intent (ties: lower index first)."""
    if len(confidence) != len(predicted):
        raise ValueError(f"pseudo-labels: {len(confidence)} confidences and {len(predicted)} predictions")
    taken: dict[str, int] = defaultdict(int)
    kept = []
    for i in sorted(range(len(confidence)), key=lambda i: (-confidence[i], i)):
        if confidence[i] < min_confidence:
            break
        if taken[predicted[i]] < per_intent:
            taken[predicted[i]] += 1
            kept.append(i)
    return kept


def pseudo_labelled(model: ModularEncoder, tokenizer, unlabelled: Sequence[str], settings: SelfTrainingSettings,
                    round_: int, max_length: int = 64) -> tuple[list[str], list[str]]:
    """(texts, intents) of round ``round_``'s pseudo-labelled rows: the full path's predictions
    on ``unlabelled``, chosen by :func:`pseudo_labels` with at most ``round_ × per_intent`` per intent."""
    if not unlabelled:
        return [], []
    proba = predict_proba(model, tokenizer, unlabelled, TEACHER_PROFILE, max_length=max_length)
    confidence, index = proba.max(-1)
    predicted = [model.labels[i] for i in index.tolist()]
    kept = pseudo_labels(confidence.tolist(), predicted, settings.min_confidence, round_ * settings.per_intent)
    return [unlabelled[i] for i in kept], [predicted[i] for i in kept]


@dataclass
class SelfTrainingRound:
    round: int
    pseudo_labelled: int
    log: TrainLog


def self_train(model: ModularEncoder, tokenizer, texts: Sequence[str], labels: Sequence[str],
               unlabelled: Sequence[str], settings: SelfTrainingSettings, training: TrainSettings,
               validation: Validation | None = None,
               progress_for: Callable[[int, int], ProgressFn] | None = None) -> list[SelfTrainingRound]:
    """Every round of pseudo-labelling (see the module); stops early when no row is confident
    enough. ``progress_for(round, rows)``: the progress callback of a round's fine-tuning."""
    rounds = []
    for r in range(1, settings.rounds + 1):
        px, py = pseudo_labelled(model, tokenizer, unlabelled, settings, r, training.max_length)
        if not px:
            break
        rows = len(texts) + len(px)
        log = fine_tune_teacher(model, tokenizer, [*texts, *px], [*labels, *py], training,
                                progress_for(r, rows) if progress_for else None, validation)
        rounds.append(SelfTrainingRound(r, len(px), log))
    return rounds
