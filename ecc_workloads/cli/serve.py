"""`ecc serve-teacher`: serve a bundle (the teacher by default) with kserve.ModelServer.

Mount with ``app.command("serve-teacher")(serve_teacher)``; also runnable as
``python -m ecc_workloads.cli.serve``. torch and kserve are imported inside the command.

HTTPS with --tls-cert-file and --tls-key-file (both or neither; the operator always passes them,
contracts.TeacherTLS): they are checked before anything else is loaded, so a missing, unreadable
or mismatched file is a refusal naming the option, not a traceback from the server.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from ecc_workloads.contracts import RuntimeEnv

DEFAULT_HOST = "127.0.0.1"


def _say(msg: str) -> None:
    print(f"serve-teacher: {msg}", file=sys.stderr, flush=True)


class TLSFilesError(ValueError):
    """--tls-cert-file / --tls-key-file cannot be served with; the message names the option."""


def check_tls_files(cert_file: Path | None, key_file: Path | None) -> tuple[str, str] | None:
    """(certificate file, key file) to serve HTTPS with, None for plain HTTP; TLSFilesError unless
    both or neither are given, both are readable and the key belongs to the certificate."""
    from ecc_workloads import tls

    if cert_file is None and key_file is None:
        return None
    if cert_file is None or key_file is None:
        given, missing = ("--tls-cert-file", "--tls-key-file") if key_file is None else \
            ("--tls-key-file", "--tls-cert-file")
        raise TLSFilesError(f"{given} is given without {missing}: HTTPS needs both the certificate and its key "
                            f"(or neither, for plain HTTP)")
    texts = []
    for option, path in (("--tls-cert-file", cert_file), ("--tls-key-file", key_file)):
        try:
            texts.append(Path(path).read_text())
        except (OSError, UnicodeDecodeError) as exc:
            raise TLSFilesError(f"{option} {path}: cannot be read ({exc})") from exc
    try:
        tls.load_certificates(texts[0], f"--tls-cert-file {cert_file}")
        tls.server_context(texts[0], texts[1], f"--tls-cert-file {cert_file} with --tls-key-file {key_file}")
    except tls.CertificateError as exc:
        raise TLSFilesError(str(exc)) from exc
    return str(cert_file), str(key_file)


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
    tls_cert_file: Optional[Path] = typer.Option(
        None, envvar=RuntimeEnv.TLS_CERT_FILE, help="serve HTTPS with this PEM certificate (chain); needs "
        "--tls-key-file (neither: plain HTTP, for local use)"),
    tls_key_file: Optional[Path] = typer.Option(
        None, envvar=RuntimeEnv.TLS_KEY_FILE, help="the PEM private key of --tls-cert-file"),
) -> None:
    """Serve intent, confidence, scores and a suggested reply over KServe v1 and v2 HTTP(S)."""
    try:
        tls_files = check_tls_files(tls_cert_file, tls_key_file)
    except TLSFilesError as exc:
        _say(f"refusing to start: {exc}")
        raise typer.Exit(2) from exc

    import torch

    torch.set_num_threads(1)  # single-query latency: one thread (DESIGN, measured hints)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already set in this process

    try:
        from ecc_workloads.serving import teacher as serving
    except ModuleNotFoundError as exc:
        if exc.name != "kserve":
            raise
        _say("refusing to start: serve-teacher needs kserve (the [serve] extra), which this installation "
             "lacks — the ecc-workloads image has it, the ecc-edge-agent image does not")
        raise typer.Exit(2) from exc
    from ecc_workloads.learning.bundles import BundleError

    try:
        model = serving.build_model(
            manifest, profile=profile, responses_uri=responses, store=store, model_name=model_name,
            max_length=max_length, replies_per_intent=replies_per_intent, max_batch=max_batch, index_threads=index_threads, log=_say,
        )
    except (BundleError, serving.ServingError) as exc:
        _say(f"refusing to start: {exc}")
        raise typer.Exit(1) from exc
    scheme = "https" if tls_files else "http"
    _say(f"listening on {scheme}://{host}:{http_port} as model {model_name!r} "
         f"(v1: /v1/models/{model_name}:predict, v2: /v2/models/{model_name}/infer)")
    serving.serve(model, host, http_port, tls_files)


def main() -> None:
    typer.run(serve_teacher)


if __name__ == "__main__":
    main()
