"""The Jobs' store credentials (job_credentials): the narrowing policies and the Secret, pure."""

from __future__ import annotations

import fnmatch

from ecc_workloads.contracts import StoreEnv, StoreLayout, StoreSettings

from ecc_operator.credentials import jobs as jc

B, NS = "ecc-fleet", "shop"


def allowed(doc: dict, action: str, key: str) -> bool:
    arn = f"arn:aws:s3:::{key}" if key.count("/") == 0 and action == "s3:ListBucket" else f"arn:aws:s3:::{B}/{key}"
    return any(action in st["Action"] and any(fnmatch.fnmatchcase(arn, r) for r in st["Resource"])
               for st in doc["Statement"] if st["Effect"] == "Allow")


def test_the_distillation_policy_writes_its_revision_and_reads_its_corpus():
    doc = jc.distill_policy(B, NS, "t", 3, "s3://corpora-bucket/in/train.csv", "reports/jobs/shop/t/j.json")
    assert allowed(doc, "s3:PutObject", StoreLayout.bundle_manifest(NS, "t", 3, "s1"))
    assert not allowed(doc, "s3:PutObject", StoreLayout.bundle_manifest(NS, "t", 2, "s1"))
    assert not allowed(doc, "s3:PutObject", StoreLayout.bundle_manifest(NS, "t2", 3, "s1"))
    assert not allowed(doc, "s3:PutObject", StoreLayout.desired_state(NS, "edge"))
    reads = doc["Statement"][0]["Resource"]
    assert "arn:aws:s3:::corpora-bucket/in/train.csv" in reads and "arn:aws:s3:::corpora-bucket/in/LICENSE.txt" in reads
    assert not any(r.startswith("arn:aws:s3:::corpora-bucket/in/*") for r in reads)  # not the whole folder
    assert jc.corpus_objects("bitext") == []  # the packaged corpus: nothing to read
    actions = {a for st in doc["Statement"] for a in st["Action"]}
    assert actions == {"s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:GetBucketLocation"}


def test_the_merge_policy_writes_only_its_candidate():
    doc = jc.merge_policy(B, NS, "t", "edge", 4, "reports/jobs/shop/edge/m.json")
    assert allowed(doc, "s3:GetObject", StoreLayout.delta(NS, "edge", 3, "n1"))
    assert not allowed(doc, "s3:GetObject", StoreLayout.delta(NS, "edge2", 3, "n1"))
    assert allowed(doc, "s3:PutObject", StoreLayout.candidate_manifest(NS, "t", 4, "s1"))
    assert not allowed(doc, "s3:PutObject", StoreLayout.candidate_manifest(NS, "t", 5, "s1"))
    assert not allowed(doc, "s3:PutObject", StoreLayout.delta(NS, "edge", 3, "n1"))


def test_credentials_live_as_long_as_the_job_may():
    assert jc.lifetime(3600) == 3600 + jc.MARGIN_S
    assert jc.lifetime(60) == 60 + jc.MARGIN_S and jc.lifetime(10**9) == jc.MAX_SECONDS


def test_the_secret_is_owned_by_the_job_and_holds_the_session_token():
    job = {"metadata": {"name": "shop-distill-r1-abc", "namespace": NS, "uid": "job-uid", "labels": {"a": "b"}}}
    creds = StoreSettings(endpoint="ecc-store.ecc-system.svc:9000", access_key="AK", secret_key="SK",
                          session_token="ST", bucket=B)
    secret = jc.secret_manifest(job, creds)
    assert secret["metadata"]["name"] == "shop-distill-r1-abc-store"
    assert secret["metadata"]["ownerReferences"][0]["uid"] == "job-uid"
    assert secret["stringData"][StoreEnv.SESSION_TOKEN] == "ST"
    assert StoreSettings.from_env(secret["stringData"]).session_token == "ST"


def test_a_refusing_store_gets_no_wider_credentials_unless_allowed_and_an_unreachable_one_is_retried():
    admin = StoreSettings(endpoint="127.0.0.1:9000", pod_endpoint="ecc-store.ecc-system.svc:9000", access_key="root",
                          secret_key="rootpass", bucket=B)

    def refusing(*_):
        raise ValueError("http://store failed with HTTP status code 501")

    def unreachable(*_):
        raise ConnectionRefusedError("store down")

    import pytest

    with pytest.raises(jc.UnscopedRefused, match="--allow-unscoped-store-credentials"):
        jc.issue(admin, jc.distill_policy(B, NS, "t", 1, "bitext", "r"), 900, sts=refusing)
    fallback = jc.issue(admin, jc.distill_policy(B, NS, "t", 1, "bitext", "r"), 900, sts=refusing, allow_unscoped=True)
    assert fallback.access_key == "root" and fallback.endpoint == "ecc-store.ecc-system.svc:9000"

    with pytest.raises(ConnectionRefusedError):  # never wider credentials because of an outage
        jc.issue(admin, jc.distill_policy(B, NS, "t", 1, "bitext", "r"), 900, sts=unreachable)
