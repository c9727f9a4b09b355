"""Fleet scale benchmark: the EdgeFleet controller over thousands of (simulated) edge nodes.

For each fleet size (default 1,000 and 5,000 KWOK fake nodes):

1. a cluster with that many fake nodes — a dedicated one (`bench-fleet-<N>`, started with
   `cluster.up(fake_nodes=N)` and taken down afterwards) or, with `--cluster NAME`, a running
   one whose KWOK nodes are used as they are (`--add-fake-nodes` first tops them up to N);
2. a namespace with the store Secret, the CRDs, and a CloudTeacher whose status is patched to a
   published revision 1 (two profiles; small module blobs put in the store as content-addressed
   modules with valid bundle manifests — no distillation runs) and `serving.mode: none`;
3. the operator as a subprocess (`python -m ecc_operator --namespace NS`, every EdgeFleet
   reconcile timed into a log by a small wrapper, BOOT), then an EdgeFleet selecting
   `ecc.dev/node-kind=kwok` (two tiers) whose reportIntervalSeconds makes `--changed-share` of
   the agents report between two steady reconciles, then `ecc sim-agents --report-slots` as a
   subprocess playing every fake node's agent against the real MinIO (each agent's periodic
   reports on its own fixed grid, so that share holds in every window).

Measured (from applying the EdgeFleet):
- `matched_s`: until `status.nodes.matched` counts every fake node;
- `desired_state_s`: until the DesiredState in the store lists every node;
- `on_target_s`: until `status.nodes.onTarget` counts every node;
- API requests per reconcile: `apiserver_request_total` (the API server's /metrics) before and
  after, divided by the EdgeFleet reconciles (`ecc_operator_reconcile_duration_seconds_count
  {kind="EdgeFleet"}` on the operator's /metrics). The API server counts every client, so three
  figures are given: requests to the `ecc.dev` group (the custom resources: only the operator
  and this script's own status polls, which are subtracted), every request net of the
  background rate measured in a quiet window just before the fleet is applied, and every
  request (an upper bound: KWOK heartbeats, controllers, the DaemonSet's pods);
- the EdgeFleet reconcile's duration in the rollout and the steady window: the mean from the
  operator's `ecc_operator_reconcile_duration_seconds` histogram (sum/count deltas), p90 and
  max as bucket bounds, and exactly (mean, p50, p90, max) from the reconcile log;
- reports taken in per reconcile (`ecc_operator_fleet_reports_read_total`, by listing metadata
  or GET) and as a share of the nodes: the "reports changed" of the steady window;
- operator RSS (psutil; peak over the run and at the end) and CPU seconds; sim-agents RSS.

    python benchmarks/fleet_scale.py [--sizes 1000,5000] [--cluster NAME [--add-fake-nodes]]
                                     [--nodes 200]   # quick mode: one size
                                     [--changed-share 0.1] [--no-report-metadata]
                                     [--profile-operator] [--steady-seconds 60]
                                     [--timeout 900] [--nodes-ready-timeout 1800] [--out DIR]

Prints a table and writes DIR/fleet_scale.json (default benchmarks/results/; rewritten after
every size, and a size whose cluster or run fails is recorded with its error and the others go
on). Every run deletes its namespace (and, for a dedicated cluster, the cluster) at the end.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "operator")]

import typer  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from ecc_devcluster.ports import free_port  # noqa: E402
from ecc_workloads import contracts as c  # noqa: E402

console = Console(stderr=True)
GROUP, VERSION = c.API_GROUP, c.API_VERSION
TEACHER, FLEET = "scale-teacher", "scale-fleet"
PROFILES = {"edge-small": [0, 1], "edge-large": [0, 1, 2, 3]}
MODULE_BYTES = {"embeddings": 512 * 1024, "block": 128 * 1024, "head": 16 * 1024}
"""Sizes of the stand-in module blobs (the simulated agents only stat them)."""
BASELINE_WINDOW_S = 15.0
POLL_S = 1.0
RESYNC_S = 5.0
"""fleet_handlers.RESYNC_SECONDS: the pause between the end of one EdgeFleet reconcile and the next."""
EXPECTED_RECONCILE_S = 1.0
"""Assumed duration of one steady reconcile, for the report interval that gives --changed-share."""

BOOT = r"""
import functools, json, os, threading, time, runpy
import ecc_operator.controllers.fleet.handlers as fh
import ecc_operator.controllers.fleet.decisions as fd
from ecc_operator.children import Kube
_orig, _lock = fh.reconcile, threading.Lock()
_phases = {}

