"""Bundles: content addressing, round-trip, tamper/missing detection, delta shipping."""

import copy

import pytest
import torch

from ecc_workloads.learning import bundles, modular
from ecc_workloads.learning.bundles import BundleError, LocalDirStore
from ecc_workloads.contracts import StoreLayout

torch.set_num_threads(1)
LABELS = ["cancel_order", "track_order", "get_refund"]
TEXTS = ["how can I cancel my order?", "where is my parcel", "i want my money back please now", "refund!!"]


@pytest.fixture(scope="module")
def tok():
    return modular.load_tokenizer()


@pytest.fixture()
def model():
    m = modular.tiny_encoder(LABELS, num_hidden_layers=4, seed=5)
    m.add_profile("s1", [0])
    m.add_profile("s02", [0, 2])
    with torch.no_grad():  # give the student heads their own weights
        m.heads["s1"].weight.add_(0.01)
        m.heads["s02"].weight.sub_(0.01)
    return m.eval()


def _logits(m, tok, profile, texts=TEXTS):
    ids, mask = modular.tokenize(tok, texts)
    with torch.no_grad():
        return m(ids, mask, head=profile)


def test_round_trip_and_shared_hashes(model, tok, tmp_path):
    store = LocalDirStore(tmp_path)
    res = bundles.write_bundles(model, ["teacher", "s1", "s02"], 1, store, metrics={"s02": {"accuracy": 0.9}})
    keys = bundles.publish_manifests(store, res.manifests.values(), "ns", "shop")
    assert keys[2] == "teachers/ns/shop/revisions/1/bundles/s02.json"
    by = {p: {m.name: m.sha256 for m in res.manifests[p].modules} for p in res.manifests}
    # modules are shared across profiles: same name -> same hash, stored once
    assert by["s1"]["embeddings"] == by["s02"]["embeddings"] == by["teacher"]["embeddings"]
    assert by["s1"]["block.0"] == by["s02"]["block.0"] == by["teacher"]["block.0"]
    assert by["s02"]["block.2"] == by["teacher"]["block.2"]
    assert len(res.uploaded) == 1 + 4 + 1 + 3  # embeddings, 4 blocks, pooling, 3 heads
    assert res.manifests["s02"].metrics == {"accuracy": 0.9}
    for profile in ("s1", "s02", "teacher"):
        manifest = bundles.read_manifest(store, keys[["teacher", "s1", "s02"].index(profile)])
        sub = bundles.load_submodel(manifest, bundles.store_fetcher(store))
        assert sub.block_ids == sorted(model.profiles[profile])
        torch.testing.assert_close(_logits(sub, tok, profile), _logits(model, tok, profile))
    # the same weights written again upload nothing
    again = bundles.write_bundles(model, ["teacher", "s1", "s02"], 2, store)
    assert again.uploaded == [] and again.bytes_uploaded == 0
    assert {p: m.modules for p, m in again.manifests.items()} == {p: m.modules for p, m in res.manifests.items()}


def test_tampered_module_is_named(model, tmp_path):
    store = LocalDirStore(tmp_path)
    manifest = bundles.write_bundles(model, ["s02"], 1, store).manifests["s02"]
    ref = next(m for m in manifest.modules if m.name == "block.2")
    path = tmp_path / StoreLayout.module(ref.sha256)
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(BundleError, match=r"'block.2'.*sha256 mismatch"):
        bundles.load_submodel(manifest, bundles.store_fetcher(store))


def test_missing_module_is_named(model, tmp_path):
    store = LocalDirStore(tmp_path)
    manifest = bundles.write_bundles(model, ["s02"], 1, store).manifests["s02"]
    ref = next(m for m in manifest.modules if m.name == "head.s02")
    (tmp_path / StoreLayout.module(ref.sha256)).unlink()
    with pytest.raises(BundleError, match=r"'head.s02'.*missing"):
        bundles.load_submodel(manifest, bundles.store_fetcher(store))
    short = manifest.model_copy(update={"modules": [m for m in manifest.modules if m.name != "block.0"]})
    with pytest.raises(BundleError, match=r"lacks modules \['block.0'\]"):
        bundles.load_submodel(short, bundles.store_fetcher(store))


