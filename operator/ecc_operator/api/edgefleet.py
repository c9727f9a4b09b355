"""EdgeFleet: the nodes, which student profile each tier runs, rollouts, the agent and privacy
of uploads."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ecc_operator.api.common import (
    AGE,
    ISO_TIME,
    Condition,
    IntOrPercent,
    Kind,
    LocalObjectRef,
    NodeSelector,
    PrinterColumn,
    Quantity,
    ResourceRequirements,
    Toleration,
    conditions_field,
)
from ecc_workloads.contracts import (
    DEFAULT_AGENT_IMAGE,
    DEFAULT_UPLOAD_BITS,
    DNS_LABEL,
    EDGE_NODE_ROLE_LABEL,
    EDGE_TAINT_KEY,
)
from ecc_workloads.crd_model import CRDModel, Rule, sub


# ---------------------------------------------------------------------------
# EdgeFleet
# ---------------------------------------------------------------------------
class Capacity(CRDModel):
    """Minimum allocatable resources a node must report."""

    cpu: Quantity | None = Field(None, description="minimum allocatable CPU, e.g. 2 or 1500m")
    memory: Quantity | None = Field(None, description="minimum allocatable memory, e.g. 2Gi")


class TierMatch(CRDModel):
    """Which nodes a tier takes; an empty match takes every remaining node."""

    labels: dict[str, Annotated[str, Field(max_length=63)]] | None = Field(
        None, description="node labels that must be present with these values, e.g. {ecc.dev/capacity-class: small}",
        json_schema_extra={"maxProperties": 16},
    )
    min_capacity: Capacity | None = Field(None, description="minimum allocatable resources of the node")


def _empty_match(t: "Tier") -> bool:
    return t.match is None or (not t.match.labels and t.match.min_capacity is None)


_EMPTY_MATCH_CEL = "(!has({t}.match) || ((!has({t}.match.labels) || size({t}.match.labels) == 0) && !has({t}.match.minCapacity)))"


class Tier(CRDModel):
    """A class of nodes and the student profile it runs. Tiers are tried in order; the first match wins."""

    name: str = Field(description="tier name (a DNS label)", max_length=63, pattern=DNS_LABEL)
    match: TierMatch | None = Field(None, description="which nodes belong to this tier; omit for a catch-all last tier")
    profile: str = Field(description="student profile of the teacher that nodes of this tier run",
                         max_length=63, pattern=DNS_LABEL)


class HealthGate(CRDModel):
    """When a rollout wave counts as healthy."""

    min_healthy_percent: int = Field(90, ge=0, le=100,
                                     description="share of a wave's nodes that must report healthy on the target revision")
    timeout_seconds: int = Field(600, ge=10, le=86400,
                                 description="a wave not healthy after this long halts the rollout (Degraded)")


class RolloutSpec(CRDModel):
    """How a new revision reaches the nodes: a canary wave, the health gate, then the rest."""

    canary_percent: int = Field(10, ge=0, le=100, description="share of matched nodes in the canary wave (0: no canary)")
    max_unavailable: IntOrPercent = Field(
        "25%", description="how many nodes may be switching at once: a count or a percentage, e.g. 5 or 25%"
    )
    health_gate: HealthGate = sub(HealthGate, "health gate between waves")
    paused: bool = Field(False, description="hold the rollout where it is")


class AgentStateSpec(CRDModel):
    """The agent's local state: held modules, the last good model, the spool, the feedback journal."""

    volume: Literal["hostPath", "emptyDir"] = Field(
        "hostPath", description="hostPath: on the node's disk under hostPathRoot/<namespace>/<fleet>, kept when the "
        "pod is replaced (spooled deltas and reports survive); emptyDir: lost with the pod")
    host_path_root: str = Field("/var/lib/ecc-agent", pattern=r"^/[A-Za-z0-9._/-]*$", max_length=200,
                                description="node directory under which each fleet's agents keep their state")
    spool_max_bytes: Quantity = Field("64Mi", description="cap of the spool (writes waiting for the store)")
    module_cache_max_bytes: Quantity = Field("512Mi", description="cap of the module cache (least recently used "
                                             "evicted; the served model's modules never)")


