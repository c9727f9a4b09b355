"""Merge-back: aggregation maths, poisoned updates, module-wise holders, the gate."""

import copy
import statistics

import pytest
import torch

from ecc_workloads.learning import deltas, distill, merge, modular
from ecc_workloads.contracts import EdgeDeltaManifest
from ecc_workloads.learning.deltas import EdgeUpdate
from ecc_workloads.learning.merge import MergeSettings

from _learning_rows import bitext_rows

torch.set_num_threads(1)
INTENTS = ["cancel_order", "track_order", "get_refund", "recover_password"]



def _rank(t: torch.Tensor) -> int:
    return int(torch.linalg.matrix_rank(t.double(), rtol=1e-5))  # float32 rounding is not rank


def test_a_robust_aggregate_of_low_rank_changes_keeps_their_span():
    g = torch.Generator().manual_seed(0)
    changes = [torch.randn(48, 2, generator=g) @ torch.randn(2, 40, generator=g) for _ in range(5)]
    deltas = [{"block.0": {"w": c, "b": c[:, 0].clone()}} for c in changes]
    for method in ("trimmed-mean", "median"):
        agg, _ = merge.aggregate_deltas(deltas, [1.0] * 5, method)
        raw = merge.aggregate_tensors(torch.stack(changes), torch.ones(5), method)
        assert _rank(raw) == 40  # coordinate-wise: full rank
        assert _rank(agg["block.0"]["w"]) <= 10 and agg["block.0"]["w"].norm() <= raw.norm() + 1e-5
        mean = torch.stack(changes).mean(0)
        cos = lambda a, b: float((a * b).sum() / a.norm() / b.norm())  # noqa: E731
        assert cos(agg["block.0"]["w"], mean) > cos(raw, mean)
        assert torch.equal(agg["block.0"]["b"], merge.aggregate_tensors(
            torch.stack([c[:, 0] for c in changes]), torch.ones(5), method))  # 1-D: as aggregated
    fed, _ = merge.aggregate_deltas(deltas, [1.0] * 5, "fedavg")  # a mean is in the span already
    torch.testing.assert_close(fed["block.0"]["w"], torch.stack(changes).mean(0))
    # full-rank changes span everything: the projection changes nothing
    full = [torch.randn(12, 10, generator=g) for _ in range(3)]
    med = merge.aggregate_tensors(torch.stack(full), torch.ones(3), "median")
    torch.testing.assert_close(merge.project_to_span(med, full), med)
    assert torch.equal(merge.project_to_span(med, [torch.zeros(12, 10)]), torch.zeros(12, 10))


def test_aggregation_maths():
    stack = torch.tensor([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [4.0, 40.0], [100.0, -100.0]])
    w = torch.tensor([1.0, 1.0, 1.0, 1.0, 4.0])
    torch.testing.assert_close(merge.aggregate_tensors(stack, w, "fedavg"), (stack * w[:, None]).sum(0) / 8)
    torch.testing.assert_close(merge.aggregate_tensors(stack, w, "median"), torch.tensor([3.0, 20.0]))
    # trim 20% of 5 = 1 from each end, per coordinate
    torch.testing.assert_close(merge.aggregate_tensors(stack, w, "trimmed-mean", 0.2), torch.tensor([3.0, 20.0]))
    torch.testing.assert_close(merge.aggregate_tensors(stack[:4], w[:4], "median"), torch.tensor([2.5, 25.0]))
    torch.testing.assert_close(merge.aggregate_tensors(stack[:1], w[:1], "trimmed-mean"), stack[0])
    with pytest.raises(ValueError, match="aggregation method"):
        merge.aggregate_tensors(stack, w, "mode")


