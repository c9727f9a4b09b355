"""Configuration files of a real node's processes (pure: plans in, documents out).

Each document says why it departs from a default; most of them are what this machine needs
(cgroup v1 hybrid, no CAP_SYS_RESOURCE, no registry to pull from, no upstream DNS).
"""

from __future__ import annotations

from ecc_devcluster.nodes.plan import (
    CLUSTER_DNS_IP,
    CLUSTER_DOMAIN,
    POD_BRIDGE,
    POD_CIDR,
    FabricPlan,
    NodePlan,
)

CNI_BIN_DIR = "/usr/lib/cni"
"""Debian's containernetworking-plugins."""
RUNC = "/usr/sbin/runc"
KUBELET_ROOT = "/var/lib/kubelet"
"""Inside the node's mount namespace; bound to NodePlan.kubelet_root."""
CONTAINERD_STATE = "/run/containerd"
"""Inside the node's mount namespace (a tmpfs of its own): containerd 1.6 puts shim sockets
under /run/containerd/s whatever its config says, so nodes must not share /run."""
KUBELET_HEALTHZ_PORT = 10248
KUBE_PROXY_HEALTHZ_PORT = 10256
KUBE_PROXY_METRICS_PORT = 10249


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_toml(doc: dict, prefix: str = "") -> str:
    """A minimal TOML writer for containerd's nested tables (strings, ints, bools, lists)."""
    scalars = [(k, v) for k, v in doc.items() if not isinstance(v, dict)]
    tables = [(k, v) for k, v in doc.items() if isinstance(v, dict)]
    lines = [f"{k} = {_toml_value(v)}" for k, v in scalars]
    out = ""
    if prefix and (lines or not tables):
        out += f"\n[{prefix}]\n"
    if lines:
        out += "\n".join(lines) + "\n"
    for k, v in tables:
        key = f'"{k}"' if "." in k else k
        out += to_toml(v, f"{prefix}.{key}" if prefix else key)
    return out


def containerd_config(node: NodePlan, pause_image: str) -> dict:
    cri = "io.containerd.grpc.v1.cri"
    return {
        "version": 2,
        "root": node.containerd_root,
        "state": CONTAINERD_STATE,
        "disabled_plugins": [
            "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
            "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs",
            "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing",
        ],
        "grpc": {"address": node.containerd_socket},
        "plugins": {
            cri: {
                # The pause image is built here (nothing can be pulled); so is every other image.
                "sandbox_image": pause_image,
                # CAP_SYS_RESOURCE is not in this machine's bounding set: a negative
                # oom_score_adj is refused, and without this a sandbox fails to start.
                "restrict_oom_score_adj": True,
                "disable_apparmor": True,
                "enable_selinux": False,
                # exec, attach and port-forward: the kubelet reaches it inside the node.
                "stream_server_address": "127.0.0.1",
                "stream_server_port": "0",
                "containerd": {
                    "snapshotter": "overlayfs",
                    "default_runtime_name": "runc",
                    "discard_unpacked_layers": False,
                    "runtimes": {"runc": {
                        "runtime_type": "io.containerd.runc.v2",
                        "options": {"BinaryName": RUNC, "SystemdCgroup": False},
                    }},
                },
                "cni": {"bin_dir": CNI_BIN_DIR, "conf_dir": f"{node.config_dir}/cni", "max_conf_num": 1},
            },
        },
    }


def cni_config(node: NodePlan) -> dict:
    """A bridge per node; routes between nodes' pod subnets live in the fabric (host.py)."""
    return {
        "cniVersion": "1.0.0",
        "name": "ecc",
        "plugins": [
            {
                "type": "bridge",
                "bridge": POD_BRIDGE,
                "isGateway": True,
                "ipMasq": False,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": node.pod_cidr, "gateway": node.pod_gateway}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": f"{node.dir}/cni-ipam",
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }


def kubelet_config(node: NodePlan, fabric: FabricPlan, *, ca_file: str, cert_dir: str) -> dict:
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        # cgroups here are v1 (hybrid): the kubelet must be told that is fine, and use cgroupfs.
        "failCgroupV1": False,
        "cgroupDriver": "cgroupfs",
        "cgroupRoot": node.cgroup_parent,
        "containerRuntimeEndpoint": f"unix://{node.containerd_socket}",
        "address": node.node_ip,
        "port": 10250,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": KUBELET_HEALTHZ_PORT,
        "tlsCertFile": f"{cert_dir}/kubelet-serving.crt",
        "tlsPrivateKeyFile": f"{cert_dir}/kubelet-serving.key",
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": ca_file},
        },
        "authorization": {"mode": "Webhook"},
        "clusterDNS": [CLUSTER_DNS_IP],
        "clusterDomain": CLUSTER_DOMAIN,
        # No upstream resolver: pods resolve cluster names only (no traffic leaves the cluster).
        "resolvConf": "",
        "registerWithTaints": [
            {"key": t["key"], "value": t.get("value", ""), "effect": t["effect"]} for t in node.taints
        ],
        "failSwapOn": False,
        "protectKernelDefaults": False,
        # The images cannot be pulled again: never collect them.
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "evictionHard": {"memory.available": "100Mi", "nodefs.available": "2%", "imagefs.available": "2%"},
        "serializeImagePulls": False,
        "rotateCertificates": False,
        "serverTLSBootstrap": False,
        "maxPods": 110,
        "podPidsLimit": 4096,
        "enableDebuggingHandlers": True,
        "containerLogMaxSize": "10Mi",
        "containerLogMaxFiles": 2,
        "nodeStatusUpdateFrequency": "10s",
        "shutdownGracePeriod": "0s",
        "logging": {"format": "text"},
    }


def kube_proxy_config(node: NodePlan, kubeconfig: str) -> dict:
    return {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": kubeconfig},
        "hostnameOverride": node.name,
        "bindAddress": "0.0.0.0",
        "healthzBindAddress": f"127.0.0.1:{KUBE_PROXY_HEALTHZ_PORT}",
        "metricsBindAddress": f"127.0.0.1:{KUBE_PROXY_METRICS_PORT}",
        # The kernel has no IPVS.
        "mode": "iptables",
        "clusterCIDR": str(POD_CIDR),
        # Pods sit on one bridge per node and there is no br_netfilter here: masquerading
        # every Service connection keeps replies on the path their request took.
        "iptables": {"masqueradeAll": True, "syncPeriod": "30s", "minSyncPeriod": "1s"},
        # The conntrack table is the host's: leave its sizes and timeouts alone (0 = do not set).
        "conntrack": {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"},
        "nodePortAddresses": [f"{node.node_ip}/32"],
    }


def egress_selector_config(proxy_socket: str) -> dict:
    """The API server reaches kubelets and pods (logs, exec, port-forward, proxy) through the
    gateway's HTTP CONNECT proxy (on a unix socket), as it would through Konnectivity or KubeEdge's
    cloud stream when nodes sit behind a NAT."""
    return {
        "apiVersion": "apiserver.k8s.io/v1beta1",
        "kind": "EgressSelectorConfiguration",
        "egressSelections": [{
            "name": "cluster",
            # a unix socket: the API server's TCP transport insists on TLS client certificates
            "connection": {"proxyProtocol": "HTTPConnect", "transport": {"uds": {"udsName": proxy_socket}}},
        }],
    }
