"""Smoke test of benchmarks/poisoning.py: the whole benchmark end to end on a tiny random encoder,
four intents and five nodes (≈ 20 s). It checks the JSON and table structure and that the
server's clipping bounds the ×50 upload in the aggregation's input; the real figures come from
running the benchmark on the pretrained model."""

import json
import statistics
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
    return load_script("poisoning", BENCHMARKS / "poisoning.py")


@pytest.fixture(scope="module")
def results(bench, tmp_path_factory):
    corpus, ctx = tiny_bench_context(bench.learning, tmp_path_factory.mktemp("poison"), INTENTS)
    settings = bench.PoisonSettings(nodes=[5], rows_per_node=6, target="get_refund", boost_grid=[None, 3.0],
                                    backdoor_epochs=2, base_max_per_label=12)
    return bench.run(ctx, corpus, settings, log=lambda msg: None)


def test_structure_json_and_table(bench, results):
    assert json.loads(json.dumps(results, default=str))["rounds"]["5"]["attacker"] == results["attacker"]["node"]
    rd = results["rounds"]["5"]
    assert len(rd["nodes"]) == 5 and rd["attacker"] == rd["nodes"][0]
    assert list(rd["results"]) == ["none", "honest_only", *bench.ATTACKS]
    not_target = results["split"]["test_rows_not_target"]
    for attack, r in rd["results"].items():
        assert 0.0 <= r["served"]["clean_acc"] <= 1.0
        assert r["served"]["backdoor"]["rows"] == not_target
        assert isinstance(r["gate"]["passed"], bool)
        expected = 4 if attack == "honest_only" else 5
        assert len(r["accepted"]) == expected and not r["refused"], (attack, r["refused"])
        if attack in bench.ATTACKS:
            assert isinstance(r["goal_accuracy"], bool) and isinstance(r["goal_backdoor"], bool)
    assert rd["results"]["honest_only"]["lost_vs_honest_only_pt"] == 0.0
    assert rd["results"]["none"]["lost_vs_no_attack_pt"] == 0.0
    bd = rd["results"]["backdoor"]["attack"]
    assert [(t["recipe"], t["norm_multiple"]) for t in bd["boost_trials"]] == [
        ("agent", None), ("agent", 3.0), ("strong", None), ("strong", 3.0)]
    assert bd["chosen"] in bd["boost_trials"]
    for t in bd["boost_trials"]:
        assert 0.0 <= t["val_backdoor_candidate"] <= 1.0 and 0.0 <= t["val_backdoor_upload_alone"] <= 1.0
    # the Job's settings come from the operator's Job spec, not from this benchmark
    job = results["merge_job"]
    assert job["spec"]["kind"] == "MergeBackJob" and job["spec"]["store"] == "s3://ecc-fleet"
    assert job["settings"]["method"] == job["params"]["aggregation"] == job["spec"]["aggregation"]
    md = bench.markdown_table(results)
    assert md.count("\n") == 1 + 7 + 1  # header rule, 7 rounds, static row
    assert "| 5 | scaled_x50 |" in md and "| 5 | backdoor |" in md
    bench.print_table(results)


def test_the_adaptive_flip_is_the_strongest_the_screen_lets_through(bench, results):
    """The benchmark's model of the screen (strongest_unscreened_flip) agrees with merge_back's."""
    r = results["rounds"]["5"]["results"]["sign_flip_adaptive"]
    attack, attacker = r["attack"], results["attacker"]["node"]
    tried = {float(k): v for k, v in attack["screened_by_factor"].items()}
    assert sorted(tried) == sorted(bench.ADAPTIVE_FLIPS)
    passing = [f for f, modules in tried.items() if not modules]
    if passing:
        assert attack["factor"] == min(passing)
        assert attacker not in r["screened"]
    else:
        assert attack["factor"] == max(tried) and attacker in r["screened"]
    assert results["merge_job"]["settings"]["screen_fraction"] > 0, "the outlier screen is off by default"


def test_x50_upload_is_clipped_in_the_aggregation_input(results):
    clip = results["merge_job"]["settings"]["clip_multiple"]
    assert clip is not None, "server-side clipping is off by default"
    r = results["rounds"]["5"]["results"]["scaled_x50"]
    attacker = results["attacker"]["node"]
    median = statistics.median(r["pre_clip_norms"].values())
    assert r["pre_clip_norms"][attacker] > clip * median  # ×50 is far above the bound ...
    assert attacker in r["clipped"]
    assert r["aggregation_input_norms"][attacker] <= clip * median * (1 + 1e-6)  # ... and enters at most at it
    honest = [n for n in r["accepted"] if n != attacker]
    for n in honest:  # the honest updates enter unchanged
        assert r["aggregation_input_norms"][n] == pytest.approx(r["pre_clip_norms"][n], rel=1e-6)
    # the attacker's claimed sample count weighs at most max_weight_multiple x the median
    weights = r["aggregation_weights"]
    cap = results["merge_job"]["settings"]["max_weight_multiple"] * statistics.median(weights.values())
    assert weights[attacker] <= cap < results["settings"]["claimed_samples"]
