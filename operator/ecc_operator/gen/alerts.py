"""ECC Fleet's alert rules, in one place.

`rules_document()` is a plain Prometheus rules file (`groups:`), written by
`python -m ecc_operator.gen.chartgen` to charts/ecc-fleet/files/alerts/ecc-fleet.rules.yaml; the chart's
PrometheusRule (prometheus-operator) embeds the very same groups, and a Prometheus without the
operator loads the file with `rule_files:`. Metric names come from contracts.MetricNames and
ecc_operator.metrics, so a renamed metric breaks the tests rather than silently the alerts.

Operator series carry the fleet's namespace in a `namespace` label: scrape them with
honor_labels (the chart's ServiceMonitor does), or Prometheus renames it `exported_namespace`.
The expressions therefore aggregate by `fleet` / `policy` / `kind` and keep whichever
namespace label is there."""

from __future__ import annotations

from dataclasses import dataclass, field

from ecc_workloads.contracts import MetricNames as M

from ecc_operator import metrics as op_metrics

GROUP = "ecc-fleet"
RUNBOOK = "docs/operations.md#"
"""Where each alert's runbook section is (the anchor is the alert name in lower case)."""

# Thresholds (change here and regenerate: `python -m ecc_operator.gen.chartgen`).
STALE_FOR = "10m"
SKEW_FOR = "30m"
DRIFT_FOR = "30m"
MERGEBACK_WINDOW = "1h"
DISTILL_WINDOW = "1h"


@dataclass(frozen=True)
class Alert:
    name: str
    expr: str
    for_: str
    severity: str
    summary: str
    description: str
    labels: dict[str, str] = field(default_factory=dict)

    def rule(self) -> dict:
        out: dict = {"alert": self.name, "expr": self.expr}
        if self.for_:
            out["for"] = self.for_
        out["labels"] = {"severity": self.severity, "component": "ecc-fleet", **self.labels}
        out["annotations"] = {
            "summary": self.summary,
            "description": self.description,
            "runbook": f"{RUNBOOK}{self.name.lower()}",
        }
        return out


def _metric_name(histogram_or_counter) -> str:
    """The exposed name of a prometheus_client metric (counters gain `_total`)."""
    name = histogram_or_counter._name
    return name + "_total" if histogram_or_counter._type == "counter" else name


JOBS_TOTAL = _metric_name(op_metrics.JOBS)

ALERTS: tuple[Alert, ...] = (
    Alert(
        name="EccFleetAgentsNotReporting",
        expr=f'max by (fleet) ({M.FLEET_NODES}{{state="stale"}}) > 0',
        for_=STALE_FOR,
        severity="warning",
        summary="Edge agents of fleet {{ $labels.fleet }} stopped reporting",
        description="{{ $value }} node(s) of fleet {{ $labels.fleet }} have not written a report to the store for "
                    f"longer than the fleet's stale limit, for {STALE_FOR}. Check the agents' DaemonSet pods, "
                    "the nodes' connectivity to the store and the agents' spool depth.",
    ),
    Alert(
        name="EccFleetRevisionSkew",
        expr=f"max by (fleet) ({M.FLEET_REVISION_SKEW}) > 0",
        for_=SKEW_FOR,
        severity="warning",
        summary="Fleet {{ $labels.fleet }} has not converged on its target revision",
        description=f"Nodes of fleet {{{{ $labels.fleet }}}} have served other revisions than the target for "
                    f"{SKEW_FOR} (skew {{{{ $value }}}}). A halted canary wave, failing health gate or nodes "
                    "that cannot fetch modules keep a rollout from finishing: see the EdgeFleet's conditions.",
    ),
    Alert(
        name="EccFleetDriftHigh",
        expr=f"max by (fleet) ({M.FLEET_DRIFTING_NODES}) > 0",
        for_=DRIFT_FOR,
        severity="warning",
        summary="Fleet {{ $labels.fleet }} drifts above its policy's threshold",
        description=f"{{{{ $value }}}} node(s) of fleet {{{{ $labels.fleet }}}} have had a drift score above their "
                    f"AdaptationPolicy's threshold for {DRIFT_FOR} and no merge-back has brought it down: "
                    "check the policy's quorum, cooldown and last merge-back.",
    ),
    Alert(
        name="EccMergeBackFailed",
        expr=f'sum by (policy) (increase({M.MERGEBACK_ROUNDS}{{result="Failed"}}[{MERGEBACK_WINDOW}])) > 0',
        for_="",
        severity="warning",
        summary="Merge-back of policy {{ $labels.policy }} failed",
        description=f"{{{{ $value }}}} merge-back round(s) of AdaptationPolicy {{{{ $labels.policy }}}} failed in the "
                    f"last {MERGEBACK_WINDOW} (the Job failed or its report could not be read; rounds the "
                    "evaluation gate rejected are not failures). See the policy's status and Events.",
    ),
    Alert(
        name="EccDistillationFailed",
        expr=f'sum (increase({JOBS_TOTAL}{{kind="distill",outcome=~"failed|gate-failed"}}[{DISTILL_WINDOW}])) > 0',
        for_="",
        severity="warning",
        summary="A CloudTeacher's distillation failed",
        description=f"{{{{ $value }}}} distillation Job(s) failed or were refused by the teacher's gates in the last "
                    f"{DISTILL_WINDOW}. `kubectl get cloudteachers -A` shows which teacher is Degraded, its "
                    "message the reason (DistillationFailed, GateFailed, ReportUnreadable).",
    ),
)


def rules_document() -> dict:
    """A Prometheus rules file (also the `spec` of the chart's PrometheusRule)."""
    return {"groups": [{"name": GROUP, "rules": [a.rule() for a in ALERTS]}]}


def expressions() -> list[tuple[str, str]]:
    """(alert name, PromQL) of every rule."""
    return [(a.name, a.expr) for a in ALERTS]
