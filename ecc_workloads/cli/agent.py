"""`ecc edge-agent`: the edge agent an EdgeFleet's DaemonSet runs on every matched node.

Mount with ``app.command("edge-agent")(edge_agent)`` (or add ``app``'s command); also runnable
as ``python -m ecc_workloads.cli.agent``. torch is imported inside the command.
"""

from __future__ import annotations

import logging
import re
import signal
import sys
import threading
from pathlib import Path
from typing import Optional

import typer

from ecc_workloads.contracts import AgentEnv, AgentStateLimits, RuntimeEnv, StoreSettings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8090

_UNITS = {"": 1, "k": 1000, "m": 1000**2, "g": 1000**3, "ki": 1024, "mi": 1024**2, "gi": 1024**3}


def parse_size(value: str | int) -> int:
    """Bytes from ``65536``, ``64Mi``, ``64MiB``, ``512M``, ``1Gi`` (Kubernetes-style units)."""
    if isinstance(value, int):
        return value
    m = re.fullmatch(r"\s*(\d+)\s*([kKmMgG]i?)?[bB]?\s*", str(value))
    if not m:
        raise typer.BadParameter(f"{value!r}: give bytes, e.g. 67108864 or 64Mi")
    return int(m[1]) * _UNITS[(m[2] or "").lower()]


def _mib(n: int) -> str:
    return f"{n // AgentStateLimits.MiB}Mi"


app = typer.Typer(no_args_is_help=False, pretty_exceptions_show_locals=False)


def _say(msg: str) -> None:
    print(f"edge-agent: {msg}", file=sys.stderr, flush=True)


def open_agent_store(target: Optional[str], retry_seconds: float, credentials_url: Optional[str] = None,
                     token_file: Optional[str] = None, credentials_ca: Optional[str] = None):
    """--store (a local directory or s3://bucket) or, by default, the StoreEnv variables; the keys
    from the operator (this node's own, `credentials_url` + `token_file`) when a URL is given, else
    from the StoreEnv variables too."""
    from ecc_workloads.agent.runner import LocalAgentStore, S3AgentStore
    from ecc_workloads.store import Store, parse_s3_uri
    from ecc_workloads.agent.credentials import NodeCredentialsProvider

    if target and not target.startswith("s3://"):
        if not Path(target).is_dir():
            raise typer.BadParameter(f"--store {target!r}: not a directory (give s3://bucket or a local directory)")
        return LocalAgentStore(target)
    if credentials_url and not token_file:
        raise typer.BadParameter(f"{AgentEnv.CREDENTIALS_URL} is set but not {AgentEnv.NODE_TOKEN_FILE}: per-node "
                                 "credentials need the node's projected ServiceAccount token")
    try:
        settings = StoreSettings.from_env(keys=not credentials_url)
    except ValueError as err:
        raise typer.BadParameter(str(err)) from err
    try:
        provider = (NodeCredentialsProvider(credentials_url, token_file, ca_pem=credentials_ca)
                    if credentials_url else None)
    except ValueError as err:
        raise typer.BadParameter(str(err)) from err
    if target:
        loc = parse_s3_uri(target, allow_empty_key=True)
        if loc.key:
            raise typer.BadParameter(f"--store {target!r}: give s3://bucket (no key) or a local directory")
        settings = settings.model_copy(update={"bucket": loc.bucket})
    return S3AgentStore(Store(settings, retry_seconds=retry_seconds, credentials=provider))


