"""Corpora with official splits for benchmarks/learning.py: the converter that vendors them
(benchmarks/corpora/convert.py), the --train/--test loading (validation carved from train,
never from test) and the frozen-encoder baseline. Small data, a tiny random encoder: seconds."""

import csv
import hashlib
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from ecc_workloads.learning import modular
from ecc_workloads.data.corpus import Example, example_id
from scriptkit import load_script

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[2]
CORPORA = ROOT / "benchmarks" / "corpora"


@pytest.fixture(scope="module")
def bench():
    return load_script("learning_benchmark_corpora", ROOT / "benchmarks" / "learning.py")


@pytest.fixture(scope="module")
def convert():
    return load_script("corpora_convert", CORPORA / "convert.py")


def _read_csv(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# ---------------------------------------------------------------------- converter
HWU_HEADER = "answerid;scenario;intent;answer_annotation;answer_from_anno;answer_from_user\n"


def _fake_hwu64(root: Path, convert) -> None:
    fold = root / convert.HWU64_FOLD
    (fold / "trainset").mkdir(parents=True)
    (fold / "testset" / "csv").mkdir(parents=True)
    (fold / "trainset" / "alarm_set.csv").write_text(
        HWU_HEADER + '1;alarm;set;"wake me up at [time : five am]";"wake me up at five am";"Wake me up at 5am."\n'
        '2;alarm;set;"set an alarm";"set an alarm";"Set an alarm"\n')
    (fold / "trainset" / "play_music.csv").write_text(
        HWU_HEADER + '3;play;music;"play [artist_name : queen]";"play queen";"Play Queen"\n')
    (fold / "testset" / "csv" / "alarm_set.csv").write_text(
        HWU_HEADER + '4;alarm;set;"set an alarm";"set an alarm";"set an alarm"\n'
        '5;alarm;set;"alarm for [date : monday]";"alarm for monday";"alarm for monday"\n')
    (fold / "testset" / "annotated").mkdir(parents=True)  # other folders are not read
    (root / "LICENSE").write_text("CC BY 4.0 text\n")


def test_hwu64_conversion_uses_fold_1_and_answer_from_anno(convert, tmp_path):
    _fake_hwu64(tmp_path / "src", convert)
    source = convert.convert("hwu64", convert.open_tree(tmp_path / "src"), tmp_path / "out")
    train, test = _read_csv(tmp_path / "out" / "train.csv"), _read_csv(tmp_path / "out" / "test.csv")
    assert [(r["text"], r["label"]) for r in train] == [
        ("wake me up at five am", "alarm_set"), ("set an alarm", "alarm_set"), ("play queen", "play_music")]
    assert [r["text"] for r in test] == ["set an alarm", "alarm for monday"]
    assert source["outputs"]["train.csv"] == {
        "rows": 3, "labels": 2, "sha256": hashlib.sha256((tmp_path / "out" / "train.csv").read_bytes()).hexdigest()}
    assert source["test_texts_also_in_train"] == 1
    assert (tmp_path / "out" / "LICENSE").read_text() == "CC BY 4.0 text\n"
    assert json.loads((tmp_path / "out" / "SOURCE.json").read_text())["files"]["test"] == [
        f"{convert.HWU64_FOLD}/testset/csv/alarm_set.csv"]


def test_snips_conversion_joins_chunks_and_reads_latin1(convert, tmp_path):
    src = tmp_path / "src"
    for intent in convert.SNIPS_INTENTS:
        folder = src / convert.SNIPS_DIR / intent
        folder.mkdir(parents=True)
        train = {intent: [{"data": [{"text": "play "}, {"text": "Beyoncé", "entity": "artist"}, {"text": " now"}]}]}
        test = {intent: [{"data": [{"text": f"query for {intent}"}]}]}
        encoding = "latin-1" if intent == "PlayMusic" else "utf-8"
        (folder / f"train_{intent}_full.json").write_bytes(json.dumps(train, ensure_ascii=False).encode(encoding))
        (folder / f"validate_{intent}.json").write_text(json.dumps(test))
    (src / "LICENSE").write_text("CC0\n")
    source = convert.convert("snips", convert.open_tree(src), tmp_path / "out")
    train = _read_csv(tmp_path / "out" / "train.csv")
    assert len(train) == 7 and {r["text"] for r in train} == {"play Beyoncé now"}
    assert {r["label"] for r in train} == set(convert.SNIPS_INTENTS)
    assert source["outputs"]["test.csv"]["rows"] == 7 and source["test_texts_also_in_train"] == 0


def test_git_source_records_its_commit(convert, tmp_path):
    src = tmp_path / "src"
    _fake_hwu64(src, convert)
    git = ["git", "-C", str(src), "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "x"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    (src / "LICENSE").write_text("changed in the work tree, not committed\n")
    source = convert.convert("hwu64", convert.open_tree(src), tmp_path / "out")
    assert source["commit"] == head
    assert (tmp_path / "out" / "LICENSE").read_text() == "CC BY 4.0 text\n"  # read at the commit


@pytest.mark.parametrize("name,labels,train_rows,test_rows", [("hwu64", 64, 9960, 1076), ("snips", 7, 13784, 700)])
def test_vendored_corpora_match_their_provenance(name, labels, train_rows, test_rows):
    folder = CORPORA / name
    source = json.loads((folder / "SOURCE.json").read_text())
    for split, rows in (("train.csv", train_rows), ("test.csv", test_rows)):
        data = (folder / split).read_bytes()
        assert hashlib.sha256(data).hexdigest() == source["outputs"][split]["sha256"]
        assert source["outputs"][split] | {"sha256": None} == {"rows": rows, "labels": labels, "sha256": None}
    train_labels = {r["label"] for r in _read_csv(folder / "train.csv")}
    assert {r["label"] for r in _read_csv(folder / "test.csv")} <= train_labels
    assert (folder / "LICENSE").stat().st_size > 1000 and (folder / "README.md").is_file()


# ---------------------------------------------------------------------- --train / --test
def _write(path: Path, rows: list[tuple[str, str]]) -> str:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label"])
        w.writerows(rows)
    return str(path)


def _train_rows() -> list[tuple[str, str]]:
    return [(f"please {verb} the {thing} number {i}", verb) for verb in ("open", "close", "move")
            for thing in ("door", "window") for i in range(10)]


def test_validation_is_carved_from_train_never_from_test(bench, tmp_path):
    train_file = _write(tmp_path / "train.csv", _train_rows())
    test_rows = [("open the gate", "open"), ("open the gate", "open"), ("shut it all", "close"), ("sing a song", "sing")]
    test_file = _write(tmp_path / "test.csv", test_rows)
    spec = bench.CorpusSpec(text_col="text", label_col="label")
    corpus, parts, report = bench.load_official_split(train_file, test_file, spec, seed=13, val_fraction=0.2)
    train_texts = {t for t, _ in _train_rows()}
    assert {ex.text for ex in parts["val"]} <= train_texts and {ex.text for ex in parts["train"]} <= train_texts
    assert not {ex.id for ex in parts["val"]} & {ex.id for ex in parts["train"]}
    assert len(parts["val"]) == 12 and {ex.label for ex in parts["val"]} == {"open", "close", "move"}  # 20 % per label
    assert [ex.text for ex in parts["test"]] == sorted((t for t, _ in test_rows), key=example_id)  # whole, duplicates kept
    assert {ex.text for ex in corpus.examples} == train_texts  # drift/robustness never see test rows
    assert report["clean"]["test"]["rows_out"] == 4 and report["test_texts_also_in_train"] == 0
    # the test file has no say in train/val: another test file gives the same train and val
    _, again, _ = bench.load_official_split(train_file, _write(tmp_path / "other.csv", [("x y", "open")]), spec, 13, 0.2)
    assert [ex.id for ex in again["val"]] == [ex.id for ex in parts["val"]]
    assert [ex.id for ex in again["train"]] == [ex.id for ex in parts["train"]]


def test_train_test_flags(bench):
    source, spec, bitext = bench.corpus_spec(bench.parse_args(["--train", "a.csv", "--test", "b.csv", "--out", "o"]))
    assert (source, spec.text_col, spec.label_col, bitext) == ("a.csv", "text", "label", False)
    with pytest.raises(SystemExit, match="go together"):
        bench.corpus_spec(bench.parse_args(["--train", "a.csv", "--out", "o"]))
    with pytest.raises(SystemExit, match="go together"):
        bench.corpus_spec(bench.parse_args(["--train", "a.csv", "--test", "b.csv", "--corpus", "c.csv", "--out", "o"]))
    with pytest.raises(SystemExit, match="val-fraction"):
        bench.corpus_spec(bench.parse_args(["--train", "a.csv", "--test", "b.csv", "--val-fraction", "1", "--out", "o"]))


# ---------------------------------------------------------------------- frozen baseline
def test_choose_c_uses_validation_and_breaks_ties_towards_smaller_c(bench):
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(-3, 0.3, (20, 4)), rng.normal(3, 0.3, (20, 4))])
    y = np.array(["a"] * 20 + ["b"] * 20)
    c, scores = bench.choose_c(x, y, x[::2], y[::2], grid=(0.1, 1.0, 10.0))
    assert scores == {0.1: 1.0, 1.0: 1.0, 10.0: 1.0} and c == 0.1
    with pytest.raises(ValueError, match="empty"):
        bench.choose_c(x, y, x[:0], y[:0])


