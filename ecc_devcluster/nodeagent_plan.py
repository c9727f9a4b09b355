"""Launch plans of the process node agent (a development stand-in for a kubelet).

Pure functions: they turn a pod (the API's JSON, camelCase) plus the Secrets,
ConfigMaps and tokens it refers to into a `PodPlan` — what to write into each
volume, and for each container the argv, environment, working directory and the
bind mounts its private mount namespace gets. Nothing here touches the API, the
file system or processes, so it is unit-tested without a cluster.

A pod that cannot run on a process node (a container without `command`, a
missing Secret key, an unsupported volume type) raises `PlanError` naming the
field and what is allowed; the agent reports it in the pod's status.
"""

from __future__ import annotations

import base64
import math
import posixpath
import re
from decimal import Decimal, InvalidOperation
from pathlib import PurePosixPath

from pydantic import BaseModel, ConfigDict, Field

from ecc_workloads.contracts import RuntimeEnv

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
DEFAULT_TERMINATION_MESSAGE_PATH = "/dev/termination-log"
THREAD_ENV_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TORCH_NUM_THREADS")
SUPPORTED_VOLUME_TYPES = ("configMap", "secret", "emptyDir", "downwardAPI", "projected", "hostPath")


class PlanError(Exception):
    """The pod cannot be launched as planned; `reason` is a kubelet-style waiting reason.

    `permanent` errors come from the pod's (immutable) spec and never heal; the others
    (a Secret or ConfigMap not there yet) are retried, like the kubelet does.
    """

    def __init__(self, message: str, reason: str = "CreateContainerConfigError", permanent: bool = True):
        super().__init__(message)
        self.reason = reason
        self.permanent = permanent


# ---------------------------------------------------------------------------
# Typed plan
# ---------------------------------------------------------------------------
class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FileContent(_Frozen):
    data: bytes
    mode: int = 0o644


class TokenSpec(_Frozen):
    """A projected service-account token the agent requests via the TokenRequest API."""

    volume: str
    path: str
    audience: str = ""
    expiration_seconds: int = 3607

    @property
    def key(self) -> str:
        return f"{self.volume}/{self.path}"


class VolumePlan(_Frozen):
    name: str
    kind: str = Field(description="files | emptyDir | hostPath")
    files: dict[str, FileContent] = Field(default_factory=dict, description="relative path -> content")
    host_path: str | None = None
    tokens: list[TokenSpec] = Field(default_factory=list)


class Mount(_Frozen):
    source: str = Field(description="path on the host (under the pod's directory, or a hostPath)")
    target: str = Field(description="path the container sees")
    read_only: bool = False
    is_file: bool = False
    kept: bool = Field(False, description="a kept host path (see kept_mounts): target is bound onto source, "
                                          "a staging directory, before any volume and moved back in its turn")


class ContainerPlan(_Frozen):
    name: str
    init: bool = False
    argv: list[str]
    env: dict[str, str]
    workdir: str
    mounts: list[Mount]
    termination_message_path: str = DEFAULT_TERMINATION_MESSAGE_PATH
    termination_message_policy: str = "File"
    threads: int = 1
    readiness_probe: dict | None = None


class PodPlan(_Frozen):
    namespace: str
    name: str
    uid: str
    pod_ip: str
    restart_policy: str
    termination_grace_seconds: int
    volumes: list[VolumePlan]
    init_containers: list[ContainerPlan]
    containers: list[ContainerPlan]


class RuntimeContext(_Frozen):
    """Facts about the node and agent a plan needs besides the pod."""

    node_name: str
    host_ip: str = "127.0.0.1"
    pod_ip: str
    pod_dir: str = Field(description="the pod's directory on the host (volumes, hosts, logs)")
    apiserver_host: str = "127.0.0.1"
    apiserver_port: int
    path_prepend: tuple[str, ...] = ()
    kept_paths: tuple[str, ...] = Field(
        default=(), description="host paths the pods' commands need (the checkout, the venv): no volume hides them")
    base_env: dict[str, str] = Field(default_factory=dict, description="passed through from the agent")
    node_allocatable: dict[str, str] = Field(default_factory=dict)


