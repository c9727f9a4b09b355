"""The agent's HTTP API in-process (FastAPI TestClient) and `python -m ecc_workloads.cli.agent`
as a real process answering real HTTP on the address in ECC_POD_IP."""

from __future__ import annotations

import time

import pytest
import torch
from fastapi.testclient import TestClient

import releasekit
from agentkit import FLEET, NS, publish_tiny_fleet, start_agent_process, stop_agent_process
from ecc_workloads.agent.server import create_app
from ecc_workloads.contracts import (
    AgentPaths,
    AgentReport,
    MetricNames,
    StoreLayout,
)
from ecc_workloads.agent.runner import AgentConfig, EdgeAgent, LocalAgentStore

torch.set_num_threads(1)
NODE = "edge-7"


@pytest.fixture(scope="module")
def store_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("store")
    publish_tiny_fleet(root, NODE, blocks=[1], seed=9)
    return root


def test_api_answers_validates_and_exports_metrics(store_root, tmp_path):
    agent = EdgeAgent(AgentConfig(node=NODE, fleet=FLEET, namespace=NS, release_keys=releasekit.KEYS, state_dir=tmp_path), LocalAgentStore(store_root))
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
                     MetricNames.AGENT_MODULES_REJECTED, MetricNames.AGENT_DOCUMENTS_REFUSED):
            assert f"{name}{{{labels}}}" in text, name
    finally:
        agent.close()


def test_cli_process_serves_over_http_and_reports(store_root, tmp_path):
    host = "127.0.0.3"  # not 127.0.0.1: binding here proves ECC_POD_IP is used
    proc, client = start_agent_process(store_root, NODE, host, tmp_path / "state", "--max-seconds", "60", "--no-auth",
                                       ready_timeout_s=60)
    try:
        r = client.post(AgentPaths.PREDICT, json={"instances": ["where is my order"]}, timeout=10)
        assert r.status_code == 200 and r.json()["revision"] == 1
        report_path = store_root / StoreLayout.agent_report(NS, FLEET, NODE)
        deadline = time.monotonic() + 10
        while not report_path.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert AgentReport.model_validate_json(report_path.read_bytes()).node == NODE
    finally:
        err = stop_agent_process(proc, client)
    assert "stopped" in err
