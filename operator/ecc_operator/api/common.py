"""What the three kinds share: patterns, quantities, conditions, scheduling and node selection,
and `Kind`, the description of a kind (names, printer columns) that crdgen turns into a CRD."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Field

from ecc_workloads.contracts import (
    API_GROUP,
    API_VERSION,
)
from ecc_workloads.crd_model import CRDModel, Rule

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


def conditions_field() -> Any:
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
