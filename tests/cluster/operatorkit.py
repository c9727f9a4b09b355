"""The harness of the control-plane tests: the operator as a restartable subprocess, a
namespace with the store Secret, the CRDs, the corpus slice the teachers distil from.

Plain functions and one class, no fixtures: each test module builds its own (module-scoped)
fixtures from these, so modules never share a namespace or an operator.
"""

from __future__ import annotations

import csv
import io
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Callable, Sequence

import pytest

from ecc_devcluster.ports import free_port
from ecc_workloads import contracts as c
from ecc_workloads.data import datasets

from ecc_operator.api.cloudteacher import CLOUD_TEACHER

from clusterkit import eventually

REPO_ROOT = Path(__file__).resolve().parents[2]
BITEXT_CSV = datasets.bitext_csv()
CORPUS_COLUMNS = ("instruction", "intent", "response")
START_TIMEOUT_S = 60


class OperatorProcess:
    """`python -m ecc_operator` as a subprocess watching one namespace, restartable.

    `extra_args` go after the standard ones (e.g. `("--peering", "")`).
    """

    def __init__(self, cluster, namespace: str, log_path: Path, extra_args: Sequence[str] = ()):
        self.cluster, self.namespace, self.log_path = cluster, namespace, log_path
        self.extra_args = tuple(extra_args)
        self.metrics_port, self.health_port = free_port(), free_port()
        self.node_credentials_port = free_port()
        self.proc: subprocess.Popen | None = None

    def argv(self) -> list[str]:
        return [sys.executable, "-m", "ecc_operator", "--namespace", self.namespace,
                "--kubeconfig", str(self.cluster.kubeconfig), "--metrics-port", str(self.metrics_port),
                "--liveness", f"http://127.0.0.1:{self.health_port}/healthz",
                "--node-credentials-port", str(self.node_credentials_port), *self.extra_args]

    def node_credentials_ca(self) -> str:
        """The CA the operator's node-credentials certificate chains to (its TLS Secret's ca.crt,
        which it also gives the agents)."""
        import base64

        from kubernetes import client, config

        api = config.new_client_from_config(str(self.cluster.kubeconfig))
        secret = client.CoreV1Api(api).read_namespaced_secret(c.NodeIdentity.TLS_SECRET, c.SYSTEM_NAMESPACE)
        return base64.b64decode(secret.data[c.NodeIdentity.TLS_CA]).decode()

    def node_credentials(self, token: str | None) -> tuple[int, dict]:
        """POST to the operator's node-credentials endpoint as an agent would (HTTPS, the operator's
        certificate checked against its CA): (status, JSON body)."""
        import json
        import ssl
        import urllib.error

        req = urllib.request.Request(f"https://127.0.0.1:{self.node_credentials_port}{c.NodeIdentity.PATH}",
                                     method="POST", headers={"Authorization": f"Bearer {token}"} if token else {})
        ctx = ssl.create_default_context(cadata=self.node_credentials_ca())
        try:
            with urllib.request.urlopen(req, timeout=20, context=ctx) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"{}")

    def start(self) -> None:
        env = dict(os.environ)
        # the operator's own store address (loopback) and the one it gives pods (a Service)
        env.update(self.cluster.env())
        env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "operator"), env.get("PYTHONPATH", "")])
        with open(self.log_path, "ab") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(self.argv(), stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO_ROOT)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"the operator exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.health_port}/healthz", timeout=1).read()
                return
            except OSError:
                time.sleep(0.3)
        pytest.fail(f"the operator's health endpoint did not answer in {START_TIMEOUT_S} s:\n{self.log_tail()}")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def metrics(self) -> str:
        return urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).read().decode()

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"


def wait_for(what: str, fn: Callable[[], Any], timeout: float, op: OperatorProcess, interval: float = 1.0) -> Any:
    """`clusterkit.eventually`, with the operator's log tail in the failure."""
    try:
        return eventually(fn, timeout, f"waiting for {what}", interval)
    except pytest.fail.Exception as exc:
        pytest.fail(f"{exc.msg}\noperator log:\n{op.log_tail()}")


def make_namespace(kube, prefix: str) -> str:
    """A new namespace `<prefix>-<6 hex>` holding a copy of the store Secret; its name."""
    from kubernetes import client

    core = client.CoreV1Api(kube)
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    core.create_namespace({"metadata": {"name": name}})
    secret = core.read_namespaced_secret(c.STORE_SECRET_NAME, c.SYSTEM_NAMESPACE)
    core.create_namespaced_secret(name, {"metadata": {"name": c.STORE_SECRET_NAME}, "data": secret.data})
    return name


def delete_namespace(kube, name: str) -> None:
    from kubernetes import client

    client.CoreV1Api(kube).delete_namespace(name)


def apply_crds(cluster) -> None:
    """`kubectl apply --server-side -f crds/`, then a moment for the API server to serve them."""
    kubectl = Path(cluster.bin_dir) / "kubectl"
    run = subprocess.run([str(kubectl), f"--kubeconfig={cluster.kubeconfig}", "apply", "--server-side",
                          "--force-conflicts", "-f", str(REPO_ROOT / "crds")], capture_output=True, text=True)
    assert run.returncode == 0, f"kubectl apply --server-side -f crds/ failed: {run.stderr}"
    time.sleep(1)


def delete_custom_objects(kube, ns: str, plurals: Sequence[str], timeout_s: float = 60) -> None:
    """Delete every object of each plural (in order), waiting up to `timeout_s` for each kind to
    go: they carry the operator's finalizers, so call this while the operator still runs."""
    from kubernetes import client

    custom = client.CustomObjectsApi(kube)
    g, v = CLOUD_TEACHER.group, CLOUD_TEACHER.version
    for plural in plurals:
        for item in custom.list_namespaced_custom_object(g, v, ns, plural)["items"]:
            custom.delete_namespaced_custom_object(g, v, ns, plural, item["metadata"]["name"])
        deadline = time.monotonic() + timeout_s
        while custom.list_namespaced_custom_object(g, v, ns, plural)["items"] and time.monotonic() < deadline:
            time.sleep(0.5)


def bitext_slice(intents: int = 4, rows_per_intent: int = 40) -> list[dict[str, str]]:
    """`rows_per_intent` seeded-random rows of each of the first `intents` intents of the packaged
    Bitext corpus, with the columns the teachers read."""
    with BITEXT_CSV.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    names = sorted({r["intent"] for r in rows})[:intents]
    rnd = random.Random(0)
    return [{k: r[k] for k in CORPUS_COLUMNS}
            for intent in names for r in rnd.sample([r for r in rows if r["intent"] == intent], rows_per_intent)]


def upload_corpus(cluster, store_client, key: str, rows: list[dict[str, str]]) -> str:
    """`rows` as a CSV at `key` in the cluster's bucket; its s3:// URI."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(CORPUS_COLUMNS))
    w.writeheader()
    w.writerows(rows)
    data = buf.getvalue().encode()
    store_client.put_object(cluster.store.bucket, key, io.BytesIO(data), len(data))
    return f"s3://{cluster.store.bucket}/{key}"
