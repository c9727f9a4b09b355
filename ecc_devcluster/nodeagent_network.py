"""Addresses and names for pods on process nodes (the agent's stand-in for a CNI and cluster DNS).

Pure parts: loopback address pools (pods in 127.100.0.0/16, Service forwarders in
127.200.0.0/16 — never a private or public range) and the per-pod hosts file that
maps Service DNS names to the forwarders' addresses. Our components bind their
servers to the pod's address, given to them as ECC_POD_IP (= status.podIP).
"""

from __future__ import annotations

import ipaddress
import os
import threading
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ecc_devcluster.nodeagent_model import POD_CIDR, SERVICE_CIDR

CLUSTER_DOMAIN = "cluster.local"
CLAIMS_DIR = Path("/run/ecc-devcluster/addresses")
"""Machine-wide claims of loopback addresses, one file per address holding its owner
(`pid:starttime` of the agent): several local clusters (e.g. `default` and a test
cluster) each run an agent, and their pods and forwarders must never share an address."""


def _process_token(pid: int) -> str | None:
    """`pid:starttime` of a live process (starttime guards against PID reuse), else None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] in ("Z", "X"):
        return None
    return f"{pid}:{fields[19]}"


class AddressClaims:
    """Claims on addresses shared by every agent of this machine (files in a directory)."""

    def __init__(self, directory: Path = CLAIMS_DIR, owner: str | None = None):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.owner = owner or _process_token(os.getpid()) or f"{os.getpid()}:0"

    def _owner_alive(self, owner: str) -> bool:
        pid, _, _ = owner.partition(":")
        return pid.isdigit() and _process_token(int(pid)) == owner

    def claim(self, ip: str) -> bool:
        path = self.directory / ip
        for _ in range(3):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                try:
                    owner = path.read_text().strip()
                except FileNotFoundError:
                    continue
                if owner == self.owner:
                    return True
                if not owner or self._owner_alive(owner):
                    return False
                # A dead agent's claim: move it aside (only one contender's rename succeeds), retry.
                try:
                    os.rename(path, self.directory / f".stale-{ip}-{self.owner}")
                    os.unlink(self.directory / f".stale-{ip}-{self.owner}")
                except FileNotFoundError:
                    pass
                continue
            with os.fdopen(fd, "w") as handle:
                handle.write(self.owner)
            return True
        return False

    def release(self, ip: str) -> None:
        path = self.directory / ip
        try:
            if path.read_text().strip() == self.owner:
                path.unlink()
        except FileNotFoundError:
            pass


class AddressPool:
    """Hands out distinct IPv4 addresses of a loopback network, one per key (thread-safe).

    Host parts ending in .0 or .255 and the network's first address are never used. With
    `claims`, an address is also claimed machine-wide, so other agents skip it.
    """

    def __init__(self, cidr: str, reserved: set[str] | None = None, claims: AddressClaims | None = None):
        self.network = ipaddress.ip_network(cidr)
        if not self.network.subnet_of(ipaddress.ip_network("127.0.0.0/8")):
            raise ValueError(f"address pool {cidr} must lie inside 127.0.0.0/8 (loopback only)")
        self._reserved = set(reserved or ())
        self._claims = claims
        self._by_key: dict[str, str] = {}
        self._next = int(self.network.network_address) + 2
        self._lock = threading.Lock()

    def _usable(self, ip: ipaddress.IPv4Address) -> bool:
        last = int(ip) & 0xFF
        return (
            ip in self.network
            and last not in (0, 255)
            and int(ip) > int(self.network.network_address) + 1
            and int(ip) < int(self.network.broadcast_address)
            and str(ip) not in self._reserved
        )

    def _take(self, key: str, ip: str) -> bool:
        if self._claims is not None and not self._claims.claim(ip):
            return False
        self._by_key[key] = ip
        return True

    def allocate(self, key: str, preferred: str | None = None) -> str:
        with self._lock:
            if key in self._by_key:
                return self._by_key[key]
            taken = set(self._by_key.values())
            if preferred:
                try:
                    ip = ipaddress.ip_address(preferred)
                except ValueError:
                    ip = None
                if ip is not None and self._usable(ip) and str(ip) not in taken and self._take(key, str(ip)):
                    return str(ip)
            first = int(self.network.network_address) + 2
            size = int(self.network.broadcast_address) - first
            for step in range(size):
                candidate = ipaddress.ip_address(first + (self._next - first + step) % size)
                if self._usable(candidate) and str(candidate) not in taken and self._take(key, str(candidate)):
                    self._next = int(candidate) + 1
                    return str(candidate)
            raise RuntimeError(f"address pool {self.network} is exhausted ({len(taken)} in use here)")

    def release(self, key: str) -> None:
        with self._lock:
            ip = self._by_key.pop(key, None)
            if ip is not None and self._claims is not None:
                self._claims.release(ip)

    def release_all(self) -> None:
        with self._lock:
            for key in list(self._by_key):
                ip = self._by_key.pop(key)
                if self._claims is not None:
                    self._claims.release(ip)

    def avoid(self, key: str) -> None:
        """The address given to `key` turned out to be busy (someone else listens there):
        never hand it out again from this pool, and give `key` another one next time."""
        with self._lock:
            ip = self._by_key.pop(key, None)
            if ip is not None:
                self._reserved.add(ip)
                if self._claims is not None:
                    self._claims.release(ip)

    def get(self, key: str) -> str | None:
        return self._by_key.get(key)

    def in_use(self) -> dict[str, str]:
        with self._lock:
            return dict(self._by_key)


def pod_pool(claims: AddressClaims | None = None) -> AddressPool:
    return AddressPool(POD_CIDR, claims=claims)


def service_pool(claims: AddressClaims | None = None) -> AddressPool:
    return AddressPool(SERVICE_CIDR, claims=claims)


class ServicePort(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str = ""
    port: int
    target_port: int | str
    protocol: str = "TCP"


class ServiceEntry(BaseModel):
    """A Service as the agent serves it: a name, an address (forwarder or, if headless, a pod) and ports."""

    model_config = ConfigDict(frozen=True)

    namespace: str
    name: str
    address: str | None = Field(default=None, description="where its DNS names point; None = no entry")
    ports: tuple[ServicePort, ...] = ()
    selector: tuple[tuple[str, str], ...] = ()
    headless: bool = False


def service_entry_from_json(svc: dict, address: str | None) -> ServiceEntry:
    meta, spec = svc.get("metadata") or {}, svc.get("spec") or {}
    ports = tuple(
        ServicePort(
            name=p.get("name") or "",
            port=int(p["port"]),
            target_port=p.get("targetPort") if p.get("targetPort") not in (None, "") else int(p["port"]),
            protocol=p.get("protocol") or "TCP",
        )
        for p in spec.get("ports") or []
    )
    return ServiceEntry(
        namespace=meta.get("namespace", "default"),
        name=meta["name"],
        address=address,
        ports=ports,
        selector=tuple(sorted((spec.get("selector") or {}).items())),
        headless=spec.get("clusterIP") == "None",
    )


def service_names(service: ServiceEntry, pod_namespace: str) -> list[str]:
    """DNS names a pod in `pod_namespace` may use for `service` (no search path in a hosts file)."""
    base = f"{service.name}.{service.namespace}"
    names = [f"{base}.svc.{CLUSTER_DOMAIN}", f"{base}.svc", base]
    if service.namespace == pod_namespace:
        names.append(service.name)
    return names


def hosts_file(pod_name: str, pod_ip: str, pod_namespace: str, services: list[ServiceEntry]) -> str:
    """Content of a pod's /etc/hosts: localhost, the pod's own name, then one line per Service."""
    lines = [
        "# Managed by the ECC process node agent (a development stand-in for a kubelet and cluster DNS).",
        "127.0.0.1\tlocalhost",
        "::1\tlocalhost ip6-localhost ip6-loopback",
        f"{pod_ip}\t{pod_name}",
    ]
    for service in sorted(services, key=lambda s: (s.namespace, s.name)):
        if service.address:
            lines.append(f"{service.address}\t" + " ".join(service_names(service, pod_namespace)))
    return "\n".join(lines) + "\n"


def selector_matches(selector: tuple[tuple[str, str], ...], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector)


def resolve_target_port(target: int | str, pod: dict) -> int | None:
    """A Service's targetPort on a pod: a number, or a named containerPort."""
    if isinstance(target, int) or (isinstance(target, str) and target.isdigit()):
        return int(target)
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == target:
                return int(port["containerPort"])
    return None
