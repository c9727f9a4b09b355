"""Prometheus of the local cluster: its configuration and static scrape targets.

Two ways for something of ours to be scraped:
- a pod annotated `prometheus.io/scrape: "true"` on a real node — found through the API server by
  ecc_devcluster.podsd (Debian's Prometheus is built without kubernetes_sd), which
  writes a file_sd file (port from `prometheus.io/port`, path `prometheus.io/path`), and
  scraped through the gateway's proxy (ecc_devcluster.nodes.gateway);
- a static target: `add_static_target()` writes a file_sd file in the state dir,
  which Prometheus picks up without a restart.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import yaml

SCRAPE_INTERVAL = "5s"
ALERT_RULES = Path(__file__).resolve().parents[1] / "charts" / "ecc-fleet" / "files" / "alerts" / "ecc-fleet.rules.yaml"
_TARGET = re.compile(r"^127\.\d{1,3}\.\d{1,3}\.\d{1,3}:\d{1,5}$|^localhost:\d{1,5}$")
_JOB = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_-]*$")


def config_document(
    *,
    file_sd_dir: str,
    pod_sd_dir: str,
    etcd_target: str,
    minio_target: str,
    minio_ca_file: str,
    prometheus_target: str,
    pod_proxy_url: str,
) -> dict:
    """prometheus.yml (pure)."""
    return {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL},
        # the chart's alert rules (generated from ecc_operator.gen.alerts), evaluated for real
        "rule_files": [str(ALERT_RULES)],
        "scrape_configs": [
            {"job_name": "prometheus", "static_configs": [{"targets": [prometheus_target]}]},
            {
                "job_name": "etcd",
                "scrape_interval": "30s",
                "static_configs": [{"targets": [etcd_target]}],
            },
            {
                "job_name": "minio",
                "scrape_interval": "30s",
                "metrics_path": "/minio/v2/metrics/cluster",
                "scheme": "https",
                "tls_config": {"ca_file": minio_ca_file},
                "static_configs": [{"targets": [minio_target]}],
            },
            {
                # Job name comes from the file's labels (`job`), defaulting to this one.
                "job_name": "ecc-static",
                "file_sd_configs": [
                    {"files": [str(Path(file_sd_dir) / "*.json")], "refresh_interval": "10s"}
                ],
            },
            {
                # Pods annotated prometheus.io/scrape=true, discovered by ecc_devcluster.podsd
                # (Debian's Prometheus has no kubernetes_sd), scraped through the gateway.
                "job_name": "ecc-pods",
                "proxy_url": pod_proxy_url,
                # the operator's series carry the fleet's `namespace`: keep it (not exported_namespace)
                "honor_labels": True,
                "file_sd_configs": [
                    {"files": [str(Path(pod_sd_dir) / "*.json")], "refresh_interval": "10s"}
                ],
            },
        ],
    }


def write_config(path: str, document: dict) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(yaml.safe_dump(document, sort_keys=False))


def add_static_target(
    file_sd_dir: str, name: str, targets: list[str], labels: dict[str, str] | None = None
) -> Path:
    """Make Prometheus scrape `targets` (host:port on loopback) under job `name`.
    Written atomically; Prometheus notices within seconds."""
    if not _JOB.match(name):
        raise ValueError(f"target name {name!r} must match {_JOB.pattern}")
    bad = [t for t in targets if not _TARGET.match(t)]
    if bad:
        raise ValueError(f"static targets must be loopback host:port (127.x.y.z:PORT); got {bad}")
    doc = [{"targets": list(targets), "labels": {"job": name, **(labels or {})}}]
    d = Path(file_sd_dir)
    d.mkdir(parents=True, exist_ok=True)
    final = d / f"{name}.json"
    tmp = d / f".{name}.json.tmp"
    tmp.write_text(json.dumps(doc))
    os.replace(tmp, final)
    return final


def remove_static_target(file_sd_dir: str, name: str) -> None:
    (Path(file_sd_dir) / f"{name}.json").unlink(missing_ok=True)