class AgentSpec(CRDModel):
    """The edge agent DaemonSet."""

    image: str = Field(DEFAULT_AGENT_IMAGE, description="container image of the edge agent", min_length=1, max_length=512)
    resources: ResourceRequirements = sub(ResourceRequirements, "compute resources of the agent's container")
    tolerations: list[Toleration] = Field(
        default_factory=lambda: [Toleration(key=EDGE_TAINT_KEY, operator="Exists", effect="NoSchedule")],
        description="tolerations of the agent pods (default: the edge node taint)",
        max_length=32,
        json_schema_extra={"default": [{"key": EDGE_TAINT_KEY, "operator": "Exists", "effect": "NoSchedule"}]},
    )
    poll_interval_seconds: int = Field(10, ge=1, le=3600, description="how often agents poll the desired state")
    report_interval_seconds: int = Field(30, ge=1, le=3600, description="how often agents write their report")
    port: int = Field(8090, ge=1024, le=65535, description="port of the agent's local inference and metrics server")
    state: AgentStateSpec = sub(AgentStateSpec, "the agent's local state directory and its caps")


class PrivacySpec(CRDModel):
    """What may leave an edge node."""

    cloud_assist: bool = Field(False, description="ask the served teacher for labels on low-confidence utterances")
    scrub_before_assist: bool = Field(True, description="scrub personal data from text before it is sent for cloud assist")
    assist_below_confidence: float = Field(0.5, ge=0, le=1,
                                           description="ask for cloud assist when the student's confidence is below this")
    upload_form: Literal["full", "factors"] = Field(
        "factors", description="upload deltas as LoRA factors (small) or as full weight changes (needed for "
        "uploadNoiseMultiplier)")
    upload_rank: int | None = Field(
        2, ge=1, le=64, description="factors form: send each LoRA change at this rank when below the trained rank "
        "(a truncated SVD; null: as trained). Default 2: chosen on validation by benchmarks/uplink.py")
    upload_head_rank: int = Field(
        8, ge=0, le=64, description="factors form: send the head's change at this rank (a truncated SVD); 0: whole. "
        "Default 8: with uploadBits 4, 516x smaller than the shipped student at no loss against the trained-rank "
        "int8 upload on two seeds (benchmarks/uplink.py); 0 is 161x, up to 1.4 points better")
    upload_clip_norm: float | None = Field(None, gt=0, description="clip each upload's global L2 norm to this")
    upload_noise_multiplier: float = Field(0.0, ge=0, le=100,
                                           description="Gaussian noise std = multiplier x uploadClipNorm (0: none)")
    quantize_uploads: bool = Field(True, description="quantise uploaded deltas to int8")
    upload_bits: int | None = Field(
        None, ge=2, le=8, description="int8 uploads (quantizeUploads): round each int8 row to 2^(bits-1)-1 levels "
        "each side of zero (its step chosen for the least squared error); the bytes stay int8, so the cloud decodes "
        f"them as before, and the deflated upload codes them in about this many bits each. 8: plain int8. null: "
        f"{DEFAULT_UPLOAD_BITS} for the factors form (benchmarks/uplink.py), 8 for the full form")
    upload_head_bits: int | None = Field(
        None, ge=2, le=8, description="int8 uploads (quantizeUploads): uploadBits for the head's change (its bytes "
        "stay int8 too); null: the same as uploadBits")

    cel_rules = (
        Rule(
            cel="!self.cloudAssist || self.scrubBeforeAssist",
            message="cloudAssist needs scrubBeforeAssist: raw text never leaves a node",
            check=lambda m: not m.cloud_assist or m.scrub_before_assist,
            field_path=".scrubBeforeAssist",
        ),
        Rule(
            cel="self.uploadNoiseMultiplier == 0.0 || has(self.uploadClipNorm)",
            message="uploadNoiseMultiplier > 0 needs uploadClipNorm (noise is scaled by the clip norm)",
            check=lambda m: m.upload_noise_multiplier == 0 or m.upload_clip_norm is not None,
            field_path=".uploadClipNorm",
            reason="FieldValueRequired",
        ),
        Rule(
            cel="self.uploadNoiseMultiplier == 0.0 || self.uploadForm == 'full'",
            message="uploadNoiseMultiplier > 0 needs uploadForm full (noise is added to the full weight change)",
            check=lambda m: m.upload_noise_multiplier == 0 or m.upload_form == "full",
            field_path=".uploadForm",
        ),
        Rule(
            cel="self.quantizeUploads || ((!has(self.uploadBits) || self.uploadBits == 8) && !has(self.uploadHeadBits))",
            message="uploadBits below 8 and uploadHeadBits need quantizeUploads (they round the int8 values)",
            check=lambda m: m.quantize_uploads or (m.upload_bits in (None, 8) and m.upload_head_bits is None),
            field_path=".quantizeUploads",
        ),
    )


