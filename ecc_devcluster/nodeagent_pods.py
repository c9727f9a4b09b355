"""The process node agent's pod manager: watches pods bound to its nodes and drives one worker per pod.

Like the kubelet's pod manager (in a development stand-in): a new pod gets a
`PodWorker`; a pod with a deletionTimestamp is stopped gracefully and its
deletion confirmed; a pod already Succeeded/Failed is left alone (and deleted
for good when asked). Also holds `run_informer`, a minimal list+watch loop.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable, Iterable

from ecc_devcluster.nodeagent_services import LocalPod
from ecc_devcluster.nodeagent_worker import AgentContext, PodWorker

log = logging.getLogger("ecc.nodeagent.pods")


def run_informer(name: str, list_fn: Callable[[], tuple[list[dict], str]],
                 watch_fn: Callable[[str], Iterable[dict]],
                 on_sync: Callable[[list[dict]], None], on_event: Callable[[str, dict], None],
                 stop: threading.Event, synced: threading.Event | None = None) -> None:
    """List, hand the snapshot to `on_sync`, then stream watch events until stopped; relist on errors."""
    while not stop.is_set():
        try:
            items, resource_version = list_fn()
            on_sync(items)
            if synced is not None:
                synced.set()
            for event in watch_fn(resource_version):
                if stop.is_set():
                    return
                kind = event["type"]
                if kind == "BOOKMARK":
                    continue
                if kind == "ERROR":
                    log.info("%s watch: %s; relisting", name, (event.get("object") or {}).get("message"))
                    break
                on_event(kind, event["object"])
        except Exception as exc:  # noqa: BLE001 - the API server may restart; keep trying
            if stop.is_set():
                return
            log.warning("%s informer: %s; retrying", name, exc)
            stop.wait(2.0)


class PodManager:
    def __init__(self, ctx: AgentContext):
        self.ctx = ctx
        self.workers: dict[str, PodWorker] = {}
        self._confirmed: set[str] = set()
        self._lock = threading.RLock()

    def local_pods(self) -> list[LocalPod]:
        with self._lock:
            workers = list(self.workers.values())
        return [p for p in (w.local_pod() for w in workers) if p is not None]

    def is_running(self, namespace: str, name: str, container: str) -> bool:
        """Whether the container may still write to its log (running, or about to restart)."""
        with self._lock:
            workers = [w for w in self.workers.values() if w.namespace == namespace and w.name == name]
        for worker in workers:
            if worker.finished.is_set():
                continue
            for state in worker.init_states + worker.main_states:
                if state.name == container and (state.state == "running" or state.reason == "CrashLoopBackOff"):
                    return True
        return False

    # ------------------------------------------------------------- events
    def sync_node(self, node_name: str, pods: list[dict]) -> None:
        """A fresh list of the pods on `node_name`: handle each, forget the ones gone."""
        present = {p["metadata"]["uid"] for p in pods}
        with self._lock:
            gone = [w for uid, w in self.workers.items() if w.node_name == node_name and uid not in present]
        for worker in gone:
            self._forget(worker)
        for pod in pods:
            self.handle("MODIFIED", pod)

    def handle(self, kind: str, pod: dict) -> None:
        meta = pod["metadata"]
        uid = meta["uid"]
        with self._lock:
            worker = self.workers.get(uid)
            if kind == "DELETED":
                if worker is not None:
                    self._forget(worker)
                return
            if meta.get("deletionTimestamp"):
                grace = meta.get("deletionGracePeriodSeconds")
                grace = float(30 if grace is None else grace)
                if worker is not None and not worker.finished.is_set():
                    log.info("pod %s/%s: deletion requested (grace %gs), stopping", meta["namespace"], meta["name"], grace)
                    worker.request_stop(grace, delete_after=True)
                elif uid not in self._confirmed:
                    self._confirmed.add(uid)
                    if worker is not None:
                        threading.Thread(target=worker.delete_now, daemon=True).start()
                    else:
                        threading.Thread(target=self.ctx.api.delete_pod_now,
                                         args=(meta["namespace"], meta["name"], uid), daemon=True).start()
                return
            if worker is not None:
                worker.update(pod)
                return
            phase = (pod.get("status") or {}).get("phase")
            if phase in ("Succeeded", "Failed"):
                return  # finished before this agent started; nothing to run
            worker = PodWorker(pod, self.ctx)
            self.workers[uid] = worker
            log.info("pod %s/%s bound to %s: starting", meta["namespace"], meta["name"], worker.node_name)
            worker.start()

    def _forget(self, worker: PodWorker) -> None:
        """The pod object is gone (force-deleted): stop its processes, free its address."""
        with self._lock:
            self.workers.pop(worker.uid, None)
        if not worker.finished.is_set():
            worker.request_stop(2.0, delete_after=False)

        def release() -> None:
            worker.finished.wait()
            self.ctx.pod_ips.release(worker.uid)

        threading.Thread(target=release, daemon=True).start()

    # ------------------------------------------------------------- shutdown
    def stop_all(self, grace: float) -> None:
        """Stop every pod's processes (SIGTERM, up to `grace` s, SIGKILL) and wait for them."""
        with self._lock:
            workers = list(self.workers.values())
        for worker in workers:
            pod_grace = (worker.pod["spec"].get("terminationGracePeriodSeconds"))
            worker.request_stop(min(grace, float(30 if pod_grace is None else pod_grace)), delete_after=False)
        for worker in workers:
            if worker.is_alive():
                worker.join(timeout=grace + 10)
