"""Development code (the local cluster, binaries, images) stays out of what ships: `ecc` mounts
none of it and nothing the operator or a workload imports pulls ecc_devcluster in; the
development tools are their own console script, `ecc-dev`."""

from __future__ import annotations

import subprocess
import sys

import typer.main

PROBE = """
import importlib, pkgutil, sys
import ecc_operator, ecc_workloads
for pkg in (ecc_operator, ecc_workloads):
    for mod in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
        if mod.name.endswith("__main__"):
            continue
        importlib.import_module(mod.name)
import ecc_workloads.cli.app
print(sorted(m for m in sys.modules if m.startswith("ecc_devcluster")))
"""


def test_no_shipped_module_imports_the_development_package():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_ecc_has_no_development_commands_and_ecc_dev_has_them():
    from ecc_devcluster import cli as dev_cli
    from ecc_workloads.cli import app as cli

    shipped = set(typer.main.get_command(cli.app).commands)
    assert {"job", "distill", "merge-back", "corpus", "edge-agent"} <= shipped
    assert not {"dev", "binaries", "images", "up", "down"} & shipped
    dev = set(typer.main.get_command(dev_cli.app).commands)
    assert {"up", "down", "status", "env", "stop", "start", "binaries", "images"} <= dev
