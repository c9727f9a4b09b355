"""Scoped store credentials: one MinIO user per EdgeFleet, one per KServe-served CloudTeacher.

Edge agents never get the operator's credentials. Each fleet gets a MinIO user (created with
the MinIO admin API, `minio.MinioAdmin`) whose policy allows exactly what an agent does:

* read (GetObject, which also covers HEAD) the content-addressed modules (`modules/*`), the
  followed teacher's revisions (`teachers/<ns>/<teacher>/*`) and the fleet's desired state;
* write (PutObject) its reports (`fleets/<ns>/<fleet>/reports/*`) and deltas
  (`fleets/<ns>/<fleet>/deltas/*`);
* list the bucket under its own fleet and teacher prefixes, and read the bucket's location
  (the S3 SDKs ask for it before the first request).

Nothing else: not another fleet's prefix, not the Jobs' reports (`reports/jobs/...`), no write
under `modules/` or `teachers/`.

Nobody is given these credentials: the operator derives the password (`derive_password`) and
hands each agent STS credentials of this user narrowed to its own node (node_credentials.py), so
the policy here is the ceiling of what any agent of the fleet may do. The user and its policy are
removed with the fleet. A store that is not MinIO, or credentials without admin rights,
surface as `AccessProblem` whose message says what to configure.

A CloudTeacher served by KServe gets a read-only user too (`serving_user_name`): KServe's
storage initializer (`ecc fetch-bundle`) reads the teacher's bundles, the modules and the reply
corpus with it, and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass

from ecc_workloads.contracts import StoreLayout, StoreSettings

log = logging.getLogger(__name__)

RECHECK_S = 60.0
"""How often an already ensured user is checked for existence (re-created when missing)."""
ADMIN_TIMEOUT_S = 10.0


class AccessProblem(Exception):
    """The scoped user could not be made; the message says why and what to configure."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def user_name(namespace: str, fleet: str) -> str:
    """The MinIO user of a fleet: 20 characters (the classic S3 access-key length), stable, and
    distinct per namespace/fleet."""
    return "eccf-" + hashlib.sha256(f"{namespace}/{fleet}".encode()).hexdigest()[:15]


def policy_name(namespace: str, fleet: str) -> str:
    return user_name(namespace, fleet)


def serving_user_name(namespace: str, teacher: str) -> str:
    """The read-only MinIO user of a teacher's InferenceService (also its policy's name)."""
    return "ecct-" + hashlib.sha256(f"{namespace}/{teacher}".encode()).hexdigest()[:15]


def serving_policy_document(bucket: str, namespace: str, teacher: str) -> dict:
    """Read the teacher's published bundles and reply corpora and the modules; nothing else."""
    arn = f"arn:aws:s3:::{bucket}"
    revisions = f"{arn}/teachers/{namespace}/{teacher}/revisions/*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ReadBundlesModulesReplies", "Effect": "Allow", "Action": ["s3:GetObject"],
             "Resource": [f"{arn}/modules/*", f"{revisions}/bundles/*", f"{revisions}/{StoreLayout.RESPONSES_FILE}"]},
            {"Sid": "BucketLocation", "Effect": "Allow", "Action": ["s3:GetBucketLocation"], "Resource": [arn]},
        ],
    }


