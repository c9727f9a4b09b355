"""`ecc serve-teacher`: a real kserve.ModelServer process answering real HTTPS requests.

A tiny random encoder is written as a bundle to a local store with a reply corpus beside
it; the server is started as a subprocess (python -m ecc_workloads.cli.serve) bound to the
address in ECC_POD_IP, serving HTTPS with a certificate of a test CA given in the variables the
operator sets (ECC_SERVING_TLS_CERT / _KEY), and its answers are compared with the same bundle
loaded in-process. Plaintext and clients that trust another CA get no answer.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import torch

from ecc_devcluster.ports import free_port
from ecc_workloads import tls
from ecc_workloads.learning import bundles, modular
from ecc_workloads.cli import serve as cli_serve
from ecc_workloads.serving import teacher as serving
from ecc_workloads.learning.bundles import LocalDirStore
from ecc_workloads.contracts import RuntimeEnv, StoreLayout

torch.set_num_threads(1)
REPO = Path(__file__).resolve().parents[2]
LABELS = ["cancel_order", "track_order", "get_refund"]
NAME = "intent-test"
HOST = "127.0.0.2"  # Linux answers on all of 127.0.0.0/8: binding here proves ECC_POD_IP is used
SHARED_QUERY = "i need help with order 12345"
REPLIES = [
    ("how do I cancel my order", "cancel_order", "I can cancel order {{Order Number}} for you right away."),
    ("cancel purchase please", "cancel_order", "Order {{Order Number}} will be cancelled; see {{Website URL}}."),
    ("where is my parcel", "track_order", "Track {{Order Number}} on {{Tracking URL}}."),
    ("track my package now", "track_order", "Your package ships with {{Carrier}}."),
    ("i want my money back", "get_refund", "Refunds go back to {{Payment Method}} within {{Days}} days."),
    ("refund for a broken item", "get_refund", "Send a photo to {{Support Email}} and we refund {{Amount}}."),
    # the same query under every intent: whatever intent is predicted, its reply is exact
    (SHARED_QUERY, "cancel_order", "SHARED cancel {{Order Number}}"),
    (SHARED_QUERY, "track_order", "SHARED track {{Order Number}}"),
    (SHARED_QUERY, "get_refund", "SHARED refund {{Order Number}}"),
    ("an intent the model does not know", "change_address", "not served"),
]


def _write_store(root: Path) -> Path:
    """Bundles of revision 3 (teacher + student s0) and the reply corpus; returns the bundles dir."""
    model = modular.tiny_encoder(LABELS, num_hidden_layers=2, seed=11)
    model.add_profile("s0", [0])
    with torch.no_grad():
        model.heads["s0"].weight.add_(0.05)
    store = LocalDirStore(root)
    written = bundles.write_bundles(model, ["teacher", "s0"], 3, store)
    keys = bundles.publish_manifests(store, written.manifests.values(), "shop", "intent")
    rows = [json.dumps({"instruction": i, "intent": y, "response": r}) for i, y, r in REPLIES]
    rows.append(json.dumps({"text": "prepared-corpus row without response", "label": "get_refund", "response": None}))
    store.put(serving.responses_key("shop", "intent", 3), ("\n".join(rows) + "\n").encode())
    return (root / keys[0]).parent


CA_CERT, CA_KEY = tls.make_ca("serve-teacher test CA")
CA_PEM = tls.cert_pem(CA_CERT).decode()


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory) -> dict[str, str]:
    """The server's certificate (for HOST) and key as files, in the variables the operator sets."""
    leaf, key = tls.issue(CA_CERT, CA_KEY, "teacher", server=True, ip_addresses=(HOST,))
    d = tmp_path_factory.mktemp("serving-tls")
    (d / "tls.crt").write_bytes(tls.cert_pem(leaf))
    (d / "tls.key").write_bytes(tls.key_pem(key))
    return {RuntimeEnv.TLS_CERT_FILE: str(d / "tls.crt"), RuntimeEnv.TLS_KEY_FILE: str(d / "tls.key")}


