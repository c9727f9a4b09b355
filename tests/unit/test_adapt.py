"""Edge adaptation: LoRA on a sub-model, and the upload that leaves the device."""

import json

import pytest
import torch
from safetensors.torch import save as st_save

from ecc_workloads.learning import adapt, bundles, deltas, distill, modular
from ecc_workloads.learning.adapt import FeedbackItem, LoraSettings
from ecc_workloads.learning.deltas import UploadRejected, UploadSettings

from _learning_rows import bitext_rows

torch.set_num_threads(1)
INTENTS = ["cancel_order", "track_order", "get_refund", "recover_password"]


@pytest.fixture(scope="module")
def tok():
    return modular.load_tokenizer()


@pytest.fixture(scope="module")
def rows():
    return [FeedbackItem(text=t, label=y, source="user") for t, y, _ in bitext_rows(INTENTS, 30, seed=7)]


@pytest.fixture(scope="module")
def setup(tmp_path_factory, tok, rows):
    model = modular.tiny_encoder(INTENTS, num_hidden_layers=4, seed=3)
    model.add_profile("s02", [0, 2])
    store = bundles.LocalDirStore(tmp_path_factory.mktemp("store"))
    manifests = bundles.write_bundles(model, ["teacher", "s02"], 4, store).manifests
    sub = bundles.load_submodel(manifests["s02"], bundles.store_fetcher(store))
    result = adapt.adapt_locally(sub, tok, rows, LoraSettings(rank=4, alpha=8, epochs=6, lr=5e-3, head_lr=2e-2, batch_size=16))
    return sub, manifests, result


def test_lora_learns_from_feedback(setup, tok, rows):
    sub, _, result = setup
    texts, labels = [r.text for r in rows], [r.label for r in rows]
    before = distill.evaluate(sub, tok, texts, labels)["accuracy"]
    after = distill.evaluate(result.adapted, tok, texts, labels)["accuracy"]
    assert result.epoch_loss[-1] < result.epoch_loss[0]
    assert after > before + 0.2, (before, after)


def test_delta_holds_only_adapter_and_head_changes(setup):
    sub, _, result = setup
    assert sorted(result.delta) == ["block.0", "block.2", "head.s02"]
    for b in ("block.0", "block.2"):
        assert sorted(result.delta[b]) == ["attention.self.query.weight", "attention.self.value.weight"]
        a, bb = result.factors[b]["attention.self.query.weight"]
        assert a.shape == (4, 32) and bb.shape == (32, 4)
        torch.testing.assert_close(result.delta[b]["attention.self.query.weight"], bb @ a * result.lora_scale)
    assert sorted(result.delta["head.s02"]) == ["bias", "weight"]
    # the sub-model itself is untouched; the adapted copy is base + delta
    w0 = sub.blocks["0"].attention.self.query.weight
    w1 = result.adapted.blocks["0"].attention.self.query.weight
    torch.testing.assert_close(w1, w0 + result.delta["block.0"]["attention.self.query.weight"])
    # 2 blocks x 2 layers x (4x32 + 32x4) + head 4x32+4
    assert result.trainable_params == 2 * 2 * (4 * 32 + 32 * 4) + 4 * 32 + 4


