"""The demo's fleet report: document, Markdown, PNG plots (measured in pixels), console tables."""

from __future__ import annotations

import json

import pytest
from PIL import Image
from pydantic import ValidationError
from rich.console import Console

from ecc_devcluster import fleet_report as fr


def sample(**changes) -> fr.FleetReport:
    doc = dict(
        generated_at="2026-12-02T10:00:00Z",
        final_revision=2,
        revisions=[
            dict(revision=1, published_at="2026-12-02T09:40:00Z", source="distillation",
                 accuracy={"s2": 0.81, "s4": 0.86}),
            dict(revision=2, published_at="2026-12-02T09:55:00Z", source="merge-back",
                 accuracy={"s2": 0.84, "s4": 0.88}),
        ],
        sites=[
            dict(name="colloquial", nodes=8, acc_before=0.40, acc_after=0.80, requests=1200, feedback=300),
            dict(name="typos", nodes=7, acc_before=0.60, acc_after=0.40, requests=1100, feedback=250),
            dict(name="keyword-style", nodes=5, acc_before=0.20, acc_after=0.60, requests=900, feedback=200),
        ],
        bytes_up=3_000_000, bytes_down=40_000_000, whole_model_bytes=2_000_000_000,
        merge_backs=[
            dict(round=1, result="Rejected", updates=4, reason="gate: held-out accuracy fell 0.8 pts"),
            dict(round=2, result="Published", revision=2, updates=20, reason="gate passed"),
        ],
        timings={"cluster up": 40.0, "distillation": 200.0, "merge-back": 100.0, "rollout": 20.0},
        cluster=dict(prometheus_url="http://127.0.0.1:9090", apiserver="https://127.0.0.1:6443",
                     how_to_stop="make down"),
    )
    doc.update(changes)
    return fr.FleetReport.model_validate(doc)


def colour_runs(img: Image.Image, colour: tuple[int, int, int], axis: str, min_len: int = 16) -> list[int]:
    """Bars of one colour, in drawing order. Each pixel column (axis='x') or row (axis='y') is measured by
    its longest unbroken stretch of that colour (so a legend swatch in the same column does not add up);
    neighbouring columns whose stretch exceeds min_len form one bar, reported by its longest stretch."""
    px = img.load()
    w, h = img.size
    outer, inner = (range(w), range(h)) if axis == "x" else (range(h), range(w))

    def stretch(o: int) -> int:
        best = run = 0
        for i in inner:
            run = run + 1 if px[(o, i) if axis == "x" else (i, o)] == colour else 0
            best = max(best, run)
        return best

    bars, current = [], 0
    for n in [stretch(o) for o in outer] + [0]:
        if n > min_len:
            current = max(current, n)
        elif current:
            bars.append(current)
            current = 0
    return bars


# --- the document -----------------------------------------------------------
def test_json_round_trip_and_required_fields(tmp_path):
    report = sample()
    written = fr.write_report(report, tmp_path / "demo-output")
    json_path = tmp_path / "demo-output" / "report.json"
    assert json_path in written
    assert fr.FleetReport.model_validate_json(json_path.read_text()) == report
    doc = json.loads(json_path.read_text())
    assert doc["schema_version"] == 1
    assert doc["final_revision"] == 2
    assert [s["name"] for s in doc["sites"]] == ["colloquial", "typos", "keyword-style"]
    assert doc["sites"][0]["acc_before"] == 0.40 and doc["sites"][0]["acc_after"] == 0.80
    assert (doc["bytes_up"], doc["bytes_down"], doc["whole_model_bytes"]) == (3_000_000, 40_000_000, 2_000_000_000)
    assert doc["bytes_ratio"] == pytest.approx(43_000_000 / 2_000_000_000)


def test_bytes_ratio_is_derived_not_trusted():
    assert sample(bytes_ratio=0.5).bytes_ratio == pytest.approx(0.0215)
    assert sample(whole_model_bytes=0).bytes_ratio is None
    assert fr.percent(512 / 90e6) == "0.000569%"  # a tiny ratio must not read as 0.00%
    assert fr.percent(None) == "n/a"


@pytest.mark.parametrize("changes, field", [
    (dict(sites=[dict(name="a", acc_before=1.2, acc_after=0.5)]), "acc_before"),
    (dict(sites=[dict(name="a", acc_before=0.5, acc_after=-0.1)]), "acc_after"),
    (dict(bytes_up=-1), "bytes_up"),
    (dict(bytes_down=-5), "bytes_down"),
    (dict(whole_model_bytes=-1), "whole_model_bytes"),
    (dict(timings={"distillation": -3.0}), "timings"),
    (dict(merge_backs=[dict(round=1, result="Maybe")]), "result"),
    (dict(final_revision=7), "final_revision"),
    (dict(sites=[dict(name="a", acc_before=0.1, acc_after=0.2)] * 2), "unique"),
    (dict(colour="blue"), "colour"),
])
def test_bad_input_is_rejected_naming_the_field(changes, field):
    with pytest.raises(ValidationError) as err:
        sample(**changes)
    assert field in str(err.value)


