"""benchmarks/fleet_scale.py's figures of the operator's reconciles (no cluster needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scriptkit import load_script

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench():
    return load_script("fleet_scale_bench", ROOT / "benchmarks" / "fleet_scale.py")


def metrics_text(count: int, total: float, buckets: dict[str, int], listed: int, listing: int, get: int) -> str:
    name = "ecc_operator_reconcile_duration_seconds"
    lines = [f"# HELP {name} time spent in one reconcile", f"# TYPE {name} histogram"]
    for le, n in buckets.items():
        lines.append(f'{name}_bucket{{kind="EdgeFleet",le="{le}"}} {n}')
    lines += [f'{name}_bucket{{kind="EdgeFleet",le="+Inf"}} {count}', f'{name}_count{{kind="EdgeFleet"}} {count}',
              f'{name}_sum{{kind="EdgeFleet"}} {total}',
              f'{name}_count{{kind="CloudTeacher"}} 99', f'{name}_sum{{kind="CloudTeacher"}} 99.0',
              "# HELP ecc_operator_fleet_reports_listed_total x", "# TYPE ecc_operator_fleet_reports_listed_total counter",
              f"ecc_operator_fleet_reports_listed_total {listed}",
              "# HELP ecc_operator_fleet_reports_read_total x", "# TYPE ecc_operator_fleet_reports_read_total counter",
              f'ecc_operator_fleet_reports_read_total{{via="listing"}} {listing}',
              f'ecc_operator_fleet_reports_read_total{{via="get"}} {get}']
    return "\n".join(lines) + "\n"


def test_a_window_gives_mean_quantile_bounds_and_changed_reports_per_reconcile(bench, tmp_path):
    before = bench.parse_operator_metrics(metrics_text(2, 3.0, {"0.5": 0, "1.0": 1, "2.0": 2}, 2000, 1000, 0))
    assert before["count"] == 2 and before["sum"] == 3.0 and before["buckets"][1.0] == 1  # EdgeFleet only
    after = bench.parse_operator_metrics(metrics_text(12, 11.0, {"0.5": 4, "1.0": 10, "2.0": 12}, 12000, 1900, 100))
    log = tmp_path / "reconciles.jsonl"
    log.write_text("\n".join(json.dumps({"t": t, "s": s}) for t, s in [(5, 9.0), (10, 0.4), (11, 1.2), (12, 0.6)])
                   + "\nnot json\n")
    w = bench.reconcile_window(before, after, nodes=1000, durations=bench.logged_reconciles(log, 10, 20))
    assert w["reconciles"] == 10 and w["mean_s"] == 0.8
    assert w["p90_s_bucket_le"] == 1.0 and w["max_s_bucket_le"] == 2.0  # 9 of 10 within 1 s, 1 within 2 s
    assert w["reports_read"] == {"listing": 900, "get": 100} and w["reports_changed_per_reconcile"] == 100.0
    assert w["reports_listed_per_reconcile"] == 1000.0 and w["changed_share"] == 0.1
    assert w["exact"] == {"n": 3, "mean_s": 0.733, "p50_s": 0.6, "p90_s": 1.2, "max_s": 1.2}


def test_no_reconcile_in_a_window_gives_no_figures(bench):
    m = bench.parse_operator_metrics(metrics_text(3, 1.0, {"1.0": 3}, 10, 5, 5))
    w = bench.reconcile_window(m, m, nodes=10)
    assert w["reconciles"] == 0 and w["mean_s"] is None and w["changed_share"] is None and "exact" not in w


def test_the_report_interval_gives_the_changed_share(bench):
    assert bench.report_interval_for(0.1) == 60  # (5 s resync + 1 s reconcile) / 0.1
    assert bench.report_interval_for(1.0) == 6 and bench.report_interval_for(0) == 30