def test_swapped_module_file_is_rejected(model, tmp_path):
    """A valid module file under a manifest entry of another module is refused."""
    store = LocalDirStore(tmp_path)
    manifest = bundles.write_bundles(model, ["s02"], 1, store).manifests["s02"]
    refs = {m.name: m for m in manifest.modules}
    swapped = refs["block.0"].model_copy(update={"name": "block.2"})
    mods = [swapped if m.name == "block.2" else m for m in manifest.modules]
    with pytest.raises(BundleError, match="block.2"):
        bundles.load_submodel(manifest.model_copy(update={"modules": mods}), bundles.store_fetcher(store))


def test_revision_changing_one_module_ships_one_module(model, tmp_path):
    store = LocalDirStore(tmp_path)
    rev1 = bundles.write_bundles(model, ["teacher", "s1", "s02"], 1, store)
    changed = copy.deepcopy(model)
    with torch.no_grad():
        changed.blocks["2"].attention.self.value.weight.add_(0.001)
    rev2 = bundles.write_bundles(changed, ["teacher", "s1", "s02"], 2, store)
    new_ref = next(m for m in rev2.manifests["s02"].modules if m.name == "block.2")
    assert rev2.uploaded == [StoreLayout.module(new_ref.sha256)]
    assert rev2.bytes_uploaded == new_ref.bytes
    held = {m.sha256 for m in rev1.manifests["s02"].modules}
    assert [m.name for m in bundles.modules_to_fetch(rev2.manifests["s02"], held)] == ["block.2"]
    held_s1 = {m.sha256 for m in rev1.manifests["s1"].modules}
    assert bundles.modules_to_fetch(rev2.manifests["s1"], held_s1) == []


def test_int8_and_pruned_vocabulary(model, tok, tmp_path):
    store = LocalDirStore(tmp_path)
    full = bundles.write_bundles(model, ["s02"], 1, store).manifests["s02"]
    vocab = bundles.corpus_token_ids(tok, TEXTS)
    small = bundles.write_bundles(model, ["s02"], 1, store, int8=True, vocabulary=vocab).manifests["s02"]
    size = {m.name: m.bytes for m in full.modules}
    size_small = {m.name: m.bytes for m in small.modules}
    assert size_small["embeddings"] < size["embeddings"] / 50  # 30522 rows -> a few dozen
    assert size_small["block.2"] < size["block.2"] / 2.5  # int8 matrices, fp32 biases/norms
    assert all(m.dtype == "int8" for m in small.modules if m.name != "pooling")
    sub = bundles.load_submodel(small, bundles.store_fetcher(store))
    a, b = _logits(sub, tok, "s02"), _logits(model, tok, "s02")
    torch.testing.assert_close(a, b, atol=0.02, rtol=0.05)
    assert torch.equal(a.argmax(-1), b.argmax(-1))


def test_the_shipped_submodel_is_what_a_node_loads_from_the_bundle(model, tok, tmp_path):
    store = LocalDirStore(tmp_path)
    vocab = bundles.corpus_token_ids(tok, TEXTS)
    for int8, kept in ((True, vocab), (False, None), (True, None)):
        written = bundles.write_bundles(model, ["s02"], 1, store, int8=int8, vocabulary=kept).manifests["s02"]
        loaded = bundles.load_submodel(written, bundles.store_fetcher(store))
        assert bundles.bundle_form(written, bundles.store_fetcher(store)) == (int8, kept)
        shipped = bundles.shipped_submodel(model, "s02", int8, kept)
        assert torch.equal(_logits(shipped, tok, "s02"), _logits(loaded, tok, "s02"))
        if kept is not None:  # words the table dropped read the same nearest rows on the node
            assert torch.equal(loaded.embeddings.fallback_rows, shipped.embeddings.fallback_rows)
            unseen = ["zebra xylophone quartz", "my gazebo"]
            assert torch.equal(_logits(shipped, tok, "s02", unseen), _logits(loaded, tok, "s02", unseen))
        assert shipped.module_names("s02") == loaded.module_names("s02")
    assert not torch.equal(_logits(bundles.shipped_submodel(model, "s02", True, vocab), tok, "s02"),
                           _logits(model, tok, "s02"))  # int8 rounding shows: the gate must score this form


