"""Command lines of the cluster's components (pure: a Layout in, ComponentSpecs out).

Each component is a real binary started as a background process. Everything a
restart needs (argv, env, health check) is kept in the spec, so `ecc-dev start
NAME` brings a component back on exactly the same address.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from ecc_devcluster.pki import ClusterPKI
from ecc_devcluster.scale import ScaleProfile

SERVICE_CLUSTER_IP_RANGE = "10.96.0.0/16"
"""kube-proxy's rules in each real node's network namespace route it (nodes/plan.py)."""
GATEWAY_IP = "10.250.0.1"
"""The gateway's address in the nodes' fabric (nodes/plan.py: GATEWAY_IP)."""
KWOK_POD_CIDR = "127.240.0.1/16"
KWOK_NODE_IP = "127.0.0.1"
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"
LOOPBACK = "127.0.0.1"

# Start order; `down` stops them in the reverse order of their stop tiers.
ETCD = "etcd"
APISERVER = "kube-apiserver"
CONTROLLER_MANAGER = "kube-controller-manager"
SCHEDULER = "kube-scheduler"
KWOK = "kwok"
MINIO = "minio"
PROMETHEUS = "prometheus"
POD_DISCOVERY = "pod-discovery"
GATEWAY = "gateway"
ALL_COMPONENTS = (ETCD, APISERVER, CONTROLLER_MANAGER, SCHEDULER, KWOK, MINIO, PROMETHEUS, POD_DISCOVERY, GATEWAY)
NODE_PROCESSES = ("containerd", "kubelet", "kube-proxy")
"""Each real node's processes, named PROCESS@NODE (e.g. kubelet@ecc-edge-0)."""
ALIASES = {
    "apiserver": APISERVER,
    "controller-manager": CONTROLLER_MANAGER,
    "kcm": CONTROLLER_MANAGER,
    "scheduler": SCHEDULER,
    "podsd": POD_DISCOVERY,
}

PROMETHEUS_BINARY = "/usr/bin/prometheus"


def canonical_component(name: str) -> str:
    """Resolve a user-given component name; a clear error lists the allowed names."""
    resolved = ALIASES.get(name, name)
    process, at, node = resolved.partition("@")
    if resolved not in ALL_COMPONENTS and not (at and process in NODE_PROCESSES and node):
        raise ValueError(
            f"unknown component {name!r}; allowed: {', '.join(ALL_COMPONENTS)}, "
            f"or PROCESS@NODE with PROCESS one of {', '.join(NODE_PROCESSES)} "
            f"(aliases: {', '.join(sorted(ALIASES))})"
        )
    return resolved


class HealthCheck(BaseModel):
    kind: Literal["http", "file", "exec"]
    url: str = ""
    """For kind=http: GET must answer 200."""
    verify: str | bool = True
    """CA file, or False for a component's self-signed serving cert (loopback only)."""
    client_cert: tuple[str, str] | None = None
    path: str = ""
    """For kind=file: readiness is this file existing."""
    argv: list[str] = Field(default_factory=list)
    """For kind=exec: readiness is this command exiting 0 (e.g. a probe inside a node's netns)."""


class ComponentSpec(BaseModel):
    name: str
    argv: list[str]
    env: dict[str, str] = Field(default_factory=dict, repr=False)
    """Added to a minimal environment (see processes.base_env); may hold credentials."""
    cwd: str
    log: str
    address: str
    """What `status` shows: URL or host:port."""
    health: HealthCheck
    stop_tier: int
    """`down` stops higher tiers first: clients before the API server before etcd."""
    stop_timeout_s: float = 10.0
    ready_timeout_s: float = 120.0
    stack_dump_signal: int | None = None
    """Sent to a component that never became ready, before it is stopped, so that its log
    shows where it hung (SIGABRT for a Go binary run with GOTRACEBACK=all: every goroutine)."""


class Ports(BaseModel):
    etcd_client: int
    etcd_peer: int
    apiserver: int
    controller_manager: int
    scheduler: int
    kwok: int
    minio: int
    minio_console: int
    prometheus: int
    gateway_proxy: int


class Layout(BaseModel):
    """Where everything of one cluster lives and how it is reached."""

    name: str
    state_dir: str
    tmpfs_dir: str
    bin_dir: str
    python: str
    """Interpreter of the project's venv (runs pod discovery and the gateway)."""
    pki: ClusterPKI
    ports: Ports
    scale: ScaleProfile
    admin_kubeconfig: str
    controller_manager_kubeconfig: str
    scheduler_kubeconfig: str
    minio_access_key: str
    minio_secret_key: str = Field(repr=False)
    repo_root: str
    stages_dir: str

    @property
    def logs_dir(self) -> str:
        return str(Path(self.state_dir) / "logs")

    @property
    def apiserver_url(self) -> str:
        return f"https://{LOOPBACK}:{self.ports.apiserver}"

    @property
    def etcd_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ports.etcd_client}"

    @property
    def minio_endpoint(self) -> str:
        return f"{LOOPBACK}:{self.ports.minio}"

    @property
    def prometheus_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ports.prometheus}"

    @property
    def scheduler_config(self) -> str:
        return str(Path(self.state_dir) / "config" / "kube-scheduler.yaml")

    @property
    def egress_selector_config(self) -> str:
        return str(Path(self.state_dir) / "config" / "egress-selector.yaml")

    @property
    def gateway_config(self) -> str:
        return str(Path(self.state_dir) / "config" / "gateway.json")

    @property
    def gateway_egress_socket(self) -> str:
        return str(Path(self.state_dir) / "gateway-egress.sock")

    @property
    def gateway_proxy_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ports.gateway_proxy}"

    @property
    def kwok_config(self) -> str:
        return str(Path(self.state_dir) / "config" / "kwok.yaml")

    @property
    def prometheus_dir(self) -> str:
        return str(Path(self.state_dir) / "prometheus")

    @property
    def prometheus_config(self) -> str:
        return str(Path(self.prometheus_dir) / "prometheus.yml")

    @property
    def file_sd_dir(self) -> str:
        return str(Path(self.prometheus_dir) / "file_sd")

    @property
    def pod_sd_dir(self) -> str:
        return str(Path(self.prometheus_dir) / "pod_sd")

    @property
    def pod_sd_file(self) -> str:
        return str(Path(self.pod_sd_dir) / "pods.json")

    @property
    def minio_data_dir(self) -> str:
        return str(Path(self.state_dir) / "minio-data")

    def binary(self, name: str) -> str:
        return str(Path(self.bin_dir) / name)

    def log_file(self, component: str) -> str:
        return str(Path(self.logs_dir) / f"{component}.log")


def _spec(layout: Layout, name: str, argv: list[str], address: str, health: HealthCheck, tier: int, **kw) -> ComponentSpec:
    if argv[0] != layout.python:  # a Go binary: on SIGABRT its runtime writes every goroutine to the log
        kw["env"] = {**kw.get("env", {}), "GOTRACEBACK": "all"}
        kw.setdefault("stack_dump_signal", int(signal.SIGABRT))
    return ComponentSpec(
        name=name,
        argv=argv,
        cwd=layout.state_dir,
        log=layout.log_file(name),
        address=address,
        health=health,
        stop_tier=tier,
        **kw,
    )


def etcd_spec(layout: Layout) -> ComponentSpec:
    p = layout.ports
    data = str(Path(layout.tmpfs_dir) / "etcd")
    argv = [
        layout.binary("etcd"),
        f"--name=ecc-dev-{layout.name}",
        f"--data-dir={data}",
        f"--listen-client-urls=http://{LOOPBACK}:{p.etcd_client}",
        f"--advertise-client-urls=http://{LOOPBACK}:{p.etcd_client}",
        f"--listen-peer-urls=http://{LOOPBACK}:{p.etcd_peer}",
        f"--initial-advertise-peer-urls=http://{LOOPBACK}:{p.etcd_peer}",
        f"--initial-cluster=ecc-dev-{layout.name}=http://{LOOPBACK}:{p.etcd_peer}",
        "--unsafe-no-fsync",
        "--quota-backend-bytes=8589934592",
        "--auto-compaction-mode=periodic",
        "--auto-compaction-retention=5m",
        "--log-level=warn",
    ]
    health = HealthCheck(kind="http", url=f"{layout.etcd_url}/health")
    return _spec(layout, ETCD, argv, layout.etcd_url, health, tier=0, ready_timeout_s=60)


def apiserver_spec(layout: Layout) -> ComponentSpec:
    k = layout.pki
    s = layout.scale
    argv = [
        layout.binary("kube-apiserver"),
        f"--etcd-servers={layout.etcd_url}",
        f"--bind-address={LOOPBACK}",
        # The `kubernetes` Service's endpoint: the gateway's relay to this API server inside
        # the nodes' fabric (nodes/gateway.py); nothing listens on it in the host.
        f"--advertise-address={GATEWAY_IP}",
        # Reach nodes (logs, exec, port-forward) by their InternalIP only, through the
        # gateway's proxy (the egress selector): a Hostname would be looked up in the host's
        # DNS, which may sit on a private address these machines must not talk to.
        "--kubelet-preferred-address-types=InternalIP",
        f"--egress-selector-config-file={layout.egress_selector_config}",
        # Webhook Services (KServe's) resolve to their endpoints, which the gateway's proxy can
        # reach, not to a ClusterIP that only kube-proxy inside a node knows.
        "--enable-aggregator-routing=true",
        f"--kubelet-client-certificate={k.admin_cert}",
        f"--kubelet-client-key={k.admin_key}",
        f"--secure-port={layout.ports.apiserver}",
        f"--tls-cert-file={k.apiserver_cert}",
        f"--tls-private-key-file={k.apiserver_key}",
        f"--client-ca-file={k.ca_cert}",
        # Front-proxy settings exist only so that the controller-manager and scheduler
        # find a complete extension-apiserver-authentication ConfigMap (no certificate
        # with this CN is ever issued).
        f"--requestheader-client-ca-file={k.ca_cert}",
        "--requestheader-allowed-names=front-proxy-client",
        "--requestheader-username-headers=X-Remote-User",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
        f"--service-account-key-file={k.sa_public_key}",
        f"--service-account-signing-key-file={k.sa_private_key}",
        f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
        "--authorization-mode=Node,RBAC",
        "--enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,"
        "DefaultTolerationSeconds,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,"
        "ResourceQuota,NodeRestriction",
        "--allow-privileged=true",
        f"--max-requests-inflight={s.apiserver_max_requests_inflight}",
        f"--max-mutating-requests-inflight={s.apiserver_max_mutating_requests_inflight}",
        "--event-ttl=30m",
        "--profiling=false",
        f"--cert-dir={Path(layout.state_dir) / 'apiserver-certs'}",
    ]
    health = HealthCheck(
        kind="http",
        url=f"{layout.apiserver_url}/readyz",
        verify=k.ca_cert,
        client_cert=(k.admin_cert, k.admin_key),
    )
    return _spec(layout, APISERVER, argv, layout.apiserver_url, health, tier=1, stop_timeout_s=8)


