"""What real nodes change on the host, and how it is all taken back.

Every change is made inside something the cluster creates and names after itself:
network namespaces `ecc-CLUSTER-*` (links, addresses, routes, iptables rules, sysctls of the
network stack all live there), one mount namespace per node bound under /run/ecc-fleet/CLUSTER
(tmpfs /run and /var/lib, the node's log and kubelet dirs, and files over the kernel sysctls the
kubelet insists on), and cgroups under /ecc-fleet-CLUSTER in every hierarchy. `teardown`
removes each of them; `audit` lists what is left, for `ecc-dev down` and its test.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from ecc_devcluster.nodes.plan import CLUSTER_NETWORKS, NODE_SYSCTLS, FabricPlan, NodePlan

CGROUP_FS = Path("/sys/fs/cgroup")
PROC_SYS = Path("/proc/sys")
NETNS_DIR = Path("/run/netns")

Say = Callable[[str], None]


class HostError(RuntimeError):
    """A host command failed; the message names it and its output."""


def run(argv: list[str], *, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise HostError(f"`{' '.join(argv)}` failed ({done.returncode}): {(done.stderr or done.stdout).strip()}")
    return done


def in_netns(netns: str, argv: list[str]) -> list[str]:
    """argv run in a network namespace. Not `ip netns exec`: that remounts /sys, after which
    containerd finds no cgroup mounts."""
    return ["nsenter", f"--net={NETNS_DIR / netns}", "--", *argv]


def in_node(node: NodePlan, argv: list[str]) -> list[str]:
    """argv run in the node's network and mount namespaces."""
    return ["nsenter", f"--net={NETNS_DIR / node.netns}", f"--mount={node.mount_ns}", "--", *argv]


