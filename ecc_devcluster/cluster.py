"""The local development cluster: bring it up, describe it, take it down.

Python API (used by `ecc-dev`, the tests and the demo):

    info = up(name="default", fake_nodes=20, cloud_workers=1, edge_nodes=3)
    load(name) -> ClusterInfo | None        # what is running, from STATE_DIR/state.json
    stop_component(name, "minio"); start_component(name, "minio")   # same address
    down(name)                              # nothing of the cluster is left running

Every component is a real binary in its own process group with its log under
STATE_DIR/logs/; real nodes (kubelet, containerd, kube-proxy) run in network and mount
namespaces of their own (ecc_devcluster.nodes).
"""

from __future__ import annotations

import fcntl
import os
import re
import secrets
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path

from pydantic import BaseModel, Field

from ecc_devcluster import components as comp
from ecc_devcluster import health, kubeconfigs, pki, processes
from ecc_devcluster import prometheus as prom
from ecc_devcluster.components import ComponentState, Layout, Ports
from ecc_devcluster.nodes import host as node_host
from ecc_devcluster.nodes import realnodes
from ecc_devcluster.nodes.specs import NODE_AGENTS_TIER
from ecc_devcluster.nodes.plan import FabricPlan, NodePlan
from ecc_devcluster.ports import free_ports
from ecc_devcluster.scale import scale_profile
from ecc_workloads import contracts as c

REQUIRED_BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "kwok", "minio",
                     "kubelet", "kube-proxy", "coredns", "pause")
STATE_FILE = "state.json"
LAST_STATE_FILE = "last-state.json"
_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$")
REPO_ROOT = Path(__file__).resolve().parents[1]
STAGES_DIR = Path(__file__).resolve().parent / "stages"

Say = Callable[[str], None]


class ClusterError(RuntimeError):
    """A cluster operation failed; the message says what and how to fix it."""


class ClusterAlreadyRunning(ClusterError):
    pass


class ClusterInfo(BaseModel):
    """What is running (saved as STATE_DIR/state.json)."""

    name: str
    state_dir: str
    tmpfs_dir: str
    kubeconfig: str
    apiserver_url: str
    ca_file: str
    store: c.StoreSettings
    """The object store as the host reaches it (loopback)."""
    store_in_cluster: c.StoreSettings | None = None
    """The same store as pods reach it (the `ecc-store` Service), when there are real nodes."""
    prometheus_url: str
    file_sd_dir: str
    bin_dir: str
    components: dict[str, ComponentState]
    fabric: FabricPlan | None = None
    node_plans: list[NodePlan] = Field(default_factory=list)
    node_seed: str = ""
    """key of the images the real nodes hold (nodes/seed.py)"""
    fake_nodes: int = 0
    scale: str = "small"
    kserve_crds: bool = False
    kserve: bool = False
    """KServe's controller runs (Standard mode; its CRDs from the same version)"""
    created_at: float = 0.0
    timings: dict[str, float] = Field(default_factory=dict)

    def env(self) -> dict[str, str]:
        """The exports `ecc-dev env` prints (PATH: the binaries first)."""
        return {
            "KUBECONFIG": self.kubeconfig,
            "PATH": f"{self.bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            **self.store.as_env(),
            **({c.StoreEnv.POD_ENDPOINT: self.store_in_cluster.endpoint} if self.store_in_cluster else {}),
            c.RuntimeEnv.PROMETHEUS_URL: self.prometheus_url,
            **({c.RuntimeEnv.CLUSTER_PROXY: self.gateway_proxy} if self.gateway_proxy else {}),
        }

    @property
    def gateway_proxy(self) -> str | None:
        """http://127.0.0.1:PORT: the gateway's proxy to pod addresses (None without real nodes)."""
        st = self.components.get(comp.GATEWAY)
        return st.address if st else None

    @property
    def real_nodes(self) -> list[str]:
        return [n.name for n in self.node_plans]

    def component_alive(self, component: str) -> bool:
        st = self.components.get(component)
        return bool(st and processes.is_alive(st.pid, st.start_ticks))

    def any_alive(self) -> bool:
        return any(self.component_alive(n) for n in self.components)

    def save(self) -> None:
        path = Path(self.state_dir) / STATE_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.model_dump_json(indent=2))
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)


