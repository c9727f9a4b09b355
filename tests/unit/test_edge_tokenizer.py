"""The node's tokenizer (edge_tokenizer) gives the ids transformers' tokenizer gives, on every row
of the packaged corpus, two other public corpora and hostile strings, in both ways a node calls
it; and an agent that has loaded a model still has not imported transformers."""

from __future__ import annotations

import copy
import csv
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ecc_workloads.learning import modular
from ecc_workloads.data.datasets import bitext_csv

CORPORA = Path(__file__).resolve().parents[2] / "benchmarks" / "corpora"
HOSTILE = ["", " ", "a" * 5000, "é" * 300, "\u200b\u200d\ufeff", "日本語のテキスト", "🙂" * 50, "x\x00y", "Ǆ ǅ ǆ ﬁ",
           "[CLS] [SEP] [PAD] [MASK]", "  leading and trailing  ", "tab\tnew\nline", "ÄÖÜ ß Å Ø"]


def texts() -> list[str]:
    with open(bitext_csv(), newline="") as f:
        rows = [r["instruction"] for r in csv.DictReader(f)]
    for name in ("hwu64", "snips"):
        with open(CORPORA / name / "test.csv", newline="") as f:
            rows += [r["text"] for r in csv.DictReader(f)]
    return rows + HOSTILE


@pytest.fixture(scope="module")
def pair():
    return modular.load_tokenizer(), modular.load_edge_tokenizer(sha256=modular.tokenizer_sha256())


def test_the_same_ids_as_transformers_for_every_row(pair):
    reference, edge = pair
    rows = texts()
    assert len(rows) > 6_000
    for max_length in (16, 64):
        want = reference(rows, truncation=True, max_length=max_length)["input_ids"]
        got = edge(rows, truncation=True, max_length=max_length)["input_ids"]
        assert got == want
    for start in range(0, 2000, 250):  # padded batches of tensors, as the predictor asks
        batch = rows[start:start + 250] + HOSTILE
        want_ids, want_mask = modular.tokenize(reference, batch, 64)
        got_ids, got_mask = modular.tokenize(edge, batch, 64)
        assert torch.equal(got_ids, want_ids) and torch.equal(got_mask, want_mask)
    assert edge.pad_token_id == reference.pad_token_id


def test_copies_do_not_share_settings_and_a_changed_file_is_refused(pair, tmp_path):
    _, edge = pair
    clone = copy.deepcopy(edge)
    clone(["a b c"], truncation=True, max_length=3)
    assert edge(["a b c d e f"], padding=True, return_tensors="pt")["input_ids"].shape[1] == 8  # untruncated
    with pytest.raises(modular.TokenizerError, match="the manifest pins"):
        modular.load_edge_tokenizer(sha256="0" * 64)


def test_an_agent_serving_a_model_has_not_imported_transformers():
    code = ("import sys\n"
            "from ecc_workloads.agent import model, runner\n"
            "from ecc_workloads.learning import modular\n"
            "from ecc_workloads.serving.predictor import IntentPredictor\n"
            "m = modular.tiny_encoder(['a', 'b'], num_hidden_layers=1)\n"
            "p = IntentPredictor(m, modular.load_edge_tokenizer(), 'teacher')\n"
            "p.forward(['where is my parcel'])\n"
            "print(sorted(k for k in sys.modules if k.split('.')[0] in ('transformers', 'kserve', 'peft', 'sklearn',"
            " 'datasets') or k.startswith('torch._dynamo')))\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]", run.stdout