# ---------------------------------------------------------------------------
# cgroups (v1 hierarchies and the v2 one)
# ---------------------------------------------------------------------------
def cgroup_hierarchies() -> list[Path]:
    """Mount points of every cgroup hierarchy (v1 controllers and the unified one)."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        fstype = right.split()[0] if right else ""
        if fstype in ("cgroup", "cgroup2"):
            found.append(Path(left.split()[4]))
    return found


def make_cgroup(path: str) -> None:
    """Create `path` in every hierarchy; cpuset needs its cpus and mems copied down each level."""
    for root in cgroup_hierarchies():
        parent = root
        for part in Path(path).parts[1:]:
            child = parent / part
            child.mkdir(exist_ok=True)
            for knob in ("cpuset.cpus", "cpuset.mems"):
                if (child / knob).exists() and not (child / knob).read_text().strip():
                    (child / knob).write_text((parent / knob).read_text())
            parent = child


def cgroup_pids(path: str) -> set[int]:
    pids: set[int] = set()
    for root in cgroup_hierarchies():
        base = root / path.lstrip("/")
        if not base.is_dir():
            continue
        for d in _cgroup_dirs(base):
            try:
                pids.update(int(p) for p in (d / "cgroup.procs").read_text().split())
            except OSError:
                continue
    return pids


def _cgroup_dirs(base: Path) -> list[Path]:
    """Every directory under base, deepest first, and base last.

    The kubelet and containerd remove their own cgroups while we walk the tree, so a directory that vanishes
    mid-walk is skipped (os.walk ignores a failed scandir) instead of failing the walk as Path.rglob does.
    """
    return [Path(top) for top, _dirs, _files in os.walk(base, topdown=False)]


def kill_cgroup(path: str, timeout_s: float = 10.0) -> None:
    """SIGKILL every process in the cgroup tree until it is empty."""
    deadline = time.monotonic() + timeout_s
    while True:
        pids = cgroup_pids(path)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if time.monotonic() > deadline:
            raise HostError(f"processes still in cgroup {path} after SIGKILL: {sorted(pids)}")
        time.sleep(0.1)


def remove_cgroup(path: str, timeout_s: float = 10.0) -> None:
    """rmdir the tree bottom-up in every hierarchy (a cgroup may take a moment to empty)."""
    deadline = time.monotonic() + timeout_s
    for root in cgroup_hierarchies():
        base = root / path.lstrip("/")
        if not base.is_dir():
            continue
        for d in _cgroup_dirs(base):
            while True:
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError as exc:
                    if time.monotonic() > deadline:
                        raise HostError(f"cannot remove cgroup {d}: {exc}") from None
                    time.sleep(0.1)


# ---------------------------------------------------------------------------
# The fabric and the nodes
# ---------------------------------------------------------------------------
def _netns_exists(name: str) -> bool:
    return (NETNS_DIR / name).exists()


def _guard_routes(fabric: FabricPlan) -> list[list[str]]:
    return [["unreachable", net, "metric", str(fabric.guard_metric)] for net in CLUSTER_NETWORKS]


def guard_host(fabric: FabricPlan) -> None:
    """Make the cluster's networks unreachable from the host while it runs: a connection from
    the host to a pod, node or Service address fails at once (EHOSTUNREACH) instead of leaving
    through the host's default route to an address that is not ours. Tools on the host go
    through the gateway's proxy. The routes carry a metric of the cluster's own, so two clusters
    can both hold theirs."""
    for route in _guard_routes(fabric):
        run(["ip", "route", "replace", *route])


def unguard_host(fabric: FabricPlan) -> None:
    for route in _guard_routes(fabric):
        if run(["ip", "route", "show", "exact", route[1], *route[2:]], check=False).stdout.strip():
            run(["ip", "route", "del", *route], check=False)


def setup_fabric(fabric: FabricPlan) -> None:
    guard_host(fabric)
    run(["ip", "netns", "add", fabric.netns])
    run(["ip", "-n", fabric.netns, "link", "set", "lo", "up"])
    run(["ip", "-n", fabric.netns, "link", "add", fabric.bridge, "type", "bridge"])
    run(["ip", "-n", fabric.netns, "addr", "add", f"{fabric.gateway_ip}/{fabric.prefix_len}", "dev", fabric.bridge])
    run(["ip", "-n", fabric.netns, "link", "set", fabric.bridge, "up"])
    run(in_netns(fabric.netns, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]))
    # A private mount to hold the nodes' mount namespace files (as /run/netns holds netns).
    rd = Path(fabric.run_dir)
    rd.mkdir(parents=True, exist_ok=True)
    run(["mount", "--bind", str(rd), str(rd)])
    run(["mount", "--make-private", str(rd)])
    make_cgroup(fabric.cgroup_root)


def setup_node(fabric: FabricPlan, node: NodePlan, host_sysctls: dict[str, str]) -> None:
    """Network namespace, link to the fabric, routes, mount namespace, cgroup of one node."""
    n, f = node.netns, fabric.netns
    run(["ip", "netns", "add", n])
    run(["ip", "-n", n, "link", "set", "lo", "up"])
    run(["ip", "-n", f, "link", "add", node.veth_fabric, "type", "veth", "peer", "name", "eth0", "netns", n])
    run(["ip", "-n", f, "link", "set", node.veth_fabric, "master", fabric.bridge, "up"])
    run(["ip", "-n", n, "addr", "add", f"{node.node_ip}/{fabric.prefix_len}", "dev", "eth0"])
    run(["ip", "-n", n, "link", "set", "eth0", "up"])
    run(["ip", "-n", n, "route", "add", "default", "via", fabric.gateway_ip])
    run(["ip", "-n", f, "route", "add", node.pod_cidr, "via", node.node_ip])
    run(in_netns(n, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]))

    d = Path(node.dir)
    for sub in ("kubelet", "log", "sysctl", "config/cni", "cni-ipam", "pki", "varlib"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    Path(node.mount_ns).touch()
    run(["unshare", f"--mount={node.mount_ns}", "--propagation", "private", "true"])
    script = [
        "set -e",
        "mount -t tmpfs -o mode=0755,size=64m ecc-node-run /run",
        # the node's own /var/lib on disk: hostPath volumes there (the agents' state) outlive their pods
        f"mount --bind {shlex.quote(str(d / 'varlib'))} /var/lib",
        "mkdir -p /var/lib/kubelet",
        f"mount --bind {shlex.quote(node.kubelet_root)} /var/lib/kubelet",
        f"mount --bind {shlex.quote(node.log_dir)} /var/log",
    ]
    for key, wanted in NODE_SYSCTLS.items():
        if host_sysctls.get(key) == wanted or not (PROC_SYS / key).exists():
            continue
        shield = d / "sysctl" / key.replace("/", ".")
        shield.write_text(wanted + "\n")
        script.append(f"mount --bind {shlex.quote(str(shield))} {PROC_SYS / key}")
    run(["nsenter", f"--mount={node.mount_ns}", "--", "sh", "-c", "\n".join(script)])
    make_cgroup(node.cgroup_parent)


def read_sysctls(keys: Iterable[str] = NODE_SYSCTLS) -> dict[str, str]:
    out = {}
    for key in keys:
        try:
            out[key] = (PROC_SYS / key).read_text().strip()
        except OSError:
            continue
    return out


def _mounted(path: Path) -> bool:
    target = str(path)
    return any(line.split()[4] == target for line in Path("/proc/self/mountinfo").read_text().splitlines())


def audit(cluster: str, state_dir: str) -> list[str]:
    """What of cluster `cluster`'s nodes is still on the host (empty after a clean down)."""
    from ecc_devcluster.nodes.plan import fabric_plan

    left = [f"network namespace {n}" for n in _cluster_netns(cluster)]
    if _guarded(fabric_plan(cluster)):
        left.append("guard routes")
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        mount_point = line.split()[4]
        if mount_point.startswith(f"/run/ecc-fleet/{cluster}") or mount_point.startswith(state_dir + "/"):
            left.append(f"mount {mount_point}")
    for root in cgroup_hierarchies():
        if (root / f"ecc-fleet-{cluster}").exists():
            left.append(f"cgroup {root / f'ecc-fleet-{cluster}'}")
    return left


