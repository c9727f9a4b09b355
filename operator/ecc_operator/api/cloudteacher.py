"""CloudTeacher: the cloud model, its corpus, how students are distilled from it, how it is served
and where its bundles are stored."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ecc_operator.api.common import (
    AGE,
    BUCKET_PATTERN,
    CORPUS_URI_PATTERN,
    ISO_TIME,
    PREFIX_PATTERN,
    S3_URI,
    SOURCE_PATTERN,
    Condition,
    Kind,
    PrinterColumn,
    ResourceRequirements,
    conditions_field,
)
from ecc_workloads.contracts import (
    BITEXT_CORPUS,
    BUILTIN_CORPORA,
    BUILTIN_MODELS,
    DEFAULT_BUCKET,
    DEFAULT_WORKLOAD_IMAGE,
    STORE_SECRET_NAME,
    CleaningSpec,
    SplitsSpec,
    StudentProfile,
    TrainingSpec,
)
from ecc_workloads.crd_model import CRDModel, Rule, set_list, sub


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
    conditions: list[Condition] | None = conditions_field()


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
