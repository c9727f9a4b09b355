"""The operator's Jobs' store credentials against the local cluster's real MinIO: STS credentials
narrowed to a distillation's or a merge-back's own prefixes (job_credentials) — what each may do,
and what MinIO refuses. (The end-to-end test runs both Jobs with them.)"""

from __future__ import annotations

import io
import uuid

import pytest

from ecc_workloads.contracts import StoreLayout

from ecc_operator.credentials import jobs as jc

from clusterkit import S3Probe, s3_outcome as _try

pytestmark = pytest.mark.cluster


def _client(creds):
    from ecc_workloads.store import minio_client

    return minio_client(creds)


@pytest.fixture()
def keys(cluster, store_client):
    ns = f"jc-{uuid.uuid4().hex[:6]}"
    bucket = cluster.store.bucket
    seeded = {"corpus": f"corpora/{ns}/train.csv", "other_corpus": f"corpora/{ns}/secret.csv",
              "delta": StoreLayout.delta(ns, "edge", 1, "n1"), "other_delta": StoreLayout.delta(ns, "other", 1, "n1"),
              "bundle": StoreLayout.bundle_manifest(ns, "shop", 1, "s1"),
              "other_bundle": StoreLayout.bundle_manifest(ns, "rival", 1, "s1"),
              "desired": StoreLayout.desired_state(ns, "edge")}
    for key in seeded.values():
        store_client.put_object(bucket, key, io.BytesIO(b"{}"), 2)
    yield ns, bucket, seeded
    for obj in store_client.list_objects(bucket, prefix=f"teachers/{ns}/", recursive=True):
        store_client.remove_object(bucket, obj.object_name)
    for prefix in (f"fleets/{ns}/", f"corpora/{ns}/", f"reports/jobs/{ns}/"):
        for obj in store_client.list_objects(bucket, prefix=prefix, recursive=True):
            store_client.remove_object(bucket, obj.object_name)


def test_a_distillation_job_writes_only_its_revision(cluster, keys):
    ns, bucket, seeded = keys
    report = StoreLayout.job_report(ns, "shop", "shop-distill-r2-abc")
    policy = jc.distill_policy(bucket, ns, "shop", 2, f"s3://{bucket}/{seeded['corpus']}", report)
    creds = jc.issue(cluster.store, policy, 900)
    assert creds.session_token and creds.access_key != cluster.store.access_key
    mc = _client(creds.model_copy(update={"endpoint": cluster.store.endpoint}))
    put, get = S3Probe(mc, bucket).put, S3Probe(mc, bucket).get

    assert get(seeded["corpus"]) == "allowed" and get(seeded["bundle"]) == "allowed"
    assert put(StoreLayout.bundle_manifest(ns, "shop", 2, "s1")) == "allowed"
    assert put(StoreLayout.module("cd" * 32)) == "allowed" and put(report) == "allowed"
    assert put(StoreLayout.bundle_manifest(ns, "shop", 1, "s1")) == "AccessDenied"  # a published revision
    assert put(StoreLayout.bundle_manifest(ns, "rival", 2, "s1")) == "AccessDenied"
    assert get(seeded["other_corpus"]) == "AccessDenied" and get(seeded["other_bundle"]) == "AccessDenied"
    assert get(seeded["delta"]) == "AccessDenied" and get(seeded["desired"]) == "AccessDenied"
    assert _try(lambda: mc.remove_object(bucket, seeded["bundle"])) == "AccessDenied"
    assert _try(lambda: list(mc.list_objects(bucket, prefix=f"fleets/{ns}/"))) == "AccessDenied"


def test_a_merge_back_job_reads_its_fleet_and_writes_only_its_candidate(cluster, keys):
    ns, bucket, seeded = keys
    report = StoreLayout.job_report(ns, "edge", "adapt-merge-r1")
    creds = jc.issue(cluster.store, jc.merge_policy(bucket, ns, "shop", "edge", 2, report), 900)
    mc = _client(creds.model_copy(update={"endpoint": cluster.store.endpoint}))
    put, get = S3Probe(mc, bucket).put, S3Probe(mc, bucket).get

    assert get(seeded["delta"]) == "allowed" and get(seeded["desired"]) == "allowed"
    assert get(seeded["bundle"]) == "allowed"
    assert [o.object_name for o in mc.list_objects(bucket, prefix=StoreLayout.deltas_prefix(ns, "edge", 1))] == [
        seeded["delta"]]
    assert put(StoreLayout.candidate_manifest(ns, "shop", 2, "s1")) == "allowed"
    assert put(StoreLayout.bundle_manifest(ns, "shop", 2, "s1")) == "allowed" and put(report) == "allowed"
    assert put(StoreLayout.bundle_manifest(ns, "shop", 1, "s1")) == "AccessDenied"
    assert put(StoreLayout.candidate_manifest(ns, "shop", 3, "s1")) == "AccessDenied"
    assert put(StoreLayout.desired_state(ns, "edge")) == "AccessDenied"
    assert put(StoreLayout.delta(ns, "edge", 1, "n2")) == "AccessDenied"  # no forged updates
    assert get(seeded["other_delta"]) == "AccessDenied" and get(seeded["corpus"]) == "AccessDenied"
    assert _try(lambda: mc.remove_object(bucket, seeded["delta"])) == "AccessDenied"


def test_a_store_whose_sts_refuses_gives_the_job_nothing_unless_allowed(cluster):
    """Refused (an error status, as from a store without STS): no credentials, with what to change;
    the operator's own only with --allow-unscoped-store-credentials; unreachable: no Secret now,
    the reconcile retries."""
    from ecc_operator.credentials.nodes import assume_role

    def refusing(*_):
        raise ValueError("http://store failed with HTTP status code 501")

    with pytest.raises(jc.UnscopedRefused, match="allowUnscopedStoreCredentials"):
        jc.issue(cluster.store, jc.distill_policy("b", "n", "t", 1, "bitext", "r"), 900, sts=refusing)
    creds = jc.issue(cluster.store, jc.distill_policy("b", "n", "t", 1, "bitext", "r"), 900, sts=refusing,
                     allow_unscoped=True)
    assert creds.access_key == cluster.store.access_key and creds.session_token is None
    gone = cluster.store.model_copy(update={"endpoint": "127.0.0.1:9"})  # nothing listens there
    with pytest.raises(Exception) as info:
        jc.issue(gone, jc.distill_policy("b", "n", "t", 1, "bitext", "r"), 900, sts=assume_role)
    assert not isinstance(info.value, ValueError)