def test_poisoned_update_moves_fedavg_but_not_robust_methods():
    torch.manual_seed(0)
    true = torch.randn(16, 16) * 0.01
    honest = [true + torch.randn(16, 16) * 0.001 for _ in range(4)]
    for poison in (true * -50.0, true * 100.0):  # sign-flipped and scaled
        deltas = [{"block.1": {"w": d}} for d in honest + [poison]]
        err = {}
        for method in ("fedavg", "trimmed-mean", "median"):
            agg, contributors = merge.aggregate_deltas(deltas, [100] * 5, method, 0.2)
            assert contributors == {"block.1": 5}
            err[method] = float((agg["block.1"]["w"] - true).norm() / true.norm())
        assert err["fedavg"] > 5, err
        assert err["median"] < 0.2 and err["trimmed-mean"] < 0.2, err


def test_module_wise_over_holders_only():
    d1 = {"block.0": {"w": torch.ones(2)}, "head.s1": {"weight": torch.ones(3)}}
    d2 = {"block.0": {"w": torch.full((2,), 3.0)}, "block.2": {"w": torch.full((2,), 5.0)}}
    agg, contributors = merge.aggregate_deltas([d1, d2], [1, 3], "fedavg")
    assert contributors == {"block.0": 2, "head.s1": 1, "block.2": 1}
    torch.testing.assert_close(agg["block.0"]["w"], torch.full((2,), 2.5))
    torch.testing.assert_close(agg["block.2"]["w"], torch.full((2,), 5.0))  # not diluted by non-holders
    torch.testing.assert_close(agg["head.s1"]["weight"], torch.ones(3))


def test_lora_changes_are_averaged_as_products_not_factors():
    torch.manual_seed(1)
    pairs = [(torch.randn(2, 6), torch.randn(6, 2)) for _ in range(2)]
    products = [{"block.0": {"w": b @ a}} for a, b in pairs]
    agg, _ = merge.aggregate_deltas(products, [1, 1], "fedavg")
    mean_of_changes = (pairs[0][1] @ pairs[0][0] + pairs[1][1] @ pairs[1][0]) / 2
    product_of_means = ((pairs[0][1] + pairs[1][1]) / 2) @ ((pairs[0][0] + pairs[1][0]) / 2)
    torch.testing.assert_close(agg["block.0"]["w"], mean_of_changes)
    assert not torch.allclose(mean_of_changes, product_of_means, atol=1e-3)


def test_gate_decisions():
    assert merge.gate({"a": 0.9, "b": 0.8}, {"a": 0.92, "b": 0.8}).passed
    worse = merge.gate({"a": 0.9, "b": 0.8}, {"a": 0.85, "b": 0.8})
    assert not worse.passed and "below current" in worse.reason
    assert merge.gate({"a": 0.9, "b": 0.8}, {"a": 0.89, "b": 0.8}, tolerance=0.01).passed
    slice_drop = merge.gate({"a": 0.9, "b": 0.5}, {"a": 0.8, "b": 0.7}, max_slice_drop=0.05)
    assert not slice_drop.passed and slice_drop.worst_slice == "a"
    with pytest.raises(ValueError, match="same non-empty slices"):
        merge.gate({"a": 1.0}, {"b": 1.0})


# ------------------------------------------------------------------ with a real (tiny) model
@pytest.fixture(scope="module")
def trained():
    tok = modular.load_tokenizer()
    rows = bitext_rows(INTENTS, 60, seed=11)
    train, held = rows[:160], rows[160:]
    model = modular.tiny_encoder(INTENTS, num_hidden_layers=2, seed=4)
    model.add_profile("s0", [0])
    distill.train_shared(model, tok, [r[0] for r in train], [r[1] for r in train],
                         distill.TrainSettings(epochs=6, lr=2e-3, head_lr=5e-3, max_length=32, freeze_embeddings=False))

    def evaluate(m):
        xs, ys = [r[0] for r in held], [r[1] for r in held]
        return {f"{p}@held": distill.evaluate(m, tok, xs, ys, profile=p)["accuracy"] for p in ("teacher", "s0")}

    return model, evaluate


