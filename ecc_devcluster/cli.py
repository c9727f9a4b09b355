"""`ecc-dev`: the local development cluster (real kube-apiserver, etcd, controller-manager,
scheduler, KWOK fake nodes, real nodes (kubelet, containerd, kube-proxy), MinIO, Prometheus),
the Go-built binaries (`ecc-dev binaries`) and the container images (`ecc-dev images`).

A console script of its own, apart from `ecc`: development code is never in an image nor in
what the operator or a workload imports. Also runs as `python -m ecc_devcluster.cli`.
"""

from __future__ import annotations

import shlex
import signal
import time

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    help="The local development cluster: up | down | status | env | stop COMPONENT | start COMPONENT; "
    "binaries; images.",
    no_args_is_help=True,
    add_completion=False,
)
err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

NameOpt = typer.Option("default", "--name", "-n", help="Cluster name (state in <cache>/dev/NAME).")


_T0 = time.monotonic()


def _say(msg: str) -> None:
    err.print(f"[{time.monotonic() - _T0:6.1f}s] {msg}", markup=False, highlight=False)


def _fail(msg: str, code: int = 1) -> None:
    err.print(f"[bold red]error:[/] {msg}", highlight=False)
    raise typer.Exit(code)


def _sigterm_as_interrupt() -> None:
    def handler(_signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started in the background


@app.command()
def up(
    name: str = NameOpt,
    fake_nodes: int = typer.Option(20, "--fake-nodes", min=0, help="KWOK fake edge nodes (tested up to 5,000)."),
    cloud_workers: int = typer.Option(1, "--cloud-workers", min=0, help="Real nodes for Jobs, servers and CoreDNS."),
    edge_nodes: int = typer.Option(3, "--edge-nodes", min=0, help="Real nodes labelled and tainted as edge nodes."),
    with_kserve_crds: bool = typer.Option(False, "--with-kserve-crds", help="Server-side apply KServe's CRDs from third_party/kserve-crds/ (no controller)."),
    with_kserve: bool = typer.Option(True, "--with-kserve/--without-kserve", help="Run KServe's controller (v0.20.0, Standard mode) with its CRDs on the cloud worker (none without one)."),
) -> None:
    """Start the cluster and return once it is Ready; it keeps running in the background.

    If the cluster NAME already runs, `up` changes nothing and exits with status 3.
    A component that fails to start makes `up` exit 1 after showing its log tail;
    everything started is stopped again (also on Ctrl-C)."""
    from ecc_devcluster import cluster, health

    _sigterm_as_interrupt()
    t0 = time.monotonic()
    try:
        info = cluster.up(
            name,
            fake_nodes=fake_nodes,
            cloud_workers=cloud_workers,
            edge_nodes=edge_nodes,
            with_kserve_crds=with_kserve_crds,
            with_kserve=with_kserve and cloud_workers > 0,
            say=_say,
        )
    except cluster.ClusterAlreadyRunning as exc:
        _fail(str(exc), code=3)
    except health.ComponentFailed as exc:
        _fail(f"component [bold]{exc.component}[/] failed to start: {exc.reason}\n"
              f"--- last lines of {exc.log} ---\n{exc.log_tail}\nAll other components were stopped.")
    except KeyboardInterrupt:
        err.print("[yellow]interrupted: everything started was stopped[/]")
        raise typer.Exit(130)
    except (cluster.ClusterError, FileNotFoundError, TimeoutError, RuntimeError) as exc:
        _fail(f"{exc}\nAll components were stopped.")
    err.print(
        f"[bold green]cluster {name!r} is Ready[/] in {time.monotonic() - t0:.1f}s — "
        f"{info.fake_nodes} fake edge node(s), real nodes: {', '.join(info.real_nodes) or 'none'}\n"
        f"  API server  {info.apiserver_url}\n  MinIO       {info.store.endpoint}\n"
        f"  Prometheus  {info.prometheus_url}\n  state       {info.state_dir}\n"
        f"Use it:  eval \"$(ecc-dev env{'' if name == 'default' else ' --name ' + name})\" && kubectl get nodes",
        highlight=False,
    )


@app.command()
def down(name: str = NameOpt,
         purge: bool = typer.Option(False, "--purge", help="Also delete the state dir (logs, certificates).")) -> None:
    """Stop every component (SIGTERM, then SIGKILL), remove data on tmpfs, leave no process."""
    from ecc_devcluster import cluster

    try:
        known = cluster.down(name, say=_say, purge=purge)
    except cluster.ClusterError as exc:
        _fail(str(exc))
    err.print(f"cluster {name!r} is down" if known else f"cluster {name!r} was not running")


@app.command()
def status(name: str = NameOpt) -> None:
    """Components (pid, alive, address, RSS) and node counts."""
    from ecc_devcluster import cluster

    info = cluster.load(name)
    if info is None:
        others = cluster.list_clusters()
        _fail(f"cluster {name!r} is not running" + (f" (running: {', '.join(others)})" if others else ""), code=1)
    table = Table(title=f"cluster {name!r}  ({info.state_dir})")
    for col in ("component", "pid", "alive", "address", "RSS MiB"):
        table.add_column(col)
    for row in cluster.component_status(info):
        table.add_row(
            row.name,
            str(row.pid or "-"),
            "[green]yes[/]" if row.alive else "[red]no[/]",
            row.address,
            f"{row.rss_bytes / 2**20:.0f}" if row.rss_bytes else "-",
        )
    out.print(table)
    counts = cluster.node_counts(info)
    if counts is None:
        out.print("nodes: API server not answering")
    else:
        kinds = sorted({k.rsplit("_", 1)[0] for k in counts if k not in ("total", "ready")})
        detail = ", ".join(f"{k} {counts[k + '_ready']}/{counts[k + '_total']}" for k in kinds)
        out.print(f"nodes Ready: {counts['ready']}/{counts['total']}" + (f" ({detail})" if detail else ""))


@app.command()
def env(name: str = NameOpt) -> None:
    """Print shell exports: eval "$(ecc-dev env)"."""
    from ecc_devcluster import cluster

    info = cluster.load(name)
    if info is None:
        _fail(f"cluster {name!r} is not running; start it with `ecc-dev up`")
    for key, value in info.env().items():
        if key == "PATH":
            print(f'export PATH={shlex.quote(info.bin_dir)}:"$PATH"')
        else:
            print(f"export {key}={shlex.quote(value)}")


@app.command()
def stop(component: str = typer.Argument(..., help="etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok, minio, prometheus, pod-discovery, gateway, or PROCESS@NODE (kubelet@ecc-edge-0, containerd@…, kube-proxy@…)"),
         name: str = NameOpt) -> None:
    """Stop one component (e.g. for fault tests); `start` brings it back on the same address."""
    from ecc_devcluster import cluster

    try:
        outcome = cluster.stop_component(name, component)
    except (cluster.ClusterError, ValueError) as exc:
        _fail(str(exc))
    err.print(f"{component}: {outcome}")


@app.command()
def start(component: str = typer.Argument(..., help="A component stopped with `ecc-dev stop`."),
          name: str = NameOpt) -> None:
    """Start one stopped component again on the same address and wait until it is ready."""
    from ecc_devcluster import cluster, health

    try:
        st = cluster.start_component(name, component)
    except health.ComponentFailed as exc:
        _fail(str(exc))
    except (cluster.ClusterError, ValueError) as exc:
        _fail(str(exc))
    err.print(f"{component} running (pid {st.pid}) on {st.address}")


def _mount() -> None:
    from ecc_devcluster import binaries, images

    app.add_typer(binaries.app, name="binaries", help="Build and locate the Go-built control-plane binaries.")
    app.add_typer(images.app, name="images", help="Build the container images without a daemon (buildah).")


_mount()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
