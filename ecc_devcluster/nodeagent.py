"""The process node agent: a development stand-in for a kubelet (and, for its pods, kube-proxy and cluster DNS).

No container runtime exists on the development machines, so the local cluster's
"process nodes" are served by this agent: it registers the nodes listed in the
nodes file and keeps them Ready (status + Lease heartbeats), runs each pod bound
to them as local processes — the container's command and args with the pod's
environment, ignoring the image — each pod with its own loopback address
(127.100.0.0/16, given as status.podIP and ECC_POD_IP: our components bind their
servers to it), its own working directory and a private mount namespace with its
volumes (Secrets, ConfigMaps, emptyDir, downwardAPI, projected service-account
tokens at /var/run/secrets/kubernetes.io/serviceaccount) and a hosts file that
resolves Service names to forwarders the agent runs on 127.200.0.0/16.

Usage (the cluster orchestration starts it):
    python -m ecc_devcluster.nodeagent --kubeconfig ADMIN_KUBECONFIG --state-dir STATE_DIR/nodeagent \
        --nodes-file STATE_DIR/process-nodes.json --apiserver-host 127.0.0.1 --apiserver-port PORT \
        --ca-file STATE_DIR/pki/ca.crt [--path-prepend DIR ...]

It writes STATE_DIR/nodeagent/ready once its nodes are registered Ready, keeps each
pod's log in STATE_DIR/nodeagent/pods/<namespace>_<pod>/<container>.log, and on
SIGTERM/SIGINT stops every pod's processes gracefully, then exits 0.

It also serves the kubelet API's container logs, so `kubectl logs [-f]` works.

Not done by this stand-in: image pulls, resource isolation (cgroups), liveness and
startup probes, `kubectl exec/attach/port-forward`, UDP Services, persistent volumes,
sidecar (restartable) init containers, runAsUser (processes run as root).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(add_completion=False, help=__doc__.split("\n\n")[0])
log = logging.getLogger("ecc.nodeagent")


def run_agent(settings) -> int:
    """Run until SIGTERM/SIGINT; returns the exit code."""
    from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_fixed

    from ecc_devcluster.nodeagent_kube import KubeApi
    from ecc_devcluster.nodeagent_kubeletapi import KubeletApi
    from ecc_devcluster.nodeagent_model import ProcessNodesFile
    from ecc_devcluster.nodeagent_network import AddressClaims, pod_pool
    from ecc_devcluster.nodeagent_nodes import NodeHeartbeat
    from ecc_devcluster.nodeagent_pods import PodManager, run_informer
    from ecc_devcluster.nodeagent_runner import check_tools
    from ecc_devcluster.nodeagent_services import ServiceRouter
    from ecc_devcluster.nodeagent_worker import AgentContext

    check_tools()
    nodes = ProcessNodesFile.load(settings.nodes_file).nodes
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    ready_file = settings.state_dir / "ready"
    ready_file.unlink(missing_ok=True)
    stop = threading.Event()

    def on_signal(signum, _frame) -> None:
        log.info("received %s: stopping all pods", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    api = KubeApi(settings.kubeconfig)
    base_env = {name: os.environ[name] for name in settings.pass_env if name in os.environ}
    base_env["PATH"] = os.environ.get("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    manager_box: list = []
    claims = AddressClaims()  # machine-wide: other clusters' agents skip our addresses
    router = ServiceRouter((settings.apiserver_host, settings.apiserver_port),
                           lambda: manager_box[0].local_pods() if manager_box else [], claims)
    ctx = AgentContext(api=api, settings=settings, router=router, pod_ips=pod_pool(claims),
                       node_allocatable={n.name: dict(n.capacity) for n in nodes}, base_env=base_env)
    manager = PodManager(ctx)
    manager_box.append(manager)

    kubelet_api = KubeletApi(ctx.pods_dir, settings.state_dir / "kubelet-api", manager.is_running)
    kubelet_api.start()
    heartbeat = NodeHeartbeat(api, nodes, settings.heartbeat_seconds, settings.lease_duration_seconds, stop,
                              kubelet_port=kubelet_api.port)

    @retry(stop=stop_after_delay(60), wait=wait_fixed(1), retry=retry_if_exception_type(Exception), reraise=True)
    def register() -> None:
        if stop.is_set():
            return
        heartbeat.register()

    register()
    heartbeat.start()
    reserve_addresses(api, nodes, ctx.pod_ips)

    threads = []
    services_synced = threading.Event()
    threads.append(threading.Thread(
        name="services-informer", daemon=True,
        target=run_informer,
        args=("services", api.list_services,
              lambda rv: api.watch(api.core.list_service_for_all_namespaces, rv, timeout_seconds=300),
              lambda items: router.set_services(items),
              lambda kind, obj: router.delete_service(obj) if kind == "DELETED" else router.upsert_service(obj),
              stop, services_synced)))
    pods_synced = []
    for node in nodes:
        synced = threading.Event()
        pods_synced.append(synced)
        threads.append(threading.Thread(
            name=f"pods-informer-{node.name}", daemon=True,
            target=run_informer,
            args=(f"pods on {node.name}",
                  lambda n=node.name: api.list_pods_on_node(n),
                  lambda rv, n=node.name: api.watch(api.core.list_pod_for_all_namespaces, rv, timeout_seconds=300,
                                                    field_selector=f"spec.nodeName={n}"),
                  lambda items, n=node.name: manager.sync_node(n, items),
                  manager.handle, stop, synced)))
    for thread in threads:
        thread.start()
    for event in [services_synced, *pods_synced]:
        while not event.wait(0.5) and not stop.is_set():
            pass
    if not stop.is_set():
        ready_file.write_text("\n".join(n.name for n in nodes) + "\n")
        log.info("process node agent ready: %s", ", ".join(n.name for n in nodes))

    stop.wait()
    ready_file.unlink(missing_ok=True)
    manager.stop_all(settings.shutdown_grace_seconds)
    router.close()
    kubelet_api.close()
    ctx.pod_ips.release_all()
    log.info("process node agent stopped")
    return 0


def reserve_addresses(api, nodes, pool) -> None:
    """Keep the addresses of pods that were running before a restart of the agent: reserve
    them before any new pod gets one."""
    for node in nodes:
        try:
            pods, _ = api.list_pods_on_node(node.name)
        except Exception as exc:  # noqa: BLE001 - the informers will list again
            log.warning("listing pods on %s failed: %s", node.name, exc)
            continue
        for pod in pods:
            status = pod.get("status") or {}
            if status.get("podIP") and status.get("phase") not in ("Succeeded", "Failed") \
                    and not pod["spec"].get("hostNetwork"):
                pool.allocate(pod["metadata"]["uid"], preferred=status["podIP"])


@app.command()
def main(
    kubeconfig: Path = typer.Option(..., exists=True, dir_okay=False, help="admin kubeconfig of the cluster"),
    state_dir: Path = typer.Option(..., help="the agent's state directory (pods' logs, volumes, ready file)"),
    nodes_file: Path = typer.Option(..., exists=True, dir_okay=False, help="process-nodes.json (ProcessNodesFile)"),
    apiserver_host: str = typer.Option("127.0.0.1", help="address pods reach the API server on"),
    apiserver_port: int = typer.Option(..., min=1, max=65535, help="port of the API server"),
    ca_file: Path = typer.Option(..., exists=True, dir_okay=False, help="cluster CA certificate"),
    path_prepend: Optional[list[str]] = typer.Option(None, help="directory put first on the pods' PATH (repeatable)"),
    pass_env: Optional[list[str]] = typer.Option(
        None, help="also pass this variable of the agent's environment to every pod (repeatable; always passed: "
                   "HOME, LANG, LC_ALL, TZ, PYTHONPATH, ECC_CACHE_DIR)"),
    heartbeat_seconds: float = typer.Option(10.0, min=0.5, help="node status + Lease renewal interval"),
    restart_backoff_base: float = typer.Option(10.0, min=0.0, help="first crash-loop back-off (s), doubling"),
    restart_backoff_max: float = typer.Option(300.0, min=0.0, help="longest crash-loop back-off (s)"),
    shutdown_grace: float = typer.Option(15.0, min=0.0, help="longest grace given to pods when the agent stops"),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """Serve the process nodes until SIGTERM/SIGINT."""
    from ecc_devcluster.nodeagent_model import DEFAULT_PASS_ENV, AgentSettings

    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s %(threadName)s: %(message)s", stream=sys.stderr)
    logging.getLogger("kubernetes").setLevel(logging.WARNING)
    logging.getLogger("urllib3").setLevel(logging.ERROR)  # its retry chatter; our own messages say enough
    settings = AgentSettings(
        kubeconfig=kubeconfig, state_dir=state_dir, nodes_file=nodes_file, apiserver_host=apiserver_host,
        apiserver_port=apiserver_port, ca_file=ca_file, path_prepend=tuple(path_prepend or ()),
        pass_env=tuple(dict.fromkeys([*DEFAULT_PASS_ENV, *(pass_env or ())])),
        heartbeat_seconds=heartbeat_seconds, restart_backoff_base_seconds=restart_backoff_base,
        restart_backoff_max_seconds=restart_backoff_max, shutdown_grace_seconds=shutdown_grace,
    )
    try:
        code = run_agent(settings)
    except ValueError as exc:  # bad nodes file etc.: a clear message, no traceback
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    raise typer.Exit(code)


if __name__ == "__main__":
    app()