def _start(args: list[str], env_extra: dict[str, str]) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items()
           if k not in (RuntimeEnv.POD_IP, RuntimeEnv.TLS_CERT_FILE, RuntimeEnv.TLS_KEY_FILE)}
    env.update(env_extra)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    return subprocess.Popen([sys.executable, "-m", "ecc_workloads.cli.serve", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("store")
    _write_store(root)
    return root


@pytest.fixture(scope="module")
def bundles_dir(store_dir):
    return store_dir / "teachers/shop/intent/revisions/3/bundles"


@pytest.fixture(scope="module")
def server(bundles_dir, tls_files):
    port = free_port(HOST)
    proc = _start(["--manifest", str(bundles_dir), "--http-port", str(port), "--model-name", NAME,
                   "--max-batch", "8"], {RuntimeEnv.POD_IP: HOST, **tls_files})
    base = f"https://{HOST}:{port}"
    deadline = time.monotonic() + 120
    client = httpx.Client(base_url=base, timeout=30, verify=tls.client_context(CA_PEM))
    while True:
        if proc.poll() is not None:
            pytest.fail(f"serve-teacher exited with {proc.returncode}:\n{proc.stderr.read()[-4000:]}")
        try:
            if client.get(f"/v2/models/{NAME}/ready").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"serve-teacher did not become ready in 120 s:\n{proc.stderr.read()[-4000:]}")
        time.sleep(0.25)
    yield client, port
    client.close()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("serve-teacher did not stop within 30 s of SIGTERM")
    err = proc.stderr.read()
    assert f"listening on https://{HOST}:{port}" in err, err[-2000:]  # the start-up line says what it serves


@pytest.fixture(scope="module")
def local(bundles_dir):
    """The same bundle and replies loaded in-process: what the server must answer."""
    return serving.build_model(str(bundles_dir), model_name=NAME, log=lambda _m: None).predictor


def test_v1_predict_matches_the_bundle_and_suggests_the_closest_reply(server, local):
    client, _ = server
    texts = ["where is my parcel??", "cancel purchase please", SHARED_QUERY]
    res = client.post(f"/v1/models/{NAME}:predict",
                      json={"instances": [texts[0], {"text": texts[1]}, texts[2]]})
    assert res.status_code == 200, res.text
    preds = res.json()["predictions"]
    assert len(preds) == 3
    expected = local.predict(texts)
    probs, unit = local.forward(texts)
    for i, (got, want) in enumerate(zip(preds, expected)):
        assert list(got["scores"]) == LABELS
        torch.testing.assert_close(torch.tensor([got["scores"][label] for label in LABELS]), probs[i], atol=1e-5, rtol=0)
        assert got["intent"] == LABELS[int(probs[i].argmax())] == want.intent
        assert got["confidence"] == pytest.approx(float(probs[i].max()), abs=1e-5)
        # the reply is the predicted intent's response whose instruction is closest to the query
        candidates = [(ins, resp) for ins, y, resp in REPLIES if y == got["intent"]]
        sims = local.embed([ins for ins, _ in candidates]) @ unit[i]
        assert got["suggested_reply"] == candidates[int(sims.argmax())][1]
        assert got["reply_similarity"] == pytest.approx(float(sims.max()), abs=1e-4)
    shared = preds[2]
    shared_replies = {y: r for ins, y, r in REPLIES if ins == SHARED_QUERY}
    assert shared["suggested_reply"] == shared_replies[shared["intent"]]
    assert shared["reply_similarity"] == pytest.approx(1.0, abs=1e-4)
    assert "{{Order Number}}" in shared["suggested_reply"]  # placeholders are kept for the agent
    assert res.json()["model"]["revision"] == 3 and res.json()["model"]["profile"] == "teacher"


def test_v2_infer_returns_named_tensors(server, local):
    client, _ = server
    texts = ["track my package now", SHARED_QUERY]
    body = {"id": "req-1", "inputs": [{"name": "text", "datatype": "BYTES", "shape": [2], "data": texts}]}
    res = client.post(f"/v2/models/{NAME}/infer", json=body)
    assert res.status_code == 200, res.text
    doc = res.json()
    assert doc["id"] == "req-1" and doc["model_name"] == NAME
    assert doc["parameters"] == {"profile": "teacher", "revision": 3}
    out = {o["name"]: o for o in doc["outputs"]}
    assert {n: (o["datatype"], o["shape"]) for n, o in out.items()} == {
        "intent": ("BYTES", [2]), "confidence": ("FP32", [2]), "scores": ("FP32", [2, 3]),
        "suggested_reply": ("BYTES", [2]), "reply_similarity": ("FP32", [2]), "labels": ("BYTES", [3]),
    }
    assert out["labels"]["data"] == LABELS
    want = local.predict(texts)
    assert out["intent"]["data"] == [p.intent for p in want]
    torch.testing.assert_close(torch.tensor(out["scores"]["data"]).reshape(2, 3),
                               torch.tensor([[p.scores[label] for label in LABELS] for p in want]), atol=1e-5, rtol=0)
    assert out["suggested_reply"]["data"] == [p.suggested_reply for p in want]
    assert out["suggested_reply"]["data"][1].startswith("SHARED ") and "{{Order Number}}" in out["suggested_reply"]["data"][1]


def test_ready_metadata_and_health(server):
    client, _ = server
    assert client.get(f"/v2/models/{NAME}/ready").json() == {"name": NAME, "ready": True}
    assert client.get(f"/v1/models/{NAME}").json() == {"name": NAME, "ready": True}
    assert client.get("/v2/health/live").status_code == 200
    meta = client.get(f"/v2/models/{NAME}").json()
    assert meta["inputs"] == [{"name": "text", "datatype": "BYTES", "shape": [-1]}]
    assert [o["name"] for o in meta["outputs"]] == ["intent", "confidence", "scores", "suggested_reply",
                                                     "reply_similarity", "labels"]
    assert client.get("/v2/models/no-such-model/ready").status_code == 404


def test_bad_requests_get_4xx_naming_the_problem(server):
    client, _ = server
    res = client.post(f"/v2/models/{NAME}/infer", json={"id": "x"})
    assert res.status_code == 422 and "inputs: Field required" in res.json()["error"]
    res = client.post(f"/v2/models/{NAME}/infer",
                      json={"inputs": [{"name": "utterance", "datatype": "BYTES", "shape": [1], "data": ["hi"]}]})
    assert res.status_code == 400 and 'input named "text"' in res.json()["error"] and "utterance" in res.json()["error"]
    res = client.post(f"/v2/models/{NAME}/infer",
                      json={"inputs": [{"name": "text", "datatype": "INT32", "shape": [1], "data": [1]}]})
    assert res.status_code == 400 and "BYTES" in res.json()["error"]
    res = client.post(f"/v1/models/{NAME}:predict", json={"utterances": ["hi"]})
    assert res.status_code == 400 and '"instances"' in res.json()["error"] and "utterances" in res.json()["error"]
    res = client.post(f"/v1/models/{NAME}:predict", json={"instances": ["ok", "  "]})
    assert res.status_code == 400 and "instances[1]: empty text" in res.json()["error"]
    res = client.post(f"/v1/models/{NAME}:predict", json={"instances": ["hi"] * 9})
    assert res.status_code == 400 and "at most 8" in res.json()["error"]


def test_listens_only_on_the_pod_ip(server):
    _, port = server
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"https://127.0.0.1:{port}/", timeout=5, verify=tls.client_context(CA_PEM))


