"""Smoke test of benchmarks/learning.py: every scenario function runs end to end on a tiny
random encoder and a few hundred Bitext rows, and the summary has the promised keys and
types. It checks mechanics only (the real figures come from running the benchmark)."""

import csv
import importlib.util
import json
import sys
from pathlib import Path

import pytest
import torch

from ecc_workloads.learning import modular
from ecc_workloads.data.corpus import BITEXT_SPEC, clean, read_records
from ecc_workloads.contracts import SplitsSpec
from ecc_workloads.data.splits import split

from _learning_rows import BITEXT_CSV

torch.set_num_threads(1)
BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "learning.py"
INTENTS = {"cancel_order", "track_order", "get_refund", "recover_password"}
SUMMARY_TYPES = {
    "teacher_acc": float, "best_student_profile": str, "best_student_acc": float,
    "best_student_latency_ratio": float, "student_bytes_ratio": float, "uplink_ratio": float,
    "drift_hardest_site": str, "drift_static_acc": float, "drift_adapted_merged_acc": float,
    "drift_site_rows": int, "pii_recall_min": float, "pii_precision_min": float,
    "poisoned_fedavg_acc": float, "poisoned_robust_acc": float,
}


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("learning_benchmark", BENCH)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def corpus(bench):
    if not BITEXT_CSV.exists():
        pytest.fail(f"{BITEXT_CSV} is missing: $ECC_BITEXT_CSV must name the Bitext CSV "
                    "(unset: the copy packaged with ecc_workloads)")
    records = [r for r in read_records(str(BITEXT_CSV)) if r["intent"] in INTENTS]
    examples = clean(records, BITEXT_SPEC).examples
    assert 400 < len(examples) < 800
    return bench.Corpus(examples, str(BITEXT_CSV), BITEXT_SPEC, True, {})


@pytest.fixture(scope="module")
def ctx(bench, tmp_path_factory):
    settings = bench.BenchSettings(
        mode="smoke", teacher_epochs=1, student_epochs=1, separate_epochs=1, ks=[5], fewshot_steps=4,
        unlabelled_cap=40, unlabelled_epochs=1, drift_max_per_label=12, lora_epochs=1, latency_queries=4,
        latency_reps=2, latency_warmup=1, lr=1e-3, head_lr=5e-3, contrastive={"iterations": 2, "head_steps": 20},
        self_training={"min_confidence": 0.0},
    )
    return bench.Context(
        tokenizer=modular.load_tokenizer(),
        make_model=lambda labels: modular.tiny_encoder(labels, num_hidden_layers=6, seed=0),
        settings=settings, workdir=tmp_path_factory.mktemp("bench"), threads=1, log=lambda msg: None,
    )


