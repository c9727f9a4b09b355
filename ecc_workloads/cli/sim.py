"""`ecc sim-agents` (simulated agents for KWOK fake nodes) and `ecc traffic` (traffic generator
for real agents). Also runs as `python -m ecc_workloads.cli.sim`.

Store settings come from the StoreEnv variables (`eval "$(ecc-dev env)"`), the cluster from
--kubeconfig or $KUBECONFIG.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from ecc_workloads.contracts import NODE_KIND_KWOK, NODE_KIND_LABEL, AgentApiAuth, AgentEnv, RuntimeEnv
from ecc_workloads.release_signing import parse_trusted_keys

app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False, add_completion=False)
err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True, width=160)


@app.callback()
def _group() -> None:
    """Simulated agents and the traffic generator."""


def _fail(msg: str) -> None:
    err.print(f"[bold red]error:[/] {msg}", highlight=False)
    raise typer.Exit(1)


@app.command("sim-agents")
def sim_agents(
    fleet: str = typer.Option(..., "--fleet", help="EdgeFleet name"),
    namespace: str = typer.Option(..., "--namespace", "-n", help="the fleet's namespace"),
    kubeconfig: Optional[str] = typer.Option(None, "--kubeconfig", help="kubeconfig to read nodes (default $KUBECONFIG)"),
    nodes_from: str = typer.Option("kube", "--nodes-from",
                                   help="kube: nodes of the desired state labelled ecc.dev/node-kind=kwok; "
                                        "desired-state: every node of the desired state that is not a real node"),
    seed: int = typer.Option(0, "--seed"),
    site_drift: list[str] = typer.Option([], "--site-drift", help="SITE=LEVEL (0..1), repeatable; overrides defaults"),
    default_drift: float = typer.Option(0.1, "--default-drift", help="drift of nodes without a known site"),
    drift_noise: float = typer.Option(0.03, "--drift-noise"),
    drift_relief: float = typer.Option(0.4, "--drift-relief", help="drift factor per revision above the baseline"),
    drift_baseline_revision: int = typer.Option(1, "--drift-baseline-revision"),
    latency_median_ms: float = typer.Option(8.0, "--latency-median-ms"),
    latency_sigma: float = typer.Option(0.35, "--latency-sigma"),
    requests_per_interval: float = typer.Option(20.0, "--requests-per-interval"),
    min_delay: float = typer.Option(1.0, "--min-delay", help="seconds to reach a revision, at least"),
    max_delay: float = typer.Option(5.0, "--max-delay", help="seconds to reach a revision, at most"),
    failure_fraction: float = typer.Option(0.0, "--failure-fraction", help="share of nodes failing each new revision"),
    fail_from_revision: int = typer.Option(1, "--fail-from-revision", help="only revisions >= this fail"),
    late_fraction: float = typer.Option(0.0, "--late-fraction", help="share of nodes reaching revisions late"),
    late_extra_seconds: float = typer.Option(60.0, "--late-extra-seconds"),
    silent_fraction: float = typer.Option(0.0, "--silent-fraction", help="share of nodes that stop reporting"),
    silent_after_seconds: float = typer.Option(30.0, "--silent-after-seconds"),
    report_interval: Optional[float] = typer.Option(None, "--report-interval",
                                                    help="seconds (default: the desired state's)"),
    poll_interval: Optional[float] = typer.Option(None, "--poll-interval", help="seconds (default: the desired state's)"),
    report_slots: bool = typer.Option(False, "--report-slots",
                                      help="periodic reports on a fixed per-node grid (seeded phase + k x interval) "
                                           "instead of a jittered interval: 1/interval of the nodes report every "
                                           "second, e.g. a 50 s interval changes 10 % of the reports per 5 s"),
    report_metadata: bool = typer.Option(True, "--report-metadata/--no-report-metadata",
                                         help="also write each report's summary as object metadata (the operator "
                                              "reads it from its listing instead of GETting the report)"),
    workers: int = typer.Option(16, "--workers", min=1, help="threads writing reports"),
    tick: float = typer.Option(1.0, "--tick", help="seconds between steps"),
    max_seconds: Optional[float] = typer.Option(None, "--max-seconds", help="stop after this long"),
    until_revision: Optional[int] = typer.Option(None, "--until-revision",
                                                 help="stop once every played node reported this revision"),
    json_out: Optional[Path] = typer.Option(None, "--json", help="write the summary as JSON here"),
    release_keys: str = typer.Option("", "--release-keys", envvar=AgentEnv.RELEASE_KEYS,
                                     help="keys the desired state must be signed by ('ed25519:<hex>', comma-"
                                     "separated); default: those the fleet's DaemonSet gives real agents"),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
) -> None:
    """Play the agents of the fleet's KWOK fake nodes against the real store."""
    from ecc_workloads.sim import agents as simagents
    from ecc_workloads.contracts import StoreSettings

    try:
        cfg = simagents.SimConfig(
            seed=seed,
            site_drift={**simagents.DEFAULT_SITE_DRIFT, **simagents.parse_site_drift(site_drift)},
            default_drift=default_drift, drift_noise=drift_noise, drift_relief=drift_relief,
            drift_baseline_revision=drift_baseline_revision, latency_median_ms=latency_median_ms,
            latency_sigma=latency_sigma, requests_per_interval=requests_per_interval,
            apply_delay_seconds=(min_delay, max_delay), failure_fraction=failure_fraction,
            fail_from_revision=fail_from_revision, late_fraction=late_fraction, late_extra_seconds=late_extra_seconds,
            silent_fraction=silent_fraction, silent_after_seconds=silent_after_seconds,
            report_interval_seconds=report_interval, poll_interval_seconds=poll_interval,
            report_slots=report_slots, report_metadata=report_metadata,
        )
        settings = StoreSettings.from_env()
    except ValueError as exc:
        _fail(str(exc))
    if nodes_from not in ("kube", "desired-state"):
        _fail(f"--nodes-from {nodes_from!r}: use kube or desired-state")
    kcfg = kubeconfig or os.environ.get("KUBECONFIG")
    if nodes_from == "kube" and not kcfg:
        _fail("--nodes-from kube needs a kubeconfig: pass --kubeconfig or set KUBECONFIG "
              "(or use --nodes-from desired-state)")
    if max_seconds is None and until_revision is None:
        err.print("no --max-seconds or --until-revision: running until interrupted (Ctrl-C)")
    lister = None
    if kcfg:
        selector = f"{NODE_KIND_LABEL}={NODE_KIND_KWOK}" if nodes_from == "kube" else None
        lister = lambda: simagents.list_nodes_from_kube(kcfg, selector)  # noqa: E731
    if not release_keys and not kcfg:
        _fail(f"no --release-keys (${AgentEnv.RELEASE_KEYS}) and no kubeconfig to read them from the fleet's "
              "DaemonSet: the simulated agents, like real ones, follow only a signed desired state")
    try:
        keys = parse_trusted_keys(release_keys, "--release-keys") if release_keys else ()
    except ValueError as exc:
        _fail(str(exc))
    runner = simagents.SimRunner(
        simagents.MinioSimStore(settings, pool_size=workers), namespace, fleet, cfg,
        node_source=nodes_from, node_lister=lister, workers=workers, tick_seconds=tick,
        log=None if quiet else (lambda m: err.print(m, highlight=False, markup=False)),
        release_keys=keys, release_key_source=lambda: simagents.release_keys_from_daemonset(kcfg, namespace, fleet),
    )
    import signal

    def _term(_signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _term)  # stop like Ctrl-C: the summary (and --json) is still written
    try:
        summary = runner.run(max_seconds=max_seconds, until_revision=until_revision)
    except KeyboardInterrupt:
        summary = runner.finish_summary()
        summary.stopped_because = "interrupted"
    _print_sim_summary(summary, fleet)
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(summary.model_dump_json(indent=2))


