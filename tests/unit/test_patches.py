"""Module patches: a merge-back revision's change as low-rank int8 factors, applied alike in the
cloud and on a node; patched bundles, their chains and when a module ships whole again."""

import pytest
import torch

from ecc_workloads.learning import bundles, modular, patches
from ecc_workloads.learning.bundles import BundleError, LocalDirStore
from ecc_workloads.contracts import ModuleRef
from ecc_workloads.learning.tensorfile import encode_tensors

torch.set_num_threads(1)
LABELS = ["cancel_order", "track_order", "get_refund"]
Q = "attention.self.query.weight"
V = "attention.self.value.weight"
BIAS = "attention.self.query.bias"


def _low_rank(out_dim: int, in_dim: int, rank: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(out_dim, rank, generator=g) @ torch.randn(rank, in_dim, generator=g) * 1e-3


@pytest.fixture()
def model():
    m = modular.tiny_encoder(LABELS, num_hidden_layers=2, seed=3, hidden_size=64, intermediate_size=128)
    m.add_profile("s0", [0])
    return m.eval()


def _block_change(seed: int = 1) -> dict[str, torch.Tensor]:
    return {Q: _low_rank(64, 64, 4, seed), V: _low_rank(64, 64, 2, seed + 1), BIAS: torch.full((64,), 1e-3)}


def test_a_low_rank_change_ships_as_factors_at_its_rank_and_comes_back_within_int8_rounding(model):
    change = _block_change()
    data = patches.encode("block.0", change, patches.PatchSettings())
    tensors, meta = bundles.decode_tensors(data)
    assert meta["format"] == "ecc-patch/1" and meta["module"] == "block.0" and meta["quant"] == "int8"
    assert tensors[Q + "@B"].shape == (64, 4) and tensors[Q + "@A"].shape == (4, 64)  # the change's own rank
    assert tensors[V + "@B"].shape == (64, 2)
    assert torch.equal(tensors[BIAS], change[BIAS])  # 1-D changes whole, float32
    back = patches.decode("block.0", data, model.module("block.0"))
    for key in (Q, V):
        err = (back[key] - change[key]).norm() / change[key].norm()
        assert err < 0.02, (key, float(err))
    whole_int8 = len(encode_tensors(change, {}, int8=True))
    assert len(data) < whole_int8 / 3


def test_the_rank_follows_the_tolerance_and_a_full_rank_change_ships_whole():
    g = torch.Generator().manual_seed(0)
    full = torch.randn(64, 64, generator=g)
    assert patches.factorise(full, patches.PatchSettings()) is None  # factors would not be smaller
    decaying = sum(_low_rank(64, 64, 1, s) * (0.5 ** s) for s in range(12))
    loose = patches.factorise(decaying, patches.PatchSettings(tolerance=0.3))
    tight = patches.factorise(decaying, patches.PatchSettings(tolerance=0.001))
    assert loose is not None and tight is not None and loose[0].shape[1] < tight[0].shape[1]
    for b, a in (loose, tight):
        assert (b @ a - decaying).norm() / decaying.norm() <= (0.3 if b is loose[0] else 0.001) + 1e-6
    assert patches.factorise(decaying, patches.PatchSettings(tolerance=0.001, max_rank=2)) is None
    # a full-rank change ships whole (int8), no factors
    data = patches.encode("block.0", {Q: full}, patches.PatchSettings())
    assert set(bundles.decode_tensors(data)[0]) == {Q}


def test_a_non_finite_change_is_refused_before_it_ships():
    with pytest.raises(patches.PatchError, match="block.0.*query.weight.*not finite"):
        patches.encode("block.0", {Q: torch.full((64, 64), float("nan"))}, patches.PatchSettings())


@pytest.mark.parametrize("tensors, meta, match", [
    ({Q + "@B": torch.zeros(64, 2)}, {}, "has no @A factor"),
    ({Q + "@A": torch.zeros(2, 64)}, {}, "has no @B factor"),
    ({Q + "@B": torch.zeros(64, 2), Q + "@A": torch.zeros(3, 64)}, {}, "do not make its shape"),
    ({Q + "@B": torch.zeros(32, 2), Q + "@A": torch.zeros(2, 64)}, {}, "do not make its shape"),
    ({"attention.self.rogue": torch.zeros(4)}, {}, "is not a parameter of the module"),
    ({BIAS: torch.zeros(65)}, {}, "has shape \\(65,\\), the parameter \\(64,\\)"),
    ({BIAS: torch.full((64,), float("inf"))}, {}, "not finite"),
    ({BIAS: torch.zeros(64)}, {"module": "block.1"}, "module='block.1'"),
    ({BIAS: torch.zeros(64)}, {"format": "ecc-module/1"}, "format='ecc-module/1'"),
])
def test_a_patch_that_does_not_fit_its_module_is_refused_naming_what(model, tensors, meta, match):
    data = encode_tensors(tensors, {"format": "ecc-patch/1", "module": "block.0", **meta})
    with pytest.raises(patches.PatchError, match=match):
        patches.decode("block.0", data, model.module("block.0"))
    with pytest.raises(patches.PatchError, match="not a readable patch file"):
        patches.decode("block.0", b"garbage", model.module("block.0"))


def _published(model, store, int8: bool):
    written = bundles.write_bundles(model, ["s0"], 1, store, int8=int8)
    manifest = written.manifests["s0"]
    return manifest, bundles.load_submodel(manifest, bundles.store_fetcher(store))


@pytest.mark.parametrize("int8", [False, True])
def test_a_staged_revision_appends_patches_and_loads_to_the_base_plus_the_change(model, tmp_path, int8):
    store = LocalDirStore(tmp_path)
    manifest, current = _published(model, store, int8)
    files = patches.encode_all({"block.0": _block_change()}, patches.PatchSettings())
    staged = bundles.stage_patched(manifest, current, files, 2, bundles.store_fetcher(store))
    chain = bundles.module_chains(staged.manifest)["block.0"]
    assert [r.kind for r in chain] == ["module", "patch"] and chain[0] == bundles.module_chains(manifest)["block.0"][0]
    assert staged.manifest.revision == 2 and staged.download_bytes() == chain[1].bytes == len(files["block.0"])
    assert [r.name for r in staged.manifest.modules if r.kind == "module"] == [r.name for r in manifest.modules]
    # nothing is stored until asked; then a node loads exactly the staged model
    with pytest.raises(BundleError, match="missing"):
        bundles.load_submodel(staged.manifest, bundles.store_fetcher(store))
    assert bundles.store_files(store, staged.files) == staged.download_bytes()
    assert bundles.store_files(store, staged.files) == 0  # content-addressed: written once
    loaded = bundles.load_submodel(staged.manifest, bundles.store_fetcher(store))
    for k, v in staged.model.state_dict().items():
        assert torch.equal(v, loaded.state_dict()[k]), k
    decoded = patches.decode("block.0", files["block.0"], current.module("block.0"))
    after, before = loaded.module("block.0").state_dict(), current.module("block.0").state_dict()
    assert torch.allclose(after[Q] - before[Q], decoded[Q], atol=1e-6)
    assert torch.equal(loaded.module("embeddings").state_dict()["word_embeddings.weight"],
                       current.module("embeddings").state_dict()["word_embeddings.weight"])


def test_a_chain_past_its_share_ships_the_patched_module_whole(model, tmp_path):
    store = LocalDirStore(tmp_path)
    manifest, current = _published(model, store, int8=True)
    fetch = bundles.store_fetcher(store)
    for revision in range(2, 12):
        files = patches.encode_all({"block.0": _block_change(seed=revision)}, patches.PatchSettings())
        staged = bundles.stage_patched(manifest, current, files, revision, fetch)
        bundles.store_files(store, staged.files)
        chain = bundles.module_chains(staged.manifest)["block.0"]
        assert sum(r.bytes for r in chain[1:]) <= bundles.PATCH_CHAIN_SHARE * chain[0].bytes
        if len(chain) == 1:
            break
        manifest, current = staged.manifest, staged.model
    else:
        pytest.fail("the chain never ended in a whole module")
    assert chain[0].dtype == "int8" and chain[0].sha256 != bundles.module_chains(manifest)["block.0"][0].sha256
    assert staged.download_bytes() == chain[0].bytes
    loaded = bundles.load_submodel(staged.manifest, fetch)
    expected = current.module("block.0").state_dict()[Q] + patches.decode(
        "block.0", files["block.0"], current.module("block.0"))[Q]
    assert torch.allclose(loaded.module("block.0").state_dict()[Q], expected, atol=float(expected.abs().amax()) / 127)


def test_a_manifest_with_a_patch_before_its_module_or_a_module_twice_is_refused(model, tmp_path):
    store = LocalDirStore(tmp_path)
    manifest, _ = _published(model, store, int8=False)
    patch = ModuleRef(name="block.0", sha256="0" * 64, bytes=1, kind="patch")
    early = manifest.model_copy(update={"modules": [patch, *manifest.modules]})
    with pytest.raises(BundleError, match="a patch of 'block.0' comes before the module it applies to"):
        bundles.load_submodel(early, bundles.store_fetcher(store))
    twice = manifest.model_copy(update={"modules": [*manifest.modules, manifest.modules[1]]})
    with pytest.raises(BundleError, match="module 'block.0' is listed twice"):
        bundles.load_submodel(twice, bundles.store_fetcher(store))


def test_a_tampered_patch_is_refused_by_its_hash(model, tmp_path):
    store = LocalDirStore(tmp_path)
    manifest, current = _published(model, store, int8=True)
    files = patches.encode_all({"block.0": _block_change()}, patches.PatchSettings())
    staged = bundles.stage_patched(manifest, current, files, 2, bundles.store_fetcher(store))
    bundles.store_files(store, staged.files)
    sha = next(iter(staged.files))
    path = tmp_path / bundles.StoreLayout.module(sha)
    path.write_bytes(path.read_bytes()[:-1] + b"x")
    with pytest.raises(BundleError, match="block.0.*sha256 mismatch"):
        bundles.load_submodel(staged.manifest, bundles.store_fetcher(store))