def _timed(name, fn):
    @functools.wraps(fn)
    def wrapper(*a, **kw):
        p0 = time.perf_counter()
        try:
            return fn(*a, **kw)
        finally:
            _phases[name] = _phases.get(name, 0.0) + time.perf_counter() - p0
    return wrapper

for _name in ("read_reports", "_read_desired", "_policy", "observe", "act"):
    setattr(fh, _name, _timed(_name, getattr(fh, _name)))
fd.decide = _timed("decide", fd.decide)
import minio.api
minio.api.parse_list_objects = _timed("listing.parse", minio.api.parse_list_objects)
for _name in ("get_custom", "list_custom", "get_daemonset", "write_status", "apply", "annotate_custom",
              "get_secret_data"):
    setattr(Kube, _name, _timed("kube." + _name, getattr(Kube, _name)))
_log = os.environ.get("FLEET_SCALE_RECONCILE_LOG")
_prof_path = os.environ.get("FLEET_SCALE_PROFILE")
_prof = None
if _prof_path:
    import cProfile
    _prof = cProfile.Profile()

def reconcile(namespace, name, uid=None):
    t0, p0 = time.time(), time.perf_counter()
    _phases.clear()
    try:
        if _prof is None:
            return _orig(namespace, name, uid)
        with _lock:
            _prof.enable()
            try:
                return _orig(namespace, name, uid)
            finally:
                _prof.disable()
                _prof.dump_stats(_prof_path)
    finally:
        if _log:
            with open(_log, "a") as f:
                f.write(json.dumps({"t": t0, "s": round(time.perf_counter() - p0, 4), "fleet": name,
                                    "phases": {k: round(v, 4) for k, v in sorted(_phases.items())}}) + "\n")

