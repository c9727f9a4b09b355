"""Grafana dashboards as code (grafana-foundation-sdk).

`fleet_overview()` builds the ECC Fleet overview: nodes by state and by revision, rollout
progress, drift per fleet and per node, merge-backs, bytes moved, edge inference latency
(quantiles of the agents' histogram) and confidence. `python -m ecc_operator.gen.chartgen`
writes it to charts/ecc-fleet/files/dashboards/ as JSON, and the chart ships it as a
ConfigMap labelled for Grafana's dashboard sidecar.

`panel_queries()` lists (panel title, PromQL) for checks: the unit tests parse every
expression; after an end-to-end run each can be sent to the real Prometheus
(`resolved=True` replaces Grafana's variables by values Prometheus understands).

Operator series (ecc_fleet_*, ecc_mergeback_*, ecc_policy_*, ecc_teacher_*) are grouped by
`fleet` / `policy` / `teacher`, never by `namespace`: without honor_labels Prometheus renames
the exported `namespace` label, and the panels must work either way.
"""

from __future__ import annotations

import json
import re

from ecc_workloads.contracts import MetricNames as M

from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import prometheus as prom
from grafana_foundation_sdk.builders import stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm

FLEET_OVERVIEW_UID = "ecc-fleet-overview"
DATASOURCE = dm.DataSourceRef(type_val="prometheus", uid="${datasource}")
FLEET = 'fleet=~"$fleet"'
RATE = "$__rate_interval"

# Concrete stand-ins for Grafana's variables, so the expressions can be parsed and run as-is.
RESOLVED_VARIABLES = {"$__rate_interval": "1m", "$__range": "1h", '"$fleet"': '".*"'}


def _q(expr: str, legend: str = "", ref: str = "A", instant: bool = False) -> prom.Dataquery:
    q = prom.Dataquery().expr(expr).ref_id(ref).datasource(DATASOURCE)
    if legend:
        q = q.legend_format(legend)
    return q.instant() if instant else q.range()


def _ts(title: str, description: str, unit: str, *queries: prom.Dataquery, w: int = 12, h: int = 8,
        stacked: bool = False, min_: float | None = None, max_: float | None = None) -> timeseries.Panel:
    p = (timeseries.Panel().title(title).description(description).datasource(DATASOURCE).unit(unit)
         .span(w).height(h).fill_opacity(10 if not stacked else 60).line_width(1)
         .legend(cb.VizLegendOptions().display_mode(cm.LegendDisplayMode.TABLE).placement(cm.LegendPlacement.BOTTOM)
                 .show_legend(True).calcs(["lastNotNull", "max"])))
    if stacked:
        p = p.stacking(cb.StackingConfig().mode(cm.StackingMode.NORMAL))
    if min_ is not None:
        p = p.min(min_)
    if max_ is not None:
        p = p.max(max_)
    for q in queries:
        p = p.with_target(q)
    return p


