"""Command lines of the real nodes' processes and of the gateway (pure: plans in, specs out).

Per node, in its network and mount namespaces: containerd, then the kubelet and kube-proxy.
`down` stops kubelets and kube-proxies first (tier 5, so nothing restarts a container), then
the containerds (tier 4), then the gateway (tier 3) before the control plane.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

from ecc_devcluster import kubeconfigs, pki
from ecc_devcluster.components import GATEWAY, NODE_PROCESSES, ComponentSpec, HealthCheck, Layout
from ecc_devcluster.nodes import configs
from ecc_devcluster.nodes.gateway import GatewayConfig, Relay
from ecc_devcluster.nodes.host import NETNS_DIR, in_node
from ecc_devcluster.nodes.plan import FABRIC_CIDR, GATEWAY_IP, POD_CIDR, FabricPlan, NodePlan

NODE_AGENTS_TIER = 5
"""kubelets and kube-proxies; containerds are one tier lower, the gateway two."""
KUBE_PROXY_USER = "system:kube-proxy"


def component_name(process: str, node: str) -> str:
    return f"{process}@{node}"


def split_component(name: str) -> tuple[str, str] | None:
    process, at, node = name.partition("@")
    return (process, node) if at and process in NODE_PROCESSES and node else None


def gateway_config(layout: Layout, fabric: FabricPlan, proxy_port: int) -> GatewayConfig:
    return GatewayConfig(
        fabric_netns=str(NETNS_DIR / fabric.netns),
        gateway_ip=GATEWAY_IP,
        relays=[
            Relay(name="kube-apiserver", listen_port=layout.ports.apiserver, target_port=layout.ports.apiserver),
            Relay(name="minio", listen_port=layout.ports.minio, target_port=layout.ports.minio),
        ],
        proxy_port=proxy_port,
        egress_socket=layout.gateway_egress_socket,
        allowed_networks=[str(FABRIC_CIDR), str(POD_CIDR)],
        ready_file=str(Path(layout.state_dir) / "gateway.ready"),
    )


def gateway_spec(layout: Layout, config_file: str, ready_file: str, proxy_url: str) -> ComponentSpec:
    return ComponentSpec(
        name=GATEWAY,
        argv=[layout.python, "-m", "ecc_devcluster.nodes.gateway", config_file],
        env={"PYTHONPATH": layout.repo_root},
        cwd=layout.state_dir,
        log=layout.log_file(GATEWAY),
        address=proxy_url,
        health=HealthCheck(kind="file", path=ready_file),
        stop_tier=NODE_AGENTS_TIER - 2,
        stop_timeout_s=5,
        ready_timeout_s=30,
    )


def write_node_files(layout: Layout, fabric: FabricPlan, node: NodePlan, pause_image: str) -> dict[str, str]:
    """Certificates, kubeconfigs and configuration files of one node; their paths."""
    d = Path(node.config_dir)
    (d / "cni").mkdir(parents=True, exist_ok=True)
    pki_dir = Path(node.dir) / "pki"
    keys = pki.issue_node_certificates(layout.pki, pki_dir, node.name, node.node_ip, KUBE_PROXY_USER)
    server = f"https://{GATEWAY_IP}:{layout.ports.apiserver}"

    def kubeconfig(name: str, user: str, cert: str, key: str) -> str:
        doc = kubeconfigs.kubeconfig_document(cluster_name=layout.name, server=server, ca_file=layout.pki.ca_cert,
                                              user=user, cert_file=cert, key_file=key)
        return kubeconfigs.write_kubeconfig(d / name, doc)

    paths = {
        "kubelet_kubeconfig": kubeconfig("kubelet.kubeconfig", f"system:node:{node.name}",
                                         keys["kubelet_client_cert"], keys["kubelet_client_key"]),
        "kube_proxy_kubeconfig": kubeconfig("kube-proxy.kubeconfig", KUBE_PROXY_USER,
                                            keys["kube_proxy_cert"], keys["kube_proxy_key"]),
        "containerd_config": str(d / "containerd.toml"),
        "kubelet_config": str(d / "kubelet.yaml"),
        "kube_proxy_config": str(d / "kube-proxy.yaml"),
    }
    Path(paths["containerd_config"]).write_text(configs.to_toml(configs.containerd_config(node, pause_image)))
    kubelet = configs.kubelet_config(node, fabric, ca_file=layout.pki.ca_cert, cert_dir=str(pki_dir))
    Path(paths["kubelet_config"]).write_text(yaml.safe_dump(kubelet, sort_keys=False))
    Path(paths["kube_proxy_config"]).write_text(
        yaml.safe_dump(configs.kube_proxy_config(node, paths["kube_proxy_kubeconfig"]), sort_keys=False))
    (d / "cni" / "10-ecc.conflist").write_text(json.dumps(configs.cni_config(node), indent=2))
    return paths


def _probe_in_node(node: NodePlan, url: str) -> HealthCheck:
    return HealthCheck(kind="exec", argv=["nsenter", f"--net={NETNS_DIR / node.netns}", "--",
                                          "curl", "-sf", "-o", "/dev/null", "--max-time", "2", url])


def node_specs(layout: Layout, node: NodePlan, files: dict[str, str]) -> list[ComponentSpec]:
    def spec(process: str, argv: list[str], health: HealthCheck, tier: int, address: str, **kw) -> ComponentSpec:
        name = component_name(process, node.name)
        return ComponentSpec(name=name, argv=in_node(node, argv), cwd=node.dir, log=layout.log_file(name),
                             address=address, health=health, stop_tier=tier, **kw)

    non_restricted = {k: v for k, v in node.labels.items() if not k.startswith("node-role.kubernetes.io/")}
    return [
        spec("containerd", ["/usr/bin/containerd", "--config", files["containerd_config"]],
             # the socket appears before the CRI server is initialised: ask what the kubelet asks first
             HealthCheck(kind="exec", argv=[sys.executable, "-m", "ecc_devcluster.nodes.cri_ready",
                                            node.containerd_socket]),
             NODE_AGENTS_TIER - 1, f"unix://{node.containerd_socket}",
             stop_timeout_s=15, ready_timeout_s=60),
        spec("kubelet", [
            layout.binary("kubelet"),
            f"--config={files['kubelet_config']}",
            f"--kubeconfig={files['kubelet_kubeconfig']}",
            f"--hostname-override={node.name}",
            f"--node-ip={node.node_ip}",
            f"--root-dir={configs.KUBELET_ROOT}",
            "--node-labels=" + ",".join(f"{k}={v}" for k, v in sorted(non_restricted.items())),
            "--v=1",
        ], _probe_in_node(node, f"http://127.0.0.1:{configs.KUBELET_HEALTHZ_PORT}/healthz"), NODE_AGENTS_TIER,
             f"https://{node.node_ip}:10250", stop_timeout_s=15, ready_timeout_s=90),
        spec("kube-proxy", [
            layout.binary("kube-proxy"),
            f"--config={files['kube_proxy_config']}",
            "--v=1",
        ], _probe_in_node(node, f"http://127.0.0.1:{configs.KUBE_PROXY_HEALTHZ_PORT}/healthz"), NODE_AGENTS_TIER,
             f"{node.node_ip}", stop_timeout_s=10, ready_timeout_s=90),
    ]
