"""Pod discovery for Prometheus: watches the API server's pods and writes a file_sd file.

Debian's Prometheus (the one these machines can install) is built without the
kubernetes service discovery (`kubernetes_sd_configs` is rejected as an unknown
field), so this small process does what its `role: pod` discovery and our relabel
rules would do: keep pods annotated `prometheus.io/scrape: "true"` whose pod IP is in the
real nodes' pod network (not KWOK's fake pods), target `podIP:<prometheus.io/port>` (or each declared container
port), path from `prometheus.io/path`, and labels namespace/pod/node plus the pod's
labels. Prometheus itself still does all the scraping, through the gateway's proxy
(pods live in the nodes' network namespaces, see nodes/gateway.py).

    python -m ecc_devcluster.podsd --apiserver URL --ca-file CA --cert C --key K --out FILE
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import ssl
import sys
import time
from pathlib import Path

import ipaddress

import httpx

from ecc_devcluster.nodes.plan import POD_CIDR

from ecc_workloads import contracts as c

SCRAPE_ANNOTATION = c.PROMETHEUS_SCRAPE_ANNOTATION
PORT_ANNOTATION = c.PROMETHEUS_PORT_ANNOTATION
PATH_ANNOTATION = c.PROMETHEUS_PATH_ANNOTATION
JOB = "ecc-pods"
_INVALID_LABEL_CHARS = re.compile(r"[^a-zA-Z0-9_]")


def _label_name(name: str) -> str:
    return _INVALID_LABEL_CHARS.sub("_", name)


def _in_pod_network(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip) in POD_CIDR
    except ValueError:
        return False


def pod_targets(pod: dict) -> dict | None:
    """The file_sd target group of one pod, or None if it is not to be scraped (pure)."""
    meta = pod.get("metadata", {})
    annotations = meta.get("annotations") or {}
    status = pod.get("status", {})
    ip = status.get("podIP") or ""
    if annotations.get(SCRAPE_ANNOTATION) != "true" or not _in_pod_network(ip):
        return None
    if meta.get("deletionTimestamp") or status.get("phase") not in ("Running", "Pending"):
        return None
    if annotations.get(PORT_ANNOTATION, "").isdigit():
        targets = [f"{ip}:{annotations[PORT_ANNOTATION]}"]
    else:
        ports = [
            p["containerPort"]
            for ctr in pod.get("spec", {}).get("containers", [])
            for p in ctr.get("ports") or []
            if p.get("protocol", "TCP") == "TCP"
        ]
        targets = [f"{ip}:{p}" for p in ports] or [f"{ip}:80"]
    labels = {
        f"pod_label_{_label_name(k)}": v for k, v in (meta.get("labels") or {}).items()
    }
    labels.update(
        {
            "job": JOB,
            "namespace": meta.get("namespace", ""),
            "pod": meta.get("name", ""),
            "node": pod.get("spec", {}).get("nodeName", ""),
        }
    )
    if annotations.get(PATH_ANNOTATION):
        labels["__metrics_path__"] = annotations[PATH_ANNOTATION]
    return {"targets": targets, "labels": labels}


def write_groups(path: Path, groups: dict[str, dict]) -> None:
    """Write the target groups (keyed by namespace/name) atomically, in a stable order."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps([groups[k] for k in sorted(groups)], sort_keys=True))
    os.replace(tmp, path)


def apply_event(groups: dict[str, dict], kind: str, pod: dict) -> bool:
    """Fold one watch event into `groups`; whether anything changed (pure but for groups)."""
    meta = pod.get("metadata", {})
    key = f"{meta.get('namespace')}/{meta.get('name')}"
    group = None if kind == "DELETED" else pod_targets(pod)
    if group is None:
        return groups.pop(key, None) is not None
    if groups.get(key) == group:
        return False
    groups[key] = group
    return True


class _Stop(Exception):
    pass


def run(apiserver: str, ca_file: str, cert: str, key: str, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)

    def stop(_sig, _frm):
        raise _Stop

    signal.signal(signal.SIGTERM, stop)
    tls = ssl.create_default_context(cafile=ca_file)
    tls.load_cert_chain(cert, key)  # httpx 0.28 ignores `cert=` next to a CA path: use a context
    client = httpx.Client(base_url=apiserver, verify=tls, timeout=httpx.Timeout(30, read=330))
    try:
        while True:
            try:
                r = client.get("/api/v1/pods", params={"resourceVersion": "0"})
                r.raise_for_status()
                doc = r.json()
                groups: dict[str, dict] = {}
                for pod in doc.get("items", []):
                    apply_event(groups, "ADDED", pod)
                write_groups(out, groups)
                rv = doc["metadata"]["resourceVersion"]
                params = {"watch": "1", "resourceVersion": rv, "allowWatchBookmarks": "true", "timeoutSeconds": "300"}
                with client.stream("GET", "/api/v1/pods", params=params) as stream:
                    stream.raise_for_status()
                    for line in stream.iter_lines():
                        if not line:
                            continue
                        event = json.loads(line)
                        kind = event.get("type")
                        if kind == "ERROR":
                            break  # e.g. 410 Gone: list again
                        if kind != "BOOKMARK" and apply_event(groups, kind, event.get("object", {})):
                            write_groups(out, groups)
            except httpx.HTTPError as exc:
                print(f"pod discovery: {type(exc).__name__}: {exc}; retrying in 2s", file=sys.stderr, flush=True)
                time.sleep(2)
    except (_Stop, KeyboardInterrupt):
        pass
    finally:
        client.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apiserver", required=True)
    parser.add_argument("--ca-file", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    run(args.apiserver, args.ca_file, args.cert, args.key, args.out)


if __name__ == "__main__":
    main()
