"""Readiness probes of the process node agent (httpGet, tcpSocket, exec).

httpGet and tcpSocket connect to the pod's address (or the probe's `host`);
exec runs the command inside the container's mount namespace (`nsenter -m`).
Liveness and startup probes are not run by this development stand-in.
"""

from __future__ import annotations

import http.client
import socket
import subprocess

from ecc_devcluster.nodeagent_network import resolve_target_port


def probe_port(spec: dict, pod: dict) -> int | None:
    port = spec.get("port")
    return None if port is None else resolve_target_port(port, pod)


def run_probe(probe: dict, pod: dict, pod_ip: str, pid: int | None, env: dict[str, str]) -> tuple[bool, str]:
    """(success, detail) of one probe attempt."""
    timeout = float(probe.get("timeoutSeconds") or 1)
    if "httpGet" in probe:
        spec = probe["httpGet"]
        port = probe_port(spec, pod)
        if port is None:
            return False, f"httpGet port {spec.get('port')!r} does not resolve to a container port"
        host = spec.get("host") or pod_ip
        conn_cls = http.client.HTTPSConnection if (spec.get("scheme") or "HTTP").upper() == "HTTPS" else http.client.HTTPConnection
        try:
            kwargs = {}
            if conn_cls is http.client.HTTPSConnection:
                import ssl

                kwargs["context"] = ssl._create_unverified_context()  # the kubelet does not verify either
            conn = conn_cls(host, port, timeout=timeout, **kwargs)
            headers = {h["name"]: h["value"] for h in spec.get("httpHeaders") or []}
            conn.request("GET", spec.get("path") or "/", headers=headers)
            status = conn.getresponse().status
            conn.close()
        except (OSError, http.client.HTTPException) as exc:
            return False, f"GET {host}:{port}{spec.get('path') or '/'}: {exc}"
        return 200 <= status < 400, f"HTTP {status}"
    if "tcpSocket" in probe:
        spec = probe["tcpSocket"]
        port = probe_port(spec, pod)
        if port is None:
            return False, f"tcpSocket port {spec.get('port')!r} does not resolve to a container port"
        try:
            with socket.create_connection((spec.get("host") or pod_ip, port), timeout=timeout):
                return True, "connected"
        except OSError as exc:
            return False, str(exc)
    if "exec" in probe:
        command = list((probe["exec"] or {}).get("command") or [])
        if not command or pid is None:
            return False, "exec probe without command or process"
        try:
            done = subprocess.run(["nsenter", "-t", str(pid), "-m", "--", *command], env=env,
                                  capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return False, f"exec probe timed out after {timeout:g}s"
        return done.returncode == 0, f"exit {done.returncode}"
    return False, f"unsupported probe handler {sorted(probe)}; use httpGet, tcpSocket or exec"
