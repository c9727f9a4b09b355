"""`ecc fetch-bundle` (KServe's storage initializer for ecc-bundle:// URIs) against the real MinIO,
with the read-only store user the operator makes for a served teacher: the model directory it
writes is what `ecc serve-teacher` loads; a tampered module, a missing manifest and another
teacher's bundle are refused."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from ecc_workloads import tls
from ecc_workloads.learning import bundles, modular
from ecc_workloads.serving import teacher as serving
from ecc_workloads.contracts import BundleManifest, KServeServing, ModelDirLayout, StoreLayout
from ecc_workloads.store import Store

from ecc_operator.credentials.store_access import ScopedUsers

pytestmark = pytest.mark.cluster
REPO = Path(__file__).resolve().parents[2]
LABELS = ["cancel_order", "track_order", "get_refund"]


@pytest.fixture(scope="module")
def published(cluster, store_client):
    """Revision 1 of a tiny teacher in namespace `fetch-<id>`, with a reply corpus."""
    ns, teacher = f"fetch-{uuid.uuid4().hex[:6]}", "shop"
    store = Store(cluster.store, retry_seconds=10)
    kv = bundles.BucketKeys(store)
    model = modular.tiny_encoder(LABELS, num_hidden_layers=2, seed=5)
    written = bundles.write_bundles(model, ["teacher"], 1, kv)
    key = bundles.publish_manifests(kv, written.manifests.values(), ns, teacher)[0]
    replies = '{"instruction": "where is my parcel", "intent": "track_order", "response": "It is on its way."}\n'
    store.put_bytes(f"s3://{cluster.store.bucket}/{StoreLayout.responses(ns, teacher, 1)}", replies.encode())
    return ns, teacher, key, store


def fetch(uri: str, dest: Path, creds, scheme: str = "https") -> subprocess.CompletedProcess:
    """Run the command as KServe's init container does: two arguments, S3 variables injected (and
    the store's CA bundle as a file, where KServe mounts its ConfigMap)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ECC_STORE_", "AWS_"))}
    env.update({KServeServing.ACCESS_KEY_ENV: creds.access_key, KServeServing.SECRET_KEY_ENV: creds.secret_key,
                KServeServing.ENDPOINT_URL_ENV: f"{scheme}://{creds.endpoint}",
                "PYTHONPATH": os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])})
    if scheme == "https" and creds.ca_pem:
        ca_file = dest.parent / f"{dest.name}-ca.crt"
        ca_file.write_text(creds.ca_pem)
        env[KServeServing.CA_BUNDLE_ENV] = str(ca_file)
    return subprocess.run([sys.executable, "-m", "ecc_workloads.cli.app", "fetch-bundle", uri, str(dest)],
                          env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def serving_user(cluster, published):
    ns, teacher, _, _ = published
    users = ScopedUsers()
    creds = users.ensure_serving(cluster.store, ns, teacher, uid=uuid.uuid4().hex)
    # the pods' endpoint is a cluster address; this test runs on the host
    yield creds.model_copy(update={"endpoint": cluster.store.endpoint})
    users.remove_serving(cluster.store, ns, teacher)


def test_fetch_writes_the_model_directory_serve_teacher_loads(cluster, published, serving_user, tmp_path):
    ns, teacher, key, _ = published
    uri = KServeServing.bundle_uri(cluster.store.bucket, key)
    run = fetch(uri, tmp_path, serving_user)
    assert run.returncode == 0, run.stderr
    assert "profile teacher revision 1" in run.stderr and "reply corpus yes" in run.stderr
    manifest = BundleManifest.model_validate_json((tmp_path / ModelDirLayout.manifest("teacher")).read_bytes())
    for ref in manifest.modules:
        data = (tmp_path / ModelDirLayout.module(ref.sha256)).read_bytes()
        assert bundles.sha256_hex(data) == ref.sha256
    assert (tmp_path / ModelDirLayout.RESPONSES).read_text().startswith('{"instruction": "where is my parcel"')
    # what the runtime's container does with it: `--manifest /mnt/models/bundles/`
    loaded = serving.open_bundle(str(tmp_path / ModelDirLayout.BUNDLES_DIR) + "/")
    assert loaded.manifest.labels == LABELS and loaded.manifest.revision == 1
    assert serving.default_responses_uri(loaded) == str(tmp_path / ModelDirLayout.RESPONSES)
    assert bundles.load_submodel(loaded.manifest, loaded.fetch) is not None
    # a restarted init container keeps what it verified and completes again
    again = fetch(uri, tmp_path, serving_user)
    assert again.returncode == 0 and "(0 bytes fetched)" in again.stderr, again.stderr


def test_a_tampered_module_is_refused_and_nothing_is_served(cluster, published, tmp_path):
    ns, teacher, key, store = published
    manifest = BundleManifest.model_validate_json(store.get_bytes(f"s3://{cluster.store.bucket}/{key}"))
    # a manifest naming a module whose stored bytes are not what its sha256 says
    fake_sha = uuid.uuid4().hex * 2
    store.put_bytes(f"s3://{cluster.store.bucket}/{StoreLayout.module(fake_sha)}", b"not the module")
    forged = manifest.model_copy(update={"modules": [
        manifest.modules[0].model_copy(update={"sha256": fake_sha}), *manifest.modules[1:]]})
    forged_key = key.replace("/revisions/1/", "/revisions/99/")
    store.put_bytes(f"s3://{cluster.store.bucket}/{forged_key}", forged.model_dump_json().encode())
    run = fetch(KServeServing.bundle_uri(cluster.store.bucket, forged_key), tmp_path, cluster.store)
    assert run.returncode == 1
    assert "tampered or corrupt" in run.stderr and manifest.modules[0].name in run.stderr, run.stderr
    assert not (tmp_path / ModelDirLayout.manifest("teacher")).exists()


def test_missing_manifest_bad_uri_and_another_teachers_bundle_are_refused(cluster, published, serving_user, tmp_path):
    ns, teacher, key, store = published
    bucket = cluster.store.bucket
    run = fetch(KServeServing.bundle_uri(bucket, key.replace("/revisions/1/", "/revisions/7/")), tmp_path, cluster.store)
    assert run.returncode == 1 and "does not exist" in run.stderr, run.stderr
    run = fetch(f"s3://{bucket}/{key}", tmp_path, cluster.store)
    assert run.returncode == 1 and "expected ecc-bundle://BUCKET/KEY.json" in run.stderr, run.stderr
    # the served teacher's read-only user cannot read another teacher's revisions
    other = key.replace(f"teachers/{ns}/{teacher}/", f"teachers/{ns}/other-{int(time.time())}/")
    store.put_bytes(f"s3://{bucket}/{other}", store.get_bytes(f"s3://{bucket}/{key}"))
    run = fetch(KServeServing.bundle_uri(bucket, other), tmp_path, serving_user)
    assert run.returncode == 1 and "cannot read the bundle manifest" in run.stderr, run.stderr
    assert "AccessDenied" in run.stderr or "Access Denied" in run.stderr, run.stderr
    # the store speaks TLS only: a plaintext URL, or a CA bundle its certificate does not chain to,
    # is named (the setting to fix), never a traceback, and the second is not retried as an outage
    run = fetch(KServeServing.bundle_uri(bucket, key), tmp_path, cluster.store, scheme="http")
    assert run.returncode == 1 and "speaks TLS only" in run.stderr and "Traceback" not in run.stderr, run.stderr
    other_ca = tls.cert_pem(tls.make_ca("not the cluster's CA")[0]).decode()
    run = fetch(KServeServing.bundle_uri(bucket, key), tmp_path, cluster.store.model_copy(update={"ca_pem": other_ca}))
    assert run.returncode == 1 and "CERTIFICATE_VERIFY_FAILED" in run.stderr and "AWS_CA_BUNDLE" in run.stderr, \
        run.stderr
