"""`make demo`: the whole loop on the local cluster, in one command.

Brings the local cluster up (or reuses a healthy one; a broken one is cleanly restarted),
installs the chart, and runs one learning cycle (ecc_devcluster.scenario): distillation,
serving, rollout to the real and fake edge nodes, shifted traffic, drift, merge-back, the
new revision rolled out. Ends with the fleet report — a table here, and report.json,
report.md and PNG plots in demo-output/ — and leaves the cluster running for exploration.
Ctrl-C during start-up stops what was started; during the cycle it removes the cycle's
resources, the release and its namespace, and leaves the cluster for `make down`.
"""

from __future__ import annotations

import collections
import sys
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from ecc_devcluster import cluster
from ecc_devcluster.nodes import realnodes
from ecc_workloads import contracts as c

console = Console()
DEMO_NAMESPACE = "ecc-demo"


def _say(msg: str) -> None:
    console.print(f"[dim]•[/dim] {msg}")


def ensure_cluster(name: str, fake_nodes: int) -> cluster.ClusterInfo:
    """Reuse a running, healthy cluster; otherwise (re)start it."""
    info = cluster.load(name)
    if info is not None and info.any_alive():
        dead = [n for n in info.components if not info.component_alive(n)]
        stale_images = info.node_seed and info.node_seed != realnodes.current_seed_key(info.bin_dir)
        if not dead and not stale_images and info.kserve and cluster.node_counts(info) is not None:
            console.print(f"[green]reusing the running cluster {name!r}[/green] ({info.apiserver_url})")
            return info
        why = ("its nodes hold older images" if stale_images and not dead
               else "it runs no KServe controller" if not dead and not info.kserve
               else f"down: {', '.join(dead) or 'API'}")
        console.print(f"[yellow]cluster {name!r} cannot be reused ({why}): restarting it[/yellow]")
        cluster.down(name, say=_say)
    return cluster.up(name, fake_nodes=fake_nodes, with_kserve=True, say=_say)


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


def build_report(info: cluster.ClusterInfo, result, name: str):
    """The FleetReport of one cycle (what `demo-output/report.json` holds)."""
    from ecc_devcluster import fleet_report as fr

    sites = [fr.SiteResult(name=site, nodes=len(result.site_nodes.get(site, [])), acc_before=acc,
                           acc_after=result.acc_after.get(site, 0.0), requests=result.requests.get(site, 0),
                           feedback=result.feedback.get(site, 0))
             for site, acc in sorted(result.acc_before.items())]
    revisions = [fr.RevisionEntry(revision=r["revision"], source=r["source"],
                                  accuracy={b["profile"]: b["accuracy"] for b in r.get("bundles") or []
                                            if b.get("accuracy") is not None})
                 for r in result.revisions]
    last = (result.policy_status or {}).get("lastMergeBack") or {}
    merges = [fr.MergeBackDecision(round=int((result.policy_status or {}).get("round") or 1), result=last["result"],
                                   revision=last.get("revision"), updates=int(last.get("updates") or 0),
                                   reason=last.get("reason") or "")] if last.get("result") else []
    return fr.FleetReport(
        final_revision=int((result.teacher_status or {}).get("revision") or 0), revisions=revisions, sites=sites,
        bytes_up=result.bytes_up, bytes_down=result.bytes_down, whole_model_bytes=result.whole_model_bytes,
        merge_backs=merges, timings=result.timings,
        cluster=fr.ClusterAccess(prometheus_url=info.prometheus_url, apiserver=info.apiserver_url,
                                 how_to_stop=f"make down   (or .venv/bin/ecc-dev down --name {name})"))


def run_cycle(info: cluster.ClusterInfo, name: str, out_dir: Path) -> int:
    """Install, distil, roll out, shift, merge back, roll out again; write the report."""
    from ecc_devcluster import fleet_report as fr, scenario as sc

    cfg = sc.ScenarioConfig(namespace=DEMO_NAMESPACE)
    run = sc.Scenario(info, cfg, say=_say)
    try:
        cleanup_previous(run)
        result = run.run()
    except KeyboardInterrupt:
        _say("interrupted: removing the cycle's resources and the release (Ctrl-C again to leave them)")
        try:
            run.teardown()
        except KeyboardInterrupt:
            pass
        raise
    finally:
        run.close()
    report = build_report(info, result, name)
    written = fr.write_report(report, out_dir)
    for table in fr.report_tables(report):
        console.print(table)
    console.print("[green]report:[/green] " + ", ".join(str(p) for p in written))
    return report.final_revision


def cleanup_previous(run) -> None:
    """A second `make demo` on a reused cluster starts the cycle afresh: the previous cycle's
    resources go first (the operator, still running, removes their store prefixes)."""
    from kubernetes.client.rest import ApiException

    from ecc_devcluster import scenario as sc

    gone = []
    for plural in ("adaptationpolicies", "edgefleets", "cloudteachers"):
        try:
            items = run.cl.custom.list_namespaced_custom_object(sc.GROUP, sc.VERSION, run.ns, plural)["items"]
        except ApiException:
            return  # CRDs not installed yet: a fresh cluster
        for item in items:
            run.cl.custom.delete_namespaced_custom_object(sc.GROUP, sc.VERSION, run.ns, plural,
                                                          item["metadata"]["name"])
            gone.append((plural, item["metadata"]["name"]))
    if gone:
        _say(f"removing the previous cycle's resources: {', '.join(n for _, n in gone)}")
        sc.wait_for(lambda: not any(run.cl.get(p, run.ns, n) for p, n in gone), 120,
                    "the previous cycle's resources deleted")


def main(name: str = typer.Option("default", help="cluster name"),
         fake_nodes: int = typer.Option(60, help="KWOK fake edge nodes"),
         out: Path = typer.Option(Path("demo-output"), help="where report.json, report.md and the plots go")) -> None:
    t0 = time.monotonic()
    try:
        info = ensure_cluster(name, fake_nodes)
        console.print(fleet_table(info))
        final = run_cycle(info, name, out)
    except (cluster.ClusterError, RuntimeError, FileNotFoundError) as exc:
        console.print(f"[red]demo failed:[/red] {exc}")
        raise typer.Exit(1)
    except KeyboardInterrupt:
        console.print("[yellow]interrupted: what the cycle started is gone; the cluster keeps running "
                      "(stop it with `make down`)[/yellow]")
        raise typer.Exit(130)
    console.print(
        f"\n[bold]Done in {time.monotonic() - t0:.0f} s: the fleet runs revision {final}.[/bold] "
        "The cluster keeps running for exploration.\n"
        f"  eval \"$(.venv/bin/ecc-dev env --name {name})\"; kubectl -n {DEMO_NAMESPACE} get cloudteachers,edgefleets,"
        "adaptationpolicies\n"
        f"  Prometheus: {info.prometheus_url}   (try: ecc_fleet_nodes_by_revision)\n"
        f"  object store: {info.store.endpoint} (bucket {info.store.bucket})\n"
        f"  stop it:    make down   (or .venv/bin/ecc-dev down --name {name})"
    )


if __name__ == "__main__":
    typer.run(main)
    sys.exit(0)
