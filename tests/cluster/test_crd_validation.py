"""The CRDs in crds/ on the real API server: they install with server-side apply, the samples
are accepted, bad resources are rejected with an error naming the field, `kubectl explain`
reads well, and the printer columns, short names and the `ecc` category work.

`BAD_CASES` is also checked against the pydantic models (no cluster needed): a spec the API
server refuses must not parse either, so the operator and the API server agree."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest
from clusterkit import eventually
import yaml
from pydantic import ValidationError

from ecc_operator.api import KINDS
from ecc_operator.api.cloudteacher import (
    Bundle,
    CloudTeacherSpec,
    CloudTeacherStatus,
    DistillationSpec,
    ServingCertificateStatus,
)
from ecc_operator.api.common import Condition
from ecc_operator.api.edgefleet import EDGE_FLEET_PHASES, EdgeFleetStatus, NodeCounts
from ecc_workloads import contracts as c

REPO_ROOT = Path(__file__).resolve().parents[2]
CRD_DIR = REPO_ROOT / "crds"
SAMPLES_DIR = REPO_ROOT / "manifests" / "samples"
SAMPLE_FILES = {
    "CloudTeacher": "cloudteacher.yaml",
    "EdgeFleet": "edgefleet.yaml",
    "AdaptationPolicy": "adaptationpolicy.yaml",
}
KIND_BY_NAME = {k.kind: k for k in KINDS}


def sample(kind: str) -> dict[str, Any]:
    return yaml.safe_load((SAMPLES_DIR / SAMPLE_FILES[kind]).read_text())


# ---------------------------------------------------------------------------
# The bad resources
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Bad:
    """A sample with one thing wrong, and the field path the API server must name."""

    id: str
    kind: str
    change: Callable[[dict[str, Any]], None]
    field_path: str
    says: str = ""
    """a fragment of the error message (case-insensitive)"""
    models_reject: bool = True
    """the pydantic spec model rejects it too (False: only the API server can tell)"""


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(obj: dict[str, Any]) -> None:
        node = obj
        keys = path.split(".")
        for key in keys[:-1]:
            node = node[int(key)] if key.isdigit() else node.setdefault(key, {})
        last = keys[-1]
        if value is _DELETE:
            node.pop(last, None)
        elif last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value
    return change


_DELETE = object()


def _both(*changes: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def change(obj: dict[str, Any]) -> None:
        for ch in changes:
            ch(obj)
    return change


CT, EF, AP = "CloudTeacher", "EdgeFleet", "AdaptationPolicy"
BAD_CASES: tuple[Bad, ...] = (
    # CloudTeacher
    Bad("splits-sum-over-one", CT, _set("spec.corpus.splits", {"train": 0.9, "validation": 0.1, "test": 0.1}),
        "spec.corpus.splits.train", "must not exceed 1"),
    Bad("duplicate-student-profile", CT, _set("spec.students.1.profile", "edge-small"),
        "spec.students", "unique"),
    Bad("blocks-unsorted", CT, _set("spec.students.1.blocks", [0, 2, 1]),
        "spec.students[1].blocks", "ascending"),
    Bad("blocks-duplicate", CT, _set("spec.students.0.blocks", [0, 0]),
        "spec.students[0].blocks[1]", "duplicate"),
    Bad("block-out-of-range", CT, _set("spec.students.0.blocks", [0, 6]),
        "spec.students[0].blocks[1]", "less than or equal to 5"),
    Bad("profile-not-dns-label", CT, _set("spec.students.0.profile", "Edge_Small"),
        "spec.students[0].profile", "should match"),
    Bad("no-students", CT, _set("spec.students", []), "spec.students", "at least 1"),
    Bad("temperature-zero", CT, _set("spec.distillation.temperature", 0),
        "spec.distillation.temperature", "greater than 0"),
    Bad("alpha-above-one", CT, _set("spec.distillation.alpha", 1.5), "spec.distillation.alpha", "less than or equal to 1"),
    Bad("epochs-above-50", CT, _set("spec.distillation.epochs", 51), "spec.distillation.epochs", "less than or equal to 50"),
    Bad("serving-mode-unknown", CT, _set("spec.serving.mode", "docker"), "spec.serving.mode", "supported values"),
    Bad("replicas-above-10", CT, _set("spec.serving.replicas", 11), "spec.serving.replicas", "less than or equal to 10"),
    Bad("tls-secret-name-invalid", CT, _set("spec.serving.tlsSecretName", "My_Cert"), "spec.serving.tlsSecretName",
        "should match"),
    Bad("labels-and-labelsFrom", CT, _both(_set("spec.model.labels", ["refund", "track_order"]),
                                           _set("spec.model.labelsFrom", "s3://ecc-fleet/labels.txt")),
        "spec.model.labelsFrom", "not both"),
    Bad("model-source-http", CT, _set("spec.model.source", "http://example.com/model"), "spec.model.source",
        "should match"),
    Bad("corpus-uri-without-columns", CT, _set("spec.corpus.uri", "s3://ecc-fleet/corpora/shop.csv"),
        "spec.corpus.textColumn", "textColumn and labelColumn"),
    Bad("limit-below-request", CT, _set("spec.distillation.resources", {"requests": {"cpu": "2"}, "limits": {"cpu": "500m"}}),
        "spec.distillation.resources.limits", "at least the request"),
    Bad("quantity-garbage", CT, _set("spec.distillation.resources", {"requests": {"memory": "lots"}}),
        "spec.distillation.resources.requests.memory", "should match"),
    Bad("bucket-name-invalid", CT, _set("spec.store.bucket", "Ecc_Fleet"), "spec.store.bucket", "should match"),
    Bad("name-too-long", CT, _set("metadata.name", "a" * 41), "metadata.name", "40", models_reject=False),
    # EdgeFleet
    Bad("teacherRef-missing", EF, _set("spec.teacherRef", _DELETE), "spec.teacherRef", "required"),
    Bad("canary-above-100", EF, _set("spec.rollout.canaryPercent", 150), "spec.rollout.canaryPercent",
        "less than or equal to 100"),
    Bad("maxUnavailable-150-percent", EF, _set("spec.rollout.maxUnavailable", "150%"), "spec.rollout.maxUnavailable",
        "should match"),
    Bad("cloudAssist-unscrubbed", EF, _set("spec.privacy.scrubBeforeAssist", False), "spec.privacy.scrubBeforeAssist",
        "raw text never leaves"),
    Bad("noise-without-clip", EF, _both(_both(_set("spec.privacy.uploadClipNorm", _DELETE),
                                              _set("spec.privacy.uploadForm", "full")),
                                        _set("spec.privacy.uploadNoiseMultiplier", 1.1)),
        "spec.privacy.uploadClipNorm", "needs uploadClipNorm"),
    Bad("noise-with-factors", EF, _both(_set("spec.privacy.uploadForm", "factors"),
                                        _set("spec.privacy.uploadNoiseMultiplier", 1.1)),
        "spec.privacy.uploadForm", "needs uploadForm full"),
    Bad("uploadRank-zero", EF, _set("spec.privacy.uploadRank", 0), "spec.privacy.uploadRank",
        "greater than or equal to 1"),
    Bad("uploadBits-nine", EF, _set("spec.privacy.uploadBits", 9), "spec.privacy.uploadBits",
        "less than or equal to 8"),
    Bad("uploadBits-without-int8", EF, _both(_set("spec.privacy.quantizeUploads", False),
                                             _set("spec.privacy.uploadBits", 4)),
        "spec.privacy.quantizeUploads", "need quantizeUploads"),
    Bad("catch-all-tier-not-last", EF, _set("spec.tiers", [{"name": "default", "profile": "edge-small"},
                                                          {"name": "large", "profile": "edge-large",
                                                           "match": {"labels": {"ecc.dev/capacity-class": "large"}}}]),
        "spec.tiers", "only the last tier"),
    Bad("duplicate-tier-name", EF, _set("spec.tiers.1.name", "small"), "spec.tiers", "unique"),
    Bad("empty-node-selector", EF, _set("spec.nodeSelector", {}), "spec.nodeSelector", "must not be empty"),
    Bad("selector-In-without-values", EF, _set("spec.nodeSelector", {"matchExpressions": [
        {"key": c.EDGE_SITE_LABEL, "operator": "In"}]}), "spec.nodeSelector.matchExpressions[0].values", "non-empty"),
    Bad("toleration-Exists-with-value", EF, _set("spec.agent.tolerations", [
        {"key": c.EDGE_TAINT_KEY, "operator": "Exists", "value": "yes"}]), "spec.agent.tolerations[0].value",
        "must be empty"),
    # AdaptationPolicy
    Bad("no-trigger", AP, _set("spec.mergeBack.trigger", {"onDrift": False}), "spec.mergeBack.trigger.onDrift",
        "at least one trigger"),
    Bad("trimFraction-with-fedavg", AP, _set("spec.mergeBack.aggregation", "fedavg"), "spec.mergeBack.trimFraction",
        "trimmed-mean only"),
    Bad("minNodes-above-minUpdates", AP, _set("spec.mergeBack.minNodes", 5), "spec.mergeBack.minNodes",
        "must not exceed minUpdates"),
    Bad("trimFraction-half", AP, _set("spec.mergeBack.trimFraction", 0.5), "spec.mergeBack.trimFraction", "less than 0.5"),
    Bad("aggregation-unknown", AP, _set("spec.mergeBack.aggregation", "mean"), "spec.mergeBack.aggregation",
        "supported values"),
    Bad("mergeCoefficient-zero", AP, _set("spec.mergeBack.mergeCoefficient", 0), "spec.mergeBack.mergeCoefficient",
        "greater than 0"),
    Bad("loraRank-above-64", AP, _set("spec.localAdaptation.loraRank", 128), "spec.localAdaptation.loraRank",
        "less than or equal to 64"),
    Bad("minSamples-above-maxSamples", AP, _set("spec.localAdaptation.minSamples", 1000),
        "spec.localAdaptation.minSamples", "must not exceed maxSamples"),
    Bad("schedule-not-cron", AP, _set("spec.mergeBack.trigger.schedule", "every day at three"),
        "spec.mergeBack.trigger.schedule", "should match"),
    Bad("drift-threshold-above-one", AP, _set("spec.drift.threshold", 1.5), "spec.drift.threshold",
        "less than or equal to 1"),
)


@dataclass(frozen=True)
class BadUpdate:
    """A valid object, then an update or a status write the API server must refuse."""

    id: str
    kind: str
    status: bool
    patch: dict[str, Any]
    field_path: str
    says: str = ""


BAD_UPDATES: tuple[BadUpdate, ...] = (
    BadUpdate("teacherRef-changed", EF, False, {"spec": {"teacherRef": {"name": "another-teacher"}}},
              "spec.teacherRef", "immutable"),
    BadUpdate("fleetRef-changed", AP, False, {"spec": {"fleetRef": {"name": "another-fleet"}}},
              "spec.fleetRef", "immutable"),
    BadUpdate("status-revision-negative", CT, True, {"status": {"revision": -1}}, "status.revision",
              "greater than or equal to 0"),
    BadUpdate("status-revision-not-integer", CT, True, {"status": {"revision": "one"}}, "status.revision",
              "integer"),
    BadUpdate("status-phase-unknown", CT, True, {"status": {"phase": "Running"}}, "status.phase", "supported values"),
    BadUpdate("status-drift-above-one", EF, True, {"status": {"driftScore": 1.2}}, "status.driftScore",
              "less than or equal to 1"),
    BadUpdate("status-merge-result-unknown", AP, True,
              {"status": {"lastMergeBack": {"time": "2026-01-01T00:00:00Z", "result": "Maybe"}}},
              "status.lastMergeBack.result", "supported values"),
)


# ---------------------------------------------------------------------------
# No cluster needed: the models agree with the API server
# ---------------------------------------------------------------------------
def test_bad_cases_are_distinct_and_many():
    ids = [b.id for b in BAD_CASES] + [b.id for b in BAD_UPDATES]
    assert len(ids) == len(set(ids))
    assert len({(b.kind, b.field_path) for b in BAD_CASES}) >= 12
    assert len(BAD_CASES) + len(BAD_UPDATES) >= 12


@pytest.mark.parametrize("kind", sorted(SAMPLE_FILES))
def test_samples_parse_as_models(kind):
    obj = sample(kind)
    assert obj["apiVersion"] == f"{c.API_GROUP}/{c.API_VERSION}" and obj["kind"] == kind
    assert obj["metadata"]["namespace"] == c.SYSTEM_NAMESPACE
    KIND_BY_NAME[kind].spec.model_validate(obj["spec"])


def test_samples_use_the_well_known_names():
    ct, ef, ap = sample(CT), sample(EF), sample(AP)
    assert ct["spec"]["store"]["secretRef"]["name"] == c.STORE_SECRET_NAME
    assert ct["spec"]["store"]["bucket"] == c.DEFAULT_BUCKET
    assert ct["spec"]["serving"]["mode"] == "kserve"  # `ecc-dev up` runs KServe's controller
    assert c.EDGE_NODE_ROLE_LABEL in ef["spec"]["nodeSelector"]["matchLabels"]
    assert any(c.EDGE_CAPACITY_CLASS_LABEL in (t.get("match") or {}).get("labels", {}) for t in ef["spec"]["tiers"])
    assert ef["spec"]["teacherRef"]["name"] == ct["metadata"]["name"]
    assert ap["spec"]["fleetRef"]["name"] == ef["metadata"]["name"]
    profiles = {s["profile"] for s in ct["spec"]["students"]}
    assert {t["profile"] for t in ef["spec"]["tiers"]} <= profiles


@pytest.mark.parametrize("bad", [b for b in BAD_CASES if b.models_reject], ids=lambda b: b.id)
def test_models_reject_the_bad_specs(bad):
    obj = sample(bad.kind)
    bad.change(obj)
    with pytest.raises(ValidationError):
        KIND_BY_NAME[bad.kind].spec.model_validate(obj["spec"])


# ---------------------------------------------------------------------------
# The real API server
# ---------------------------------------------------------------------------
def _call(api, method: str, path: str, body: dict | None = None,
          content_type: str = "application/json") -> tuple[int, dict]:
    serialized = api.param_serialize(
        method=method, resource_path=path,
        header_params={"Accept": "application/json", "Content-Type": content_type},
        body=body, auth_settings=["BearerToken"],
    )
    resp = api.call_api(*serialized, _request_timeout=30)
    data = resp.read()
    return resp.status, (json.loads(data) if data else {})


def _collection(kind: str, namespace: str) -> str:
    k = KIND_BY_NAME[kind]
    return f"/apis/{k.group}/{k.version}/namespaces/{namespace}/{k.plural}"


def _kubectl(cluster, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    kubectl = Path(cluster.bin_dir) / "kubectl"
    if not kubectl.exists():
        pytest.fail(f"{kubectl} not found: run `make binaries` (builds kubectl from the pinned k8s.io/kubernetes)")
    env = {**os.environ, "KUBECONFIG": cluster.kubeconfig}
    proc = subprocess.run([str(kubectl), *args], capture_output=True, text=True, env=env, timeout=120)
    if check and proc.returncode != 0:
        pytest.fail(f"kubectl {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


@pytest.fixture(scope="module")
def crds_installed(cluster, kube):
    """crds/ applied with server-side apply, every CRD Established."""
    _kubectl(cluster, "apply", "--server-side", "--force-conflicts", "-f", str(CRD_DIR))
    names = [yaml.safe_load(p.read_text())["metadata"]["name"] for p in sorted(CRD_DIR.glob("*.yaml"))]

    def established() -> list[str] | None:
        # polled, not `kubectl wait`: that errors out while status.conditions is still unset
        pending = []
        for name in names:
            status, crd = _call(kube, "GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
            conds = {c["type"]: c["status"] for c in (crd.get("status") or {}).get("conditions") or []}
            if status != 200 or conds.get("Established") != "True":
                pending.append(name)
        return None if pending else names

    return eventually(established, 60, "every CRD in crds/ Established")


@pytest.fixture(scope="module")
def namespace(cluster, kube, crds_installed):
    ns = f"crd-validation-{uuid.uuid4().hex[:6]}"
    status, body = _call(kube, "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                                "metadata": {"name": ns}})
    assert status == 201, body
    yield ns
    _call(kube, "DELETE", f"/api/v1/namespaces/{ns}")


def _assert_names_only(case: str, body: dict[str, Any], field_path: str, says: str) -> None:
    """The error names the field and says what is wrong, and no other field is blamed (so each
    case tests exactly one rule)."""
    message = body.get("message", "")
    assert field_path in message, f"{case}: error does not name {field_path}: {message}"
    assert says.lower() in message.lower(), f"{case}: error does not say {says!r}: {message}"
    blamed = {cause.get("field") for cause in body.get("details", {}).get("causes", [])} - {None, "", "<nil>"}
    assert blamed and all(f.startswith(field_path) for f in blamed), f"{case}: other fields blamed: {blamed}"


def _create(kube, namespace: str, obj: dict[str, Any]) -> tuple[int, dict]:
    obj = copy.deepcopy(obj)
    obj["metadata"]["namespace"] = namespace
    return _call(kube, "POST", _collection(obj["kind"], namespace), obj)


@pytest.mark.cluster
def test_crds_install_and_cover_every_kind(cluster, kube, crds_installed):
    expected = {k.crd_name for k in KINDS} | {"kopfpeerings.kopf.dev", "clusterkopfpeerings.kopf.dev"}
    assert set(crds_installed) == expected
    for k in KINDS:
        status, crd = _call(kube, "GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{k.crd_name}")
        assert status == 200
        conds = {cd["type"]: cd for cd in crd["status"]["conditions"]}
        assert conds["Established"]["status"] == "True"
        assert conds.get("NonStructuralSchema", {}).get("status") != "True", conds
        assert crd["spec"]["versions"][0]["subresources"] == {"status": {}}
        assert crd["spec"]["scope"] == "Namespaced"


@pytest.mark.cluster
def test_samples_are_accepted_with_defaults(kube, namespace):
    for kind in (CT, EF, AP):
        status, body = _create(kube, namespace, sample(kind))
        assert status == 201, f"{kind} sample rejected: {body.get('message')}"
        assert body["metadata"]["generation"] == 1
    status, ct = _call(kube, "GET", f"{_collection(CT, namespace)}/customer-service")
    assert status == 200
    spec = ct["spec"]
    # the API server filled the defaults the sample left out
    assert spec["distillation"]["maxLength"] == 64
    assert spec["corpus"]["splits"]["stratify"] == "label+domain"
    assert spec["students"][0]["int8"] is True and spec["students"][0]["pruneVocabulary"] is True  # the shipped form
    assert CloudTeacherSpec.model_validate(spec).store.secret_ref.name == c.STORE_SECRET_NAME
    status, ap = _call(kube, "GET", f"{_collection(AP, namespace)}/customer-service-learning")
    assert ap["spec"]["mergeBack"]["evaluationGate"]["maxRegression"] == 0.05


@pytest.mark.cluster
def test_plain_uploads_are_not_refused_by_the_default_upload_bits(kube, namespace):
    """uploadBits unset means 4 only for quantised uploads: quantizeUploads false alone is accepted."""
    obj = sample(EF)
    obj["metadata"]["name"] = "plain-uploads"
    obj["spec"]["privacy"].pop("uploadBits", None)
    obj["spec"]["privacy"]["quantizeUploads"] = False
    status, body = _create(kube, namespace, obj)
    assert status == 201, f"rejected: {body.get('message')}"
    assert "uploadBits" not in body["spec"]["privacy"] and body["spec"]["privacy"]["uploadHeadRank"] == 8


@pytest.mark.cluster
@pytest.mark.parametrize("bad", BAD_CASES, ids=lambda b: b.id)
def test_bad_resource_is_rejected_naming_the_field(kube, namespace, bad):
    obj = sample(bad.kind)
    obj["metadata"]["name"] = f"bad-{bad.id.lower()}"[:40].rstrip("-")
    bad.change(obj)
    status, body = _create(kube, namespace, obj)
    if status == 201:
        _call(kube, "DELETE", f"{_collection(bad.kind, namespace)}/{obj['metadata']['name']}")
    assert status == 422, f"{bad.id}: expected 422 Invalid, got {status}: {body}"
    _assert_names_only(bad.id, body, bad.field_path, bad.says)


@pytest.mark.cluster
@pytest.mark.parametrize("bad", BAD_UPDATES, ids=lambda b: b.id)
def test_bad_update_is_rejected_naming_the_field(kube, namespace, bad):
    obj = sample(bad.kind)
    obj["metadata"]["name"] = f"upd-{bad.id.lower()}"[:40].rstrip("-")
    status, body = _create(kube, namespace, obj)
    assert status == 201, body.get("message")
    path = f"{_collection(bad.kind, namespace)}/{obj['metadata']['name']}" + ("/status" if bad.status else "")
    status, body = _call(kube, "PATCH", path, bad.patch, content_type="application/merge-patch+json")
    assert status == 422, f"{bad.id}: expected 422 Invalid, got {status}: {body}"
    _assert_names_only(bad.id, body, bad.field_path, bad.says)


@pytest.mark.cluster
def test_status_subresource_accepts_a_valid_status_and_ignores_spec(kube, namespace):
    obj = sample(CT)
    obj["metadata"]["name"] = "status-write"
    assert _create(kube, namespace, obj)[0] == 201
    status_doc = CloudTeacherStatus(
        phase="Ready", revision=3, serving_url="https://status-write-teacher.ns.svc.cluster.local:443",
        serving_certificate=ServingCertificateStatus(
            secret_name="status-write-serving-tls", sha256="a" * 64, not_after="2027-01-01T00:00:00Z",
            ca_sha256="b" * 64, dns_names=["status-write-serving.ns.svc"]),
        bundles=[Bundle(profile="edge-small", manifest_uri="s3://ecc-fleet/x.json", sha256="0" * 64, bytes=10,
                          accuracy=0.9)],
        conditions=[Condition(type="Ready", status="True", reason="RevisionPublished",
                                last_transition_time="2026-01-01T00:00:00Z", observed_generation=1)],
        observed_generation=1,
    ).to_k8s()
    path = f"{_collection(CT, namespace)}/status-write/status"
    status, body = _call(kube, "PATCH", path, {"status": status_doc, "spec": {"serving": {"replicas": 7}}},
                         content_type="application/merge-patch+json")
    assert status == 200, body.get("message")
    assert body["status"]["revision"] == 3
    assert body["spec"]["serving"]["replicas"] == 1, "a status write must not change the spec"
    assert body["metadata"]["generation"] == 1
    assert CloudTeacherStatus.model_validate(body["status"]).bundles[0].accuracy == 0.9
    assert CloudTeacherStatus.model_validate(body["status"]).serving_certificate.sha256 == "a" * 64


@pytest.mark.cluster
def test_kubectl_explain_prints_descriptions(cluster, crds_installed):
    def explain():
        proc = _kubectl(cluster, "explain", "cloudteacher.spec.distillation", check=False)
        return proc.stdout if proc.returncode == 0 else None

    out = eventually(explain, 60, "kubectl explain cloudteacher.spec.distillation (OpenAPI published)")
    desc = DistillationSpec.model_fields["temperature"].description
    assert "distillation hyper-parameters" in out
    for name in ("temperature", "alpha", "epochs", "gates", "resources", "image"):
        assert f"  {name}\t" in out, f"{name} missing from kubectl explain:\n{out}"
    assert desc.split(" (")[0] in " ".join(out.split()), out
    phase = _kubectl(cluster, "explain", "edgefleet.status.phase").stdout
    for p in EDGE_FLEET_PHASES:
        assert p in phase


@pytest.mark.cluster
def test_printer_columns_short_names_and_category(cluster, kube, namespace):
    obj = sample(EF)
    obj["metadata"]["name"] = "columns"
    assert _create(kube, namespace, obj)[0] == 201
    st = EdgeFleetStatus(phase="RollingOut", target_revision=4, drift_score=0.25,
                           nodes=NodeCounts(matched=23, ready=21, on_target=7, failed=1)).to_k8s()
    status, body = _call(kube, "PATCH", f"{_collection(EF, namespace)}/columns/status", {"status": st},
                         content_type="application/merge-patch+json")
    assert status == 200, body.get("message")
    out = _kubectl(cluster, "get", "ef", "columns", "-n", namespace).stdout
    header, row = out.splitlines()[:2]
    assert header.split() == ["NAME", "PHASE", "TEACHER", "REVISION", "READY", "NODES", "ON-TARGET", "DRIFT", "AGE"]
    assert row.split()[:8] == ["columns", "RollingOut", "customer-service", "4", "21", "23", "7", "0.25"]
    ct_header = _kubectl(cluster, "get", "ct", "-n", namespace).stdout.splitlines()[0].split()
    assert ct_header[:4] == ["NAME", "PHASE", "REVISION", "SERVING"]
    ap_header = _kubectl(cluster, "get", "ap", "-n", namespace).stdout.splitlines()[0].split()
    assert ["DRIFT", "THRESHOLD", "PENDING"] == ap_header[3:6]
    everything = _kubectl(cluster, "get", "ecc", "-n", namespace, "-o", "name").stdout.split()
    assert "edgefleet.ecc.dev/columns" in everything
    assert any(n.startswith("cloudteacher.ecc.dev/") for n in everything)
    assert any(n.startswith("adaptationpolicy.ecc.dev/") for n in everything)


@pytest.mark.cluster
def test_kopf_peering_resources_are_served(kube, namespace):
    status, body = _call(kube, "POST", "/apis/kopf.dev/v1/clusterkopfpeerings",
                         {"apiVersion": "kopf.dev/v1", "kind": "ClusterKopfPeering",
                          "metadata": {"name": f"test-{namespace}"}})
    assert status == 201, body
    # kopf patches the main resource's status with one key per instance
    status, body = _call(kube, "PATCH", f"/apis/kopf.dev/v1/clusterkopfpeerings/test-{namespace}",
                         {"status": {"op-1@host": {"priority": 0, "lifetime": 60, "lastseen": "2026-01-01T00:00:00"}}},
                         content_type="application/merge-patch+json")
    assert status == 200 and body["status"]["op-1@host"]["lifetime"] == 60
    _call(kube, "DELETE", f"/apis/kopf.dev/v1/clusterkopfpeerings/test-{namespace}")
    status, _ = _call(kube, "POST", f"/apis/kopf.dev/v1/namespaces/{namespace}/kopfpeerings",
                      {"apiVersion": "kopf.dev/v1", "kind": "KopfPeering", "metadata": {"name": "ecc-operator"}})
    assert status == 201
