"""Intent prediction over a verified sub-model: intent, confidence, scores and a suggested reply.

:class:`IntentPredictor` holds a sub-model (one profile), its tokenizer and, optionally, a
reply index; it knows nothing of HTTP. The teacher's server (:mod:`ecc_workloads.serving.teacher`,
kserve) and the edge agent (FastAPI) both serve through it, and the edge agent's image has no
kserve: keep this module free of it.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError
from torch.nn import functional as F

from ecc_workloads.learning import modular
from ecc_workloads.data.corpus import CorpusError, iter_jsonl


class ServingError(Exception):
    """The server cannot start: the message names the URI, file, line or field."""


# ---------------------------------------------------------------------- reply corpus
class ResponseRow(BaseModel):
    """One example exchange of the reply corpus."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    instruction: str = Field(min_length=1, validation_alias=AliasChoices("instruction", "text"))
    intent: str = Field(min_length=1, validation_alias=AliasChoices("intent", "label"))
    response: str = Field(min_length=1)


def parse_responses(data: str, where: str) -> list[ResponseRow]:
    """JSONL → rows. Rows without a response (the prepared corpus may hold some) are skipped;
    a malformed line is an error naming its line number."""
    rows: list[ResponseRow] = []
    try:
        objects = list(iter_jsonl(data, where))
    except CorpusError as err:
        raise ServingError(str(err)) from err
    for lineno, raw in objects:
        if not raw.get("response"):
            continue
        try:
            rows.append(ResponseRow.model_validate(raw))
        except ValidationError as err:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) or "row" for e in err.errors())
            raise ServingError(
                f"{where} line {lineno}: bad or missing {fields} (expected instruction|text, intent|label, response)"
            ) from err
    return rows


def select_rows(rows: Sequence[ResponseRow], labels: Sequence[str], per_intent: int, seed: int = 0) -> list[ResponseRow]:
    """Rows of known intents, exact duplicates dropped, at most ``per_intent`` per intent
    (a seeded sample, so a restart serves the same replies)."""
    known = set(labels)
    by_intent: dict[str, list[ResponseRow]] = {}
    seen: set[tuple[str, str, str]] = set()
    for row in rows:
        key = (row.instruction, row.intent, row.response)
        if row.intent in known and key not in seen:
            seen.add(key)
            by_intent.setdefault(row.intent, []).append(row)
    rng = random.Random(seed)
    out: list[ResponseRow] = []
    for intent in labels:
        group = by_intent.get(intent, [])
        if len(group) > per_intent:
            group = rng.sample(group, per_intent)
        out.extend(group)
    return out


@dataclass
class ReplyIndex:
    """Per intent: unit embeddings of its example instructions and their responses."""

    embeddings: dict[str, torch.Tensor]
    responses: dict[str, list[str]]

    def pick(self, intent: str, query: torch.Tensor) -> tuple[str | None, float | None]:
        """The response whose instruction is most similar to ``query`` (a unit vector)."""
        table = self.embeddings.get(intent)
        if table is None:
            return None, None
        sims = table @ query
        best = int(torch.argmax(sims))
        return self.responses[intent][best], float(sims[best])

    @property
    def intents(self) -> list[str]:
        return sorted(self.embeddings)

    def size(self) -> int:
        return sum(len(v) for v in self.responses.values())


# ---------------------------------------------------------------------- prediction
class Prediction(BaseModel):
    intent: str
    confidence: float
    scores: dict[str, float]
    suggested_reply: str | None = None
    reply_similarity: float | None = None


class IntentPredictor:
    """A sub-model (one profile) + tokenizer + reply index; no HTTP in here."""

    def __init__(self, model: modular.ModularEncoder, tokenizer, profile: str, max_length: int = 64):
        if profile not in model.profiles:
            raise ServingError(f"profile {profile!r} is not held by the model (holds {sorted(model.profiles)})")
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.profile = profile
        self.blocks = list(model.profiles[profile])
        self.max_length = max_length
        self.replies: ReplyIndex | None = None

    @property
    def labels(self) -> list[str]:
        return self.model.labels

    @torch.no_grad()
    def forward(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """(probabilities [n, L], unit sentence embeddings [n, d]) in one pass."""
        ids, mask = modular.tokenize(self.tokenizer, texts, self.max_length)
        pooled = self.model.encode(ids, mask, self.blocks)
        probs = F.softmax(self.model.heads[self.profile](pooled), dim=-1)
        return probs, F.normalize(pooled, p=2, dim=-1)

    @torch.no_grad()
    def embed(self, texts: Sequence[str], batch_size: int = 64) -> torch.Tensor:
        """Unit embeddings in input order; batches of similar length waste little padding."""
        out = torch.zeros((len(texts), self.model.hidden_size))
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            out[idx] = self.forward([texts[i] for i in idx])[1]
        return out

    def index_replies(self, rows: Sequence[ResponseRow]) -> ReplyIndex:
        groups: dict[str, list[ResponseRow]] = {}
        for row in rows:
            groups.setdefault(row.intent, []).append(row)
        index = ReplyIndex(embeddings={}, responses={})
        for intent, group in groups.items():
            index.embeddings[intent] = self.embed([r.instruction for r in group])
            index.responses[intent] = [r.response for r in group]
        self.replies = index
        return index

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        probs, unit = self.forward(texts)
        out = []
        for i in range(len(texts)):
            row = probs[i]
            best = int(torch.argmax(row))
            intent = self.labels[best]
            reply, sim = self.replies.pick(intent, unit[i]) if self.replies else (None, None)
            out.append(Prediction(
                intent=intent,
                confidence=float(row[best]),
                scores={label: float(p) for label, p in zip(self.labels, row.tolist())},
                suggested_reply=reply,
                reply_similarity=sim,
            ))
        return out
