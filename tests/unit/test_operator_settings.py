"""kopf settings and the command line of the operator (no cluster)."""

from __future__ import annotations

import kopf
import pytest

from ecc_operator import __main__ as entry
from ecc_operator import settings as s


def test_progress_and_diffbase_live_in_annotations_and_watches_time_out():
    cfg = kopf.OperatorSettings()
    s.configure(cfg, peering_name="ecc-operator", priority=3)
    assert isinstance(cfg.persistence.progress_storage, kopf.AnnotationsProgressStorage)
    assert isinstance(cfg.persistence.diffbase_storage, kopf.AnnotationsDiffBaseStorage)
    assert cfg.watching.server_timeout and cfg.watching.client_timeout > cfg.watching.server_timeout
    assert cfg.watching.connect_timeout
    assert cfg.peering.name == "ecc-operator" and cfg.peering.priority == 3 and cfg.peering.mandatory
    assert not cfg.peering.standalone
    assert cfg.queueing.error_delays[0] > 0


def test_standalone_without_peering():
    cfg = kopf.OperatorSettings()
    s.configure(cfg, peering_name=None)
    assert cfg.peering.standalone


def test_command_line_defaults_and_namespaces(monkeypatch):
    monkeypatch.delenv(entry.BITEXT_CSV_ENV, raising=False)
    args = entry.parse_args(["--namespace", "a", "--namespace", "b", "--metrics-port", "0"])
    assert args.namespace == ["a", "b"] and args.metrics_port == 0 and args.peering == entry.DEFAULT_PEERING
    assert args.bitext_csv == "bitext"  # the built-in name: the Job reads its packaged copy
    assert not hasattr(args, "python")


def test_the_python_option_is_gone(capsys):
    # Pods run the images' `python` (workloads.WORKLOAD_PYTHON); the interpreter is no longer an option.
    with pytest.raises(SystemExit) as exc:
        entry.parse_args(["--python", "/usr/bin/python3"])
    assert exc.value.code == 2 and "unrecognized arguments: --python" in capsys.readouterr().err


def test_bitext_csv_is_overridden_by_the_environment_and_the_flag(monkeypatch):
    monkeypatch.setenv(entry.BITEXT_CSV_ENV, "s3://corpora/bitext.csv")
    assert entry.parse_args([]).bitext_csv == "s3://corpora/bitext.csv"
    assert entry.parse_args(["--bitext-csv", "/data/mine.csv"]).bitext_csv == "/data/mine.csv"


def test_replicas_without_an_explicit_priority_do_not_tie():
    from ecc_operator.__main__ import parse_args

    priorities = {parse_args(["--peering", "ecc-operator"]).priority for _ in range(20)}
    assert len(priorities) == 20 and all(p >= 1 for p in priorities)
    assert parse_args(["--priority", "7"]).priority == 7


def test_log_format_json_writes_one_json_object_per_line(capsys):
    import json
    import logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        entry.configure_logging("json", verbose=False)
        logging.getLogger("ecc_operator.test").info("reconciled %s", "demo/shop")
        lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
        record = json.loads(lines[-1])
        assert record["message"] == "reconciled demo/shop" and record["severity"] == "info"
    finally:
        root.handlers[:], root.level = handlers, level


def test_log_format_is_text_or_json():
    assert entry.parse_args(["--log-format", "json"]).log_format == "json"
    assert entry.parse_args([]).log_format == "text"
    with pytest.raises(SystemExit):
        entry.parse_args(["--log-format", "yaml"])

