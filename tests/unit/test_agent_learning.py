"""The agent's learning side: drift signals, the adaptation rule, cloud assist."""

from __future__ import annotations

import json
import socket
import ssl
import threading

import numpy as np
import pytest

from ecc_workloads.agent import learning as al
from ecc_workloads import tls
from ecc_workloads.learning import drift
from ecc_workloads.contracts import PrivacySettings

LABELS = ["a", "b", "c"]
CA_CERT, CA_KEY = tls.make_ca("teacher test CA")
CA_PEM = tls.cert_pem(CA_CERT).decode()


@pytest.fixture()
def ref():
    rng = np.random.default_rng(0)
    return drift.reference_stats(rng.beta(8, 1, 1000).tolist(), rng.choice(3, 1000).tolist(), LABELS, 0.05, 1, "s0")


def test_adaptation_rule_min_samples_then_doubling():
    assert not al.adaptation_due(7, 8, 0)
    assert al.adaptation_due(8, 8, 0)
    assert not al.adaptation_due(15, 8, 8)
    assert al.adaptation_due(16, 8, 8)
    assert not al.adaptation_due(31, 8, 16) and al.adaptation_due(32, 8, 16)


def test_upload_bits_reach_the_upload_settings_from_the_edge_fleet():
    """EdgeFleet.spec.privacy -> the operator's PrivacySettings -> (signed JSON) -> the agent's UploadSettings."""
    from ecc_operator.controllers.fleet import decisions as fd
    from ecc_operator.api.edgefleet import EdgeFleetSpec

    spec = EdgeFleetSpec.model_validate({"teacherRef": {"name": "t"}, "tiers": [{"name": "all", "profile": "s"}],
                                         "privacy": {"uploadBits": 4, "uploadHeadBits": 6}})
    privacy = PrivacySettings.model_validate_json(fd.privacy_settings(spec).model_dump_json())  # as agents read it
    assert (privacy.upload_bits, privacy.upload_head_bits, privacy.quantize_uploads) == (4, 6, True)
    up = al.upload_settings(privacy)
    assert (up.bits, up.head_bits, up.int8, up.form, up.rank, up.head_rank) == (4, 6, True, "factors", 2, 8)
    default = al.upload_settings(PrivacySettings())
    assert (default.bits, default.head_bits, default.int8) == (8, None, True)
    assert al.upload_settings(PrivacySettings(quantize_uploads=False)).int8 is False


@pytest.mark.parametrize("privacy", [PrivacySettings(quantize_uploads=False, upload_bits=4),
                                     PrivacySettings(quantize_uploads=False, upload_head_bits=8)])
def test_upload_bits_without_int8_fail_the_upload_as_the_edge_fleet_rule_does(privacy):
    with pytest.raises(ValueError, match="upload_bits below 8 and upload_head_bits need quantize_uploads"):
        al.upload_settings(privacy)


def test_signals_pick_their_component_and_window_expires(ref):
    clock = [0.0]
    w = al.DriftWindow(window_seconds=60, clock=lambda: clock[0])
    for i in range(300):  # low confidence, one label: both confidence and label mix shift
        w.add_prediction(0.3, 0, np.array([1.0, 0.0]) if i < 150 else np.array([0.0, 1.0]))
    conf, window = w.score("confidence", ref)
    labels, _ = w.score("label-shift", ref)
    errors, _ = w.score("feedback-error", ref)
    emb, _ = w.score("embedding-shift", None)
    assert window.n == 300 and conf > 0.6 and labels > 0.6 and errors == 0.0
    assert emb is not None and emb > 0.5  # the mean embedding moved away from the first 100
    assert w.score("confidence", None) == (None, None)  # no reference: no score
    for _ in range(40):
        w.add_feedback(wrong=True)
    assert w.score("feedback-error", ref)[0] > 0.6
    clock[0] = 1000.0
    assert w.stats(ref).n == 0 and w.stats(ref).feedback_total == 0
    with pytest.raises(ValueError, match="component"):
        al.signal_score("embedding-shift", drift.drift_score(ref, w.stats(ref)))


def test_teacher_url_and_v2_parsing():
    assert al.teacher_infer_url("http://t:8080") == "http://t:8080/v2/models/ecc-intent/infer"
    assert al.teacher_infer_url("http://t:8080/v2/models/m/", "x") == "http://t:8080/v2/models/m/infer"
    assert al.teacher_infer_url("http://t/v2/models/m/infer") == "http://t/v2/models/m/infer"
    body = {"outputs": [{"name": "intent", "data": ["a", "c"]}, {"name": "confidence", "data": [0.95, 0.5]}]}
    assert al.parse_v2_labels(body) == [("a", 0.95), ("c", 0.5)]
    with pytest.raises(ValueError, match="intent"):
        al.parse_v2_labels({"outputs": [{"name": "scores", "data": []}]})
    assert al.v2_request(["x"])["inputs"][0] == {"name": "text", "datatype": "BYTES", "shape": [1], "data": ["x"]}


def _learner(label_fn):
    client = al.TeacherClient()
    client.label = label_fn
    return al.Learner("n", "ns", "f", on_adapted=lambda *a: True, send_delta=lambda k, b: None, teacher=client)