def test_scenarios_and_summary(bench, corpus, ctx, tmp_path):
    parts = split(corpus.examples, SplitsSpec(seed=ctx.settings.seed))
    train = bench.cap_per_label(parts["train"], 30)
    dist = bench.run_distillation(ctx, train, parts["val"], parts["test"])
    assert set(dist["profiles"]) == {"teacher", "s1", "s01", "s024", "sep024"}
    s024 = dist["profiles"]["s024"]
    assert s024["bytes"]["pruned+int8"] < s024["bytes"]["int8"] < s024["bytes"]["fp32"]
    assert s024["bytes"]["pruned"] < s024["bytes"]["fp32"]
    assert s024["shipped"]["latency"]["queries"] == 4
    assert dist["recommended"]["profile"] in ctx.profiles
    # every phase checked the val split (at its last step at least) and kept a checked step
    for phase in ("teacher_phase", "shared_phase", "separate_phase"):
        log = dist["train"][phase]
        assert log["validation"] and log["validation"][-1][0] == log["planned_steps"]
        assert log["best_step"] in [step for step, _ in log["validation"]]
    assert dist["baseline"]["chosen_c"] in bench.BASELINE_C_GRID and set(dist["baseline"]["val_by_c"]) == {str(c) for c in bench.BASELINE_C_GRID}
    assert dist["baseline"]["test"]["n"] == dist["split"]["test"] and 0.0 <= dist["baseline"]["test"]["accuracy"] <= 1.0

    eff = bench.run_data_efficiency(ctx, parts["train"], parts["val"], parts["test"], ("s024", [0, 2, 4]))
    assert eff["k"]["5"]["labelled_rows"] == 5 * len(INTENTS) and eff["k"]["5"]["unlabelled_rows"] == 40
    # few-label mode: 2 iterations x (a positive + a negative pair) per labelled row
    assert eff["k"]["5"]["few_label_tuning"]["pairs"] == 2 * 2 * 5 * len(INTENTS)
    assert eff["k"]["5"]["student_few_label"]["n"] == eff["k"]["5"]["teacher_few_label"]["n"] == eff["test_rows"]
    # then the Job's rounds of self-training (3) on the teacher's labels of the 40 unlabelled rows
    rounds = eff["k"]["5"]["self_training"]
    assert [r["round"] for r in rounds] == [1, 2, 3]
    assert all(0 < r["pseudo_labelled"] <= 40 and r["steps"] > 0 and r["best_step"] is not None for r in rounds)
    assert eff["k"]["5"]["teacher_pairs"]["n"] == eff["test_rows"]

    # the cost of scrubbing: the teacher twice, each variant scored on its own test rows
    raw = [ex.model_copy(update={"text": ex.text.replace("{{ORDER_ID}}", "12345678")}) for ex in parts["test"]]
    variants = {"scrubbed": ({**parts, "train": train}, {"rows_with_pii": 3}),
                "unscrubbed": ({**parts, "train": train, "test": raw}, {"rows_with_pii": 0})}
    scrub = bench.run_scrub_cost(ctx, variants)
    assert scrub["scrubbed"]["test"]["n"] == scrub["unscrubbed"]["test"]["n"] == len(parts["test"])
    assert scrub["cost_points"] == round(100 * (scrub["unscrubbed"]["test"]["accuracy"]
                                                - scrub["scrubbed"]["test"]["accuracy"]), 2)

    drift, state = bench.run_drift(ctx, corpus, "s1")
    assert set(drift["sites"]) == {"voice", "colloquial", "typos", "keyword"}
    assert drift["hardest_site"] in drift["sites"]
    assert all(r["upload_bytes"] < drift["bytes"]["submodel_shipped_pruned_int8"] for r in drift["sites"].values())
    assert len(drift["merge"]["trials"]) == len(bench.MERGE_COEFFICIENTS)

    rob = bench.run_robustness(ctx, state)
    assert set(rob["results"]) == {"none", *bench.POISONS}
    assert set(rob["results"]["none"]) == {"fedavg", "trimmed-mean", "median"}

    small = tmp_path / "small.csv"
    with small.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["instruction", "intent"])
        for ex in corpus.examples[:40]:
            w.writerow([ex.text, ex.label])
    pii = bench.run_pii(str(small), "instruction", bitext=False, rows=24)
    assert pii["injected_rows"] == 24

    summary = bench.summarize(dist, eff, drift, rob, pii)
    for key, kind in SUMMARY_TYPES.items():
        assert isinstance(summary[key], kind), (key, summary[key])
    for key in ("teacher_acc", "best_student_acc", "drift_static_acc", "drift_adapted_merged_acc", "poisoned_fedavg_acc"):
        assert 0.0 <= summary[key] <= 1.0
    checks = {k: v for k, v in summary.items() if k.startswith("check_")}
    assert len(checks) == 12 and all(isinstance(v, bool) for k, v in checks.items() if "_k8_" not in k)
    assert checks["check_few_label_k8_teacher_0_9_of_full"] is None  # the smoke run has k = 5 only
    results = {"distillation": dist, "data_efficiency": eff, "drift": drift, "robustness": rob, "pii": pii, "summary": summary,
               "scrub_cost": scrub}
    bench.print_tables(results, summary)
    out = tmp_path / "run"
    out.mkdir()
    for name, data in results.items():
        (out / f"{name}.json").write_text(json.dumps(data, default=str))
    md = bench.markdown_report(str(out))
    for heading in ("### Distillation", "### Data efficiency", "### Drift", "### Robustness", "### PII", "### Summary",
                    "### The cost of PII scrubbing"):
        assert heading in md
    assert f"**{drift['hardest_site']}** (hardest)" in md
    assert "| frozen baseline (mean-pooled MiniLM + logistic regression" in md and "Frozen baseline: validation accuracy" in md
    assert summary["baseline_acc"] == dist["baseline"]["test"]["accuracy"]


def test_voice_noise_is_deterministic_and_at_the_documented_rate(bench):
    text = "i would like to cancel the order i placed yesterday please " * 20
    a = bench.char_noise(text, bench.VOICE_NOISE_RATE, "7:voice:x")
    assert a == bench.char_noise(text, bench.VOICE_NOISE_RATE, "7:voice:x") != text
    changed = sum(1 for x, y in zip(a, text) if x != y)
    assert changed > 0.02 * len(text)


