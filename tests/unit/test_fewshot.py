"""Few-label mode: contrastive pairs, SetFit-style tuning of the encoder, the head, the weights."""

import random

import pytest
import torch

from ecc_workloads.learning import distill, fewshot, modular

from _learning_rows import bitext_rows

torch.set_num_threads(1)
INTENTS = ["cancel_order", "track_order", "get_refund", "recover_password"]


def test_pairs_pair_every_row_with_its_intent_and_with_another():
    labels = ["a", "a", "a", "b", "b", "c"]  # c has one row: no positive pair for it
    pairs = fewshot.contrastive_pairs(labels, iterations=3, rng=random.Random(0))
    assert len(pairs) == 3 * (5 + 6)
    for a, b, target in pairs:
        assert a != b and (labels[a] == labels[b]) == (target == 1.0)
    assert {a for a, _, t in pairs if t == 1.0} == {0, 1, 2, 3, 4}
    assert pairs == fewshot.contrastive_pairs(labels, iterations=3, rng=random.Random(0))
    with pytest.raises(ValueError, match="at least 2 intents"):
        fewshot.contrastive_pairs(["a", "a"], 1, random.Random(0))


def test_few_label_is_decided_by_the_median_labelled_rows_per_intent():
    assert fewshot.is_few_label(["a"] * 8 + ["b"] * 8 + [None] * 500)
    assert not fewshot.is_few_label(["a"] * 40 + ["b"] * 40 + ["c"] * 3)
    assert not fewshot.is_few_label([None, ""])


def test_contrastive_tuning_pulls_intents_apart_and_the_head_fits():
    rows = bitext_rows(INTENTS, per_intent=8, seed=5)
    x, y = [r[0] for r in rows], [r[1] for r in rows]
    tok = modular.load_tokenizer()
    model = modular.tiny_encoder(INTENTS, num_hidden_layers=2, seed=0)
    settings = fewshot.ContrastiveSettings(iterations=10, lr=2e-3, epochs=2, freeze_embeddings=False, max_length=32)

    def separation():  # mean cosine within an intent minus across intents
        e = torch.nn.functional.normalize(fewshot.sentence_embeddings(model, tok, x, 32), dim=-1)
        same = torch.tensor([[a == b for b in y] for a in y])
        sim = e @ e.T
        return float(sim[same].mean() - sim[~same].mean())

    before = separation()
    report = fewshot.few_label_teacher(model, tok, x, y, settings)
    assert report["pairs"] == 10 * 2 * len(x) and report["loss_last"] < report["loss_first"]
    assert separation() > before + 0.2
    assert report["head_train_accuracy"] > 0.9
    assert distill.evaluate(model, tok, x, y, max_length=32)["accuracy"] == pytest.approx(report["head_train_accuracy"])


def test_confidence_weights_scale_only_unlabelled_rows():
    logits = torch.tensor([[4.0, 0.0], [0.0, 0.0]])  # confident, unsure (0.5)
    w = distill.confidence_weights(logits, min_confidence=0.6)
    assert w[0] == pytest.approx(torch.softmax(logits[0], -1).max()) and w[1] == 0
    soft = torch.softmax(logits / 2, -1)
    student = torch.tensor([[0.0, 3.0], [0.0, 3.0]])
    y = torch.tensor([distill.UNLABELLED, distill.UNLABELLED])
    plain = distill.student_loss(student, y, soft, 0.1, 2.0)
    weighted = distill.student_loss(student, y, soft, 0.1, 2.0, w)
    assert 0 < weighted < plain
    labelled = torch.tensor([0, 1])
    assert distill.student_loss(student, labelled, soft, 0.1, 2.0, w) == distill.student_loss(student, labelled, soft, 0.1, 2.0)


def test_pseudo_labels_keep_the_surest_rows_per_intent_above_the_threshold():
    confidence = [0.9, 0.95, 0.4, 0.8, 0.99, 0.7, 0.6]
    predicted = ["a", "a", "a", "b", "a", "b", "b"]
    # a: 0.99 (4), 0.95 (1) kept; 0.9 over the cap of 2; 0.4 under the threshold. b: 0.8 (3), 0.7 (5); 0.6 over the cap
    assert fewshot.pseudo_labels(confidence, predicted, min_confidence=0.5, per_intent=2) == [4, 1, 3, 5]
    assert fewshot.pseudo_labels(confidence, predicted, min_confidence=0.85, per_intent=10) == [4, 1, 0]
    assert fewshot.pseudo_labels([0.7, 0.7], ["a", "a"], 0.5, 1) == [0]  # ties: the earlier row
    assert fewshot.pseudo_labels([], [], 0.5, 3) == []
    with pytest.raises(ValueError, match="2 confidences and 1 predictions"):
        fewshot.pseudo_labels([0.9, 0.8], ["a"], 0.5, 3)


def test_self_training_teaches_the_teacher_its_own_confident_labels_round_by_round():
    rows = bitext_rows(INTENTS, per_intent=16, seed=7)
    labelled, unlabelled = rows[::4], [r[0] for i, r in enumerate(rows) if i % 4]
    x, y = [r[0] for r in labelled], [r[1] for r in labelled]
    tok = modular.load_tokenizer()
    model = modular.tiny_encoder(INTENTS, num_hidden_layers=2, seed=0)
    fewshot.few_label_teacher(model, tok, x, y, fewshot.ContrastiveSettings(iterations=5, lr=2e-3, freeze_embeddings=False,
                                                                           max_length=32))
    settings = fewshot.SelfTrainingSettings(rounds=2, min_confidence=0.0, per_intent=3)
    first_px, first_py = fewshot.pseudo_labelled(model, tok, unlabelled, settings, 1, max_length=32)
    assert len(first_px) == len(first_py) <= 3 * len(INTENTS)
    assert all(first_py.count(i) <= 3 for i in INTENTS) and set(first_px) <= set(unlabelled)
    seen = []
    training = distill.TrainSettings(epochs=1, lr=1e-3, batch_size=8, max_length=32, seed=0)
    rounds = fewshot.self_train(model, tok, x, y, unlabelled, settings, training,
                                progress_for=lambda r, n: seen.append((r, n)) or None)
    assert [r.round for r in rounds] == [1, 2]
    assert rounds[0].pseudo_labelled == len(first_px) and rounds[1].pseudo_labelled <= 6 * len(INTENTS)
    assert rounds[1].pseudo_labelled > rounds[0].pseudo_labelled  # round r keeps up to r x per_intent
    assert seen == [(1, len(x) + rounds[0].pseudo_labelled), (2, len(x) + rounds[1].pseudo_labelled)]
    assert all(r.log.steps > 0 for r in rounds)
    # nothing reaches a confidence of 1.0: no round runs and the model is left as it was
    before = {k: v.clone() for k, v in model.state_dict().items()}
    none = fewshot.self_train(model, tok, x, y, unlabelled, settings.model_copy(update={"min_confidence": 1.0}), training)
    assert none == [] and all(torch.equal(before[k], v) for k, v in model.state_dict().items())
