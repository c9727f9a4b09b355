"""The one process that joins the host's loopback and the cluster network.

    python -m ecc_devcluster.nodes.gateway CONFIG.json

It holds sockets in two network namespaces (a socket belongs to the namespace it was created
in, whatever namespace its process is in later):

* relays: listeners on the fabric's gateway address that pass connections on to a loopback
  port of the host: the API server (for kubelets, kube-proxy and pods, through the
  `kubernetes` Service) and MinIO (through the `ecc-store` Service);
* a proxy, on a unix socket and on 127.0.0.1: HTTP CONNECT for the API server's egress to
  kubelets and pods (logs, exec, port-forward, proxy) and plain forward-proxy GETs for
  Prometheus' scrapes of pods.
  Only destinations inside the cluster's own networks are accepted.

Nothing else crosses between the host and the nodes.
"""

from __future__ import annotations

import asyncio
import ctypes
import ipaddress
import os
import signal
import socket
import sys
from contextlib import contextmanager
from pathlib import Path

from pydantic import BaseModel, Field

CLONE_NEWNET = 0x40000000
MAX_HEADER_BYTES = 64 * 1024
CONNECT_TIMEOUT_S = 10.0


class Relay(BaseModel):
    listen_port: int = Field(gt=0, lt=65536)
    target_port: int = Field(gt=0, lt=65536)
    """on the host's 127.0.0.1"""
    name: str


class GatewayConfig(BaseModel):
    """The gateway's configuration file (written by `ecc-dev up`)."""

    schema_version: int = 1
    fabric_netns: str
    """path of the fabric's network namespace, /run/netns/NAME"""
    gateway_ip: str
    relays: list[Relay]
    proxy_port: int = Field(gt=0, lt=65536)
    """HTTP proxy on the host's 127.0.0.1 (Prometheus)"""
    egress_socket: str
    """the same proxy on a unix socket (the API server's egress selector)"""
    allowed_networks: list[str]
    """CIDRs the proxy may connect to (the fabric and the pod network)"""
    ready_file: str


_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


class Namespaces:
    """Create sockets in the host's or the fabric's network namespace (this thread only)."""

    def __init__(self, fabric_path: str):
        self.host_fd = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        self.fabric_fd = os.open(fabric_path, os.O_RDONLY)

    @contextmanager
    def fabric(self):
        _setns(self.fabric_fd)
        try:
            yield
        finally:
            _setns(self.host_fd)


def allowed(host: str, networks: list[ipaddress.IPv4Network]) -> bool:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def parse_target(request_line: str) -> tuple[str, str, int, str]:
    """(method, host, port, path) of a proxy request line: `CONNECT h:p HTTP/1.1` or
    `GET http://h:p/path HTTP/1.1`. ValueError names what is wrong."""
    parts = request_line.split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        raise ValueError(f"not an HTTP request line: {request_line[:80]!r}")
    method, target, _ = parts
    if method == "CONNECT":
        host, _, port = target.rpartition(":")
        return method, host.strip("[]"), int(port), ""
    if not target.startswith("http://"):
        raise ValueError(f"only CONNECT or http:// targets are proxied, got {target[:80]!r}")
    rest = target[len("http://"):]
    hostport, slash, path = rest.partition("/")
    host, _, port = hostport.rpartition(":") if ":" in hostport else (hostport, "", "80")
    return method, host, int(port), "/" + path if slash else "/"


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            if writer.can_write_eof():
                writer.write_eof()
        except OSError:
            pass


async def splice(a: tuple[asyncio.StreamReader, asyncio.StreamWriter],
                 b: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
    try:
        await asyncio.gather(_pipe(a[0], b[1]), _pipe(b[0], a[1]))
    finally:
        for w in (a[1], b[1]):
            w.close()


class Gateway:
    def __init__(self, config: GatewayConfig):
        self.config = config
        self.ns = Namespaces(config.fabric_netns)
        self.networks = [ipaddress.ip_network(n) for n in config.allowed_networks]

    async def connect_fabric(self, host: str, port: int):
        with self.ns.fabric():
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, (host, port)), CONNECT_TIMEOUT_S)
        except BaseException:
            sock.close()
            raise
        return await asyncio.open_connection(sock=sock)

    async def relay(self, target_port: int, reader, writer) -> None:
        try:
            upstream = await asyncio.open_connection("127.0.0.1", target_port)
        except OSError:
            writer.close()
            return
        await splice((reader, writer), upstream)

    async def proxy(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        try:
            method, host, port, path = parse_target(lines[0])
        except ValueError as exc:
            return await self._refuse(writer, 400, str(exc))
        if not allowed(host, self.networks):
            return await self._refuse(writer, 403, f"{host} is not in the cluster's networks "
                                                   f"({', '.join(self.config.allowed_networks)})")
        try:
            upstream = await self.connect_fabric(host, port)
        except (OSError, asyncio.TimeoutError) as exc:
            return await self._refuse(writer, 502, f"cannot reach {host}:{port}: {exc}")
        if method == "CONNECT":
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
        else:
            # One request per connection: a client reuses a proxy connection for any target.
            headers = [h for h in lines[1:] if h and not h.lower().startswith(("proxy-", "connection:"))]
            upstream[1].write(("\r\n".join([f"{method} {path} HTTP/1.1", *headers, "Connection: close", "", ""]))
                              .encode("latin-1"))
        await splice((reader, writer), upstream)

    @staticmethod
    async def _refuse(writer: asyncio.StreamWriter, status: int, reason: str) -> None:
        body = (reason + "\n").encode()
        writer.write(f"HTTP/1.1 {status} Refused\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
                     .encode() + body)
        try:
            await writer.drain()
        finally:
            writer.close()

    async def serve(self) -> None:
        Path(self.config.egress_socket).unlink(missing_ok=True)
        servers = [await asyncio.start_server(self.proxy, "127.0.0.1", self.config.proxy_port,
                                              limit=MAX_HEADER_BYTES),
                   await asyncio.start_unix_server(self.proxy, self.config.egress_socket, limit=MAX_HEADER_BYTES)]
        os.chmod(self.config.egress_socket, 0o600)
        for relay in self.config.relays:
            with self.ns.fabric():
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.config.gateway_ip, relay.listen_port))
            sock.listen(256)
            sock.setblocking(False)
            servers.append(await asyncio.start_server(
                lambda r, w, p=relay.target_port: self.relay(p, r, w), sock=sock))
        Path(self.config.ready_file).write_text(str(os.getpid()))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        for s in servers:
            s.close()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m ecc_devcluster.nodes.gateway CONFIG.json", file=sys.stderr)
        return 2
    config = GatewayConfig.model_validate_json(Path(args[0]).read_text())
    asyncio.run(Gateway(config).serve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