class PodInputs(BaseModel):
    """Objects the pod refers to, fetched by the agent. Secret values are decoded bytes."""

    secrets: dict[str, dict[str, bytes]] = Field(default_factory=dict)
    configmaps: dict[str, dict[str, bytes]] = Field(default_factory=dict)
    tokens: dict[str, str] = Field(default_factory=dict, description="TokenSpec.key -> token")


class Requirements(_Frozen):
    secrets: frozenset[str] = frozenset()
    configmaps: frozenset[str] = frozenset()
    tokens: tuple[TokenSpec, ...] = ()


# ---------------------------------------------------------------------------
# Helpers on the API's JSON
# ---------------------------------------------------------------------------
def pod_key(pod: dict) -> str:
    meta = pod.get("metadata") or {}
    return f"{meta.get('namespace', 'default')}/{meta.get('name', '?')}"


def secret_data(secret: dict) -> dict[str, bytes]:
    """Decode a Secret's `data` (base64) and `stringData`."""
    out = {k: base64.b64decode(v) for k, v in (secret.get("data") or {}).items()}
    out.update({k: v.encode() for k, v in (secret.get("stringData") or {}).items()})
    return out


def configmap_data(configmap: dict) -> dict[str, bytes]:
    out = {k: v.encode() for k, v in (configmap.get("data") or {}).items()}
    out.update({k: base64.b64decode(v) for k, v in (configmap.get("binaryData") or {}).items()})
    return out


def parse_quantity(text: str | int | float) -> Decimal:
    """A Kubernetes resource quantity as a Decimal (e.g. '500m' -> 0.5, '1Gi' -> 1073741824)."""
    suffixes = {
        "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
        "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"),
        "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
    }
    raw = str(text).strip()
    match = re.fullmatch(r"([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?", raw)
    if not match:
        raise PlanError(f"{raw!r} is not a Kubernetes quantity (e.g. '2', '500m', '4Gi')")
    try:
        number = Decimal(match.group(1))
    except InvalidOperation:
        raise PlanError(f"{raw!r} is not a Kubernetes quantity") from None
    return number * Decimal(suffixes.get(match.group(2) or "", 1))


def cpu_threads(container: dict) -> int:
    """Threads a container may use: floor(CPU limit), at least 1; 1 without a limit."""
    limit = ((container.get("resources") or {}).get("limits") or {}).get("cpu")
    if limit is None:
        return 1
    return max(1, int(parse_quantity(limit)))


_VAR_REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.\-]*)\)")


