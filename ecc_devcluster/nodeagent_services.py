"""Services for pods on process nodes: the agent's stand-in for kube-proxy and cluster DNS.

Every Service gets a loopback address in 127.200.0.0/16 (claimed machine-wide, so
the agents of several local clusters never collide); the agent listens there on each TCP Service port and forwards each
connection to a ready pod of its own whose labels match the selector, on the
resolved targetPort (the `kubernetes` Service forwards to the API server). Each
pod's hosts file (bind-mounted on its /etc/hosts) maps the Services' DNS names to
those addresses and is rewritten in place whenever Services change. Endpoints are
computed from the agent's own pods (the only ones reachable here), not read from
EndpointSlices.
"""

from __future__ import annotations

import asyncio
import errno
import itertools
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ecc_devcluster.nodeagent_network import (
    AddressClaims,
    ServiceEntry,
    ServicePort,
    hosts_file,
    resolve_target_port,
    selector_matches,
    service_entry_from_json,
    service_pool,
)
from ecc_devcluster.nodeagent_runner import write_in_place

log = logging.getLogger("ecc.nodeagent.services")


@dataclass(frozen=True)
class LocalPod:
    """A pod this agent runs, as the Service router sees it."""

    namespace: str
    name: str
    labels: dict
    pod_ip: str
    ready: bool
    pod: dict


@dataclass
class HostsSubscriber:
    path: Path
    pod_name: str
    pod_ip: str
    namespace: str