def _update(node, delta, n=50, revision=7, labels=INTENTS, hashes=None):
    return EdgeUpdate(
        manifest=EdgeDeltaManifest(
            node=node, base_revision=revision, profile="s0", blocks=[0], labels_sha256=deltas.labels_sha256(labels),
            base_modules=hashes or {m: "0" * 64 for m in delta}, num_samples=n, form="full",
            lora_rank=4, lora_scale=2.0, update_norm=0.0),
        delta=delta,
    )


def test_merge_gate_refuses_a_worse_model(trained):
    model, evaluate = trained
    assert min(evaluate(model).values()) > 0.6
    torch.manual_seed(2)
    w = model.blocks["0"].attention.self.query.weight
    harmful = {"block.0": {"attention.self.query.weight": torch.randn_like(w) * 2.0,
                           "attention.self.value.weight": torch.randn_like(w) * 2.0}}
    result = merge.merge_back(model, [_update("bad", harmful)], MergeSettings(method="fedavg"), evaluate, base_revision=7)
    assert result.accepted == ["bad"] and result.candidate is not None
    assert not result.passed, result.decision
    assert result.decision.candidate_mean < result.decision.current_mean


def test_merge_applies_coefficient_and_passes_a_harmless_update(trained):
    model, evaluate = trained
    w = model.heads["s0"].weight
    tiny = {"head.s0": {"weight": torch.full_like(w, 1e-6)}}
    result = merge.merge_back(model, [_update("a", tiny), _update("b", tiny)],
                              MergeSettings(method="median", coefficient=0.5), evaluate, base_revision=7)
    assert result.passed, result.decision
    assert result.changed_modules == ["head.s0"] and result.contributors == {"head.s0": 2}
    torch.testing.assert_close(result.candidate.heads["s0"].weight, w + 0.5e-6)
    assert torch.equal(result.candidate.blocks["0"].output.dense.weight, model.blocks["0"].output.dense.weight)


def test_bad_updates_are_rejected_by_name_and_quorum_holds(trained):
    model, evaluate = trained
    w = model.heads["s0"].weight
    ok = {"head.s0": {"weight": torch.zeros_like(w)}}
    nan = {"head.s0": {"weight": torch.full_like(w, float("nan"))}}
    hashes = {"head.s0": "a" * 64}
    revision_hashes = {"s0": hashes, "teacher": {"head.teacher": "c" * 64}}
    updates = [
        _update("old", ok, revision=6),
        _update("nan", nan, hashes=hashes),
        _update("labels", ok, labels=INTENTS[::-1], hashes=hashes),
        _update("hash", ok, hashes={"head.s0": "b" * 64}),
        _update("good", ok, hashes=hashes),
    ]
    result = merge.merge_back(model, updates, MergeSettings(min_updates=2), evaluate, base_revision=7,
                              module_hashes=revision_hashes)
    assert result.accepted == ["good"]
    assert "revision 6" in result.rejected["old"] and "non-finite" in result.rejected["nan"]
    assert "label set" in result.rejected["labels"] and "head.s0" in result.rejected["hash"]
    assert result.candidate is None and result.decision is None  # quorum of 2 not met


def test_apply_update_validates_targets(trained):
    model, _ = trained
    with pytest.raises(ValueError, match="block.5"):
        deltas.apply_update(model, {"block.5": {"x": torch.zeros(1)}})
    with pytest.raises(ValueError, match="shape"):
        deltas.apply_update(model, {"head.s0": {"weight": torch.zeros(1)}})
    before = copy.deepcopy(model.heads["s0"].weight)
    deltas.apply_update(model, {"head.s0": {"weight": torch.ones_like(before)}})
    assert torch.equal(model.heads["s0"].weight, before), "apply_update must not modify its input"


