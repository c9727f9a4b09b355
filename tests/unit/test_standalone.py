"""The repository stands on its own: no file refers to a directory beside the checkout, the
Bitext corpus is package data with its licence, KServe's CRDs are vendored with theirs, and the
project's own licence is at the root."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path

import pytest

from ecc_workloads.data import datasets

REPO_ROOT = Path(__file__).resolve().parents[2]
SIBLING = "shared"
OUTSIDE_REFERENCES = re.compile(
    "|".join([
        re.escape("../" + SIBLING),  # the relative path
        SIBLING + r"""["']?\s*/\s*["']?(datasets|third_party)""",  # its subdirectories, as text or Path parts
        r"""\.parent\s*/\s*["']""" + SIBLING + r"""["']""",  # a Path beside the checkout root
    ])
)
"""References to files beside the checkout (built in pieces so that this file does not match)."""


def repository_files() -> list[Path]:
    """Tracked files and untracked ones git does not ignore (so that a new file counts before
    its commit); files deleted in the work tree are left out."""
    run = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                         cwd=REPO_ROOT, capture_output=True, text=True)
    assert run.returncode == 0, f"git ls-files failed in {REPO_ROOT}: {run.stderr}"
    files = [REPO_ROOT / name for name in run.stdout.split("\0") if name]
    return [f for f in files if f.is_file()]


def test_no_file_refers_to_a_directory_beside_the_checkout():
    files = repository_files()
    assert len(files) > 100
    hits = []
    for path in files:
        text = path.read_bytes().decode("utf-8", errors="ignore")
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE_REFERENCES.search(line):
                hits.append(f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()[:120]}")
    assert not hits, ("files must not refer to anything outside the checkout (use ecc_workloads.data.datasets "
                      "or third_party/):\n" + "\n".join(hits))


def test_the_pattern_finds_each_form_of_reference():
    for line in ("see ../" + SIBLING + "/DESIGN.md", SIBLING + "/datasets/x.csv",
                 f'REPO.parent / "{SIBLING}" / "datasets"', f'root / "{SIBLING}/third_party"'):
        assert OUTSIDE_REFERENCES.search(line), line
    for line in ("shared-weight students", "modules are shared by all revisions", "a shared dict"):
        assert not OUTSIDE_REFERENCES.search(line), line


def test_bitext_is_package_data_with_its_licence_and_provenance(monkeypatch):
    monkeypatch.delenv(datasets.RuntimeEnv.BITEXT_CSV, raising=False)
    csv_path = datasets.bitext_csv()
    assert csv_path.is_file() and csv_path.parent == REPO_ROOT / "ecc_workloads" / "data" / "bitext"
    licence = (csv_path.parent / "LICENSE.txt").read_text(encoding="utf-8")
    assert "Community Data License Agreement" in licence and "Sharing" in licence
    readme = (csv_path.parent / "README.md").read_text(encoding="utf-8")
    assert hashlib.sha256(csv_path.read_bytes()).hexdigest() in readme  # the file the README describes
    assert datasets.bitext_source() == str(csv_path)
    assert datasets.resolve_corpus_source("bitext") == str(csv_path)
    assert datasets.resolve_corpus_source("s3://b/k.csv") == "s3://b/k.csv"


def test_bitext_source_honours_the_environment(monkeypatch):
    monkeypatch.setenv(datasets.RuntimeEnv.BITEXT_CSV, "/data/mine.csv")
    assert datasets.bitext_source() == "/data/mine.csv"
    assert datasets.bitext_csv().name == "bitext_customer_support.csv"  # the packaged copy stays the packaged copy


def test_a_missing_packaged_file_is_named_with_what_ships_it():
    with pytest.raises(FileNotFoundError, match=r"data/nosuch\.csv.*package-data"):
        datasets.packaged_file("data", "nosuch.csv")


def test_prepare_reads_the_builtin_corpus_by_name_and_ships_its_licence(tmp_path):
    from typer.testing import CliRunner

    from ecc_workloads.cli.corpus import app
    from ecc_workloads.contracts import JobReport

    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["prepare", "bitext", "--out", str(out), "--no-scrub"])  # preset: bitext's own
    assert result.exit_code == 0, result.output
    assert JobReport.model_validate_json((out / "report.json").read_text()).succeeded
    assert (out / "LICENSE.txt").read_bytes() == (datasets.bitext_csv().parent / "LICENSE.txt").read_bytes()
    card = json.loads((out / "datacard.json").read_text())
    assert card["source"] == str(datasets.bitext_csv()) and card["rows_in"] == 4514
    assert set(card["domains"]) == {"base", "colloquial", "keyword", "typos"}


def test_kserve_crds_are_vendored_with_their_licence_and_source():
    d = REPO_ROOT / "third_party" / "kserve-crds"
    assert len(list(d.glob("*.yaml"))) == 3
    assert "Apache License" in (d / "LICENSE").read_text() and "Version 2.0" in (d / "LICENSE").read_text()
    readme = (d / "README.md").read_text()
    assert "kserve/kserve" in readme and re.search(r"commit `[0-9a-f]{40}`", readme)


def test_the_project_licence_is_the_full_apache_2_0_text():
    text = (REPO_ROOT / "LICENSE").read_text()
    assert text.lstrip().startswith("Apache License\n                           Version 2.0, January 2004")
    for section in ("TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION", "9. Accepting Warranty",
                    "END OF TERMS AND CONDITIONS", "APPENDIX: How to apply the Apache License to your work."):
        assert section in text, section
