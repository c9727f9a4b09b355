"""The agent's kubelet API slice (container logs), over real HTTPS on loopback."""

from __future__ import annotations

import ssl
import threading
import time
import urllib.error
import urllib.request

import pytest

from ecc_devcluster.nodeagent_kubeletapi import KubeletApi, tail_bytes


def test_tail_and_limit():
    data = b"a\nb\nc\n"
    assert tail_bytes(data, 2, None) == b"b\nc\n"
    assert tail_bytes(data, 0, None) == b""
    assert tail_bytes(data, None, 3) == b"a\nb"
    assert tail_bytes(data, None, None) == data


@pytest.fixture
def served(tmp_path):
    pods = tmp_path / "pods"
    (pods / "team_web").mkdir(parents=True)
    log = pods / "team_web" / "main.log"
    log.write_text("one\ntwo\nthree\n")
    running = {"value": True}
    api = KubeletApi(pods, tmp_path / "certs", lambda ns, pod, c: running["value"])
    api.start()
    yield api, log, running
    api.close()


def get(port: int, path: str, timeout: float = 10) -> tuple[int, str]:
    ctx = ssl._create_unverified_context()  # self-signed, like a kubelet the API server does not verify
    try:
        with urllib.request.urlopen(f"https://127.0.0.1:{port}{path}", context=ctx, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_logs_tail_and_errors(served):
    api, _, _ = served
    assert get(api.port, "/containerLogs/team/web/main") == (200, "one\ntwo\nthree\n")
    assert get(api.port, "/containerLogs/team/web/main?tailLines=1") == (200, "three\n")
    code, text = get(api.port, "/containerLogs/team/web/nope")
    assert code == 404 and "'nope'" in text
    code, text = get(api.port, "/exec/team/web/main?command=ls")
    assert code == 501 and "development stand-in for a kubelet" in text


def test_follow_streams_until_the_container_stops(served):
    api, log, running = served

    def writer() -> None:
        time.sleep(0.5)
        with open(log, "a") as f:
            f.write("four\n")
        time.sleep(0.5)
        running["value"] = False

    threading.Thread(target=writer).start()
    started = time.monotonic()
    assert get(api.port, "/containerLogs/team/web/main?follow=true&tailLines=1") == (200, "three\nfour\n")
    assert time.monotonic() - started < 5