fh.reconcile = reconcile
runpy.run_module("ecc_operator", run_name="__main__", alter_sys=True)
"""
"""The operator's entry point, with every EdgeFleet reconcile timed into a log, with the time
spent in its phases (summed per phase; the store's reads overlap the API calls) (and, with
--profile-operator, profiled with cProfile: the reconciling thread only, the report readers'
time shows as waiting)."""


# ---------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------
def _parse_samples(text: str, name: str) -> list[tuple[dict, float]]:
    from prometheus_client.parser import text_string_to_metric_families

    out = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                out.append((dict(sample.labels), float(sample.value)))
    return out


def apiserver_requests(api) -> dict[tuple[str, str, str], float]:
    """(group, resource, verb) -> apiserver_request_total, summed over the other labels."""
    serialized = api.param_serialize(method="GET", resource_path="/metrics", header_params={"Accept": "text/plain"},
                                     auth_settings=["BearerToken"])
    resp = api.call_api(*serialized, _request_timeout=60)
    text = resp.read().decode()
    out: dict[tuple[str, str, str], float] = {}
    for labels, value in _parse_samples(text, "apiserver_request_total"):
        key = (labels.get("group", ""), labels.get("resource", ""), labels.get("verb", ""))
        out[key] = out.get(key, 0.0) + value
    return out


def operator_metrics(metrics_port: int, kind: str = "EdgeFleet") -> dict:
    """The operator's reconcile histogram of `kind` (count, sum, cumulative buckets) and its
    report counters (listed; read from the listing's metadata or by GET)."""
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
    except OSError:
        return {"count": float("nan"), "sum": float("nan"), "buckets": {}, "listed": 0.0, "read": {}}
    return parse_operator_metrics(text, kind)


def parse_operator_metrics(text: str, kind: str = "EdgeFleet") -> dict:
    name = "ecc_operator_reconcile_duration_seconds"
    out: dict = {"count": 0.0, "sum": 0.0, "buckets": {}, "listed": 0.0, "read": {}}
    for labels, v in _parse_samples(text, f"{name}_count"):
        if labels.get("kind") == kind:
            out["count"] += v
    for labels, v in _parse_samples(text, f"{name}_sum"):
        if labels.get("kind") == kind:
            out["sum"] += v
    for labels, v in _parse_samples(text, f"{name}_bucket"):
        if labels.get("kind") == kind:
            out["buckets"][float(labels["le"])] = v
    out["listed"] = sum(v for _l, v in _parse_samples(text, "ecc_operator_fleet_reports_listed_total"))
    for labels, v in _parse_samples(text, "ecc_operator_fleet_reports_read_total"):
        out["read"][labels.get("via", "")] = out["read"].get(labels.get("via", ""), 0.0) + v
    return out


def bucket_quantile(buckets: dict[float, float], q: float) -> float | None:
    """Upper bound of the histogram bucket holding quantile q (buckets: le -> cumulative count)."""
    total = buckets.get(float("inf"), max(buckets.values(), default=0.0))
    if total <= 0:
        return None
    for le in sorted(buckets):
        if buckets[le] >= q * total:
            return le
    return None


def reconcile_window(before: dict, after: dict, nodes: int, durations: list[float] | None = None) -> dict:
    """Reconcile figures of a window from two operator_metrics snapshots: the duration (mean from
    the histogram's sum/count; p90 and max as bucket upper bounds, and exactly from the per-reconcile
    log when given) and the reports taken in per reconcile (and as a share of the nodes)."""
    n = after["count"] - before["count"]
    buckets = {le: after["buckets"].get(le, 0.0) - before["buckets"].get(le, 0.0) for le in after["buckets"]}
    read = {k: after["read"].get(k, 0.0) - before["read"].get(k, 0.0) for k in after["read"]}
    changed = sum(read.values())
    out = {
        "reconciles": n,
        "mean_s": _r3((after["sum"] - before["sum"]) / n) if n > 0 else None,
        "p90_s_bucket_le": bucket_quantile(buckets, 0.9) if n > 0 else None,
        "max_s_bucket_le": bucket_quantile(buckets, 1.0) if n > 0 else None,
        "reports_read": {k: round(v) for k, v in read.items()},
        "reports_listed_per_reconcile": _ratio(after["listed"] - before["listed"], n),
        "reports_changed_per_reconcile": _ratio(changed, n),
        "changed_share": round(changed / n / nodes, 3) if n > 0 and nodes else None,
    }
    if durations:
        ds = sorted(durations)
        out["exact"] = {"n": len(ds), "mean_s": _r3(sum(ds) / len(ds)), "p50_s": _r3(ds[len(ds) // 2]),
                        "p90_s": _r3(ds[min(len(ds) - 1, int(0.9 * len(ds)))]), "max_s": _r3(ds[-1])}
    return out


def _r3(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def logged_reconciles(path: Path, t_from: float, t_to: float) -> list[float]:
    """Durations of the reconciles that started within [t_from, t_to) (wall clock), from the log the
    operator's boot wrapper writes (BOOT)."""
    out = []
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if t_from <= rec["t"] < t_to:
            out.append(rec["s"])
    return out


def _delta(after: dict, before: dict) -> dict:
    return {k: after.get(k, 0.0) - before.get(k, 0.0) for k in set(after) | set(before)}


# ---------------------------------------------------------------------------
# Set-up helpers
# ---------------------------------------------------------------------------
def put_bundles(store, namespace: str) -> list[dict]:
    """Module blobs + one manifest per profile at revision 1; the teacher's status.bundles."""
    from ecc_workloads.contracts import BundleManifest, ModuleRef, StoreLayout

    def blob(name: str, size: int) -> ModuleRef:
        data = hashlib.sha256(name.encode()).digest() * (size // 32)
        sha = hashlib.sha256(data).hexdigest()
        store.put_bytes(store.uri(StoreLayout.module(sha)), data)
        return ModuleRef(name=name, sha256=sha, bytes=len(data))

    shared = blob("embeddings", MODULE_BYTES["embeddings"])
    blocks = {i: blob(f"block.{i}", MODULE_BYTES["block"]) for i in range(c.MODEL_BLOCKS)}
    bundles = []
    for profile, idx in PROFILES.items():
        mods = [shared, *(blocks[i] for i in idx), blob(f"head.{profile}", MODULE_BYTES["head"])]
        manifest = BundleManifest(revision=1, profile=profile, blocks=idx, modules=mods, labels=["a", "b"],
                                  base_model="stand-in (fleet scale benchmark)",
                                  tokenizer_sha256=hashlib.sha256(b"never loaded: simulated agents").hexdigest())
        raw = manifest.model_dump_json(indent=2).encode()
        key = StoreLayout.bundle_manifest(namespace, TEACHER, 1, profile)
        store.put_bytes(store.uri(key), raw)
        bundles.append({"profile": profile, "manifestURI": store.uri(key), "sha256": hashlib.sha256(raw).hexdigest(),
                        "bytes": sum(m.bytes for m in mods)})
    return bundles


def teacher_spec() -> dict:
    return {
        "model": {"source": "tiny"},
        "corpus": {"uri": "bitext"},
        "students": [{"profile": p, "blocks": b} for p, b in PROFILES.items()],
        "serving": {"mode": "none"},
    }


def fleet_manifest(namespace: str, report_interval_s: int = 30) -> dict:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "EdgeFleet",
        "metadata": {"name": FLEET, "namespace": namespace},
        "spec": {
            "teacherRef": {"name": TEACHER},
            "nodeSelector": {"matchLabels": {c.NODE_KIND_LABEL: c.NODE_KIND_KWOK}},
            "tiers": [
                {"name": "small", "match": {"labels": {c.EDGE_CAPACITY_CLASS_LABEL: "small"}}, "profile": "edge-small"},
                {"name": "default", "profile": "edge-large"},
            ],
            "agent": {"pollIntervalSeconds": 5, "reportIntervalSeconds": report_interval_s},
        },
    }


def publish_teacher(custom, namespace: str, bundles: list[dict]) -> None:
    """Create the CloudTeacher and patch its status to a published revision 1 (the hash of the spec
    as the API server stored it, so the operator treats revision 1 as current and starts no Job)."""
    from ecc_operator.controllers.teacher import decisions as td

    body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "CloudTeacher",
            "metadata": {"name": TEACHER, "namespace": namespace}, "spec": teacher_spec()}
    created = custom.create_namespaced_custom_object(GROUP, VERSION, namespace, "cloudteachers", body)
    spec_hash = td.spec_hash(td.parse_spec(created["spec"]))
    status = {"phase": "Ready", "revision": 1, "specHash": spec_hash, "bundles": bundles,
              "observedGeneration": created["metadata"].get("generation", 1),
              "message": "revision 1 published by benchmarks/fleet_scale.py (stand-in bundles)"}
    custom.patch_namespaced_custom_object_status(GROUP, VERSION, namespace, "cloudteachers", TEACHER,
                                                 {"status": status})


def apply_crds(info) -> None:
    kubectl = Path(info.bin_dir) / "kubectl"
    run = subprocess.run([str(kubectl), f"--kubeconfig={info.kubeconfig}", "apply", "--server-side",
                          "--force-conflicts", "-f", str(REPO_ROOT / "crds")], capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"kubectl apply -f crds/ failed: {run.stderr}")


class Proc:
    """A child process with its log in a file; RSS/CPU through psutil."""

    def __init__(self, argv: list[str], env: dict, log: Path):
        import psutil

        self.log = log
        self.proc = subprocess.Popen(argv, stdout=open(log, "ab"), stderr=subprocess.STDOUT, env=env, cwd=REPO_ROOT,
                                     start_new_session=True)
        self.ps = psutil.Process(self.proc.pid)
        self.peak_rss = 0

    def sample(self) -> int:
        try:
            rss = self.ps.memory_info().rss
        except Exception:
            return 0
        self.peak_rss = max(self.peak_rss, rss)
        return rss

    def cpu_s(self) -> float | None:
        try:
            t = self.ps.cpu_times()
            return round(t.user + t.system, 2)
        except Exception:
            return None

    def stop_gracefully(self, timeout: float = 30) -> None:
        """SIGINT: the child finishes its summary (sim-agents writes its JSON), then exits."""
        if self.alive():
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.stop()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 20) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"


def _child_env(info) -> dict:
    env = dict(os.environ)
    env.update(info.store.as_env())
    env["KUBECONFIG"] = info.kubeconfig
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "operator"), env.get("PYTHONPATH", "")])
    return env


