"""How the operator launches its workloads, whichever controller: the labels on its children,
the `ecc` command line, the Job and container every Job is built from, and a Job as observed."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from ecc_workloads.contracts import (
    BUILTIN_CORPORA,
    CLOUD_NODE_ROLE_LABEL,
    KServeServing,
    RuntimeEnv,
    StoreEnv,
)
from ecc_workloads.crd_model import CRDModel
from ecc_workloads.timestamps import epoch

from ecc_operator.api.cloudteacher import CloudTeacherSpec

# Labels the operator puts on its own children (read back only by it).
LABEL_TEACHER = "ecc.dev/teacher"
LABEL_REVISION = "ecc.dev/revision"
LABEL_COMPONENT = "app.kubernetes.io/component"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY = "ecc-operator"
JOB_NAME_LABEL = "job-name"
"""Label the Job controller puts on a Job's pods."""

WORKLOAD_PYTHON = "python"
"""The interpreter of every Job, server and edge agent the operator creates: `python` on PATH is
the venv's interpreter in the workloads and edge-agent images (images/*.Dockerfile)."""


def ecc_argv(*args: str) -> list[str]:
    """The `ecc` command (same entry point as the console script, through the interpreter, so a
    pod does not depend on where console scripts live)."""
    return [WORKLOAD_PYTHON, "-m", "ecc_workloads.cli.app", *args]


def job_spec_json(job: CRDModel) -> str:
    """A Job spec as its container reads it (camelCase, unset fields left out)."""
    return job.model_dump_json(by_alias=True, exclude_none=True)


@dataclass(frozen=True)
class WorkloadSettings:
    """How Jobs and servers are launched (the same for every teacher)."""

    builtin_corpora: dict[str, str] = field(default_factory=lambda: {name: name for name in BUILTIN_CORPORA})
    """built-in corpus name -> the source `ecc corpus prepare` gets for it: the name itself (the
    Job reads the copy packaged with ecc_workloads) or an overriding path or s3:// URI."""
    cloud_node_selector: dict[str, str] = field(default_factory=lambda: {CLOUD_NODE_ROLE_LABEL: ""})
    kserve_runtime: str = KServeServing.RUNTIME
    """ClusterServingRuntime of teachers whose spec.serving.runtime is empty (the chart's, `--kserve-runtime`)"""
    kserve_storage_container: str = KServeServing.STORAGE_CONTAINER
    """ClusterStorageContainer the InferenceServices name (the chart's, `--kserve-storage-container`)"""
    release_keys: str = ""
    """the operator's release key(s): merge-back Jobs trust only a desired state they signed"""
    allow_unscoped_store_credentials: bool = False
    """a store whose STS refuses gets Jobs the operator's own credentials (job_credentials); else they wait"""

    def runtime_of(self, spec: CloudTeacherSpec) -> str:
        return spec.serving.runtime or self.kserve_runtime

    def ecc_argv(self, *args: str) -> list[str]:
        return ecc_argv(*args)

    def job_argv(self) -> list[str]:
        """`ecc job`: the container runs the spec in its RuntimeEnv.JOB_SPEC."""
        return self.ecc_argv("job")

    def serve_argv(self, args: list[str]) -> list[str]:
        return self.ecc_argv("serve-teacher", *args)


def workload_container(name: str, image: str, argv: list[str], secret_name: str, bucket: str,
                       resources: dict | None, job_spec: CRDModel | None = None) -> dict:
    """A Job container running an `ecc` command with its own store credentials (the Secret
    job_credentials makes for it) as its environment (shared by the distillation and merge-back Jobs);
    `job_spec` (a contracts Job spec) goes into RuntimeEnv.JOB_SPEC, its report target into REPORT_URI."""
    env = [{"name": StoreEnv.BUCKET, "value": bucket}]
    if job_spec is not None:
        env.append({"name": RuntimeEnv.JOB_SPEC, "value": job_spec_json(job_spec)})
        if getattr(job_spec, "report", None):
            env.append({"name": RuntimeEnv.REPORT_URI, "value": job_spec.report})
    out = {"name": name, "image": image, "command": argv[:1], "args": argv[1:],
           "envFrom": [{"secretRef": {"name": secret_name}}], "env": env,
           "terminationMessagePolicy": "FallbackToLogsOnError"}
    if resources:
        out["resources"] = resources
    return out


def workload_job(*, name: str, namespace: str, labels: dict, annotations: dict, owner: dict, backoff_limit: int,
                 active_deadline_seconds: int, settings: WorkloadSettings, containers: list[dict],
                 init_containers: list[dict] | None = None) -> dict:
    """A batch/v1 Job of the operator on the cloud workers (shared by the distillation and
    merge-back Jobs): owner-referenced, never restarted in place, its pods labelled like it."""
    pod_spec: dict = {"restartPolicy": "Never", "nodeSelector": dict(settings.cloud_node_selector)}
    if init_containers:
        pod_spec["initContainers"] = init_containers
    pod_spec["containers"] = containers
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": labels,
            "annotations": annotations,
            "ownerReferences": [owner],
        },
        "spec": {
            "backoffLimit": backoff_limit,
            "activeDeadlineSeconds": active_deadline_seconds,
            "template": {"metadata": {"labels": dict(labels)}, "spec": pod_spec},
        },
    }


def command_line(container: dict) -> str:
    """A container's command as one shell-quoted line (for messages and docs)."""
    return shlex.join([*container.get("command", []), *container.get("args", [])])


@dataclass(frozen=True)
class JobView:
    """The parts of a batch/v1 Job the decisions need."""

    name: str
    active: int = 0
    succeeded: bool = False
    failed: bool = False
    failure_reason: str = ""
    failed_at: float | None = None
    """when the Job failed (epoch seconds, from its Failed condition)"""
    failure_message: str = ""

    @property
    def finished(self) -> bool:
        return self.succeeded or self.failed

    @classmethod
    def from_job(cls, job: dict) -> "JobView":
        status = job.get("status") or {}
        conds = status.get("conditions") or []
        complete = next((c for c in conds if c.get("type") == "Complete" and c.get("status") == "True"), None)
        failed = next((c for c in conds if c.get("type") == "Failed" and c.get("status") == "True"), None)
        return cls(
            name=job["metadata"]["name"],
            active=int(status.get("active") or 0),
            succeeded=complete is not None,
            failed=failed is not None,
            failure_reason=(failed or {}).get("reason", "") or "",
            failed_at=epoch((failed or {}).get("lastTransitionTime")),
            failure_message=(failed or {}).get("message", "") or "",
        )


def pod_termination_messages(pods: list[dict]) -> list[str]:
    """Termination messages of failed containers (init containers first), newest pod first."""
    out: list[str] = []
    ordered = sorted(pods, key=lambda p: p.get("metadata", {}).get("creationTimestamp") or "", reverse=True)
    for pod in ordered:
        status = pod.get("status") or {}
        for cs in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
            term = (cs.get("state") or {}).get("terminated") or (cs.get("lastState") or {}).get("terminated")
            if term and int(term.get("exitCode") or 0) != 0:
                msg = (term.get("message") or term.get("reason") or "").strip()
                out.append(f"{cs.get('name')} exited {term.get('exitCode')}: {msg[-1500:]}" if msg
                           else f"{cs.get('name')} exited {term.get('exitCode')}")
    return out