def test_with_two_updates_each_is_bounded_by_the_other():
    """The median of two norms is their mean, so a x50 update once sat under its own bound; now each
    update is measured against the others only."""
    honest = {"block.0": {"w": torch.full((4, 4), 0.1)}}
    poison = {"block.0": {"w": torch.full((4, 4), 5.0)}}
    deltas, clipped = merge.clip_to_median([honest, poison], 3.0)
    assert list(clipped) == [1] and deltas[0] is honest
    assert merge.global_norm(deltas[1]) == pytest.approx(3.0 * merge.global_norm(honest))
    assert merge.bounded_weights([40, 10**6], 10.0) == [40.0, 400.0]
    assert merge.medians_of_others([1.0, 2.0, 3.0, 10.0]) == [3.0, 3.0, 2.0, 2.0]
    assert merge.medians_of_others([5.0]) == [None]


def test_server_side_clipping_and_bounded_weights_tame_one_scaled_node():
    """Defaults a node cannot talk its way out of: its norm is clipped to 3x the round's median,
    its sample count weighs at most 10x the median; a x50 update of 1 in 5 moves fedavg little."""
    torch.manual_seed(1)
    true = torch.randn(8, 8) * 0.01
    honest = [{"block.0": {"w": true + torch.randn(8, 8) * 0.001}} for _ in range(4)]
    poison = {"block.0": {"w": true * 50.0}}
    deltas, clipped = merge.clip_to_median([*honest, poison], 3.0)
    assert list(clipped) == [4] and clipped[4] == pytest.approx(merge.global_norm(poison))
    median = statistics.median(merge.global_norm(d) for d in honest)  # the others' median, not its own
    assert merge.global_norm(deltas[4]) == pytest.approx(3.0 * median)
    assert all(deltas[i] is honest[i] for i in range(4))  # honest updates untouched
    assert merge.clip_to_median([poison], 3.0)[1] == {}  # alone, nothing to compare it with
    assert merge.bounded_weights([100, 120, 80, 110, 10**9], 10.0) == [100.0, 120.0, 80.0, 110.0, 1050.0]
    assert merge.bounded_weights([0, 0], 10.0) == [1.0, 1.0]
    agg, _ = merge.aggregate_deltas(deltas, merge.bounded_weights([100, 120, 80, 110, 10**9], 10.0), "fedavg")
    raw, _ = merge.aggregate_deltas([*honest, poison], [100, 120, 80, 110, 10**9], "fedavg")
    assert (agg["block.0"]["w"] - true).norm() < 0.05 * (raw["block.0"]["w"] - true).norm()


def test_membership_key_manifest_and_tier_must_agree():
    from ecc_workloads.contracts import DesiredState, DesiredTier

    def update(node: str, profile: str = "s02") -> EdgeUpdate:
        return EdgeUpdate(manifest=EdgeDeltaManifest(
            node=node, base_revision=1, profile=profile, blocks=[0, 2], labels_sha256="0" * 64, base_modules={},
            num_samples=10, form="factors", lora_rank=4, lora_scale=2.0, update_norm=0.1), delta={})

    desired = DesiredState(namespace="shop", fleet="edge", teacher="t", generation=3, target_revision=2,
                           target=[DesiredTier(tier="small", profile="s0", manifest_key="k2", manifest_sha256="2" * 64)],
                           previous_revision=1,
                           previous=[DesiredTier(tier="big", profile="s02", manifest_key="k1", manifest_sha256="1" * 64)],
                           node_tiers={"n1": "big", "n2": "small"})
    assert merge.membership_problem("n1", update("n1"), desired) is None
    assert "claims to be node 'n1'" in merge.membership_problem("n2", update("n1"), desired)
    assert "not a member of fleet shop/edge" in merge.membership_problem("n9", update("n9"), desired)
    assert "its tier 'small' serves 's0'" in merge.membership_problem("n2", update("n2"), desired)
    assert "members are unknown" in merge.membership_problem("n1", update("n1"), None)


def _spread(n, seed=3, size=(8, 8)):
    """n honest changes: a shared direction plus each node's own (different sites)."""
    g = torch.Generator().manual_seed(seed)
    true = torch.randn(*size, generator=g) * 0.01
    return true, [{"block.0": {"w": true + torch.randn(*size, generator=g) * 0.006}} for _ in range(n)]