def _stat(title: str, description: str, unit: str, query: prom.Dataquery, w: int = 6, h: int = 5) -> stat.Panel:
    return (stat.Panel().title(title).description(description).datasource(DATASOURCE).unit(unit).span(w).height(h)
            .graph_mode(cm.BigValueGraphMode.AREA).color_mode(cm.BigValueColorMode.VALUE)
            .reduce_options(cb.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
            .with_target(query))


def _quantile(q: float, histogram: str, by: str = "") -> str:
    group = f"le, {by}" if by else "le"
    return f"histogram_quantile({q}, sum by ({group}) (rate({histogram}_bucket{{{FLEET}}}[{RATE}])))"


def fleet_overview() -> db.Dashboard:
    fleet_var = (db.QueryVariable("fleet").label("Fleet").datasource(DATASOURCE)
                 .query(f"label_values({M.FLEET_NODES}, fleet)")
                 .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED).sort(dm.VariableSort.ALPHABETICAL_ASC)
                 .multi(True).include_all(True).all_value(".*"))
    ds_var = db.DatasourceVariable("datasource").label("Prometheus").type("prometheus")

    d = (db.Dashboard("ECC Fleet — overview").uid(FLEET_OVERVIEW_UID)
         .description("Edge fleets of ECC Fleet: rollout, drift, merge-back, traffic and edge inference.")
         .tags(["ecc-fleet", "kopf", "edge"]).refresh("30s").time("now-3h", "now").timezone("browser")
         .tooltip(dm.DashboardCursorSync.CROSSHAIR).editable()
         .with_variable(ds_var).with_variable(fleet_var))

    d = d.with_row(db.Row("Fleet and rollout"))
    d = d.with_panel(_stat(
        "Matched nodes", "Nodes the fleets' selectors match.", "none",
        _q(f'sum({M.FLEET_NODES}{{{FLEET}, state="matched"}})', instant=True)))
    d = d.with_panel(_stat(
        "On target revision", "Share of matched nodes serving the fleet's target revision.", "percentunit",
        _q(f"min({M.FLEET_ROLLOUT_PROGRESS}{{{FLEET}}})", instant=True)))
    d = d.with_panel(_stat(
        "Target revision", "The revision the fleets roll out (the teacher's newest published).", "none",
        _q(f"max({M.FLEET_TARGET_REVISION}{{{FLEET}}})", instant=True)))
    d = d.with_panel(_stat(
        "Teacher revision", "Newest revision each CloudTeacher published.", "none",
        _q(f"max({M.TEACHER_REVISION})", instant=True)))
    d = d.with_panel(_ts(
        "Nodes by state", "Matched, ready, on target, failed and stale (no report for too long) nodes.", "none",
        _q(f"sum by (fleet, state) ({M.FLEET_NODES}{{{FLEET}}})", "{{fleet}} {{state}}")))
    d = d.with_panel(_ts(
        "Nodes by revision", "How many nodes serve each revision: a rollout moves the fleet from one band to "
        "the next.", "none",
        _q(f"sum by (revision) ({M.FLEET_NODES_BY_REVISION}{{{FLEET}}})", "revision {{revision}}"), stacked=True))
    d = d.with_panel(_ts(
        "Rollout progress", "Share of matched nodes on the target revision, per fleet.", "percentunit",
        _q(f"max by (fleet) ({M.FLEET_ROLLOUT_PROGRESS}{{{FLEET}}})", "{{fleet}}"), min_=0, max_=1))
    d = d.with_panel(_ts(
        "Revision skew", "Nodes not (yet) serving the target revision, per fleet.", "none",
        _q(f"max by (fleet) ({M.FLEET_REVISION_SKEW}{{{FLEET}}})", "{{fleet}}")))

    d = d.with_row(db.Row("Drift and learning"))
    d = d.with_panel(_ts(
        "Drift per fleet", "Fleet drift score (0..1) the operator folds from the agents' reports.", "none",
        _q(f"max by (fleet) ({M.FLEET_DRIFT}{{{FLEET}}})", "{{fleet}}"),
        _q(f"max by (fleet) ({M.FLEET_DRIFTING_NODES}{{{FLEET}}})", "{{fleet}} drifting nodes", ref="B"),
        min_=0))
    d = d.with_panel(_ts(
        "Drift per node (top 20)", "Drift score each edge agent measures over its window.", "none",
        _q(f"topk(20, max by (fleet, node) ({M.AGENT_DRIFT}{{{FLEET}}}))", "{{node}}"), min_=0, max_=1))
    d = d.with_panel(_ts(
        "Merge-back rounds", "Merge-back rounds per AdaptationPolicy by result (Published, Rejected by the "
        "evaluation gate, Failed).", "none",
        _q(f"sum by (policy, result) ({M.MERGEBACK_ROUNDS})", "{{policy}} {{result}}")))
    d = d.with_panel(_ts(
        "Pending updates", "Edge deltas waiting for the next merge-back round, per policy.", "none",
        _q(f"max by (policy) ({M.POLICY_PENDING_UPDATES})", "{{policy}}")))

    d = d.with_row(db.Row("Bytes moved"))
    d = d.with_panel(_ts(
        "Bytes moved per fleet", "Module bytes fetched by the agents (down) and delta bytes uploaded (up), "
        "totals the operator folds from the reports.", "bytes",
        _q(f"sum by (fleet) ({M.FLEET_BYTES_DOWN}{{{FLEET}}})", "{{fleet}} down"),
        _q(f"sum by (fleet) ({M.FLEET_BYTES_UP}{{{FLEET}}})", "{{fleet}} up", ref="B")))
    d = d.with_panel(_ts(
        "Transfer rate", "Bytes per second the agents fetch and upload.", "Bps",
        _q(f"sum by (fleet) (rate({M.AGENT_BYTES_DOWN}{{{FLEET}}}[{RATE}]))", "{{fleet}} down"),
        _q(f"sum by (fleet) (rate({M.AGENT_BYTES_UP}{{{FLEET}}}[{RATE}]))", "{{fleet}} up", ref="B")))

    d = d.with_row(db.Row("Edge inference"))
    d = d.with_panel(_ts(
        "Inference latency", "Quantiles of the agents' batch-1 inference time over all selected fleets.", "s",
        _q(_quantile(0.5, M.AGENT_LATENCY), "p50"),
        _q(_quantile(0.95, M.AGENT_LATENCY), "p95", ref="B"),
        _q(_quantile(0.99, M.AGENT_LATENCY), "p99", ref="C"), min_=0))
    d = d.with_panel(_ts(
        "Inference latency p95 per node", "Slowest nodes first in the legend.", "s",
        _q(_quantile(0.95, M.AGENT_LATENCY, "node"), "{{node}}"), min_=0))
    d = d.with_panel(_ts(
        "Prediction confidence", "Mean, median and 10th percentile of the confidence of the agents' "
        "predictions: a falling low tail is the first sign of drift.", "percentunit",
        _q(f"sum(rate({M.AGENT_CONFIDENCE}_sum{{{FLEET}}}[{RATE}])) / "
           f"sum(rate({M.AGENT_CONFIDENCE}_count{{{FLEET}}}[{RATE}]))", "mean"),
        _q(_quantile(0.5, M.AGENT_CONFIDENCE), "p50", ref="B"),
        _q(_quantile(0.1, M.AGENT_CONFIDENCE), "p10", ref="C"), min_=0, max_=1))
    d = d.with_panel(_ts(
        "Requests", "Requests per second the edge agents answer, per fleet.", "reqps",
        _q(f"sum by (fleet) (rate({M.AGENT_REQUESTS}{{{FLEET}}}[{RATE}]))", "{{fleet}}"), stacked=True))
    return d