# --- Markdown ---------------------------------------------------------------
def test_markdown_mentions_every_site_and_links_every_png(tmp_path):
    report = sample()
    written = fr.write_report(report, tmp_path)
    md = (tmp_path / "report.md").read_text()
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert pngs == ["accuracy.png", "bytes.png", "timings.png"]
    assert {tmp_path / p for p in pngs} <= set(written)
    for name in pngs:
        assert f"]({name})" in md
    for site in report.sites:
        assert f"| {site.name} |" in md
    assert "| colloquial | 8 | 1200 | 300 | 40.0% | 80.0% | +40.0 |" in md
    assert "| typos | 7 | 1100 | 250 | 60.0% | 40.0% | -20.0 |" in md
    assert "| 2 | Published | 2 | 20 | gate passed |" in md
    assert "ratio 2.15%" in md and "make down" in md


def test_plots_without_data_are_not_written_nor_linked_and_stale_ones_go(tmp_path):
    fr.write_report(sample(), tmp_path)
    fr.write_report(sample(timings={}), tmp_path)
    md = (tmp_path / "report.md").read_text()
    assert not (tmp_path / "timings.png").exists()
    assert "timings.png" not in md
    assert "](accuracy.png)" in md


# --- plots, measured --------------------------------------------------------
def test_pngs_open_have_the_size_and_are_not_blank(tmp_path):
    fr.write_report(sample(), tmp_path)
    for name in fr.PLOT_FILES.values():
        with Image.open(tmp_path / name) as img:
            assert img.format == "PNG"
            assert img.size == fr.PLOT_SIZE == (900, 500)
            assert len(img.convert("RGB").getcolors(maxcolors=1 << 16)) > 10


def test_accuracy_bars_scale_with_accuracy(tmp_path):
    report = sample()
    fr.write_report(report, tmp_path)
    with Image.open(tmp_path / "accuracy.png") as img:
        img = img.convert("RGB")
        after = colour_runs(img, fr.AFTER_COLOUR, "x")
        before = colour_runs(img, fr.BEFORE_COLOUR, "x")
    assert len(after) == len(before) == 3
    # bars are drawn in site order on a linear axis: height = k * accuracy + c, the same k and c for all
    heights = after + before
    values = [s.acc_after for s in report.sites] + [s.acc_before for s in report.sites]
    k = (max(heights) - min(heights)) / (max(values) - min(values))
    assert k > 250  # the plot area is ~345 px high: 1.0 accuracy spans most of it
    c = heights[0] - k * values[0]
    for height, value in zip(heights, values):
        assert abs(height - (k * value + c)) <= 2
    assert after[0] > after[2] > after[1]  # 0.80 > 0.60 > 0.40
    assert before[1] > before[0] > before[2]  # 0.60 > 0.40 > 0.20


def test_bytes_bars_are_log_scaled(tmp_path):
    report = sample(bytes_up=10_000, bytes_down=1_000_000, whole_model_bytes=100_000_000)
    fr.write_report(report, tmp_path)
    with Image.open(tmp_path / "bytes.png") as img:
        img = img.convert("RGB")
        (up,), (down,), (whole,) = (colour_runs(img, c, "x", min_len=4)
                                    for c in (fr.UP_COLOUR, fr.DOWN_COLOUR, fr.WHOLE_COLOUR))
    assert up < down < whole
    # two decades from up to down, two more to whole models: equal steps on a log axis
    assert abs((down - up) - (whole - down)) <= 2


def test_timing_bars_scale_with_seconds(tmp_path):
    report = sample()
    fr.write_report(report, tmp_path)
    with Image.open(tmp_path / "timings.png") as img:
        lengths = colour_runs(img.convert("RGB"), fr.TIMING_COLOUR, "y", min_len=3)
    assert len(lengths) == 4
    # linear axis from 0: length = k * seconds (+ at most a pixel or two where the bar meets the axis)
    k = (lengths[1] - lengths[3]) / (200.0 - 20.0)
    assert k > 2
    for length, secs in zip(lengths, report.timings.values()):
        assert abs(length - k * secs) <= 3


# --- console ----------------------------------------------------------------
def test_console_tables_show_sites_bytes_and_decisions():
    console = Console(record=True, width=120)
    for table in fr.report_tables(sample()):
        console.print(table)
    text = console.export_text()
    for needle in ("colloquial", "typos", "keyword-style", "80.0%", "+40.0", "-20.0",
                   "3.0 MB", "2.0 GB", "2.15%", "Published", "Rejected"):
        assert needle in text
    assert fr.report_table(sample()).row_count == 3