def test_the_serving_form_is_int8_inference_for_int8_bundles_only(model, tok, tmp_path):
    store = LocalDirStore(tmp_path)
    written = bundles.write_bundles(model, ["s02"], 1, store, int8=True).manifests
    plain = bundles.write_bundles(model, ["s1"], 1, store).manifests
    assert bundles.ships_int8(written["s02"]) and not bundles.ships_int8(plain["s1"])
    sub = bundles.load_submodel(written["s02"], bundles.store_fetcher(store))
    assert bundles.serving_form(sub, int8=False) is sub
    served = bundles.serving_form(sub, int8=True)
    quantized = [m for m in served.modules() if type(m).__name__ == "Linear" and "quantized" in type(m).__module__]
    assert len(quantized) == sum(isinstance(m, torch.nn.Linear) for m in sub.modules()) > 0
    assert all(m.weight().qscheme() == torch.per_channel_affine for m in quantized)  # one scale per output row
    assert served.embeddings.word_embeddings.weight is sub.embeddings.word_embeddings.weight  # shared, not copied
    a, b = _logits(served, tok, "s02"), _logits(sub, tok, "s02")
    assert not torch.equal(a, b)  # int8 activations: not the fp32 computation
    torch.testing.assert_close(a, b, atol=0.05, rtol=0.1)
    assert torch.equal(a, _logits(bundles.serving_form(sub, int8=True), tok, "s02"))  # deterministic


def test_module_bytes_are_deterministic(model):
    sd = model.module_state_dicts(["block.1"])["block.1"]
    a = bundles.module_bytes("block.1", sd)
    b = bundles.module_bytes("block.1", {k: v.clone() for k, v in reversed(list(sd.items()))})
    assert bundles.sha256_hex(a) == bundles.sha256_hex(b)
    # same tensors under another module name are another module
    assert bundles.sha256_hex(bundles.module_bytes("block.3", sd)) != bundles.sha256_hex(a)


def test_load_cloud_model_assembles_all_profiles(model, tok, tmp_path):
    store = LocalDirStore(tmp_path)
    res = bundles.write_bundles(model, ["teacher", "s1", "s02"], 3, store)
    cloud = bundles.load_cloud_model(list(res.manifests.values()), bundles.store_fetcher(store))
    assert sorted(cloud.profiles) == ["s02", "s1", "teacher"]
    for p in ("teacher", "s1", "s02"):
        torch.testing.assert_close(_logits(cloud, tok, p), _logits(model, tok, p))


def test_cloud_model_takes_master_modules_and_student_heads(model, tok, tmp_path):
    """Shipped students may be int8/pruned variants: the cloud model keeps the fp32 teacher's
    modules and takes only the students' heads."""
    store = LocalDirStore(tmp_path)
    teacher = bundles.write_bundles(model, ["teacher"], 3, store).manifests["teacher"]
    vocab = bundles.corpus_token_ids(tok, TEXTS)
    small = bundles.write_bundles(model, ["s1", "s02"], 3, store, int8=True, vocabulary=vocab).manifests
    assert bundles.bundle_vocabulary(small["s02"], bundles.store_fetcher(store)) == vocab
    assert bundles.bundle_vocabulary(teacher, bundles.store_fetcher(store)) is None
    cloud = bundles.load_cloud_model([small["s1"], teacher, small["s02"]], bundles.store_fetcher(store))
    assert cloud.embeddings.word_embeddings.weight.shape[0] == 30522
    torch.testing.assert_close(_logits(cloud, tok, "teacher"), _logits(model, tok, "teacher"))
    torch.testing.assert_close(_logits(cloud, tok, "s02"), _logits(model, tok, "s02"), atol=0.02, rtol=0.05)
    with pytest.raises(BundleError, match="master profile"):
        bundles.load_cloud_model([small["s1"]], bundles.store_fetcher(store))


def test_local_store_rejects_escaping_keys(tmp_path):
    with pytest.raises(ValueError, match="inside the store"):
        LocalDirStore(tmp_path).put("../x", b"1")
