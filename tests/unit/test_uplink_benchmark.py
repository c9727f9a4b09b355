"""Smoke test of benchmarks/uplink.py on a tiny random encoder and four intents (≈ 15 s): every
upload form runs through the drift scenario's devices, the merge and the hardest site's local
learning; the structure and the byte ordering are checked. The real figures come from running
the benchmark on the pretrained model."""

import json
from pathlib import Path

import pytest
import torch

from _learning_rows import tiny_bench_context
from scriptkit import load_script

torch.set_num_threads(1)
BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
INTENTS = {"cancel_order", "track_order", "get_refund", "recover_password"}


@pytest.fixture(scope="module")
def bench():
    return load_script("uplink", BENCHMARKS / "uplink.py")


@pytest.fixture(scope="module")
def results(bench, tmp_path_factory):
    corpus, ctx = tiny_bench_context(bench.learning, tmp_path_factory.mktemp("uplink"), INTENTS, lora_epochs=1,
                                     drift_max_per_label=12)
    ctx.profiles = {"s1": [0]}
    return bench.run(ctx, corpus, [(2, 2), (1, 4), (1, 1), (1, "k2", 4, 2)], "s1", log=lambda msg: None)


def test_every_form_is_measured_and_smaller_forms_are_smaller(bench, results):
    forms = [r["form"] for r in results["forms"]]
    r = results["trained_rank"]
    assert forms == ["full fp32", f"factors fp32 r{r} h{r}", f"factors int8 r{r} h{r}", "factors int8 r2 h2",
                     "factors int8 r1 h4", "factors int8 r1 h1", "factors int4 r1 k2 head-int2"]
    sizes = {row["form"]: row["bytes_median"] for row in results["forms"]}
    assert sizes["full fp32"] > sizes[f"factors fp32 r{r} h{r}"] > sizes[f"factors int8 r{r} h{r}"] > \
        sizes["factors int8 r2 h2"] > sizes["factors int8 r1 h1"]
    assert sizes["factors int8 r1 h4"] > sizes["factors int8 r1 h1"]
    assert sizes["factors int4 r1 k2 head-int2"] < sizes["factors int8 r1 h1"]
    for row in results["forms"]:
        assert 0.0 <= row["hardest_merged_plus_local_test"] <= 1.0
        assert row["ratio_shipped"] == pytest.approx(results["submodel_bytes"]["shipped_pruned_int8"] / row["bytes_median"])
    ref = next(row for row in results["forms"] if row["form"] == results["reference"])
    assert ref["lost_test_pt"] == 0.0 and ref["lost_val_pt"] == 0.0
    assert results["chosen"]["form"] in forms
    md = bench.markdown_table(results)
    assert md.count("\n") == 1 + len(forms)
    assert results["pooled_rows"]["val"] > results["hardest_rows"]["val"]


def test_a_lower_upload_rank_is_the_best_approximation_of_the_change():
    from ecc_workloads.learning import deltas

    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(8, 24, generator=g), torch.randn(16, 8, generator=g)
    full = b @ a * 2.0
    low_a, low_b = deltas.low_rank_factors(full, 2, 2.0)
    assert low_a.shape == (2, 24) and low_b.shape == (16, 2)
    u, s, vh = torch.linalg.svd(full)
    best = (u[:, :2] * s[:2]) @ vh[:2]
    torch.testing.assert_close(low_b @ low_a * 2.0, best, rtol=1e-4, atol=1e-4)


def test_form_specs(bench):
    assert bench.parse_form("2:4") == (2, 4, 8, 8)
    assert bench.parse_form(" 1:k8@4 ") == (1, "k8", 4, 4)
    assert bench.parse_form("2:0@8/3") == (2, 0, 8, 3)
    for bad in ("0:2", "2", "2:x", "2:4@9", "2:4@1", "2:4@4/", "2:k"):
        with pytest.raises(ValueError):
            bench.parse_form(bad)
    forms = bench.upload_forms(8, [bench.parse_form("1:k8@4/3"), bench.parse_form("2:0"), (2, 0)])
    assert list(forms)[3:] == ["factors int4 r1 k8 head-int3", "factors int8 r2 h0"]
    s = forms["factors int4 r1 k8 head-int3"]
    assert (s.rank, s.head_rows, s.head_rank, s.bits, s.head_bits, s.int8) == (1, 8, None, 4, 3, True)
    with pytest.raises(SystemExit, match="RANK:HEAD"):
        bench.main(["--ranks", "2:x", "--out", "/nonexistent/never-written"])


def _run(seed, forms):
    """A measure() result of one seed: form -> (bytes, lost val pt, lost test pt)."""
    return {"seed": seed, "reference": "factors int8 r8 h8",
            "forms": [{"form": f, "bytes_median": b, "ratio_shipped": 2_252_352 / b, "lost_val_pt": v, "lost_test_pt": t}
                      for f, (b, v, t) in forms.items()]}


def test_the_choice_across_seeds_is_within_the_goal_on_validation_in_every_seed(bench, tmp_path):
    ref = (16_300, 0.0, 0.0)
    s13 = _run(13, {"factors int8 r8 h8": ref, "h4": (3_528, 0.0, 2.34), "h8": (4_364, -0.65, 0.47),
                    "h6": (3_950, 0.2, 0.1)})
    s29 = _run(29, {"factors int8 r8 h8": ref, "h4": (3_522, 0.65, 0.47), "h8": (4_369, -0.33, 0.0)})
    across = bench.choose_across([s13, s29])
    assert [r["form"] for r in across["forms"]] == ["factors int8 r8 h8", "h4", "h8"]  # h6: one seed only
    assert across["chosen"]["form"] == "h8"  # h4 is smaller but 0.65 point out on seed 29's validation
    h8 = across["forms"][2]
    assert h8["bytes_median_max"] == 4_369 and h8["lost_test_pt"] == [0.47, 0.0]
    assert across["chosen"]["goal_ratio_met"] and across["chosen"]["goal_loss_met_on_test"]
    assert bench.choose_across([s13])["chosen"]["form"] == "h4"  # one seed alone picks the smaller one
    # --combine: the same choice from the runs' files, written beside them
    for run in (s13, s29):
        (tmp_path / f"{run['seed']}.json").write_text(json.dumps(run))
    bench.main(["--combine", str(tmp_path / "13.json"), str(tmp_path / "29.json"), "--out", str(tmp_path / "out")])
    written = json.loads((tmp_path / "out" / "uplink-across-seeds.json").read_text())
    assert written["chosen"]["form"] == "h8" and written["seeds"] == [13, 29]
    assert "| **h8** | 4,369 | 516 | -0.65 / -0.33 | +0.47 / +0.00 |" in bench.markdown_across(across)
    with pytest.raises(SystemExit, match="--seed"):
        bench.main(["--seed", "x", "--out", str(tmp_path / "never")])
