"""Smoke test of benchmarks/downlink.py on a tiny random encoder and four intents: the drift
round's change ships whole and as patches at each tolerance; the structure, the byte ordering and
the choice rule are checked. The real figures come from running the benchmark on the pretrained
model."""

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
    return load_script("downlink", BENCHMARKS / "downlink.py")


@pytest.fixture(scope="module")
def results(bench, tmp_path_factory):
    corpus, ctx = tiny_bench_context(bench.learning, tmp_path_factory.mktemp("downlink"), INTENTS, lora_epochs=1,
                                     drift_max_per_label=12)
    ctx.profiles = {"s1": [0]}
    return bench.run(ctx, corpus, [0.001, 0.1, 0.5], "s1", ["fedavg", "median"], log=lambda msg: None)


def test_every_form_is_measured_and_looser_patches_are_smaller(bench, results):
    for method in ("fedavg", "median"):
        rows = [r for r in results["forms"] if r["method"] == method]
        forms = [r["form"] for r in rows]
        assert forms == ["whole modules", "patches tol 0.001", "patches tol 0.1", "patches tol 0.5"]
        size = {r["form"]: r["bytes"] for r in rows}
        assert size["whole modules"] > size["patches tol 0.001"] >= size["patches tol 0.1"] >= size["patches tol 0.5"]
        ranks = {r["form"]: r["factor_ranks"] for r in rows}
        assert ranks["whole modules"] == {} and ranks["patches tol 0.5"]
        for key, r in ranks["patches tol 0.5"].items():
            assert r <= ranks["patches tol 0.1"].get(key, 10**6), key
        for row in rows:
            assert row["ratio_shipped"] == pytest.approx(results["submodel_bytes_shipped"] / row["bytes"])
            assert 0.0 <= row["pooled_val"] <= 1.0 and 0.0 <= row["hardest_test"] <= 1.0
        assert rows[0]["lost_val_pt"] == 0.0
        chosen = next(r for r in rows if r["form"] == results["chosen"][method]["form"])
        assert chosen["lost_val_pt"] <= bench.CHOICE_MAX_LOSS_PT
        assert all(r["bytes"] >= chosen["bytes"] for r in rows if r["lost_val_pt"] <= bench.CHOICE_MAX_LOSS_PT)
    assert set(results["changed_modules"]) == {"block.0", "head.s1"}
    assert bench.markdown_table(results).count("\n") == 1 + len(results["forms"])


def test_bad_tolerances_are_refused_naming_the_option(bench, tmp_path):
    with pytest.raises(SystemExit, match="--tolerances '0.1,x'"):
        bench.main(["--tolerances", "0.1,x", "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match="in \\[0, 1\\)"):
        bench.main(["--tolerances", "1.5", "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match="--methods 'fedavg,mode'"):
        bench.main(["--methods", "fedavg,mode", "--out", str(tmp_path)])