class ServiceRouter:
    def __init__(self, apiserver: tuple[str, int], local_pods: Callable[[], list[LocalPod]],
                 claims: AddressClaims | None = None):
        self.apiserver = apiserver
        self.local_pods = local_pods
        self.pool = service_pool(claims)
        self._services: dict[str, dict] = {}
        self._entries: dict[str, ServiceEntry] = {}
        self._hosts: dict[str, HostsSubscriber] = {}
        self._servers: dict[tuple[str, int], asyncio.base_events.Server] = {}
        self._wanted: dict[tuple[str, int], tuple[str, ServicePort]] = {}
        self._rr = itertools.count()
        self._sync_lock: asyncio.Lock | None = None
        self._lock = threading.RLock()
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="service-forwarders", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------- service table
    def set_services(self, services: list[dict]) -> None:
        with self._lock:
            self._services = {f"{s['metadata']['namespace']}/{s['metadata']['name']}": s for s in services}
            self._rebuild()

    def upsert_service(self, svc: dict) -> None:
        with self._lock:
            self._services[f"{svc['metadata']['namespace']}/{svc['metadata']['name']}"] = svc
            self._rebuild()

    def delete_service(self, svc: dict) -> None:
        with self._lock:
            key = f"{svc['metadata']['namespace']}/{svc['metadata']['name']}"
            self._services.pop(key, None)
            self.pool.release(key)
            self._rebuild()

    def pods_changed(self) -> None:
        """Readiness or membership of local pods changed (headless Services' addresses may move)."""
        with self._lock:
            self._rebuild()

    def _address_for(self, key: str, svc: dict) -> str | None:
        spec = svc.get("spec") or {}
        if spec.get("type") == "ExternalName":
            return None
        if spec.get("clusterIP") == "None":
            entry = service_entry_from_json(svc, None)
            ready = [p for p in self.local_pods() if p.ready and p.namespace == entry.namespace
                     and selector_matches(entry.selector, p.labels)]
            return sorted(ready, key=lambda p: p.name)[0].pod_ip if ready else None
        return self.pool.allocate(key)

    def _rebuild(self) -> None:
        entries = {key: service_entry_from_json(svc, self._address_for(key, svc)) for key, svc in self._services.items()}
        wanted: dict[tuple[str, int], tuple[str, ServicePort]] = {}
        for key, entry in entries.items():
            if entry.headless or not entry.address:
                continue
            for port in entry.ports:
                if port.protocol != "TCP":
                    continue
                wanted[(entry.address, port.port)] = (key, port)
        changed = entries != self._entries
        self._entries = entries
        self._wanted = wanted
        asyncio.run_coroutine_threadsafe(self._sync_servers(), self.loop)
        if changed:
            self._write_all_hosts()

    def entries(self) -> list[ServiceEntry]:
        with self._lock:
            return list(self._entries.values())

    # ------------------------------------------------------------- hosts files
    def subscribe_hosts(self, uid: str, sub: HostsSubscriber) -> None:
        with self._lock:
            self._hosts[uid] = sub
            self._write_hosts(sub)

    def unsubscribe_hosts(self, uid: str) -> None:
        with self._lock:
            self._hosts.pop(uid, None)

    def _write_hosts(self, sub: HostsSubscriber) -> None:
        content = hosts_file(sub.pod_name, sub.pod_ip, sub.namespace, list(self._entries.values()))
        try:
            write_in_place(sub.path, content.encode())
        except OSError as exc:
            log.warning("cannot write hosts file %s: %s", sub.path, exc)

    def _write_all_hosts(self) -> None:
        for sub in self._hosts.values():
            self._write_hosts(sub)

    # ------------------------------------------------------------- forwarders
    async def _sync_servers(self) -> None:
        if self._sync_lock is None:
            self._sync_lock = asyncio.Lock()
        async with self._sync_lock:  # one sync at a time: never two listeners for one address
            await self._sync_servers_locked()

    async def _sync_servers_locked(self) -> None:
        wanted = dict(self._wanted)
        for addr in list(self._servers):
            if addr not in wanted:
                server = self._servers.pop(addr)
                server.close()
        for addr in wanted:
            if addr in self._servers:
                continue
            host, port = addr
            try:
                self._servers[addr] = await asyncio.start_server(
                    lambda r, w, a=addr: self._handle(a, r, w), host=host, port=port, reuse_address=True
                )
                log.info("forwarding %s:%d for Service %s", host, port, wanted[addr][0])
            except OSError as exc:
                key = wanted[addr][0]
                if exc.errno == errno.EADDRINUSE and key in self._services:
                    # Another program (e.g. an older agent without address claims) listens there:
                    # move the Service to another address.
                    log.warning("%s:%d is busy; moving Service %s to another address", host, port, key)
                    self.pool.avoid(key)
                    with self._lock:
                        self._rebuild()
                else:
                    log.error("cannot listen on %s:%d for Service %s: %s", host, port, key, exc)

    def backend(self, addr: tuple[str, int]) -> tuple[str, int] | None:
        with self._lock:
            target = self._wanted.get(addr)
            if target is None:
                return None
            key, port = target
            if key == "default/kubernetes":
                return self.apiserver
            entry = self._entries.get(key)
        if entry is None:
            return None
        candidates = []
        for pod in self.local_pods():
            if pod.ready and pod.namespace == entry.namespace and selector_matches(entry.selector, pod.labels):
                target_port = resolve_target_port(port.target_port, pod.pod)
                if target_port:
                    candidates.append((pod.pod_ip, target_port))
        if not candidates:
            return None
        candidates.sort()
        return candidates[next(self._rr) % len(candidates)]

    async def _handle(self, addr: tuple[str, int], reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        backend = self.backend(addr)
        if backend is None:
            log.info("no ready endpoint for %s:%d; closing connection", *addr)
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.wait_for(asyncio.open_connection(*backend), timeout=5)
        except (OSError, asyncio.TimeoutError) as exc:
            log.info("connecting %s:%d -> %s:%d failed: %s", *addr, *backend, exc)
            writer.close()
            return

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
                if dst.can_write_eof():
                    dst.write_eof()
            except (OSError, asyncio.CancelledError):
                pass

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        for w in (writer, up_writer):
            try:
                w.close()
            except OSError:
                pass

    def close(self) -> None:
        async def shutdown() -> None:
            self._wanted = {}
            await self._sync_servers()
            current = asyncio.current_task()
            others = [t for t in asyncio.all_tasks() if t is not current]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(timeout=5)
        except Exception:  # noqa: BLE001 - best effort at exit
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.pool.release_all()
