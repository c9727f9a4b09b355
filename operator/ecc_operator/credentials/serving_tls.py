"""The served teacher's serving certificate (contracts.TeacherTLS): what to issue, and its Secret. Pure.

Agents send user text to the served teacher, so it serves HTTPS only and agents check its
certificate against the CA of the operator's Secret ecc-node-credentials-tls (its `ca.crt`,
which the desired state carries as DesiredState.teacher_ca_pem). Where the certificate comes from:

- spec.serving.tlsSecretName: the user's own Secret (tls.crt, tls.key, ca.crt), used as it is;
  the user renews it and rolls the server;
- else, when the operator holds that CA's key (it made the CA: node_credentials_tls, `managed`):
  it issues a certificate for the Service names of both serving modes into the Secret
  `<teacher>-serving-tls` of the teacher's namespace, owned by the CloudTeacher;
- else the teacher is not served, and the message says what to set.

The operator may not read Secrets in teacher namespaces, and every issuance makes a new key, so
what it issued is recorded in the CloudTeacher's status (`servingCertificate`), and it issues
again only when that record is missing, expires within RENEW_BEFORE, covers other names or was
signed by another CA (`issuance_reason`). The servers' pod templates carry the certificate's
sha256 (ANNOTATION_CERT_SHA256): a new certificate rolls them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

from cryptography.hazmat.primitives import hashes, serialization
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ecc_workloads import tls
from ecc_workloads.contracts import NodeIdentity, TeacherTLS
from ecc_workloads.timestamps import parse_time

from ecc_operator.credentials.node_tls import RENEW_BEFORE, ServingCertificate
from ecc_operator.api.cloudteacher import ServingCertificateStatus

ANNOTATION_CERT_SHA256 = "ecc.dev/serving-certificate-sha256"
"""On the server's pod template: sha256 of the tls.crt the operator issued (a new one rolls the pods)."""


class SigningCA(BaseModel):
    """The CA the operator signs teachers' certificates with: the one it made for its
    node-credentials endpoint. Its key stays in memory (repr hides it; nothing logs it)."""

    model_config = ConfigDict(frozen=True)

    cert_pem: str
    key_pem: str = Field(repr=False)

    @classmethod
    def of(cls, certificate: ServingCertificate) -> "SigningCA | None":
        """The CA of the node-credentials certificate when the operator made it (it has the key), else None."""
        if not (certificate.managed and certificate.ca_key_pem):
            return None
        source = f"Secret {NodeIdentity.TLS_SECRET} key {NodeIdentity.TLS_CA!r}"
        first = tls.load_certificates(certificate.ca_pem, source)[0]  # the CA it made (made_certificate)
        return cls(cert_pem=tls.cert_pem(first).decode(), key_pem=certificate.ca_key_pem)

    @property
    def sha256(self) -> str:
        return tls.load_certificates(self.cert_pem, "the signing CA")[0].fingerprint(hashes.SHA256()).hex()


class ServingTLS(BaseModel):
    """What the serving manifests need: which Secret the server mounts and the sha256 that rolls
    it; or, in `problem`, why the teacher cannot be served and what to set."""

    model_config = ConfigDict(frozen=True)

    secret_name: str = ""
    cert_sha256: str = ""
    """of the operator's certificate (the pod annotation); empty for the user's Secret"""
    record: ServingCertificateStatus | None = None
    """status.servingCertificate to write (None: none, or drop it)"""
    problem: str = ""

    @property
    def user_supplied(self) -> bool:
        return bool(self.secret_name) and self.record is None


def secret_name(serving: str) -> str:
    return f"{serving}{TeacherTLS.SECRET_SUFFIX}"


def wanted_names(namespace: str, serving: str) -> tuple[str, ...]:
    """The Service names of both serving modes: the Deployment's Service `<serving>` and KServe's
    predictor Service `<serving>-predictor`, short (.svc) and full (.svc.cluster.local)."""
    return tuple(f"{svc}.{namespace}.{suffix}" for svc in (serving, f"{serving}-predictor")
                 for suffix in ("svc", "svc.cluster.local"))


