"""A store directory that an edge agent can serve from: revision 1 of a tiny, randomly initialised
teacher's student `s0`, published, and a desired state that gives one node that student."""

from __future__ import annotations

from pathlib import Path

from ecc_devcluster.ports import free_port
from ecc_workloads.learning import bundles, modular
from ecc_workloads.contracts import DesiredState, StoreLayout
from ecc_workloads.agent.runner import LocalAgentStore
import releasekit

LABELS = ["cancel_order", "track_order", "get_refund"]
NS, FLEET, TEACHER = "shop", "edge", "intent"


def publish_tiny_fleet(root: Path, node: str, *, blocks: list[int], seed: int) -> str:
    """Publish into `root` (the store's layout); the bundle manifest's key."""
    store = LocalAgentStore(root)
    model = modular.tiny_encoder(LABELS, num_hidden_layers=2, seed=seed)
    model.add_profile("s0", blocks)
    res = bundles.write_bundles(model, ["s0"], 1, store)
    key = bundles.publish_manifests(store, res.manifests.values(), NS, TEACHER)[0]
    desired = DesiredState(namespace=NS, fleet=FLEET, teacher=TEACHER, generation=1, target_revision=1,
                           target=[releasekit.pinned_tier("t", "s0", key, store.get(key))], node_tiers={node: "t"},
                           poll_interval_seconds=1, report_interval_seconds=1)
    store.put(StoreLayout.desired_state(NS, FLEET), releasekit.signed(desired))
    return key


def start_agent_process(store_root: Path, node: str, host: str, state_dir: Path, *args: str,
                        env: dict[str, str] | None = None, ready_timeout_s: float = 90):
    """`python -m ecc_workloads.cli.agent` on `host` (a loopback address) serving `store_root`;
    (process, httpx client) once /readyz answers 200 (probes need no token)."""
    import os
    import subprocess
    import sys
    import time

    import httpx
    import pytest

    from ecc_workloads.contracts import AgentEnv, AgentPaths, RuntimeEnv

    port = free_port(host)
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ECC_")}
    full_env.update({AgentEnv.FLEET: FLEET, AgentEnv.FLEET_NAMESPACE: NS, RuntimeEnv.NODE_NAME: node,
                     AgentEnv.RELEASE_KEYS: releasekit.KEYS_TEXT,
                     RuntimeEnv.POD_IP: host, AgentEnv.PORT: str(port), AgentEnv.STATE_DIR: str(state_dir),
                     "PYTHONPATH": str(Path(__file__).resolve().parents[1]), **(env or {})})
    proc = subprocess.Popen([sys.executable, "-m", "ecc_workloads.cli.agent", "--store", str(store_root), *args],
                            env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    client = httpx.Client(base_url=f"http://{host}:{port}", timeout=30)
    deadline = time.monotonic() + ready_timeout_s
    while True:
        if proc.poll() is not None:
            pytest.fail(f"the agent exited: {proc.communicate()[1][-3000:]}")
        try:
            if client.get(AgentPaths.READY).status_code == 200:
                return proc, client
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the agent was not ready in {ready_timeout_s:.0f} s: {proc.communicate()[1][-3000:]}")
        time.sleep(0.2)


def stop_agent_process(proc, client) -> str:
    """SIGTERM, wait, check a clean exit; the agent's stderr."""
    import signal

    client.close()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    return err