DASHBOARDS = {"ecc-fleet-overview": fleet_overview}
"""file stem -> builder"""


def to_json(dashboard: db.Dashboard) -> str:
    model = dashboard.build()
    for number, panel in enumerate(model.panels or [], start=1):  # stable, unique panel ids
        panel.id_val = number
    return json.dumps(model, cls=JSONEncoder, indent=2, sort_keys=True) + "\n"


def render() -> dict[str, str]:
    """file name -> dashboard JSON."""
    return {f"{stem}.json": to_json(build()) for stem, build in DASHBOARDS.items()}


def _panels(model: dict) -> list[dict]:
    out = []
    for p in model.get("panels") or []:
        out.append(p)
        out.extend(p.get("panels") or [])  # collapsed rows hold their panels
    return out


def resolve(expr: str) -> str:
    for var, value in RESOLVED_VARIABLES.items():
        expr = expr.replace(var, value)
    leftover = re.findall(r"\$\w+", expr)
    if leftover:
        raise ValueError(f"unresolved Grafana variables {leftover} in {expr!r}")
    return expr


def panel_queries(resolved: bool = False) -> list[tuple[str, str]]:
    """(panel title, PromQL) of every query of every dashboard; `resolved`: with Grafana's
    variables replaced ($__rate_interval → 1m, $fleet → .*) so Prometheus can run them."""
    out = []
    for text in render().values():
        for panel in _panels(json.loads(text)):
            for target in panel.get("targets") or []:
                expr = target["expr"]
                out.append((panel["title"], resolve(expr) if resolved else expr))
    return out