def test_upload_round_trip_and_sizes(setup, rows):
    sub, manifests, result = setup
    texts = [r.text for r in rows]
    blob = deltas.build_upload(result, manifests["s02"], "edge-1", UploadSettings(form="full"), forbidden_texts=texts)
    update = deltas.decode_upload(blob)
    assert update.manifest.node == "edge-1" and update.manifest.base_revision == 4
    assert update.manifest.base_modules == {m.name: m.sha256 for m in manifests["s02"].modules if m.name in result.delta}
    assert update.manifest.num_samples == len(rows)
    for m, params in result.delta.items():
        for k, t in params.items():
            torch.testing.assert_close(update.delta[m][k], t)
    factors = deltas.build_upload(result, manifests["s02"], "edge-1", UploadSettings())  # default: factors
    fdec = deltas.decode_upload(factors)
    for b in ("block.0", "block.2"):
        torch.testing.assert_close(fdec.delta[b]["attention.self.value.weight"], result.delta[b]["attention.self.value.weight"])
    q8 = deltas.build_upload(result, manifests["s02"], "edge-1", UploadSettings(form="full", int8=True))
    qdec = deltas.decode_upload(q8)
    d = result.delta["block.2"]["attention.self.query.weight"]
    assert (qdec.delta["block.2"]["attention.self.query.weight"] - d).abs().max() <= d.abs().max() / 100
    sub_bytes = bundles.bundle_bytes(manifests["s02"])
    teacher_bytes = bundles.bundle_bytes(manifests["teacher"])
    assert len(factors) < len(blob) and len(q8) < len(blob) / 2.5
    assert len(blob) * 100 < sub_bytes < teacher_bytes
    sizes = deltas.upload_size_report(blob, manifests["s02"], manifests["teacher"])
    assert sizes["submodel_ratio"] == sub_bytes / len(blob) and sizes["teacher_ratio"] > sizes["submodel_ratio"]


def test_clipping_and_noise(setup):
    _, manifests, result = setup
    clipped = deltas.decode_upload(deltas.build_upload(result, manifests["s02"], "n", UploadSettings(form="full", clip_norm=1e-3)))
    assert clipped.manifest.update_norm == pytest.approx(1e-3, rel=1e-4)
    cf = deltas.decode_upload(deltas.build_upload(result, manifests["s02"], "n", UploadSettings(clip_norm=1e-3)))
    for m, ps in clipped.delta.items():  # clipping factors scales B: the same clipped change
        for k, t in ps.items():
            torch.testing.assert_close(cf.delta[m][k], t)
    s = UploadSettings(form="full", clip_norm=1e-3, noise_multiplier=0.5, seed=1)
    n1 = deltas.decode_upload(deltas.build_upload(result, manifests["s02"], "n", s))
    n2 = deltas.decode_upload(deltas.build_upload(result, manifests["s02"], "n", s))
    key = ("block.0", "attention.self.value.weight")
    assert torch.equal(n1.delta[key[0]][key[1]], n2.delta[key[0]][key[1]])  # seeded
    noise = n1.delta[key[0]][key[1]] - clipped.delta[key[0]][key[1]]
    assert 0.3e-3 < float(noise.std()) < 0.7e-3
    with pytest.raises(ValueError, match="clip_norm"):
        deltas.build_upload(result, manifests["s02"], "n", UploadSettings(form="full", noise_multiplier=1.0))
    with pytest.raises(ValueError, match="form='full'"):
        deltas.build_upload(result, manifests["s02"], "n", UploadSettings(clip_norm=1.0, noise_multiplier=1.0))


def _blob(tensors, meta):
    return st_save(tensors, metadata={"ecc": json.dumps(meta)})


def test_verify_rejects_text_token_ids_and_embeddings(setup, rows):
    _, manifests, result = setup
    blob = deltas.build_upload(result, manifests["s02"], "edge-1", UploadSettings())
    raw = deltas.unpack_upload(blob)
    meta = json.loads(json.loads(raw[8 : 8 + int.from_bytes(raw[:8], "little")])["__metadata__"]["ecc"])
    good = {"block.0/attention.self.query.weight": torch.zeros(2, 2)}
    deltas.verify_upload(_blob(good, meta))
    with pytest.raises(UploadRejected, match="feedback text"):
        bad = dict(meta, delta=dict(meta["delta"], node=rows[0].text))
        deltas.verify_upload(_blob(good, bad), [rows[0].text])
    with pytest.raises(UploadRejected, match="dtype I64"):
        deltas.verify_upload(_blob({"block.0/attention.self.query.weight": torch.tensor([[101, 2054]])}, meta))
    with pytest.raises(UploadRejected, match="not an adapter"):
        deltas.verify_upload(_blob({"embeddings/word_embeddings.weight": torch.zeros(2, 2)}, meta))
    with pytest.raises(UploadRejected, match="no scale"):
        deltas.verify_upload(_blob({"block.0/x.weight": torch.zeros(2, 2, dtype=torch.int8)}, meta))
    with pytest.raises(UploadRejected, match="unexpected metadata fields"):
        deltas.verify_upload(_blob(good, dict(meta, texts=["hello there friend"])))
    # the real upload passes with every feedback text forbidden
    deltas.verify_upload(blob, [r.text for r in rows])


