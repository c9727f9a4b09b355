"""The edge agent's API tokens, against a real agent process over HTTP: no token or an unknown one
is 401, a token without the scope is 403, unauthenticated or unscoped feedback changes nothing,
learning from predictions needs the feedback scope, and a rotated token file is picked up without
a restart. Without tokens and without --no-auth the agent refuses to start."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ecc_devcluster.ports import free_port
from agentkit import FLEET, LABELS, NS, publish_tiny_fleet, start_agent_process, stop_agent_process
from ecc_workloads.agent.auth import ApiTokens
from ecc_workloads.contracts import AgentEnv, AgentPaths, AgentReport, RuntimeEnv

REPO = Path(__file__).resolve().parents[2]
NODE = "edge-auth"
HOST = "127.0.0.5"
TOKENS = {"predict": "p-" + "1" * 30, "feedback": "f-" + "2" * 30, "admin": "a-" + "3" * 30}


def write_tokens(directory: Path, tokens: dict[str, str]) -> None:
    """As the kubelet updates a Secret volume: new files swapped in (a new inode)."""
    for scope, token in tokens.items():
        tmp = directory / f".{scope}.tmp"
        tmp.write_text(token + "\n")
        os.replace(tmp, directory / scope)


def _env(port: int, state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECC_")}
    env.update({AgentEnv.FLEET: FLEET, AgentEnv.FLEET_NAMESPACE: NS, RuntimeEnv.NODE_NAME: NODE,
                RuntimeEnv.POD_IP: HOST, AgentEnv.PORT: str(port), AgentEnv.STATE_DIR: str(state),
                "PYTHONPATH": str(REPO)})
    return env


@pytest.fixture(scope="module")
def store_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("store")
    publish_tiny_fleet(root, NODE, blocks=[1], seed=4)
    return root


@pytest.fixture(scope="module")
def agent(store_root, tmp_path_factory):
    tokens_dir = tmp_path_factory.mktemp("api-tokens")
    write_tokens(tokens_dir, TOKENS)
    proc, client = start_agent_process(store_root, NODE, HOST, tmp_path_factory.mktemp("state"),
                                       "--max-seconds", "600", env={AgentEnv.API_TOKENS_DIR: str(tokens_dir)})
    yield client, tokens_dir
    assert "bearer tokens from" in stop_agent_process(proc, client)


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def feedback_total(client) -> int:
    r = client.get(AgentPaths.STATUS, headers=bearer(TOKENS["admin"]))
    assert r.status_code == 200, r.text
    return AgentReport.model_validate(r.json()).feedback_total


def test_no_token_or_an_unknown_one_is_401_and_changes_nothing(agent):
    client, _ = agent
    before = feedback_total(client)
    item = {"text": "cancel my order now", "label": LABELS[0]}
    for headers in ({}, bearer("not-a-token-of-this-fleet-at-all"), {"authorization": TOKENS["admin"]},
                    {"authorization": "Basic " + TOKENS["admin"]}):
        r = client.post(AgentPaths.FEEDBACK, json=item, headers=headers)
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer", (headers, r.text)
        assert client.post(AgentPaths.PREDICT, json={"instances": ["hi"]}, headers=headers).status_code == 401
        assert client.get(AgentPaths.STATUS, headers=headers).status_code == 401
    # 20 unauthenticated feedback items (more than minSamples) changed nothing
    for _ in range(20):
        assert client.post(AgentPaths.FEEDBACK, json=item).status_code == 401
    assert feedback_total(client) == before
    assert client.get(AgentPaths.HEALTH).status_code == 200 and client.get(AgentPaths.METRICS).status_code == 200


def test_scopes_nest_and_a_missing_one_is_403_naming_it(agent):
    client, _ = agent
    ask, learn = {"instances": ["where is my parcel"], "learn": False}, {"instances": ["where is my parcel"]}
    item = {"text": "where is my parcel", "label": LABELS[1]}
    before = feedback_total(client)
    assert client.post(AgentPaths.PREDICT, json=ask, headers=bearer(TOKENS["predict"])).status_code == 200
    r = client.post(AgentPaths.PREDICT, json=learn, headers=bearer(TOKENS["predict"]))
    assert r.status_code == 403 and "learn: true" in r.json()["error"] and "feedback" in r.json()["error"]
    r = client.post(AgentPaths.FEEDBACK, json=item, headers=bearer(TOKENS["predict"]))
    assert r.status_code == 403 and "needs feedback" in r.json()["error"]
    assert client.get(AgentPaths.STATUS, headers=bearer(TOKENS["feedback"])).status_code == 403
    assert feedback_total(client) == before
    for scope in ("feedback", "admin"):  # the wider scopes include the narrower ones
        assert client.post(AgentPaths.PREDICT, json=learn, headers=bearer(TOKENS[scope])).status_code == 200
        assert client.post(AgentPaths.FEEDBACK, json=item, headers=bearer(TOKENS[scope])).status_code == 202
    assert feedback_total(client) == before + 2


def test_a_rotated_token_file_is_picked_up_without_a_restart(agent):
    client, tokens_dir = agent
    new = dict(TOKENS, feedback="f-" + "9" * 30)
    write_tokens(tokens_dir, new)
    item = {"text": "refund me please", "label": LABELS[2]}
    deadline = time.monotonic() + 10
    while client.post(AgentPaths.FEEDBACK, json=item, headers=bearer(new["feedback"])).status_code != 202:
        assert time.monotonic() < deadline, "the new token was not accepted within 10 s"
        time.sleep(0.3)
    assert client.post(AgentPaths.FEEDBACK, json=item, headers=bearer(TOKENS["feedback"])).status_code == 401
    # two tokens in one file (a rotation in two steps): both work
    write_tokens(tokens_dir, dict(new, feedback=f"{TOKENS['feedback']}\n{new['feedback']}"))
    deadline = time.monotonic() + 10
    while client.post(AgentPaths.FEEDBACK, json=item, headers=bearer(TOKENS["feedback"])).status_code != 202:
        assert time.monotonic() < deadline, "the old token was not accepted again within 10 s"
        time.sleep(0.3)
    assert client.post(AgentPaths.FEEDBACK, json=item, headers=bearer(new["feedback"])).status_code == 202


def test_without_tokens_the_agent_refuses_to_start(store_root, tmp_path):
    port = free_port(HOST)
    run = subprocess.run([sys.executable, "-m", "ecc_workloads.cli.agent", "--store", str(store_root), "--once"],
                         env=_env(port, tmp_path / "state"), capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "refusing to start: no API tokens" in run.stderr, run.stderr[-2000:]
    empty = tmp_path / "empty"
    empty.mkdir()
    run = subprocess.run([sys.executable, "-m", "ecc_workloads.cli.agent", "--store", str(store_root), "--once",
                          "--api-tokens", str(empty)], env=_env(port, tmp_path / "state"), capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 2 and "no API token in" in run.stderr, run.stderr[-2000:]


def test_short_tokens_are_ignored_so_an_empty_or_trivial_file_opens_nothing(tmp_path):
    write_tokens(tmp_path, {"predict": "short", "feedback": "", "admin": "a" * 20})
    tokens = ApiTokens(tmp_path)
    assert tokens.scopes_of("short") == set() and tokens.scopes_of("") == set() and tokens.scopes_of(None) == set()
    assert tokens.allows("a" * 20, "predict") and not tokens.allows("a" * 19, "predict")