def test_assist_scrubs_text_and_adds_pseudo_labels():
    seen = []
    done = threading.Event()

    def label(url, texts, model_name=None, protocol="v2", ca_pem=None):
        seen.append((url, list(texts), model_name, ca_pem))
        done.set()
        return [("b", 0.97), ("zzz-unknown", 0.99)]

    learner = _learner(label)
    privacy = PrivacySettings(cloud_assist=True, assist_below_confidence=0.6)
    texts = ["mail me at jo.doe@example.com about it", "hmm"]
    assert learner.assist("https://teacher:8080", texts, ["a", "a"], privacy, LABELS, model_name="intent",
                          ca_pem=CA_PEM)
    assert done.wait(10)
    learner.teacher._pool.shutdown(wait=True)
    assert "jo.doe@example.com" not in seen[0][1][0] and "{{" in seen[0][1][0] and seen[0][2] == "intent"
    assert seen[0][3] == CA_PEM
    items = learner.buffer.items
    assert [(i.text, i.label, i.source) for i in items] == [(texts[0], "b", "teacher")]  # unknown label dropped
    assert learner.usable == 1 and learner.counters.assists_total == 2 and learner.counters.feedback_total == 0
    learner.close()


def test_teacher_failure_is_counted_not_raised():
    def label(url, texts, model_name=None, protocol="v2", ca_pem=None):
        raise ConnectionError("teacher down")

    learner = _learner(label)
    assert learner.assist("https://t", ["x"], ["a"], PrivacySettings(cloud_assist=True, scrub_before_assist=False),
                          LABELS, ca_pem=CA_PEM)
    learner.teacher._pool.shutdown(wait=True)
    assert learner.teacher.failed == 1 and "teacher down" in learner.teacher.last_error
    assert len(learner.buffer) == 0
    learner.close()


# ---------------------------------------------------------------------- the teacher's TLS
class TeacherLike:
    """A TLS server on 127.0.0.1 with the given certificate that records every byte a client sends
    after the handshake and answers a v2 request like the teacher (label "b", confidence 0.99)."""

    def __init__(self, cert, key):
        self.ctx = tls.server_context(tls.cert_pem(cert).decode(), tls.key_pem(key).decode())
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.received = bytearray()
        self.handshake_failures = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            try:
                with self.ctx.wrap_socket(conn, server_side=True) as s:
                    s.settimeout(5)
                    data = b""
                    while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < self._length(data):
                        chunk = s.recv(65536)
                        if not chunk:
                            raise OSError("the client left")
                        data += chunk
                        self.received += chunk
                    body = data.partition(b"\r\n\r\n")[2]
                    n = json.loads(body)["inputs"][0]["shape"][0]
                    answer = json.dumps({"outputs": [{"name": "intent", "data": ["b"] * n},
                                                     {"name": "confidence", "data": [0.99] * n}]}).encode()
                    s.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                              + str(len(answer)).encode() + b"\r\nconnection: close\r\n\r\n" + answer)
            except (ssl.SSLError, OSError, ValueError, StopIteration):
                self.handshake_failures += 1

    @staticmethod
    def _length(data: bytes) -> int:
        head = data.partition(b"\r\n\r\n")[0]
        return int(next((l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")), 0))

    def wait_for_failure(self, timeout: float = 5.0) -> int:
        import time

        deadline = time.monotonic() + timeout
        while self.handshake_failures == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.handshake_failures

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept()
        except OSError:
            pass
        self.sock.close()
        self.thread.join(5)


def _server_cert(ca_cert, ca_key, *, dns=(), ips=()):
    return tls.issue(ca_cert, ca_key, "teacher", server=True, dns_names=dns, ip_addresses=ips)


SECRET_TEXT = "my card is 4111 1111 1111 1111"


def test_the_teacher_client_speaks_tls_to_a_teacher_the_ca_signed():
    """The control: with the right CA and host the text does arrive (so the refusals below are real)."""
    server = TeacherLike(*_server_cert(CA_CERT, CA_KEY, ips=("127.0.0.1",)))
    try:
        answers = al.TeacherClient(timeout=10).label(f"https://127.0.0.1:{server.port}", [SECRET_TEXT], "m",
                                                     ca_pem=CA_PEM)
        assert answers == [("b", 0.99)] and SECRET_TEXT.encode() in server.received
    finally:
        server.close()


@pytest.mark.parametrize("impostor", ["another CA", "the right CA, another host name"])
def test_the_teacher_client_refuses_an_impostor_before_sending_any_text(impostor):
    import httpx

    if impostor == "another CA":
        other_cert, other_key = tls.make_ca("impostor CA")
        cert, key = _server_cert(other_cert, other_key, ips=("127.0.0.1",))
    else:
        cert, key = _server_cert(CA_CERT, CA_KEY, dns=("impostor.example",))
    server = TeacherLike(cert, key)
    try:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
            al.TeacherClient(timeout=10).label(f"https://127.0.0.1:{server.port}", [SECRET_TEXT], "m", ca_pem=CA_PEM)
        assert server.wait_for_failure() == 1 and bytes(server.received) == b""  # the handshake failed: no byte came
    finally:
        server.close()


@pytest.mark.parametrize("url,ca,why", [
    ("http://127.0.0.1:9", CA_PEM, "https:// teacher only"),
    ("https://127.0.0.1:9", None, "teacher_ca_pem is empty"),
    ("https://127.0.0.1:9", "not a certificate", "teacher_ca_pem"),
])
def test_the_teacher_client_refuses_plaintext_and_a_missing_ca_without_connecting(url, ca, why, caplog):
    client = al.TeacherClient()
    with pytest.raises(al.TeacherRefused, match=why):
        client.label(url, ["x"], "m", ca_pem=ca)
    with caplog.at_level("WARNING", logger="ecc.agent.learning"):
        assert client.submit(url, ["x"], lambda _a: None, ca_pem=ca) is False
        assert client.submit(url, ["x"], lambda _a: None, ca_pem=ca) is False
    assert client.failed == 2 and why.split()[0] in client.last_error and client.sent == 0
    assert len([r for r in caplog.records if "cloud assist skipped" in r.getMessage()]) == 1
    client.close()
