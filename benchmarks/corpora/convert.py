"""Regenerate the vendored intent corpora (train.csv / test.csv with columns text,label) from
their public source repositories.

Usage (either a checkout or a bare git directory, e.g. the one `git clone --mirror` makes):

    python benchmarks/corpora/convert.py hwu64 --repo PATH [--commit SHA] [--out benchmarks/corpora/hwu64]
    python benchmarks/corpora/convert.py snips --repo PATH [--commit SHA] [--out benchmarks/corpora/snips]

- hwu64: github.com/xliuhw/NLU-Evaluation-Data (CC BY 4.0). The authors' own fold 1 of their
  10-fold cross-validation: ``KFold_1/trainset/*.csv`` -> train, ``KFold_1/testset/csv/*.csv`` ->
  test (files under ``CrossValidation/autoGeneFromRealAnno/autoGene_2018_03_22-13_01_25_169/
  CrossValidation/``; semicolon-separated). text = ``answer_from_anno`` (the normalised answer
  with the entity brackets removed), label = ``<scenario>_<intent>``.
- snips: github.com/sonos/nlu-benchmark (CC0 1.0), ``2017-06-custom-intent-engines``: train =
  ``<Intent>/train_<Intent>_full.json``, test = ``<Intent>/validate_<Intent>.json``; text = the
  concatenated ``data[].text`` chunks, label = the intent. ``train_PlayMusic_full.json`` is
  Latin-1, every other file UTF-8.

Rows are written in source order (files sorted by name); nothing is dropped or de-duplicated
here: cleaning is ``ecc_workloads.corpus.clean``'s job when the benchmark reads the files.
``SOURCE.json`` beside the CSVs records the repository, commit, files, row counts and the
output files' sha256.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol

Row = tuple[str, str]
"""(text, label)"""

HWU64_REPO = "https://github.com/xliuhw/NLU-Evaluation-Data"
HWU64_FOLD = "CrossValidation/autoGeneFromRealAnno/autoGene_2018_03_22-13_01_25_169/CrossValidation/KFold_1"
SNIPS_REPO = "https://github.com/sonos/nlu-benchmark"
SNIPS_DIR = "2017-06-custom-intent-engines"
SNIPS_INTENTS = ("AddToPlaylist", "BookRestaurant", "GetWeather", "PlayMusic", "RateBook",
                 "SearchCreativeWork", "SearchScreeningEvent")


# ---------------------------------------------------------------------- reading a source tree
class SourceTree(Protocol):
    commit: str | None

    def read(self, path: str) -> bytes: ...

    def list(self, folder: str) -> list[str]: ...


@dataclass
class DirTree:
    """A checkout (or any directory holding the repository's files)."""

    root: Path
    commit: str | None = None

    def read(self, path: str) -> bytes:
        return (self.root / path).read_bytes()

    def list(self, folder: str) -> list[str]:
        return sorted(p.name for p in (self.root / folder).iterdir() if p.is_file())


@dataclass
class GitTree:
    """A git directory (bare or not), read at ``commit`` with ``git show`` / ``git ls-tree``."""

    git_dir: Path
    commit: str | None = None

    def __post_init__(self) -> None:
        self.commit = self._git("rev-parse", self.commit or "HEAD").decode().strip()

    def _git(self, *args: str) -> bytes:
        return subprocess.run(["git", "--git-dir", str(self.git_dir), *args], check=True, capture_output=True).stdout

    def read(self, path: str) -> bytes:
        return self._git("show", f"{self.commit}:{path}")

    def list(self, folder: str) -> list[str]:
        out = self._git("ls-tree", "--name-only", self.commit, folder.rstrip("/") + "/").decode()
        return sorted(PurePosixPath(line).name for line in out.splitlines() if line)


def open_tree(path: Path, commit: str | None = None) -> SourceTree:
    """A checkout with a .git directory or a bare git directory -> GitTree; else DirTree."""
    if (path / ".git").exists():
        return GitTree(path / ".git", commit)
    if (path / "HEAD").is_file() and (path / "objects").is_dir():
        return GitTree(path, commit)
    return DirTree(path, commit)


# ---------------------------------------------------------------------- HWU64
def hwu64_rows(data: bytes) -> list[Row]:
    """Rows of one KFold csv (``answerid;scenario;intent;answer_annotation;answer_from_anno;...``)."""
    reader = csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""), delimiter=";")
    return [(rec["answer_from_anno"].strip(), f"{rec['scenario']}_{rec['intent']}") for rec in reader]


