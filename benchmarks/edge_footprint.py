"""Edge footprint: how fast a real edge agent is ready, and how much memory it holds, per student.

Usage:
    python benchmarks/edge_footprint.py [--profiles s1,s2,s4,teacher] [--restarts 3] [--queries 100]
                                        [--code CHECKOUT] --out DIR

What runs: the real all-MiniLM-L6-v2 as a modular encoder with Bitext's intents (weights as
loaded: speed and memory do not depend on training, so nothing is trained), its student
profiles written as bundles to a local store in two forms — fp32 with the whole vocabulary, and
the shipped form (vocabulary pruned to the tokens of the Bitext corpus, int8 linear layers) —
and one signed desired state per (profile, form). For each, the real agent process
(`python -m ecc_workloads.cli.app edge-agent --store DIR`, one torch thread as in its image) is
started:

- **first start**: empty state directory: import, fetch and verify the modules, load, ready;
- **restarts** (``--restarts`` times): the modules are on disk (the agent's state directory
  from the first start), so this is the time from ``exec`` to ``/readyz`` answering 200 — the
  issue's "agent ready after its modules are on disk";
- **memory**: VmRSS when ready, of it the anonymous memory (what cannot be paged back to a
  file: heap, tensors), and VmHWM (peak) after ``--queries`` single-utterance ``/v1/predict``
  calls, whose p50 latency (HTTP included) is reported too.

``--code`` runs the agents (and the import timing) from another checkout, e.g. a worktree of an
older commit, for a before/after comparison in one run on one machine; the bundles are always
written by this checkout. Prints a table and writes DIR/edge_footprint.json. Goal (issue 15): ready <= 3 s after the
modules are on disk.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from ecc_devcluster.ports import free_port  # noqa: E402

PROFILES = {"s1": [0], "s2": [0, 1], "s4": [0, 1, 2, 3], "teacher": [0, 1, 2, 3, 4, 5]}
NS, TEACHER, NODE = "bench", "intent", "edge-0"
READY_TIMEOUT_S = 180.0
QUERY = "i want to cancel the order i placed yesterday"


def publish(root: Path, texts: list[str], labels: list[str], profiles: list[str]) -> dict[str, dict]:
    """Bundles of every profile in both forms, and a signed desired state per (profile, form);
    returns {fleet: {profile, form, bytes}}."""
    import torch

    from ecc_workloads.learning import bundles, modular
    from ecc_workloads.contracts import DesiredState, StoreLayout
    from ecc_workloads.agent.runner import LocalAgentStore
    import releasekit

    torch.manual_seed(0)
    model = modular.load_minilm(sorted(set(labels)))
    for name in profiles:
        if name != modular.TEACHER_PROFILE:
            model.add_profile(name, PROFILES[name])
    store = LocalAgentStore(root)
    vocab = bundles.corpus_token_ids(modular.load_tokenizer(), texts)
    fleets = {}
    for form, kwargs in (("fp32", {}), ("shipped", {"int8": True, "vocabulary": vocab})):
        written = bundles.write_bundles(model, profiles, 1, store, **kwargs)
        keys = bundles.publish_manifests(store, [written.manifests[p] for p in profiles], NS, f"{TEACHER}-{form}")
        for profile, key in zip(profiles, keys):
            fleet = f"{profile}-{form}"
            tier = releasekit.pinned_tier("t", profile, key, store.get(key))
            desired = DesiredState(namespace=NS, fleet=fleet, teacher=f"{TEACHER}-{form}", generation=1,
                                   target_revision=1, target=[tier], node_tiers={NODE: "t"},
                                   poll_interval_seconds=5, report_interval_seconds=60)
            store.put(StoreLayout.desired_state(NS, fleet), releasekit.signed(desired))
            fleets[fleet] = {"profile": profile, "form": form,
                             "bytes": bundles.bundle_bytes(written.manifests[profile])}
    return fleets


def vm(pid: int, key: str, source: str = "status") -> int:
    """A memory figure of a process in bytes: VmRSS / VmHWM (status), Anonymous (smaps_rollup)."""
    for line in Path(f"/proc/{pid}/{source}").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(key)


def start_agent(code: Path, store: Path, state: Path, fleet: str, keys: str,
                log: Path) -> tuple[subprocess.Popen, int, float]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(code), "TOKENIZERS_PARALLELISM": "false"}
    argv = [sys.executable, "-m", "ecc_workloads.cli.app", "edge-agent", "--fleet", fleet, "--namespace", NS, "--node", NODE,
            "--store", str(store), "--state-dir", str(state), "--no-auth", "--host", "127.0.0.1", "--port", str(port),
            "--release-keys", keys, "--log-level", "WARNING"]
    t0 = time.perf_counter()
    with open(log, "ab") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=code)
    return proc, port, t0


def wait_ready(proc: subprocess.Popen, port: int, t0: float) -> float:
    from ecc_workloads.contracts import AgentPaths

    while time.perf_counter() - t0 < READY_TIMEOUT_S:
        if proc.poll() is not None:
            raise RuntimeError(f"the agent exited with {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{AgentPaths.READY}", timeout=1) as resp:
                if resp.status == 200:
                    return time.perf_counter() - t0
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"the agent was not ready after {READY_TIMEOUT_S} s")


def predict_p50_ms(port: int, n: int) -> float:
    from ecc_workloads.contracts import AgentPaths

    body = json.dumps({"instances": [QUERY], "learn": False}).encode()
    times = []
    for _ in range(n):
        req = urllib.request.Request(f"http://127.0.0.1:{port}{AgentPaths.PREDICT}", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        t = time.perf_counter()
        with urllib.request.urlopen(req, timeout=10) as resp:
            resp.read()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def measure(code: Path, store: Path, work: Path, fleet: str, keys: str, restarts: int, queries: int) -> dict:
    state, log = work / fleet / "state", work / fleet / "agent.log"
    state.mkdir(parents=True)
    proc, port, t0 = start_agent(code, store, state, fleet, keys, log)
    try:
        first = wait_ready(proc, port, t0)
    finally:
        stop(proc)
    ready, rss, anon, hwm, p50 = [], [], [], [], []
    for _ in range(restarts):
        proc, port, t0 = start_agent(code, store, state, fleet, keys, log)
        try:
            ready.append(wait_ready(proc, port, t0))
            rss.append(vm(proc.pid, "VmRSS"))
            anon.append(vm(proc.pid, "Anonymous", "smaps_rollup"))
            p50.append(predict_p50_ms(port, queries))
            hwm.append(vm(proc.pid, "VmHWM"))
        finally:
            stop(proc)
    return {"first_start_s": round(first, 3), "ready_s": [round(r, 3) for r in ready],
            "ready_s_median": round(statistics.median(ready), 3), "rss_ready_mib": round(statistics.median(rss) / 2**20, 1),
            "anon_ready_mib": round(statistics.median(anon) / 2**20, 1),
            "hwm_mib": round(max(hwm) / 2**20, 1), "predict_p50_ms": round(statistics.median(p50), 2)}


def import_seconds(code: Path, repeats: int = 3) -> float:
    """What the agent's imports alone cost (the part of `ready` no model can change)."""
    imports = "import ecc_workloads.cli.app, ecc_workloads.cli.agent, ecc_workloads.agent.runner, ecc_workloads.agent.server"
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", imports], check=True, cwd=code, env={**os.environ, "PYTHONPATH": str(code)})
        times.append(time.perf_counter() - t)
    return round(statistics.median(times), 3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profiles", default=",".join(PROFILES), help=f"of {sorted(PROFILES)}")
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--code", default=str(REPO), help="checkout whose agent runs (default: this one)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    profiles = [p for p in args.profiles.split(",") if p]
    unknown = sorted(set(profiles) - set(PROFILES))
    if unknown:
        parser.error(f"--profiles: {unknown} unknown; choose from {sorted(PROFILES)}")
    import pandas as pd

    from ecc_workloads.data.datasets import bitext_csv
    import releasekit

    rows = pd.read_csv(bitext_csv())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ecc-footprint-") as tmp:
        store, work = Path(tmp) / "store", Path(tmp) / "work"
        t = time.perf_counter()
        fleets = publish(store, rows["instruction"].astype(str).tolist(), rows["intent"].astype(str).tolist(), profiles)
        publish_s = time.perf_counter() - t
        results = []
        for fleet, info in fleets.items():
            got = measure(Path(args.code), store, work, fleet, releasekit.KEYS_TEXT, args.restarts, args.queries)
            results.append({"fleet": fleet, **info, **got})
            print(f"  {fleet}: ready {got['ready_s_median']} s, RSS {got['rss_ready_mib']} MiB", flush=True)
    doc = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
           "code": str(args.code), "imports_s": import_seconds(Path(args.code)), "publish_s": round(publish_s, 1), "restarts": args.restarts,
           "queries": args.queries, "results": results}
    (out / "edge_footprint.json").write_text(json.dumps(doc, indent=2))
    print(f"\nagent imports alone: {doc['imports_s']} s\n")
    print("| profile | form | bundle MB | first start s | ready s (modules on disk) | RSS ready MiB | of it anonymous "
          "MiB | peak MiB | p50 ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['profile']} | {r['form']} | {r['bytes'] / 1e6:.2f} | {r['first_start_s']:.2f} | "
              f"{r['ready_s_median']:.2f} | {r['rss_ready_mib']} | {r['anon_ready_mib']} | {r['hwm_mib']} | "
              f"{r['predict_p50_ms']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
