"""The edge agent's HTTP API is bounded and never answers malformed input with a 5xx: a real
agent process (`python -m ecc_workloads.cli.agent --no-auth`: tokens are test_agent_auth's; uvicorn
on a loopback address) gets oversized
bodies (declared and chunked), oversized texts, a feedback flood, lone surrogates, and
Hypothesis-generated bodies."""

from __future__ import annotations

import json
import socket
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentkit import LABELS, publish_tiny_fleet, start_agent_process, stop_agent_process
from ecc_workloads.contracts import AgentApiLimits, AgentPaths, AgentReport

NODE = "edge-fuzz"
HOST = "127.0.0.4"


@pytest.fixture(scope="module")
def agent(tmp_path_factory):
    """A real agent serving a tiny published student; its HTTP client."""
    root = tmp_path_factory.mktemp("store")
    publish_tiny_fleet(root, NODE, blocks=[1], seed=3)
    proc, client = start_agent_process(root, NODE, HOST, tmp_path_factory.mktemp("state"),
                                       "--max-seconds", "600", "--no-auth")
    yield client
    stop_agent_process(proc, client)


def feedback_total(client) -> int:
    return AgentReport.model_validate(client.get(AgentPaths.STATUS).json()).feedback_total


def test_an_oversized_body_is_413_whether_declared_or_chunked(agent):
    big = json.dumps({"instances": ["where is my parcel"] * 20_000}).encode()
    assert len(big) > AgentApiLimits.MAX_BODY_BYTES
    r = agent.post(AgentPaths.PREDICT, content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and f"at most {AgentApiLimits.MAX_BODY_BYTES} bytes" in r.json()["error"]

    def chunks():  # no Content-Length: found while reading
        for i in range(0, len(big), 8192):
            yield big[i:i + 8192]

    r = agent.post(AgentPaths.PREDICT, content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and "at least" in r.json()["error"]
    # a Content-Length that is no number (raw: clients refuse to send one) is a 400
    with socket.create_connection((agent.base_url.host, agent.base_url.port), timeout=10) as sock:
        sock.sendall(f"POST {AgentPaths.PREDICT} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     "Content-Length: x2\r\n\r\n{}".encode())
        assert sock.recv(100).startswith(b"HTTP/1.1 400"), "a bad Content-Length must be a 400"
    assert agent.post(AgentPaths.PREDICT, json={"instances": ["ok"], "learn": False}).status_code == 200


def test_an_oversized_text_is_413_naming_the_field_and_changes_nothing(agent):
    before = feedback_total(agent)
    long_text = "refund " * (AgentApiLimits.MAX_TEXT_CHARS // 7 + 1)
    r = agent.post(AgentPaths.PREDICT, json={"instances": ["fine", long_text]})
    assert r.status_code == 413 and "instances.1" in r.json()["error"], r.text
    r = agent.post(AgentPaths.FEEDBACK, json={"text": long_text, "label": LABELS[0]})
    assert r.status_code == 413 and "text" in r.json()["error"], r.text
    r = agent.post(AgentPaths.PREDICT, json={"instances": ["x"] * (AgentApiLimits.MAX_INSTANCES + 1)})
    assert r.status_code == 413 and "instances" in r.json()["error"]
    assert feedback_total(agent) == before


def test_a_lone_surrogate_is_422_not_500(agent):
    for path, body in ((AgentPaths.PREDICT, '{"instances": ["cancel \\ud800 my order"]}'),
                       (AgentPaths.FEEDBACK, '{"text": "cancel \\udfff it", "label": "cancel_order"}')):
        r = agent.post(path, content=body.encode(), headers={"content-type": "application/json"})
        assert r.status_code == 422, (path, r.status_code, r.text)


def test_a_feedback_flood_is_429_with_retry_after_and_only_accepted_items_count(agent):
    before = feedback_total(agent)
    codes = [agent.post(AgentPaths.FEEDBACK, json={"text": f"please cancel order {i}", "label": LABELS[0]})
             for i in range(AgentApiLimits.FEEDBACK_BURST + 30)]
    accepted = sum(r.status_code == 202 for r in codes)
    limited = [r for r in codes if r.status_code == 429]
    assert {r.status_code for r in codes} <= {202, 429}
    assert limited and AgentApiLimits.FEEDBACK_BURST <= accepted < len(codes)
    assert int(limited[0].headers["retry-after"]) >= 1 and "too many feedback" in limited[0].json()["error"]
    assert feedback_total(agent) == before + accepted
    time.sleep(1.0 / AgentApiLimits.FEEDBACK_PER_SECOND + 0.2)  # the bucket refills
    assert agent.post(AgentPaths.FEEDBACK, json={"text": "cancel it", "label": LABELS[0]}).status_code == 202


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20)
FIELD_VALUES = st.one_of(JSON_VALUES, st.lists(st.text(st.characters(codec=None), max_size=40), max_size=4))
BODIES = st.one_of(
    st.binary(max_size=300),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({}, optional={"instances": FIELD_VALUES, "learn": JSON_VALUES, "text": FIELD_VALUES,
                                        "label": FIELD_VALUES}).map(lambda v: json.dumps(v).encode()),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from([AgentPaths.PREDICT, AgentPaths.FEEDBACK]), body=BODIES,
       content_type=st.sampled_from(["application/json", "text/plain", "application/octet-stream"]))
def test_no_malformed_body_gets_a_5xx(agent, path, body, content_type):
    r = agent.post(path, content=body, headers={"content-type": content_type})
    assert r.status_code < 500, (path, body[:200], r.status_code, r.text[:300])
    if r.status_code >= 400:
        assert r.json()["error"], r.text  # every refusal says why
