"""The agent's HTTP API in-process (FastAPI TestClient) and `python -m ecc_workloads.cli_agent`
as a real process answering real HTTP on the address in ECC_POD_IP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import torch
from fastapi.testclient import TestClient

from agentkit import FLEET, NS, publish_tiny_fleet
from ecc_workloads.agent_server import create_app
from ecc_workloads.contracts import (
    AgentEnv,
    AgentPaths,
    AgentReport,
    MetricNames,
    RuntimeEnv,
    StoreLayout,
)
from ecc_workloads.edge_agent import AgentConfig, EdgeAgent, LocalAgentStore

torch.set_num_threads(1)
REPO = Path(__file__).resolve().parents[2]
NODE = "edge-7"


@pytest.fixture(scope="module")
def store_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("store")
    publish_tiny_fleet(root, NODE, blocks=[1], seed=9)
    return root


def test_api_answers_validates_and_exports_metrics(store_root, tmp_path):
    agent = EdgeAgent(AgentConfig(node=NODE, fleet=FLEET, namespace=NS, state_dir=tmp_path), LocalAgentStore(store_root))
    client = TestClient(create_app(agent))
    try:
        assert client.get(AgentPaths.HEALTH).status_code == 200
        assert client.get(AgentPaths.READY).status_code == 503
        assert client.post(AgentPaths.PREDICT, json={"instances": ["hi"]}).status_code == 503
        agent.tick()
        assert client.get(AgentPaths.READY).status_code == 200
        r = client.post(AgentPaths.PREDICT, json={"instances": ["cancel my order", "refund"]})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["revision"] == 1 and body["profile"] == "s0" and len(body["predictions"]) == 2
        bad = client.post(AgentPaths.PREDICT, json={"instances": []})
        assert bad.status_code == 422 and "instances" in bad.json()["error"]
        bad = client.post(AgentPaths.PREDICT, json={"texts": ["x"]})
        assert bad.status_code == 422 and "instances" in bad.json()["error"] and "texts" in bad.json()["error"]
        bad = client.post(AgentPaths.FEEDBACK, json={"text": "cancel my order", "label": "nope"})
        assert bad.status_code == 422 and bad.json()["error"].startswith("invalid request: label:")
        bad = client.post(AgentPaths.FEEDBACK, json={"text": "", "label": "get_refund"})
        assert bad.status_code == 422 and "text" in bad.json()["error"]
        ok = client.post(AgentPaths.FEEDBACK, json={"text": "cancel my order", "label": "cancel_order"})
        assert ok.status_code == 202 and ok.json() == {"accepted": True}
        status = AgentReport.model_validate(client.get(AgentPaths.STATUS).json())
        assert status.revision == 1 and status.requests_total == 1 and status.feedback_total == 1
        text = client.get(AgentPaths.METRICS).text
        labels = f'fleet="{FLEET}",node="{NODE}"'
        assert f"{MetricNames.AGENT_REQUESTS}{{{labels}}} 1.0" in text
        assert f"{MetricNames.AGENT_REVISION}{{{labels}}} 1.0" in text
        assert f"{MetricNames.AGENT_FEEDBACK}{{{labels}}} 1.0" in text
        assert f"{MetricNames.AGENT_MODEL_SWAPS}{{{labels}}} 1.0" in text
        assert f"{MetricNames.AGENT_LATENCY}_count{{{labels}}} 1.0" in text
        assert f"{MetricNames.AGENT_CONFIDENCE}_count{{{labels}}} 2.0" in text
        for name in (MetricNames.AGENT_BYTES_DOWN, MetricNames.AGENT_BYTES_UP, MetricNames.AGENT_SPOOL_DEPTH,
                     MetricNames.AGENT_MODULES_REJECTED):
            assert f"{name}{{{labels}}}" in text, name
    finally:
        agent.close()


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def test_cli_process_serves_over_http_and_reports(store_root, tmp_path):
    host = "127.0.0.3"  # not 127.0.0.1: binding here proves ECC_POD_IP is used
    port = _free_port(host)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECC_")}
    env.update({AgentEnv.FLEET: FLEET, AgentEnv.FLEET_NAMESPACE: NS, RuntimeEnv.NODE_NAME: NODE,
                RuntimeEnv.POD_IP: host, AgentEnv.PORT: str(port), AgentEnv.STATE_DIR: str(tmp_path / "state"),
                "PYTHONPATH": str(REPO)})
    proc = subprocess.Popen([sys.executable, "-m", "ecc_workloads.cli_agent", "--store", str(store_root),
                             "--max-seconds", "60", "--no-auth"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://{host}:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.communicate()[1][-3000:]
            try:
                if httpx.get(base + AgentPaths.READY, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "agent not ready after 60 s"
            time.sleep(0.2)
        r = httpx.post(base + AgentPaths.PREDICT, json={"instances": ["where is my order"]}, timeout=10)
        assert r.status_code == 200 and r.json()["revision"] == 1
        report_path = store_root / StoreLayout.agent_report(NS, FLEET, NODE)
        deadline = time.monotonic() + 10
        while not report_path.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert AgentReport.model_validate_json(report_path.read_bytes()).node == NODE
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err[-3000:]
    assert "stopped" in err