def test_forged_factor_shapes_are_refused_before_any_product(setup):
    """A (1, 10⁵) and B (10⁵, 1) would make a 40 GB B @ A: refused from the header. Wrong shapes,
    unknown parameters, high ranks and oversized uploads too; the real upload passes."""

    sub, manifests, result = setup
    blob = deltas.build_upload(result, manifests["s02"], "edge-1", UploadSettings())
    raw = deltas.unpack_upload(blob)
    meta = json.loads(json.loads(raw[8 : 8 + int.from_bytes(raw[:8], "little")])["__metadata__"]["ecc"])
    shapes = deltas.parameter_shapes(sub)
    assert deltas.decode_upload(blob, shapes).delta  # the honest upload
    q = "block.0/attention.self.query.weight"
    bomb = {f"{q}@A": torch.zeros(1, 100_000), f"{q}@B": torch.zeros(100_000, 1)}
    for s in (shapes, None):  # the product would be attempted after these checks, not before
        with pytest.raises(UploadRejected, match="is \\(|more than"):
            deltas.decode_upload(_blob(bomb, meta), s)
    want = shapes["block.0"]["attention.self.query.weight"]
    cases = {
        "do not make B @ A": {f"{q}@A": torch.zeros(2, want[1]), f"{q}@B": torch.zeros(want[0], 3)},
        "rank 65": {f"{q}@A": torch.zeros(65, want[1]), f"{q}@B": torch.zeros(want[0], 65)},
        "no such parameter": {"block.0/attention.self.nope.weight": torch.zeros(2, 2)},
        "no matching @A": {f"{q}@B": torch.zeros(want[0], 2)},
        "the parameter is": {q: torch.zeros(want[0] + 1, want[1])},
    }
    for needle, tensors in cases.items():
        with pytest.raises(UploadRejected, match=needle):
            deltas.decode_upload(_blob(tensors, meta), shapes)
    with pytest.raises(UploadRejected, match="more than"):
        deltas.check_upload_shapes(b"\0" * (deltas.MAX_UPLOAD_BYTES + 1))


def test_feedback_selection_respects_cloud_assist():
    items = [
        FeedbackItem(text="cancel it", label="cancel_order", source="user"),
        FeedbackItem(text="where is it", label="track_order", source="teacher", confidence=0.95),
        FeedbackItem(text="money back", label="get_refund", source="teacher", confidence=0.5),
        FeedbackItem(text="reset pw", label="recover_password", source="agent"),
    ]
    assert [i.text for i in adapt.select_training_rows(items, allow_cloud_assist=False)] == ["cancel it", "reset pw"]
    assert [i.text for i in adapt.select_training_rows(items, allow_cloud_assist=True, min_teacher_confidence=0.9)] == [
        "cancel it", "where is it", "reset pw"]
    assert [i.text for i in adapt.select_training_rows(items, True, 0.0, max_samples=2)] == ["money back", "reset pw"]
    judged = [FeedbackItem(text="x", label="a", source="user", predicted="a"),
              FeedbackItem(text="y", label="a", source="agent", predicted="b"),
              FeedbackItem(text="z", label="a", source="teacher", confidence=1.0, predicted="b")]
    assert adapt.feedback_error_counts(judged + items) == (2, 1)
    buf = adapt.FeedbackBuffer(max_items=2)
    for i in items:
        buf.add(i)
    assert len(buf) == 2 and buf.items[-1].text == "reset pw"


