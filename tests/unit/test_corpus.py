"""Corpus reading (CSV with newlines in quoted fields, JSONL), column errors, domain rule,
cleaning (normalisation, empties, exact and near duplicates, scrubbing before de-duplication)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecc_workloads.data import corpus, datasets
from ecc_workloads.data.corpus import CorpusError, CorpusSpec, DomainRule, DomainRuleEntry

BITEXT = datasets.bitext_csv()


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_csv_with_newlines_in_quoted_fields(tmp_path):
    src = _write(
        tmp_path,
        "c.csv",
        'utt,intent,reply\n"hello there","greet","Hi!\nHow can I help,\nreally?"\n"bye","leave","Bye"\n',
    )
    rows = corpus.read_records(src)
    assert [r["utt"] for r in rows] == ["hello there", "bye"]
    assert rows[0]["reply"] == "Hi!\nHow can I help,\nreally?"


def test_jsonl_reading_and_bad_line(tmp_path):
    src = _write(tmp_path, "c.jsonl", '{"t": "a b", "l": "x"}\n\n{"t": "c d", "l": "y"}\n')
    assert [r["l"] for r in corpus.read_records(src)] == ["x", "y"]
    bad = _write(tmp_path, "bad.jsonl", '{"t": "a"}\nnot json\n')
    with pytest.raises(CorpusError, match="line 2"):
        corpus.read_records(bad)


def test_unknown_format_and_missing_file(tmp_path):
    with pytest.raises(CorpusError, match="format"):
        corpus.read_records(_write(tmp_path, "c.txt", "x"))
    with pytest.raises(CorpusError, match="not found"):
        corpus.read_records(str(tmp_path / "nope.csv"))


def test_missing_column_names_it_and_lists_present(tmp_path):
    rows = corpus.read_records(_write(tmp_path, "c.csv", "utt,intent\nhi,greet\n"))
    spec = CorpusSpec(text_col="utt", label_col="label")
    with pytest.raises(CorpusError) as err:
        corpus.check_columns(rows, spec, "c.csv")
    assert "'label' (label_col)" in str(err.value) and "columns present: utt, intent" in str(err.value)


def test_domain_col_and_rule_are_exclusive():
    with pytest.raises(ValueError, match="not both"):
        CorpusSpec(text_col="t", label_col="l", domain_col="d", domain_rule=corpus.BITEXT_DOMAIN_RULE)


def test_domain_rule_precedence_and_default():
    rule = corpus.BITEXT_DOMAIN_RULE
    assert rule.domain_of("BIL") == "base"
    assert rule.domain_of("BQL") == "colloquial"
    assert rule.domain_of("BQZ") == "typos"
    assert rule.domain_of("BKZ") == "typos"
    assert rule.domain_of("BKQ") == "keyword"
    custom = DomainRule(column="tags", tag_format="comma", rules=[DomainRuleEntry(domain="voice", require=["asr"])])
    assert custom.domain_of("web, asr") == "voice"
    assert custom.domain_of("web") is None


def test_cleaning_counts_removals_by_reason():
    records = [
        {"t": "  Cancel   my order\u00a0please ", "l": "cancel"},
        {"t": "Cancel my order please", "l": "cancel"},  # exact duplicate after normalisation
        {"t": "cancel my order, please!", "l": "cancel"},  # near duplicate
        {"t": "", "l": "cancel"},
        {"t": "hello", "l": ""},
        {"t": "track order 12345678", "l": "track"},
        {"t": "track order 99887766", "l": "track"},  # duplicate once scrubbed
        {"t": "where is it", "l": "track"},
        {"t": "where is it?", "l": "cancel"},  # near-duplicate group with two labels
    ]
    result = corpus.clean(records, CorpusSpec(text_col="t", label_col="l"))
    texts = sorted(ex.text for ex in result.examples)
    assert texts == ["Cancel my order please", "track order {{ORDER_ID}}"]
    assert result.report.removed == {
        "conflicting_labels": 2,
        "empty_text": 1,
        "exact_duplicate": 2,
        "missing_label": 1,
        "near_duplicate": 1,
    }
    assert result.report.pii_spans == {"ORDER_ID": 2}
    assert result.report.rows_in == 9 and result.report.rows_out == 2


def test_clean_is_independent_of_input_order():
    records = [{"t": f"Question number {i}!", "l": "q"} for i in range(5)] + [
        {"t": "question number 1", "l": "q"},
        {"t": "QUESTION NUMBER 2?", "l": "q"},
    ]
    spec = CorpusSpec(text_col="t", label_col="l")
    a = corpus.clean(records, spec).examples
    b = corpus.clean(list(reversed(records)), spec).examples
    assert [e.model_dump() for e in a] == [e.model_dump() for e in b]


def test_bitext_through_the_generic_pipeline():
    records = corpus.read_records(str(BITEXT))
    assert len(records) == 4514
    spec = corpus.BITEXT_SPEC.model_copy(update={"response_col": None})  # responses: slow, not needed here
    result = corpus.clean(records, spec)
    domains = {}
    for ex in result.examples:
        domains[ex.domain] = domains.get(ex.domain, 0) + 1
    assert set(domains) == {"base", "colloquial", "typos", "keyword"}
    assert not any("113542617735902" in ex.text or "Freeman" in ex.text for ex in result.examples)
    assert len({ex.label for ex in result.examples}) == 27
    assert result.report.rows_out == len(result.examples) > 4000


def test_write_jsonl_round_trip(tmp_path):
    exs = [corpus.Example(id="1", text="hi", label="greet", domain="base")]
    path = tmp_path / "x.jsonl"
    path.write_bytes(corpus.write_jsonl(exs))
    assert json.loads(path.read_text().splitlines()[0]) == {"id": "1", "text": "hi", "label": "greet", "domain": "base"}
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(corpus.BITEXT_SPEC.model_dump_json())
    assert corpus.load_spec(str(spec_file)) == corpus.BITEXT_SPEC


def _tiny_corpus(tmp_path: Path) -> str:
    lines = ["text,intent,tags"]
    for i in range(10):
        pad_a, pad_b = "a" * (i + 1), "b" * (i + 1)
        lines.append(f'"please cancel order {40000 + i}, variant {pad_a}",cancel,BQ')
        lines.append(f'"where is my parcel, asked {pad_b}",track,BL')
    (tmp_path / "LICENSE.txt").write_text("test licence\n")
    return _write(tmp_path, "tiny.csv", "\n".join(lines) + "\n")


def test_prepare_writes_splits_card_report_and_licence(tmp_path):
    from typer.testing import CliRunner

    from ecc_workloads.cli.corpus import app
    from ecc_workloads.contracts import JobReport

    src = _tiny_corpus(tmp_path)
    spec = CorpusSpec(
        text_col="text",
        label_col="intent",
        domain_rule=DomainRule(column="tags", rules=[DomainRuleEntry(domain="colloquial", require=["Q"])], default="base"),
    )
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(spec.model_dump_json())
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["prepare", src, "--spec", str(spec_file), "--out", str(out), "--seed", "5"])
    assert result.exit_code == 0, result.output
    report = JobReport.model_validate_json((out / "report.json").read_text())
    assert report.succeeded and report.job == "corpus-prepare"
    assert report.metrics["rows_in"] == 20 and report.metrics["rows_out"] == 20
    rows = [json.loads(line) for name in ("train", "val", "test") for line in (out / f"{name}.jsonl").read_text().splitlines()]
    assert len(rows) == 20
    assert not any("4000" in r["text"] for r in rows) and any("{{ORDER_ID}}" in r["text"] for r in rows)
    card = json.loads((out / "datacard.json").read_text())
    assert card["domains"] == {"base": 10, "colloquial": 10}
    assert card["pii_spans"] == {"ORDER_ID": 10}
    assert (out / "LICENSE.txt").read_text() == "test licence\n"
    assert "| colloquial | 10 |" in (out / "datacard.md").read_text()


def test_prepare_failure_writes_a_failed_report_naming_the_column(tmp_path):
    from typer.testing import CliRunner

    from ecc_workloads.cli.corpus import app
    from ecc_workloads.contracts import JobReport

    src = _tiny_corpus(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["prepare", src, "--text-col", "text", "--label-col", "label", "--out", str(out)])
    assert result.exit_code == 1
    report = JobReport.model_validate_json((out / "report.json").read_text())
    assert not report.succeeded
    assert "'label' (label_col)" in report.message and "columns present: text, intent, tags" in report.message


def test_prepare_dedupe_option_is_the_cleaning_setting_and_rejects_unknown_values(tmp_path):
    from typer.testing import CliRunner

    from ecc_workloads.cli.corpus import app
    from ecc_workloads.contracts import CleaningSpec

    records = [{"t": "Cancel my order", "l": "c"}, {"t": "cancel my order!", "l": "c"}, {"t": "Cancel my order", "l": "c"}]
    kept = {d: len(corpus.clean(records, CorpusSpec(text_col="t", label_col="l", cleaning=CleaningSpec(dedupe=d))).examples)
            for d in ("none", "exact", "near")}
    assert kept == {"none": 3, "exact": 2, "near": 1}
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["prepare", _tiny_corpus(tmp_path), "--text-col", "text", "--label-col", "intent",
                                      "--dedupe", "fuzzy", "--out", str(out)])
    assert result.exit_code == 2 and not (out / "train.jsonl").exists()
    assert "cleaning.dedupe: Input should be 'none', 'exact' or 'near'" in result.output


def test_unlabelled_rows_are_kept_apart_cleaned_alike_and_lose_to_labelled_duplicates():
    records = [
        {"t": "Cancel my order please", "l": "cancel"},
        {"t": "cancel my order please!", "l": ""},  # near duplicate of a labelled row: dropped
        {"t": "Cancel my order please", "l": ""},  # exact duplicate of a labelled row: dropped
        {"t": "where is parcel 12345678", "l": ""},
        {"t": "where is parcel 99887766", "l": None},  # duplicate once scrubbed
        {"t": "is it shipped yet", "l": ""},
    ]
    spec = CorpusSpec(text_col="t", label_col="l")
    assert corpus.clean(records, spec).report.removed["missing_label"] == 5  # by default
    keep = spec.model_copy(update={"cleaning": spec.cleaning.model_copy(update={"keep_unlabelled": True})})
    for order in (records, list(reversed(records))):
        result = corpus.clean(order, keep)
        assert [(e.text, e.label) for e in result.examples] == [("Cancel my order please", "cancel")]
        assert sorted(e.text for e in result.unlabelled) == ["is it shipped yet", "where is parcel {{ORDER_ID}}"]
        assert all(e.label == "" for e in result.unlabelled)
        assert result.report.rows_out == 1 and result.report.unlabelled_out == 2
        assert result.report.removed == {"exact_duplicate": 2, "near_duplicate": 1}


def test_prepare_keeps_unlabelled_rows_out_of_the_splits(tmp_path):
    from typer.testing import CliRunner

    from ecc_workloads.cli.corpus import app
    from ecc_workloads.contracts import JobReport

    lines = ["text,intent"] + [f"cancel order number {i} now,cancel" for i in range(10)] + \
        [f"where is my parcel {chr(97 + i)},track" for i in range(10)] + [f"some question {chr(97 + i)}," for i in range(7)]
    src = _write(tmp_path, "c.csv", "\n".join(lines) + "\n")
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["prepare", src, "--text-col", "text", "--label-col", "intent", "--out", str(out),
                                   "--stratify", "label", "--keep-unlabelled", "--dedupe", "exact"])
    assert res.exit_code == 0, res.output
    split_rows = [json.loads(x) for n in ("train", "val", "test") for x in (out / f"{n}.jsonl").read_text().splitlines()]
    unlabelled = [json.loads(x) for x in (out / "unlabelled.jsonl").read_text().splitlines()]
    assert len(unlabelled) == 7 and all(r["label"] == "" for r in unlabelled)
    assert all(r["label"] in ("cancel", "track") for r in split_rows)
    report = JobReport.model_validate_json((out / "report.json").read_text())
    assert report.metrics["rows_unlabelled"] == 7 and report.metrics["labels"] == 2