class EdgeFleetSpec(CRDModel):
    """A set of edge nodes and what runs on them."""

    teacher_ref: LocalObjectRef = Field(description="the CloudTeacher whose revisions this fleet runs (immutable)")
    node_selector: NodeSelector = Field(
        default_factory=lambda: NodeSelector(match_labels={EDGE_NODE_ROLE_LABEL: ""}),
        description="which nodes belong to the fleet (default: KubeEdge's edge role label)",
        json_schema_extra={"default": {"matchLabels": {EDGE_NODE_ROLE_LABEL: ""}}},
    )
    tiers: list[Tier] = Field(description="node tiers, tried in order; each runs one student profile",
                              min_length=1, max_length=16)
    rollout: RolloutSpec = sub(RolloutSpec, "how revisions roll out")
    agent: AgentSpec = sub(AgentSpec, "the edge agent")
    privacy: PrivacySpec = sub(PrivacySpec, "what may leave an edge node")

    cel_rules = (
        Rule(
            cel="self.teacherRef == oldSelf.teacherRef",
            message="teacherRef is immutable: create a new EdgeFleet to follow another teacher",
            check=lambda m: True,
            field_path=".teacherRef",
            transition=True,
        ),
        Rule(
            cel="(has(self.nodeSelector.matchLabels) && size(self.nodeSelector.matchLabels) > 0) || "
            "(has(self.nodeSelector.matchExpressions) && size(self.nodeSelector.matchExpressions) > 0)",
            message="nodeSelector must not be empty (it would select every node, control plane included)",
            check=lambda m: bool(m.node_selector.match_labels or m.node_selector.match_expressions),
            field_path=".nodeSelector",
            reason="FieldValueRequired",
        ),
        Rule(
            cel="self.tiers.all(s, self.tiers.exists_one(t, t.name == s.name))",
            message="tier names must be unique",
            check=lambda m: len({t.name for t in m.tiers}) == len(m.tiers),
            field_path=".tiers",
        ),
        Rule(
            cel="self.tiers.filter(t, " + _EMPTY_MATCH_CEL.format(t="t") + ").all(t, t.name == self.tiers[size(self.tiers) - 1].name)",
            message="only the last tier may have an empty match (a catch-all)",
            check=lambda m: all(t.name == m.tiers[-1].name for t in m.tiers if _empty_match(t)),
            field_path=".tiers",
        ),
    )


EdgeFleetPhase = Literal["Pending", "RollingOut", "Ready", "Degraded", "Deleting"]
EDGE_FLEET_PHASES: dict[str, str] = {
    "Pending": "waiting for the teacher's first revision or for matching nodes",
    "RollingOut": "a revision is rolling out in waves",
    "Ready": "every matched node that reports is on the target revision",
    "Degraded": "the teacher is missing, or a wave failed its health gate; see message and conditions",
    "Deleting": "the agent DaemonSet and the fleet's store prefix are being removed",
}


