"""The tokenizer a node serves with: the model's tokenizer.json through the `tokenizers` library.

transformers' fast tokenizer is this same Rust tokenizer behind a large Python layer; importing
that layer costs an edge agent about 1 s of its start-up (benchmarks/edge_footprint.py). A node
calls a tokenizer in exactly two ways — a padded batch of tensors to predict
(`modular.tokenize`), and unpadded id lists to adapt (`distill.encode_texts`) — and reads its
`pad_token_id`; `EdgeTokenizer` does those, with the same ids (tests/unit/test_edge_tokenizer.py
compares every row of the packaged corpus with transformers' output). The cloud keeps
transformers' tokenizer (`modular.load_tokenizer`).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Sequence

TOKENIZER_JSON = "tokenizer.json"


class EdgeTokenizer:
    """`tokenizer(texts, padding=, truncation=, max_length=, return_tensors=)` as transformers'
    fast tokenizers answer it, for single sentences."""

    def __init__(self, directory: str | Path):
        from tokenizers import Tokenizer

        directory = Path(directory)
        self._tokenizer = Tokenizer.from_file(str(directory / TOKENIZER_JSON))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        config_file = directory / "tokenizer_config.json"
        config = json.loads(config_file.read_text()) if config_file.is_file() else {}
        self.pad_token = str(config.get("pad_token") or "[PAD]")
        pad_id = self._tokenizer.token_to_id(self.pad_token)
        if pad_id is None:
            raise ValueError(f"{directory / TOKENIZER_JSON}: no pad token {self.pad_token!r} in its vocabulary")
        self.pad_token_id = pad_id

    def __deepcopy__(self, memo) -> "EdgeTokenizer":
        clone = copy.copy(self)
        clone._tokenizer = copy.deepcopy(self._tokenizer, memo)  # one per thread (its settings are state)
        return clone

    def __call__(self, texts: Sequence[str], padding: bool = False, truncation: bool = False,
                 max_length: int | None = None, return_tensors: str | None = None) -> dict:
        if return_tensors not in (None, "pt"):
            raise ValueError(f"return_tensors={return_tensors!r}: only 'pt' or None")
        tok = self._tokenizer
        if truncation and max_length:
            tok.enable_truncation(max_length)
        else:
            tok.no_truncation()
        if padding:
            tok.enable_padding(pad_id=self.pad_token_id, pad_token=self.pad_token)
        else:
            tok.no_padding()
        encodings = tok.encode_batch(list(texts))
        out = {"input_ids": [e.ids for e in encodings], "attention_mask": [e.attention_mask for e in encodings]}
        if return_tensors == "pt":
            import torch

            out = {k: torch.tensor(v, dtype=torch.long) for k, v in out.items()}
        return out
