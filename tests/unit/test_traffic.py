"""Traffic generator: site -> domain mapping, held-out slices, traffic and accuracy against a
tiny fake agent served with http.server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ecc_workloads.sim import traffic as tr
from ecc_workloads.contracts import EDGE_SITES, AgentPaths
from ecc_workloads.data.corpus import Example, example_id

LABELS = ("cancel_order", "track_order", "get_refund")
WORDS = {"cancel_order": "cancel", "track_order": "track", "get_refund": "refund"}


def rows(domain: str, per_label: int = 30) -> list[Example]:
    out = []
    for label in LABELS:
        for i in range(per_label):
            text = f"{WORDS[label]} please {domain} request number {i}"
            out.append(Example(id=example_id(text), text=text, label=label, domain=domain))
    return out


CORPUS = [ex for d in ("base", "colloquial", "typos", "keyword") for ex in rows(d)]


# ---------------------------------------------------------------------------
# pure parts
# ---------------------------------------------------------------------------
def test_every_edge_site_maps_to_a_corpus_domain():
    assert set(tr.SITE_DOMAINS) == set(EDGE_SITES)
    assert tr.site_domain("typos") == ("typos", 0.0)
    assert tr.site_domain("voice") == ("base", tr.VOICE_NOISE_RATE)
    with pytest.raises(tr.TrafficError, match="unknown site 'mars'"):
        tr.site_domain("mars")


def test_char_noise_is_seeded_and_near_its_rate():
    text = "I would like to cancel the order I placed yesterday afternoon " * 20
    a = tr.char_noise(text, 0.1, "s")
    assert a == tr.char_noise(text, 0.1, "s") != tr.char_noise(text, 0.1, "t")
    changed = sum(x != y for x, y in zip(text, a)) / len(text)
    assert 0.02 < changed < 0.9
    assert tr.char_noise(text, 0.0, "s") == text.strip()


def test_site_data_keeps_held_out_rows_apart_from_traffic():
    for site in EDGE_SITES:
        data = tr.site_data(CORPUS, site)
        traffic_ids = {ex.id for ex in data.traffic}
        held_ids = {ex.id for ex in data.heldout}
        assert data.heldout and data.traffic and not traffic_ids & held_ids
        domain = tr.site_domain(site)[0]
        assert all(domain in ex.text or site == "voice" for ex in data.heldout)
        assert {ex.label for ex in data.heldout} == set(LABELS)  # stratified by label
    voice, base = tr.site_data(CORPUS, "voice"), tr.site_data(CORPUS, "base")
    assert [ex.id for ex in voice.heldout] == [ex.id for ex in base.heldout]  # same rows ...
    assert [ex.text for ex in voice.heldout] != [ex.text for ex in base.heldout]  # ... with noise
    assert all(ex.domain == "voice" for ex in voice.traffic)
    assert tr.site_data(CORPUS, "typos") == tr.site_data(list(reversed(CORPUS)), "typos")
    with pytest.raises(tr.TrafficError, match="domain 'typos'"):
        tr.site_data(rows("base"), "typos")


def test_parse_endpoint():
    ep = tr.parse_endpoint("typos=http://127.0.0.5:8090/")
    assert (ep.site, ep.url) == ("typos", "http://127.0.0.5:8090")
    for bad in ("http://127.0.0.5:8090", "typos=127.0.0.5:8090", "mars=http://x:1"):
        with pytest.raises(tr.TrafficError):
            tr.parse_endpoint(bad)


def test_percentile():
    assert tr.percentile([], 0.5) is None
    assert tr.percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert tr.percentile(list(map(float, range(1, 101))), 0.95) == 95.0


# ---------------------------------------------------------------------------
# against a fake agent
# ---------------------------------------------------------------------------
class FakeAgent:
    """Answers PREDICT by the first word (wrong on every text containing 'typos' and a '7');
    records FEEDBACK; fails every `fail_every`-th predict with a 500."""

    def __init__(self, fail_every: int = 0, revision: int = 3, throttle_every: int = 0):
        self.feedback: list[dict] = []
        self.predicts = 0
        self.fail_every = fail_every
        self.throttle_every = throttle_every
        self.throttled = 0
        self.feedback_posts = 0
        agent = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_):
                pass

            def _send(self, code, doc):
                body = json.dumps(doc).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                doc = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path == AgentPaths.FEEDBACK:
                    agent.feedback_posts += 1
                    if agent.throttle_every and agent.feedback_posts % agent.throttle_every == 0:
                        agent.throttled += 1  # the real agent's 429 (rate limit), Retry-After 0
                        body = b'{"error": "too many feedback requests"}'
                        self.send_response(429)
                        self.send_header("Retry-After", "0")
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        self.wfile.write(body)
                        return
                    agent.feedback.append(doc)
                    return self._send(202, {"accepted": True})
                if self.path != AgentPaths.PREDICT:
                    return self._send(404, {"error": "no such path"})
                agent.predicts += 1
                if agent.fail_every and agent.predicts % agent.fail_every == 0:
                    return self._send(500, {"error": "boom"})
                preds = []
                for text in doc["instances"]:
                    word = text.split()[0]
                    label = next((lab for lab, w in WORDS.items() if w == word), "unknown")
                    if "typos" in text and "7" in text:
                        label = "unknown"
                    preds.append({"label": label, "confidence": 0.9})
                return self._send(200, {"predictions": preds, "revision": revision, "profile": "s1"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_evaluate_sites_scores_held_out_rows_per_site():
    data = {s: tr.site_data(CORPUS, s) for s in ("base", "typos")}
    held = {s: d.heldout for s, d in data.items()}
    with FakeAgent() as a, FakeAgent() as b:
        eps = [tr.AgentEndpoint(url=a.url, site="base", node="n1"), tr.AgentEndpoint(url=b.url, site="typos", node="n2")]
        result = tr.evaluate_sites(eps, held, batch_size=4)
    assert result["base"]["accuracy"] == 1.0 and result["base"]["rows"] == len(held["base"])
    wrong = sum("7" in ex.text for ex in held["typos"])
    assert wrong > 0
    assert result["typos"]["correct"] == len(held["typos"]) - wrong
    assert result["typos"]["accuracy"] == round((len(held["typos"]) - wrong) / len(held["typos"]), 4)
    assert result["typos"]["revisions"] == [3] and result["typos"]["errors"] == 0


def test_send_traffic_sends_feedback_from_traffic_rows_only_and_counts_errors():
    data = {s: tr.site_data(CORPUS, s) for s in ("keyword", "voice")}
    with FakeAgent() as a, FakeAgent(fail_every=5) as b:
        eps = [tr.AgentEndpoint(url=a.url, site="keyword"), tr.AgentEndpoint(url=b.url, site="voice")]
        sent = tr.send_traffic(eps, data, requests_per_node=40, feedback_fraction=0.5, seed=1)
        feedback_a, feedback_b = list(a.feedback), list(b.feedback)
    kw, voice = sent["keyword"], sent["voice"]
    assert (kw["requests"], kw["errors"], kw["nodes"]) == (40, 0, 1)
    assert 8 <= kw["feedback_sent"] <= 32 and kw["feedback_sent"] == len(feedback_a)
    assert voice["errors"] == 8 and "500" in voice["last_error"]
    assert voice["feedback_sent"] == len(feedback_b)
    assert kw["p50_ms"] is not None and kw["p50_ms"] <= kw["p95_ms"]
    held = {ex.text for d in data.values() for ex in d.heldout}
    traffic_texts = {ex.text: ex.label for d in data.values() for ex in d.traffic}
    for fb in feedback_a + feedback_b:
        assert fb["text"] not in held and traffic_texts[fb["text"]] == fb["label"]


def test_feedback_refused_by_the_rate_limit_is_sent_again_after_retry_after():
    data = {"keyword": tr.site_data(CORPUS, "keyword")}
    with FakeAgent(throttle_every=3) as a:
        sent = tr.send_traffic([tr.AgentEndpoint(url=a.url, site="keyword")], data, requests_per_node=30,
                               feedback_fraction=1.0, seed=2)
        kw = sent["keyword"]
        assert a.throttled >= 5 and kw["feedback_errors"] == 0
        assert kw["feedback_sent"] == len(a.feedback) == 30


def test_an_unreachable_agent_is_counted_never_raised():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    data = {"base": tr.site_data(CORPUS, "base")}
    ep = [tr.AgentEndpoint(url=dead, site="base")]
    sent = tr.send_traffic(ep, data, requests_per_node=3, timeout=1)
    assert (sent["base"]["requests"], sent["base"]["errors"], sent["base"]["feedback_sent"]) == (3, 3, 0)
    scored = tr.evaluate_sites(ep, {"base": data["base"].heldout}, timeout=1)
    assert scored["base"]["accuracy"] is None and scored["base"]["errors"] == len(data["base"].heldout)
    row = tr.combine(sent, scored)["base"]
    assert row["request_errors"] == 3 and row["accuracy"] is None and row["domain"] == "base"


def test_traffic_refuses_a_site_without_rows():
    with pytest.raises(tr.TrafficError, match="no traffic rows for site 'typos'"):
        tr.send_traffic([tr.AgentEndpoint(url="http://x:1", site="typos")], {}, requests_per_node=1)
    with pytest.raises(tr.TrafficError, match="batch_size"):
        tr.evaluate_sites([], {}, batch_size=0)


def test_load_examples_reads_prepared_jsonl(tmp_path):
    path = tmp_path / "test.jsonl"
    path.write_text("".join(ex.model_dump_json() + "\n" for ex in CORPUS[:5]))
    assert tr.load_examples(str(path)) == CORPUS[:5]
    assert tr.load_examples(str(tmp_path)) == CORPUS[:5]


def test_endpoints_by_site_and_text_label_pairs_are_accepted():
    """The shapes the demo scenario passes: site -> [URL] and (text, label) pairs; with no
    request count every row is sent once."""
    pairs = {"typos": [(ex.text, ex.label) for ex in tr.site_data(CORPUS, "typos").traffic[:12]]}
    held = {"typos": [(ex.text, ex.label) for ex in tr.site_data(CORPUS, "typos").heldout]}
    with FakeAgent() as a:
        sent = tr.send_traffic({"typos": [a.url]}, pairs, feedback_fraction=1.0)
        scored = tr.evaluate_sites({"typos": [a.url + "/"]}, held)
        got = [(fb["text"], fb["label"]) for fb in a.feedback]
    assert sent["typos"]["requests"] == 12 and sent["typos"]["feedback"] == sent["typos"]["feedback_sent"] == 12
    assert got == pairs["typos"]
    assert scored["typos"]["rows"] == len(held["typos"]) and scored["typos"]["accuracy"] is not None
    eps = tr.as_endpoints({"base": [tr.AgentEndpoint(url="http://a:1", site="base", node="n")], "voice": ["http://b:2"]})
    assert [(e.site, e.url, e.node) for e in eps] == [("base", "http://a:1", "n"), ("voice", "http://b:2", None)]


def test_the_agent_port_comes_from_the_pod_env_then_its_ports():
    from types import SimpleNamespace as NS

    def pod(env=(), ports=()):
        container = NS(env=[NS(name=k, value=v) for k, v in env], ports=[NS(container_port=p) for p in ports])
        return NS(spec=NS(containers=[container]))

    assert tr._pod_port(pod(env=[("ECC_AGENT_PORT", "9001")], ports=[8090]), None) == 9001
    assert tr._pod_port(pod(ports=[8123]), None) == 8123
    assert tr._pod_port(pod(), 7000) == 7000
    assert tr._pod_port(pod(), None) == tr.DEFAULT_AGENT_PORT
