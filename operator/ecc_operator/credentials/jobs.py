"""Store credentials of the operator's Jobs: temporary, and narrowed to the Job's own prefixes.

A distillation or merge-back Job never gets the CloudTeacher's store Secret (which may be
admin-capable). The operator asks MinIO's STS (AssumeRole, with its own credentials) for
credentials that live as long as the Job may run, narrowed by a session policy to what that Job
reads and writes, and puts them in the Secret `secret_name(job)`, owned by the Job (removed with
it). The Job's containers take that Secret as their environment (StoreEnv, with
ECC_STORE_SESSION_TOKEN).

- distillation of revision N: read the corpus it names (and a licence file beside it), the modules and its teacher's objects;
  write the modules, `teachers/<ns>/<teacher>/revisions/N/…` and its Job report;
- merge-back of revision N into candidate C: read the modules, its teacher's and its fleet's
  objects (bundles, the held-out split, deltas, the desired state); write the modules,
  `teachers/<ns>/<teacher>/revisions/C/…`, `…/candidates/C/…` and its Job report.

Neither may delete anything, write another teacher's or fleet's prefix, or touch the admin API.
Modules are content-addressed and shared: a Job may add one (agents and the teacher server check
every module's sha256 on load, so a forged module is refused, never served).

A store whose STS refuses (not MinIO, or credentials that may not AssumeRole) gets the Job no
Secret: the reconcile fails with `UnscopedRefused`, whose message (in the operator's log and the
resource's events) says why, and is retried, so the Job waits. Only an operator started with
`--allow-unscoped-store-credentials` (chart value `operator.allowUnscopedStoreCredentials`) then gives
the Job its own store credentials, logged as a warning. A store that does not answer at all is
retried as well: a passing outage never widens a Job's credentials.
"""

from __future__ import annotations

import json
import logging

from ecc_workloads.contracts import CORPUS_LICENCE_FILES, StoreLayout, StoreSettings

log = logging.getLogger(__name__)

ANNOTATION = "ecc.dev/store-credentials"
"""On a Job: the name of the Secret with its store credentials (set when the operator made it)."""
MARGIN_S = 15 * 60
MAX_SECONDS = 7 * 24 * 3600


def secret_name(job_name: str) -> str:
    return f"{job_name}-store"


def _arn(bucket: str, key: str = "") -> str:
    return f"arn:aws:s3:::{bucket}" + (f"/{key}" if key else "")


def _policy(bucket: str, reads: list[str], writes: list[str], lists: list[str]) -> dict:
    arn = _arn(bucket)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": reads},
            {"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": writes},
            {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [arn],
             "Condition": {"StringLike": {"s3:prefix": lists}}},
            {"Effect": "Allow", "Action": ["s3:GetBucketLocation"], "Resource": [arn]},
        ],
    }


def corpus_objects(source: str) -> list[str]:
    """The ARNs a corpus read from the store takes: the corpus and a licence file beside it (none
    for a local or packaged corpus)."""
    if not source.startswith("s3://"):
        return []
    bucket, _, key = source[len("s3://"):].partition("/")
    folder = key.rsplit("/", 1)[0] + "/" if "/" in key else ""
    return [_arn(bucket, key)] + [_arn(bucket, folder + name) for name in CORPUS_LICENCE_FILES]


def distill_policy(bucket: str, namespace: str, teacher: str, revision: int, corpus_source: str,
                   report_key: str) -> dict:
    mine = f"teachers/{namespace}/{teacher}/"
    reads = [_arn(bucket, "modules/*"), _arn(bucket, f"{mine}*")]
    reads += corpus_objects(corpus_source)
    writes = [_arn(bucket, "modules/*"), _arn(bucket, f"{mine}revisions/{revision}/*"), _arn(bucket, report_key)]
    return _policy(bucket, reads, writes, ["modules/*", f"{mine}*"])