def _examples(bench, rows):
    return [Example(id=example_id(t), text=t, label=label) for t, label in rows]


@pytest.fixture(scope="module")
def tiny_ctx(bench, tmp_path_factory):
    return bench.Context(tokenizer=modular.load_tokenizer(),
                         make_model=lambda labels: modular.tiny_encoder(labels, num_hidden_layers=2, seed=0),
                         settings=bench.BenchSettings(mode="smoke"), workdir=tmp_path_factory.mktemp("b"), threads=1,
                         log=lambda msg: None)


def test_frozen_baseline_learns_and_never_chooses_on_test(bench, tiny_ctx):
    words = {"weather": ["rain", "sunny", "forecast", "storm"], "music": ["song", "album", "guitar", "playlist"],
             "alarm": ["alarm", "wake", "snooze", "clock"]}
    rows = [(f"{w} {v} {i}", label) for label, ws in words.items() for w in ws for v in ws for i in range(2)]
    examples = _examples(bench, rows)
    train, val, test = examples[0::3], examples[1::3], examples[2::3]
    labels = sorted(words)
    out = bench.run_frozen_baseline(tiny_ctx, labels, train, val, test)
    assert out["test"]["accuracy"] >= 0.9 and out["test"]["n"] == len(test)
    assert out["chosen_c"] in bench.BASELINE_C_GRID
    # wrong test labels change the test score, never the choice or the validation figures
    flipped = [ex.model_copy(update={"label": labels[(labels.index(ex.label) + 1) % 3]}) for ex in test]
    again = bench.run_frozen_baseline(tiny_ctx, labels, train, val, flipped)
    assert (again["chosen_c"], again["val_by_c"], again["val"]) == (out["chosen_c"], out["val_by_c"], out["val"])
    assert again["test"]["accuracy"] <= 0.1


def test_baseline_summary_is_pure(bench):
    dist = {"baseline": {"test": {"accuracy": 0.90}, "chosen_c": 10.0},
            "profiles": {"teacher": {"kind": "teacher", "test": {"accuracy": 0.92}},
                         "s01": {"kind": "shared", "shipped": {"test": {"accuracy": 0.89}}},
                         "sep024": {"kind": "separate", "shipped": {"test": {"accuracy": 0.5}}}}}
    out = bench.baseline_summary(dist)
    assert out.keys() == {"baseline_acc", "baseline_c", "teacher_minus_baseline", "s01_shipped_gap_to_teacher"}
    assert out["teacher_minus_baseline"] == pytest.approx(0.02) and out["s01_shipped_gap_to_teacher"] == pytest.approx(0.03)