def controller_manager_spec(layout: Layout) -> ComponentSpec:
    k = layout.pki
    s = layout.scale
    kc = layout.controller_manager_kubeconfig
    port = layout.ports.controller_manager
    argv = [
        layout.binary("kube-controller-manager"),
        f"--kubeconfig={kc}",
        f"--authentication-kubeconfig={kc}",
        f"--authorization-kubeconfig={kc}",
        f"--bind-address={LOOPBACK}",
        f"--secure-port={port}",
        f"--cert-dir={Path(layout.state_dir) / 'controller-manager-certs'}",
        f"--service-account-private-key-file={k.sa_private_key}",
        f"--root-ca-file={k.ca_cert}",
        f"--cluster-signing-cert-file={k.ca_cert}",
        f"--cluster-signing-key-file={k.ca_key}",
        "--use-service-account-credentials=true",
        # Default controllers include job, garbage collector, daemonset, replicaset,
        # deployment, serviceaccount(-token), namespace, node lifecycle, ...
        "--controllers=*",
        f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
        "--allocate-node-cidrs=false",
        "--leader-elect=false",
        f"--kube-api-qps={s.controller_manager_qps}",
        f"--kube-api-burst={s.controller_manager_burst}",
        f"--node-monitor-grace-period={s.node_monitor_grace_seconds}s",
        f"--node-startup-grace-period={s.node_startup_grace_seconds}s",
        "--node-monitor-period=10s",
        "--concurrent-daemonset-syncs=4",
        "--concurrent-gc-syncs=20",
        "--terminated-pod-gc-threshold=1000",
        "--profiling=false",
        "--v=1",
    ]
    health = HealthCheck(kind="http", url=f"https://{LOOPBACK}:{port}/healthz", verify=False)
    return _spec(layout, CONTROLLER_MANAGER, argv, f"https://{LOOPBACK}:{port}", health, tier=2)


def scheduler_config_document(layout: Layout) -> dict:
    """KubeSchedulerConfiguration (client QPS lives here; the old flags are deprecated)."""
    s = layout.scale
    return {
        "apiVersion": "kubescheduler.config.k8s.io/v1",
        "kind": "KubeSchedulerConfiguration",
        "clientConnection": {
            "kubeconfig": layout.scheduler_kubeconfig,
            "qps": s.scheduler_qps,
            "burst": s.scheduler_burst,
        },
        "leaderElection": {"leaderElect": False},
        "parallelism": 4,
    }


def scheduler_spec(layout: Layout) -> ComponentSpec:
    kc = layout.scheduler_kubeconfig
    port = layout.ports.scheduler
    argv = [
        layout.binary("kube-scheduler"),
        f"--config={layout.scheduler_config}",
        f"--authentication-kubeconfig={kc}",
        f"--authorization-kubeconfig={kc}",
        f"--bind-address={LOOPBACK}",
        f"--secure-port={port}",
        f"--cert-dir={Path(layout.state_dir) / 'scheduler-certs'}",
        "--v=1",
    ]
    health = HealthCheck(kind="http", url=f"https://{LOOPBACK}:{port}/healthz", verify=False)
    return _spec(layout, SCHEDULER, argv, f"https://{LOOPBACK}:{port}", health, tier=2)


STAGE_FILES = (
    "node-initialize.yaml",
    "node-heartbeat-with-lease.yaml",
    "pod-ready.yaml",
    "pod-complete.yaml",
    "pod-delete.yaml",
)


def kwok_config_document(layout: Layout) -> dict:
    """KwokConfiguration: parallelism and node leases scaled to the fleet size."""
    s = layout.scale
    return {
        "apiVersion": "config.kwok.x-k8s.io/v1alpha1",
        "kind": "KwokConfiguration",
        "options": {
            "nodeLeaseDurationSeconds": s.node_lease_seconds,
            "nodeLeaseParallelism": s.kwok_parallelism,
            "nodePlayStageParallelism": s.kwok_parallelism,
            "podPlayStageParallelism": s.kwok_parallelism,
        },
    }