def test_serves_https_only(server):
    """The operator always starts it with a certificate: plaintext gets no HTTP answer at all."""
    client, port = server
    assert client.get(f"/v2/models/{NAME}/ready").status_code == 200  # the same server, over TLS
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://{HOST}:{port}/v2/models/{NAME}/ready", timeout=10)


def test_a_client_that_trusts_another_ca_is_refused(server):
    _, port = server
    other = tls.cert_pem(tls.make_ca("another CA")[0]).decode()
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        httpx.get(f"https://{HOST}:{port}/v2/models/{NAME}/ready", timeout=10, verify=tls.client_context(other))


def test_tls_options_are_both_or_neither_and_checked_before_anything_loads(tls_files, tmp_path):
    cert, key = Path(tls_files[RuntimeEnv.TLS_CERT_FILE]), Path(tls_files[RuntimeEnv.TLS_KEY_FILE])
    assert cli_serve.check_tls_files(None, None) is None
    assert cli_serve.check_tls_files(cert, key) == (str(cert), str(key))
    with pytest.raises(cli_serve.TLSFilesError, match="--tls-cert-file is given without --tls-key-file"):
        cli_serve.check_tls_files(cert, None)
    with pytest.raises(cli_serve.TLSFilesError, match="--tls-key-file is given without --tls-cert-file"):
        cli_serve.check_tls_files(None, key)
    with pytest.raises(cli_serve.TLSFilesError, match=r"--tls-key-file .*missing.key: cannot be read"):
        cli_serve.check_tls_files(cert, tmp_path / "missing.key")
    (tmp_path / "garbage.crt").write_text("not a certificate")
    with pytest.raises(cli_serve.TLSFilesError, match="--tls-cert-file .*garbage.crt"):
        cli_serve.check_tls_files(tmp_path / "garbage.crt", key)
    other_key = tmp_path / "other.key"
    other_key.write_bytes(tls.key_pem(tls.make_ca("x")[1]))
    with pytest.raises(cli_serve.TLSFilesError, match="do not load"):
        cli_serve.check_tls_files(cert, other_key)
    # the command refuses (exit 2) with the message, not a traceback, and never loads the bundle
    proc = _start(["--manifest", str(tmp_path / "no-such-manifest.json"), "--http-port", str(free_port("127.0.0.1"))],
                  {RuntimeEnv.TLS_CERT_FILE: str(cert), RuntimeEnv.TLS_KEY_FILE: str(other_key)})
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "refusing to start" in err and "do not load" in err, err[-2000:]
    assert "Traceback" not in err and "no-such-manifest" not in err


