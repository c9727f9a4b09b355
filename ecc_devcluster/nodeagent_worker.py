"""One pod's life on a process node (the kubelet's pod worker, as a development stand-in).

A `PodWorker` thread allocates the pod's loopback address, fetches what the pod
refers to (Secrets, ConfigMaps, a TokenRequest-issued service-account token),
builds the launch plan, writes the volumes and hosts file, runs the init
containers in order and then the containers, applies the restart policy with
crash-loop back-off, runs readiness probes, refreshes projected tokens, and
reports everything through the pods/status subresource. On deletion it stops the
processes (SIGTERM, grace period, SIGKILL) and confirms the deletion (grace 0).
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ecc_devcluster.nodeagent_lifecycle import (
    ContainerRuntimeState,
    RestartTracker,
    exit_reason,
    now_iso,
    pod_phase,
    pod_status_json,
    should_restart,
    termination_message,
)
from ecc_devcluster.nodeagent_model import NODE_ADDRESS, AgentSettings
from ecc_devcluster.nodeagent_network import AddressPool
from ecc_devcluster.nodeagent_plan import (
    ContainerPlan,
    FileContent,
    PlanError,
    PodInputs,
    PodPlan,
    RuntimeContext,
    configmap_data,
    pod_plan,
    requirements,
    secret_data,
    volume_dir,
)
from ecc_devcluster.nodeagent_probes import run_probe
from ecc_devcluster.nodeagent_runner import (
    ContainerProcess,
    StartFailure,
    materialise_volumes,
    read_termination_file,
    start_container,
    write_file_content,
)
from ecc_devcluster.nodeagent_services import HostsSubscriber, LocalPod, ServiceRouter

log = logging.getLogger("ecc.nodeagent.pods")
POLL_SECONDS = 0.2
RETRY_SECONDS = 3.0
VOLUME_REFRESH_SECONDS = 15.0
"""Secret/ConfigMap/downwardAPI volume contents follow their objects, like the kubelet's
periodic sync (environment variables do not change, as on a real node)."""


@dataclass
class AgentContext:
    """What every pod worker shares."""

    api: Any
    settings: AgentSettings
    router: ServiceRouter
    pod_ips: AddressPool
    node_allocatable: dict[str, dict[str, str]]
    base_env: dict[str, str]

    @property
    def pods_dir(self) -> Path:
        return self.settings.state_dir / "pods"


def pod_dir_for(pods_dir: Path, namespace: str, name: str) -> Path:
    return pods_dir / f"{namespace}_{name}"


@dataclass
class _TokenState:
    volume_path: Path
    expires: datetime
    issued: datetime
    spec: Any
    value: str = ""


@dataclass
class _Probe:
    next_at: float = 0.0
    successes: int = 0
    failures: int = 0


@dataclass
class _Running:
    plan: ContainerPlan
    state: ContainerRuntimeState
    proc: ContainerProcess | None = None
    tracker: RestartTracker = field(default_factory=RestartTracker)
    restart_at: float | None = None
    probe: _Probe = field(default_factory=_Probe)


class PodWorker(threading.Thread):
    def __init__(self, pod: dict, ctx: AgentContext):
        meta = pod["metadata"]
        super().__init__(name=f"pod-{meta['namespace']}/{meta['name']}", daemon=True)
        self.ctx = ctx
        self.pod = pod
        self.namespace: str = meta["namespace"]
        self.name: str = meta["name"]
        self.uid: str = meta["uid"]
        self.node_name: str = pod["spec"]["nodeName"]
        self.pod_dir = pod_dir_for(ctx.pods_dir, self.namespace, self.name)
        self.stop_event = threading.Event()
        self.finished = threading.Event()
        self.stop_grace: float = 30.0
        self.delete_after_stop = False
        self.pod_ip: str = ""
        self.phase = "Pending"
        self._lock = threading.Lock()
        self._last_status: dict | None = None
        self._conditions: list[dict] | None = (pod.get("status") or {}).get("conditions")
        self._start_time = (pod.get("status") or {}).get("startTime") or now_iso()
        self._tokens: dict[str, _TokenState] = {}
        self._next_volume_refresh = time.monotonic() + VOLUME_REFRESH_SECONDS
        spec = pod["spec"]
        self.init_states = [ContainerRuntimeState(name=c["name"], image=c.get("image", ""), init=True)
                            for c in spec.get("initContainers") or []]
        self.main_states = [ContainerRuntimeState(name=c["name"], image=c.get("image", ""))
                            for c in spec.get("containers") or []]
        self._status_message = ""
        self._status_reason = ""
        self._ready = False
        self._status_failing = False
        self._status_retry_at = 0.0
        self._last_plan_error = ""

    # ------------------------------------------------------------------ public
    def update(self, pod: dict) -> None:
        with self._lock:
            self.pod = pod

    def request_stop(self, grace: float, delete_after: bool) -> None:
        self.stop_grace = min(self.stop_grace, grace) if self.stop_event.is_set() else grace
        self.delete_after_stop = self.delete_after_stop or delete_after
        self.stop_event.set()

    def local_pod(self) -> LocalPod | None:
        if not self.pod_ip or self.finished.is_set():
            return None
        with self._lock:
            pod = self.pod
        return LocalPod(namespace=self.namespace, name=self.name, labels=dict(pod["metadata"].get("labels") or {}),
                        pod_ip=self.pod_ip, ready=self._ready, pod=pod)

    # ------------------------------------------------------------------ thread
    def run(self) -> None:
        try:
            self._run()
        except Exception as exc:  # noqa: BLE001 - report, never die silently
            log.exception("pod %s/%s: worker failed", self.namespace, self.name)
            self._status_message = f"process node agent error: {exc}"
            self._push_status(force=True)
        finally:
            self._shutdown()

    def _run(self) -> None:
        spec = self.pod["spec"]
        if spec.get("hostNetwork"):
            self.pod_ip = NODE_ADDRESS
        else:
            self.pod_ip = self.ctx.pod_ips.allocate(self.uid, preferred=(self.pod.get("status") or {}).get("podIP"))
        self._push_status()
        plan = self._prepare()
        if plan is None:
            return
        self.ctx.router.subscribe_hosts(
            self.uid, HostsSubscriber(path=self.pod_dir / "hosts", pod_name=self.name, pod_ip=self.pod_ip,
                                      namespace=self.namespace))
        if not self._run_init_containers(plan):
            return
        self._run_containers(plan)

    # ------------------------------------------------------------------ preparation
    def _fetch_inputs(self, reuse_tokens: bool = False) -> PodInputs:
        req = requirements(self.pod)
        api = self.ctx.api
        secrets = {}
        for name in req.secrets:
            obj = api.read_secret(self.namespace, name)
            if obj is not None:
                secrets[name] = secret_data(obj)
        configmaps = {}
        for name in req.configmaps:
            obj = api.read_configmap(self.namespace, name)
            if obj is not None:
                configmaps[name] = configmap_data(obj)
        tokens = {}
        sa = self.pod["spec"].get("serviceAccountName") or "default"
        for spec in req.tokens:
            if reuse_tokens and spec.key in self._tokens:
                tokens[spec.key] = self._tokens[spec.key].value
                continue
            token, expires = api.request_token(self.namespace, sa, self.name, self.uid, spec.audience,
                                               spec.expiration_seconds)
            tokens[spec.key] = token
            self._tokens[spec.key] = _TokenState(
                volume_path=self.pod_dir / "volumes" / spec.volume / spec.path,
                expires=expires, issued=datetime.now(timezone.utc), spec=spec, value=token)
        return PodInputs(secrets=secrets, configmaps=configmaps, tokens=tokens)

    def _runtime_context(self) -> RuntimeContext:
        return RuntimeContext(
            node_name=self.node_name,
            pod_ip=self.pod_ip,
            pod_dir=str(self.pod_dir),
            apiserver_host=self.ctx.settings.apiserver_host,
            apiserver_port=self.ctx.settings.apiserver_port,
            path_prepend=self.ctx.settings.path_prepend,
            kept_paths=self.ctx.settings.keep_paths,
            base_env=self.ctx.base_env,
            node_allocatable=self.ctx.node_allocatable.get(self.node_name, {}),
        )

    def _prepare(self) -> PodPlan | None:
        """Build the plan and write the volumes; retries while referenced objects are missing."""
        for stale in ("volumes", "termination"):
            shutil.rmtree(self.pod_dir / stale, ignore_errors=True)
        (self.pod_dir / "work").mkdir(parents=True, exist_ok=True)
        while not self.stop_event.is_set():
            delay = RETRY_SECONDS
            try:
                plan = pod_plan(self.pod, self._fetch_inputs(reuse_tokens=True), self._runtime_context())
                materialise_volumes(plan, self.pod_dir)
                self._status_message = ""
                return plan
            except PlanError as exc:
                if str(exc) != self._last_plan_error:  # say it once, not on every retry
                    self._last_plan_error = str(exc)
                    log.warning("pod %s/%s: %s", self.namespace, self.name, exc)
                    self._event("Failed", f"Error: {exc}", warning=True)
                if exc.permanent and self.pod["spec"].get("restartPolicy") in ("Never", "OnFailure"):
                    self._fail_permanently(exc)
                    return None
                for state in self.init_states + self.main_states:
                    state.state, state.reason, state.message = "waiting", exc.reason, str(exc)
                self._push_status()
                if exc.permanent:
                    delay = 10 * RETRY_SECONDS  # the spec will not change; a Deployment keeps it Pending
            except Exception as exc:  # noqa: BLE001 - API hiccups (the API server may restart): retry
                log.warning("pod %s/%s: preparing failed, retrying: %s", self.namespace, self.name, exc)
            self.stop_event.wait(delay)
        return None

    def _fail_permanently(self, exc: PlanError) -> None:
        now = now_iso()
        for state in self.init_states + self.main_states:
            state.state, state.reason, state.message = "terminated", "StartError", str(exc)
            state.exit_code, state.started_at, state.finished_at = 128, now, now
        self.phase = "Failed"
        self._status_reason = exc.reason
        self._status_message = str(exc)
        self._push_final_status()

    # ------------------------------------------------------------------ containers
    def _start(self, item: _Running) -> None:
        result = start_container(item.plan, self.pod_dir, self.pod_dir / f"{item.plan.name}.log")
        state = item.state
        now = now_iso()
        item.probe = _Probe(next_at=time.monotonic() + float((item.plan.readiness_probe or {}).get("initialDelaySeconds") or 0))
        if isinstance(result, StartFailure):
            item.proc = None
            state.state, state.reason, state.message = "terminated", "StartError", result.message
            state.exit_code, state.signal, state.started_at, state.finished_at = result.exit_code, None, now, now
            state.pid, state.ready = None, False
            log.warning("pod %s/%s container %s: %s", self.namespace, self.name, item.plan.name, result.message)
            self._event("Failed", f"Error: {result.message}", warning=True)
            return
        item.proc = result
        state.state, state.reason, state.message = "running", "", ""
        state.started_at, state.finished_at, state.exit_code, state.signal = now, None, None, None
        state.pid = result.pid
        state.ready = item.plan.readiness_probe is None and not item.plan.init
        log.info("pod %s/%s container %s started (pid %d)", self.namespace, self.name, item.plan.name, result.pid)
        self._event("Started", f"Started container {item.plan.name} as process {result.pid}")

    def _collect_exit(self, item: _Running) -> bool:
        """If the container's process exited, record it; returns True when it did."""
        if item.proc is None or item.proc.poll() is None:
            return False
        code, sig = item.proc.exit_status()
        state = item.state
        state.state, state.exit_code, state.signal = "terminated", code, sig
        state.finished_at, state.ready = now_iso(), False
        state.reason = exit_reason(code)
        state.message = termination_message(read_termination_file(item.plan), item.proc.log_since_start(), code,
                                            item.plan.termination_message_policy)
        log.info("pod %s/%s container %s exited with %d", self.namespace, self.name, item.plan.name, code)
        return True

    def _schedule_restart(self, item: _Running) -> None:
        ran_for = time.monotonic() - item.proc.started if item.proc else 0.0
        item.tracker.base = self.ctx.settings.restart_backoff_base_seconds
        item.tracker.cap = self.ctx.settings.restart_backoff_max_seconds
        delay = item.tracker.on_exit(time.monotonic(), ran_for)
        item.restart_at = time.monotonic() + delay
        state = item.state
        state.last_terminated = state.terminated_json()
        state.restart_count += 1
        state.state, state.reason = "waiting", "CrashLoopBackOff"
        state.message = f"back-off {delay:g}s restarting failed container={item.plan.name} pod={self.name}"
        item.proc = None
        self._event("BackOff", f"Back-off {delay:g}s restarting container {item.plan.name}", warning=True)

    def _run_init_containers(self, plan: PodPlan) -> bool:
        for index, cplan in enumerate(plan.init_containers):
            item = _Running(plan=cplan, state=self.init_states[index])
            while not self.stop_event.is_set():
                if item.restart_at is None or time.monotonic() >= item.restart_at:
                    item.restart_at = None
                    self._start(item)
                    self._push_status()
                while item.proc is not None and not self._collect_exit(item):
                    if self.stop_event.wait(POLL_SECONDS):
                        item.proc.stop(self.stop_grace)
                        self._collect_exit(item)
                        return False
                if item.state.state == "terminated" and item.state.exit_code == 0:
                    break
                if item.state.state == "terminated":
                    if not should_restart("OnFailure" if plan.restart_policy == "Always" else plan.restart_policy,
                                          item.state.exit_code or 1):
                        self.phase = "Failed"
                        self._push_final_status()
                        return False
                    self._schedule_restart(item)
                    self._push_status()
                self.stop_event.wait(POLL_SECONDS)
            if self.stop_event.is_set():
                return False
        self._push_status()
        return True

    def _run_containers(self, plan: PodPlan) -> None:
        items = [_Running(plan=c, state=self.main_states[i]) for i, c in enumerate(plan.containers)]
        self._items = items
        for item in items:
            self._start(item)
        self._push_status()
        deadline = self._active_deadline()
        while not self.stop_event.is_set():
            now = time.monotonic()
            if deadline is not None and time.time() >= deadline:
                self._deadline_exceeded(items)
                return
            for item in items:
                if item.proc is None and item.state.state == "terminated" and item.restart_at is None:
                    # start failure or exit: decide about restarting
                    if should_restart(plan.restart_policy, item.state.exit_code or 0):
                        self._schedule_restart(item)
                elif self._collect_exit(item):
                    if should_restart(plan.restart_policy, item.state.exit_code or 0):
                        self._schedule_restart(item)
                    item.proc = None
                if item.restart_at is not None and now >= item.restart_at:
                    item.restart_at = None
                    self._start(item)
                self._probe(item, now)
            self._refresh_tokens()
            self._refresh_volumes(now)
            ready = all(i.state.state == "running" and i.state.ready for i in items)
            if ready != self._ready:
                self._ready = ready
                self.ctx.router.pods_changed()
            self.phase = pod_phase(plan.restart_policy, self.init_states, self.main_states)
            self._push_status()
            if self.phase in ("Succeeded", "Failed"):
                self.ctx.router.pods_changed()
                self._push_final_status()
                return
            self.stop_event.wait(POLL_SECONDS)

    def _active_deadline(self) -> float | None:
        """spec.activeDeadlineSeconds as a wall-clock time, counted from the pod's start."""
        seconds = self.pod["spec"].get("activeDeadlineSeconds")
        if seconds is None:
            return None
        started = datetime.strptime(self._start_time, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        return started.timestamp() + float(seconds)

    def _deadline_exceeded(self, items: list[_Running]) -> None:
        """Like the kubelet: stop the containers, and the pod fails with reason DeadlineExceeded."""
        seconds = self.pod["spec"].get("activeDeadlineSeconds")
        for item in items:
            if item.proc is not None and item.proc.poll() is None:
                item.proc.stop(float(self.pod["spec"].get("terminationGracePeriodSeconds") or 30))
                self._collect_exit(item)
            item.proc, item.restart_at = None, None
            if item.state.state != "terminated":
                item.state.state, item.state.exit_code = "terminated", item.state.exit_code or 137
                item.state.reason, item.state.finished_at = "Error", now_iso()
        self.phase = "Failed"
        self._status_reason = "DeadlineExceeded"
        self._status_message = f"Pod was active on the node longer than the specified deadline ({seconds}s)"
        self._ready = False
        self.ctx.router.pods_changed()
        self._event("DeadlineExceeded", self._status_message, warning=True)
        self._push_final_status()

    def _probe(self, item: _Running, now: float) -> None:
        probe = item.plan.readiness_probe
        if probe is None or item.proc is None or item.state.state != "running" or now < item.probe.next_at:
            return
        item.probe.next_at = now + float(probe.get("periodSeconds") or 10)
        ok, detail = run_probe(probe, self.pod, self.pod_ip, item.proc.pid, item.plan.env)
        if ok:
            item.probe.successes, item.probe.failures = item.probe.successes + 1, 0
            if item.probe.successes >= int(probe.get("successThreshold") or 1):
                item.state.ready = True
        else:
            item.probe.failures, item.probe.successes = item.probe.failures + 1, 0
            if item.probe.failures >= int(probe.get("failureThreshold") or 3) or not item.state.ready:
                item.state.ready = False
            log.debug("pod %s/%s readiness probe of %s failed: %s", self.namespace, self.name, item.plan.name, detail)

    def _refresh_volumes(self, now: float) -> None:
        if now < self._next_volume_refresh:
            return
        self._next_volume_refresh = now + VOLUME_REFRESH_SECONDS
        try:
            plan = pod_plan(self.pod, self._fetch_inputs(reuse_tokens=True), self._runtime_context())
        except Exception as exc:  # noqa: BLE001 - keep the current files; try again later
            log.debug("pod %s/%s: volume refresh skipped: %s", self.namespace, self.name, exc)
            return
        for volume in plan.volumes:
            if volume.kind != "files":
                continue
            root = Path(volume_dir(str(self.pod_dir), volume))
            token_paths = {t.path for t in volume.tokens}
            for rel, content in volume.files.items():
                if rel in token_paths:
                    continue
                path = root / rel
                try:
                    current = path.read_bytes()
                except OSError:
                    current = None
                if current != content.data:
                    write_file_content(path, content)
                    log.info("pod %s/%s: updated %s in volume %s", self.namespace, self.name, rel, volume.name)
            for path in root.rglob("*"):
                rel = path.relative_to(root).as_posix()
                if path.is_file() and rel not in volume.files and not path.name.startswith("."):
                    path.unlink(missing_ok=True)

    def _refresh_tokens(self) -> None:
        """Re-issue projected tokens at 80 % of their lifetime, like the kubelet."""
        now = datetime.now(timezone.utc)
        for key, token in list(self._tokens.items()):
            lifetime = (token.expires - token.issued).total_seconds()
            if (now - token.issued).total_seconds() < 0.8 * lifetime:
                continue
            try:
                sa = self.pod["spec"].get("serviceAccountName") or "default"
                value, expires = self.ctx.api.request_token(self.namespace, sa, self.name, self.uid,
                                                            token.spec.audience, token.spec.expiration_seconds)
            except Exception as exc:  # noqa: BLE001 - retried on the next loop
                log.warning("pod %s/%s: token refresh failed: %s", self.namespace, self.name, exc)
                continue
            write_file_content(token.volume_path, FileContent(data=value.encode(), mode=0o600))
            self._tokens[key] = _TokenState(volume_path=token.volume_path, expires=expires, issued=now,
                                            spec=token.spec, value=value)

    def _event(self, reason: str, message: str, warning: bool = False) -> None:
        try:
            self.ctx.api.emit_event(self.pod, self.node_name, reason, message, warning)
        except Exception as exc:  # noqa: BLE001 - events are best effort
            log.debug("pod %s/%s: event %s not recorded: %s", self.namespace, self.name, reason, exc)

    # ------------------------------------------------------------------ status
    def _push_status(self, force: bool = False) -> bool:
        """Send the status if it changed; False when the API server did not take it (retried later)."""
        status = pod_status_json(
            phase=self.phase, pod_ip=self.pod_ip, host_ip=NODE_ADDRESS, start_time=self._start_time,
            init_states=self.init_states, main_states=self.main_states,
            previous_conditions=self._conditions, message=self._status_message, reason=self._status_reason,
        )
        if not force and status == self._last_status:
            return True
        if time.monotonic() < self._status_retry_at:
            return False
        try:
            self.ctx.api.patch_pod_status(self.namespace, self.name, status)
        except Exception as exc:  # noqa: BLE001 - retried on the next change / loop
            if getattr(exc, "status", None) == 404:
                self.stop_event.set()
            if not self._status_failing:
                log.warning("pod %s/%s: status update failed (retrying every %gs): %s",
                            self.namespace, self.name, RETRY_SECONDS, exc)
            self._status_failing = True
            self._status_retry_at = time.monotonic() + RETRY_SECONDS
            self._last_status = None
            return False
        if self._status_failing:
            log.info("pod %s/%s: status updates work again", self.namespace, self.name)
        self._status_failing = False
        self._last_status = status
        self._conditions = status["conditions"]
        return True

    def _push_final_status(self) -> None:
        """A terminal phase must reach the API server (Jobs wait for it): retry until it does."""
        while not self._push_status(force=self._last_status is None) and not self.stop_event.is_set():
            self.stop_event.wait(RETRY_SECONDS)

    # ------------------------------------------------------------------ stop
    def _shutdown(self) -> None:
        items: list[_Running] = getattr(self, "_items", [])
        running = [i for i in items if i.proc is not None and i.proc.poll() is None]
        if running and self.delete_after_stop:
            for item in running:
                self._event("Killing", f"Stopping container {item.plan.name} (grace period {self.stop_grace:g}s)")
        if running:
            stoppers = [threading.Thread(target=i.proc.stop, args=(self.stop_grace,)) for i in running]
            for t in stoppers:
                t.start()
            for t in stoppers:
                t.join()
            for item in running:
                self._collect_exit(item)
                item.proc = None
        self._ready = False
        self.ctx.router.unsubscribe_hosts(self.uid)
        self.ctx.router.pods_changed()
        if self.delete_after_stop:
            self.delete_now()
        self.finished.set()

    def delete_now(self) -> None:
        """Confirm the deletion to the API server and drop the pod's address and secrets."""
        try:
            self.ctx.api.delete_pod_now(self.namespace, self.name, self.uid)
            log.info("pod %s/%s deleted", self.namespace, self.name)
        except Exception as exc:  # noqa: BLE001
            log.warning("pod %s/%s: confirming deletion failed: %s", self.namespace, self.name, exc)
        self.ctx.pod_ips.release(self.uid)
        shutil.rmtree(self.pod_dir / "volumes", ignore_errors=True)