def policy_document(bucket: str, namespace: str, fleet: str, teacher: str) -> dict:
    arn = f"arn:aws:s3:::{bucket}"
    fleet_prefix = StoreLayout.fleet_prefix(namespace, fleet)
    teacher_prefix = f"teachers/{namespace}/{teacher}/"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ReadModulesTeacherDesiredState", "Effect": "Allow", "Action": ["s3:GetObject"],
             "Resource": [f"{arn}/modules/*", f"{arn}/{teacher_prefix}revisions/*/bundles/*",
                          f"{arn}/{teacher_prefix}revisions/*/drift/*",
                          f"{arn}/{StoreLayout.desired_state(namespace, fleet)}"]},
            {"Sid": "WriteReportsAndDeltas", "Effect": "Allow", "Action": ["s3:PutObject"],
             "Resource": [f"{arn}/{StoreLayout.reports_prefix(namespace, fleet)}*",
                          f"{arn}/{fleet_prefix}deltas/*"]},
            {"Sid": "BucketLocation", "Effect": "Allow", "Action": ["s3:GetBucketLocation"], "Resource": [arn]},
            {"Sid": "ListOwnPrefixes", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [arn],
             "Condition": {"StringLike": {"s3:prefix": [f"{fleet_prefix}*", f"{teacher_prefix}*", "modules/*"]}}},
        ],
    }


def derive_password(admin_secret: str, namespace: str, fleet: str, uid: str) -> str:
    """The fleet user's password: an HMAC of the fleet's identity under the operator's own store
    secret. Every operator process derives the same one, so the operator never needs to read the
    fleet's Secret back (its ServiceAccount may not read Secrets outside its own namespace), and a
    re-created fleet (new uid) gets a new password."""
    import base64
    import hmac

    mac = hmac.new(admin_secret.encode(), f"ecc-fleet-user/{namespace}/{fleet}/{uid}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")[:32]  # MinIO: 8..40 characters


def scoped_settings(admin: StoreSettings, user: str, password: str) -> StoreSettings:
    """The scoped user's credentials as the fleet's pods use them (so the endpoint pods reach)."""
    return admin.model_copy(update=dict(endpoint=admin.pod_endpoint or admin.endpoint, pod_endpoint=None,
                                        access_key=user, secret_key=password, session_token=None))


# ---------------------------------------------------------------------------
# Side effects: the MinIO admin API
# ---------------------------------------------------------------------------
def _admin(settings: StoreSettings):
    import urllib3
    from minio.credentials import StaticProvider
    from minio.minioadmin import MinioAdmin

    from ecc_workloads.store import store_http

    http = store_http(settings, read_timeout=ADMIN_TIMEOUT_S,
                      retries=urllib3.Retry(total=1, connect=1, read=0, backoff_factor=0.2))
    return MinioAdmin(endpoint=settings.endpoint, credentials=StaticProvider(settings.access_key, settings.secret_key),
                      secure=settings.secure, http_client=http)


def _problem(exc: Exception, settings: StoreSettings) -> AccessProblem:
    from minio.error import MinioAdminException

    where = ("https://" if settings.secure else "http://") + settings.endpoint
    if isinstance(exc, MinioAdminException):
        code = getattr(exc, "_code", "")
        body = getattr(exc, "_body", "") or str(exc)
        if str(code) in ("401", "403"):
            return AccessProblem("StoreAdminDenied", (
                f"the store at {where} refused the MinIO admin API ({code}) for access key "
                f"{settings.access_key!r}: scoped credentials (per fleet, per served teacher) need admin rights "
                f"(admin:CreateUser, admin:CreatePolicy, admin:AttachUserOrGroupPolicy, admin:DeleteUser) in the "
                f"store Secret the teacher names (spec.store.secretRef) or the operator's environment"))
        return AccessProblem("StoreNotMinIO", (
            f"the store at {where} does not serve the MinIO admin API ({code}: {body[:200]}): scoped "
            f"credentials need MinIO; point the teacher's store (spec.store.secretRef) at a MinIO server"))
    return AccessProblem("StoreUnavailable", f"the store's admin API at {where} is unreachable: "
                                             f"{type(exc).__name__}: {exc}")


@dataclass
class _Ensured:
    password: str
    policy_hash: str
    at: float


