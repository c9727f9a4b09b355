"""Free TCP ports for the processes the local cluster, the tests and the benchmarks start.

A port is chosen before the process that listens on it starts (it goes into its flags or a
kubeconfig), so there is always a window in which someone else may take it. Asking the kernel for
port 0 gives a port from the *ephemeral* range — the very range the kernel then hands out as the
source port of every outgoing connection (the API server's watches, MinIO clients, kubelets), so
a port chosen that way and listened on seconds later can be taken (CI saw the operator's
health port become a client's source port while the operator restarted). Ports here are drawn
below the ephemeral range, where only explicit binds land, and bind-checked together.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST = 10000  # above the well-known and most registered service ports
ATTEMPTS = 1000


def ephemeral_floor(path: Path = EPHEMERAL_RANGE_FILE) -> int:
    """The first port of the kernel's ephemeral range (32768 when it cannot be read)."""
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_ports(count: int, host: str = "127.0.0.1", *, rng: random.Random | None = None) -> list[int]:
    """`count` distinct TCP ports free on `host`, all below the ephemeral range.

    The sockets stay bound until all are found, so none repeats; they are closed before return.
    """
    rng = rng or random.SystemRandom()
    top = ephemeral_floor()
    if top - LOWEST < count:
        raise RuntimeError(f"the ephemeral range starts at {top}: fewer than {count} ports below it "
                           f"from {LOWEST} (see {EPHEMERAL_RANGE_FILE})")
    socks: list[socket.socket] = []
    try:
        for _ in range(ATTEMPTS):
            if len(socks) == count:
                break
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind((host, rng.randrange(LOWEST, top)))
            except OSError:
                s.close()
                continue
            socks.append(s)
        if len(socks) < count:
            raise RuntimeError(f"found only {len(socks)} of {count} free ports on {host} "
                               f"in {LOWEST}..{top - 1} after {ATTEMPTS} tries")
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def free_port(host: str = "127.0.0.1") -> int:
    """One free TCP port on `host`, below the ephemeral range."""
    return free_ports(1, host)[0]