def record_of(raw: dict | None) -> ServingCertificateStatus | None:
    """status.servingCertificate as written; None when absent or unreadable (then: issue again)."""
    if not raw:
        return None
    try:
        return ServingCertificateStatus.model_validate(raw)
    except ValidationError:
        return None


def issuance_reason(record: ServingCertificateStatus | None, secret: str, names: Sequence[str], ca_sha256: str,
                    now: dt.datetime) -> str | None:
    """Why the operator must issue a new certificate, or None while the recorded one will do."""
    if record is None:
        return "none issued yet"
    if record.secret_name != secret:
        return f"the record names Secret {record.secret_name}, not {secret}"
    not_after = parse_time(record.not_after)
    if not_after is None or not_after - RENEW_BEFORE <= now:
        return f"it expires {record.not_after}"
    if sorted(record.dns_names) != sorted(names):
        return "it covers other names"
    if record.ca_sha256 != ca_sha256:
        return "another CA signed it"
    return None


def not_served_message(namespace: str, serving: str, ca_secret: str) -> str:
    names = ", ".join(wanted_names(namespace, serving))
    return (f"not served: the teacher serves HTTPS only and the operator holds no CA key to issue its certificate "
            f"(its Secret {ca_secret} has no {NodeIdentity.TLS_CA_KEY}: it is your own). Set spec.serving."
            f"tlsSecretName to a Secret of type kubernetes.io/tls in namespace {namespace} with "
            f"{TeacherTLS.CERT}/{TeacherTLS.KEY} covering {names}, signed by the CA in the {NodeIdentity.TLS_CA} "
            f"of {ca_secret} (what agents trust)")


def plan(tls_secret_name: str | None, record_raw: dict | None, ca: SigningCA | None, namespace: str, serving: str,
         now: dt.datetime, ca_secret: str = NodeIdentity.TLS_SECRET) -> tuple[ServingTLS, str | None]:
    """(what to serve with, why to issue first or None). With a reason, the caller issues
    (`issue`), applies the Secret, records it and serves with `issued(record)`."""
    if tls_secret_name:
        return ServingTLS(secret_name=tls_secret_name), None
    if ca is None:
        return ServingTLS(problem=not_served_message(namespace, serving, ca_secret)), None
    secret = secret_name(serving)
    record = record_of(record_raw)
    reason = issuance_reason(record, secret, wanted_names(namespace, serving), ca.sha256, now)
    if reason is not None or record is None:
        return ServingTLS(secret_name=secret), reason
    return issued(record), None


def issued(record: ServingCertificateStatus) -> ServingTLS:
    return ServingTLS(secret_name=record.secret_name, cert_sha256=record.sha256, record=record)


def issue(ca: SigningCA, namespace: str, serving: str) -> tuple[dict[str, str], ServingCertificateStatus]:
    """A new key and certificate for the teacher's names, signed by `ca`: (the Secret's data, its record)."""
    ca_cert = tls.load_certificates(ca.cert_pem, "the signing CA")[0]
    ca_key = serialization.load_pem_private_key(ca.key_pem.encode(), password=None)
    names = wanted_names(namespace, serving)
    leaf, key = tls.issue(ca_cert, ca_key, serving, server=True, dns_names=names)
    cert_text = tls.cert_pem(leaf).decode()
    data = {TeacherTLS.CERT: cert_text, TeacherTLS.KEY: tls.key_pem(key).decode(), TeacherTLS.CA: ca.cert_pem}
    record = ServingCertificateStatus(
        secret_name=secret_name(serving), sha256=hashlib.sha256(cert_text.encode()).hexdigest(),
        not_after=leaf.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ"), ca_sha256=ca.sha256,
        dns_names=list(names))
    return data, record


def secret_manifest(namespace: str, name: str, data: dict[str, str], labels: dict[str, str], owner: dict) -> dict:
    return {
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels), "ownerReferences": [owner]},
        "stringData": data,
    }
