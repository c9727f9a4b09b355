"""The slice of the kubelet's HTTPS API the process node agent serves: container logs.

The API server reaches a node's kubelet at its InternalIP (127.0.0.1 here) on the
port the node reports in status.daemonEndpoints, so `kubectl logs` (with -f,
--tail, --limit-bytes) works for pods on process nodes. exec, attach and
port-forward are not offered by this development stand-in and answer 501 with a
message saying so. The serving certificate is self-signed (the local API server
is not configured to verify kubelets).
"""

from __future__ import annotations

import logging
import re
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qs, unquote, urlparse

log = logging.getLogger("ecc.nodeagent.kubeletapi")
_LOG_PATH = re.compile(r"^/containerLogs/([^/]+)/([^/]+)/([^/]+)$")
FOLLOW_POLL_SECONDS = 0.25


def ensure_serving_cert(directory: Path) -> tuple[Path, Path]:
    """A serving certificate for 127.0.0.1/localhost (created once), from the same PKI code
    as the cluster's; the apiserver does not verify kubelet certificates here."""
    from ecc_devcluster import pki

    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "kubelet.crt", directory / "kubelet.key"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    ca_cert, ca_key = pki.make_ca("ecc-process-node-agent-ca")
    cert, key = pki.issue(ca_cert, ca_key, "ecc-process-node-agent", server=True,
                          dns_names=("localhost",), ip_addresses=("127.0.0.1",))
    pki.write_pem(key_path, pki.key_pem(key), private=True)
    pki.write_pem(cert_path, pki.cert_pem(cert))
    return cert_path, key_path


def tail_bytes(data: bytes, tail_lines: int | None, limit_bytes: int | None) -> bytes:
    """The kubelet's tailLines / limitBytes on a log's content (pure)."""
    if tail_lines is not None:
        if tail_lines <= 0:
            data = b""
        else:
            lines = data.splitlines(keepends=True)
            data = b"".join(lines[-tail_lines:])
    if limit_bytes is not None and limit_bytes >= 0:
        data = data[:limit_bytes]
    return data


class KubeletApi:
    """HTTPS server answering /containerLogs/{namespace}/{pod}/{container} from the agent's log files."""

    def __init__(self, pods_dir: Path, cert_dir: Path, is_running: Callable[[str, str, str], bool],
                 host: str = "127.0.0.1"):
        self.pods_dir = pods_dir
        self.is_running = is_running
        cert, key = ensure_serving_cert(cert_dir)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert), str(key))
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, fmt: str, *args) -> None:
                log.debug("kubelet api: " + fmt, *args)

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                api.handle_get(self)

            def do_POST(self) -> None:  # noqa: N802
                api.unsupported(self)

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port: int = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, name="kubelet-api", daemon=True)

    def start(self) -> None:
        self._thread.start()
        log.info("kubelet API (container logs) on https://127.0.0.1:%d", self.port)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------------ handlers
    @staticmethod
    def _reply(handler: BaseHTTPRequestHandler, code: int, text: str) -> None:
        body = text.encode()
        handler.send_response(code)
        handler.send_header("Content-Type", "text/plain; charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def unsupported(self, handler: BaseHTTPRequestHandler) -> None:
        self._reply(handler, 501, f"{urlparse(handler.path).path.split('/')[1] or '/'} is not supported by the "
                                  "ECC process node agent (a development stand-in for a kubelet); only "
                                  "container logs are served\n")

    def handle_get(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlparse(handler.path)
        if url.path == "/healthz":
            self._reply(handler, 200, "ok")
            return
        match = _LOG_PATH.match(url.path)
        if not match:
            self.unsupported(handler)
            return
        namespace, pod, container = (unquote(g) for g in match.groups())
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        path = self.pods_dir / f"{namespace}_{pod}" / f"{container}.log"
        if not path.exists():
            self._reply(handler, 404, f"no log for container {container!r} of pod {namespace}/{pod} on this node\n")
            return

        def as_int(name: str) -> int | None:
            try:
                return int(query[name]) if name in query else None
            except ValueError:
                return None

        data = tail_bytes(path.read_bytes(), as_int("tailLines"), as_int("limitBytes"))
        offset = path.stat().st_size
        handler.send_response(200)
        handler.send_header("Content-Type", "text/plain; charset=utf-8")
        handler.end_headers()
        try:
            handler.wfile.write(data)
            handler.wfile.flush()
            if query.get("follow") in ("true", "1"):
                self._follow(handler, path, offset, namespace, pod, container)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            return

    def _follow(self, handler, path: Path, offset: int, namespace: str, pod: str, container: str) -> None:
        idle_after_stop = 0
        while True:
            size = path.stat().st_size if path.exists() else 0
            if size > offset:
                with open(path, "rb") as f:
                    f.seek(offset)
                    chunk = f.read(size - offset)
                offset = size
                handler.wfile.write(chunk)
                handler.wfile.flush()
                idle_after_stop = 0
            elif not self.is_running(namespace, pod, container):
                idle_after_stop += 1
                if idle_after_stop > 2:  # drained what the last process wrote
                    return
            time.sleep(FOLLOW_POLL_SECONDS)
