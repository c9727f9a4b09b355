"""The fleet report `make demo` ends with: a typed document, its Markdown, PNG plots, console tables.

`FleetReport` is what the demo collected (revisions, accuracy per site before and after the
merge-back, bytes moved versus shipping whole models, merge-back decisions, phase timings).
`write_report` writes report.json, report.md and the plots (drawn with Pillow) into one folder;
`report_tables` renders the same for the console with rich.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Literal

from PIL import Image, ImageDraw, ImageFont
from pydantic import BaseModel, ConfigDict, Field, model_validator
from rich.table import Table

Accuracy = Annotated[float, Field(ge=0.0, le=1.0, description="fraction of correct intents, 0..1")]
Count = Annotated[int, Field(ge=0)]
Seconds = Annotated[float, Field(ge=0.0)]

PLOT_SIZE = (900, 500)
BG, INK, GRID = (255, 255, 255), (40, 40, 40), (225, 225, 225)
BEFORE_COLOUR, AFTER_COLOUR = (120, 144, 180), (230, 126, 34)
UP_COLOUR, DOWN_COLOUR, OURS_COLOUR, WHOLE_COLOUR = (46, 134, 193), (39, 174, 96), (142, 68, 173), (192, 57, 43)
TIMING_COLOUR = (52, 73, 94)
PLOT_FILES = {"accuracy": "accuracy.png", "bytes": "bytes.png", "timings": "timings.png"}


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RevisionEntry(_Doc):
    revision: Count
    published_at: str | None = Field(None, description="ISO 8601 time the teacher published it")
    source: Literal["distillation", "merge-back"]
    accuracy: dict[str, Accuracy] = Field(default_factory=dict, description="held-out accuracy per student profile")


class SiteResult(_Doc):
    name: str = Field(min_length=1)
    nodes: Count = 0
    acc_before: Accuracy = Field(description="accuracy on the site's shifted traffic before the merge-back")
    acc_after: Accuracy = Field(description="accuracy on the same traffic after the new revision rolled out")
    requests: Count = 0
    feedback: Count = 0

    @property
    def delta(self) -> float:
        return self.acc_after - self.acc_before


class MergeBackDecision(_Doc):
    round: Count
    result: Literal["Published", "Rejected", "Failed"]
    revision: int | None = Field(None, ge=0, description="revision published (None unless Published)")
    updates: Count = Field(0, description="edge deltas aggregated")
    reason: str = ""


class ClusterAccess(_Doc):
    prometheus_url: str = ""
    apiserver: str = ""
    how_to_stop: str = ""


class FleetReport(_Doc):
    kind: Literal["FleetReport"] = "FleetReport"
    schema_version: Literal[1] = 1
    generated_at: str | None = None
    final_revision: Count
    revisions: list[RevisionEntry] = Field(default_factory=list)
    sites: list[SiteResult] = Field(default_factory=list)
    bytes_up: Count = Field(description="delta and report bytes the edge nodes uploaded")
    bytes_down: Count = Field(description="module and manifest bytes the edge nodes fetched")
    whole_model_bytes: Count = Field(
        description="bytes shipping whole models would have moved for the same roll-outs and uploads "
                    "(the demo: the whole cloud model down per node and revision, a whole-model update up per delta)")
    bytes_ratio: float | None = Field(None, description="(bytes_up + bytes_down) / whole_model_bytes; derived")
    merge_backs: list[MergeBackDecision] = Field(default_factory=list)
    timings: dict[str, Seconds] = Field(default_factory=dict, description="phase -> seconds, in phase order")
    cluster: ClusterAccess = Field(default_factory=ClusterAccess)

    @model_validator(mode="after")
    def _check(self) -> FleetReport:
        names = [s.name for s in self.sites]
        if len(set(names)) != len(names):
            raise ValueError(f"sites: site names must be unique, got {names}")
        known = {r.revision for r in self.revisions}
        if known and self.final_revision not in known:
            raise ValueError(f"final_revision: {self.final_revision} is not among revisions {sorted(known)}")
        moved = self.bytes_up + self.bytes_down
        self.bytes_ratio = round(moved / self.whole_model_bytes, 6) if self.whole_model_bytes else None
        return self


def human_bytes(n: float) -> str:
    """Decimal units (kB = 1000 B), so log-scale ticks read 1 kB, 10 kB, 100 kB, 1 MB..."""
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def percent(ratio: float | None) -> str:
    """3 significant digits, so a tiny ratio reads 0.0123% rather than 0.00%."""
    return "n/a" if ratio is None else f"{ratio * 100:.3g}%"


def _decade_label(e: int) -> str:
    units = ("B", "kB", "MB", "GB", "TB")
    return f"{10 ** (e % 3)} {units[min(e // 3, len(units) - 1)]}" if e >= 0 else f"{10.0 ** e:g} B"


# ---------------------------------------------------------------------------
# Plots
# ---------------------------------------------------------------------------
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 or no FreeType: fixed-size bitmap font
        return ImageFont.load_default()


class _Canvas:
    """A white image with a title and a plot area (left, top, right, bottom)."""

    def __init__(self, title: str, margins: tuple[int, int, int, int] = (80, 60, 30, 80)) -> None:
        self.img = Image.new("RGB", PLOT_SIZE, BG)
        self.d = ImageDraw.Draw(self.img)
        self.f, self.small, self.big = _font(15), _font(13), _font(20)
        w, h = PLOT_SIZE
        self.box = (margins[0], margins[1], w - margins[2], h - margins[3])
        self.text((w // 2, 22), title, self.big, anchor="mm")

    def text(self, xy, s: str, font=None, anchor: str = "la", fill=INK) -> None:
        self.d.text(xy, s, font=font or self.f, anchor=anchor, fill=fill)

    def width(self, s: str, font=None) -> float:
        return self.d.textlength(s, font=font or self.f)

    def fit(self, s: str, max_w: float, font=None) -> str:
        while len(s) > 1 and self.width(s, font) > max_w:
            s = s[:-2] + "…"
        return s

    def axes(self) -> None:
        left, top, right, bottom = self.box
        self.d.line((left, top, left, bottom), fill=INK, width=2)
        self.d.line((left, bottom, right, bottom), fill=INK, width=2)

    def legend(self, items: list[tuple[str, tuple[int, int, int]]]) -> None:
        x = self.box[2]
        for label, colour in reversed(items):
            x -= self.width(label, self.small) + 8
            self.text((x, 48), label, self.small, anchor="lm")
            x -= 17
            self.d.rectangle((x, 42, x + 11, 53), fill=colour)
            x -= 16


def _nice_ticks(top: float, n: int = 5) -> list[float]:
    if top <= 0:
        return [0.0, 1.0]
    raw = top / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    return [i * step for i in range(int(math.ceil(top / step - 1e-9)) + 1)]


def plot_accuracy(report: FleetReport, path: Path) -> Path:
    cv = _Canvas(f"Accuracy per site before and after the merge-back (revision {report.final_revision})",
                 margins=(80, 75, 30, 80))
    left, top, right, bottom = cv.box
    y_of = lambda v: bottom - v * (bottom - top)  # noqa: E731
    for t in [i / 5 for i in range(6)]:
        cv.d.line((left, y_of(t), right, y_of(t)), fill=GRID)
        cv.text((left - 8, y_of(t)), f"{t:.0%}", cv.small, anchor="rm")
    cv.text((left, top - 22), "accuracy", cv.small, anchor="mm")
    group = (right - left) / max(len(report.sites), 1)
    bar = min(60.0, group * 0.35)
    for i, site in enumerate(report.sites):
        cx = left + group * (i + 0.5)
        for x0, v, colour in ((cx - bar - 2, site.acc_before, BEFORE_COLOUR), (cx + 2, site.acc_after, AFTER_COLOUR)):
            cv.d.rectangle((x0, y_of(v), x0 + bar, bottom), fill=colour)
            cv.text((x0 + bar / 2, y_of(v) - 4), f"{v:.0%}", cv.small, anchor="md")
        cv.text((cx, bottom + 10), cv.fit(site.name, group - 6), cv.f, anchor="ma")
        cv.text((cx, bottom + 32), f"{site.delta * 100:+.1f} pts", cv.small, anchor="ma",
                fill=(30, 130, 60) if site.delta >= 0 else (190, 40, 40))
    cv.axes()
    cv.text(((left + right) // 2, PLOT_SIZE[1] - 18), "site", cv.small, anchor="mm")
    cv.legend([("before", BEFORE_COLOUR), (f"after (revision {report.final_revision})", AFTER_COLOUR)])
    cv.img.save(path)
    return path


def plot_bytes(report: FleetReport, path: Path) -> Path:
    ratio = f": ours = {percent(report.bytes_ratio)} of whole models" if report.bytes_ratio is not None else ""
    cv = _Canvas(f"Bytes moved, log scale{ratio}", margins=(90, 70, 30, 60))
    left, top, right, bottom = cv.box
    bars = [("uploaded (deltas)", report.bytes_up, UP_COLOUR), ("downloaded (modules)", report.bytes_down, DOWN_COLOUR),
            ("ours, total", report.bytes_up + report.bytes_down, OURS_COLOUR),
            ("whole models", report.whole_model_bytes, WHOLE_COLOUR)]
    positive = [v for _, v, _ in bars if v > 0] or [1]
    lo, hi = math.ceil(math.log10(min(positive))) - 1, math.ceil(math.log10(max(positive)) + 1e-9)
    hi = max(hi, lo + 1)
    y_of = lambda v: bottom - (math.log10(v) - lo) / (hi - lo) * (bottom - top)  # noqa: E731
    for e in range(lo, hi + 1):
        cv.d.line((left, y_of(10 ** e), right, y_of(10 ** e)), fill=GRID)
        cv.text((left - 8, y_of(10 ** e)), _decade_label(e), cv.small, anchor="rm")
    slot = (right - left) / len(bars)
    for i, (label, v, colour) in enumerate(bars):
        x0 = left + slot * i + slot * 0.2
        x1 = x0 + slot * 0.6
        if v > 0:
            cv.d.rectangle((x0, y_of(v), x1, bottom), fill=colour)
        cv.text(((x0 + x1) / 2, (y_of(v) if v > 0 else bottom) - 4), human_bytes(v), cv.small, anchor="md")
        cv.text(((x0 + x1) / 2, bottom + 10), label, cv.f, anchor="ma")
    cv.axes()
    cv.text((left, top - 22), "bytes (log scale)", cv.small, anchor="mm")
    cv.img.save(path)
    return path


def plot_timings(report: FleetReport, path: Path) -> Path:
    cv = _Canvas(f"Time per phase (total {sum(report.timings.values()):.0f} s)", margins=(190, 50, 80, 60))
    left, top, right, bottom = cv.box
    ticks = _nice_ticks(max(report.timings.values(), default=1.0))
    x_of = lambda v: left + v / ticks[-1] * (right - left)  # noqa: E731
    for t in ticks:
        cv.d.line((x_of(t), top, x_of(t), bottom), fill=GRID)
        cv.text((x_of(t), bottom + 8), f"{t:g}", cv.small, anchor="ma")
    cv.text(((left + right) // 2, PLOT_SIZE[1] - 18), "seconds", cv.small, anchor="mm")
    row = (bottom - top) / max(len(report.timings), 1)
    bar = min(36.0, row * 0.7)
    for i, (phase, secs) in enumerate(report.timings.items()):
        cy = top + row * (i + 0.5)
        cv.d.rectangle((left, cy - bar / 2, max(x_of(secs), left + 1), cy + bar / 2), fill=TIMING_COLOUR)
        cv.text((left - 10, cy), cv.fit(phase, left - 20), cv.f, anchor="rm")
        cv.text((x_of(secs) + 6, cy), f"{secs:.1f} s", cv.small, anchor="lm")
    cv.axes()
    cv.img.save(path)
    return path


def write_plots(report: FleetReport, out_dir: Path) -> dict[str, Path]:
    """The plots that have data: accuracy (sites), bytes (anything moved), timings (phases)."""
    plots: dict[str, Path] = {}
    if report.sites:
        plots["accuracy"] = plot_accuracy(report, out_dir / PLOT_FILES["accuracy"])
    if report.bytes_up or report.bytes_down or report.whole_model_bytes:
        plots["bytes"] = plot_bytes(report, out_dir / PLOT_FILES["bytes"])
    if report.timings:
        plots["timings"] = plot_timings(report, out_dir / PLOT_FILES["timings"])
    return plots


# ---------------------------------------------------------------------------
# Markdown and console
# ---------------------------------------------------------------------------
def render_markdown(report: FleetReport, plots: dict[str, Path]) -> str:
    link = lambda key, alt: [f"![{alt}]({plots[key].name})", ""] if key in plots else []  # noqa: E731
    moved = report.bytes_up + report.bytes_down
    published = sum(m.result == "Published" for m in report.merge_backs)
    ratio = percent(report.bytes_ratio)
    out = ["# ECC Fleet — fleet report", ""]
    if report.generated_at:
        out += [f"Generated {report.generated_at}.", ""]
    out += ["## Summary", "",
            f"- final revision: **{report.final_revision}** ({len(report.revisions)} revisions listed)",
            f"- sites: {len(report.sites)}, edge nodes: {sum(s.nodes for s in report.sites)}",
            f"- merge-backs: {len(report.merge_backs)} rounds, {published} published",
            f"- bytes moved: {human_bytes(moved)} (up {human_bytes(report.bytes_up)}, down "
            f"{human_bytes(report.bytes_down)}) vs {human_bytes(report.whole_model_bytes)} for whole models "
            f"(ratio {ratio})", ""]
    out += ["## Accuracy per site", "", "| site | nodes | requests | feedback | before | after | Δ (pts) |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    out += [f"| {s.name} | {s.nodes} | {s.requests} | {s.feedback} | {s.acc_before:.1%} | {s.acc_after:.1%} | "
            f"{s.delta * 100:+.1f} |" for s in report.sites]
    out += [""] + link("accuracy", "accuracy per site before and after")
    out += ["## Bytes moved versus whole models", "", "| | bytes | |", "|---|---:|---:|",
            f"| uploaded (deltas, reports) | {report.bytes_up} | {human_bytes(report.bytes_up)} |",
            f"| downloaded (modules, manifests) | {report.bytes_down} | {human_bytes(report.bytes_down)} |",
            f"| ours, total | {moved} | {human_bytes(moved)} |",
            f"| whole models, same roll-outs and uploads | {report.whole_model_bytes} | "
            f"{human_bytes(report.whole_model_bytes)} |", "", f"Ratio: {ratio}.", ""] + link("bytes", "bytes moved")
    out += ["## Merge-back decisions", ""]
    if report.merge_backs:
        out += ["| round | result | revision | updates | reason |", "|---:|---|---:|---:|---|"]
        out += [f"| {m.round} | {m.result} | {'' if m.revision is None else m.revision} | {m.updates} | "
                f"{m.reason.replace('|', '/')} |" for m in report.merge_backs]
    else:
        out += ["No merge-back rounds."]
    profiles = sorted({p for r in report.revisions for p in r.accuracy})
    out += ["", "## Revisions", "", "| revision | source | published | " + " | ".join(profiles) + " |",
            "|---:|---|---|" + "---:|" * len(profiles)]
    out += [f"| {r.revision} | {r.source} | {r.published_at or ''} | "
            + " | ".join(f"{r.accuracy[p]:.1%}" if p in r.accuracy else "" for p in profiles) + " |"
            for r in report.revisions]
    out += ["", "## Timings", "", "| phase | seconds |", "|---|---:|"]
    out += [f"| {k} | {v:.1f} |" for k, v in report.timings.items()]
    out += [f"| **total** | **{sum(report.timings.values()):.1f}** |", ""] + link("timings", "time per phase")
    if any(report.cluster.model_dump().values()):
        out += ["## The cluster", "", f"- Prometheus: {report.cluster.prometheus_url}",
                f"- API server: {report.cluster.apiserver}", f"- stop it: `{report.cluster.how_to_stop}`", ""]
    return "\n".join(out)


def write_report(report: FleetReport, out_dir: Path | str) -> list[Path]:
    """Write report.json, report.md and the plots into out_dir; return the paths written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in PLOT_FILES.values():  # a plot without data this run must not survive from the last
        (out_dir / stale).unlink(missing_ok=True)
    json_path, md_path = out_dir / "report.json", out_dir / "report.md"
    json_path.write_text(report.model_dump_json(indent=2) + "\n")
    plots = write_plots(report, out_dir)
    md_path.write_text(render_markdown(report, plots))
    return [json_path, md_path, *plots.values()]