@app.command("edge-agent")
def edge_agent(
    fleet: str = typer.Option(..., envvar=AgentEnv.FLEET, help="EdgeFleet name"),
    namespace: str = typer.Option(..., envvar=AgentEnv.FLEET_NAMESPACE, help="EdgeFleet namespace"),
    node: str = typer.Option(..., envvar=RuntimeEnv.NODE_NAME, help="this node's name (spec.nodeName)"),
    port: int = typer.Option(DEFAULT_PORT, envvar=AgentEnv.PORT, min=1, max=65535, help="HTTP port"),
    host: str = typer.Option(DEFAULT_HOST, envvar=RuntimeEnv.POD_IP, help="address to listen on"),
    state_dir: Path = typer.Option(..., envvar=AgentEnv.STATE_DIR,
                                   help="local disk: held modules, the last good model, the spool"),
    store: Optional[str] = typer.Option(
        None, help="s3://bucket or a local directory in the store's layout (default: the store of the "
        "ECC_STORE_* variables)"),
    store_retry_seconds: float = typer.Option(5.0, min=0.1, help="give up on one store call after this long "
                                              "(then serve from local disk and spool writes)"),
    teacher_model: Optional[str] = typer.Option(
        None, help="model name of the served teacher for cloud assist (v2); default: the desired state's "
        "teacher name, under which the operator serves it"),
    api_tokens: Optional[Path] = typer.Option(
        None, envvar=AgentEnv.API_TOKENS_DIR, help="directory of the API's bearer tokens, one file per scope "
        "(predict, feedback, admin): the EdgeFleet's Secret ecc-fleet-<fleet>-api, mounted; re-read when it changes"),
    no_auth: bool = typer.Option(False, "--no-auth", help="serve the API without tokens (a lab agent on a "
                                 "network of its own; never on a shop's network)"),
    credentials_url: Optional[str] = typer.Option(
        None, envvar=AgentEnv.CREDENTIALS_URL, help="the operator's endpoint that issues this node's store "
        "credentials (the DaemonSet sets it); without it the keys come from ECC_STORE_ACCESS_KEY/SECRET_KEY"),
    node_token_file: Optional[str] = typer.Option(
        None, envvar=AgentEnv.NODE_TOKEN_FILE, help="this pod's projected ServiceAccount token, sent to that "
        "endpoint"),
    credentials_ca: Optional[str] = typer.Option(
        None, "--credentials-ca", envvar=AgentEnv.CREDENTIALS_CA, help="PEM of the CA that endpoint's certificate "
        "must chain to (the DaemonSet sets it); default: the system's trust store"),
    release_keys: str = typer.Option(
        "", envvar=AgentEnv.RELEASE_KEYS, help="public keys whose signature the desired state must carry: "
        "comma-separated 'ed25519:<64 hex>' (the operator's; the DaemonSet sets it). Required"),
    spool_max_bytes: str = typer.Option(
        _mib(AgentStateLimits.SPOOL_MAX_BYTES), envvar=AgentStateLimits.ENV_SPOOL_MAX_BYTES,
        help="cap of the spool (writes waiting for the store): superseded items, then old reports make room; "
        "deltas are never dropped (a write that still does not fit is refused and counted)"),
    spool_max_reports: int = typer.Option(AgentStateLimits.SPOOL_MAX_REPORTS, min=1,
                                          envvar=AgentStateLimits.ENV_SPOOL_MAX_REPORTS,
                                          help="at most this many spooled reports (oldest dropped)"),
    dead_letter_after: int = typer.Option(
        AgentStateLimits.DEAD_LETTER_AFTER, min=1, envvar=AgentStateLimits.ENV_DEAD_LETTER_AFTER,
        help="a spooled write the store refuses permanently (403, 4xx) this many times in a row is moved to "
        "<state-dir>/spool/dead and no longer blocks later writes (an unreachable store never counts)"),
    dead_letter_max_bytes: str = typer.Option(
        _mib(AgentStateLimits.DEAD_LETTER_MAX_BYTES), envvar=AgentStateLimits.ENV_DEAD_LETTER_MAX_BYTES,
        help="cap of the dead letters kept on disk (oldest removed first)"),
    module_cache_max_bytes: str = typer.Option(
        _mib(AgentStateLimits.MODULE_CACHE_MAX_BYTES), envvar=AgentStateLimits.ENV_MODULE_CACHE_MAX_BYTES,
        help="cap of the module cache (least recently used evicted; the served and loading models' modules "
        "never are); 0: no cap"),
    feedback_journal: bool = typer.Option(
        True, "--feedback-journal/--no-feedback-journal", envvar=AgentStateLimits.ENV_FEEDBACK_JOURNAL,
        help="keep accepted feedback (its text) on local disk until the revision changes, so a restart "
        "learns from all of it; off: feedback lives in memory only"),
    feedback_journal_max_bytes: str = typer.Option(
        _mib(AgentStateLimits.FEEDBACK_JOURNAL_MAX_BYTES), envvar=AgentStateLimits.ENV_FEEDBACK_JOURNAL_MAX_BYTES,
        help="cap of the feedback journal (newest kept)"),
    max_seconds: Optional[float] = typer.Option(None, min=0, help="stop after this long (tests)"),
    once: bool = typer.Option(False, help="one tick (poll, load, report), then exit (tests)"),
    log_level: str = typer.Option("INFO", help="logging level"),
) -> None:
    """Serve this node's tier of the fleet, learn from feedback, report to the store."""
    logging.basicConfig(level=log_level.upper(), format="edge-agent %(levelname)s %(name)s: %(message)s")
    import torch

    torch.set_num_threads(1)  # single-query latency: one thread (DESIGN, measured hints)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass

    from ecc_workloads.agent.auth import ApiTokens, TokenFilesMissing
    from ecc_workloads.agent.server import AgentServer
    from ecc_workloads.agent.runner import AgentConfig, EdgeAgent

    if api_tokens is None and not no_auth:
        _say(f"refusing to start: no API tokens ({AgentEnv.API_TOKENS_DIR} or --api-tokens: the directory the "
             "EdgeFleet's Secret ecc-fleet-<fleet>-api is mounted at); --no-auth serves without them")
        raise typer.Exit(2)
    try:
        tokens = None if no_auth else ApiTokens(api_tokens)
    except TokenFilesMissing as err:
        _say(f"refusing to start: {err}")
        raise typer.Exit(2) from err

    from ecc_workloads.release_signing import KeyFormatError, parse_trusted_keys

    try:
        trusted = tuple(parse_trusted_keys(release_keys, f"{AgentEnv.RELEASE_KEYS} (--release-keys)"))
    except KeyFormatError as err:
        _say(f"refusing to start: {err}")
        raise typer.Exit(2) from err
    cache_cap = parse_size(module_cache_max_bytes)
    limits = dict(max_spooled_reports=spool_max_reports, spool_max_bytes=parse_size(spool_max_bytes),
                  dead_letter_after=dead_letter_after, dead_letter_max_bytes=parse_size(dead_letter_max_bytes),
                  module_cache_max_bytes=cache_cap or None, feedback_journal=feedback_journal,
                  feedback_journal_max_bytes=parse_size(feedback_journal_max_bytes))
    agent_store = open_agent_store(store, store_retry_seconds, credentials_url, node_token_file, credentials_ca)
    try:
        config = AgentConfig(node=node, fleet=fleet, namespace=namespace, state_dir=state_dir,
                             teacher_model=teacher_model, release_keys=trusted, **limits)
        agent = EdgeAgent(config, agent_store)
    except ValueError as err:  # a limit out of range (SpoolLimits)
        raise typer.BadParameter(str(err)) from err
    if agent.restore():
        model = agent.holder.current
        _say(f"serving revision {model.revision} ({model.profile}) from {state_dir} before asking the store")
    server = AgentServer(agent, host, port, tokens=tokens)
    server.start()
    _say(f"listening on http://{host}:{port} (node {node}, fleet {namespace}/{fleet}; "
         + ("NO authentication)" if tokens is None else f"bearer tokens from {api_tokens})"))
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    try:
        if once:
            agent.tick()
        else:
            agent.run(stop, max_seconds=max_seconds)
    finally:
        server.stop()
        agent.close()
        _say("stopped")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