# ---------------------------------------------------------------------------
# One size
# ---------------------------------------------------------------------------
def report_interval_for(changed_share: float) -> int:
    """The fleet's reportIntervalSeconds at which `changed_share` of the agents (reporting on a fixed
    grid: sim-agents --report-slots) write a new report between two steady reconciles."""
    if changed_share <= 0:
        return 30
    return max(1, round((RESYNC_S + EXPECTED_RECONCILE_S) / changed_share))


def run_size(info, nodes: int, timeout_s: float, workdir: Path, add_fake_nodes: bool, steady_s: float,
             changed_share: float = 0.1, report_metadata: bool = True, profile: bool = False) -> dict:
    from kubernetes import client

    from ecc_devcluster import fakenodes, kube
    from ecc_workloads import release_signing
    from ecc_workloads.sim import agents as simagents
    from ecc_workloads.contracts import DesiredState, StoreLayout
    from ecc_workloads.store import KeyNotFound, Store

    api = kube.api_client(info.kubeconfig, pool_size=32)
    core, custom = client.CoreV1Api(api), client.CustomObjectsApi(api)
    kwok_selector = f"{c.NODE_KIND_LABEL}={c.NODE_KIND_KWOK}"
    if add_fake_nodes:
        console.log(f"topping the cluster up to {nodes} fake nodes")
        fakenodes.create_fake_nodes(api, nodes, workers=16)
        fakenodes.wait_nodes_ready(api, label_selector=kwok_selector, expected=nodes, timeout_s=max(300, nodes * 0.2))
    expected = len(kube.list_nodes(api, kwok_selector))
    if expected == 0:
        raise RuntimeError(f"cluster {info.name!r} has no nodes labelled {kwok_selector}")
    if expected != nodes:
        console.log(f"[yellow]the cluster has {expected} fake nodes (asked for {nodes}); measuring with {expected}")

    ns = f"bench-fleet-{uuid.uuid4().hex[:6]}"
    core.create_namespace({"metadata": {"name": ns}})
    secret = core.read_namespaced_secret(c.STORE_SECRET_NAME, c.SYSTEM_NAMESPACE)
    core.create_namespaced_secret(ns, {"metadata": {"name": c.STORE_SECRET_NAME}, "data": secret.data})
    store = Store(info.store)
    store.ensure_bucket()
    bundles = put_bundles(store, ns)
    publish_teacher(custom, ns, bundles)

    env = _child_env(info)
    metrics_port, health_port = free_port(), free_port()
    reconcile_log = workdir / f"reconciles-{nodes}.jsonl"
    reconcile_log.unlink(missing_ok=True)
    env["FLEET_SCALE_RECONCILE_LOG"] = str(reconcile_log)
    if profile:
        env["FLEET_SCALE_PROFILE"] = str(workdir / f"operator-{nodes}.pstats")
    report_interval = report_interval_for(changed_share)
    # The EdgeFleet controller is imported explicitly (harmless once __main__ imports it itself).
    operator = Proc([sys.executable, "-c", BOOT, "--namespace", ns, "--kubeconfig", info.kubeconfig,
                     "--metrics-port", str(metrics_port), "--liveness", f"http://127.0.0.1:{health_port}/healthz",
                     "--peering", ""], env, workdir / f"operator-{nodes}.log")
    sim: Proc | None = None
    result: dict = {"fake_nodes": expected, "namespace": ns, "cluster": info.name,
                    "report_interval_s": report_interval, "changed_share_asked": changed_share,
                    "report_metadata": report_metadata}
    try:
        deadline = time.monotonic() + 90
        while True:
            if not operator.alive():
                raise RuntimeError(f"the operator exited:\n{operator.tail()}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{health_port}/healthz", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the operator's health endpoint did not answer:\n{operator.tail()}")
                time.sleep(0.5)

        console.log(f"{ns}: quiet window of {BASELINE_WINDOW_S:.0f} s for the API server's background rate")
        base0, tb0 = apiserver_requests(api), time.monotonic()
        time.sleep(BASELINE_WINDOW_S)
        base1, tb1 = apiserver_requests(api), time.monotonic()
        background_rate = {k: v / (tb1 - tb0) for k, v in _delta(base1, base0).items() if v > 0}
        m0 = operator_metrics(metrics_port)
        reconciles0 = m0["count"]
        operator_cpu0 = operator.cpu_s() or 0.0

        sim_json = workdir / f"sim-agents-{nodes}.json"
        sim = Proc([sys.executable, "-m", "ecc_workloads.cli.sim", "sim-agents", "--fleet", FLEET, "--namespace", ns,
                    "--kubeconfig", info.kubeconfig, "--max-seconds", str(int(timeout_s + steady_s + 60)),
                    "--workers", "16", "--quiet", "--json", str(sim_json), "--report-slots",
                    "--report-metadata" if report_metadata else "--no-report-metadata"],
                   env, workdir / f"sim-agents-{nodes}.log")
        custom.create_namespaced_custom_object(GROUP, VERSION, ns, "edgefleets", fleet_manifest(ns, report_interval))
        t0, tw0 = time.monotonic(), time.time()
        own_polls = 0
        marks: dict[str, float] = {}
        status: dict = {}
        ds_key = store.uri(StoreLayout.desired_state(ns, FLEET))
        keys: list = []  # the fleet's release keys, read once its DaemonSet exists
        console.log(f"{ns}: EdgeFleet applied; waiting for {expected} nodes matched and on target")
        while time.monotonic() - t0 < timeout_s:
            obj = custom.get_namespaced_custom_object(GROUP, VERSION, ns, "edgefleets", FLEET)
            own_polls += 1
            status = obj.get("status") or {}
            counts = status.get("nodes") or {}
            now = time.monotonic() - t0
            if "matched_s" not in marks and (counts.get("matched") or 0) >= expected:
                marks["matched_s"] = now
            if "desired_state_s" not in marks:
                try:
                    keys = keys or release_signing.parse_trusted_keys(
                        simagents.daemonset_release_keys(api, ns, FLEET))
                    doc = release_signing.open_document(store.get_bytes(ds_key), DesiredState, keys)
                    if len(doc.node_tiers) >= expected:
                        marks["desired_state_s"] = now
                except (KeyNotFound, LookupError):
                    pass
            if "on_target_s" not in marks and (counts.get("onTarget") or 0) >= expected:
                marks["on_target_s"] = now
            operator.sample()
            sim.sample()
            if "on_target_s" in marks and "matched_s" in marks:
                break
            if not operator.alive():
                raise RuntimeError(f"the operator exited:\n{operator.tail()}")
            time.sleep(POLL_S)
        elapsed = time.monotonic() - t0
        after, t_after, tw_after = apiserver_requests(api), time.monotonic(), time.time()
        m_after = operator_metrics(metrics_port)
        rec_after = m_after["count"]
        rollout = request_figures(base1, after, rec_after - reconciles0, own_polls, background_rate, t_after - tb1)
        rollout["reconcile"] = reconcile_window(m0, m_after, expected, logged_reconciles(reconcile_log, tw0, tw_after))
        completed = "on_target_s" in marks and "matched_s" in marks

        steady = None
        if completed and steady_s > 0:
            console.log(f"{ns}: steady window of {steady_s:.0f} s (agents reporting, no rollout)")
            end_at = time.monotonic() + steady_s
            while time.monotonic() < end_at:
                operator.sample()
                sim.sample()
                time.sleep(POLL_S)
            after2, t_after2, tw_after2 = apiserver_requests(api), time.monotonic(), time.time()
            m_after2 = operator_metrics(metrics_port)
            steady = request_figures(after, after2, m_after2["count"] - rec_after, 0,
                                     background_rate, t_after2 - t_after)
            steady["seconds"] = _r(t_after2 - t_after)
            steady["reconcile"] = reconcile_window(m_after, m_after2, expected,
                                                   logged_reconciles(reconcile_log, tw_after, tw_after2))
        operator.sample()
        sim.stop_gracefully()
        sim_summary = json.loads(sim_json.read_text()) if sim_json.exists() else {}
        result.update({
            "completed": completed,
            "matched_s": _r(marks.get("matched_s")),
            "desired_state_s": _r(marks.get("desired_state_s")),
            "on_target_s": _r(marks.get("on_target_s")),
            "elapsed_s": _r(elapsed),
            "final_status_nodes": status.get("nodes"),
            "final_phase": status.get("phase"),
            "rollout_window": rollout,
            "steady_window": steady,
            "script_status_polls": own_polls,
            "operator_rss_mib_peak": round(operator.peak_rss / 2**20, 1),
            "operator_rss_mib_end": round(operator.sample() / 2**20, 1),
            "operator_cpu_s": _r((operator.cpu_s() or 0.0) - operator_cpu0),
            "sim_agents_rss_mib_peak": round(sim.peak_rss / 2**20, 1),
            "sim_agents": {k: sim_summary.get(k) for k in ("nodes", "reports_written", "report_errors", "polls",
                                                            "polls_not_modified", "states", "revisions",
                                                            "bytes_down_total", "stopped_because")},
        })
        if not result["completed"]:
            result["operator_log_tail"] = operator.tail(20)
        return result
    finally:
        if sim is not None:
            sim.stop()
        try:
            custom.delete_namespaced_custom_object(GROUP, VERSION, ns, "edgefleets", FLEET)
            custom.delete_namespaced_custom_object(GROUP, VERSION, ns, "cloudteachers", TEACHER)
            end = time.monotonic() + 60
            while time.monotonic() < end and (
                    custom.list_namespaced_custom_object(GROUP, VERSION, ns, "edgefleets")["items"]
                    or custom.list_namespaced_custom_object(GROUP, VERSION, ns, "cloudteachers")["items"]):
                time.sleep(1)
        except Exception as exc:  # the namespace goes anyway
            console.log(f"[yellow]clean-up of {ns}: {exc}")
        operator.stop()
        try:
            core.delete_namespace(ns)
        except Exception as exc:
            console.log(f"[yellow]deleting namespace {ns}: {exc}")


def request_figures(before: dict, after: dict, reconciles: float, own_polls: int, background_rate: dict,
                    seconds: float) -> dict:
    """API requests in a window and per EdgeFleet reconcile: to the ecc.dev group (minus this
    script's own status polls), all requests net of the background rate, and all requests."""
    delta = _delta(after, before)
    ecc_group = sum(v for (g, _r, _v), v in delta.items() if g == GROUP) - own_polls
    total = sum(delta.values())
    net = sum(max(0.0, v - background_rate.get(k, 0.0) * seconds) for k, v in delta.items())
    top = sorted(((f"{g or 'core'}/{r} {verb}", v) for (g, r, verb), v in delta.items() if v > 0),
                 key=lambda kv: -kv[1])[:12]
    return {
        "edgefleet_reconciles": reconciles,
        "requests": {"ecc_group": round(ecc_group), "net_of_background": round(net), "all": round(total)},
        "per_reconcile": {"ecc_group": _ratio(ecc_group, reconciles), "net_of_background": _ratio(net, reconciles),
                          "all": _ratio(total, reconciles)},
        "top": {k: round(v) for k, v in top},
    }


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 1) if b and b == b and b > 0 else None


