"""Benchmark of the local development cluster (a script, not a test).

Measures, on this machine:
- control-plane start time with warm (cached) binaries: `up` with no nodes, until every
  component is ready and the well-known objects exist;
- for each fleet size (default 1,000 and 5,000): time to create the fake edge nodes and
  until all of them are Ready (KWOK), then RSS of kube-apiserver, etcd and the others.

Each size runs on a fresh cluster (named bench-<size>), taken down afterwards.

    python benchmarks/cluster.py [--sizes 1000,5000] [--real-nodes] [--out DIR]

Prints a table and writes DIR/cluster.json (default benchmarks/results/).
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "operator")]

import typer  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

console = Console(stderr=True)


def _rss(info) -> dict[str, float]:
    from ecc_devcluster import processes

    out = {}
    for name, st in info.components.items():
        rss = processes.rss_bytes(st.pid) if st.pid else None
        if rss is not None:
            out[name] = round(rss / 2**20, 1)
    return out


def _max_of(rss: dict[str, float], prefix: str) -> str:
    values = [v for k, v in rss.items() if k.startswith(prefix)]
    return str(max(values)) if values else "-"


def _one(name: str, fake_nodes: int, real_nodes: bool) -> dict:
    from ecc_devcluster import cluster

    console.rule(f"{name}: {fake_nodes} fake nodes")
    t = time.monotonic()
    info = cluster.up(
        name,
        fake_nodes=fake_nodes,
        cloud_workers=1 if real_nodes else 0,
        edge_nodes=3 if real_nodes else 0,
        say=console.log,
        nodes_ready_timeout_s=1800,
    )
    wall = time.monotonic() - t
    try:
        time.sleep(5)  # let the post-creation churn (leases, node lifecycle) settle before RSS
        counts = cluster.node_counts(info) or {}
        return {
            "cluster": name,
            "fake_nodes": fake_nodes,
            "scale_profile": info.scale,
            "up_wall_s": round(wall, 2),
            "control_plane_s": info.timings.get("control_plane_s"),
            "fake_nodes_created_s": info.timings.get("fake_nodes_created_s"),
            "fake_nodes_ready_s": info.timings.get("fake_nodes_ready_s"),
            "real_nodes": info.real_nodes,
            "real_nodes_ready_s": info.timings.get("real_nodes_ready_s"),
            "node_images_s": info.timings.get("node_images_s"),
            "nodes_ready": counts.get("ready"),
            "nodes_total": counts.get("total"),
            "rss_mib": _rss(info),
        }
    finally:
        cluster.down(name, say=console.log, purge=True)


def main(
    sizes: str = typer.Option("1000,5000", help="Comma-separated fake-node counts."),
    real_nodes: bool = typer.Option(False, help="Also start real nodes (1 cloud worker + 3 edge nodes)."),
    out: Path = typer.Option(REPO_ROOT / "benchmarks" / "results", help="Directory for cluster.json."),
) -> None:
    from ecc_devcluster import cluster

    counts = [int(s) for s in sizes.split(",") if s.strip()]
    cluster.resolve_bin_dir(console.log)  # warm the binaries first: start time is measured warm
    runs = [_one("bench-start", 0, real_nodes)]
    runs += [_one(f"bench-{n}", n, real_nodes) for n in counts]

    table = Table(title="local development cluster (2-core machine; warm binaries)")
    for col in ("fake nodes", "profile", "up total s", "control plane s", "nodes created s",
                "nodes Ready s", "Ready", "real nodes Ready s", "apiserver MiB", "etcd MiB", "kwok MiB", "kcm MiB",
                "kubelet MiB (max)", "containerd MiB (max)"):
        table.add_column(col, justify="right")
    for r in runs:
        rss = r["rss_mib"]
        table.add_row(
            str(r["fake_nodes"]), r["scale_profile"], f"{r['up_wall_s']:.1f}", f"{r['control_plane_s']:.1f}",
            "-" if r["fake_nodes_created_s"] is None else f"{r['fake_nodes_created_s']:.1f}",
            "-" if r["fake_nodes_ready_s"] is None else f"{r['fake_nodes_ready_s']:.1f}",
            f"{r['nodes_ready']}/{r['nodes_total']}",
            "-" if r["real_nodes_ready_s"] is None else f"{r['real_nodes_ready_s']:.1f}",
            str(rss.get("kube-apiserver", "-")), str(rss.get("etcd", "-")), str(rss.get("kwok", "-")),
            str(rss.get("kube-controller-manager", "-")),
            _max_of(rss, "kubelet@"), _max_of(rss, "containerd@"),
        )
    Console(width=160).print(table)

    out.mkdir(parents=True, exist_ok=True)
    doc = {
        "benchmark": "cluster",
        "command": "python benchmarks/cluster.py --sizes " + sizes + (" --real-nodes" if real_nodes else ""),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "runs": runs,
    }
    path = out / "cluster.json"
    path.write_text(json.dumps(doc, indent=2))
    console.log(f"wrote {path}")


if __name__ == "__main__":
    typer.run(main)
