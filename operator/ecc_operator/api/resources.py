"""The three custom resources of `ecc.dev/v1alpha1`: CloudTeacher, EdgeFleet, AdaptationPolicy.

One pydantic model per spec and status. They are the single source of truth:

* `ecc_operator.gen.crdgen` turns them into the CustomResourceDefinitions in `crds/` (field
  descriptions, defaults, enums, bounds, and the CEL rules declared here with `Rule`);
* the controllers parse custom resources with them — the CRD speaks camelCase, Python
  snake_case (``CloudTeacherSpec.model_validate(body["spec"])``);
* every cross-field `Rule` carries the CEL expression the API server enforces *and* the same
  check in Python, so a spec that passes the API server passes the models and vice versa.

Keep every field documented: the description becomes `kubectl explain` text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Field

from ecc_workloads.contracts import (  # noqa: F401  (re-exported for the controllers)
    DNS_LABEL,
    CleaningSpec,
    EvaluationGate,
    SplitsSpec,
    StudentProfile,
    TrainingSpec,
    API_GROUP,
    API_VERSION,
    BITEXT_CORPUS,
    BUILTIN_CORPORA,
    BUILTIN_MODELS,
    DEFAULT_AGENT_IMAGE,
    DEFAULT_UPLOAD_BITS,
    DEFAULT_WORKLOAD_IMAGE,
    KServeServing,
    MODEL_BLOCKS,
    DEFAULT_BUCKET,
    EDGE_NODE_ROLE_LABEL,
    EDGE_TAINT_KEY,
    STORE_SECRET_NAME,
)
from ecc_workloads.crd_model import FLOAT_SLACK, CRDModel, Rule, set_list, sub  # noqa: F401  (re-exported)

S3_URI = r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^\s]*)?"
BUILTIN_NAME = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
SOURCE_PATTERN = rf"^({BUILTIN_NAME}|{S3_URI})$"
CORPUS_URI_PATTERN = rf"^({BUILTIN_NAME}|{S3_URI}|/[^\s]+)$"
BUCKET_PATTERN = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
PREFIX_PATTERN = r"^([A-Za-z0-9!_.*'()-]+/)*$"
QUANTITY_PATTERN = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))"
    r"(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
PERCENT_PATTERN = r"^(100|[1-9]?[0-9])%$"
CRON_PATTERN = (
    r"^(@(yearly|annually|monthly|weekly|daily|hourly)"
    r"|([0-9A-Za-z*,/?-]+ +){4}[0-9A-Za-z*,/?-]+)$"
)
LABEL_KEY_PATTERN = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
CONDITION_REASON_PATTERN = r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"


# ---------------------------------------------------------------------------
# Shared building blocks
# ---------------------------------------------------------------------------
Quantity = Annotated[
    int | Annotated[str, Field(pattern=QUANTITY_PATTERN, max_length=64)],
    Field(description="a Kubernetes quantity, e.g. 500m, 2, 1Gi"),
]
IntOrPercent = Annotated[
    Annotated[int, Field(ge=0)] | Annotated[str, Field(pattern=PERCENT_PATTERN, max_length=4)],
    Field(description="a node count or a percentage of the matched nodes, e.g. 2 or 25%"),
]
ISO_TIME = {"format": "date-time"}


class ResourceRequirements(CRDModel):
    """Compute resources of a container, as in a Pod spec."""

    requests: dict[str, Quantity] | None = Field(
        None,
        description="minimum resources the container needs, e.g. {cpu: 500m, memory: 1Gi}",
        json_schema_extra={"maxProperties": 8},
    )
    limits: dict[str, Quantity] | None = Field(
        None,
        description="maximum resources the container may use, e.g. {cpu: 2, memory: 2Gi}",
        json_schema_extra={"maxProperties": 8},
    )

    cel_rules = (
        Rule(
            cel="!has(self.requests) || !has(self.limits) || self.limits.all(k, !(k in self.requests) "
            "|| quantity(string(self.limits[k])).compareTo(quantity(string(self.requests[k]))) >= 0)",
            message="every limit must be at least the request of the same resource",
            check=lambda m: _limits_cover_requests(m.requests, m.limits),
            field_path=".limits",
        ),
    )


def _limits_cover_requests(requests: dict | None, limits: dict | None) -> bool:
    if not requests or not limits:
        return True
    from kubernetes.utils.quantity import parse_quantity

    return all(parse_quantity(limits[k]) >= parse_quantity(requests[k]) for k in limits if k in requests)


class LocalObjectRef(CRDModel):
    """A reference to an object of the given kind in the same namespace."""

    name: str = Field(description="name of the object (same namespace)", min_length=1, max_length=253,
                      pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


class Condition(CRDModel):
    """The standard Kubernetes condition (as metav1.Condition)."""

    type: str = Field(description="condition type: Ready, Progressing or Degraded", min_length=1,
                      max_length=316, pattern=r"^[A-Za-z][A-Za-z0-9]*$")
    status: Literal["True", "False", "Unknown"] = Field(description="True, False or Unknown")
    reason: str = Field(description="one CamelCase word saying why, e.g. DistillationSucceeded",
                        min_length=1, max_length=1024, pattern=CONDITION_REASON_PATTERN)
    message: str = Field("", description="human-readable detail", max_length=32768)
    last_transition_time: str = Field(
        description="when the status last changed (RFC 3339)", json_schema_extra=ISO_TIME
    )
    observed_generation: int | None = Field(
        None, ge=0, description="metadata.generation of the spec this condition was computed from"
    )


def _conditions_field() -> Any:
    return Field(
        None,
        description="latest observations: Ready, Progressing, Degraded (one entry per type)",
        max_length=16,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )


class Toleration(CRDModel):
    """A toleration, as in a Pod spec."""

    key: str | None = Field(None, description="taint key to tolerate; empty with operator Exists tolerates every taint",
                            max_length=317)
    operator: Literal["Exists", "Equal"] = Field("Equal", description="Exists (any value) or Equal (value must match)")
    value: str | None = Field(None, description="taint value to match (operator Equal)", max_length=63)
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = Field(
        None, description="taint effect to tolerate; empty tolerates every effect"
    )
    toleration_seconds: int | None = Field(
        None, ge=0, description="NoExecute only: how long the pod stays bound after the taint appears"
    )

    cel_rules = (
        Rule(
            cel="self.operator != 'Exists' || !has(self.value) || self.value == ''",
            message="value must be empty when operator is Exists",
            check=lambda m: m.operator != "Exists" or not m.value,
            field_path=".value",
        ),
        Rule(
            cel="has(self.key) || self.operator == 'Exists'",
            message="an empty key needs operator Exists",
            check=lambda m: bool(m.key) or m.operator == "Exists",
            field_path=".operator",
        ),
    )


class LabelSelectorRequirement(CRDModel):
    """A label requirement: key, operator and values."""

    key: str = Field(description="node label key", min_length=1, max_length=317, pattern=LABEL_KEY_PATTERN)
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"] = Field(
        description="In / NotIn (values must be non-empty), Exists / DoesNotExist (values must be empty)"
    )
    values: list[Annotated[str, Field(max_length=63)]] | None = Field(
        None, description="label values for In and NotIn", max_length=64
    )

    cel_rules = (
        Rule(
            cel="(self.operator in ['In', 'NotIn']) == (has(self.values) && size(self.values) > 0)",
            message="values must be non-empty for In and NotIn, and empty for Exists and DoesNotExist",
            check=lambda m: (m.operator in ("In", "NotIn")) == bool(m.values),
            field_path=".values",
        ),
    )


class NodeSelector(CRDModel):
    """Which nodes: all of matchLabels and all of matchExpressions must hold."""

    match_labels: dict[str, Annotated[str, Field(max_length=63)]] | None = Field(
        None, description="node labels that must be present with exactly these values",
        json_schema_extra={"maxProperties": 32},
    )
    match_expressions: list[LabelSelectorRequirement] | None = Field(
        None, description="label requirements, all of which must hold", max_length=32
    )


# ---------------------------------------------------------------------------
# CloudTeacher
# ---------------------------------------------------------------------------
class ModelSpec(CRDModel):
    """The teacher: which pretrained encoder and which labels (intents) it predicts."""

    source: str = Field(
        BUILTIN_MODELS[0],
        description="built-in model name (minilm-l6: all-MiniLM-L6-v2, 6 blocks) or an s3:// URI of a "
        "saved encoder directory",
        max_length=1024,
        pattern=SOURCE_PATTERN,
    )
    task: Literal["intent-classification"] = Field(
        "intent-classification", description="what the teacher's head predicts (intent-classification)"
    )
    labels: list[Annotated[str, Field(min_length=1, max_length=128)]] | None = Field(
        None,
        description="the label set, in head order; leave empty to take the labels found in the corpus",
        min_length=1,
        max_length=1024,
        json_schema_extra=set_list(),
    )
    labels_from: str | None = Field(
        None,
        description="s3:// URI or absolute path of a file with one label per line (instead of labels)",
        max_length=1024,
        pattern=rf"^({S3_URI}|/[^\s]+)$",
    )

    cel_rules = (
        Rule(
            cel="!(has(self.labels) && has(self.labelsFrom))",
            message="set labels or labelsFrom, not both",
            check=lambda m: not (m.labels and m.labels_from),
            field_path=".labelsFrom",
            reason="FieldValueForbidden",
        ),
    )


class CorpusSpec(CRDModel):
    """The labelled utterances the teacher and students learn from."""

    uri: str = Field(
        BITEXT_CORPUS,
        description="built-in corpus name (bitext: the Bitext customer-service corpus), an s3:// URI or an "
        "absolute path of a CSV/JSONL file",
        max_length=1024,
        pattern=CORPUS_URI_PATTERN,
    )
    text_column: str | None = Field(None, description="column holding the utterance (built-in corpora: preset)",
                                    min_length=1, max_length=128)
    label_column: str | None = Field(None, description="column holding the intent label (built-in corpora: preset)",
                                     min_length=1, max_length=128)
    domain_column: str | None = Field(
        None, description="column naming the domain (edge site) of a row; built-in corpora derive it from tags",
        min_length=1, max_length=128,
    )
    response_column: str | None = Field(
        None, description="column holding an agent's answer; the served teacher suggests the answer of the "
        "closest training example of the predicted intent (built-in corpora: preset)",
        min_length=1, max_length=128,
    )
    cleaning: CleaningSpec = sub(CleaningSpec, "cleaning applied before splitting")
    splits: SplitsSpec = sub(SplitsSpec, "train/validation/test fractions")
    max_rows: int | None = Field(
        None, ge=1, le=10_000_000,
        description="train on at most this many rows of the training split (a deterministic sample; the "
        "validation and test splits stay whole) — small slices for tests and demos",
    )

    cel_rules = (
        Rule(
            cel="self.uri in " + str(list(BUILTIN_CORPORA)).replace('"', "'")
            + " || (has(self.textColumn) && has(self.labelColumn))",
            message="a corpus given by URI needs textColumn and labelColumn",
            check=lambda m: m.uri in BUILTIN_CORPORA or bool(m.text_column and m.label_column),
            field_path=".textColumn",
            reason="FieldValueRequired",
        ),
    )


class Gates(CRDModel):
    """Conditions a distilled revision must meet before it is published."""

    min_student_accuracy: float = Field(0.0, ge=0, le=1,
                                        description="every student's test accuracy must reach this (0..1)")
    min_teacher_accuracy: float = Field(0.0, ge=0, le=1, description="the teacher's test accuracy must reach this (0..1)")


class DistillationSpec(TrainingSpec):
    """How students are distilled from the teacher (one Job per revision): the training settings
    the Job receives (`contracts.TrainingSpec`) and how the Job runs."""

    image: str = Field(DEFAULT_WORKLOAD_IMAGE, description="container image of the distillation Job",
                       min_length=1, max_length=512)
    resources: ResourceRequirements = sub(ResourceRequirements, "compute resources of the distillation Job's container")
    gates: Gates = sub(Gates, "what a revision must reach to be published")
    backoff_limit: int = Field(2, ge=0, le=10, description="retries of a failed distillation Job before Degraded")
    active_deadline_seconds: int = Field(3600, ge=60, le=86400, description="a distillation Job running longer fails")


class ServingSpec(CRDModel):
    """How the teacher is served for cloud assist (KServe v1 and v2 inference protocols)."""

    mode: Literal["kserve", "deployment", "auto", "none"] = Field(
        "auto",
        description="kserve: an InferenceService on the ClusterServingRuntime `runtime`; deployment: a Deployment + "
        "Service; auto: kserve when KServe's CRD, a running controller and the runtime are there, else deployment "
        "(the ServingMode condition says why); none: not served",
    )
    runtime: str | None = Field(None, min_length=1, max_length=253, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$",
                                description="ClusterServingRuntime of mode kserve; empty: the one the operator's "
                                "chart installs (`--kserve-runtime`)")
    protocol: Literal["v1", "v2"] = Field(
        "v2", description="KServe protocol the InferenceService declares and the edge agents' cloud assist speaks")
    replicas: int = Field(1, ge=0, le=10, description="serving replicas (0 scales serving down)")
    resources: ResourceRequirements = sub(ResourceRequirements, "compute resources of each serving replica")
    tls_secret_name: str | None = Field(
        None, min_length=1, max_length=253, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$",
        description="Secret (type kubernetes.io/tls: tls.crt, tls.key, ca.crt) in this namespace holding the "
        "server's certificate, used as it is (renewal and rolls are yours); it must cover <name>-serving.<namespace>"
        ".svc, <name>-serving-predictor.<namespace>.svc and their .cluster.local forms, and chain to the CA agents "
        "trust (ca.crt of the operator's Secret ecc-node-credentials-tls). Empty: the operator issues one from "
        "its own CA into <name>-serving-tls (it must hold that CA's key)")


class SecretRef(CRDModel):
    """A Secret in the same namespace."""

    name: str = Field(STORE_SECRET_NAME, description="Secret name", min_length=1, max_length=253,
                      pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


class StoreSpec(CRDModel):
    """Where bundles, reports and desired state live (an S3 API such as MinIO)."""

    secret_ref: SecretRef = sub(SecretRef, "Secret holding the store's endpoint and credentials (ECC_STORE_* keys)")
    bucket: str = Field(DEFAULT_BUCKET, description="bucket name", pattern=BUCKET_PATTERN, max_length=63)
    prefix: str = Field("", description="key prefix inside the bucket, empty or ending in /", max_length=256,
                        pattern=PREFIX_PATTERN)


class CloudTeacherSpec(CRDModel):
    """The cloud model, how students are made from it, and how it is served."""

    model: ModelSpec = sub(ModelSpec, "the pretrained teacher and its label set")
    corpus: CorpusSpec = sub(CorpusSpec, "the training corpus and its cleaning")
    students: list[StudentProfile] = Field(
        description="student profiles to distil; each becomes a bundle per revision", min_length=1, max_length=16
    )
    distillation: DistillationSpec = sub(DistillationSpec, "distillation hyper-parameters, resources and gates")
    serving: ServingSpec = sub(ServingSpec, "how the teacher is served")
    store: StoreSpec = sub(StoreSpec, "the object store")

    cel_rules = (
        Rule(
            cel="self.students.all(s, self.students.exists_one(t, t.profile == s.profile))",
            message="student profile names must be unique",
            check=lambda m: len({s.profile for s in m.students}) == len(m.students),
            field_path=".students",
        ),
    )


CloudTeacherPhase = Literal["Pending", "Distilling", "Publishing", "Ready", "Degraded", "Deleting"]
CLOUD_TEACHER_PHASES: dict[str, str] = {
    "Pending": "accepted, waiting to start the first distillation",
    "Distilling": "a distillation Job for the next revision is running",
    "Publishing": "the Job succeeded; gates are checked and bundles published",
    "Ready": "the current revision is published (and served, unless serving.mode is none)",
    "Degraded": "the last distillation or serving failed; see message and conditions",
    "Deleting": "children and the store prefix are being removed",
}


class Bundle(CRDModel):
    """A published student bundle of the current revision."""

    profile: str = Field(description="student profile", max_length=63)
    manifest_uri: str = Field(alias="manifestURI", description="s3:// URI of the bundle manifest", max_length=1024)
    sha256: str = Field(description="sha256 of the manifest", pattern=r"^[0-9a-f]{64}$")
    bytes: int = Field(ge=0, description="total size of the bundle's modules in bytes")
    accuracy: float | None = Field(None, ge=0, le=1, description="test accuracy of the student (0..1)")


class ServingCertificateStatus(CRDModel):
    """The serving certificate the operator issued to the served teacher (never for
    spec.serving.tlsSecretName): it issues a new one when this is missing, expires within 30 days,
    covers other names or was signed by another CA."""

    secret_name: str = Field(description="the Secret (type kubernetes.io/tls) holding it", max_length=253)
    sha256: str = Field(description="sha256 of the Secret's tls.crt (the servers' pods carry it: a new one rolls "
                        "them)", pattern=r"^[0-9a-f]{64}$")
    not_after: str = Field(description="when the certificate expires", json_schema_extra=ISO_TIME)
    ca_sha256: str = Field(description="sha256 fingerprint of the CA certificate that signed it",
                           pattern=r"^[0-9a-f]{64}$")
    dns_names: list[Annotated[str, Field(max_length=253)]] = Field(
        description="the DNS names it covers", max_length=8)


class CloudTeacherStatus(CRDModel):
    """What the operator observed and published."""

    phase: CloudTeacherPhase | None = Field(
        None, description="lifecycle phase: " + "; ".join(f"{k}: {v}" for k, v in CLOUD_TEACHER_PHASES.items())
    )
    revision: int | None = Field(None, ge=0, description="the published revision (0: none yet)")
    spec_hash: str | None = Field(None, description="hash of the spec that produced the current or running revision",
                                  max_length=128)
    bundles: list[Bundle] | None = Field(
        None, description="bundles of the published revision, one per student profile", max_length=16,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["profile"]},
    )
    serving_url: str | None = Field(None, alias="servingURL", description="https URL of the served teacher "
                                    "(its certificate: spec.serving.tlsSecretName or servingCertificate)",
                                    max_length=1024)
    serving_protocol: Literal["v1", "v2"] | None = Field(None, alias="servingProtocol",
                                                         description="KServe protocol servingURL speaks")
    serving_certificate: ServingCertificateStatus | None = Field(
        None, description="the serving certificate the operator issued to the served teacher, if it issued one")
    last_job: str | None = Field(None, description="name of the latest distillation Job", max_length=253)
    message: str | None = Field(None, description="human-readable summary of the current state", max_length=4096)
    observed_generation: int | None = Field(None, ge=0, description="metadata.generation last acted on")
    conditions: list[Condition] | None = _conditions_field()


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
    conditions: list[Condition] | None = _conditions_field()


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
    conditions: list[Condition] | None = _conditions_field()


# ---------------------------------------------------------------------------
# The kinds: names, printer columns
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class PrinterColumn:
    name: str
    json_path: str
    type: Literal["string", "integer", "number", "boolean", "date"]
    description: str
    priority: int = 0

    def as_k8s(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type, "jsonPath": self.json_path,
                               "description": self.description}
        if self.priority:
            out["priority"] = self.priority
        return out


AGE = PrinterColumn("Age", ".metadata.creationTimestamp", "date", "time since creation")


@dataclass(frozen=True)
class Kind:
    """One custom resource kind."""

    kind: str
    plural: str
    short_names: tuple[str, ...]
    description: str
    spec: type[CRDModel]
    status: type[CRDModel]
    phases: dict[str, str]
    columns: tuple[PrinterColumn, ...]
    max_name_length: int = 253
    group: str = API_GROUP
    version: str = API_VERSION
    categories: tuple[str, ...] = ("ecc",)

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def crd_name(self) -> str:
        return f"{self.plural}.{self.group}"

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"


CLOUD_TEACHER = Kind(
    kind="CloudTeacher",
    plural="cloudteachers",
    short_names=("ct",),
    description="CloudTeacher is the cloud model and how edge students are distilled from it: each spec change "
    "makes a new revision of student bundles in the object store, and the teacher is served for cloud assist.",
    spec=CloudTeacherSpec,
    status=CloudTeacherStatus,
    phases=CLOUD_TEACHER_PHASES,
    columns=(
        PrinterColumn("Phase", ".status.phase", "string", "lifecycle phase"),
        PrinterColumn("Revision", ".status.revision", "integer", "published revision"),
        PrinterColumn("Serving", ".spec.serving.mode", "string", "serving mode"),
        PrinterColumn("Job", ".status.lastJob", "string", "latest distillation Job", priority=1),
        PrinterColumn("URL", ".status.servingURL", "string", "URL of the served teacher", priority=1),
        PrinterColumn("Message", ".status.message", "string", "summary of the current state", priority=1),
        AGE,
    ),
    max_name_length=40,
)

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

KINDS: tuple[Kind, ...] = (CLOUD_TEACHER, EDGE_FLEET, ADAPTATION_POLICY)
