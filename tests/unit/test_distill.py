"""Teacher fine-tuning, sandwich shared-weight students, separately distilled students."""

import pytest
import torch

from ecc_workloads.learning import distill, modular
from ecc_workloads.learning.distill import TrainSettings

from _learning_rows import bitext_rows

torch.set_num_threads(1)
INTENTS = ["cancel_order", "track_order", "get_refund", "recover_password"]


@pytest.fixture(scope="module")
def data():
    rows = bitext_rows(INTENTS, per_intent=90, seed=3)
    train, test = rows[:280], rows[280:]
    return [r[0] for r in train], [r[1] for r in train], [r[0] for r in test], [r[1] for r in test]


@pytest.fixture(scope="module")
def tok():
    return modular.load_tokenizer()


FAST = dict(lr=2e-3, head_lr=5e-3, batch_size=32, max_length=32, freeze_embeddings=False)


@pytest.fixture(scope="module")
def teacher(data, tok):
    x, y, _, _ = data
    model = modular.tiny_encoder(INTENTS, num_hidden_layers=4, seed=0)
    log = distill.fine_tune_teacher(model, tok, x, y, TrainSettings(epochs=4, **FAST))
    assert log.steps == 4 * 9 and log.epoch_loss[-1] < log.epoch_loss[0]
    return model


def test_teacher_learns(teacher, data, tok):
    _, _, xt, yt = data
    m = distill.evaluate(teacher, tok, xt, yt)
    assert m["n"] == len(xt) == 80
    assert m["accuracy"] > 0.7, m  # chance is 0.25


def test_sandwich_trains_shared_modules_and_every_profile(teacher, data, tok):
    import copy

    x, y, xt, yt = data
    model = copy.deepcopy(teacher)
    model.add_profile("s1", [0])
    model.add_profile("s02", [0, 2])
    model.add_profile("s013", [0, 1, 3])
    emb_before = model.embeddings.word_embeddings.weight.clone()
    block3_before = model.blocks["3"].output.dense.weight.clone()
    log = distill.train_shared(model, tok, x, y, TrainSettings(epochs=2, **{**FAST, "freeze_embeddings": True}))
    # smallest profile every step; one random other profile every step
    assert log.profile_counts["s1"] == log.steps
    assert log.profile_counts["s02"] + log.profile_counts["s013"] == log.steps
    assert log.profile_counts["s02"] > 0 and log.profile_counts["s013"] > 0
    assert torch.equal(model.embeddings.word_embeddings.weight, emb_before), "frozen embeddings moved"
    assert not torch.equal(model.blocks["3"].output.dense.weight, block3_before)
    for prof in ("s1", "s02", "s013", "teacher"):
        acc = distill.evaluate(model, tok, xt, yt, profile=prof)["accuracy"]
        assert acc > 0.5, (prof, acc)


def test_separate_student_is_independent_of_teacher(teacher, data, tok):
    x, y, xt, yt = data
    before = {k: v.clone() for k, v in teacher.blocks["0"].state_dict().items()}
    student, log = distill.distill_separate_student(teacher, [0, 2], "sep02", tok, x, y, TrainSettings(epochs=2, **FAST))
    assert student.block_ids == [0, 2] and list(student.heads.keys()) == ["sep02"]
    for k, v in teacher.blocks["0"].state_dict().items():
        assert torch.equal(v, before[k]), "distilling a separate student changed the teacher"
    assert not torch.equal(student.blocks["0"].output.dense.weight, teacher.blocks["0"].output.dense.weight)
    assert distill.evaluate(student, tok, xt, yt)["accuracy"] > 0.5


def test_unlabelled_rows_learn_from_teacher_only():
    logits = torch.tensor([[2.0, 0.0], [0.0, 2.0]], requires_grad=True)
    soft = torch.tensor([[0.9, 0.1], [0.2, 0.8]])
    y = torch.tensor([distill.UNLABELLED, distill.UNLABELLED])
    kd_only = distill.student_loss(logits, y, soft, alpha=0.1, temperature=1.0)
    expected = torch.nn.functional.kl_div(torch.log_softmax(logits, -1), soft, reduction="batchmean")
    torch.testing.assert_close(kd_only, expected)
    y_lab = torch.tensor([0, 1])
    ce_only = distill.student_loss(logits, y_lab, None, alpha=0.1, temperature=1.0)
    torch.testing.assert_close(ce_only, torch.nn.functional.cross_entropy(logits, y_lab))


def test_bad_inputs_are_named(teacher, tok):
    with pytest.raises(ValueError, match="'nope'"):
        distill.fine_tune_teacher(teacher, tok, ["a"], ["nope"], TrainSettings())
    with pytest.raises(ValueError, match="differ in length"):
        distill.fine_tune_teacher(teacher, tok, ["a", "b"], ["cancel_order"], TrainSettings())
    with pytest.raises(ValueError, match="student profile"):
        distill.train_shared(modular.tiny_encoder(INTENTS), tok, ["a"], ["cancel_order"], TrainSettings())


