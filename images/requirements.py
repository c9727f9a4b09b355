"""Print the pinned requirements of the project's base set and the given extras, one a line.

The Dockerfiles install dependencies in layers of their own, before the project's code is
copied in, so that a change to the code rebuilds only the top layer. pip cannot install a
project's dependencies without the project, so this reads them from pyproject.toml (one source
of truth; requirements.lock pins the rest as constraints). Packages listed in
``[tool.ecc-fleet.images] no-deps`` are left out, or printed alone with ``--no-deps-only`` (the
Dockerfiles install those with ``pip install --no-deps``). Standard library only: it runs in
the image's bare Python.

    python3 images/requirements.py pyproject.toml [--extra ml] [--only-extras] [--no-deps-only]
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def requirements(pyproject: dict, extras: list[str], only_extras: bool = False, no_deps_only: bool = False) -> list[str]:
    project = pyproject["project"]
    known = project.get("optional-dependencies", {})
    unknown = [e for e in extras if e not in known]
    if unknown:
        raise SystemExit(f"unknown extra(s) {', '.join(unknown)}: pyproject.toml defines {', '.join(sorted(known))}")
    lines = [] if only_extras else list(project["dependencies"])
    for extra in extras:
        lines.extend(known[extra])
    no_deps = {_name(n) for n in pyproject.get("tool", {}).get("ecc-fleet", {}).get("images", {}).get("no-deps", [])}
    return [line for line in lines if (_name(line) in no_deps) == no_deps_only]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pyproject")
    parser.add_argument("--extra", action="append", default=[], help="an optional-dependencies group (repeatable)")
    parser.add_argument("--only-extras", action="store_true", help="leave out the base dependencies")
    parser.add_argument("--no-deps-only", action="store_true",
                        help="print only the packages to install without their dependencies")
    args = parser.parse_args(argv)
    with open(args.pyproject, "rb") as f:
        data = tomllib.load(f)
    lines = requirements(data, args.extra, args.only_extras, args.no_deps_only)
    sys.stdout.write("".join(line + "\n" for line in lines))


if __name__ == "__main__":
    main()
