"""`ecc serve-teacher`: serve a bundle (the teacher by default) with kserve.ModelServer.

Mount with ``app.command("serve-teacher")(serve_teacher)``; also runnable as
``python -m ecc_workloads.cli_serve``. torch and kserve are imported inside the command.
"""

from __future__ import annotations

import sys
from typing import Optional

import typer

from ecc_workloads.contracts import RuntimeEnv

DEFAULT_HOST = "127.0.0.1"


def _say(msg: str) -> None:
    print(f"serve-teacher: {msg}", file=sys.stderr, flush=True)


def serve_teacher(
    manifest: str = typer.Option(
        ..., help="bundle manifest: s3://bucket/key.json or a local .json file; or a revision's bundles "
        "prefix/directory (…/revisions/N/bundles/), where --profile picks the manifest"),
    profile: Optional[str] = typer.Option(
        None, help="profile to serve (default: teacher); must match the manifest when --manifest names one"),
    responses: Optional[str] = typer.Option(
        None, help="reply corpus, JSONL of instruction/intent/response rows: s3://bucket/key or a local path "
        "(default: responses.jsonl of the manifest's revision, if present)"),
    store: Optional[str] = typer.Option(
        None, help="where the modules are, if not in the manifest's own store: s3://bucket or a local directory"),
    http_port: int = typer.Option(8080, min=1, max=65535, help="HTTP port"),
    host: str = typer.Option(DEFAULT_HOST, envvar=RuntimeEnv.POD_IP, help="address to listen on"),
    model_name: str = typer.Option("ecc-intent", envvar=RuntimeEnv.MODEL_NAME, help="model name in the /v1 and /v2 routes"),
    max_length: int = typer.Option(64, min=8, help="tokens per utterance (longer ones are truncated)"),
    replies_per_intent: int = typer.Option(100, min=1, help="example exchanges indexed per intent"),
    index_threads: int = typer.Option(1, min=0, help="torch threads for embedding the reply corpus at start "
                                      "(0: all cores; more only helps on dedicated CPUs); requests use one thread"),
    max_batch: int = typer.Option(256, min=1, help="most utterances per request"),
) -> None:
    """Serve intent, confidence, scores and a suggested reply over KServe v1 and v2 HTTP."""
    import torch

    torch.set_num_threads(1)  # single-query latency: one thread (DESIGN, measured hints)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already set in this process

    try:
        from ecc_workloads import serving
    except ModuleNotFoundError as exc:
        if exc.name != "kserve":
            raise
        _say("refusing to start: serve-teacher needs kserve (the [serve] extra), which this installation "
             "lacks — the ecc-workloads image has it, the ecc-edge-agent image does not")
        raise typer.Exit(2) from exc
    from ecc_workloads.bundles import BundleError

    try:
        model = serving.build_model(
            manifest, profile=profile, responses_uri=responses, store=store, model_name=model_name,
            max_length=max_length, replies_per_intent=replies_per_intent, max_batch=max_batch, index_threads=index_threads, log=_say,
        )
    except (BundleError, serving.ServingError) as exc:
        _say(f"refusing to start: {exc}")
        raise typer.Exit(1) from exc
    _say(f"listening on http://{host}:{http_port} as model {model_name!r} "
         f"(v1: /v1/models/{model_name}:predict, v2: /v2/models/{model_name}/infer)")
    serving.serve(model, host, http_port)


def main() -> None:
    typer.run(serve_teacher)


if __name__ == "__main__":
    main()