def test_macro_f1():
    m = distill.classification_metrics([0, 0, 1, 1], [0, 1, 1, 1])
    assert m["accuracy"] == 0.75
    assert abs(m["macro_f1"] - (2 / 3 + 0.8) / 2) < 1e-9


def test_distilling_unlabelled_rows_from_a_teacher(teacher, data, tok):
    """Data efficiency: a few labelled rows plus unlabelled traffic labelled softly by the teacher."""
    x, y, xt, yt = data
    few = [label if i < 20 else None for i, label in enumerate(y)]
    student, log = distill.distill_separate_student(teacher, [0], "s0", tok, x, few, TrainSettings(epochs=3, **FAST))
    assert log.steps == 27
    teacher_acc = distill.evaluate(teacher, tok, xt, yt)["accuracy"]
    student_acc = distill.evaluate(student, tok, xt, yt)["accuracy"]
    assert student_acc > 0.5 and student_acc > teacher_acc - 0.3, (student_acc, teacher_acc)


def test_early_stopping_stops_after_patience_checks_and_keeps_the_best_checked_weights(data, tok):
    x, y, _, _ = data
    model = modular.tiny_encoder(INTENTS, num_hidden_layers=2, seed=0)
    model.add_profile("s0", [0])
    settings = TrainSettings(epochs=30, eval_every=3, patience=2, **FAST)
    seen = []

    class Reporter:
        def __call__(self, step, total, loss):
            pass

        def validated(self, step, total, score, best):
            seen.append((step, score, best))

    # validation = the first training rows: accuracy reaches its ceiling, then cannot improve
    log = distill.train_shared(model, tok, x, y, settings, progress=Reporter(), validation=(x[:64], y[:64]))
    assert log.planned_steps == 30 * 9
    assert log.stopped_early and log.steps < log.planned_steps
    steps = [s for s, _ in log.validation]
    assert steps == list(range(3, log.steps + 1, 3))
    scores = [v for _, v in log.validation]
    assert log.best_step == steps[scores.index(max(scores))]  # the first best check
    assert log.steps - log.best_step == 3 * 2
    assert [(s, v) for s, v, _ in seen] == log.validation
    # the model ends with the weights of the best check: its score is the best one again
    kept = sum(distill.evaluate(model, tok, x[:64], y[:64], p)["accuracy"] for p in ("teacher", "s0")) / 2
    assert kept == pytest.approx(log.best_score)


def test_without_patience_training_runs_its_epochs_and_min_steps_lifts_small_corpora(data, tok):
    x, y, _, _ = data
    model = modular.tiny_encoder(INTENTS, num_hidden_layers=2, seed=0)
    log = distill.fine_tune_teacher(model, tok, x[:40], y[:40], TrainSettings(epochs=1, min_steps=5, patience=0,
                                                                                **FAST),
                                    validation=(x[:40], y[:40]))
    assert log.planned_steps == log.steps == 5 and not log.stopped_early  # 2 steps an epoch, lifted to 5
    assert [s for s, _ in log.validation] == [5]  # interval: at least 20 steps, and the last step


def test_validation_rows_are_checked(data, tok):
    x, y, _, _ = data
    model = modular.tiny_encoder(INTENTS, num_hidden_layers=2, seed=0)
    with pytest.raises(ValueError, match="validation: 0 texts"):
        distill.fine_tune_teacher(model, tok, x, y, TrainSettings(**FAST), validation=([], []))
    with pytest.raises(ValueError, match="not in the model's label set"):
        distill.fine_tune_teacher(model, tok, x, y, TrainSettings(**FAST), validation=(x[:2], ["nope", "nope"]))


def test_length_grouped_batches_cover_every_row_once_and_pad_less():
    import random

    lengths = [random.Random(i).randint(3, 40) for i in range(1000)]
    grouped = distill.shuffled_batches(lengths, 32, random.Random(0))
    plain = distill.shuffled_batches(lengths, 32, random.Random(0), group_by_length=False)
    for batches in (grouped, plain):
        assert sorted(i for b in batches for i in b) == list(range(1000))
        assert sorted(len(b) for b in batches) == [1000 % 32] + [32] * 31

    def padded(batches):
        return sum(len(b) * max(lengths[i] for i in b) for b in batches)

    assert padded(grouped) < 0.7 * padded(plain)
    assert grouped == distill.shuffled_batches(lengths, 32, random.Random(0))  # seeded
    assert grouped != distill.shuffled_batches(lengths, 32, random.Random(1))
