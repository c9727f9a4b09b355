"""Scripts that are not in a package (benchmarks/*.py) imported as modules by the tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def load_script(name: str, path: Path):
    """The module of the script at `path`, registered as `name` (dataclasses resolve annotations
    through sys.modules)."""
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod
