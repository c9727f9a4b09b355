"""Bring real nodes into a cluster: prepare them (host side, files, specs), then start them.

`prepare` runs before the control plane starts; `start` once the API server answers:

1. the gateway (relays into the fabric, proxy out of it);
2. each node's containerd, from a hard-linked copy of the seed root that holds every image;
3. each node's kubelet and kube-proxy; the nodes register and become Ready; the role labels a
   kubelet may not set on itself (node-role.kubernetes.io/*) are set here, as an admin would;
4. the add-ons: CoreDNS, and the `ecc-store` Service in front of the gateway's MinIO relay.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from ecc_devcluster.components import GATEWAY, ComponentSpec, ComponentState, Layout
from ecc_devcluster.nodes import addons, host, seed, specs
from ecc_devcluster.nodes.plan import GATEWAY_IP, plan_nodes
from ecc_workloads import contracts as c

Say = Callable[[str], None]
READY_TIMEOUT_S = 180.0


def prepare(info, layout: Layout, *, cloud_workers: int, edge_nodes: int, say: Say) -> None:
    """Host side of every node (namespaces, links, cgroups, containerd roots) and their
    component specs, added to `info`; nothing is started."""
    if not cloud_workers and not edge_nodes:
        return
    t = time.monotonic()
    images = node_images(layout.bin_dir)
    seed_root = seed.ensure_seed(images, say)
    info.node_seed = seed.seed_key(images)
    info.timings["node_images_s"] = round(time.monotonic() - t, 2)
    refs = [i.reference for i in images]
    fabric, nodes = plan_nodes(layout.name, layout.state_dir, cloud_workers=cloud_workers, edge_nodes=edge_nodes,
                               cloud_images=refs, edge_images=refs)
    info.fabric, info.node_plans = fabric, nodes
    info.store_in_cluster = info.store.model_copy(update={"endpoint": addons.store_endpoint_in_cluster()})
    info.save()

    t = time.monotonic()
    host.setup_fabric(fabric)
    sysctls = host.read_sysctls()
    new_specs: list[ComponentSpec] = []
    gw = specs.gateway_config(layout, fabric, layout.ports.gateway_proxy)
    Path(layout.gateway_config).write_text(gw.model_dump_json(indent=2))
    new_specs.append(specs.gateway_spec(layout, layout.gateway_config, gw.ready_file, layout.gateway_proxy_url))
    for node in nodes:
        host.setup_node(fabric, node, sysctls)
        seed.hardlink_copy(seed_root, Path(node.containerd_root))
        files = specs.write_node_files(layout, fabric, node, seed.PAUSE_REFERENCE)
        new_specs += specs.node_specs(layout, node, files)
    for s in new_specs:
        info.components[s.name] = ComponentState(address=s.address, log=s.log, spec=s)
    info.timings["real_nodes_prepared_s"] = round(time.monotonic() - t, 2)
    info.save()
    say(f"prepared {len(nodes)} real node(s) in {time.monotonic() - t:.1f}s: {', '.join(n.name for n in nodes)}")


def node_images(bin_dir: str) -> list[seed.NodeImage]:
    return seed.project_node_images() + seed.node_images(Path(bin_dir))


def current_seed_key(bin_dir: str) -> str:
    """The seed key the nodes would get now (so a running cluster with older images is seen)."""
    return seed.seed_key(node_images(bin_dir))


def kubectl(info, *args: str, stdin: str | None = None, timeout_s: float = 120) -> str:
    argv = [str(Path(info.bin_dir) / "kubectl"), f"--kubeconfig={info.kubeconfig}", *args]
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout_s)
    if done.returncode != 0:
        raise RuntimeError(f"`kubectl {' '.join(args)}` failed: {(done.stderr or done.stdout).strip()}")
    return done.stdout


def start(info, api, *, say: Say, spawn: Callable[[str], object], wait_ready: Callable[[list[str]], object]) -> None:
    from ecc_devcluster import fakenodes

    spawn(GATEWAY)
    wait_ready([GATEWAY])
    say(f"gateway ready: {GATEWAY_IP} in the nodes' fabric, proxy {info.components[GATEWAY].address}")
    containerds = [specs.component_name("containerd", n.name) for n in info.node_plans]
    for name in containerds:
        spawn(name)
    wait_ready(containerds)
    agents = [specs.component_name(p, n.name) for n in info.node_plans for p in ("kubelet", "kube-proxy")]
    for name in agents:
        spawn(name)
    wait_ready(agents)
    fakenodes.wait_nodes_ready(api, label_selector=f"{c.NODE_KIND_LABEL}={c.NODE_KIND_REAL}",
                               expected=len(info.node_plans), timeout_s=READY_TIMEOUT_S)
    for node in info.node_plans:
        roles = [f"{k}={v}" for k, v in node.labels.items() if k.startswith("node-role.kubernetes.io/")]
        if roles:
            kubectl(info, "label", "node", node.name, "--overwrite", *roles)
    say(f"real nodes Ready: {', '.join(info.real_nodes)}")
    manifests = addons.coredns_manifests(seed.COREDNS_REFERENCE) + addons.store_manifests(
        GATEWAY_IP, int(info.store.endpoint.rsplit(":", 1)[1]))
    kubectl(info, "apply", "--server-side", "--field-manager=ecc-dev", "-f", "-",
            stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": manifests}))
    kubectl(info, "-n", addons.DNS_NAMESPACE, "rollout", "status", "deployment/coredns",
            f"--timeout={int(READY_TIMEOUT_S)}s", timeout_s=READY_TIMEOUT_S + 10)
    say(f"CoreDNS ready; the store is {addons.store_endpoint_in_cluster()} inside the cluster")


def remove_roots(info) -> None:
    """The nodes' containerd roots (hard links into the seed, plus containers' writable layers)."""
    for node in info.node_plans:
        shutil.rmtree(node.containerd_root, ignore_errors=True)

