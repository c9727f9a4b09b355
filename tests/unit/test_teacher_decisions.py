"""CloudTeacher decisions: spec + observed state -> Job, serving children, status. Pure."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import pytest

from ecc_workloads.contracts import (CLOUD_NODE_ROLE_LABEL, BundleManifest, JobReport, ModuleRef, RuntimeEnv, StoreEnv, StoreLayout,
                                     StoreSettings)

from ecc_operator import workloads
from ecc_operator.controllers.teacher import serving as teacher_serving
from ecc_operator import common
from ecc_operator.common import ObjectRef
from ecc_operator import conditions as c
from ecc_operator.credentials import serving_tls
from ecc_operator.controllers.teacher import decisions as td
from ecc_operator.api.cloudteacher import ServingCertificateStatus

REF = ObjectRef(namespace="demo", name="shop", uid="uid-1", generation=1)
SETTINGS = workloads.WorkloadSettings(builtin_corpora={"bitext": "/data/bitext.csv"})
SPEC = {
    "model": {"source": "tiny"},
    "corpus": {"uri": "s3://ecc-fleet/corpora/small.csv", "textColumn": "instruction", "labelColumn": "intent",
               "responseColumn": "response", "maxRows": 100},
    "students": [{"profile": "s02", "blocks": [0, 2]}, {"profile": "s1", "blocks": [1]}],
    "distillation": {"epochs": 1, "backoffLimit": 1, "activeDeadlineSeconds": 600,
                     "gates": {"minStudentAccuracy": 0.5}},
    "serving": {"mode": "deployment"},
}


def spec(**changes) -> dict:
    out = json.loads(json.dumps(SPEC))
    for key, value in changes.items():
        out[key] = value
    return out


TLS_RECORD = ServingCertificateStatus(secret_name="shop-serving-tls", sha256="c" * 64, not_after="2030-01-01T00:00:00Z",
                                      ca_sha256="d" * 64, dns_names=list(serving_tls.wanted_names("demo", "shop-serving")))
TLS = serving_tls.issued(TLS_RECORD)
"""The operator issued the server's certificate (what the handler hands over in most reconciles)."""


def run(raw: dict, status: dict | None = None, ref=REF, settings=SETTINGS, **observed):
    p = td.plan(ref, raw, status or {})
    observed.setdefault("serving_tls", TLS)
    obs = td.Observed(ref=ref, status=status or {}, **observed)
    return p, td.decide(p, obs, settings)


def conds(d: td.Decision) -> dict:
    return {x["type"]: x for x in d.patch()["conditions"]}


def report(acc: float = 0.9, profiles=("teacher", "s02", "s1")) -> JobReport:
    return JobReport(job="distill", succeeded=True, message="ok",
                     bundles=[StoreLayout.bundle_manifest("demo", "shop", 1, p) for p in profiles],
                     metrics={f"acc_{p}@all": acc for p in profiles})


def facts(rep: JobReport) -> tuple[td.Bundle, ...]:
    out = []
    for key in rep.bundles:
        profile = key.rsplit("/", 1)[1][:-5]
        m = BundleManifest(revision=1, profile=profile, blocks=[0], labels=["a", "b"], base_model="tiny",
                           tokenizer_sha256="e" * 64, modules=[ModuleRef(name="embeddings", sha256="a" * 64, bytes=100),
                                    ModuleRef(name="block.0", sha256="b" * 64, bytes=50)])
        out.append(td.published_bundle("ecc-fleet", key, m.model_dump_json().encode(), rep))
    return tuple(out)


# --------------------------------------------------------------------- revisions
def test_spec_hash_ignores_serving_and_follows_everything_else():
    base = td.spec_hash(td.parse_spec(spec()))
    assert td.spec_hash(td.parse_spec(spec(serving={"mode": "kserve", "replicas": 3}))) == base
    assert td.spec_hash(td.parse_spec(spec(students=[{"profile": "s02", "blocks": [0, 2]}]))) != base
    # defaults written out or left to the schema: the same spec, the same hash
    explicit = spec()
    explicit["distillation"]["temperature"] = 2.0
    assert td.spec_hash(td.parse_spec(explicit)) == base