def hwu64_split(tree: SourceTree) -> tuple[dict[str, list[Row]], dict[str, list[str]]]:
    """({"train": rows, "test": rows}, split -> source files)."""
    folders = {"train": f"{HWU64_FOLD}/trainset", "test": f"{HWU64_FOLD}/testset/csv"}
    parts: dict[str, list[Row]] = {}
    files: dict[str, list[str]] = {}
    for name, folder in folders.items():
        paths = [f"{folder}/{f}" for f in tree.list(folder) if f.endswith(".csv")]
        parts[name] = [row for p in paths for row in hwu64_rows(tree.read(p))]
        files[name] = paths
    return parts, files


# ---------------------------------------------------------------------- SNIPS
def decode_json(data: bytes) -> dict:
    """UTF-8, or Latin-1 for the one file that is not UTF-8."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return json.loads(text)


def snips_rows(data: bytes, intent: str) -> list[Row]:
    """Rows of one ``train_*_full.json`` / ``validate_*.json`` file."""
    items = decode_json(data)[intent]
    return [("".join(chunk["text"] for chunk in item["data"]).strip(), intent) for item in items]


def snips_split(tree: SourceTree) -> tuple[dict[str, list[Row]], dict[str, list[str]]]:
    patterns = {"train": "train_{}_full.json", "test": "validate_{}.json"}
    parts: dict[str, list[Row]] = {}
    files: dict[str, list[str]] = {}
    for name, pattern in patterns.items():
        paths = [(f"{SNIPS_DIR}/{i}/{pattern.format(i)}", i) for i in SNIPS_INTENTS]
        parts[name] = [row for p, i in paths for row in snips_rows(tree.read(p), i)]
        files[name] = [p for p, _ in paths]
    return parts, files


# ---------------------------------------------------------------------- writing
def csv_bytes(rows: list[Row]) -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["text", "label"])
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def overlap(parts: dict[str, list[Row]]) -> int:
    """Test rows whose exact text also occurs in train (reported, not removed: the split is the source's)."""
    train_texts = {text for text, _ in parts["train"]}
    return sum(1 for text, _ in parts["test"] if text in train_texts)


def write_corpus(parts: dict[str, list[Row]], files: dict[str, list[str]], out: Path, repo: str,
                 commit: str | None, licence: bytes) -> dict:
    """train.csv, test.csv, LICENSE and SOURCE.json under ``out``; returns SOURCE.json's content."""
    out.mkdir(parents=True, exist_ok=True)
    source: dict = {"repository": repo, "commit": commit, "files": files, "outputs": {}}
    for name, rows in parts.items():
        data = csv_bytes(rows)
        (out / f"{name}.csv").write_bytes(data)
        source["outputs"][f"{name}.csv"] = {"rows": len(rows), "labels": len({label for _, label in rows}),
                                           "sha256": hashlib.sha256(data).hexdigest()}
    source["test_texts_also_in_train"] = overlap(parts)
    (out / "LICENSE").write_bytes(licence)
    (out / "SOURCE.json").write_text(json.dumps(source, indent=2) + "\n")
    return source


CORPORA = {"hwu64": (hwu64_split, HWU64_REPO), "snips": (snips_split, SNIPS_REPO)}


def convert(name: str, tree: SourceTree, out: Path) -> dict:
    split_fn, repo = CORPORA[name]
    parts, files = split_fn(tree)
    return write_corpus(parts, files, out, repo, tree.commit, tree.read("LICENSE"))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("corpus", choices=sorted(CORPORA))
    p.add_argument("--repo", required=True, type=Path, help="checkout or git directory of the source repository")
    p.add_argument("--commit", help="commit to read (git sources; default HEAD)")
    p.add_argument("--out", type=Path, help="output folder (default: benchmarks/corpora/<corpus>)")
    args = p.parse_args(argv)
    out = args.out or Path(__file__).resolve().parent / args.corpus
    source = convert(args.corpus, open_tree(args.repo, args.commit), out)
    json.dump(source["outputs"], sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
