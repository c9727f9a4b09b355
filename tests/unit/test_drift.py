"""Drift score: flat on an unshifted stream, rising on a shifted one."""

import random

import numpy as np
import pytest
import torch

from ecc_workloads.learning import distill, drift, modular

from _learning_rows import bitext_rows

torch.set_num_threads(1)
LABELS = ["a", "b", "c", "d"]


def _stream(rng, n, conf=(8, 1), label_p=(0.25, 0.25, 0.25, 0.25)):
    return rng.beta(*conf, size=n).tolist(), rng.choice(4, size=n, p=label_p).tolist()


@pytest.fixture()
def ref():
    rng = np.random.default_rng(0)
    c, p = _stream(rng, 2000)
    return drift.reference_stats(c, p, LABELS, error_rate=0.05, revision=3, profile="s1")


def test_reference_stats_shape_and_equal_mass_bins(ref):
    assert ref.n == 2000 and len(ref.confidence_edges) == 11
    assert max(ref.confidence_hist) - min(ref.confidence_hist) < 0.01  # ~0.1 each
    drift.ReferenceStats.model_validate_json(ref.model_dump_json())  # crosses process boundaries
    with pytest.raises(ValueError, match="label_dist"):
        drift.ReferenceStats(**{**ref.model_dump(), "label_dist": [1.0]})


def test_unshifted_streams_stay_low(ref):
    rng = np.random.default_rng(1)
    for _ in range(5):
        c, p = _stream(rng, 500)
        score = drift.drift_score(ref, drift.window_stats(ref, c, p, feedback_total=50, feedback_errors=3))
        assert score.score < 0.3, score  # "stable" on the documented scale
        assert score.enough_data


def test_shifted_streams_rise(ref):
    rng = np.random.default_rng(2)
    c, p = _stream(rng, 500, conf=(3, 2))  # less confident
    s_conf = drift.drift_score(ref, drift.window_stats(ref, c, p))
    c, p = _stream(rng, 500, label_p=(0.7, 0.1, 0.1, 0.1))  # label mix moved
    s_lab = drift.drift_score(ref, drift.window_stats(ref, c, p))
    c, p = _stream(rng, 500)
    s_err = drift.drift_score(ref, drift.window_stats(ref, c, p, feedback_total=100, feedback_errors=30))
    assert s_conf.score > 0.6 and s_conf.components["confidence"] > 0.6
    assert s_lab.score > 0.6 and s_lab.components["labels"] > 0.6
    assert s_err.score > 0.6 and s_err.error_rate == 0.3
    # a handful of corrections does not fire the alarm on its own
    few = drift.drift_score(ref, drift.window_stats(ref, c, p, feedback_total=3, feedback_errors=2))
    assert few.components["errors"] < 0.6


def test_score_scale_is_monotone_in_shift(ref):
    rng = np.random.default_rng(3)
    scores = []
    for skew in (0.25, 0.4, 0.55, 0.7, 0.85):
        rest = (1 - skew) / 3
        c, p = _stream(rng, 1000, label_p=(skew, rest, rest, rest))
        scores.append(drift.drift_score(ref, drift.window_stats(ref, c, p)).score)
    assert scores == sorted(scores) and scores[0] < 0.1 and scores[-1] > 0.8, scores


def test_windows_merge_and_small_windows_are_flagged(ref):
    rng = np.random.default_rng(4)
    parts = [drift.window_stats(ref, *_stream(rng, 30), feedback_total=2, feedback_errors=1) for _ in range(4)]
    assert not drift.drift_score(ref, parts[0]).enough_data
    merged = drift.merge_windows(parts)
    assert merged.n == 120 and merged.feedback_total == 8 and merged.feedback_errors == 4
    with pytest.raises(ValueError, match="outside"):
        drift.window_stats(ref, [0.5], [7])


def test_psi_values():
    assert drift.psi([0.5, 0.5], [0.5, 0.5]) == pytest.approx(0.0)
    assert drift.psi([0.5, 0.5], [0.9, 0.1]) == pytest.approx(0.4 * np.log(1.8) - 0.4 * np.log(0.2))


def _noisy(text, rate, rng):
    letters = "abcdefghijklmnopqrstuvwxyz"
    return "".join(rng.choice(letters) if ch.isalpha() and rng.random() < rate else ch for ch in text)


def test_real_model_stream_shift():
    """A (tiny) trained model: held-out traffic like its training data vs heavily noised text."""
    intents = ["cancel_order", "track_order", "get_refund", "recover_password"]
    tok = modular.load_tokenizer()
    rows = bitext_rows(intents, 130, seed=5)
    train, ref_rows, same_rows = rows[:240], rows[240:380], rows[380:]
    model = modular.tiny_encoder(intents, num_hidden_layers=2, seed=9)
    distill.fine_tune_teacher(model, tok, [r[0] for r in train], [r[1] for r in train],
                              distill.TrainSettings(epochs=6, lr=2e-3, head_lr=5e-3, max_length=32, freeze_embeddings=False))

    def preds(texts):
        p = distill.predict_proba(model, tok, texts, max_length=32)
        return p.max(-1).values.tolist(), p.argmax(-1).tolist()

    c, p = preds([r[0] for r in ref_rows])
    ref = drift.reference_stats(c, p, intents, error_rate=0.1, revision=1, profile="teacher", bins=5)
    settings = drift.DriftSettings(min_samples=50)
    rng = random.Random(0)
    same = drift.drift_score(ref, drift.window_stats(ref, *preds([r[0] for r in same_rows])), settings)
    shifted = drift.drift_score(ref, drift.window_stats(ref, *preds([_noisy(r[0], 0.6, rng) for r in same_rows])), settings)
    assert same.score < 0.3, same
    assert shifted.score > same.score + 0.3, (same, shifted)
