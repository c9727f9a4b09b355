"""`make demo`: bring the local cluster up (or reuse it) and show the fleet.

Until the operator exists this is the whole demo: a real control plane, KWOK's fake
edge nodes and our process nodes, the store and Prometheus, and a table of the
fleet's nodes by site, capacity class and kind. It exits when done and leaves the
cluster running for exploration; run again, it reuses a healthy cluster or cleanly
restarts a broken one. Ctrl-C during start-up stops what was started.
"""

from __future__ import annotations

import collections
import sys

import typer
from rich.console import Console
from rich.table import Table

from ecc_devcluster import cluster
from ecc_workloads import contracts as c

console = Console()


def _say(msg: str) -> None:
    console.print(f"[dim]•[/dim] {msg}")


def ensure_cluster(name: str, fake_nodes: int) -> cluster.ClusterInfo:
    """Reuse a running, healthy cluster; otherwise (re)start it."""
    info = cluster.load(name)
    if info is not None and info.any_alive():
        dead = [n for n in info.components if not info.component_alive(n)]
        if not dead and cluster.node_counts(info) is not None:
            console.print(f"[green]reusing the running cluster {name!r}[/green] ({info.apiserver_url})")
            return info
        console.print(f"[yellow]cluster {name!r} is unhealthy (down: {', '.join(dead) or 'API'}): restarting it[/yellow]")
        cluster.down(name, say=_say)
    return cluster.up(name, fake_nodes=fake_nodes, say=_say)


def fleet_table(info: cluster.ClusterInfo) -> Table:
    """Nodes grouped by role, kind, site and capacity class, read from the API server."""
    from kubernetes import client as k8s, config as k8s_config

    api = k8s_config.new_client_from_config(config_file=info.kubeconfig)
    try:
        groups: collections.Counter[tuple[str, str, str, str]] = collections.Counter()
        ready: collections.Counter[tuple[str, str, str, str]] = collections.Counter()
        cont = None
        while True:
            page = k8s.CoreV1Api(api).list_node(limit=500, _continue=cont)
            for node in page.items:
                labels = node.metadata.labels or {}
                role = "edge" if c.EDGE_NODE_ROLE_LABEL in labels else (
                    "cloud" if c.CLOUD_NODE_ROLE_LABEL in labels else "other")
                key = (role, labels.get(c.NODE_KIND_LABEL, "-"), labels.get(c.EDGE_SITE_LABEL, "-"),
                       labels.get(c.EDGE_CAPACITY_CLASS_LABEL, "-"))
                groups[key] += 1
                if any(cond.type == "Ready" and cond.status == "True" for cond in (node.status.conditions or [])):
                    ready[key] += 1
            cont = page.metadata._continue
            if not cont:
                break
    finally:
        api.close()
    table = Table(title=f"Fleet nodes of cluster {info.name!r}")
    for col in ("role", "kind", "site", "capacity class", "nodes", "ready"):
        table.add_column(col, justify="right" if col in ("nodes", "ready") else "left")
    for key in sorted(groups):
        table.add_row(*key, str(groups[key]), str(ready[key]))
    table.add_row("[bold]total[/bold]", "", "", "", f"[bold]{sum(groups.values())}[/bold]",
                  f"[bold]{sum(ready.values())}[/bold]")
    return table


def main(name: str = typer.Option("default", help="cluster name"),
         fake_nodes: int = typer.Option(20, help="KWOK fake edge nodes")) -> None:
    try:
        info = ensure_cluster(name, fake_nodes)
    except cluster.ClusterError as exc:
        console.print(f"[red]demo failed:[/red] {exc}")
        raise typer.Exit(1)
    except KeyboardInterrupt:
        console.print("[yellow]interrupted: everything that was started has been stopped[/yellow]")
        raise typer.Exit(130)
    console.print(fleet_table(info))
    console.print(
        "\n[bold]The cluster keeps running for exploration.[/bold]\n"
        f"  eval \"$(.venv/bin/ecc dev env --name {name})\"; kubectl get nodes -L {c.EDGE_SITE_LABEL}\n"
        f"  Prometheus: {info.prometheus_url}\n"
        f"  object store: {info.store.endpoint} (bucket {info.store.bucket})\n"
        f"  stop it:    make down   (or .venv/bin/ecc dev down --name {name})"
    )


if __name__ == "__main__":
    typer.run(main)
    sys.exit(0)
