"""Smaller uploads of the head's change: only its largest rows (``UploadSettings.head_rows``) and
int8 values rounded to fewer levels (``bits``, ``head_bits``). Both are sender-side: the upload
is still int8/float32 tensors of the parameters' own shapes, so the cloud decodes it as before and
a forged one meets the same checks (``verify_upload``, ``check_upload_shapes``)."""

import json

import pytest
import torch
from safetensors.torch import save as st_save

from ecc_workloads.learning import adapt, bundles, deltas, modular
from ecc_workloads.learning.adapt import FeedbackItem, LoraSettings
from ecc_workloads.learning.deltas import UploadRejected, UploadSettings

from _learning_rows import bitext_rows

torch.set_num_threads(1)
INTENTS = ["cancel_order", "track_order", "get_refund", "recover_password", "payment_issue", "delivery_period"]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tok = modular.load_tokenizer()
    rows = [FeedbackItem(text=t, label=y, source="user") for t, y, _ in bitext_rows(INTENTS, 12, seed=5)]
    model = modular.tiny_encoder(INTENTS, num_hidden_layers=2, seed=4)
    model.add_profile("s0", [0])
    store = bundles.LocalDirStore(tmp_path_factory.mktemp("store"))
    manifests = bundles.write_bundles(model, ["teacher", "s0"], 2, store).manifests
    sub = bundles.load_submodel(manifests["s0"], bundles.store_fetcher(store))
    result = adapt.adapt_locally(sub, tok, rows, LoraSettings(rank=4, alpha=8, epochs=3, lr=5e-3, head_lr=2e-2))
    return sub, manifests["s0"], result


def _meta(blob: bytes) -> dict:
    raw = deltas.unpack_upload(blob)
    return json.loads(json.loads(raw[8: 8 + int.from_bytes(raw[:8], "little")])["__metadata__"]["ecc"])


def test_head_rows_sends_the_largest_rows_and_zero_for_the_others(setup):
    sub, manifest, result = setup
    shapes = deltas.parameter_shapes(sub)
    head = result.delta["head.s0"]
    norms = head["weight"].pow(2).sum(1) + head["bias"].pow(2)
    top = set(torch.topk(norms, 2).indices.tolist())
    blob = deltas.build_upload(result, manifest, "n", UploadSettings(head_rows=2))
    got = deltas.decode_upload(blob, shapes).delta["head.s0"]
    assert got["weight"].shape == head["weight"].shape and got["bias"].shape == head["bias"].shape
    for i in range(len(INTENTS)):
        if i in top:
            torch.testing.assert_close(got["weight"][i], head["weight"][i])
            torch.testing.assert_close(got["bias"][i], head["bias"][i])
        else:
            assert not got["weight"][i].any() and got["bias"][i] == 0
    whole = deltas.build_upload(result, manifest, "n", UploadSettings(head_rank=0))
    assert len(blob) < len(whole)
    # the LoRA changes are untouched; the manifest's norm is the norm of what was sent
    full, sent = deltas.decode_upload(whole, shapes), deltas.decode_upload(blob, shapes)
    q = "attention.self.query.weight"
    torch.testing.assert_close(sent.delta["block.0"][q], full.delta["block.0"][q])
    assert deltas.decode_upload(blob).manifest.update_norm < full.manifest.update_norm
    # as many rows as the head has: the whole change
    every = deltas.decode_upload(deltas.build_upload(result, manifest, "n", UploadSettings(head_rows=99)), shapes)
    torch.testing.assert_close(every.delta["head.s0"]["weight"], head["weight"])


def test_head_rows_zero_sends_no_head_change(setup):
    sub, manifest, result = setup
    blob = deltas.build_upload(result, manifest, "n", UploadSettings(head_rows=0, int8=True))
    update = deltas.decode_upload(blob, deltas.parameter_shapes(sub))
    assert sorted(update.delta) == ["block.0"] and sorted(update.manifest.base_modules) == ["block.0"]


def test_head_rows_needs_the_factors_form_and_no_head_rank(setup):
    _, manifest, result = setup
    for bad in (UploadSettings(form="full", head_rows=2), UploadSettings(head_rows=2, head_rank=2)):
        with pytest.raises(ValueError, match="head_rows"):
            deltas.build_upload(result, manifest, "n", bad)
    deltas.build_upload(result, manifest, "n", UploadSettings(head_rows=2, head_rank=0))  # 0: what a fleet passes
    with pytest.raises(ValueError):
        UploadSettings(head_rows=-1)


