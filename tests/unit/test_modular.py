"""The modular encoder: paths over block subsets, module naming, sharing, pruning."""

import dataclasses

import pytest
import torch
from transformers import BertConfig, BertModel

from ecc_workloads.learning import modular
from ecc_workloads.learning.modular import TEACHER_PROFILE

torch.set_num_threads(1)
LABELS = ["cancel_order", "track_order", "get_refund"]
TEXTS = ["how can I cancel my order?", "where is my parcel", "i want my money back please now"]


@pytest.fixture(scope="module")
def tok():
    return modular.load_tokenizer()


@pytest.fixture()
def model():
    m = modular.tiny_encoder(LABELS, num_hidden_layers=4, seed=1)
    m.eval()
    return m


def test_full_path_matches_transformers_bertmodel(model, tok):
    ids, mask = modular.tokenize(tok, TEXTS)
    assert (mask == 0).any(), "the batch must contain padding to exercise the mask"
    config = BertConfig(**dataclasses.asdict(model.config), attn_implementation="sdpa")
    bert = BertModel(config, add_pooling_layer=False).eval()
    bert.embeddings.load_state_dict(model.embeddings.state_dict())
    for i in range(4):
        bert.encoder.layer[i].load_state_dict(model.blocks[str(i)].state_dict())
    with torch.no_grad():
        ref = modular.mean_pool(bert(input_ids=ids, attention_mask=mask).last_hidden_state, mask)
        ours = model.encode(ids, mask, blocks=[0, 1, 2, 3])
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=1e-4)


def test_padding_does_not_change_an_embedding(model, tok):
    ids, mask = modular.tokenize(tok, TEXTS)
    ids1, mask1 = modular.tokenize(tok, TEXTS[:1])
    with torch.no_grad():
        batched = model.encode(ids, mask, blocks=[0, 2])[0]
        single = model.encode(ids1, mask1, blocks=[0, 2])[0]
    torch.testing.assert_close(batched, single, atol=1e-5, rtol=1e-4)


def test_any_ordered_subset_of_blocks(model, tok):
    ids, mask = modular.tokenize(tok, TEXTS)
    with torch.no_grad():
        a = model.encode(ids, mask, blocks=[0, 1])
        b = model.encode(ids, mask, blocks=[1, 0])
        c = model.encode(ids, mask, blocks=[3])
    assert a.shape == b.shape == c.shape == (3, 32)
    assert not torch.allclose(a, b), "block order must matter"
    with pytest.raises(KeyError, match="block 7"):
        model.encode(ids, mask, blocks=[7])


def test_profiles_heads_and_module_names(model, tok):
    model.add_profile("s1", [0])
    model.add_profile("s024", [0, 2])
    assert model.module_names("s024") == ["embeddings", "block.0", "block.2", "pooling", "head.s024"]
    assert "head.teacher" in model.module_names()
    # a new head starts as a copy of the teacher's head
    torch.testing.assert_close(model.heads["s1"].weight, model.heads[TEACHER_PROFILE].weight)
    ids, mask = modular.tokenize(tok, TEXTS)
    with torch.no_grad():
        logits = model(ids, mask, head="s024")
        same = model(ids, mask, blocks=[0, 2], head="s024")
    assert logits.shape == (3, len(LABELS))
    torch.testing.assert_close(logits, same)
    with pytest.raises(ValueError, match="profile name"):
        model.add_profile("Bad Name", [0])
    with pytest.raises(ValueError, match="not held"):
        model.add_profile("s9", [9])
    with pytest.raises(ValueError, match="unknown module name"):
        model.module("block.x")


def test_submodel_copy_is_independent_and_share_is_not(model):
    model.add_profile("s1", [1])
    copy_ = model.submodel("s1")
    shared = model.submodel("s1", share=True)
    assert copy_.block_ids == [1] and copy_.module_names("s1") == ["embeddings", "block.1", "pooling", "head.s1"]
    with torch.no_grad():
        model.blocks["1"].output.dense.weight.add_(1.0)
    assert torch.equal(shared.blocks["1"].output.dense.weight, model.blocks["1"].output.dense.weight)
    assert not torch.equal(copy_.blocks["1"].output.dense.weight, model.blocks["1"].output.dense.weight)