# ---------------------------------------------------------------------------
# Paths and look-ups
# ---------------------------------------------------------------------------
def validate_name(name: str) -> str:
    if not _NAME.match(name or ""):
        raise ClusterError(
            f"invalid cluster name {name!r}: use 1-40 lower-case letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    return name


def state_dir(name: str) -> Path:
    return Path(c.cache_dir()) / "dev" / validate_name(name)


def tmpfs_dir(name: str) -> Path:
    return Path("/dev/shm") / f"ecc-dev-{validate_name(name)}"


def load(name: str = "default") -> ClusterInfo | None:
    path = state_dir(name) / STATE_FILE
    if not path.exists():
        return None
    return ClusterInfo.model_validate_json(path.read_text())


def list_clusters() -> list[str]:
    root = Path(c.cache_dir()) / "dev"
    return sorted(p.name for p in root.glob("*") if (p / STATE_FILE).exists()) if root.is_dir() else []


@contextmanager
def _lock(name: str) -> Iterator[None]:
    root = Path(c.cache_dir()) / "dev"
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f".{name}.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ClusterError(
                f"another `ecc-dev up/down` of cluster {name!r} is in progress (lock {fh.name})"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def resolve_bin_dir(say: Say) -> Path:
    """The cached binaries (built by ecc_devcluster.binaries), all present."""
    try:
        from ecc_devcluster.binaries import ensure_binaries
    except ImportError:
        bin_dir = Path(c.cache_dir()) / "bin"
        say(f"ecc_devcluster.binaries not importable; using {bin_dir}")
    else:
        say("ensuring control-plane binaries (cached; built from Go modules when missing)")
        bin_dir = Path(ensure_binaries())
    missing = [b for b in REQUIRED_BINARIES if not os.access(bin_dir / b, os.X_OK)]
    if missing:
        raise ClusterError(
            f"binaries missing from {bin_dir}: {', '.join(missing)} — run `make binaries` "
            "(or `python -m ecc_devcluster.binaries`)"
        )
    if not os.access(comp.PROMETHEUS_BINARY, os.X_OK):
        raise ClusterError(
            f"{comp.PROMETHEUS_BINARY} not found — install Debian's package: "
            "`apt-get install -y prometheus` (or `make deps`)"
        )
    return bin_dir


# ---------------------------------------------------------------------------
# Preparing a cluster's files
# ---------------------------------------------------------------------------
def prepare_layout(name: str, *, fake_nodes: int, bin_dir: Path, python: str) -> Layout:
    """Create the state dir's certificates, kubeconfigs and configuration files."""
    sd = state_dir(name)
    td = tmpfs_dir(name)
    for d in (sd, td):
        if d.exists():
            shutil.rmtree(d)
    sd.mkdir(parents=True)
    os.chmod(sd, 0o700)
    td.mkdir(parents=True)
    os.chmod(td, 0o700)
    for sub in ("logs", "config", "nodes", "minio-data", "prometheus/file_sd", "prometheus/pod_sd"):
        (sd / sub).mkdir(parents=True, exist_ok=True)

    ports = Ports(**dict(zip(Ports.model_fields, free_ports(len(Ports.model_fields), comp.LOOPBACK))))
    from ecc_devcluster.nodes.plan import CLUSTER_DOMAIN, STORE_SERVICE

    service = f"{STORE_SERVICE}.{c.SYSTEM_NAMESPACE}.svc"
    keys = pki.generate(sd / "pki", name, store_dns_names=(service, f"{service}.{CLUSTER_DOMAIN}"))
    server = f"https://{comp.LOOPBACK}:{ports.apiserver}"

    def kubeconfig(path: Path, user: str, cert: str, key: str) -> str:
        doc = kubeconfigs.kubeconfig_document(
            cluster_name=name, server=server, ca_file=keys.ca_cert, user=user, cert_file=cert, key_file=key
        )
        return kubeconfigs.write_kubeconfig(path, doc)

    layout = Layout(
        name=name,
        state_dir=str(sd),
        tmpfs_dir=str(td),
        bin_dir=str(bin_dir),
        python=python,
        pki=keys,
        ports=ports,
        scale=scale_profile(fake_nodes),
        admin_kubeconfig=kubeconfig(sd / "kubeconfig", pki.ADMIN_USER, keys.admin_cert, keys.admin_key),
        controller_manager_kubeconfig=kubeconfig(
            sd / "config" / "kube-controller-manager.kubeconfig",
            pki.CONTROLLER_MANAGER_USER,
            keys.controller_manager_cert,
            keys.controller_manager_key,
        ),
        scheduler_kubeconfig=kubeconfig(
            sd / "config" / "kube-scheduler.kubeconfig", pki.SCHEDULER_USER, keys.scheduler_cert, keys.scheduler_key
        ),
        minio_access_key="ecc" + secrets.token_hex(6),
        minio_secret_key=secrets.token_urlsafe(24),
        repo_root=str(REPO_ROOT),
        stages_dir=str(STAGES_DIR),
    )
    import yaml

    Path(layout.scheduler_config).write_text(yaml.safe_dump(comp.scheduler_config_document(layout)))
    Path(layout.kwok_config).write_text(yaml.safe_dump(comp.kwok_config_document(layout)))
    prom.write_config(
        layout.prometheus_config,
        prom.config_document(
            file_sd_dir=layout.file_sd_dir,
            pod_sd_dir=layout.pod_sd_dir,
            etcd_target=f"{comp.LOOPBACK}:{ports.etcd_client}",
            minio_target=layout.minio_endpoint,
            minio_ca_file=keys.ca_cert,
            prometheus_target=f"{comp.LOOPBACK}:{ports.prometheus}",
            pod_proxy_url=layout.gateway_proxy_url,
        ),
    )
    from ecc_devcluster.nodes.configs import egress_selector_config

    Path(layout.egress_selector_config).write_text(yaml.safe_dump(egress_selector_config(layout.gateway_egress_socket)))
    return layout


# ---------------------------------------------------------------------------
# Starting and stopping components
# ---------------------------------------------------------------------------
def _spawn(info: ClusterInfo, name: str) -> ComponentState:
    st = info.components[name]
    spec = st.spec
    if spec.health.kind == "file":
        Path(spec.health.path).unlink(missing_ok=True)
    env = processes.base_env(spec.env)
    env["PATH"] = f"{info.bin_dir}{os.pathsep}{env['PATH']}"
    pid, ticks = processes.spawn(spec.argv, env=env, cwd=spec.cwd, log=spec.log)
    st.pid, st.start_ticks = pid, ticks
    info.save()
    return st


def _wait(info: ClusterInfo, names: list[str]) -> dict[str, float]:
    """Wait for several components at once; the first failure is raised at once (the
    other probes end when their processes are stopped)."""
    pool = ThreadPoolExecutor(max_workers=max(1, len(names)), thread_name_prefix="ready")
    futures = {
        pool.submit(
            health.wait_ready,
            info.components[n].spec,
            info.components[n].pid,
            info.components[n].start_ticks,
        ): n
        for n in names
    }
    try:
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for fut in done:
            fut.result()  # raises the first failure
        return {futures[f]: f.result() for f in futures}
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _stop_all(info: ClusterInfo, say: Say) -> list[int]:
    """Stop every component, clients first; then kill anything else of the cluster still
    running (a crashed agent's pods, say). Returns the pids killed in that last sweep."""
    tiers = sorted({st.spec.stop_tier for st in info.components.values()}, reverse=True)
    pods_killed = False
    for tier in tiers:
        names = [n for n, st in info.components.items() if st.spec.stop_tier == tier]
        if tier < NODE_AGENTS_TIER and info.fabric is not None and not pods_killed:
            # kubelets are stopped, so nothing restarts a container: end every pod process
            node_host.kill_cgroup(info.fabric.cgroup_root)
            pods_killed = True

        def stop_one(n: str) -> tuple[str, str]:
            st = info.components[n]
            if st.pid is None:
                return n, "not-started"
            return n, processes.stop(st.pid, st.start_ticks, st.spec.stop_timeout_s)

        with ThreadPoolExecutor(max_workers=len(names)) as pool:
            for n, outcome in pool.map(stop_one, names):
                if outcome not in ("not-started", "not-running"):
                    say(f"stopped {n} ({outcome})")
                info.components[n].pid = None
                info.components[n].start_ticks = None
    leftovers = _leftovers(info)
    if leftovers:
        say(f"killing {len(leftovers)} leftover process(es) of cluster {info.name!r}: {leftovers}")
        processes.kill_pids(leftovers)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _leftovers(info):
            time.sleep(0.1)
    removed = node_host.teardown_cluster(info.name)
    if removed:
        say(f"removed the nodes' {', '.join(removed)}")
    return leftovers


def _leftovers(info: ClusterInfo) -> list[int]:
    port = info.apiserver_url.rsplit(":", 1)[-1]
    return processes.find_leftovers(
        [info.state_dir, info.tmpfs_dir],
        env_markers=[f"KUBERNETES_SERVICE_PORT={port}", f"KUBERNETES_SERVICE_HOST={comp.LOOPBACK}"],
    )


def _remove_data(info: ClusterInfo) -> None:
    realnodes.remove_roots(info)
    shutil.rmtree(info.tmpfs_dir, ignore_errors=True)
    shutil.rmtree(Path(info.state_dir) / "minio-data", ignore_errors=True)


def leftover_processes(name: str) -> list[int]:
    """Processes still running that belong to cluster `name` (for tests and `status`)."""
    sd, td = state_dir(name), tmpfs_dir(name)
    return processes.find_leftovers([str(sd), str(td)])


# ---------------------------------------------------------------------------
# up / down
# ---------------------------------------------------------------------------
class _Throttle:
    def __init__(self, say: Say, every_s: float = 2.0):
        self.say, self.every_s, self.last = say, every_s, 0.0
        self.lock = threading.Lock()

    def __call__(self, msg: str, force: bool = False) -> None:
        with self.lock:
            now = time.monotonic()
            if force or now - self.last >= self.every_s:
                self.last = now
                self.say(msg)


def up(
    name: str = "default",
    *,
    fake_nodes: int = 20,
    cloud_workers: int = 1,
    edge_nodes: int = 3,
    with_kserve_crds: bool = False,
    with_kserve: bool = False,
    say: Say | None = None,
    nodes_ready_timeout_s: float | None = None,
) -> ClusterInfo:
    """Start the cluster and return once it is Ready (components keep running in the
    background). Raises ClusterAlreadyRunning if it runs already; on any failure (or
    Ctrl-C) stops whatever it started and raises."""
    say = say or (lambda _msg: None)
    validate_name(name)
    for label, value in (("fake_nodes", fake_nodes), ("cloud_workers", cloud_workers), ("edge_nodes", edge_nodes)):
        if value < 0:
            raise ClusterError(f"{label} must be >= 0, got {value}")
    if with_kserve and not cloud_workers:
        raise ClusterError("with_kserve needs a cloud worker (the controller runs there): use cloud_workers >= 1")
    if edge_nodes and not cloud_workers:
        raise ClusterError("edge_nodes need a cloud worker (it runs CoreDNS): use cloud_workers >= 1")
    with _lock(name):
        existing = load(name)
        if existing is not None:
            if existing.any_alive():
                alive = [n for n in existing.components if existing.component_alive(n)]
                raise ClusterAlreadyRunning(
                    f"cluster {name!r} is already running (API server {existing.apiserver_url}; "
                    f"running: {', '.join(alive)}). Use it (`eval \"$(ecc-dev env --name {name})\"`) "
                    f"or stop it first with `ecc-dev down --name {name}`."
                )
            say(f"cleaning up the remains of a previous run of cluster {name!r}")
            _stop_all(existing, say)
            _remove_data(existing)
        else:
            stale = leftover_processes(name)
            if stale:
                say(f"killing {len(stale)} stale process(es) of cluster {name!r}")
                processes.kill_pids(stale)
            node_host.teardown_cluster(name)
        bin_dir = resolve_bin_dir(say)
        t0 = time.monotonic()
        layout = prepare_layout(name, fake_nodes=fake_nodes, bin_dir=bin_dir, python=sys.executable)
        specs = comp.all_specs(layout)
        info = ClusterInfo(
            name=name,
            state_dir=layout.state_dir,
            tmpfs_dir=layout.tmpfs_dir,
            kubeconfig=layout.admin_kubeconfig,
            apiserver_url=layout.apiserver_url,
            ca_file=layout.pki.ca_cert,
            store=c.StoreSettings(
                endpoint=layout.minio_endpoint,
                access_key=layout.minio_access_key,
                secret_key=layout.minio_secret_key,
                bucket=c.DEFAULT_BUCKET,
                secure=True,
                ca_pem=Path(layout.pki.ca_cert).read_text(),
            ),
            prometheus_url=layout.prometheus_url,
            file_sd_dir=layout.file_sd_dir,
            bin_dir=str(bin_dir),
            components={n: ComponentState(address=s.address, log=s.log, spec=s) for n, s in specs.items()},
            fake_nodes=fake_nodes,
            scale=layout.scale.name,
            kserve_crds=with_kserve_crds or with_kserve,
            kserve=with_kserve,
            created_at=time.time(),
        )
        info.save()
        try:
            realnodes.prepare(info, layout, cloud_workers=cloud_workers, edge_nodes=edge_nodes, say=say)
            _bring_up(info, layout, say, with_kserve_crds, nodes_ready_timeout_s)
        except BaseException as exc:
            reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            say(f"up {reason}: stopping everything that was started")
            _stop_all(info, say)
            _remove_data(info)
            _retire_state(info)
            raise
        info.timings["total_s"] = round(time.monotonic() - t0, 2)
        info.save()
        return info


def _bring_up(info: ClusterInfo, layout: Layout, say: Say, with_kserve_crds: bool,
              nodes_ready_timeout_s: float | None) -> None:
    from ecc_devcluster import fakenodes, kube, wellknown

    t0 = time.monotonic()

    def mark(key: str, since: float) -> float:
        info.timings[key] = round(time.monotonic() - since, 2)
        return info.timings[key]

    # Independent of the API server: start together.
    for n in (comp.ETCD, comp.MINIO, comp.PROMETHEUS):
        _spawn(info, n)
    _wait(info, [comp.ETCD])
    say(f"etcd ready on {layout.etcd_url} (data on tmpfs {layout.tmpfs_dir})")
    _spawn(info, comp.APISERVER)
    _wait(info, [comp.APISERVER])
    say(f"kube-apiserver ready on {layout.apiserver_url}")
    for n in (comp.CONTROLLER_MANAGER, comp.SCHEDULER, comp.KWOK, comp.POD_DISCOVERY):
        _spawn(info, n)
    _wait(info, [comp.CONTROLLER_MANAGER, comp.SCHEDULER, comp.KWOK, comp.POD_DISCOVERY, comp.MINIO, comp.PROMETHEUS])
    say("kube-controller-manager, kube-scheduler, kwok, pod discovery, minio and prometheus ready")
    mark("control_plane_s", t0)

    api = kube.api_client(info.kubeconfig, pool_size=max(32, layout.scale.node_create_workers * 2))
    try:
        wellknown.ensure_namespace(api, c.SYSTEM_NAMESPACE)
        wellknown.ensure_bucket(info.store)
        wellknown.ensure_store_secret(api, info.store_in_cluster or info.store)
        say(f"created namespace {c.SYSTEM_NAMESPACE}, bucket {c.DEFAULT_BUCKET}, "
            f"secret {c.SYSTEM_NAMESPACE}/{c.STORE_SECRET_NAME}")
        if with_kserve_crds and not info.kserve:
            t = time.monotonic()
            files = wellknown.apply_kserve_crds(api, str(Path(info.bin_dir) / "kubectl"), info.kubeconfig, layout.repo_root)
            say(f"KServe CRDs installed ({len(files)} files, {time.monotonic() - t:.1f}s)")

        if info.node_plans:
            t = time.monotonic()
            realnodes.start(info, api, say=say, spawn=lambda n: _spawn(info, n), wait_ready=lambda ns: _wait(info, ns))
            mark("real_nodes_ready_s", t)
        if info.kserve:
            from ecc_devcluster import kserve

            t = time.monotonic()
            kserve.install(info, say)
            mark("kserve_ready_s", t)

        progress = _Throttle(say)
        if info.fake_nodes:
            t = time.monotonic()
            fakenodes.create_fake_nodes(
                api, info.fake_nodes, workers=layout.scale.node_create_workers,
                progress=lambda d, n: progress(f"fake edge nodes created: {d}/{n}", force=d == n),
            )
            mark("fake_nodes_created_s", t)
            timeout = nodes_ready_timeout_s or max(120.0, info.fake_nodes * 0.1)
            fakenodes.wait_nodes_ready(
                api, label_selector=f"{c.NODE_KIND_LABEL}={c.NODE_KIND_KWOK}", expected=info.fake_nodes,
                timeout_s=timeout,
                progress=lambda r, n: progress(f"fake edge nodes Ready: {r}/{n}", force=r >= n),
            )
            mark("fake_nodes_ready_s", t)
        for ns in ("default", c.SYSTEM_NAMESPACE):
            wellknown.wait_default_service_account(api, ns)
    finally:
        api.close()
    info.save()


def _retire_state(info: ClusterInfo) -> None:
    sd = Path(info.state_dir)
    if (sd / STATE_FILE).exists():
        os.replace(sd / STATE_FILE, sd / LAST_STATE_FILE)


def down(name: str = "default", *, say: Say | None = None, purge: bool = False) -> bool:
    """Stop every component of cluster `name` (also after a crash), remove its data on
    tmpfs and leave no process behind. Logs and certificates stay in the state dir for a
    post-mortem unless `purge`. Returns False if nothing was known to run."""
    say = say or (lambda _msg: None)
    known = _down(name, say)
    if purge:  # only after a clean stop: a failed down keeps its logs
        shutil.rmtree(state_dir(name), ignore_errors=True)
    return known


def _down(name: str, say: Say) -> bool:
    with _lock(name):
        info = load(name)
        if info is None:
            stale = leftover_processes(name)
            if stale:
                say(f"no state for cluster {name!r}, but killing {len(stale)} of its processes")
                processes.kill_pids(stale)
            removed = node_host.teardown_cluster(name)
            shutil.rmtree(tmpfs_dir(name), ignore_errors=True)
            return bool(stale or removed)
        _stop_all(info, say)
        _remove_data(info)
        info.save()
        _retire_state(info)
        left = node_host.audit(name, info.state_dir)
        if left:
            raise ClusterError(f"cluster {name!r} left on the host after down: {'; '.join(left)}")
        remaining = leftover_processes(name)
        if remaining:
            raise ClusterError(f"processes of cluster {name!r} still running after down: {remaining}")
        return True


# ---------------------------------------------------------------------------
# One component
# ---------------------------------------------------------------------------
def _require(name: str, component: str | None = None) -> ClusterInfo:
    """The cluster's state (and, if given, a component it has), or a ClusterError saying what is missing."""
    info = load(name)
    if info is None:
        raise ClusterError(f"cluster {name!r} is not running (no {state_dir(name) / STATE_FILE}); run `ecc-dev up`")
    if component is not None and component not in info.components:
        raise ClusterError(f"cluster {name!r} has no component {component!r}")
    return info


def stop_component(name: str, component: str, *, say: Say | None = None) -> str:
    """Stop one component (for fault tests). Returns how it ended."""
    say = say or (lambda _msg: None)
    component = comp.canonical_component(component)
    with _lock(name):
        info = _require(name, component)
        st = info.components[component]
        outcome = "not-running" if st.pid is None else processes.stop(st.pid, st.start_ticks, st.spec.stop_timeout_s)
        st.pid = st.start_ticks = None
        info.save()
        say(f"{component}: {outcome}")
        return outcome


START_ATTEMPTS = 2


def start_component(name: str, component: str, *, say: Say | None = None) -> ComponentState:
    """Start one stopped component again, on the same address, and wait until it is ready.
    A start that never becomes ready is stopped (its stacks dumped to its log first, where
    the component has a dump signal) and tried once more; the second failure is raised."""
    say = say or (lambda _msg: None)
    component = comp.canonical_component(component)
    with _lock(name):
        info = _require(name, component)
        if info.component_alive(component):
            raise ClusterError(f"{component} of cluster {name!r} is already running (pid {info.components[component].pid})")
        attempt = 1
        while True:
            st = _spawn(info, component)
            try:
                waited = health.wait_ready(st.spec, st.pid, st.start_ticks)
            except health.ComponentFailed as failed:
                processes.dump_and_stop(st.pid, st.start_ticks, st.spec.stack_dump_signal, 5)
                st.pid = st.start_ticks = None
                info.save()
                if attempt == START_ATTEMPTS:
                    raise
                say(f"{component}: start {attempt} of {START_ATTEMPTS} failed ({failed.reason}; "
                    f"its log: {st.spec.log}); starting it again")
                attempt += 1
                continue
            say(f"{component} ready on {st.address} after {waited:.1f}s")
            return st


# ---------------------------------------------------------------------------
# status
# ---------------------------------------------------------------------------
class ComponentStatus(BaseModel):
    name: str
    pid: int | None
    alive: bool
    address: str
    rss_bytes: int | None = None


def component_status(info: ClusterInfo) -> list[ComponentStatus]:
    rows = []
    for n, st in info.components.items():
        alive = info.component_alive(n)
        rows.append(ComponentStatus(
            name=n, pid=st.pid, alive=alive, address=st.address,
            rss_bytes=processes.rss_bytes(st.pid) if alive and st.pid else None,
        ))
    return rows


def node_counts(info: ClusterInfo) -> dict[str, int] | None:
    """Node counts from the API server, or None if it does not answer."""
    from ecc_devcluster import kube

    try:
        api = kube.api_client(info.kubeconfig)
        try:
            return kube.node_counts(api)
        finally:
            api.close()
    except Exception:
        return None