def test_coarsen_rounds_each_row_to_few_levels_with_less_error_than_its_peak_grid():
    g = torch.Generator().manual_seed(0)
    t = torch.randn(6, 64, generator=g) * torch.rand(6, 1, generator=g)
    t[0, 0] = 25.0  # an outlier: clipping it pays off
    for bits in (2, 3, 4):
        levels = 2 ** (bits - 1) - 1
        c = deltas.coarsen(t, bits)
        assert c.shape == t.shape
        for row, orig in zip(c, t):
            assert len(torch.unique(row)) <= 2 * levels + 1
            step = orig.abs().max() / levels
            peak_grid = torch.round(orig / step).clamp(-levels, levels) * step
            assert (row - orig).pow(2).sum() <= (peak_grid - orig).pow(2).sum() + 1e-6
    short = torch.randn(50, 3, generator=g)  # short rows: per column, as the int8 scales
    for col in deltas.coarsen(short, 2).T:
        assert len(torch.unique(col)) <= 3
    assert deltas.coarsen(t, 8) is t and deltas.coarsen(torch.ones(5), 2).shape == (5,)


def test_bits_make_smaller_int8_uploads_that_decode_as_usual(setup):
    sub, manifest, result = setup
    shapes = deltas.parameter_shapes(sub)
    plain = deltas.build_upload(result, manifest, "n", UploadSettings(int8=True, head_rank=0))
    assert plain == deltas.build_upload(result, manifest, "n", UploadSettings(int8=True, head_rank=0, bits=8))
    sizes = {}
    for bits in (8, 4, 2):
        blob = deltas.build_upload(result, manifest, "n", UploadSettings(int8=True, head_rank=0, bits=bits))
        sizes[bits] = len(blob)
        got = deltas.decode_upload(blob, shapes).delta["head.s0"]["weight"]
        want = result.delta["head.s0"]["weight"]
        if bits < 8:
            assert all(len(torch.unique(row)) <= 2 ** bits - 1 for row in got)
        rel = float((got - want).norm() / want.norm())
        assert rel < {8: 0.02, 4: 0.25, 2: 0.8}[bits], (bits, rel)
    assert sizes[8] > sizes[4] > sizes[2]
    # head_bits alone: the LoRA factors stay plain int8
    head4 = deltas.build_upload(result, manifest, "n", UploadSettings(int8=True, head_rank=0, head_bits=4))
    assert sizes[4] < len(head4) < sizes[8]
    q = "attention.self.query.weight"
    torch.testing.assert_close(deltas.decode_upload(head4).delta["block.0"][q], deltas.decode_upload(plain).delta["block.0"][q])
    for bad in (UploadSettings(bits=4), UploadSettings(head_bits=4)):
        with pytest.raises(ValueError, match="int8"):
            deltas.build_upload(result, manifest, "n", bad)
    for bad in (1, 9):
        with pytest.raises(ValueError):
            UploadSettings(int8=True, bits=bad)


def test_a_forged_row_sparse_head_meets_the_usual_checks(setup):
    """No new tensor kind crosses the wire: a node that sends only the kept rows, row indices, an
    unscaled integer head or rows of the wrong width is refused, naming the tensor."""
    sub, manifest, result = setup
    shapes = deltas.parameter_shapes(sub)
    blob = deltas.build_upload(result, manifest, "n", UploadSettings(head_rows=2, int8=True, head_bits=4))
    assert deltas.decode_upload(blob, shapes).delta["head.s0"]["weight"].shape == (len(INTENTS), 32)
    meta = _meta(blob)
    w = "head.s0/weight"
    cases = {
        "head.s0/weight: change of shape \\(2, 32\\)": {w: torch.zeros(2, 32)},  # the kept rows alone
        "head.s0/weight: change of shape \\(6, 31\\)": {w: torch.zeros(len(INTENTS), 31)},
        "head.s0/bias: change of shape \\(7,\\)": {"head.s0/bias": torch.zeros(len(INTENTS) + 1)},
        "'head.s0/weight@idx' is not an adapter": {f"{w}@idx": torch.tensor([0, 0, 99], dtype=torch.int32)},
        "'head.s0/weight' has dtype I32": {w: torch.zeros(len(INTENTS), 32, dtype=torch.int32)},
        "int8 tensor 'head.s0/weight' has no scale": {w: torch.zeros(len(INTENTS), 32, dtype=torch.int8)},
    }
    for needle, tensors in cases.items():
        with pytest.raises(UploadRejected, match=needle):
            deltas.decode_upload(st_save(tensors, metadata={"ecc": json.dumps(meta)}), shapes)