def expand_vars(text: str, env: dict[str, str]) -> str:
    """Kubernetes' $(VAR) expansion: defined names are replaced, `$$` escapes, others stay."""

    def repl(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return env[name] if name in env else match.group(0)

    return _VAR_REF.sub(repl, text)


_SUBSCRIPT = re.compile(r"^metadata\.(labels|annotations)\['(.+)'\]$")


def field_value(pod: dict, field_path: str, ctx: RuntimeContext) -> str:
    """Value of a downward-API fieldRef, as the kubelet resolves it."""
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    simple = {
        "metadata.name": meta.get("name", ""),
        "metadata.namespace": meta.get("namespace", "default"),
        "metadata.uid": meta.get("uid", ""),
        "spec.nodeName": spec.get("nodeName") or ctx.node_name,
        "spec.serviceAccountName": spec.get("serviceAccountName", "default"),
        "status.hostIP": ctx.host_ip,
        "status.hostIPs": ctx.host_ip,
        "status.podIP": ctx.pod_ip,
        "status.podIPs": ctx.pod_ip,
    }
    if field_path in simple:
        return str(simple[field_path])
    if field_path in ("metadata.labels", "metadata.annotations"):
        items = meta.get(field_path.split(".")[1]) or {}
        return "\n".join(f'{k}="{_escape(v)}"' for k, v in sorted(items.items()))
    match = _SUBSCRIPT.match(field_path)
    if match:
        return str((meta.get(match.group(1)) or {}).get(match.group(2), ""))
    raise PlanError(
        f"fieldRef.fieldPath {field_path!r} is not supported; allowed: "
        + ", ".join(sorted(simple) + ["metadata.labels", "metadata.annotations",
                                      "metadata.labels['KEY']", "metadata.annotations['KEY']"])
    )


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def resource_value(pod: dict, ref: dict, default_container: str | None, ctx: RuntimeContext) -> str:
    """Value of a resourceFieldRef (limits fall back to node allocatable, like the kubelet)."""
    name = ref.get("containerName") or default_container
    containers = {c["name"]: c for c in _all_containers(pod)}
    if name not in containers:
        raise PlanError(f"resourceFieldRef.containerName {name!r} is not a container of the pod")
    resource = ref.get("resource", "")
    kind, _, res = resource.partition(".")
    if kind not in ("limits", "requests") or not res:
        raise PlanError(
            f"resourceFieldRef.resource {resource!r} is not supported; use limits.cpu, limits.memory, "
            "requests.cpu, requests.memory, limits.ephemeral-storage"
        )
    resources = containers[name].get("resources") or {}
    value = (resources.get(kind) or {}).get(res)
    if value is None and kind == "requests":
        value = (resources.get("limits") or {}).get(res)
    if value is None:
        value = ctx.node_allocatable.get(res, "0")
    divisor = parse_quantity(ref.get("divisor") or "1")
    if divisor == 0:
        raise PlanError("resourceFieldRef.divisor must not be 0")
    return str(math.ceil(parse_quantity(value) / divisor))


def _all_containers(pod: dict) -> list[dict]:
    spec = pod.get("spec") or {}
    return list(spec.get("initContainers") or []) + list(spec.get("containers") or [])


# ---------------------------------------------------------------------------
# What the pod needs fetched
# ---------------------------------------------------------------------------
def requirements(pod: dict) -> Requirements:
    """Secrets, ConfigMaps (all, optional or not) and tokens the pod refers to."""
    secrets: set[str] = set()
    configmaps: set[str] = set()
    tokens: list[TokenSpec] = []
    for container in _all_containers(pod):
        for source in container.get("envFrom") or []:
            if "secretRef" in source:
                secrets.add(source["secretRef"]["name"])
            if "configMapRef" in source:
                configmaps.add(source["configMapRef"]["name"])
        for var in container.get("env") or []:
            value_from = var.get("valueFrom") or {}
            if "secretKeyRef" in value_from:
                secrets.add(value_from["secretKeyRef"]["name"])
            if "configMapKeyRef" in value_from:
                configmaps.add(value_from["configMapKeyRef"]["name"])
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        if "secret" in volume:
            secrets.add(volume["secret"]["secretName"])
        if "configMap" in volume:
            configmaps.add(volume["configMap"]["name"])
        for source in (volume.get("projected") or {}).get("sources") or []:
            if "secret" in source:
                secrets.add(source["secret"]["name"])
            if "configMap" in source:
                configmaps.add(source["configMap"]["name"])
            if "serviceAccountToken" in source:
                sat = source["serviceAccountToken"]
                tokens.append(
                    TokenSpec(
                        volume=volume["name"],
                        path=sat["path"],
                        audience=sat.get("audience") or "",
                        expiration_seconds=int(sat.get("expirationSeconds") or 3600),
                    )
                )
    return Requirements(secrets=frozenset(secrets), configmaps=frozenset(configmaps), tokens=tuple(tokens))


# ---------------------------------------------------------------------------
# Environment
# ---------------------------------------------------------------------------
def _lookup(store: dict[str, dict[str, bytes]], kind: str, ref: dict, what: str) -> bytes | None:
    name, key, optional = ref.get("name", ""), ref.get("key", ""), bool(ref.get("optional"))
    if name not in store:
        if optional:
            return None
        raise PlanError(f"{what}: {kind} {name!r} not found", permanent=False)
    if key not in store[name]:
        if optional:
            return None
        raise PlanError(f"{what}: key {key!r} not found in {kind} {name!r} (keys: {sorted(store[name])})",
                        permanent=False)
    return store[name][key]


def runtime_env(pod: dict, container: dict, ctx: RuntimeContext) -> dict[str, str]:
    """What the agent gives every container before the container's own env."""
    meta = pod.get("metadata") or {}
    threads = str(cpu_threads(container))
    path_tail = ctx.base_env.get("PATH") or "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    env = {k: v for k, v in ctx.base_env.items() if k != "PATH"}
    env.update(
        {
            "PATH": ":".join([*ctx.path_prepend, path_tail]),
            "HOSTNAME": meta.get("name", ""),
            "KUBERNETES_SERVICE_HOST": ctx.apiserver_host,
            "KUBERNETES_SERVICE_PORT": str(ctx.apiserver_port),
            "KUBERNETES_SERVICE_PORT_HTTPS": str(ctx.apiserver_port),
            RuntimeEnv.POD_IP: ctx.pod_ip,
            RuntimeEnv.NODE_NAME: ctx.node_name,
            RuntimeEnv.POD_NAME: meta.get("name", ""),
            RuntimeEnv.POD_NAMESPACE: meta.get("namespace", "default"),
        }
    )
    env.update({name: threads for name in THREAD_ENV_VARS})
    return env


def container_env(pod: dict, container: dict, inputs: PodInputs, ctx: RuntimeContext) -> dict[str, str]:
    """The container's environment: runtime vars, then envFrom in order, then env (with $(VAR))."""
    cname = container.get("name", "?")
    env = runtime_env(pod, container, ctx)
    for index, source in enumerate(container.get("envFrom") or []):
        prefix = source.get("prefix") or ""
        what = f"container {cname!r} envFrom[{index}]"
        if "secretRef" in source:
            ref, store, kind = source["secretRef"], inputs.secrets, "Secret"
        elif "configMapRef" in source:
            ref, store, kind = source["configMapRef"], inputs.configmaps, "ConfigMap"
        else:
            raise PlanError(f"{what}: needs secretRef or configMapRef")
        if ref.get("name") not in store:
            if ref.get("optional"):
                continue
            raise PlanError(f"{what}: {kind} {ref.get('name')!r} not found", permanent=False)
        for key, value in store[ref["name"]].items():
            env[prefix + key] = value.decode(errors="replace")
    user_defined: dict[str, str] = {}
    for var in container.get("env") or []:
        name = var["name"]
        what = f"container {cname!r} env {name!r}"
        if "valueFrom" not in var:
            value = expand_vars(var.get("value") or "", {**env, **user_defined})
        else:
            value_from = var["valueFrom"]
            if "secretKeyRef" in value_from:
                raw = _lookup(inputs.secrets, "Secret", value_from["secretKeyRef"], what)
                if raw is None:
                    continue
                value = raw.decode(errors="replace")
            elif "configMapKeyRef" in value_from:
                raw = _lookup(inputs.configmaps, "ConfigMap", value_from["configMapKeyRef"], what)
                if raw is None:
                    continue
                value = raw.decode(errors="replace")
            elif "fieldRef" in value_from:
                value = field_value(pod, value_from["fieldRef"]["fieldPath"], ctx)
            elif "resourceFieldRef" in value_from:
                value = resource_value(pod, value_from["resourceFieldRef"], cname, ctx)
            else:
                raise PlanError(
                    f"{what}: valueFrom needs secretKeyRef, configMapKeyRef, fieldRef or resourceFieldRef"
                )
        user_defined[name] = value
    env.update(user_defined)
    return env


# ---------------------------------------------------------------------------
# Volumes
# ---------------------------------------------------------------------------
def _check_rel_path(path: str, what: str) -> str:
    norm = posixpath.normpath(path)
    if path.startswith("/") or norm.startswith("..") or norm == ".":
        raise PlanError(f"{what}: path {path!r} must be relative and stay inside the volume")
    return norm


def _key_files(
    store: dict[str, dict[str, bytes]], kind: str, source: dict, name: str, default_mode: int, what: str
) -> dict[str, FileContent] | None:
    """Files of a secret/configMap volume source; None when optional and absent."""
    if name not in store:
        if source.get("optional"):
            return None
        raise PlanError(f"{what}: {kind} {name!r} not found", reason="ContainerCreating", permanent=False)
    data = store[name]
    items = source.get("items")
    files: dict[str, FileContent] = {}
    if not items:
        for key, value in data.items():
            files[_check_rel_path(key, what)] = FileContent(data=value, mode=default_mode)
        return files
    for item in items:
        if item["key"] not in data:
            if source.get("optional"):
                continue
            raise PlanError(f"{what}: key {item['key']!r} not found in {kind} {name!r}", reason="ContainerCreating",
                            permanent=False)
        files[_check_rel_path(item["path"], what)] = FileContent(
            data=data[item["key"]], mode=int(item.get("mode") or default_mode)
        )
    return files


def _downward_files(pod: dict, source: dict, default_mode: int, ctx: RuntimeContext, what: str) -> dict[str, FileContent]:
    files: dict[str, FileContent] = {}
    for item in source.get("items") or []:
        path = _check_rel_path(item["path"], what)
        if "fieldRef" in item:
            value = field_value(pod, item["fieldRef"]["fieldPath"], ctx)
        elif "resourceFieldRef" in item:
            value = resource_value(pod, item["resourceFieldRef"], None, ctx)
        else:
            raise PlanError(f"{what}: item {path!r} needs fieldRef or resourceFieldRef")
        files[path] = FileContent(data=value.encode(), mode=int(item.get("mode") or default_mode))
    return files


def volume_plan(pod: dict, volume: dict, inputs: PodInputs, ctx: RuntimeContext) -> VolumePlan:
    name = volume["name"]
    what = f"volume {name!r}"
    if "emptyDir" in volume:
        return VolumePlan(name=name, kind="emptyDir")
    if "hostPath" in volume:
        return VolumePlan(name=name, kind="hostPath", host_path=volume["hostPath"]["path"])
    if "secret" in volume:
        src = volume["secret"]
        files = _key_files(inputs.secrets, "Secret", src, src["secretName"], int(src.get("defaultMode") or 0o644), what)
        return VolumePlan(name=name, kind="files", files=files or {})
    if "configMap" in volume:
        src = volume["configMap"]
        files = _key_files(inputs.configmaps, "ConfigMap", src, src["name"], int(src.get("defaultMode") or 0o644), what)
        return VolumePlan(name=name, kind="files", files=files or {})
    if "downwardAPI" in volume:
        src = volume["downwardAPI"]
        return VolumePlan(name=name, kind="files", files=_downward_files(pod, src, int(src.get("defaultMode") or 0o644), ctx, what))
    if "projected" in volume:
        projected = volume["projected"]
        mode = int(projected.get("defaultMode") or 0o644)
        files: dict[str, FileContent] = {}
        tokens: list[TokenSpec] = []
        for index, source in enumerate(projected.get("sources") or []):
            where = f"{what} projected.sources[{index}]"
            if "secret" in source:
                files.update(_key_files(inputs.secrets, "Secret", source["secret"], source["secret"]["name"], mode, where) or {})
            elif "configMap" in source:
                files.update(_key_files(inputs.configmaps, "ConfigMap", source["configMap"], source["configMap"]["name"], mode, where) or {})
            elif "downwardAPI" in source:
                files.update(_downward_files(pod, source["downwardAPI"], mode, ctx, where))
            elif "serviceAccountToken" in source:
                sat = source["serviceAccountToken"]
                spec = TokenSpec(
                    volume=name,
                    path=_check_rel_path(sat["path"], where),
                    audience=sat.get("audience") or "",
                    expiration_seconds=int(sat.get("expirationSeconds") or 3600),
                )
                if spec.key not in inputs.tokens:
                    raise PlanError(f"{where}: no service-account token was issued for {spec.key}",
                                    reason="ContainerCreating", permanent=False)
                files[spec.path] = FileContent(data=inputs.tokens[spec.key].encode(), mode=0o600 if mode == 0o644 else mode)
                tokens.append(spec)
            else:
                raise PlanError(
                    f"{where}: only secret, configMap, downwardAPI and serviceAccountToken sources are "
                    f"supported on process nodes (got {sorted(source)})",
                    reason="ContainerCreating",
                )
        return VolumePlan(name=name, kind="files", files=files, tokens=tokens)
    kinds = sorted(k for k in volume if k != "name")
    raise PlanError(
        f"{what}: type {kinds} is not supported on process nodes; supported: {', '.join(SUPPORTED_VOLUME_TYPES)}",
        reason="ContainerCreating",
    )


def volume_dir(pod_dir: str, volume: VolumePlan) -> str:
    if volume.kind == "hostPath" and volume.host_path:
        return volume.host_path
    return posixpath.join(pod_dir, "volumes", volume.name)


def container_mounts(container: dict, volumes: dict[str, VolumePlan], ctx: RuntimeContext) -> list[Mount]:
    """Bind mounts of one container, parents before children; /etc/hosts and the termination log too."""
    cname = container.get("name", "?")
    mounts: list[Mount] = []
    for vm in container.get("volumeMounts") or []:
        vname, target = vm["name"], vm["mountPath"]
        if vname not in volumes:
            raise PlanError(f"container {cname!r} volumeMounts: volume {vname!r} is not defined in spec.volumes")
        if not target.startswith("/"):
            raise PlanError(f"container {cname!r} volumeMounts[{vname!r}].mountPath {target!r} must be absolute")
        source = volume_dir(ctx.pod_dir, volumes[vname])
        is_file = False
        sub_path = vm.get("subPath")
        if sub_path:
            source = posixpath.join(source, _check_rel_path(sub_path, f"container {cname!r} volumeMounts[{vname!r}].subPath"))
            vol = volumes[vname]
            is_file = posixpath.normpath(sub_path) in vol.files
        # Like the kubelet, Secret/ConfigMap/downwardAPI/projected volumes are always read-only.
        read_only = bool(vm.get("readOnly")) or volumes[vname].kind == "files"
        mounts.append(Mount(source=source, target=posixpath.normpath(target), read_only=read_only, is_file=is_file))
    targets = {m.target for m in mounts}
    if "/etc/hosts" not in targets:
        mounts.append(Mount(source=posixpath.join(ctx.pod_dir, "hosts"), target="/etc/hosts", is_file=True))
    term_path = container.get("terminationMessagePath") or DEFAULT_TERMINATION_MESSAGE_PATH
    if term_path not in targets:
        mounts.append(
            Mount(source=termination_file(ctx.pod_dir, cname), target=posixpath.normpath(term_path), is_file=True)
        )
    mounts += kept_mounts(ctx.kept_paths, mounts, ctx.pod_dir)
    # A kept path comes back after the volume on the same path, and before the volumes inside it.
    return sorted(mounts, key=lambda m: (len(PurePosixPath(m.target).parts), m.target, m.kept))


def is_within(path: str, ancestor: str) -> bool:
    """`path` is `ancestor` or below it (normalised absolute paths)."""
    return path == ancestor or path.startswith(ancestor.rstrip("/") + "/")


def kept_mounts(kept_paths: tuple[str, ...], mounts: list[Mount], pod_dir: str) -> list[Mount]:
    """Kept host paths a volume would hide, as `kept` mounts from staging directories of the pod.

    A real container's volumes never hide its image's files. On a process node the "image" is
    the host's checkout and virtualenv, so a volume mounted on one of them or on an ancestor
    (the chart's emptyDir on /tmp, with the checkout cloned under /tmp) would hide the very
    program the container runs. Such a path is bound onto a staging directory of the pod before
    the volumes are mounted and moved back after the volumes on its ancestors. A kept path inside
    another one comes back with it.
    """
    paths = sorted({posixpath.normpath(p) for p in kept_paths})
    outermost = [p for p in paths if not any(q != p and is_within(p, q) for q in paths)]
    shadowed = [p for p in outermost if any(is_within(p, m.target) for m in mounts)]
    return [Mount(source=posixpath.join(pod_dir, "keep", str(index)), target=path, kept=True)
            for index, path in enumerate(shadowed)]


def termination_file(pod_dir: str, container_name: str) -> str:
    return posixpath.join(pod_dir, "termination", container_name)


# ---------------------------------------------------------------------------
# The whole pod
# ---------------------------------------------------------------------------
def container_plan(pod: dict, container: dict, init: bool, volumes: dict[str, VolumePlan],
                   inputs: PodInputs, ctx: RuntimeContext) -> ContainerPlan:
    cname = container.get("name", "?")
    command = list(container.get("command") or [])
    if not command:
        raise PlanError(
            f"container {cname!r} has no `command`: process nodes ignore the image (a development "
            "stand-in for a kubelet runs commands on the host), so set command (and args) explicitly",
            reason="CreateContainerConfigError",
        )
    env = container_env(pod, container, inputs, ctx)
    argv = [expand_vars(a, env) for a in command + list(container.get("args") or [])]
    workdir = container.get("workingDir") or posixpath.join(ctx.pod_dir, "work")
    return ContainerPlan(
        name=cname,
        init=init,
        argv=argv,
        env=env,
        workdir=workdir,
        mounts=container_mounts(container, volumes, ctx),
        termination_message_path=container.get("terminationMessagePath") or DEFAULT_TERMINATION_MESSAGE_PATH,
        termination_message_policy=container.get("terminationMessagePolicy") or "File",
        threads=cpu_threads(container),
        readiness_probe=container.get("readinessProbe"),
    )


def pod_plan(pod: dict, inputs: PodInputs, ctx: RuntimeContext) -> PodPlan:
    """The launch plan of a pod; raises PlanError naming what is wrong."""
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    policy = spec.get("restartPolicy") or "Always"
    if policy not in ("Always", "OnFailure", "Never"):
        raise PlanError(f"spec.restartPolicy {policy!r} must be Always, OnFailure or Never")
    for index, c in enumerate(spec.get("initContainers") or []):
        if c.get("restartPolicy") == "Always":
            raise PlanError(
                f"spec.initContainers[{index}] ({c.get('name')!r}) is a sidecar (restartPolicy: Always), which "
                "process nodes do not run; make it a regular container"
            )
    volumes = {v["name"]: volume_plan(pod, v, inputs, ctx) for v in spec.get("volumes") or []}
    init = [container_plan(pod, c, True, volumes, inputs, ctx) for c in spec.get("initContainers") or []]
    main = [container_plan(pod, c, False, volumes, inputs, ctx) for c in spec.get("containers") or []]
    if not main:
        raise PlanError("spec.containers is empty")
    grace = spec.get("terminationGracePeriodSeconds")
    return PodPlan(
        namespace=meta.get("namespace", "default"),
        name=meta.get("name", ""),
        uid=meta.get("uid", ""),
        pod_ip=ctx.pod_ip,
        restart_policy=policy,
        termination_grace_seconds=30 if grace is None else int(grace),
        volumes=list(volumes.values()),
        init_containers=init,
        containers=main,
    )