def test_tampered_bundle_refuses_to_start_naming_the_module(store_dir, tmp_path):
    copy = tmp_path / "store"
    shutil.copytree(store_dir, copy)
    manifest = bundles.read_manifest(LocalDirStore(copy), StoreLayout.bundle_manifest("shop", "intent", 3, "teacher"))
    ref = next(m for m in manifest.modules if m.name == "block.1")
    path = copy / StoreLayout.module(ref.sha256)
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x01  # one bit in the last weights
    path.write_bytes(bytes(data))
    proc = _start(["--manifest", str(copy / "teachers/shop/intent/revisions/3/bundles/teacher.json"),
                   "--http-port", str(free_port("127.0.0.1"))], {})
    try:
        _, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("serve-teacher with a tampered bundle kept running instead of refusing to start")
    assert proc.returncode != 0
    assert "refusing to start" in err and "'block.1'" in err and "sha256 mismatch" in err, err[-2000:]


# ---------------------------------------------------------------------- in-process
def test_serves_a_student_profile_from_the_bundles_dir(bundles_dir):
    model = serving.build_model(str(bundles_dir), profile="s0", model_name="s", log=lambda _m: None)
    assert model.predictor.blocks == [0] and model.predictor.profile == "s0"
    out = model.predict({"instances": ["where is my parcel"]})
    assert out["model"]["profile"] == "s0" and out["predictions"][0]["suggested_reply"]
    with pytest.raises(serving.ServingError, match="manifest .* is for profile 'teacher'"):
        serving.open_bundle(str(bundles_dir / "teacher.json"), profile="s0")


def test_reply_corpus_errors_name_the_line_and_unknown_intents_are_dropped():
    with pytest.raises(serving.ServingError, match=r"replies.jsonl line 2: bad or missing intent"):
        serving.parse_responses('{"instruction": "a", "intent": "x", "response": "r"}\n{"instruction": "b", "response": "r"}',
                                "replies.jsonl")
    with pytest.raises(serving.ServingError, match="line 1: not JSON"):
        serving.parse_responses("{oops", "replies.jsonl")
    rows = [serving.ResponseRow(instruction=f"q{i}", intent="a" if i % 2 else "zzz", response="r") for i in range(10)]
    kept = serving.select_rows(rows + rows[:1], ["a", "b"], per_intent=3)
    assert len(kept) == 3 and {r.intent for r in kept} == {"a"}


def test_reply_corpus_without_any_known_intent_refuses_to_start(bundles_dir, tmp_path):
    bad = tmp_path / "replies.jsonl"
    bad.write_text(json.dumps({"instruction": "x", "intent": "other", "response": "r"}) + "\n")
    with pytest.raises(serving.ServingError, match="none of its 1 rows"):
        serving.build_model(str(bundles_dir), responses_uri=str(bad), log=lambda _m: None)


@pytest.mark.parametrize("protocol", ["v1", "v2"])
def test_cloud_assist_asks_the_served_teacher_in_either_protocol(server, local, protocol):
    """The edge agent's client (agent_learning.TeacherClient) against the real server, as the
    DesiredState's teacher_url, teacher_ca_pem and teacher_protocol direct it."""
    from ecc_workloads.agent.learning import TeacherClient, TeacherRefused

    _, port = server
    texts = ["cancel my order please", "where is my parcel"]
    answers = TeacherClient(timeout=30).label(f"https://{HOST}:{port}", texts, NAME, protocol, ca_pem=CA_PEM)
    want = [(p.intent, p.confidence) for p in local.predict(texts)]
    assert [a[0] for a in answers] == [w[0] for w in want]
    assert [a[1] for a in answers] == pytest.approx([w[1] for w in want], abs=1e-5)
    with pytest.raises(Exception, match="404"):
        TeacherClient(timeout=30).label(f"https://{HOST}:{port}", texts, "no-such-model", protocol, ca_pem=CA_PEM)
    with pytest.raises(TeacherRefused, match="https:// teacher only"):
        TeacherClient(timeout=30).label(f"http://{HOST}:{port}", texts, NAME, protocol, ca_pem=CA_PEM)
