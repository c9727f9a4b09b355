"""Data sets packaged with ecc_workloads, located through `importlib.resources` so that they are
found from an installed wheel or an image as well as from the checkout.

- `bitext` (`data/bitext/`): the Bitext customer-support corpus, the built-in corpus name of
  `contracts.BUILTIN_CORPORA`. CDLA-Sharing 1.0: its `LICENSE.txt` and `README.md` (source,
  commit, sha256) lie beside the CSV and travel with any copy.

Torch-free and cheap to import, like the package.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from ecc_workloads.contracts import BITEXT_CORPUS, BUILTIN_CORPORA, RuntimeEnv

BITEXT_CSV_RESOURCE = ("data", "bitext", "bitext_customer_support.csv")
"""Where the Bitext CSV lives inside the ecc_workloads package."""


def packaged_file(*parts: str) -> Path:
    """A file of the package's data as a path on disk. The package is installed as files (a
    checkout, an editable install or an unpacked wheel), never zipped, so a resource is a path."""
    resource = resources.files("ecc_workloads").joinpath(*parts)
    path = Path(str(resource))
    if not path.is_file():
        raise FileNotFoundError(
            f"packaged data file {'/'.join(parts)} not found at {path}: the ecc_workloads distribution "
            "must ship its data files (pyproject.toml [tool.setuptools.package-data] ecc_workloads)"
        )
    return path


def bitext_csv() -> Path:
    """The packaged Bitext CSV (its LICENSE.txt and README.md beside it)."""
    return packaged_file(*BITEXT_CSV_RESOURCE)


def bitext_source() -> str:
    """The Bitext CSV for readers that honour ${ECC_BITEXT_CSV}: that path (or s3:// URI) when
    set, else the packaged CSV."""
    return os.environ.get(RuntimeEnv.BITEXT_CSV) or str(bitext_csv())


def is_builtin_corpus(source: str) -> bool:
    """Whether `source` is a built-in corpus name rather than a path or an s3:// URI."""
    return source in BUILTIN_CORPORA


def builtin_corpus_file(name: str) -> Path:
    """The packaged file behind a built-in corpus name."""
    files = {BITEXT_CORPUS: bitext_csv}
    if name not in files:
        raise ValueError(f"unknown built-in corpus {name!r}: use one of {', '.join(sorted(files))}, "
                         "a local path or an s3:// URI")
    return files[name]()


def resolve_corpus_source(source: str) -> str:
    """A built-in corpus name -> its packaged file; a path or an s3:// URI unchanged."""
    return str(builtin_corpus_file(source)) if is_builtin_corpus(source) else source
