"""Shared fixtures.

The local cluster is started lazily: only a test that asks for `cluster` (or `kube`,
`store_client`) starts it, once per session, and the session tears it down at the
end. `pytest tests/unit` never starts it.

Set ECC_TEST_CLUSTER=NAME to run the tests against a cluster you already started
with `ecc-dev up --name NAME --with-kserve` (it is then left running).

pytest puts this folder on sys.path (no __init__.py), so the helper modules beside it
(`agentkit`) import by name from tests/unit, tests/images and tests/cluster.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
for p in (REPO_ROOT, REPO_ROOT / "operator"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from ecc_workloads.contracts import RuntimeEnv  # noqa: E402

TEST_CLUSTER_ENV = RuntimeEnv.TEST_CLUSTER
TEST_FAKE_NODES = 60
TEST_CLOUD_WORKERS = 1
TEST_EDGE_NODES = 3


def _say(msg: str) -> None:
    print(f"[cluster] {msg}", file=sys.stderr, flush=True)


@pytest.fixture(scope="session")
def cluster(request):
    """ClusterInfo of a dedicated local cluster (pytest-<pid>): 60 fake edge nodes (the
    end-to-end fleet needs at least fifty), one cloud worker and three edge nodes (real kubelets),
    KServe CRDs. Fails — never skips — when it
    cannot start, with the reason and the failing component's log tail."""
    from ecc_devcluster import cluster as devcluster

    existing = os.environ.get(TEST_CLUSTER_ENV)
    if existing:
        info = devcluster.load(existing)
        if info is None or not info.any_alive():
            pytest.fail(f"{TEST_CLUSTER_ENV}={existing}: no such running cluster (start it with "
                        f"`ecc-dev up --name {existing} --with-kserve`)")
        yield info
        return

    name = f"pytest-{os.getpid()}"
    try:
        info = devcluster.up(
            name,
            fake_nodes=TEST_FAKE_NODES,
            cloud_workers=TEST_CLOUD_WORKERS,
            edge_nodes=TEST_EDGE_NODES,
            with_kserve=True,
            say=_say,
        )
    except Exception as exc:  # noqa: BLE001 - any failure to start is a test failure
        pytest.fail(f"the local cluster could not start: {exc}", pytrace=False)
    try:
        yield info
    finally:
        # Keep the logs of a failed session for a post-mortem; purge after a clean one.
        failed = request.session.testsfailed > 0
        devcluster.down(name, say=_say, purge=not failed)


@pytest.fixture(scope="session")
def kube(cluster):
    """kubernetes.client.ApiClient for the cluster's admin kubeconfig."""
    from ecc_devcluster import kube as devkube

    api = devkube.api_client(cluster.kubeconfig)
    yield api
    api.close()


@pytest.fixture(scope="session")
def store_client(cluster):
    """minio.Minio for the cluster's MinIO (bucket contracts.DEFAULT_BUCKET exists; TLS, its CA)."""
    from ecc_workloads.store import minio_client

    return minio_client(cluster.store)
