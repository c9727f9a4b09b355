"""benchmarks/edge_footprint.py end to end on the smallest setting: real MiniLM bundles in both
forms, a real agent process started, restarted from its modules on disk, and asked to predict.
The figures themselves are the benchmark's (never asserted against a time)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scriptkit import load_script

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "edge_footprint.py"


def test_the_footprint_benchmark_writes_a_figure_per_profile_and_form(tmp_path, capsys):
    bench = load_script("ecc_bench_edge_footprint", SCRIPT)
    assert bench.main(["--profiles", "s1", "--restarts", "1", "--queries", "3", "--out", str(tmp_path)]) == 0
    doc = json.loads((tmp_path / "edge_footprint.json").read_text())
    rows = {(r["profile"], r["form"]): r for r in doc["results"]}
    assert set(rows) == {("s1", "fp32"), ("s1", "shipped")}
    assert rows[("s1", "shipped")]["bytes"] * 10 < rows[("s1", "fp32")]["bytes"]  # pruned + int8
    for r in rows.values():
        assert len(r["ready_s"]) == 1 and r["ready_s"][0] > 0 and r["first_start_s"] > 0
        assert 0 < r["anon_ready_mib"] <= r["rss_ready_mib"] <= r["hwm_mib"] and r["predict_p50_ms"] > 0
    assert doc["imports_s"] > 0 and "| s1 | shipped |" in capsys.readouterr().out


def test_an_unknown_profile_is_named():
    bench = load_script("ecc_bench_edge_footprint", SCRIPT)
    with pytest.raises(SystemExit):
        bench.main(["--profiles", "s9", "--out", "/nonexistent"])
