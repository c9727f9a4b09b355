"""The served teacher's certificate (serving_tls): when the operator issues one, what it issues, how
the serving manifests use it, and the teacher not served when there is no certificate to serve with.
The certificates are real (tls.make_ca / tls.issue); the API server is a recording fake."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from cryptography import x509

from kubefake import FakeSecrets
from ecc_workloads import tls
from ecc_workloads.contracts import NodeIdentity, RuntimeEnv, TeacherTLS

from ecc_operator import workloads
from ecc_operator.controllers.teacher import serving as teacher_serving
from ecc_operator import common
from ecc_operator.common import ObjectRef
from ecc_operator import kserve_runtime
from ecc_operator.credentials import node_tls as nct
from ecc_operator.credentials import serving_tls
from ecc_operator.controllers.teacher import decisions as td
from ecc_operator.controllers.teacher import handlers as teacher_handlers
from ecc_operator.api.cloudteacher import CLOUD_TEACHER, ServingCertificateStatus

NS, SERVING = "demo", "shop-serving"
NOW = dt.datetime.now(dt.timezone.utc)
NAMES = ("shop-serving.demo.svc", "shop-serving.demo.svc.cluster.local",
         "shop-serving-predictor.demo.svc", "shop-serving-predictor.demo.svc.cluster.local")


def managed_ca() -> serving_tls.SigningCA:
    cert = nct.ensure(FakeSecrets(), "ecc-system", NodeIdentity.TLS_SECRET, "ecc-operator.ecc-system.svc")
    ca = serving_tls.SigningCA.of(cert)
    assert ca is not None
    return ca


CA = managed_ca()


def test_the_names_are_the_services_of_both_serving_modes():
    assert serving_tls.wanted_names(NS, SERVING) == NAMES
    assert serving_tls.secret_name(SERVING) == "shop-serving-tls"


def test_only_a_ca_the_operator_made_signs_and_its_key_is_never_shown():
    kube = FakeSecrets()
    made = nct.ensure(kube, "ecc-system", NodeIdentity.TLS_SECRET, "ecc-operator.ecc-system.svc")
    ca = serving_tls.SigningCA.of(made)
    key_pem = kube.secrets[("ecc-system", NodeIdentity.TLS_SECRET)][NodeIdentity.TLS_CA_KEY]
    assert ca is not None and ca.key_pem == key_pem and made.ca_key_pem == key_pem
    assert "PRIVATE KEY" not in repr(ca) and "PRIVATE KEY" not in repr(made) and "PRIVATE KEY" not in str(made)
    own = {k: v for k, v in kube.secrets[("ecc-system", NodeIdentity.TLS_SECRET)].items() if k != NodeIdentity.TLS_CA_KEY}
    users = nct.ensure(FakeSecrets({("ecc-system", "mine"): own}), "ecc-system", "mine", "ecc-operator.ecc-system.svc")
    assert not users.managed and serving_tls.SigningCA.of(users) is None


def test_issue_signs_the_names_with_the_ca_and_records_what_it_issued():
    data, record = serving_tls.issue(CA, NS, SERVING)
    assert set(data) == {TeacherTLS.CERT, TeacherTLS.KEY, TeacherTLS.CA} and data[TeacherTLS.CA] == CA.cert_pem
    assert NodeIdentity.TLS_CA_KEY not in data and CA.key_pem not in json.dumps(data)
    leaf = x509.load_pem_x509_certificate(data[TeacherTLS.CERT].encode())
    ca_cert = x509.load_pem_x509_certificate(CA.cert_pem.encode())
    leaf.verify_directly_issued_by(ca_cert)
    assert tls.covered_names(leaf) == set(NAMES)
    assert record.secret_name == "shop-serving-tls" and record.dns_names == list(NAMES)
    assert record.sha256 == hashlib.sha256(data[TeacherTLS.CERT].encode()).hexdigest()
    assert record.ca_sha256 == CA.sha256 and record.not_after.startswith(f"{leaf.not_valid_after_utc:%Y-%m-%dT}")
    _, again = serving_tls.issue(CA, NS, SERVING)
    assert again.sha256 != record.sha256  # a new key each time: hence the record
    manifest = serving_tls.secret_manifest(NS, record.secret_name, data, {"a": "b"}, td.owner_reference("shop", "u1", CLOUD_TEACHER))
    assert manifest["type"] == "kubernetes.io/tls" and manifest["metadata"]["ownerReferences"][0]["uid"] == "u1"


def _record(**changes) -> ServingCertificateStatus:
    base = dict(secret_name="shop-serving-tls", sha256="a" * 64, ca_sha256=CA.sha256, dns_names=list(NAMES),
                not_after=(NOW + dt.timedelta(days=200)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return ServingCertificateStatus(**{**base, **changes})


@pytest.mark.parametrize("record,reason", [
    (None, "none issued yet"),
    (_record(not_after=(NOW + dt.timedelta(days=29)).strftime("%Y-%m-%dT%H:%M:%SZ")), "it expires"),
    (_record(not_after=(NOW - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")), "it expires"),
    (_record(dns_names=list(NAMES[:2])), "it covers other names"),
    (_record(ca_sha256="b" * 64), "another CA signed it"),
    (_record(secret_name="other-tls"), "the record names Secret other-tls"),
    (_record(), None),
])
def test_issuance_reasons(record, reason):
    got = serving_tls.issuance_reason(record, "shop-serving-tls", NAMES, CA.sha256, NOW)
    assert (got is None) if reason is None else (got is not None and got.startswith(reason)), got


def test_plan_uses_the_record_the_users_secret_or_says_what_to_set():
    fine = _record().model_dump(by_alias=True)
    plan, reason = serving_tls.plan(None, fine, CA, NS, SERVING, NOW)
    assert reason is None and plan.secret_name == "shop-serving-tls" and plan.cert_sha256 == "a" * 64
    assert plan.record == _record() and not plan.problem
    plan, reason = serving_tls.plan(None, {"secretName": "x"}, CA, NS, SERVING, NOW)  # unreadable record: issue
    assert reason == "none issued yet"
    plan, reason = serving_tls.plan("my-cert", fine, None, NS, SERVING, NOW)
    assert reason is None and plan.secret_name == "my-cert" and plan.user_supplied
    assert plan.cert_sha256 == "" and plan.record is None  # the user rolls their own; the record is dropped
    plan, reason = serving_tls.plan(None, fine, None, NS, SERVING, NOW, "ecc-system/ecc-node-credentials-tls")
    assert reason is None and not plan.secret_name
    assert "spec.serving.tlsSecretName" in plan.problem and "no ca.key" in plan.problem
    assert all(n in plan.problem for n in NAMES) and "ecc-system/ecc-node-credentials-tls" in plan.problem


# ---------------------------------------------------------------------- the handler's side effect
class FakeKube(FakeSecrets):
    def __init__(self):
        super().__init__()
        self.status_patches: list[dict] = []

    def patch_status(self, group, version, plural, namespace, name, status):
        self.status_patches.append(status)


@pytest.fixture
def runtime(monkeypatch):
    monkeypatch.setattr(teacher_handlers.RUNTIME, "signing_ca", CA)
    monkeypatch.setattr(teacher_handlers.kopf, "event", lambda *a, **k: None)
    return teacher_handlers.RUNTIME


def test_the_handler_issues_applies_and_records_once(runtime):
    spec = td.parse_spec({"students": [{"profile": "s0", "blocks": [0]}], "serving": {"mode": "auto"}})
    ref = ObjectRef(NS, "shop", "uid-1", 1)
    kube = FakeKube()
    first = teacher_handlers.serving_certificate(kube, {}, ref, spec, {})
    assert len(kube.applied) == 1 and len(kube.status_patches) == 1
    secret = kube.applied[0]
    assert secret["metadata"]["name"] == "shop-serving-tls" and secret["metadata"]["ownerReferences"][0]["uid"] == "uid-1"
    recorded = kube.status_patches[0]["servingCertificate"]
    assert recorded["sha256"] == hashlib.sha256(secret["stringData"][TeacherTLS.CERT].encode()).hexdigest()
    assert first.cert_sha256 == recorded["sha256"] and set(recorded) == {"secretName", "sha256", "notAfter",
                                                                          "caSha256", "dnsNames"}
    again = teacher_handlers.serving_certificate(kube, {}, ref, spec, {"servingCertificate": recorded})
    assert again == first and len(kube.applied) == 1  # recorded and current: nothing issued
    later = NOW + dt.timedelta(days=340)
    renewed = teacher_handlers.serving_certificate(kube, {}, ref, spec, {"servingCertificate": recorded}, now=later)
    assert len(kube.applied) == 2 and renewed.cert_sha256 != first.cert_sha256
    runtime.signing_ca = managed_ca()  # the operator made a new CA
    teacher_handlers.serving_certificate(kube, {}, ref, spec, {"servingCertificate": recorded})
    assert len(kube.applied) == 3 and kube.status_patches[-1]["servingCertificate"]["caSha256"] == runtime.signing_ca.sha256
    none_mode = td.parse_spec({"students": [{"profile": "s0", "blocks": [0]}], "serving": {"mode": "none"}})
    assert teacher_handlers.serving_certificate(kube, {}, ref, none_mode, {}) is None and len(kube.applied) == 3
    runtime.signing_ca = None
    no_ca = teacher_handlers.serving_certificate(kube, {}, ref, spec, {})
    assert no_ca.problem and len(kube.applied) == 3


# ---------------------------------------------------------------------- manifests
SPEC = td.parse_spec({"students": [{"profile": "s0", "blocks": [0]}], "serving": {"mode": "deployment"}})
REF = ObjectRef(NS, "shop", "uid-1", 1)
ISSUED = serving_tls.issued(_record())
URI = "s3://ecc-fleet/teachers/demo/shop/revisions/1/bundles/teacher.json"


def _deployment(tls_: serving_tls.ServingTLS, storage_hash: str | None = "h1") -> tuple[dict, dict]:
    dep, svc = teacher_serving.deployment_manifests(REF, SPEC, URI, 1, workloads.WorkloadSettings(), tls_, storage_hash)
    return dep, svc


@pytest.mark.parametrize("from_model_dir", [True, False])
def test_the_deployment_serves_https_with_the_mounted_secret(from_model_dir):
    dep, svc = _deployment(ISSUED, "h1" if from_model_dir else None)
    pod = dep["spec"]["template"]["spec"]
    server = pod["containers"][0]
    volume = next(v for v in pod["volumes"] if v["name"] == TeacherTLS.VOLUME)
    assert volume["secret"]["secretName"] == "shop-serving-tls" and volume["secret"]["defaultMode"] == 0o440
    assert pod["securityContext"]["fsGroup"] == teacher_serving.SERVING_FS_GROUP
    assert {"name": TeacherTLS.VOLUME, "mountPath": TeacherTLS.MOUNT_DIR, "readOnly": True} in server["volumeMounts"]
    env = {e["name"]: e.get("value") for e in server["env"]}
    assert env[RuntimeEnv.TLS_CERT_FILE] == f"{TeacherTLS.MOUNT_DIR}/tls.crt"
    assert env[RuntimeEnv.TLS_KEY_FILE] == f"{TeacherTLS.MOUNT_DIR}/tls.key"
    assert server["readinessProbe"]["httpGet"]["scheme"] == "HTTPS"
    assert [p["name"] for p in server["ports"]] == ["https"] and [p["name"] for p in svc["spec"]["ports"]] == ["https"]
    annotations = dep["spec"]["template"]["metadata"]["annotations"]
    assert annotations[serving_tls.ANNOTATION_CERT_SHA256] == "a" * 64
    assert teacher_serving.service_url(NS, "shop") == "https://shop-serving.demo.svc.cluster.local:443"
    assert svc["spec"]["ports"][0]["port"] == 443


def test_a_new_certificate_rolls_the_server_and_the_users_secret_is_left_to_the_user():
    dep, _ = _deployment(ISSUED)
    renewed, _ = _deployment(serving_tls.issued(_record(sha256="b" * 64)))
    assert renewed["metadata"]["annotations"][common.ANNOTATION_DESIRED_HASH] != dep["metadata"]["annotations"][common.ANNOTATION_DESIRED_HASH]
    assert renewed["spec"]["template"]["metadata"]["annotations"][serving_tls.ANNOTATION_CERT_SHA256] == "b" * 64
    users, _ = _deployment(serving_tls.ServingTLS(secret_name="my-cert"), None)
    assert "annotations" not in users["spec"]["template"]["metadata"]
    assert users["spec"]["template"]["spec"]["volumes"][0]["secret"]["secretName"] == "my-cert"


def test_the_inference_service_mounts_the_secret_and_the_runtime_probes_https():
    isvc = teacher_serving.inference_service_manifest(REF, SPEC, URI, 1, workloads.WorkloadSettings(), ISSUED, "h1")
    predictor = isvc["spec"]["predictor"]
    assert predictor["volumes"] == [teacher_serving.tls_volume(ISSUED)] and predictor["securityContext"]["fsGroup"] == teacher_serving.SERVING_FS_GROUP
    assert predictor["annotations"] == {serving_tls.ANNOTATION_CERT_SHA256: "a" * 64}
    model = predictor["model"]
    assert model["volumeMounts"] == [teacher_serving.tls_mount()]
    assert {e["name"] for e in model["env"]} >= {RuntimeEnv.TLS_CERT_FILE, RuntimeEnv.TLS_KEY_FILE, RuntimeEnv.MODEL_NAME}
    assert model["storageUri"].startswith("ecc-bundle://")  # the storage initializer's path is unchanged
    runtime = kserve_runtime.serving_runtime("img")
    assert runtime["spec"]["containers"][0]["readinessProbe"]["httpGet"]["scheme"] == "HTTPS"


@pytest.mark.parametrize("url,want", [
    ("http://shop-serving-predictor.demo.svc.cluster.local", "https://shop-serving-predictor.demo.svc.cluster.local:80"),
    ("http://shop-serving-predictor.demo.svc:8080", "https://shop-serving-predictor.demo.svc:8080"),
    ("https://shop-serving-predictor.demo.svc.cluster.local", "https://shop-serving-predictor.demo.svc.cluster.local:443"),
    ("http://shop.demo.example", None),  # an Ingress' host: not covered by the certificate
    (None, None),
])
def test_kserve_urls_become_https_on_the_same_host_and_port(url, want):
    assert teacher_serving.kserve_https_url(url, NAMES) == want


def test_without_a_certificate_the_teacher_is_not_served_and_the_message_says_what_to_set():
    raw = {"model": {"source": "tiny"}, "corpus": {"uri": "s3://ecc-fleet/c.csv", "textColumn": "t", "labelColumn": "l"},
           "students": [{"profile": "s0", "blocks": [0]}], "serving": {"mode": "deployment"}}
    p = td.plan(REF, raw, {})
    status = {"revision": 1, "specHash": p.hash, "servingURL": "https://shop-serving.demo.svc.cluster.local:443",
              "bundles": [{"profile": "teacher", "manifestURI": URI, "sha256": "e" * 64, "bytes": 1}]}
    p = td.plan(REF, raw, status)
    problem, _ = serving_tls.plan(None, None, None, NS, SERVING, NOW, "ecc-system/ecc-node-credentials-tls")
    existing = teacher_serving.ServingView(deployment={"metadata": {}}, service={"metadata": {}})
    obs = td.Observed(ref=REF, status=status, serving_tls=problem, serving=existing)
    d = td.decide(p, obs, workloads.WorkloadSettings())
    assert d.status.phase == "Degraded" and "spec.serving.tlsSecretName" in d.status.message
    conds = {c["type"]: c for c in d.patch()["conditions"]}
    assert conds["Degraded"]["reason"] == teacher_serving.SERVING_TLS_CONDITION_REASON and conds["Ready"]["status"] == "False"
    assert d.apply == [] and ("Deployment", "shop-serving") in d.delete and ("Service", "shop-serving") in d.delete
    assert d.status.serving_url is None  # agents are no longer sent there
    obs = td.Observed(ref=REF, status=status, serving_tls=ISSUED)
    d = td.decide(p, obs, workloads.WorkloadSettings())
    assert d.patch()["servingCertificate"]["sha256"] == "a" * 64 and d.status.serving_url.startswith("https://")
    obs = td.Observed(ref=REF, status=status, serving_tls=serving_tls.ServingTLS(secret_name="my-cert"))
    d = td.decide(p, obs, workloads.WorkloadSettings())
    assert d.patch()["servingCertificate"] is None and d.apply[0]["spec"]["template"]["spec"]["volumes"][0]["secret"][
        "secretName"] == "my-cert"