def kwok_spec(layout: Layout) -> ComponentSpec:
    port = layout.ports.kwok
    argv = [
        layout.binary("kwok"),
        f"--kubeconfig={layout.admin_kubeconfig}",
        f"--config={layout.kwok_config}",
        *[f"--config={Path(layout.stages_dir) / f}" for f in STAGE_FILES],
        "--manage-all-nodes=false",
        "--manage-nodes-with-label-selector=type=kwok",
        f"--cidr={KWOK_POD_CIDR}",
        f"--node-ip={KWOK_NODE_IP}",
        f"--node-lease-duration-seconds={layout.scale.node_lease_seconds}",
        f"--server-address={LOOPBACK}:{port}",
    ]
    health = HealthCheck(kind="http", url=f"http://{LOOPBACK}:{port}/healthz")
    return _spec(layout, KWOK, argv, f"http://{LOOPBACK}:{port}", health, tier=3)


def minio_spec(layout: Layout) -> ComponentSpec:
    p = layout.ports
    argv = [
        layout.binary("minio"),
        "server",
        f"--address={LOOPBACK}:{p.minio}",
        f"--console-address={LOOPBACK}:{p.minio_console}",
        f"--certs-dir={layout.pki.store_certs_dir}",  # TLS only, with a certificate of the cluster's CA
        "--quiet",
        layout.minio_data_dir,
    ]
    env = {
        "MINIO_ROOT_USER": layout.minio_access_key,
        "MINIO_ROOT_PASSWORD": layout.minio_secret_key,
        "MINIO_BROWSER": "off",
        "MINIO_UPDATE": "off",
        "MINIO_PROMETHEUS_AUTH_TYPE": "public",
        "MINIO_CI_CD": "1",
    }
    health = HealthCheck(kind="http", url=f"https://{layout.minio_endpoint}/minio/health/ready",
                         verify=layout.pki.ca_cert)
    return _spec(layout, MINIO, argv, layout.minio_endpoint, health, tier=3, env=env)


def prometheus_spec(layout: Layout) -> ComponentSpec:
    argv = [
        PROMETHEUS_BINARY,
        f"--config.file={layout.prometheus_config}",
        f"--storage.tsdb.path={Path(layout.tmpfs_dir) / 'prometheus'}",
        "--storage.tsdb.retention.time=6h",
        f"--web.listen-address={LOOPBACK}:{layout.ports.prometheus}",
        "--web.enable-lifecycle",
        "--log.level=warn",
    ]
    health = HealthCheck(kind="http", url=f"{layout.prometheus_url}/-/ready")
    return _spec(layout, PROMETHEUS, argv, layout.prometheus_url, health, tier=3)


def pod_discovery_spec(layout: Layout) -> ComponentSpec:
    """Our pod discovery for Prometheus (see ecc_devcluster.podsd)."""
    k = layout.pki
    argv = [
        layout.python,
        "-m",
        "ecc_devcluster.podsd",
        f"--apiserver={layout.apiserver_url}",
        f"--ca-file={k.ca_cert}",
        f"--cert={k.admin_cert}",
        f"--key={k.admin_key}",
        f"--out={layout.pod_sd_file}",
    ]
    env = {"PYTHONPATH": f"{layout.repo_root}"}
    health = HealthCheck(kind="file", path=layout.pod_sd_file)
    address = f"file_sd {Path(layout.pod_sd_file).relative_to(layout.state_dir)}"
    return _spec(layout, POD_DISCOVERY, argv, address, health, tier=3, env=env, ready_timeout_s=60)


def all_specs(layout: Layout) -> dict[str, ComponentSpec]:
    specs = [
        etcd_spec(layout),
        apiserver_spec(layout),
        controller_manager_spec(layout),
        scheduler_spec(layout),
        kwok_spec(layout),
        minio_spec(layout),
        prometheus_spec(layout),
        pod_discovery_spec(layout),
    ]
    return {s.name: s for s in specs}


class ComponentState(BaseModel):
    """A component as started: its process (pid and start time, so a recycled pid is never taken
    for it) and its spec."""

    pid: int | None = None
    start_ticks: int | None = None
    address: str
    log: str
    spec: ComponentSpec