def test_recommendation_and_checks_are_pure(bench):
    cands = [{"profile": "s1", "form": "int8", "val_acc": 0.90, "p50_ms": 1.0},
             {"profile": "s024", "form": "int8", "val_acc": 0.985, "p50_ms": 3.0},
             {"profile": "s024", "form": "fp32", "val_acc": 0.99, "p50_ms": 6.0}]
    best, met = bench.recommend(cands, teacher_val=0.99, tolerance=0.02)
    assert (best["profile"], best["form"], met) == ("s024", "int8", True)
    best, met = bench.recommend(cands, teacher_val=1.2, tolerance=0.02)
    assert (best["form"], met) == ("fp32", False)
    checks = bench.acceptance({"teacher_acc": 0.99, "best_student_acc": 0.95})
    assert checks["best_student_within_0_03"] is False and checks["teacher_at_least_0_97"] is True
    assert checks["upload_100x_smaller"] is None
    assert checks["student_8x_faster_within_0_01"] is False  # no student reached 8x
    assert bench.acceptance({"teacher_acc": 0.99, "fast_student_acc": 0.981})["student_8x_faster_within_0_01"] is True
    assert bench.acceptance({"teacher_acc": 0.99, "fast_student_acc": 0.979})["student_8x_faster_within_0_01"] is False
    assert bench.acceptance({})["student_8x_faster_within_0_01"] is None


def test_the_fast_student_is_the_most_accurate_one_at_8x(bench):
    def prof(kind, acc, p50):
        return {"kind": kind, "shipped": {"test": {"accuracy": acc}, "latency": {"p50_ms": p50}}}

    dist = {"profiles": {"teacher": {"kind": "teacher", "latency_fp32": {"p50_ms": 10.0}},
                         "s1": prof("shared", 0.97, 1.0), "s01": prof("shared", 0.98, 1.25),
                         "s012": prof("shared", 0.99, 2.0), "sep": prof("separate", 0.995, 1.0)}}
    assert bench.fast_student(dist) == {"fast_student_profile": "s01", "fast_student_acc": 0.98,
                                        "fast_student_latency_ratio": 8.0}
    dist["profiles"] = {k: v for k, v in dist["profiles"].items() if k in ("teacher", "s012")}
    assert bench.fast_student(dist) == {}
    checks = bench.acceptance({"teacher_acc": 0.99, "one_block_acc": 0.98, "k5_teacher_few_label_acc": 0.90,
                               "k5_student_few_label_acc": 0.94, "k8_teacher_few_label_acc": 0.88,
                               "k8_student_few_label_acc": 0.96})
    assert checks["few_label_k5_teacher_0_9_of_full"] is True and checks["few_label_k8_teacher_0_9_of_full"] is False
    assert checks["few_label_k5_student_within_0_03_of_full_label"] is False
    assert checks["few_label_k8_student_within_0_03_of_full_label"] is True


def test_corpus_flags_are_checked(bench):
    with pytest.raises(SystemExit, match="--text-col and --label-col"):
        bench.corpus_spec(bench.parse_args(["--corpus", "x.csv", "--out", "o"]))
    with pytest.raises(SystemExit, match="need --corpus"):
        bench.corpus_spec(bench.parse_args(["--text-col", "t", "--out", "o"]))
    source, spec, bitext = bench.corpus_spec(bench.parse_args(["--corpus", "x.csv", "--text-col", "t", "--label-col", "l", "--out", "o"]))
    assert (spec.text_col, spec.label_col, spec.domain_col, bitext) == ("t", "l", None, False)


def test_the_drift_benchmarks_share_their_set_up(bench, tmp_path, capsys, monkeypatch):
    import time

    started = time.perf_counter()
    bench.timed_log(started)("hello")
    assert capsys.readouterr().out.rstrip().endswith(" s] hello")
    monkeypatch.setattr(bench, "load_corpus", lambda source, spec: (source, spec))  # the real one scrubs 27k rows
    corpus, ctx = bench.bitext_minilm_context(7, 1, tmp_path, print)
    assert corpus == (bench.DEFAULT_CORPUS, bench.BITEXT_SPEC)
    assert ctx.settings == bench.BenchSettings(seed=7) and (ctx.threads, ctx.workdir) == (1, tmp_path)
    facts = bench.run_facts("x.py", ["--out", "d"], started, 1)
    assert facts["command"] == "python benchmarks/x.py --out d" and facts["torch_threads"] == 1
    assert set(facts) == {"command", "wall_s", "machine", "torch", "torch_threads"}