def test_targets_that_match_nothing_are_an_error(setup, tok, rows):
    sub, _, _ = setup
    with pytest.raises(ValueError, match="nothing_here"):
        adapt.adapt_locally(sub, tok, rows[:4], LoraSettings(targets=["nothing_here"], epochs=1))


def test_head_change_is_sent_at_low_rank_in_factors_form(setup):
    _, manifests, result = setup
    head = result.delta["head.s02"]["weight"]  # 4 labels x 32: full rank 4
    blob = deltas.build_upload(result, manifests["s02"], "n", UploadSettings(head_rank=2))
    sent = deltas.decode_upload(blob).delta["head.s02"]["weight"]
    u, s, vh = torch.linalg.svd(head.double(), full_matrices=False)
    best_rank2 = (u[:, :2] * s[:2]) @ vh[:2]
    torch.testing.assert_close(sent.double(), best_rank2, rtol=1e-4, atol=1e-6)
    whole = deltas.build_upload(result, manifests["s02"], "n", UploadSettings(head_rank=0))
    torch.testing.assert_close(deltas.decode_upload(whole).delta["head.s02"]["weight"], head)
    assert len(blob) < len(whole)
    # at or above the head's own rank nothing is lost: it is sent whole
    exact = deltas.decode_upload(deltas.build_upload(result, manifests["s02"], "n", UploadSettings(head_rank=4)))
    torch.testing.assert_close(exact.delta["head.s02"]["weight"], head)


def test_uploads_are_packed_and_a_hostile_stream_is_refused(setup, rows):
    import zlib

    _, manifests, result = setup
    blob = deltas.build_upload(result, manifests["s02"], "edge-1", UploadSettings(int8=True, rank=2))
    raw = deltas.unpack_upload(blob)
    assert blob.startswith(deltas.PACKED_MAGIC) and len(blob) < len(raw)
    assert deltas.unpack_upload(raw) == raw  # an unpacked upload is read as it is
    assert deltas.verify_upload(blob).node == "edge-1"
    # the feedback text is looked for in the unpacked bytes, where a node could hide it
    meta = json.loads(json.loads(raw[8: 8 + int.from_bytes(raw[:8], "little")])["__metadata__"]["ecc"])
    hidden = deltas.pack_upload(_blob({"block.0/attention.self.query.weight": torch.zeros(2, 2)},
                                     dict(meta, delta=dict(meta["delta"], node=rows[0].text))))
    with pytest.raises(UploadRejected, match="feedback text"):
        deltas.verify_upload(hidden, [rows[0].text])
    bomb = deltas.PACKED_MAGIC + zlib.compress(b"\0" * (deltas.MAX_UPLOAD_BYTES + 10), 9)
    assert len(bomb) < 100_000
    for bad, why in ((bomb, "inflates beyond"), (deltas.PACKED_MAGIC + b"garbage", "not a valid deflate"),
                     (blob[:-10], "truncated")):
        with pytest.raises(UploadRejected, match=why):
            deltas.decode_upload(bad)


def test_a_lower_upload_rank_sends_less_and_decodes_to_the_same_shapes(setup):
    sub, manifests, result = setup
    shapes = deltas.parameter_shapes(sub)
    full = deltas.decode_upload(deltas.build_upload(result, manifests["s02"], "edge-1", UploadSettings()), shapes)
    low_blob = deltas.build_upload(result, manifests["s02"], "edge-1", UploadSettings(rank=1))
    low = deltas.decode_upload(low_blob, shapes)
    assert len(low_blob) < len(deltas.build_upload(result, manifests["s02"], "edge-1", UploadSettings()))
    for module, params in full.delta.items():
        for key, t in params.items():
            got = low.delta[module][key]
            assert got.shape == t.shape
            if t.dim() == 2 and min(t.shape) > 1:
                assert torch.linalg.matrix_rank(got.double(), rtol=1e-6) <= 1