def report_tables(report: FleetReport) -> list[Table]:
    """Console tables: accuracy per site, bytes, merge-back decisions."""
    sites = Table(title=f"Accuracy per site (final revision {report.final_revision})")
    for col in ("site", "nodes", "requests", "before", "after", "Δ pts"):
        sites.add_column(col, justify="left" if col == "site" else "right")
    for s in report.sites:
        colour = "green" if s.delta >= 0 else "red"
        sites.add_row(s.name, str(s.nodes), str(s.requests), f"{s.acc_before:.1%}", f"{s.acc_after:.1%}",
                      f"[{colour}]{s.delta * 100:+.1f}[/{colour}]")
    moved = Table(title="Bytes moved versus whole models")
    moved.add_column("")
    moved.add_column("bytes", justify="right")
    for label, v in (("up (deltas)", report.bytes_up), ("down (modules)", report.bytes_down),
                     ("ours, total", report.bytes_up + report.bytes_down), ("whole models", report.whole_model_bytes)):
        moved.add_row(label, human_bytes(v))
    if report.bytes_ratio is not None:
        moved.add_row("[bold]ratio[/bold]", f"[bold]{percent(report.bytes_ratio)}[/bold]")
    merges = Table(title="Merge-back decisions")
    for col in ("round", "result", "revision", "updates", "reason"):
        merges.add_column(col)
    for m in report.merge_backs:
        colour = {"Published": "green", "Rejected": "yellow", "Failed": "red"}[m.result]
        merges.add_row(str(m.round), f"[{colour}]{m.result}[/{colour}]", "" if m.revision is None else str(m.revision),
                       str(m.updates), m.reason)
    return [sites, moved, merges]


def report_table(report: FleetReport) -> Table:
    """The one table to print if only one fits: accuracy per site."""
    return report_tables(report)[0]
