"""The agent's learning side: drift signals, the adaptation rule, cloud assist."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from ecc_workloads import agent_learning as al
from ecc_workloads import drift
from ecc_workloads.contracts import PrivacySettings

LABELS = ["a", "b", "c"]


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

    def label(url, texts, model_name=None, protocol="v2"):
        seen.append((url, list(texts), model_name))
        done.set()
        return [("b", 0.97), ("zzz-unknown", 0.99)]

    learner = _learner(label)
    privacy = PrivacySettings(cloud_assist=True, assist_below_confidence=0.6)
    texts = ["mail me at jo.doe@example.com about it", "hmm"]
    assert learner.assist("http://teacher:8080", texts, ["a", "a"], privacy, LABELS, model_name="intent")
    assert done.wait(10)
    learner.teacher._pool.shutdown(wait=True)
    assert "jo.doe@example.com" not in seen[0][1][0] and "{{" in seen[0][1][0] and seen[0][2] == "intent"
    items = learner.buffer.items
    assert [(i.text, i.label, i.source) for i in items] == [(texts[0], "b", "teacher")]  # unknown label dropped
    assert learner.usable == 1 and learner.counters.assists_total == 2 and learner.counters.feedback_total == 0
    learner.close()


def test_teacher_failure_is_counted_not_raised():
    def label(url, texts, model_name=None, protocol="v2"):
        raise ConnectionError("teacher down")

    learner = _learner(label)
    assert learner.assist("http://t", ["x"], ["a"], PrivacySettings(cloud_assist=True, scrub_before_assist=False), LABELS)
    learner.teacher._pool.shutdown(wait=True)
    assert learner.teacher.failed == 1 and "teacher down" in learner.teacher.last_error
    assert len(learner.buffer) == 0
    learner.close()
