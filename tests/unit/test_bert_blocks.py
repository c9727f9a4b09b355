"""bert_blocks against transformers' own BERT modules: the real all-MiniLM-L6-v2 weights load
into them unchanged and give the same outputs and gradients (that a serving agent imports none
of transformers: tests/unit/test_edge_tokenizer.py)."""

from __future__ import annotations

import dataclasses

import torch
from transformers import BertConfig, BertModel

from ecc_workloads.learning import bert_blocks, modular

TEXTS = ["how can I cancel my order?", "where is my parcel", "i want my money back please, it never arrived at all"]


def test_the_real_minilm_gives_the_same_hidden_states_and_gradients():
    torch.manual_seed(0)
    ours = modular.load_minilm(["a", "b"])  # loads transformers' state dicts strictly into bert_blocks
    ref = BertModel(BertConfig(**dataclasses.asdict(ours.config), attn_implementation="sdpa"),
                    add_pooling_layer=False)
    ref.embeddings.load_state_dict(ours.embeddings.state_dict())
    for i in range(ours.config.num_hidden_layers):
        ref.encoder.layer[i].load_state_dict(ours.blocks[str(i)].state_dict())
    ids, mask = modular.tokenize(modular.load_tokenizer(), TEXTS)
    assert (mask == 0).any()
    ours.eval(), ref.eval()
    got = ours.encode(ids, mask)
    want = modular.mean_pool(ref(input_ids=ids, attention_mask=mask).last_hidden_state, mask)
    torch.testing.assert_close(got, want, atol=2e-5, rtol=1e-4)
    got.square().sum().backward()
    want.square().sum().backward()
    torch.testing.assert_close(ours.blocks["2"].attention.self.query.weight.grad,
                               ref.encoder.layer[2].attention.self.query.weight.grad, atol=1e-4, rtol=1e-3)
    torch.testing.assert_close(ours.embeddings.word_embeddings.weight.grad,
                               ref.embeddings.word_embeddings.weight.grad, atol=1e-4, rtol=1e-3)


def test_a_shape_that_cannot_be_built_is_named():
    import pytest

    with pytest.raises(ValueError, match="not a multiple of num_attention_heads"):
        bert_blocks.BertShape.from_spec({"hidden_size": 30, "num_attention_heads": 4})
    with pytest.raises(ValueError, match="hidden_act 'swish'"):
        bert_blocks.BertShape.from_spec({"hidden_act": "swish"})
