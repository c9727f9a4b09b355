"""Smoke test of benchmarks/pii.py's held-out evaluation (`--eval`) on a few rows: every block of
`run_eval` runs — both scrubber paths, the headline figures, throughput and the NER model's own
cost — so a name that no longer exists fails here, not at the end of a 10-minute run."""

from pathlib import Path

import pytest

from scriptkit import load_script

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"

INJECTED = [
    {"text": "my name is Jane Doe, please call back", "entities": [{"type": "PERSON", "start": 11, "end": 19}]},
    {"text": "write to jane.doe@example.com today", "entities": [{"type": "EMAIL", "start": 9, "end": 29}]},
]
CLEAN = [{"text": "Will Screwfix replace the EW6F4843BB or repair it?", "entities": []},
         {"text": "Can I pay with Apple Pay in Lisbon?", "entities": []}]


@pytest.fixture(scope="module")
def bench():
    return load_script("pii_bench", BENCHMARKS / "pii.py")


def test_run_eval_scores_both_paths_with_throughput_and_the_ner_cost(bench, monkeypatch):
    sets = {"injected_small": INJECTED, "clean_small": CLEAN}
    monkeypatch.setattr(bench, "_load_set", lambda name: sets[name])
    monkeypatch.setattr(bench, "DEV_SETS", ())
    monkeypatch.setattr(bench, "HELDOUT_SETS", ("injected_small", "clean_small"))
    monkeypatch.setattr(bench, "read_records", lambda _path: [{"instruction": "where is my parcel"}])
    monkeypatch.setattr(bench, "_other_domain_texts", lambda: {"media": ["Play The Happy Blues by Ronnie Wood.",
                                                                        "email jane.doe@example.com about it"]})
    errors: list[dict] = []
    out = bench.run_eval(before="HEAD", heldout=True, throughput=True, errors=errors)

    assert out["headline_sets"] == ["injected_small", "clean_small"]
    # "before": the scrubber of a git revision, loaded from `git show` as a package of its own
    assert set(out["paths"]) == {"before (HEAD)", "rules (edge)", "rules+ner (corpus prepare)"}
    for block in out["paths"].values():
        assert block["injected_small"]["recall"]["PERSON"]["recall"] == 1.0
        assert block["injected_small"]["recall"]["EMAIL"]["recall"] == 1.0
        assert block["clean_small"]["rows_with_false_positive"] == 0
        assert block["headline_recall_min"] == 1.0
        assert block["bitext_unannotated_rows_altered"] == 0
        assert block["utterances_per_second_one_core"] > 0
        media = block["other_domains"]["media"]
        assert media["rows"] == 2 and media["spans_by_type"].get("EMAIL") == 1
    assert out["paths"]["rules (edge)"]["other_domains"]["media"]["rows_altered"] == 1  # the artist stays (round 7)
    ner_loaded = bench.scrubber.names.load_ner() is not None
    assert ("ner_cpu_seconds_per_1000_utterances_ungated" in out) == ner_loaded
    assert errors == []