class NodeCounts(CRDModel):
    """Node counts of the fleet."""

    matched: int = Field(0, ge=0, description="nodes matching the selector")
    ready: int = Field(0, ge=0, description="matched nodes whose agent reports healthy")
    on_target: int = Field(0, ge=0, description="matched nodes serving the target revision")
    failed: int = Field(0, ge=0, description="matched nodes whose agent reports a failure")


class TierStatus(CRDModel):
    """Counts of one tier."""

    name: str = Field(description="tier name", max_length=63)
    profile: str = Field(description="student profile of the tier", max_length=63)
    matched: int = Field(0, ge=0, description="nodes in this tier")
    on_target: int = Field(0, ge=0, description="nodes of this tier on the target revision")


class EdgeFleetStatus(CRDModel):
    """What the operator observed of the fleet (one status patch per fleet per period)."""

    phase: EdgeFleetPhase | None = Field(
        None, description="lifecycle phase: " + "; ".join(f"{k}: {v}" for k, v in EDGE_FLEET_PHASES.items())
    )
    target_revision: int | None = Field(None, ge=0, description="the teacher revision being rolled out")
    nodes: NodeCounts | None = Field(None, description="node counts")
    tiers: list[TierStatus] | None = Field(
        None, description="counts per tier", max_length=16,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
    )
    drift_score: float | None = Field(None, ge=0, le=1, description="fleet drift score (0..1) over reporting nodes")
    revision_skew: int | None = Field(None, ge=0, description="newest minus oldest revision among reporting nodes")
    bytes_moved: int | None = Field(None, ge=0, description="module bytes fetched by agents since the fleet was created")
    rollout_wave: Literal["Canary", "Remaining", "Complete", "Halted"] | None = Field(
        None, description="current rollout wave: Canary, Remaining, Complete or Halted (health gate failed)"
    )
    last_report_time: str | None = Field(None, description="time of the newest agent report folded in",
                                         json_schema_extra=ISO_TIME)
    message: str | None = Field(None, description="human-readable summary of the current state", max_length=4096)
    desired_generation: int | None = Field(None, ge=0, description="generation of the signed desired state "
                                           "last written (agents refuse an older one)")
    observed_generation: int | None = Field(None, ge=0, description="metadata.generation last acted on")
    conditions: list[Condition] | None = conditions_field()


EDGE_FLEET = Kind(
    kind="EdgeFleet",
    plural="edgefleets",
    short_names=("ef",),
    description="EdgeFleet is a set of edge nodes, which student profile each tier runs, and how the teacher's "
    "revisions roll out to them.",
    spec=EdgeFleetSpec,
    status=EdgeFleetStatus,
    phases=EDGE_FLEET_PHASES,
    columns=(
        PrinterColumn("Phase", ".status.phase", "string", "lifecycle phase"),
        PrinterColumn("Teacher", ".spec.teacherRef.name", "string", "the CloudTeacher followed"),
        PrinterColumn("Revision", ".status.targetRevision", "integer", "target revision"),
        PrinterColumn("Ready", ".status.nodes.ready", "integer", "nodes reporting healthy"),
        PrinterColumn("Nodes", ".status.nodes.matched", "integer", "nodes matching the selector"),
        PrinterColumn("On-Target", ".status.nodes.onTarget", "integer", "nodes on the target revision"),
        PrinterColumn("Drift", ".status.driftScore", "number", "fleet drift score (0..1)"),
        PrinterColumn("Skew", ".status.revisionSkew", "integer", "revision skew across nodes", priority=1),
        PrinterColumn("Wave", ".status.rolloutWave", "string", "rollout wave", priority=1),
        AGE,
    ),
    max_name_length=40,
)