# ---------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------
def main(
    sizes: str = typer.Option("1000,5000", help="Comma-separated fake-node counts."),
    nodes: int = typer.Option(0, "--nodes", help="Quick mode: one size (e.g. 200); overrides --sizes."),
    cluster_name: str = typer.Option("", "--cluster", help="Use this running cluster instead of a dedicated one."),
    add_fake_nodes: bool = typer.Option(False, "--add-fake-nodes",
                                        help="With --cluster: create fake nodes up to the size first."),
    timeout: float = typer.Option(900.0, "--timeout", help="Seconds to wait for every node to be on target."),
    nodes_ready_timeout: float = typer.Option(1800.0, "--nodes-ready-timeout",
                                              help="Dedicated cluster: seconds for its fake nodes to be Ready."),
    steady: float = typer.Option(60.0, "--steady-seconds",
                                 help="Then measure this long with the agents reporting and no rollout (0: skip)."),
    changed_share: float = typer.Option(0.1, "--changed-share",
                                        help="Share of the agents writing a new report between two steady "
                                             "reconciles: sets the fleet's reportIntervalSeconds to (5 s resync + "
                                             "1 s) / share; the agents report on a fixed grid (--report-slots)."),
    report_metadata: bool = typer.Option(True, "--report-metadata/--no-report-metadata",
                                         help="Agents put their report's summary in the object's metadata (the "
                                              "operator reads it from its listing); off: every changed report "
                                              "is read with a GET."),
    profile_operator: bool = typer.Option(False, "--profile-operator",
                                          help="cProfile every EdgeFleet reconcile into "
                                               "OUT/fleet_scale_logs/operator-N.pstats."),
    out: Path = typer.Option(REPO_ROOT / "benchmarks" / "results", help="Directory for fleet_scale.json."),
) -> None:
    from ecc_devcluster import cluster

    counts = [nodes] if nodes else [int(s) for s in sizes.split(",") if s.strip()]
    out.mkdir(parents=True, exist_ok=True)
    workdir = out / "fleet_scale_logs"
    workdir.mkdir(exist_ok=True)
    runs = []
    for n in counts:
        if cluster_name:
            info = cluster.load(cluster_name)
            if info is None or not info.any_alive():
                console.print(f"[red]cluster {cluster_name!r} is not running[/]")
                raise typer.Exit(1)
            apply_crds(info)
            runs.append(run_size(info, n, timeout, workdir, add_fake_nodes, steady, changed_share, report_metadata,
                                 profile_operator))
            continue
        name = f"bench-fleet-{n}"
        console.rule(f"{name}: {n} fake nodes")
        t_up = time.monotonic()
        try:
            info = cluster.up(name, fake_nodes=n, cloud_workers=0, edge_nodes=0, say=console.log,
                              nodes_ready_timeout_s=nodes_ready_timeout)
        except Exception as exc:  # noqa: BLE001 - say what failed, go on with the other sizes
            console.log(f"[red]{name}: the cluster did not come up: {type(exc).__name__}: {exc}")
            runs.append({"fake_nodes": n, "completed": False, "error": f"cluster up: {type(exc).__name__}: {exc}",
                         "cluster_up_s": _r(time.monotonic() - t_up)})
            continue
        try:
            apply_crds(info)
            up_s = time.monotonic() - t_up
            runs.append(run_size(info, n, timeout, workdir, False, steady, changed_share, report_metadata,
                                 profile_operator))
            runs[-1]["cluster_up_s"] = _r(up_s)
        except Exception as exc:  # noqa: BLE001
            console.log(f"[red]{name}: {type(exc).__name__}: {exc}")
            runs.append({"fake_nodes": n, "completed": False, "error": f"{type(exc).__name__}: {exc}"})
        finally:
            cluster.down(name, say=console.log, purge=True)
        write_results(out, runs)

    table = Table(title="EdgeFleet at scale (2-core machine; operator + sim-agents + control plane on one host)")
    for col in ("fake nodes", "done", "matched s", "desired state s", "on target s",
                "rollout: reconciles", "reconcile s mean | max", "req/reconcile ecc.dev | net | all",
                "steady: reconciles", "reconcile s mean | p90 | max", "reports changed / reconcile (share)",
                "req/reconcile ecc.dev | net | all", "operator RSS MiB peak", "operator CPU s", "sim RSS MiB"):
        table.add_column(col, justify="right")

    def per(window: dict | None, steady: bool) -> tuple[str, ...]:
        if not window:
            return ("-",) * (4 if steady else 3)
        p = window["per_reconcile"]
        rec = window.get("reconcile") or {}
        exact = rec.get("exact") or {}
        keys = ("mean_s", "p90_s", "max_s") if steady else ("mean_s", "max_s")
        durations = " | ".join(_fmt(exact.get(k, rec.get(k))) for k in keys)
        requests = " | ".join(_fmt(p[k]) for k in ("ecc_group", "net_of_background", "all"))
        if not steady:
            return _fmt(window["edgefleet_reconciles"]), durations, requests
        changed = f"{_fmt(rec.get('reports_changed_per_reconcile'))} ({_fmt(rec.get('changed_share'))})"
        return _fmt(window["edgefleet_reconciles"]), durations, changed, requests

    for r in runs:
        if "error" in r:
            table.add_row(str(r["fake_nodes"]), "[red]no[/]", *(["-"] * 13))
            console.log(f"[red]{r['fake_nodes']} fake nodes: {r['error']}")
            continue
        table.add_row(str(r["fake_nodes"]), "yes" if r["completed"] else "[red]no[/]", _fmt(r["matched_s"]),
                      _fmt(r["desired_state_s"]), _fmt(r["on_target_s"]), *per(r["rollout_window"], False),
                      *per(r["steady_window"], True), _fmt(r["operator_rss_mib_peak"]), _fmt(r["operator_cpu_s"]),
                      _fmt(r["sim_agents_rss_mib_peak"]))
    Console(width=200).print(table)
    write_results(out, runs)


def write_results(out: Path, runs: list[dict]) -> None:
    """OUT/fleet_scale.json (after every size, so that a later failure keeps the earlier ones)."""
    argv = " ".join(sys.argv[1:])
    doc = {
        "benchmark": "fleet_scale",
        "command": f"python benchmarks/fleet_scale.py {argv}".strip(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "notes": "apiserver_request_total counts every client; see the script's docstring for the three figures",
        "runs": runs,
    }
    path = out / "fleet_scale.json"
    path.write_text(json.dumps(doc, indent=2))
    console.log(f"wrote {path}")


def _fmt(x) -> str:
    if x is None:
        return "-"
    return f"{x:.1f}" if isinstance(x, float) else str(x)


if __name__ == "__main__":
    typer.run(main)
