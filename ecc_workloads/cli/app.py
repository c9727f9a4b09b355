"""The `ecc` command: one entry point, sub-commands mounted from the modules that own them.

Sub-apps are imported lazily-enough: each module keeps torch/transformers imports
inside its command functions, so `ecc --help` stays fast. The development tools (the local
cluster, binaries, images) are `ecc-dev` (ecc_devcluster.cli), never mounted here.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="ecc",
    help="ECC Fleet: end-cloud collaborative learning for fleets of edge devices.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

# (module, attribute, name, help)
_SUB_APPS: list[tuple[str, str, str, str]] = [
    ("ecc_workloads.cli.corpus", "app", "corpus", "Prepare a corpus: read, clean, scrub PII, split."),
]
_COMMANDS: list[tuple[str, str, str]] = [
    # (module, function, command name) — single commands mounted at the top level.
    ("ecc_workloads.cli.serve", "serve_teacher", "serve-teacher"),
    ("ecc_workloads.serving.bundle_fetch", "fetch_bundle_command", "fetch-bundle"),
    ("ecc_workloads.cli.agent", "edge_agent", "edge-agent"),
    ("ecc_workloads.cli.job", "job_command", "job"),
]
_MERGED_APPS: list[str] = [
    # modules whose typer `app` commands appear at the top level (ecc distill, ecc merge-back)
    "ecc_workloads.cli.learning",
    "ecc_workloads.cli.sim",
]


def _mount() -> None:
    for module_name, attr, name, help_text in _SUB_APPS:
        app.add_typer(getattr(importlib.import_module(module_name), attr), name=name, help=help_text)
    for module_name, func, name in _COMMANDS:
        module = importlib.import_module(module_name)
        app.command(name)(getattr(module, func))
    for module_name in _MERGED_APPS:
        module = importlib.import_module(module_name)
        app.registered_commands.extend(module.app.registered_commands)


_mount()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
