"""AdaptationPolicy: drift detection, on-node adaptation and merge-back rounds."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ecc_operator.api.common import (
    AGE,
    CRON_PATTERN,
    ISO_TIME,
    Condition,
    Kind,
    LocalObjectRef,
    PrinterColumn,
    ResourceRequirements,
    conditions_field,
)
from ecc_workloads.contracts import EvaluationGate
from ecc_workloads.crd_model import CRDModel, Rule, set_list, sub


# ---------------------------------------------------------------------------
# AdaptationPolicy
# ---------------------------------------------------------------------------
class DriftSpec(CRDModel):
    """When a node counts as drifting, and when the fleet does."""

    signal: Literal["confidence", "label-shift", "embedding-shift", "feedback-error"] = Field(
        "confidence",
        description="drift statistic agents compute locally: confidence (drop of mean top-class confidence), "
        "label-shift (divergence of predicted label mix), embedding-shift (distance of mean embedding, computed "
        "on the node), feedback-error (share of user corrections)",
    )
    threshold: float = Field(0.3, ge=0, le=1, description="a node whose drift score exceeds this is drifting (0..1)")
    min_nodes: int = Field(1, ge=1, le=100000, description="drift fires when at least this many nodes drift")
    window_minutes: int = Field(15, ge=1, le=10080, description="drift is computed over this trailing window")


class LocalAdaptationSpec(CRDModel):
    """LoRA fine-tuning on each node from user feedback and cloud guidance."""

    lora_rank: int = Field(8, ge=1, le=64, description="LoRA rank r")
    lora_alpha: float = Field(16.0, gt=0, le=1024, description="LoRA scaling alpha (update scale alpha / r)")
    lora_dropout: float = Field(0.0, ge=0, lt=1, description="dropout on the LoRA path")
    target_modules: list[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.]*$", max_length=64)]] = Field(
        default_factory=lambda: ["query", "value"],
        description="Linear layer names inside blocks to adapt, e.g. query, key, value, dense",
        min_length=1, max_length=16,
        json_schema_extra=set_list(default=["query", "value"]),
    )
    train_head: bool = Field(True, description="also adapt the classification head")
    min_samples: int = Field(16, ge=1, le=1_000_000, description="adapt only once this many feedback samples are there")
    max_samples: int = Field(2000, ge=1, le=1_000_000, description="use at most this many recent feedback samples")
    epochs: int = Field(3, ge=1, le=20, description="passes over the samples per adaptation")
    learning_rate: float = Field(5e-4, gt=0, le=1, description="learning rate of the LoRA weights")

    cel_rules = (
        Rule(
            cel="self.minSamples <= self.maxSamples",
            message="minSamples must not exceed maxSamples",
            check=lambda m: m.min_samples <= m.max_samples,
            field_path=".minSamples",
        ),
    )


class MergeTrigger(CRDModel):
    """What starts a merge-back round (at least one)."""

    on_drift: bool = Field(True, description="start a round when the fleet drifts")
    schedule: str | None = Field(None, description="also start rounds on this cron schedule (5 fields or @daily...)",
                                 max_length=128, pattern=CRON_PATTERN)

    cel_rules = (
        Rule(
            cel="self.onDrift || has(self.schedule)",
            message="set onDrift: true or a schedule (at least one trigger)",
            check=lambda m: m.on_drift or m.schedule is not None,
            field_path=".onDrift",
            reason="FieldValueRequired",
        ),
    )


class MergeBackSpec(CRDModel):
    """How edge deltas are merged back into the teacher, module by module."""

    trigger: MergeTrigger = sub(MergeTrigger, "what starts a round")
    aggregation: Literal["fedavg", "trimmed-mean", "median"] = Field(
        "trimmed-mean",
        description="fedavg (sample-weighted mean), trimmed-mean or median (both robust to a few bad updates)",
    )
    trim_fraction: float | None = Field(
        None, ge=0, lt=0.5,
        description="trimmed-mean only: share of updates trimmed from each end (default 0.2)",
    )
    merge_coefficient: float = Field(1.0, gt=0, le=1, description="teacher += coefficient x aggregated change (0 < c <= 1)")
    min_updates: int = Field(2, ge=1, le=100000, description="quorum: deltas needed before the deadline to merge early")
    deadline_minutes: int = Field(30, ge=1, le=10080,
                                  description="after this, merge what arrived if it is at least minNodes deltas "
                                  "(stragglers never block a round)")
    min_nodes: int | None = Field(
        None, ge=1, le=100000,
        description="fewest nodes whose deltas a merge takes, at the deadline too (each node writes one delta per "
        "round; 1 lets a single node's delta change the model alone). Default: 2, or 1 when minUpdates is 1")
    max_update_norm: float | None = Field(None, gt=0, description="reject deltas whose L2 norm exceeds this")
    evaluation_gate: EvaluationGate = sub(EvaluationGate, "held-out gate for the merged model")
    resources: ResourceRequirements = sub(ResourceRequirements, "compute resources of the merge-back Job's container")

    @property
    def floor_of_nodes(self) -> int:
        """minNodes, or its default: 2, or 1 when minUpdates is 1."""
        return self.min_nodes if self.min_nodes is not None else min(2, self.min_updates)

    cel_rules = (
        Rule(
            cel="!has(self.minNodes) || self.minNodes <= self.minUpdates",
            message="minNodes (the floor at the deadline) must not exceed minUpdates (the quorum that merges early)",
            check=lambda m: m.min_nodes is None or m.min_nodes <= m.min_updates,
            field_path=".minNodes",
            reason="FieldValueInvalid",
        ),
        Rule(
            cel="!has(self.trimFraction) || self.aggregation == 'trimmed-mean'",
            message="trimFraction applies to aggregation trimmed-mean only",
            check=lambda m: m.trim_fraction is None or m.aggregation == "trimmed-mean",
            field_path=".trimFraction",
            reason="FieldValueForbidden",
        ),
    )


class AdaptationPolicySpec(CRDModel):
    """When and how a fleet learns and merges back."""

    fleet_ref: LocalObjectRef = Field(description="the EdgeFleet this policy drives (immutable)")
    drift: DriftSpec = sub(DriftSpec, "drift detection")
    local_adaptation: LocalAdaptationSpec = sub(LocalAdaptationSpec, "on-node LoRA adaptation")
    merge_back: MergeBackSpec = sub(MergeBackSpec, "merge-back rounds")
    cooldown_minutes: int = Field(60, ge=0, le=10080, description="minimum time between two merge-back rounds")

    cel_rules = (
        Rule(
            cel="self.fleetRef == oldSelf.fleetRef",
            message="fleetRef is immutable: create a new AdaptationPolicy for another fleet",
            check=lambda m: True,
            field_path=".fleetRef",
            transition=True,
        ),
    )


AdaptationPolicyPhase = Literal["Pending", "Watching", "Collecting", "Merging", "CoolingDown", "Degraded"]
ADAPTATION_POLICY_PHASES: dict[str, str] = {
    "Pending": "waiting for the fleet to exist and run a revision",
    "Watching": "watching drift and the schedule; no round running",
    "Collecting": "a round fired; waiting for the quorum of deltas or the deadline",
    "Merging": "the merge-back Job is running",
    "CoolingDown": "a round finished; the next may start after cooldownMinutes",
    "Degraded": "the fleet is missing or the last round failed; see message and conditions",
}


class LastMergeBack(CRDModel):
    """Outcome of the latest merge-back round."""

    time: str = Field(description="when the round finished", json_schema_extra=ISO_TIME)
    result: Literal["Published", "Rejected", "Failed"] = Field(
        description="Published (became a teacher revision), Rejected (failed the evaluation gate) or Failed"
    )
    revision: int | None = Field(None, ge=0, description="teacher revision published by the round")
    updates: int | None = Field(None, ge=0, description="deltas merged")
    reason: str | None = Field(None, description="why, in a sentence", max_length=4096)


class AdaptationPolicyStatus(CRDModel):
    """What the operator observed of drift and merge-back."""

    phase: AdaptationPolicyPhase | None = Field(
        None, description="lifecycle phase: " + "; ".join(f"{k}: {v}" for k, v in ADAPTATION_POLICY_PHASES.items())
    )
    last_drift_score: float | None = Field(None, ge=0, le=1, description="latest fleet drift score (0..1)")
    drifting_nodes: int | None = Field(None, ge=0, description="nodes whose drift exceeds the threshold")
    pending_updates: int | None = Field(None, ge=0, description="deltas waiting for the current round")
    round: int | None = Field(None, ge=0, description="number of the current or latest merge-back round")
    round_started_time: str | None = Field(None, description="when the current round fired", json_schema_extra=ISO_TIME)
    last_merge_back: LastMergeBack | None = Field(None, description="outcome of the latest round")
    last_job: str | None = Field(None, description="name of the latest merge-back Job", max_length=253)
    message: str | None = Field(None, description="human-readable summary of the current state", max_length=4096)
    observed_generation: int | None = Field(None, ge=0, description="metadata.generation last acted on")
    conditions: list[Condition] | None = conditions_field()




ADAPTATION_POLICY = Kind(
    kind="AdaptationPolicy",
    plural="adaptationpolicies",
    short_names=("ap",),
    description="AdaptationPolicy says when and how an EdgeFleet learns: drift detection, on-node LoRA "
    "adaptation, and merge-back rounds whose result becomes the teacher's next revision.",
    spec=AdaptationPolicySpec,
    status=AdaptationPolicyStatus,
    phases=ADAPTATION_POLICY_PHASES,
    columns=(
        PrinterColumn("Phase", ".status.phase", "string", "lifecycle phase"),
        PrinterColumn("Fleet", ".spec.fleetRef.name", "string", "the EdgeFleet driven"),
        PrinterColumn("Drift", ".status.lastDriftScore", "number", "latest fleet drift score"),
        PrinterColumn("Threshold", ".spec.drift.threshold", "number", "drift threshold"),
        PrinterColumn("Pending", ".status.pendingUpdates", "integer", "deltas waiting"),
        PrinterColumn("Last-Merge", ".status.lastMergeBack.result", "string", "outcome of the latest round"),
        PrinterColumn("Revision", ".status.lastMergeBack.revision", "integer", "revision published by the latest round"),
        AGE,
    ),
    max_name_length=40,
)