def test_screen_scores_are_multi_krum_sums_of_nearest_squared_distances():
    vs = [torch.tensor([0.0]), torch.tensor([1.0]), torch.tensor([3.0]), torch.tensor([10.0]), torch.tensor([11.0])]
    # n = 5, f = 1: each vector's 2 nearest others
    assert merge.screen_scores(vs, 1) == pytest.approx([1 + 9, 1 + 4, 4 + 9, 1 + 49, 1 + 64])
    with pytest.raises(ValueError, match="n >= 2f \\+ 3"):
        merge.screen_scores(vs[:4], 1)


def test_a_sign_flipped_update_is_left_out_and_the_trimmed_mean_equals_the_honest_ones():
    """Trimmed mean alone drops the flipped update's coordinates *and* an honest extreme on the
    other side of each; the screen leaves it out whole, so the result is the honest round's."""
    true, honest = _spread(4)
    flipped = {"block.0": {"w": -3.0 * honest[0]["block.0"]["w"]}}
    deltas = [*honest, flipped]
    assert merge.screen_outliers(deltas, 0.2, 2.0) == {"block.0": {4}}
    agg, contributors = merge.aggregate_deltas(deltas, [1] * 5, "trimmed-mean", 0.2, {"block.0": {4}})
    ref, _ = merge.aggregate_deltas(honest, [1] * 4, "trimmed-mean", 0.2)
    assert contributors == {"block.0": 4}
    torch.testing.assert_close(agg["block.0"]["w"], ref["block.0"]["w"])
    unscreened, _ = merge.aggregate_deltas(deltas, [1] * 5, "trimmed-mean", 0.2)
    assert (unscreened["block.0"]["w"] - ref["block.0"]["w"]).norm() > 0.1 * ref["block.0"]["w"].norm()


def test_the_screen_leaves_honest_rounds_alone_and_needs_five_updates():
    _, honest = _spread(5)
    assert merge.screen_outliers(honest, 0.2, 2.0) == {}  # no honest update 2x the others' median score
    assert set(merge.screen_outliers(honest, 0.2, None)["block.0"]) and \
        len(merge.screen_outliers(honest, 0.2, None)["block.0"]) == 1  # Multi-Krum always leaves f out
    poison = {"block.0": {"w": -3.0 * honest[0]["block.0"]["w"]}}
    assert merge.screen_outliers([*honest[:3], poison], 0.2, 2.0) == {}  # 4 updates: nothing to screen with
    assert merge.screen_outliers([*honest, poison], 0.0, 2.0) == {}  # off
    # 20 updates, f = 4: the one hostile update is found among them, module by module
    _, many = _spread(19, seed=5)
    many = [{**d, "head.s1": {"weight": d["block.0"]["w"][:2]}} for d in many]
    hostile = {"block.0": {"w": -3.0 * many[0]["block.0"]["w"]}, "head.s1": {"weight": many[1]["head.s1"]["weight"]}}
    assert merge.screen_outliers([*many, hostile], 0.2, 2.0) == {"block.0": {19}}


def test_merge_back_reports_what_the_screen_left_out(trained):
    model, _ = trained
    g = torch.Generator().manual_seed(11)
    module = "block.0"
    key, weight = next((k, p) for k, p in model.module(module).named_parameters() if p.dim() == 2)
    base = torch.randn(*weight.shape, generator=g) * 1e-4
    deltas = [{module: {key: base + torch.randn(*weight.shape, generator=g) * 6e-5}} for _ in range(4)]
    deltas.append({module: {key: -3.0 * deltas[0][module][key]}})
    updates = [_update(f"node-{i}", d) for i, d in enumerate(deltas)]
    result = merge.merge_back(model, updates, MergeSettings(), lambda m: {"all": 0.5}, base_revision=7)
    assert result.accepted == [f"node-{i}" for i in range(5)]
    assert result.screened == {"node-4": [module]} and result.contributors == {module: 4}