def _guarded(fabric: FabricPlan) -> bool:
    out = run(["ip", "route", "show"], check=False).stdout
    return any(line.startswith("unreachable") and f"metric {fabric.guard_metric}" in line for line in out.splitlines())


def _cluster_netns(cluster: str) -> list[str]:
    import re

    pattern = re.compile(rf"^ecc-{re.escape(cluster)}-(fabric|ecc-(cloud|edge)-\d+)$")
    return sorted(p.name for p in NETNS_DIR.iterdir() if pattern.match(p.name)) if NETNS_DIR.is_dir() else []


def teardown_cluster(cluster: str) -> list[str]:
    """Remove whatever of a cluster's nodes is on the host, by name alone (so it also cleans up
    after a crash that lost the state file): processes left in its cgroups, mount namespaces,
    network namespaces (with their links, routes and iptables rules), cgroups. What was
    removed, for a message."""
    from ecc_devcluster.nodes.plan import fabric_plan

    fabric = fabric_plan(cluster)
    removed: list[str] = []
    if any((root / fabric.cgroup_root.lstrip("/")).exists() for root in cgroup_hierarchies()):
        kill_cgroup(fabric.cgroup_root)
    rd = Path(fabric.run_dir)
    if rd.exists():
        mnts = list(rd.glob("*.mnt"))
        for f in mnts:
            run(["umount", "--lazy", str(f)], check=False)
            f.unlink(missing_ok=True)
        while _mounted(rd):
            run(["umount", "--lazy", str(rd)], check=False)
        rd.rmdir()
        try:
            rd.parent.rmdir()
        except OSError:
            pass
        removed.append(f"{len(mnts)} mount namespace(s)")
    names = _cluster_netns(cluster)
    for n in names:
        run(["ip", "netns", "del", n], check=False)
    if names:
        removed.append(f"{len(names)} network namespace(s)")
    if _guarded(fabric):
        unguard_host(fabric)
        removed.append("guard routes")
    if any((root / fabric.cgroup_root.lstrip("/")).exists() for root in cgroup_hierarchies()):
        remove_cgroup(fabric.cgroup_root)
        removed.append("cgroups")
    return removed