def _print_sim_summary(summary, fleet: str) -> None:
    table = Table(title=f"simulated agents of fleet {fleet!r}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key in ("nodes", "reports_written", "report_errors", "polls", "polls_not_modified", "poll_errors", "ticks",
                "elapsed_s", "bytes_down_total", "desired_generation", "target_revision"):
        table.add_row(key, str(getattr(summary, key)))
    table.add_row("states", ", ".join(f"{k} {v}" for k, v in summary.states.items()) or "-")
    table.add_row("revisions", ", ".join(f"r{k} {v}" for k, v in summary.revisions.items()) or "-")
    table.add_row("stopped", summary.stopped_because or "-")
    if summary.last_error:
        table.add_row("last error", summary.last_error)
    out.print(table)


@app.command("traffic")
def traffic(
    endpoint: list[str] = typer.Option([], "--endpoint", help="SITE=http://ip:port of an agent, repeatable"),
    fleet: Optional[str] = typer.Option(None, "--fleet", help="discover the fleet's agent pods (with --namespace)"),
    namespace: Optional[str] = typer.Option(None, "--namespace", "-n"),
    kubeconfig: Optional[str] = typer.Option(None, "--kubeconfig", help="default $KUBECONFIG"),
    port: Optional[int] = typer.Option(None, "--port", help="agent port when the pod does not say (default 8090)"),
    corpus: Optional[str] = typer.Option(None, "--corpus",
                                         help="Bitext CSV, a prepared JSONL or a prepared split directory "
                                              f"(default ${RuntimeEnv.BITEXT_CSV} or the packaged Bitext CSV)"),
    requests: int = typer.Option(50, "--requests", min=0, help="utterances per agent"),
    feedback_fraction: float = typer.Option(0.3, "--feedback-fraction", help="share of requests followed by feedback"),
    evaluate: bool = typer.Option(True, "--evaluate/--no-evaluate", help="score each site's held-out rows"),
    eval_max_rows: Optional[int] = typer.Option(None, "--eval-max-rows", help="held-out rows per agent, at most"),
    seed: int = typer.Option(0, "--seed"),
    timeout: float = typer.Option(10.0, "--timeout", help="seconds per request"),
    proxy: Optional[str] = typer.Option(None, "--proxy", envvar=RuntimeEnv.CLUSTER_PROXY,
                                        help="HTTP proxy to the agents' pod addresses (the local cluster's gateway; "
                                             f"`ecc-dev env` exports ${RuntimeEnv.CLUSTER_PROXY})"),
    json_out: Optional[Path] = typer.Option(None, "--json", help="write the per-site results as JSON here"),
    token: Optional[str] = typer.Option(None, "--token", envvar=AgentApiAuth.TOKEN_ENV,
                                        help="bearer token of the agents' API (feedback scope); with --fleet, "
                                             "default: read from the fleet's Secret ecc-fleet-<fleet>-api"),
) -> None:
    """Send each agent utterances of its site's domain (and feedback), then score held-out accuracy."""
    from ecc_workloads.data import datasets
    from ecc_workloads.sim import traffic as tr

    try:
        endpoints = [tr.parse_endpoint(e) for e in endpoint]
    except tr.TrafficError as exc:
        _fail(str(exc))
    if fleet:
        if not namespace:
            _fail("--fleet needs --namespace")
        try:
            found = tr.discover_endpoints(kubeconfig or os.environ.get("KUBECONFIG"), namespace, fleet, port)
            endpoints += tr.as_endpoints(found)
        except Exception as exc:  # kubernetes ApiException, config errors
            _fail(f"cannot discover the agents of fleet {namespace}/{fleet}: {exc.__class__.__name__}: {exc}")
    if not endpoints:
        _fail("no agent endpoints: pass --endpoint SITE=http://ip:port or --fleet NAME --namespace NS")
    if token:
        endpoints = [e.model_copy(update={"token": token}) for e in endpoints]
    source = corpus or datasets.bitext_source()
    err.print(f"reading {source}")
    try:
        examples = tr.load_examples(source)
        data = {site: tr.site_data(examples, site) for site in sorted({e.site for e in endpoints})}
    except (tr.TrafficError, ValueError) as exc:
        _fail(str(exc))
    err.print(f"{len(endpoints)} agent(s): sending {requests} request(s) each")
    sent = tr.send_traffic(endpoints, data, requests_per_node=requests, feedback_fraction=feedback_fraction,
                           seed=seed, timeout=timeout, proxy=proxy)
    scores = {}
    if evaluate:
        err.print("scoring held-out rows")
        scores = tr.evaluate_sites(endpoints, {s: d.heldout for s, d in data.items()}, max_rows=eval_max_rows,
                                   timeout=max(timeout, 30.0), proxy=proxy)
    rows = tr.combine(sent, scores)
    table = Table(title="traffic per site")
    for col in ("site", "domain", "nodes", "requests", "errors", "feedback", "p50 ms", "p95 ms", "eval rows",
                "accuracy", "revisions"):
        table.add_column(col, justify="left" if col in ("site", "domain") else "right")
    for r in rows.values():
        table.add_row(r["site"], str(r["domain"]), str(r["nodes"]), str(r["requests"]),
                      str(r["request_errors"] + r["eval_errors"]), str(r["feedback_sent"]),
                      "-" if r["p50_ms"] is None else f"{r['p50_ms']:.1f}",
                      "-" if r["p95_ms"] is None else f"{r['p95_ms']:.1f}", str(r["eval_rows"]),
                      "-" if r["accuracy"] is None else f"{r['accuracy']:.3f}",
                      ",".join(map(str, r["revisions"])) or "-")
    out.print(table)
    errors = [f"{s}: {x['last_error']}" for s, x in [*sent.items(), *scores.items()] if x.get("last_error")]
    for line in errors[:5]:
        err.print(f"[yellow]last error[/] {line}", highlight=False)
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps({"sites": rows, "endpoints": [e.model_dump() for e in endpoints],
                                        "corpus": source, "seed": seed}, indent=2))


if __name__ == "__main__":
    app()
