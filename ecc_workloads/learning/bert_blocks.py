"""BERT's embeddings and encoder layer in plain torch, with transformers' parameter names.

A node needs only these two modules to serve, but importing them from transformers loads its
whole modelling stack (generation, torch._dynamo, hub kernels): about 3 s of an edge agent's
start-up on 2 cores, more than the rest of it together (benchmarks/edge_footprint.py). These
are the same modules for an encoder (no cross-attention, no cache): the same state-dict keys,
so checkpoints and bundles load unchanged, and the same maths — post-LayerNorm residual blocks,
exact GELU, scaled dot-product attention over a padding mask. tests/unit/test_bert_blocks.py
checks them against transformers' own on the real all-MiniLM-L6-v2 weights.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Mapping

import torch
from torch import nn
from torch.nn import functional as F

ACTIVATIONS = {"gelu": lambda x: F.gelu(x), "relu": F.relu,
               "gelu_new": lambda x: F.gelu(x, approximate="tanh"), "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh")}


@dataclass(frozen=True)
class BertShape:
    """The configuration keys an encoder needs; defaults are BertConfig's."""

    vocab_size: int = 30522
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    pad_token_id: int = 0
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> "BertShape":
        shape = cls(**{f.name: spec[f.name] for f in fields(cls) if spec.get(f.name) is not None})
        if shape.hidden_size % shape.num_attention_heads:
            raise ValueError(f"hidden_size {shape.hidden_size} is not a multiple of num_attention_heads "
                             f"{shape.num_attention_heads}")
        if shape.hidden_act not in ACTIVATIONS:
            raise ValueError(f"hidden_act {shape.hidden_act!r}: supported are {sorted(ACTIVATIONS)}")
        return shape


def padding_mask(attention_mask: torch.Tensor) -> torch.Tensor | None:
    """A (batch, seq) 0/1 mask as scaled_dot_product_attention's boolean key mask (True: attend),
    or None when nothing is padded (the same result, faster)."""
    if bool(attention_mask.all()):
        return None
    return attention_mask.bool()[:, None, None, :]


class BertEmbeddings(nn.Module):
    def __init__(self, config: BertShape):
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        seq = input_ids.shape[1]
        positions = torch.arange(seq, device=input_ids.device)
        hidden = (self.word_embeddings(input_ids) + self.token_type_embeddings.weight[0]
                  + self.position_embeddings(positions)[None])
        return self.dropout(self.LayerNorm(hidden))


class BertSelfAttention(nn.Module):
    def __init__(self, config: BertShape):
        super().__init__()
        self.heads = config.num_attention_heads
        self.query = nn.Linear(config.hidden_size, config.hidden_size)
        self.key = nn.Linear(config.hidden_size, config.hidden_size)
        self.value = nn.Linear(config.hidden_size, config.hidden_size)
        self.dropout = nn.Dropout(config.attention_probs_dropout_prob)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        batch, seq, width = hidden.shape

        def heads(x: torch.Tensor) -> torch.Tensor:
            return x.view(batch, seq, self.heads, width // self.heads).transpose(1, 2)

        out = F.scaled_dot_product_attention(heads(self.query(hidden)), heads(self.key(hidden)),
                                             heads(self.value(hidden)), attn_mask=mask,
                                             dropout_p=self.dropout.p if self.training else 0.0)
        return out.transpose(1, 2).reshape(batch, seq, width)


class BertResidualOutput(nn.Module):
    """dense → dropout → LayerNorm(· + residual): BertSelfOutput and BertOutput."""

    def __init__(self, config: BertShape, in_features: int):
        super().__init__()
        self.dense = nn.Linear(in_features, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(self.dense(hidden)) + residual)


class BertAttention(nn.Module):
    def __init__(self, config: BertShape):
        super().__init__()
        self.self = BertSelfAttention(config)
        self.output = BertResidualOutput(config, config.hidden_size)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        return self.output(self.self(hidden, mask), hidden)


class BertIntermediate(nn.Module):
    def __init__(self, config: BertShape):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)
        self.act = ACTIVATIONS[config.hidden_act]

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.act(self.dense(hidden))


class BertLayer(nn.Module):
    """One encoder block: self-attention, then the feed-forward network, each with a residual."""

    def __init__(self, config: BertShape):
        super().__init__()
        self.attention = BertAttention(config)
        self.intermediate = BertIntermediate(config)
        self.output = BertResidualOutput(config, config.intermediate_size)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        attended = self.attention(hidden, mask)
        return self.output(self.intermediate(attended), attended)