class ScopedUsers:
    """Creates, checks and removes fleet users; remembers what it ensured (per process)."""

    def __init__(self, admin_factory=_admin, clock=time.monotonic):
        self._admin_factory = admin_factory
        self._clock = clock
        self._ensured: dict[tuple[str, str], _Ensured] = {}
        self._lock = threading.Lock()

    def ensure(self, admin_settings: StoreSettings, namespace: str, fleet: str, teacher: str,
               uid: str) -> StoreSettings:
        """The fleet's scoped credentials; the user and policy exist when this returns."""
        return self.ensure_user(admin_settings, user_name(namespace, fleet),
                                derive_password(admin_settings.secret_key, namespace, fleet, uid),
                                policy_document(admin_settings.bucket, namespace, fleet, teacher),
                                f"fleet {namespace}/{fleet}")

    def ensure_serving(self, admin_settings: StoreSettings, namespace: str, teacher: str, uid: str) -> StoreSettings:
        """The read-only credentials of a teacher's InferenceService (KServe's storage initializer)."""
        return self.ensure_user(admin_settings, serving_user_name(namespace, teacher),
                                derive_password(admin_settings.secret_key, namespace, f"serving:{teacher}", uid),
                                serving_policy_document(admin_settings.bucket, namespace, teacher),
                                f"the served teacher {namespace}/{teacher}")

    def ensure_user(self, admin_settings: StoreSettings, user: str, password: str, doc: dict,
                    owner: str) -> StoreSettings:
        """`user` with `password` and the policy `doc` (named like the user) exists when this returns."""
        from minio.error import MinioAdminException

        phash = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
        key = (admin_settings.endpoint, user)
        with self._lock:
            known = self._ensured.get(key)
        fresh = (known is not None and password == known.password and known.policy_hash == phash
                 and self._clock() - known.at < RECHECK_S)
        if fresh:
            return scoped_settings(admin_settings, user, password)
        admin = self._admin_factory(admin_settings)
        try:
            if known is not None and password == known.password and known.policy_hash == phash:
                try:  # the periodic check: does the user still exist?
                    admin.user_info(user)
                    with self._lock:
                        known.at = self._clock()
                    return scoped_settings(admin_settings, user, password)
                except MinioAdminException as exc:
                    if str(getattr(exc, "_code", "")) not in ("404", "400"):
                        raise
                    log.warning(f"store user {user} of {owner} is gone: re-creating it")
            admin.user_add(user, password)
            admin.policy_add(user, policy=doc)
            try:
                admin.attach_policy([user], user=user)
            except MinioAdminException as exc:
                if "already" not in (getattr(exc, "_body", "") or "").lower():
                    raise
        except AccessProblem:
            raise
        except Exception as exc:  # noqa: BLE001 - turned into a message naming what to configure
            raise _problem(exc, admin_settings) from exc
        with self._lock:
            self._ensured[key] = _Ensured(password, phash, self._clock())
        log.info(f"store user {user} ensured for {owner}")
        return scoped_settings(admin_settings, user, password)

    def remove(self, admin_settings: StoreSettings, namespace: str, fleet: str) -> None:
        """Remove the fleet's user and its policy (missing ones are fine)."""
        self.remove_user(admin_settings, user_name(namespace, fleet), f"fleet {namespace}/{fleet}")

    def remove_serving(self, admin_settings: StoreSettings, namespace: str, teacher: str) -> None:
        self.remove_user(admin_settings, serving_user_name(namespace, teacher), f"the served teacher {namespace}/{teacher}")

    def remove_user(self, admin_settings: StoreSettings, user: str, owner: str) -> None:
        from minio.error import MinioAdminException

        admin = self._admin_factory(admin_settings)
        for what, call in (("user", lambda: admin.user_remove(user)),
                           ("policy", lambda: admin.policy_remove(user))):
            try:
                call()
            except MinioAdminException as exc:
                if str(getattr(exc, "_code", "")) not in ("404", "400"):
                    raise _problem(exc, admin_settings) from exc
                log.info(f"store {what} of {owner} already gone")
        with self._lock:
            self._ensured.pop((admin_settings.endpoint, user), None)