def test_new_teacher_gets_the_job_of_revision_one_and_is_pending():
    p, d = run(spec())
    assert p.next_revision == 1 and not p.up_to_date
    job = d.create_job
    assert job["metadata"]["name"] == td.job_name("shop", 1, p.hash) == f"shop-distill-r1-{p.hash[:6]}"
    assert d.status.phase == "Pending" and d.status.revision == 0 and d.status.last_job == job["metadata"]["name"]
    assert conds(d)["Progressing"]["status"] == "True" and conds(d)["Ready"]["status"] == "False"
    assert d.job_outcome == "created" and ("Normal", "JobCreated") in [(e[0], e[1]) for e in d.events]


def test_job_manifest_runs_on_a_cloud_worker_owned_by_the_teacher_with_store_env():
    p, d = run(spec())
    job = d.create_job
    owner = job["metadata"]["ownerReferences"][0]
    assert owner == {"apiVersion": "ecc.dev/v1alpha1", "kind": "CloudTeacher", "name": "shop", "uid": "uid-1",
                     "controller": True, "blockOwnerDeletion": True}
    assert job["spec"]["backoffLimit"] == 1 and job["spec"]["activeDeadlineSeconds"] == 600
    pod = job["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {CLOUD_NODE_ROLE_LABEL: ""} and pod["restartPolicy"] == "Never"
    prepare, distill = pod["initContainers"][0], pod["containers"][0]
    for ctr in (prepare, distill):
        assert ctr["command"] == ["python"] and ctr["args"][:2] == ["-m", "ecc_workloads.cli.app"]
        # its own narrowed credentials (job_credentials), never the teacher's Secret
        assert ctr["envFrom"] == [{"secretRef": {"name": f"{job['metadata']['name']}-store"}}]
        assert {"name": StoreEnv.BUCKET, "value": "ecc-fleet"} in ctr["env"]
        assert ctr["terminationMessagePolicy"] == "FallbackToLogsOnError"
    assert prepare["args"] == distill["args"] == ["-m", "ecc_workloads.cli.app", "job"]
    prep, dist = job_spec(prepare), job_spec(distill)
    assert prep.source == "s3://ecc-fleet/corpora/small.csv" and prep.text_column == "instruction"
    assert prep.response_column == "response" and prep.cleaning.dedupe == "near"
    assert prep.cleaning.min_words == 1 and prep.cleaning.min_length == 2
    assert prep.out == f"s3://ecc-fleet/{td.corpus_prefix('demo', 'shop', 1)}" == dist.corpus
    report_uri = f"s3://ecc-fleet/{StoreLayout.job_report('demo', 'shop', job['metadata']['name'])}"
    assert prep.report == dist.report == report_uri
    for ctr in (prepare, distill):  # a spec that does not parse still reports there
        assert {"name": RuntimeEnv.REPORT_URI, "value": report_uri} in ctr["env"]
    assert dist.revision == 1 and dist.base_model == "tiny"
    assert [(s.profile, s.blocks) for s in dist.students] == [("s02", [0, 2]), ("s1", [1])]
    assert dist.max_train_rows == 100 and dist.training.epochs == 1


def job_spec(container: dict):
    """The Job spec a container reads, parsed as the workload parses it."""
    from ecc_workloads.contracts import parse_job_spec

    return parse_job_spec({e["name"]: e.get("value") for e in container["env"]}[RuntimeEnv.JOB_SPEC])


def test_students_ship_pruned_and_int8_unless_they_opt_out():
    students = [{"profile": "s02", "blocks": [0, 2], "pruneVocabulary": False}, {"profile": "s1", "blocks": [1], "int8": False},
                {"profile": "s0", "blocks": [0]}]
    _, d = run(spec(students=students))
    dist = job_spec(d.create_job["spec"]["template"]["spec"]["containers"][0])
    assert [s.profile for s in dist.students if s.int8] == ["s02", "s0"]
    assert [s.profile for s in dist.students if s.prune_vocabulary] == ["s1", "s0"]


def test_builtin_corpus_goes_to_the_job_by_name_unless_the_operator_overrides_it():
    p = td.plan(REF, spec(corpus={"uri": "bitext"}), {})
    assert td.corpus_source(p.spec, workloads.WorkloadSettings()) == ("bitext", "bitext")  # the Job reads its packaged copy
    overridden = workloads.WorkloadSettings(builtin_corpora={"bitext": "s3://b/bitext.csv"})
    assert td.corpus_source(p.spec, overridden) == ("s3://b/bitext.csv", "bitext")


def test_builtin_corpus_resolves_to_the_configured_file_and_unknown_ones_degrade():
    _, d = run(spec(corpus={"uri": "bitext", "maxRows": 50}))
    prepare = d.create_job["spec"]["template"]["spec"]["initContainers"][0]
    assert (job_spec(prepare).source, job_spec(prepare).preset) == ("/data/bitext.csv", "bitext")
    _, bad = run(spec(corpus={"uri": "nosuch", "textColumn": "t", "labelColumn": "l"}))
    assert bad.create_job is None and bad.status.phase == "Degraded"
    assert "corpus.uri 'nosuch'" in bad.status.message and "bitext" in bad.status.message


def test_running_job_is_distilling_and_not_recreated():
    p, _ = run(spec())
    _, d = run(spec(), status={"phase": "Pending"}, job=workloads.JobView(name=p.wanted_job, active=1))
    assert d.create_job is None and d.status.phase == "Distilling"
    assert conds(d)["Progressing"]["reason"] == "Distilling" and d.job_outcome is None


def test_superseded_running_jobs_are_deleted_finished_ones_kept():
    p, _ = run(spec())
    others = (workloads.JobView(name="shop-distill-r1-old", active=1), workloads.JobView(name="shop-distill-r1-done", succeeded=True))
    _, d = run(spec(), job=workloads.JobView(name=p.wanted_job, active=1), other_jobs=others)
    assert d.delete_jobs == ["shop-distill-r1-old"]


def test_spec_edited_back_to_the_published_one_stops_the_obsolete_job():
    p, _ = run(spec())
    status = _published_status(p, report())
    _, d = run(spec(), status=status, other_jobs=(workloads.JobView(name="shop-distill-r2-abcdef", active=1),))
    assert d.delete_jobs == ["shop-distill-r2-abcdef"] and d.create_job is None


def test_failed_job_degrades_with_the_reports_reason_once():
    p, _ = run(spec())
    failed = workloads.JobView(name=p.wanted_job, failed=True, failure_reason="BackoffLimitExceeded")
    bad = JobReport(job="corpus-prepare", succeeded=False, message="KeyNotFound: s3://ecc-fleet/x.csv does not exist")
    _, d = run(spec(), status={"phase": "Distilling"}, job=failed, report=bad, pod_messages=("distill exited 1: boom",))
    assert d.status.phase == "Degraded" and d.create_job is None
    assert "KeyNotFound: s3://ecc-fleet/x.csv does not exist" in d.status.message
    assert "BackoffLimitExceeded" in d.status.message
    assert conds(d)["Degraded"]["status"] == "True" and conds(d)["Degraded"]["reason"] == "DistillationFailed"
    assert d.job_outcome == "failed" and d.events[-1][0] == "Warning"
    # The next reconcile sees the same thing: no new Job, no new count, no new Event (no crash loop).
    _, again = run(spec(), status=d.status, job=failed, report=bad)
    assert again.create_job is None and again.job_outcome is None and again.events == []


def test_failed_job_without_report_uses_the_pod_termination_message():
    p, _ = run(spec())
    failed = workloads.JobView(name=p.wanted_job, failed=True, failure_reason="DeadlineExceeded")
    _, d = run(spec(), job=failed, pod_messages=("distill exited 137: OOMKilled",))
    assert "distill exited 137: OOMKilled" in d.status.message


def test_pod_termination_messages_newest_first_only_failures():
    pods = [
        {"metadata": {"creationTimestamp": "2026-01-01T00:00:00Z"},
         "status": {"containerStatuses": [{"name": "distill", "state": {"terminated": {"exitCode": 1, "message": "old"}}}]}},
        {"metadata": {"creationTimestamp": "2026-01-01T00:01:00Z"},
         "status": {"initContainerStatuses": [{"name": "prepare-corpus",
                                               "state": {"terminated": {"exitCode": 2, "message": "new\n"}}}],
                    "containerStatuses": [{"name": "ok", "state": {"terminated": {"exitCode": 0, "message": "fine"}}}]}},
    ]
    assert workloads.pod_termination_messages(pods) == ["prepare-corpus exited 2: new", "distill exited 1: old"]


def test_succeeded_job_publishes_the_revision_and_creates_serving():
    p, _ = run(spec())
    rep = report(0.9)
    _, d = run(spec(), status={"phase": "Distilling"}, job=workloads.JobView(name=p.wanted_job, succeeded=True),
               report=rep, bundles=facts(rep))
    assert d.status.revision == 1 and d.status.spec_hash == p.hash and d.published_revision == 1
    assert [b["profile"] for b in d.patch()["bundles"]] == ["s02", "s1", "teacher"]
    b = d.patch()["bundles"][0]
    assert b["manifestURI"] == "s3://ecc-fleet/" + StoreLayout.bundle_manifest("demo", "shop", 1, "s02")
    assert b["bytes"] == 150 and b["accuracy"] == 0.9 and len(b["sha256"]) == 64
    assert d.job_outcome == "succeeded"
    kinds = {m["kind"]: m for m in d.apply}
    assert set(kinds) == {"Deployment", "Service"}
    server = kinds["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert "--manifest" in server["args"]
    assert server["args"][server["args"].index("--manifest") + 1].endswith("/revisions/1/bundles/teacher.json")
    assert kinds["Deployment"]["spec"]["template"]["spec"]["nodeSelector"] == {CLOUD_NODE_ROLE_LABEL: ""}
    assert d.status.serving_url == "https://shop-serving.demo.svc.cluster.local:443"
    assert d.status.phase == "Publishing"  # serving not ready yet


def test_bundle_fact_hashes_the_manifest_bytes():
    rep = report()
    raw = BundleManifest(revision=1, profile="s02", blocks=[0], labels=["a"], base_model="t",
                         tokenizer_sha256="e" * 64, modules=[ModuleRef(name="m", sha256="c" * 64, bytes=7)]).model_dump_json().encode()
    f = td.published_bundle("ecc-fleet", rep.bundles[1], raw, rep)
    assert f.sha256 == hashlib.sha256(raw).hexdigest() and f.bytes == 7 and f.profile == "s02"


def test_gates_refuse_a_weak_revision():
    p, _ = run(spec())
    rep = report(0.3)
    _, d = run(spec(), job=workloads.JobView(name=p.wanted_job, succeeded=True), report=rep, bundles=facts(rep))
    assert d.status.phase == "Degraded" and d.status.revision == 0 and "bundles" not in d.patch()
    assert conds(d)["Degraded"]["reason"] == "GateFailed"
    assert "s02: test accuracy 0.3000 < gate 0.5000" in d.status.message
    assert d.job_outcome == "gate-failed"


def test_report_missing_after_success_is_degraded_not_published():
    p, _ = run(spec())
    _, d = run(spec(), job=workloads.JobView(name=p.wanted_job, succeeded=True), report_error="no report at s3://x")
    assert d.status.phase == "Degraded" and conds(d)["Degraded"]["reason"] == "ReportUnreadable"
    assert "no report at s3://x" in d.status.message


def _published_status(p, rep) -> dict:
    return {"phase": "Ready", "revision": 1, "specHash": p.hash, "lastJob": p.wanted_job,
            "bundles": [f.to_k8s() for f in facts(rep)]}


def test_up_to_date_teacher_with_ready_deployment_is_ready_and_writes_nothing_new():
    p, _ = run(spec())
    rep = report()
    status = _published_status(p, rep)
    _, first = run(spec(), status=status)
    dep, svc = first.apply
    dep["status"] = {"observedGeneration": 1, "readyReplicas": 1, "updatedReplicas": 1, "replicas": 1}
    dep["metadata"]["generation"] = 1
    _, d = run(spec(), status=status, serving=teacher_serving.ServingView(deployment=dep, service=svc))
    assert d.apply == [] and d.create_job is None and d.status.phase == "Ready"
    assert conds(d)["Ready"]["status"] == "True" and conds(d)["Progressing"]["status"] == "False"


def test_a_status_update_makes_no_revision_but_a_spec_edit_does():
    p, _ = run(spec())
    status = _published_status(p, report())
    same_spec_new_gen = ObjectRef("demo", "shop", "uid-1", generation=5)
    p2, d = run(spec(serving={"mode": "deployment", "replicas": 2}), status=status, ref=same_spec_new_gen)
    assert p2.up_to_date and d.create_job is None
    p3, d3 = run(spec(students=[{"profile": "s02", "blocks": [0, 2]}]), status=status, ref=same_spec_new_gen)
    assert not p3.up_to_date and p3.next_revision == 2
    assert d3.create_job["metadata"]["name"].startswith("shop-distill-r2-")
    # while revision 2 is made, revision 1 stays published
    assert d3.status.phase == "Distilling" and d3.status.revision == 1
    assert conds(d3)["Ready"]["status"] == "True"


KSERVE_UP = teacher_serving.KServeView(crd=True, controller_ready=True, runtime=True)
KSERVE_DOWN = teacher_serving.KServeView(crd=True, problem="KServe's controller is not running (no ready endpoint)")
SERVING_STORE = StoreSettings(endpoint="127.0.0.1:9000", pod_endpoint="ecc-store.ecc-system.svc:9000",
                                access_key="ecct-0123456789abcde", secret_key="s3cr3t-s3cr3t", bucket="ecc-fleet")


def test_auto_mode_picks_kserve_when_it_can_serve_and_removes_the_deployment():
    p, _ = run(spec(serving={"mode": "auto"}))
    status = _published_status(p, report())
    old_dep = {"metadata": {"name": "shop-serving"}}
    _, d = run(spec(serving={"mode": "auto"}), status=status, kserve=KSERVE_UP, serving_store=SERVING_STORE,
               serving=teacher_serving.ServingView(deployment=old_dep))
    assert [m["kind"] for m in d.apply] == ["Secret", "InferenceService"]
    assert ("Deployment", "shop-serving") in d.delete
    secret, isvc = d.apply
    assert isvc["apiVersion"] == "serving.kserve.io/v1beta1"
    model = isvc["spec"]["predictor"]["model"]
    # KServe's storage initializer for ecc-bundle:// (the chart's ClusterStorageContainer) fetches the bundle
    teacher_uri = next(b["manifestURI"] for b in status["bundles"] if b["profile"] == "teacher")
    assert model["storageUri"] == teacher_uri.replace("s3://", "ecc-bundle://", 1)
    assert model["runtime"] == "ecc-teacher" and model["modelFormat"] == {"name": "ecc-bundle"}
    assert isvc["spec"]["predictor"]["storageContainerName"] == "ecc-bundle"
    assert model["protocolVersion"] == "v2" and {"name": "ECC_MODEL_NAME", "value": "shop"} in model["env"]
    ann = isvc["metadata"]["annotations"]
    assert ann["serving.kserve.io/storageSecretName"] == secret["metadata"]["name"] == "shop-serving-store"
    assert ann[teacher_serving.ANNOTATION_STORAGE_SECRET_HASH] == secret["metadata"]["annotations"][common.ANNOTATION_DESIRED_HASH]
    # the read-only user's keys, in the names KServe's credential builder injects; the pods' endpoint
    assert secret["stringData"] == {"AWS_ACCESS_KEY_ID": "ecct-0123456789abcde", "AWS_SECRET_ACCESS_KEY": "s3cr3t-s3cr3t",
                                    "S3_ENDPOINT": "http://ecc-store.ecc-system.svc:9000"}
    assert d.status.phase == "Publishing" and "InferenceService shop-serving" in d.status.message
    assert conds(d)["KServe"]["status"] == "True" and conds(d)["KServe"]["reason"] == "InferenceService"


def test_auto_mode_without_a_running_controller_falls_back_and_says_so():
    p, _ = run(spec(serving={"mode": "auto"}))
    status = _published_status(p, report())
    isvc = {"metadata": {"name": "shop-serving"}}
    _, d = run(spec(serving={"mode": "auto"}), status=status, kserve=KSERVE_DOWN,
               serving=teacher_serving.ServingView(inference_service=isvc))
    assert [m["kind"] for m in d.apply] == ["Deployment", "Service"]
    assert d.delete == [("InferenceService", "shop-serving")]
    k = conds(d)["KServe"]
    assert k["status"] == "False" and k["reason"] == "FellBackToDeployment"
    assert "fell back to a Deployment" in k["message"] and "not running" in k["message"]


def test_deployment_mode_fetches_with_the_read_only_user_and_serves_without_credentials():
    p, _ = run(spec(serving={"mode": "deployment"}))
    status = _published_status(p, report())
    _, d = run(spec(serving={"mode": "deployment"}), status=status, serving_store=SERVING_STORE)
    assert [m["kind"] for m in d.apply] == ["Secret", "Deployment", "Service"]
    secret, dep = d.apply[0], d.apply[1]
    pod = dep["spec"]["template"]["spec"]
    init, server = pod["initContainers"][0], pod["containers"][0]
    teacher_uri = next(b["manifestURI"] for b in status["bundles"] if b["profile"] == "teacher")
    assert init["args"][-3:] == ["fetch-bundle", teacher_uri.replace("s3://", "ecc-bundle://", 1), "/mnt/models"]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in init["env"]}
    assert refs["AWS_ENDPOINT_URL"] == {"name": "shop-serving-store", "key": "S3_ENDPOINT"}
    assert refs["AWS_SECRET_ACCESS_KEY"]["name"] == secret["metadata"]["name"]
    assert "envFrom" not in server and "--manifest" in server["args"] and "/mnt/models/bundles/" in server["args"]
    assert dep["spec"]["template"]["metadata"]["annotations"][teacher_serving.ANNOTATION_STORAGE_SECRET_HASH] == \
        secret["metadata"]["annotations"][common.ANNOTATION_DESIRED_HASH]
    # no read-only user (a store without MinIO's admin API): not served with the CloudTeacher's Secret ...
    _, d = run(spec(serving={"mode": "deployment"}), status=status, serving_store_problem="not MinIO")
    assert d.apply == [] and "not MinIO" in d.status.message and "--allow-unscoped-store-credentials" in \
        d.status.message and d.status.phase != "Ready"
    # ... unless the operator allows it: then the server reads the store itself
    unscoped = dataclasses.replace(SETTINGS, allow_unscoped_store_credentials=True)
    _, d = run(spec(serving={"mode": "deployment"}), status=status, serving_store_problem="not MinIO",
               settings=unscoped)
    assert [m["kind"] for m in d.apply] == ["Deployment", "Service"]
    server = d.apply[0]["spec"]["template"]["spec"]["containers"][0]
    assert server["envFrom"] == [{"secretRef": {"name": "ecc-store"}}] and teacher_uri in server["args"]
    # mode none: the Secret goes with the server
    _, d = run(spec(serving={"mode": "none"}), status=status,
               serving=teacher_serving.ServingView(deployment={"metadata": {"name": "shop-serving"}}))
    assert ("Secret", "shop-serving-store") in d.delete and ("Deployment", "shop-serving") in d.delete


def test_kserve_mode_without_kserve_waits_and_names_what_is_missing():
    p, _ = run(spec(serving={"mode": "kserve"}))
    status = _published_status(p, report())
    _, d = run(spec(serving={"mode": "kserve"}), status=status, kserve=teacher_serving.KServeView(problem="KServe's CRD x is not installed"))
    assert d.apply == [] and d.status.phase == "Publishing"
    assert "serving.mode kserve but KServe's CRD x is not installed" in d.status.message
    assert conds(d)["KServe"]["reason"] == "KServeUnavailable"
    _, d = run(spec(serving={"mode": "kserve"}), status=status, kserve=KSERVE_UP,
               serving_store_problem="the store refused the MinIO admin API")
    assert d.apply == [] and "MinIO admin API" in d.status.message


def test_kserve_ready_condition_makes_the_teacher_ready_with_its_url():
    p, _ = run(spec(serving={"mode": "kserve", "protocol": "v1"}))
    status = _published_status(p, report())
    kw = {"kserve": KSERVE_UP, "serving_store": SERVING_STORE}
    _, first = run(spec(serving={"mode": "kserve", "protocol": "v1"}), status=status, **kw)
    isvc = first.apply[1]
    assert isvc["spec"]["predictor"]["model"]["protocolVersion"] == "v1"
    isvc["status"] = {"url": "http://shop.demo.example", "conditions": [{"type": "Ready", "status": "True"}]}
    uri = isvc["spec"]["predictor"]["model"]["storageUri"]

    def predictor(source_uri: str, replicas: int, updated: int, ready: int) -> dict:
        return {"metadata": {"generation": 4},
                "spec": {"template": {"metadata": {"annotations": {teacher_serving.KSERVE_SOURCE_URI_ANNOTATION: source_uri}}}},
                "status": {"observedGeneration": 4, "replicas": replicas, "updatedReplicas": updated,
                           "readyReplicas": ready}}

    # KServe's Ready stays True while its Deployment still runs the last revision's pod: not yet
    for dep in (predictor(uri.replace("/revisions/1/", "/revisions/0/"), 1, 1, 1), predictor(uri, 2, 1, 2)):
        _, d = run(spec(serving={"mode": "kserve", "protocol": "v1"}), status=status,
                   serving=teacher_serving.ServingView(inference_service=isvc, predictor_deployment=dep), **kw)
        assert d.status.phase == "Publishing", d.status.message
    rolled = teacher_serving.ServingView(inference_service=isvc, predictor_deployment=predictor(uri, 1, 1, 1))
    # only the Ingress' host: the serving certificate does not cover it, so it is not handed to agents
    _, d = run(spec(serving={"mode": "kserve", "protocol": "v1"}), status=status, serving=rolled, **kw)
    assert d.apply == [] and d.status.phase == "Publishing" and "servingURL" not in d.patch()
    assert "no cluster-local address" in d.status.message
    # KServe's Standard mode: the cluster-local address wins over the Ingress' host; KServe writes
    # http:// (port 80 implied), the server speaks HTTPS there
    isvc["status"]["address"] = {"url": "http://shop-serving-predictor.demo.svc.cluster.local"}
    _, d = run(spec(serving={"mode": "kserve", "protocol": "v1"}), status=status, serving=rolled, **kw)
    assert d.apply == [] and d.status.phase == "Ready"
    assert d.status.serving_url == "https://shop-serving-predictor.demo.svc.cluster.local:80"
    assert d.status.serving_protocol == "v1"
    isvc["status"]["address"] = {"url": "http://shop-serving-predictor.demo.svc.cluster.local:8080"}  # headless
    _, d = run(spec(serving={"mode": "kserve", "protocol": "v1"}), status=status, serving=rolled, **kw)
    assert d.status.serving_url == "https://shop-serving-predictor.demo.svc.cluster.local:8080"
    isvc["status"]["address"] = {"url": "http://shop-serving-predictor.demo.svc.cluster.local"}
    # new credentials (a re-created teacher): Secret and InferenceService are applied again
    _, d = run(spec(serving={"mode": "kserve", "protocol": "v1"}), status=status, kserve=KSERVE_UP,
               serving_store=SERVING_STORE.model_copy(update={"secret_key": "other-secret"}), serving=rolled)
    assert [m["kind"] for m in d.apply] == ["Secret", "InferenceService"]


def test_missing_store_secret_degrades_and_names_it():
    _, d = run(spec(), store_secret_present=False)
    assert d.create_job is None and d.status.phase == "Degraded"
    assert "Secret demo/ecc-store" in d.status.message and conds(d)["Degraded"]["reason"] == "StoreSecretMissing"


@pytest.mark.parametrize("changes, needle", [
    ({"model": {"source": "bert-large"}}, "model.source 'bert-large'"),
    ({"store": {"prefix": "team-a/"}}, "store.prefix"),
])
def test_specs_the_job_cannot_run_degrade_naming_the_field(changes, needle):
    _, d = run(spec(**changes))
    assert d.create_job is None and d.status.phase == "Degraded" and needle in d.status.message


def test_invalid_spec_is_degraded_not_raised():
    _, d = run({"students": []})
    assert d.status.phase == "Degraded" and conds(d)["Degraded"]["reason"] == "InvalidSpec"
    assert "students" in d.status.message


def test_conditions_carry_the_observed_generation():
    ref = ObjectRef("demo", "shop", "uid-1", generation=7)
    _, d = run(spec(), ref=ref)
    assert d.status.observed_generation == 7
    assert all(x["observedGeneration"] == 7 for x in d.patch()["conditions"])
    assert c.is_true(d.patch()["conditions"], c.PROGRESSING)


# --------------------------------------------------------------------- retries
def test_a_failed_revision_is_retried_after_a_growing_delay_then_given_up():
    p, _ = run(spec())
    failed = workloads.JobView(name=p.wanted_job, failed=True, failure_reason="BackoffLimitExceeded", failed_at=1000.0)
    degraded = {"phase": "Degraded", "lastJob": p.wanted_job}
    _, wait = run(spec(), status=degraded, job=failed, attempt=1, now=1000.0 + td.retry_delay(1) - 1)
    assert wait.create_job is None and wait.status.phase == "Degraded"
    assert f"attempt 1/{td.MAX_ATTEMPTS}, next attempt at" in wait.status.message
    _, retry = run(spec(), status=degraded, job=failed, attempt=1, now=1000.0 + td.retry_delay(1))
    assert retry.create_job["metadata"]["name"] == td.job_name("shop", 1, p.hash, 2) == p.wanted_job + "-2"
    assert retry.status.phase == "Distilling" and retry.status.last_job == p.wanted_job + "-2"
    assert ("Normal", "Retrying") in [(e[0], e[1]) for e in retry.events]
    assert td.retry_delay(2) == 2 * td.retry_delay(1)
    last = workloads.JobView(name=td.job_name("shop", 1, p.hash, td.MAX_ATTEMPTS), failed=True, failed_at=1000.0)
    _, gave_up = run(spec(), status=degraded, job=last, attempt=td.MAX_ATTEMPTS, now=10**9)
    assert gave_up.create_job is None and "gave up after" in gave_up.status.message


def test_job_names_fit_the_pod_label_limit_and_attempts_parse_back():
    longest = "t" * 40  # the CRD's max name length for CloudTeacher
    name = td.job_name(longest, 99999, "f" * 64, td.MAX_ATTEMPTS)
    assert len(name) <= 63
    base = td.job_name("shop", 3, "abcdef0123")
    assert td.attempt_of(base, base) == 1 and td.attempt_of(base, base + "-3") == 3
    assert td.attempt_of(base, base + "-x") is None and td.attempt_of(base, "shop-distill-r4-abcdef") is None


TLS_STORE = SERVING_STORE.model_copy(update={"secure": True, "ca_pem": "-----BEGIN CERTIFICATE-----\nMII...\n"})


@pytest.mark.parametrize("mode", ["auto", "deployment"])
def test_a_store_with_its_own_ca_reaches_the_storage_initializer_as_kserve_mounts_it(mode):
    """KServe's credential builder mounts the ConfigMap named by AWS_CA_BUNDLE_CONFIGMAP at the
    directory of AWS_CA_BUNDLE; the operator's own Deployment does the same."""
    p, _ = run(spec(serving={"mode": mode}))
    status = _published_status(p, report())
    _, d = run(spec(serving={"mode": mode}), status=status, kserve=KSERVE_UP, serving_store=TLS_STORE)
    kinds = [m["kind"] for m in d.apply]
    assert kinds[:2] == ["ConfigMap", "Secret"]  # the CA before the Secret that names it
    ca, secret = d.apply[0], d.apply[1]
    assert ca["data"] == {"ca.crt": TLS_STORE.ca_pem} and ca["metadata"]["ownerReferences"][0]["kind"] == "CloudTeacher"
    assert secret["stringData"]["S3_ENDPOINT"] == "https://ecc-store.ecc-system.svc:9000"
    assert secret["stringData"]["AWS_CA_BUNDLE_CONFIGMAP"] == ca["metadata"]["name"]
    assert secret["stringData"]["AWS_CA_BUNDLE"] == "/etc/ssl/ecc-store-ca/ca.crt"
    if mode == "deployment":
        pod = d.apply[2]["spec"]["template"]["spec"]
        assert {"name": "store-ca", "configMap": {"name": ca["metadata"]["name"]}} in pod["volumes"]
        init = pod["initContainers"][0]
        assert {"name": "store-ca", "mountPath": "/etc/ssl/ecc-store-ca", "readOnly": True} in init["volumeMounts"]
        assert {e["name"]: e["valueFrom"]["secretKeyRef"]["key"] for e in init["env"]}["AWS_CA_BUNDLE"] == "AWS_CA_BUNDLE"
    # a new CA gets a new ConfigMap name, so the Secret's hash (and the server) changes with it
    other = TLS_STORE.model_copy(update={"ca_pem": TLS_STORE.ca_pem + "more\n"})
    _, d2 = run(spec(serving={"mode": mode}), status=status, kserve=KSERVE_UP, serving_store=other)
    assert d2.apply[0]["metadata"]["name"] != ca["metadata"]["name"]
    assert d2.apply[1]["metadata"]["annotations"][common.ANNOTATION_DESIRED_HASH] != \
        secret["metadata"]["annotations"][common.ANNOTATION_DESIRED_HASH]


def test_the_job_specs_carry_the_resources_settings_as_they_are():
    changed = spec(distillation={**SPEC["distillation"], "fewLabel": "on", "patience": 0, "learningRate": 3e-4})
    changed["corpus"] = {**SPEC["corpus"], "cleaning": {"keepUnlabelled": True, "scrubPII": False},
                         "splits": {"train": 0.5, "validation": 0.1, "test": 0.1}}
    p, d = run(changed)
    pod = d.create_job["spec"]["template"]["spec"]
    prep, dist = job_spec(pod["initContainers"][0]), job_spec(pod["containers"][0])
    assert prep.cleaning == p.spec.corpus.cleaning and prep.splits == p.spec.corpus.splits
    assert prep.cleaning.keep_unlabelled and not prep.cleaning.scrub_pii and prep.splits.train == 0.5
    assert dist.training.few_label == "on" and dist.training.patience == 0 and dist.training.learning_rate == 3e-4
    assert dist.training.model_dump() == p.spec.distillation.model_dump(include=set(type(dist.training).model_fields))
    assert dist.students == p.spec.students