def merge_policy(bucket: str, namespace: str, teacher: str, fleet: str, candidate: int, report_key: str) -> dict:
    mine, theirs = f"teachers/{namespace}/{teacher}/", StoreLayout.fleet_prefix(namespace, fleet)
    reads = [_arn(bucket, "modules/*"), _arn(bucket, f"{mine}*"), _arn(bucket, f"{theirs}*")]
    writes = [_arn(bucket, "modules/*"), _arn(bucket, f"{mine}revisions/{candidate}/*"),
              _arn(bucket, f"{mine}candidates/{candidate}/*"), _arn(bucket, report_key)]
    return _policy(bucket, reads, writes, ["modules/*", f"{mine}*", f"{theirs}*"])


def lifetime(active_deadline_seconds: int) -> int:
    """As long as the Job may run (its deadline, for all attempts of its pod), and a margin."""
    return max(900, min(MAX_SECONDS, active_deadline_seconds + MARGIN_S))


def secret_manifest(job: dict, creds: StoreSettings) -> dict:
    meta = job["metadata"]
    return {
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": secret_name(meta["name"]), "namespace": meta["namespace"],
                     "labels": dict(meta.get("labels") or {}),
                     "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": meta["name"],
                                          "uid": meta["uid"], "controller": True, "blockOwnerDeletion": True}]},
        "stringData": creds.as_env(),
    }


class UnscopedRefused(RuntimeError):
    """The store will not narrow a Job's credentials, and the operator may not hand out its own."""


def issue(admin: StoreSettings, policy: dict, seconds: int, sts=None, allow_unscoped: bool = False) -> StoreSettings:
    """STS credentials narrowed by `policy`, as the Job's pods use them. When the store answers that
    it will not issue them: UnscopedRefused, or the operator's own with `allow_unscoped` (logged). A
    store that does not answer raises: the reconcile is retried (the Job waits for its Secret)
    rather than handing out wider credentials."""
    from ecc_operator.credentials.nodes import assume_role

    text = json.dumps(policy, separators=(",", ":"))
    endpoint = admin.pod_endpoint or admin.endpoint
    try:
        got = (sts or assume_role)(admin, admin.access_key, admin.secret_key, text, seconds)
    except ValueError as exc:  # minio's AssumeRoleProvider: the store answered, with an error status
        if not allow_unscoped:
            raise UnscopedRefused(
                f"the store's STS refused credentials narrowed to the Job's prefixes ({exc}); the Job waits without "
                "store credentials. Use a store with STS (MinIO's AssumeRole for the operator's user), or start the "
                "operator with --allow-unscoped-store-credentials (chart value operator.allowUnscopedStoreCredentials) "
                "to give Jobs its own store credentials") from exc
        log.warning(f"the store's STS refused narrowed credentials ({exc}): the Job gets the operator's own store "
                    "credentials (--allow-unscoped-store-credentials)")
        return admin.model_copy(update={"endpoint": endpoint, "pod_endpoint": None})
    return admin.model_copy(update=dict(endpoint=endpoint, pod_endpoint=None, access_key=got.access_key,
                                        secret_key=got.secret_key, session_token=got.session_token))


def ensure(kube, namespace: str, job_name: str, admin: StoreSettings, policy: dict, seconds: int,
           job: dict | None = None, allow_unscoped: bool = False) -> bool:
    """Make the Job's Secret unless the Job (read now, or `job` as just observed) says it has one;
    True when made now."""
    job = job if job is not None else kube.get_job(namespace, job_name)
    if job is None or ((job.get("metadata") or {}).get("annotations") or {}).get(ANNOTATION):
        return False
    kube.create_if_absent(secret_manifest(job, issue(admin, policy, seconds, allow_unscoped=allow_unscoped)))
    kube.annotate_job(namespace, job_name, {ANNOTATION: secret_name(job_name)})
    log.info(f"{namespace}: store credentials of Job {job_name} issued for {seconds} s")
    return True