def test_module_state_roundtrip(model):
    sds = model.module_state_dicts(["block.2", "head.teacher", "pooling"])
    assert set(sds["head.teacher"]) == {"weight", "bias"} and sds["pooling"] == {}
    other = modular.tiny_encoder(LABELS, num_hidden_layers=4, seed=2)
    assert not torch.equal(other.blocks["2"].attention.self.query.weight, model.blocks["2"].attention.self.query.weight)
    other.load_module_state("block.2", sds["block.2"])
    assert torch.equal(other.blocks["2"].attention.self.query.weight, model.blocks["2"].attention.self.query.weight)
    with pytest.raises(ValueError, match="block.1"):
        other.load_module_state("block.1", sds["head.teacher"])


def test_pruned_vocabulary_keeps_outputs_for_known_tokens(model, tok):
    ids, mask = modular.tokenize(tok, TEXTS)
    pruned = modular.prune_vocabulary(model, ids.flatten().tolist()).eval()
    assert pruned.embeddings.word_embeddings.weight.shape[0] < 100
    with torch.no_grad():
        torch.testing.assert_close(pruned(ids, mask), model(ids, mask))
        # an unseen word reads the kept row nearest to its own embedding (cosine), not failing
        ids2, mask2 = modular.tokenize(tok, ["zebra xylophone"])
        table = model.embeddings.word_embeddings.weight
        kept = pruned.embeddings.kept_token_ids
        cos = torch.nn.functional.normalize(table[ids2[0, 1:-1]], dim=-1) @ torch.nn.functional.normalize(table[kept], dim=-1).T
        nearest = ids2.clone()
        nearest[0, 1:-1] = kept[cos.argmax(-1)]
        assert not torch.equal(nearest, ids2)
        torch.testing.assert_close(pruned(ids2, mask2), model(nearest, mask2))
        # fallback="unk": to [UNK]'s row (the form of bundles written before 2026-12-06)
        old = modular.prune_vocabulary(model, ids.flatten().tolist(), fallback="unk").eval()
        assert old.embeddings.fallback_rows is None and "vocab_fallback" not in old.spec
        unk = torch.full_like(ids2, tok.unk_token_id)
        unk[:, 0], unk[:, -1] = ids2[:, 0], ids2[:, -1]
        torch.testing.assert_close(old(ids2, mask2), model(unk, mask2))
    assert pruned.spec["vocab_fallback"] == "nearest" and pruned.embeddings.fallback_rows.dtype == torch.int16
    with pytest.raises(ValueError, match="fallback 'zero'"):
        modular.prune_vocabulary(model, [1, 2], fallback="zero")


def test_forward_heads_computes_shared_prefixes_once_with_the_same_logits():
    import torch

    model = modular.tiny_encoder(["a", "b", "c"], num_hidden_layers=4, seed=0).eval()
    model.add_profile("s01", [0, 1])
    model.add_profile("s02", [0, 2])
    model.add_profile("s3", [3])
    ids = torch.tensor([[101, 2054, 2003, 102, 0], [101, 2129, 102, 0, 0]])
    mask = (ids != 0).long()
    calls = []
    for i, block in model.blocks.items():
        block.register_forward_hook(lambda module, args, out, i=i: calls.append(i))
    heads = ["teacher", "s01", "s02", "s3"]
    with torch.no_grad():
        together = model.forward_heads(ids, mask, heads)
        assert calls == ["0", "1", "2", "3", "2", "3"]  # teacher 0-3; s01 reuses 0,1; s02 adds 2; s3 its own
        for head in heads:
            assert torch.allclose(together[head], model(ids, mask, head=head), atol=1e-6)
    with pytest.raises(KeyError, match="heads \\['nope'\\]"):
        model.forward_heads(ids, mask, ["nope"])
