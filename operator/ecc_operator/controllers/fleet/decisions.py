"""EdgeFleet decisions: spec + observed state -> desired state, children and status. Pure.

One reconcile is: parse the spec and look at the referenced CloudTeacher (`plan`); if the
teacher has a published revision, observe the fleet's nodes (from the in-memory node index),
the AdaptationPolicy that drives the fleet, the DesiredState last written and the latest
AgentReports (`handlers.observe`); `decide` turns that into:

* the new `DesiredState` (its generation is bumped only when its content changes, so agents
  polling with If-None-Match see a change only when there is one);
* the agent DaemonSet and the scoped-store Secret wanted (applied only when they differ);
* one status dict (phase, node counts, tiers, drift, skew, bytes, wave, conditions);
* Events and the metric values of the fleet.

Nothing here talks to the cluster or the store.

Tiers. Tiers are tried in spec order; the first whose `match` holds takes the node: all of
`match.labels` equal, and the node's allocatable cpu / memory at least `match.minCapacity`
(Kubernetes quantities, compared exactly). A node that matches the selector but no tier is
counted as matched and left out of `node_tiers` (it serves nothing new); the message says so.

Waves. The first revision a fleet sees goes to every node at once (`wave: all`). A later
revision R replaces the target while nodes keep the previous one: the canary wave lists the
ceil(canaryPercent % x tiered nodes) nodes with the lowest `contracts.rollout_bucket` (at
least one when canaryPercent > 0). The health gate passes when at least minHealthyPercent %
of the canary nodes still in the fleet report Ready on R (fresh reports only): wave `all`.
If `timeoutSeconds` passes first, the wave is `halted`: `canary_nodes` is emptied so that
every node, canaries included, runs the previous revision; phase Degraded, reason
RolloutHalted. A later teacher revision restarts the rollout from the last good revision.
`rollout.paused` holds everything where it is (no new rollout, no gate, no timeout).
`rollout.maxUnavailable` paces the agent DaemonSet's own rolling update; revision switches
are paced by the waves.

When a wave started is kept in the status condition `Rollout` (its lastTransitionTime), since
the DesiredState document has no field for it.

Staleness. A report older than 3 x reportIntervalSeconds (by its own `time`) is stale: the
node is neither ready, failed nor on target, and its drift and revision are not counted.
`bytesMoved` sums `bytes_down` (module and manifest bytes fetched) of every matched node's
latest report, stale ones included: the CRD defines it as bytes fetched by agents. Uploads
(`bytes_up`) are exported as a metric only.
"""

from __future__ import annotations

import math
from functools import partial
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Mapping

from ecc_workloads.contracts import (
    REPORT_SUMMARY_MAX_BYTES,
    REPORT_SUMMARY_METADATA,
    AdaptationSettings,
    AgentApiAuth,
    AgentEnv,
    AgentPaths,
    AgentReport,
    DEFAULT_BUCKET,
    DEFAULT_UPLOAD_BITS,
    STORE_SECRET_NAME,
    DesiredState,
    DesiredTier,
    PROMETHEUS_PATH_ANNOTATION,
    PROMETHEUS_PORT_ANNOTATION,
    PROMETHEUS_SCRAPE_ANNOTATION,
    PrivacySettings,
    RuntimeEnv,
    StoreLayout,
    StoreSettings,
    AgentStateLimits,
    NodeIdentity,
    StoreEnv,
    fleet_agent_name,
    rollout_bucket,
)
from ecc_workloads.store import BadStoreUri, object_key
from ecc_workloads.timestamps import epoch, rfc3339

from ecc_operator import common
from ecc_operator import conditions as cond
from ecc_operator.common import (
    ObjectRef,
    SpecProblem,
    needs_apply,
    owner_reference,
    read_status,
    with_desired_hash,
)
from ecc_operator.api.adaptationpolicy import AdaptationPolicySpec, DriftSpec
from ecc_operator.api.cloudteacher import CloudTeacherStatus
from ecc_operator.api.common import NodeSelector
from ecc_operator.api.edgefleet import EDGE_FLEET, EdgeFleetSpec, EdgeFleetStatus, NodeCounts, PrivacySpec, Tier, TierStatus
from ecc_operator.workloads import LABEL_COMPONENT, LABEL_MANAGED_BY, MANAGED_BY, ecc_argv

LABEL_FLEET = "ecc.dev/fleet"
STALE_FACTOR = 3
"""A report older than STALE_FACTOR x reportIntervalSeconds is stale."""
AGENT_STATE_DIR = "/var/lib/ecc-agent"
AGENT_UID = 65532
"""The user the edge-agent image runs as (images/edge-agent.Dockerfile)."""
ROLLOUT_CONDITION = "Rollout"
"""Extra condition type whose lastTransitionTime is when the current wave began."""
STATUS_WAVES = {"canary": "Canary", "halted": "Halted"}


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------
def parse_quantity(value: Any) -> Decimal | None:
    """A Kubernetes quantity (int, "500m", "2", "1Gi", "1e3", "16335668Ki") as an exact Decimal;
    None when absent or not a quantity."""
    if value is None:
        return None
    from kubernetes.utils.quantity import parse_quantity as k8s_parse

    try:
        return Decimal(k8s_parse(value))
    except (ValueError, InvalidOperation, TypeError):
        return None


@dataclass(frozen=True)
class NodeInfo:
    """What the fleet needs of a Node: its labels and allocatable cpu / memory."""

    name: str
    labels: Mapping[str, str]
    cpu: Decimal | None = None
    memory: Decimal | None = None

    @classmethod
    def from_node(cls, node: Mapping) -> "NodeInfo":
        meta = node.get("metadata") or {}
        alloc = (node.get("status") or {}).get("allocatable") or {}
        return cls(name=meta["name"], labels=dict(meta.get("labels") or {}),
                   cpu=parse_quantity(alloc.get("cpu")), memory=parse_quantity(alloc.get("memory")))


@dataclass(frozen=True)
class TeacherView:
    """The parts of the CloudTeacher the fleet follows."""

    name: str
    revision: int = 0
    bundles: Mapping[str, str] = field(default_factory=dict)
    """profile -> store key of the bundle manifest of the published revision"""
    pins: Mapping[str, str] = field(default_factory=dict)
    """store key -> sha256 of those manifests (status.bundles[].sha256)"""
    serving_url: str | None = None
    serving_protocol: str = "v2"
    bucket: str = DEFAULT_BUCKET
    store_secret: str = STORE_SECRET_NAME

    @classmethod
    def from_cr(cls, obj: Mapping) -> "TeacherView":
        """From the CloudTeacher object: its status as CloudTeacherStatus; of its spec only the store
        (a spec the teacher's own controller refuses still names where its published bundles are)."""
        store = (obj.get("spec") or {}).get("store") or {}
        bucket = store.get("bucket") or DEFAULT_BUCKET
        status = read_status(CloudTeacherStatus, obj.get("status"))
        bundles, pins = {}, {}
        for b in status.bundles or []:
            try:
                key = object_key(bucket, b.manifest_uri)
            except BadStoreUri:  # another bucket's: not the teacher's store
                continue
            bundles[b.profile], pins[key] = key, b.sha256
        return cls(name=obj["metadata"]["name"], revision=status.revision or 0, bundles=bundles, pins=pins,
                   serving_url=status.serving_url, serving_protocol=status.serving_protocol or "v2",
                   bucket=bucket, store_secret=(store.get("secretRef") or {}).get("name") or STORE_SECRET_NAME)


@dataclass(frozen=True)
class PolicyView:
    name: str
    spec: AdaptationPolicySpec


@dataclass(frozen=True)
class AgentWorkload:
    """How agent pods are launched (the same for every fleet)."""

    state_dir: str = AGENT_STATE_DIR
    node_credentials_url: str = f"https://ecc-operator.ecc-system.svc:{NodeIdentity.PORT}{NodeIdentity.PATH}"
    """Where agents exchange their projected token for their node's store credentials (the operator)."""
    node_credentials_ca: str = ""
    """PEM of the CA of that endpoint's certificate (AgentEnv.CREDENTIALS_CA; node_credentials_tls). The
    served teacher's certificate chains to it too: the desired state carries it as teacher_ca_pem."""
    release_keys: str = ""
    """The public keys agents accept signatures of (AgentEnv.RELEASE_KEYS; the operator's signing key)."""


parse_spec = partial(common.parse_spec, EdgeFleetSpec)


# ---------------------------------------------------------------------------
# Selection and tiers
# ---------------------------------------------------------------------------
def selector_matches(selector: NodeSelector, labels: Mapping[str, str]) -> bool:
    """matchLabels and matchExpressions, as a Kubernetes label selector evaluates them."""
    for key, value in (selector.match_labels or {}).items():
        if labels.get(key) != value:
            return False
    for req in selector.match_expressions or []:
        present = req.key in labels
        if req.operator == "In" and not (present and labels[req.key] in (req.values or [])):
            return False
        if req.operator == "NotIn" and present and labels[req.key] in (req.values or []):
            return False
        if req.operator == "Exists" and not present:
            return False
        if req.operator == "DoesNotExist" and present:
            return False
    return True


def tier_matches(tier: Tier, node: NodeInfo) -> bool:
    m = tier.match
    if m is None:
        return True
    for key, value in (m.labels or {}).items():
        if node.labels.get(key) != value:
            return False
    if m.min_capacity is not None:
        for want, have in ((m.min_capacity.cpu, node.cpu), (m.min_capacity.memory, node.memory)):
            if want is None:
                continue
            need = parse_quantity(want)
            if have is None or need is None or have < need:
                return False
    return True


def assign_tiers(tiers: list[Tier], nodes: Iterable[NodeInfo]) -> dict[str, str]:
    """node name -> the first tier (in order) that matches it; unmatched nodes are left out."""
    out: dict[str, str] = {}
    for node in nodes:
        for tier in tiers:
            if tier_matches(tier, node):
                out[node.name] = tier.name
                break
    return out


def canary_count(percent: int, nodes: int) -> int:
    if percent <= 0 or nodes <= 0:
        return 0
    return min(nodes, max(1, math.ceil(percent * nodes / 100)))


def pick_canaries(nodes: Iterable[str], percent: int) -> list[str]:
    """The ceil(percent % x len(nodes)) nodes with the lowest rollout bucket (ties by name)."""
    ordered = sorted(nodes, key=lambda n: (rollout_bucket(n), n))
    return sorted(ordered[: canary_count(percent, len(ordered))])


# ---------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------
REPORT_SUMMARY_HEADER = f"x-amz-meta-{REPORT_SUMMARY_METADATA}"
"""How a listing with metadata names the summary agents put on their report objects."""


def listed_summary(metadata: Mapping[str, str] | None) -> str | None:
    """The report summary among a listed object's metadata (header names in any case), if any."""
    for key, value in (metadata or {}).items():
        if key.lower() == REPORT_SUMMARY_HEADER:
            return value
    return None


def report_from_summary(text: str | None, node: str) -> AgentReport | None:
    """The AgentReport a listed summary stands for (its other fields at their defaults); None when
    there is none, it is too long, invalid, or names another node — then the object is read whole
    (and refused there if it really is bad)."""
    if not text or len(text) > REPORT_SUMMARY_MAX_BYTES:
        return None
    try:
        report = AgentReport.model_validate_json(text)
    except ValueError:
        return None
    return report if report.node == node else None


def is_stale(report: AgentReport, now: float, report_interval_s: int) -> bool:
    t = epoch(report.time)
    return t is None or now - t > STALE_FACTOR * report_interval_s


@dataclass(frozen=True)
class NodeFacts:
    """Per-fleet aggregates of the reports of matched nodes."""

    ready: int = 0
    failed: int = 0
    stale: int = 0
    reporting: int = 0
    on_target: int = 0
    tier_on_target: Mapping[str, int] = field(default_factory=dict)
    by_revision: Mapping[int, int] = field(default_factory=dict)
    drift_score: float | None = None
    drifting: int = 0
    revision_skew: int | None = None
    bytes_down: int = 0
    bytes_up: int = 0
    last_report: float | None = None
    ready_on_target: frozenset[str] = frozenset()


def fold_reports(reports: Mapping[str, AgentReport], matched: Iterable[str], node_tiers: Mapping[str, str],
                 target_revision: int | None, now: float, report_interval_s: int,
                 drift_threshold: float) -> NodeFacts:
    ready = failed = stale = reporting = on_target = drifting = 0
    bytes_down = bytes_up = 0
    tier_on: dict[str, int] = {}
    by_rev: dict[int, int] = {}
    drifts: list[float] = []
    revisions: list[int] = []
    last: float | None = None
    ready_on: set[str] = set()
    for name in matched:
        r = reports.get(name)
        if r is None:
            continue
        bytes_down += r.bytes_down
        bytes_up += r.bytes_up
        t = epoch(r.time)
        if t is not None and (last is None or t > last):
            last = t
        if t is None or now - t > STALE_FACTOR * report_interval_s:
            stale += 1
            continue
        reporting += 1
        if r.state == "Ready":
            ready += 1
        elif r.state == "Failed":
            failed += 1
        if r.revision is not None:
            revisions.append(r.revision)
            by_rev[r.revision] = by_rev.get(r.revision, 0) + 1
        if target_revision is not None and r.revision == target_revision:
            on_target += 1
            tier = node_tiers.get(name)
            if tier is not None:
                tier_on[tier] = tier_on.get(tier, 0) + 1
            if r.state == "Ready":
                ready_on.add(name)
            if r.drift_score is not None:
                drifts.append(r.drift_score)
        if r.drift_score is not None and r.drift_score > drift_threshold:
            drifting += 1
    return NodeFacts(
        ready=ready, failed=failed, stale=stale, reporting=reporting, on_target=on_target, tier_on_target=tier_on,
        by_revision=by_rev, drift_score=(sum(drifts) / len(drifts)) if drifts else None, drifting=drifting,
        revision_skew=(max(revisions) - min(revisions)) if revisions else None, bytes_down=bytes_down,
        bytes_up=bytes_up, last_report=last, ready_on_target=frozenset(ready_on),
    )


# ---------------------------------------------------------------------------
# Children
# ---------------------------------------------------------------------------
def node_affinity(selector: NodeSelector) -> dict:
    """The fleet's nodeSelector as a required node affinity (one term: all requirements hold)."""
    exprs = [{"key": k, "operator": "In", "values": [v]} for k, v in sorted((selector.match_labels or {}).items())]
    for req in selector.match_expressions or []:
        e = {"key": req.key, "operator": req.operator}
        if req.values:
            e["values"] = list(req.values)
        exprs.append(e)
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": exprs}]}}}


def agent_labels(ref: ObjectRef) -> dict[str, str]:
    return {LABEL_FLEET: ref.name, LABEL_COMPONENT: "edge-agent"}


def daemonset_manifest(ref: ObjectRef, spec: EdgeFleetSpec, workload: AgentWorkload, store: StoreSettings) -> dict:
    """The agent DaemonSet: one pod per matched node, running `ecc edge-agent`.

    No store credentials in it: each agent exchanges its pod-bound ServiceAccount token (projected,
    audience NodeIdentity.AUDIENCE) for credentials of its own node (NodeIdentity); the pods get
    no Kubernetes API token. `store` says only where the store is (its pod endpoint and bucket)."""
    name = fleet_agent_name(ref.name)
    selector = agent_labels(ref)
    labels = {**selector, LABEL_MANAGED_BY: MANAGED_BY}
    agent = spec.agent
    port = agent.port
    argv = ecc_argv("edge-agent")

    def field_env(env: str, path: str) -> dict:
        return {"name": env, "valueFrom": {"fieldRef": {"fieldPath": path}}}

    container: dict[str, Any] = {
        "name": "agent",
        "image": agent.image,
        "command": argv[:1],
        "args": argv[1:],
        "env": [
            {"name": StoreEnv.ENDPOINT, "value": store.endpoint},
            {"name": StoreEnv.BUCKET, "value": store.bucket},
            {"name": StoreEnv.SECURE, "value": "true" if store.secure else "false"},
            *([{"name": StoreEnv.CA, "value": store.ca_pem}] if store.ca_pem else []),
            {"name": AgentEnv.CREDENTIALS_URL, "value": workload.node_credentials_url},
            {"name": AgentEnv.CREDENTIALS_CA, "value": workload.node_credentials_ca},
            {"name": AgentEnv.RELEASE_KEYS, "value": workload.release_keys},
            {"name": AgentEnv.NODE_TOKEN_FILE, "value": f"{NodeIdentity.TOKEN_DIR}/{NodeIdentity.TOKEN_FILE}"},
            {"name": AgentEnv.FLEET, "value": ref.name},
            {"name": AgentEnv.FLEET_NAMESPACE, "value": ref.namespace},
            {"name": AgentEnv.PORT, "value": str(port)},
            {"name": AgentEnv.STATE_DIR, "value": workload.state_dir},
            {"name": AgentEnv.API_TOKENS_DIR, "value": AgentApiAuth.MOUNT},
            field_env(RuntimeEnv.NODE_NAME, "spec.nodeName"),
            field_env(RuntimeEnv.POD_IP, "status.podIP"),
            field_env(RuntimeEnv.POD_NAME, "metadata.name"),
            field_env(RuntimeEnv.POD_NAMESPACE, "metadata.namespace"),
        ],
        "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
        "readinessProbe": {"httpGet": {"path": AgentPaths.READY, "port": port}, "periodSeconds": 5,
                           "failureThreshold": 3},
        "volumeMounts": [{"name": "state", "mountPath": workload.state_dir},
                         {"name": "api-tokens", "mountPath": AgentApiAuth.MOUNT, "readOnly": True},
                         {"name": "node-identity", "mountPath": NodeIdentity.TOKEN_DIR, "readOnly": True}],
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }
    resources = agent.resources.to_k8s()
    if resources:
        container["resources"] = resources
    state = agent.state
    container["env"] += [
        {"name": AgentStateLimits.ENV_SPOOL_MAX_BYTES, "value": str(int(parse_quantity(state.spool_max_bytes)))},
        {"name": AgentStateLimits.ENV_MODULE_CACHE_MAX_BYTES,
         "value": str(int(parse_quantity(state.module_cache_max_bytes)))}]
    init_containers = []
    if state.volume == "hostPath":
        # Kept when the pod is replaced; one directory per fleet (two fleets on a node never share a
        # spool). The kubelet makes it root-owned: an init container hands it to the agent's user.
        # Not recursively: everything inside is the agent's own, and root without DAC_READ_SEARCH
        # cannot read the agent's 0700 directory to recurse — a replaced pod would never start.
        state_volume = {"name": "state", "hostPath": {
            "path": f"{state.host_path_root.rstrip('/')}/{ref.namespace}/{ref.name}", "type": "DirectoryOrCreate"}}
        init_containers.append({
            "name": "state-owner", "image": agent.image, "command": ["sh", "-c"],
            "args": [f"chown {AGENT_UID}:{AGENT_UID} {workload.state_dir} && chmod 0700 {workload.state_dir}"],
            "securityContext": {"runAsUser": 0, "runAsNonRoot": False,
                                "capabilities": {"drop": ["ALL"], "add": ["CHOWN", "FOWNER"]}},
            "volumeMounts": [{"name": "state", "mountPath": workload.state_dir}]})
    else:
        state_volume = {"name": "state", "emptyDir": {}}
    unavailable = spec.rollout.max_unavailable
    return with_desired_hash({
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": ref.namespace, "labels": labels,
                     "ownerReferences": [owner_reference(ref.name, ref.uid, EDGE_FLEET)]},
        "spec": {
            "selector": {"matchLabels": selector},
            # A DaemonSet refuses maxUnavailable 0 (without surge): 0 / 0% means one at a time.
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {
                "maxUnavailable": 1 if unavailable in (0, "0%") else unavailable}},
            "template": {
                "metadata": {"labels": labels, "annotations": {
                    PROMETHEUS_SCRAPE_ANNOTATION: "true", PROMETHEUS_PORT_ANNOTATION: str(port),
                    PROMETHEUS_PATH_ANNOTATION: AgentPaths.METRICS}},
                "spec": {
                    "affinity": node_affinity(spec.node_selector),
                    "tolerations": [t.to_k8s() for t in agent.tolerations],
                    "automountServiceAccountToken": False,
                    "initContainers": init_containers,
                    "containers": [container],
                    "volumes": [state_volume,
                                {"name": "api-tokens", "secret": {"secretName": AgentApiAuth.secret_name(ref.name)}},
                                {"name": "node-identity", "projected": {"sources": [{"serviceAccountToken": {
                                    "audience": NodeIdentity.AUDIENCE, "path": NodeIdentity.TOKEN_FILE,
                                    "expirationSeconds": NodeIdentity.TOKEN_EXPIRATION_S}}]}}],
                },
            },
        },
    })


def api_secret_manifest(ref: ObjectRef, tokens: dict[str, str]) -> dict:
    """The agents' API tokens (AgentApiAuth), one key per scope. Created once with fresh random
    tokens and never overwritten: the user rotates them by editing the Secret."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": AgentApiAuth.secret_name(ref.name), "namespace": ref.namespace,
                     "labels": {LABEL_FLEET: ref.name, LABEL_COMPONENT: "agent-api", LABEL_MANAGED_BY: MANAGED_BY},
                     "ownerReferences": [owner_reference(ref.name, ref.uid, EDGE_FLEET)]},
        "stringData": {scope: tokens[scope] for scope in AgentApiAuth.SCOPES},
    }


# ---------------------------------------------------------------------------
# Plan, observations, decision
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    """The first half of a reconcile: is there anything to run, and what to observe."""

    spec: EdgeFleetSpec | None
    problem: SpecProblem | None
    teacher: TeacherView | None
    active: bool
    """the teacher has a published revision: run agents, keep a desired state"""


def plan(raw_spec: Mapping | None, teacher_obj: Mapping | None) -> Plan:
    try:
        spec = parse_spec(raw_spec)
    except SpecProblem as problem:
        return Plan(None, problem, None, False)
    teacher = TeacherView.from_cr(teacher_obj) if teacher_obj is not None else None
    return Plan(spec, None, teacher, teacher is not None and teacher.revision > 0)


@dataclass(frozen=True)
class Observed:
    ref: ObjectRef
    status: EdgeFleetStatus
    """the stored status (a dict is read as the model)"""
    now: float
    teacher_ref: str = ""
    nodes: Mapping[str, NodeInfo] = field(default_factory=dict)
    """nodes matching the fleet's selector"""
    policy: PolicyView | None = None
    other_policies: tuple[str, ...] = ()
    previous: DesiredState | None = None
    reports: Mapping[str, AgentReport] = field(default_factory=dict)
    store_credentials: StoreSettings | None = None
    """the fleet's store user (from store_access; made sure of, never handed out: agents get
    narrower credentials per node) — where pods reach the store and which bucket"""
    store_problem: str = ""
    """why the store (or its admin API) could not be used, for the message"""
    store_reason: str = "StoreUnavailable"
    report_errors: tuple[str, ...] = ()
    daemonset_hash: str | None = None
    nodes_synced: bool = True
    manifest_pins: Mapping[str, str] = field(default_factory=dict)
    """store key -> sha256 of bundle manifests the handler read because a decision asked (pins_needed)"""

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", read_status(EdgeFleetStatus, self.status))


@dataclass
class FleetMetrics:
    nodes: dict[str, int]
    """state -> count: matched, ready, on_target, failed, stale"""
    by_revision: dict[int, int]
    target_revision: int | None
    revision_skew: int | None
    drift: float | None
    drifting: int
    bytes_down: int
    bytes_up: int
    progress: float


@dataclass
class Decision:
    status: EdgeFleetStatus
    """the status to write: only the fields set here are patched (`patch`)"""
    desired: DesiredState | None = None
    write_desired: bool = False
    apply: list[dict] = field(default_factory=list)
    events: list[tuple[str, str, str]] = field(default_factory=list)
    metrics: FleetMetrics | None = None
    pins_needed: list[str] = field(default_factory=list)
    """manifest keys a tier needs whose sha256 nothing observed says: read them and decide again"""

    def patch(self) -> dict:
        """The status as a merge patch (camelCase; a field set to None is removed)."""
        return common.status_patch(self.status)


def adaptation_settings(policy: PolicyView | None) -> AdaptationSettings | None:
    if policy is None:
        return None
    s = policy.spec
    la = s.local_adaptation
    return AdaptationSettings(
        policy=policy.name, drift_signal=s.drift.signal, drift_window_seconds=s.drift.window_minutes * 60,
        lora_rank=la.lora_rank, lora_alpha=la.lora_alpha, lora_dropout=la.lora_dropout,
        target_modules=list(la.target_modules), train_head=la.train_head, min_samples=la.min_samples,
        max_samples=la.max_samples, epochs=la.epochs, learning_rate=la.learning_rate, upload_deltas=True,
    )


def privacy_settings(spec: EdgeFleetSpec) -> PrivacySettings:
    p = spec.privacy
    return PrivacySettings(
        cloud_assist=p.cloud_assist, scrub_before_assist=p.scrub_before_assist,
        assist_below_confidence=p.assist_below_confidence, upload_form=p.upload_form, upload_rank=p.upload_rank,
        upload_head_rank=p.upload_head_rank,
        upload_clip_norm=p.upload_clip_norm, upload_noise_multiplier=p.upload_noise_multiplier,
        quantize_uploads=p.quantize_uploads, upload_bits=upload_bits(p), upload_head_bits=p.upload_head_bits,
    )


def upload_bits(p: PrivacySpec) -> int:
    """The bits agents round int8 uploads to: the spec's, else DEFAULT_UPLOAD_BITS for quantised factor
    uploads and 8 (plain int8; nothing to round) otherwise."""
    if p.upload_bits is not None:
        return p.upload_bits
    return DEFAULT_UPLOAD_BITS if p.quantize_uploads and p.upload_form == "factors" else 8


def manifest_pins(previous: DesiredState | None, teacher: TeacherView, fetched: Mapping[str, str]) -> dict[str, str]:
    """store key -> sha256 of every bundle manifest whose hash is known: what the handler read
    (fetched), the previous desired state's pins (it is signed by this operator) and, above
    both, the teacher's published bundles."""
    pins = dict(fetched)
    if previous is not None:
        pins.update({t.manifest_key: t.manifest_sha256 for t in (*previous.target, *previous.previous)})
    pins.update(teacher.pins)
    return pins


def _content(doc: DesiredState) -> dict:
    return doc.model_dump(mode="json", exclude={"generation", "updated_at"})


def _tiers_for(spec: EdgeFleetSpec, ref: ObjectRef, teacher: TeacherView, revision: int,
               keys: Mapping[str, str], pins: Mapping[str, str], carried: Iterable[DesiredTier] = (),
               guess: bool = False, unpinned: list[str] | None = None) -> tuple[list[DesiredTier], list[str]]:
    """DesiredTier per spec tier at `revision`; `keys` maps profile -> manifest key (the teacher's
    published bundles), `carried` are the entries of an earlier desired state for that revision;
    `guess`: an older revision's bundle not found there is where distillation writes it. `pins`
    maps manifest keys to their sha256: a key without one is missing, and added to `unpinned`."""
    old = {t.tier: t for t in carried}
    out, missing = [], []
    for tier in spec.tiers:
        key = keys.get(tier.profile)
        if key is None and tier.name in old and old[tier.name].profile == tier.profile:
            key = old[tier.name].manifest_key
        if key is None and guess:
            key = StoreLayout.bundle_manifest(ref.namespace, teacher.name, revision, tier.profile)
        if key is not None and key not in pins:
            if unpinned is not None:
                unpinned.append(key)
            key = None
        if key is None:
            missing.append(tier.profile)
            continue
        out.append(DesiredTier(tier=tier.name, profile=tier.profile, manifest_key=key, manifest_sha256=pins[key],
                               drift_reference_key=StoreLayout.drift_reference(ref.namespace, teacher.name, revision,
                                                                               tier.profile)))
    return out, missing


@dataclass(frozen=True)
class Wave:
    target: int
    previous: int | None
    wave: str
    canaries: tuple[str, ...]
    started: float
    event: tuple[str, str, str] | None = None
    last_good_tiers: tuple[DesiredTier, ...] = ()


def _old_wave_start(status: EdgeFleetStatus, fallback: float) -> float:
    c = cond.condition(status.conditions, ROLLOUT_CONDITION)
    t = epoch((c or {}).get("lastTransitionTime"))
    return t if t is not None else fallback


def next_wave(spec: EdgeFleetSpec, prev: DesiredState | None, teacher_revision: int, tiered: Iterable[str],
              facts_ready_on: frozenset[str] | None, now: float, old_status: EdgeFleetStatus) -> Wave:
    """Where the rollout stands after this reconcile (see the module docstring).

    `facts_ready_on`: nodes reporting Ready (fresh) on `prev.target_revision`."""
    tiered = list(tiered)
    ro = spec.rollout
    if prev is None:
        return Wave(teacher_revision, None, "all", (), now,
                    ("Normal", "RolloutStarted", f"revision {teacher_revision} to all {len(tiered)} node(s) "
                                                 "(first revision of the fleet)"))
    started = _old_wave_start(old_status, epoch(prev.updated_at) or now)
    if teacher_revision != prev.target_revision and not ro.paused:
        # A new rollout; nodes keep the last revision that rolled out fully.
        if prev.wave == "halted":
            base, base_tiers = prev.previous_revision, tuple(prev.previous)
        else:
            base, base_tiers = prev.target_revision, tuple(prev.target)
        if base == teacher_revision:
            base, base_tiers = None, ()
        canaries = pick_canaries(tiered, ro.canary_percent) if base is not None else []
        if not canaries:
            return Wave(teacher_revision, base, "all", (), now,
                        ("Normal", "RolloutStarted", f"revision {teacher_revision} to all {len(tiered)} node(s)"),
                        base_tiers)
        return Wave(teacher_revision, base, "canary", tuple(canaries), now,
                    ("Normal", "RolloutStarted", f"revision {teacher_revision}: canary wave of {len(canaries)} of "
                                                 f"{len(tiered)} node(s)"), base_tiers)
    # Same target (or paused): carry on.
    base, base_tiers = prev.previous_revision, tuple(prev.previous)
    if prev.wave != "canary" or ro.paused:
        return Wave(prev.target_revision, base, prev.wave, tuple(prev.canary_nodes), started, None, base_tiers)
    present = set(tiered)
    canaries = [n for n in prev.canary_nodes if n in present]
    if not canaries and tiered:  # every canary left the fleet: pick again, the wave goes on
        canaries = pick_canaries(tiered, ro.canary_percent)
    ready = len([n for n in canaries if n in (facts_ready_on or frozenset())])
    gate = ro.health_gate
    if canaries and ready * 100 >= gate.min_healthy_percent * len(canaries):
        return Wave(prev.target_revision, base, "all", (), now,
                    ("Normal", "CanaryPassed", f"{ready}/{len(canaries)} canary node(s) Ready on revision "
                                               f"{prev.target_revision}: rolling out to all {len(tiered)} node(s)"),
                    base_tiers)
    if now - started > gate.timeout_seconds:
        return Wave(prev.target_revision, base, "halted", (), now,
                    ("Warning", "RolloutHalted", f"revision {prev.target_revision}: only {ready}/{len(canaries)} "
                                                 f"canary node(s) Ready after {gate.timeout_seconds}s (gate "
                                                 f"{gate.min_healthy_percent}%); nodes stay on revision {base}"),
                    base_tiers)
    return Wave(prev.target_revision, base, "canary", tuple(sorted(canaries)), started, None, base_tiers)


def decide(p: Plan, obs: Observed, workload: AgentWorkload) -> Decision:
    """Everything to do in this reconcile, and the status to write: the first step that ends the
    reconcile decides its phase."""
    r = _Reconcile(p, obs, workload)
    return (r.invalid_spec() or r.teacher_missing() or r.no_revision_yet() or r.nodes_not_listed()
            or r.desired_state() or r.children() or r.fold() or r.outcome())


@dataclass
class _Reconcile:
    """One reconcile of one EdgeFleet, as named steps: each either ends it (returns the Decision)
    or leaves the rest to the next step (returns None)."""

    p: Plan
    obs: Observed
    workload: AgentWorkload
    d: Decision = field(init=False)
    rollout_condition: dict | None = None
    """the Rollout condition (its own transition time: when the wave changed)"""
    node_tiers: dict[str, str] = field(default_factory=dict)
    """matched node -> its tier"""
    served_tiers: dict[str, str] = field(default_factory=dict)
    """the same, without tiers whose profile has no bundle"""
    wave: Wave | None = None
    missing: list[str] = field(default_factory=list)
    """profiles of the target revision with no bundle"""
    facts: NodeFacts | None = None
    status_wave: str = ""

    def __post_init__(self) -> None:
        self.d = Decision(status=EdgeFleetStatus(observed_generation=self.obs.ref.generation))

    @property
    def status(self) -> EdgeFleetStatus:
        return self.d.status

    def finish(self, phase: str, message: str, ready, progressing, degraded) -> Decision:
        old = self.obs.status
        cond.settle(self.status, old, phase, message, cond.triple(ready, progressing, degraded),
                    self.obs.ref.generation, now=rfc3339(self.obs.now),
                    replace=[self.rollout_condition] if self.rollout_condition else [])
        if phase != old.phase or (phase == "Degraded" and _reason(degraded) != _old_reason(old)):
            self.d.events.append(("Warning" if phase == "Degraded" else "Normal", phase, self.status.message))
        return self.d

    def invalid_spec(self) -> Decision | None:
        pr = self.p.problem
        if self.p.spec is not None:
            return None
        return self.finish("Degraded", str(pr), *pr.observations())

    def teacher_missing(self) -> Decision | None:
        if self.p.teacher is not None:
            return None
        msg = f"CloudTeacher {self.obs.teacher_ref!r} (spec.teacherRef) does not exist in this namespace"
        return self.finish("Degraded", msg, ("False", "TeacherNotFound", msg), ("False", "TeacherNotFound", msg),
                           ("True", "TeacherNotFound", msg))

    def no_revision_yet(self) -> Decision | None:
        if self.p.active:
            return None
        matched = len(self.obs.nodes)
        self.status.nodes = NodeCounts(matched=matched, ready=0, on_target=0, failed=0)
        msg = f"waiting for CloudTeacher {self.p.teacher.name!r} to publish its first revision; {matched} node(s) match"
        return self.finish("Pending", msg, ("False", "NoRevisionYet", msg), ("False", "NoRevisionYet", msg),
                           ("False", "AsExpected", ""))

    def nodes_not_listed(self) -> Decision | None:
        """Until the node index has listed the nodes, nothing is known: the status stays."""
        if self.obs.nodes_synced:
            return None
        old = self.obs.status
        msg = "waiting for the node index to list the cluster's nodes"
        for kept in old.model_fields_set - {"phase", "message", "conditions"}:
            setattr(self.status, kept, getattr(old, kept))
        return self.finish(old.phase or "Pending", msg, ("False", "NodesNotListed", msg),
                           ("True", "NodesNotListed", msg), ("False", "AsExpected", ""))

    @property
    def spec(self) -> EdgeFleetSpec:
        return self.p.spec

    @property
    def teacher(self) -> TeacherView:
        return self.p.teacher

    @property
    def interval(self) -> int:
        return self.spec.agent.report_interval_seconds

    @property
    def threshold(self) -> float:
        policy = self.obs.policy
        return policy.spec.drift.threshold if policy else DriftSpec().threshold

    def desired_state(self) -> None:
        """What the agents follow: tiers, the rollout wave and the modules of each tier's profile; a
        new generation only when its content changed."""
        spec, teacher, obs, d = self.spec, self.teacher, self.obs, self.d
        ref, matched = obs.ref, obs.nodes
        self.node_tiers = assign_tiers(spec.tiers, matched.values())
        prev = obs.previous if (obs.previous is not None and obs.previous.teacher == teacher.name) else None
        prev_facts = fold_reports(obs.reports, matched, self.node_tiers, prev.target_revision if prev else None,
                                  obs.now, self.interval, self.threshold) if prev else None
        wave = self.wave = next_wave(spec, prev, teacher.revision, self.node_tiers,
                                     prev_facts.ready_on_target if prev_facts else None, obs.now, obs.status)
        target_keys = dict(teacher.bundles) if wave.target == teacher.revision else {}
        carried_target = prev.target if (prev and prev.target_revision == wave.target) else ()
        pins = manifest_pins(prev, teacher, obs.manifest_pins)
        target_tiers, self.missing = _tiers_for(spec, ref, teacher, wave.target, target_keys, pins, carried_target,
                                                guess=wave.target != teacher.revision, unpinned=d.pins_needed)
        previous_tiers: list[DesiredTier] = []
        if wave.previous is not None:
            previous_tiers, _ = _tiers_for(spec, ref, teacher, wave.previous, {}, pins, wave.last_good_tiers,
                                           guess=True, unpinned=d.pins_needed)
        bad_tiers = {t.name for t in spec.tiers if t.profile in self.missing}
        self.served_tiers = {n: t for n, t in self.node_tiers.items() if t not in bad_tiers}
        # Without a readable store the previous desired state is unknown: write nothing.
        store_readable = not obs.store_problem or obs.store_reason not in ("StoreUnavailable", "StoreSecretMissing")
        if target_tiers and store_readable:
            desired = DesiredState(
                namespace=ref.namespace, fleet=ref.name, fleet_uid=ref.uid, teacher=teacher.name, generation=1,
                target_revision=wave.target, target=target_tiers, previous_revision=wave.previous,
                previous=previous_tiers, wave=wave.wave, canary_nodes=list(wave.canaries),
                node_tiers=dict(sorted(self.served_tiers.items())), teacher_url=teacher.serving_url,
                teacher_ca_pem=(self.workload.node_credentials_ca or None) if teacher.serving_url else None,
                teacher_protocol=teacher.serving_protocol,
                poll_interval_seconds=spec.agent.poll_interval_seconds, report_interval_seconds=self.interval,
                privacy=privacy_settings(spec), adaptation=adaptation_settings(obs.policy),
            )
            if obs.previous is not None and _content(obs.previous) == _content(desired):
                desired = obs.previous
            else:
                # never below one agents may have followed, even when the stored one was lost
                floor = max(obs.previous.generation if obs.previous is not None else 0,
                            obs.status.desired_generation or 0)
                desired = desired.model_copy(update={"generation": floor + 1, "updated_at": rfc3339(obs.now)})
                d.write_desired = True
            d.desired = desired
        if wave.event and d.write_desired:
            d.events.append(wave.event)
        return None

    def children(self) -> None:
        """The agents' DaemonSet (once the fleet's store user is known)."""
        obs = self.obs
        if obs.store_credentials is not None:
            ds = daemonset_manifest(obs.ref, self.spec, self.workload, obs.store_credentials)
            if needs_apply(ds, obs.daemonset_hash):
                self.d.apply.append(ds)
        return None

    def fold(self) -> None:
        """The node reports folded into counts, drift, skew, bytes and the Rollout condition."""
        obs, d, status, wave = self.obs, self.d, self.status, self.wave
        matched, target = obs.nodes, wave.target
        facts = self.facts = fold_reports(obs.reports, matched, self.node_tiers, target, obs.now, self.interval,
                                          self.threshold)
        tier_counts: dict[str, int] = {}
        for t in self.node_tiers.values():
            tier_counts[t] = tier_counts.get(t, 0) + 1
        status.target_revision = target
        generation = d.desired.generation if d.desired is not None else obs.status.desired_generation
        if generation:
            status.desired_generation = int(generation)
        status.nodes = NodeCounts(matched=len(matched), ready=facts.ready, on_target=facts.on_target,
                                  failed=facts.failed)
        status.tiers = [TierStatus(name=t.name, profile=t.profile, matched=tier_counts.get(t.name, 0),
                                   on_target=facts.tier_on_target.get(t.name, 0)) for t in self.spec.tiers]
        status.drift_score = None if facts.drift_score is None else round(min(1.0, max(0.0, facts.drift_score)), 6)
        status.revision_skew = facts.revision_skew
        status.bytes_moved = facts.bytes_down
        status.last_report_time = rfc3339(facts.last_report) if facts.last_report is not None else None
        all_on_target = facts.reporting > 0 and facts.on_target == facts.reporting
        if wave.wave == "all":
            self.status_wave = "Complete" if all_on_target else "Remaining"
        else:
            self.status_wave = STATUS_WAVES[wave.wave]
        status.rollout_wave = self.status_wave
        served = len(self.served_tiers)
        d.metrics = FleetMetrics(
            nodes={"matched": len(matched), "ready": facts.ready, "on_target": facts.on_target,
                   "failed": facts.failed, "stale": facts.stale},
            by_revision=dict(facts.by_revision), target_revision=target, revision_skew=facts.revision_skew,
            drift=facts.drift_score, drifting=facts.drifting, bytes_down=facts.bytes_down, bytes_up=facts.bytes_up,
            progress=(facts.on_target / served) if served else 0.0,
        )
        old_rollout = cond.condition(obs.status.conditions, ROLLOUT_CONDITION) or {}
        wave_changed = (wave.event is not None and d.write_desired) or old_rollout.get("reason") != self.status_wave
        now = rfc3339(obs.now)
        self.rollout_condition = {
            "type": ROLLOUT_CONDITION, "status": "True" if wave.wave == "canary" else "False",
            "reason": self.status_wave,
            "message": f"revision {target}: wave {wave.wave}" + (f", {len(wave.canaries)} canary node(s)"
                                                                 if wave.canaries else ""),
            "lastTransitionTime": now if wave_changed else old_rollout.get("lastTransitionTime", now),
            "observedGeneration": obs.ref.generation,
        }
        if self.status_wave == "Complete" and obs.status.rollout_wave != "Complete":
            d.events.append(("Normal", "RolloutComplete", f"every reporting node runs revision {target}"))
        return None

    def counts(self) -> str:
        """The counts every message ends with."""
        obs, facts, policy = self.obs, self.facts, self.obs.policy
        matched, target = len(obs.nodes), self.wave.target
        untiered = matched - len(self.node_tiers)
        out = (f"{matched} node(s) matched, {facts.ready} ready, {facts.on_target} on revision {target}, "
               f"{facts.failed} failed" + (f", {facts.stale} stale" if facts.stale else "")
               + (f", {untiered} in no tier" if untiered else ""))
        if obs.other_policies and policy is not None:
            out += f"; AdaptationPolicy {policy.name!r} used, ignored: {', '.join(obs.other_policies)}"
        if obs.report_errors:
            out += f"; {len(obs.report_errors)} unreadable report(s), e.g. {obs.report_errors[0]}"
        return out

    def outcome(self) -> Decision:
        """The phase: the store, a missing profile, a halted rollout, no nodes, or where the rollout is."""
        obs, wave, facts, teacher = self.obs, self.wave, self.facts, self.teacher
        target, counts = wave.target, self.counts()
        if obs.store_problem:
            msg = f"{obs.store_problem}; {counts}"
            r = obs.store_reason
            return self.finish("Degraded", msg, ("False", r, msg), ("False", r, msg), ("True", r, msg))
        if self.missing:
            msg = (f"CloudTeacher {teacher.name!r} revision {teacher.revision} has no bundle for profile(s) "
                   f"{', '.join(sorted(set(self.missing)))} (spec.tiers[].profile); {counts}")
            return self.finish("Degraded", msg, ("False", "ProfileNotFound", msg), ("False", "ProfileNotFound", msg),
                               ("True", "ProfileNotFound", msg))
        if wave.wave == "halted":
            msg = (f"rollout of revision {target} halted: the canary wave failed its health gate; nodes stay on "
                   f"revision {wave.previous} until the teacher publishes another revision; {counts}")
            return self.finish("Degraded", msg, ("True" if facts.ready else "False", "RolloutHalted", msg),
                               ("False", "RolloutHalted", msg), ("True", "RolloutHalted", msg))
        if not obs.nodes:
            msg = "no node matches spec.nodeSelector"
            return self.finish("Pending", msg, ("False", "NoNodes", msg), ("False", "NoNodes", msg),
                               ("False", "AsExpected", ""))
        paused = " (paused)" if self.spec.rollout.paused else ""
        if wave.wave == "canary":
            msg = f"revision {target}: canary wave of {len(wave.canaries)} node(s){paused}; {counts}"
            return self.finish("RollingOut", msg, ("True" if facts.ready else "False", "Canary", msg),
                               ("True", "Canary", msg), ("False", "AsExpected", ""))
        if self.status_wave == "Complete":
            msg = f"revision {target} rolled out; {counts}"
            return self.finish("Ready", msg, ("True", "RolledOut", msg), ("False", "RolledOut", msg),
                               ("False", "AsExpected", ""))
        msg = f"revision {target} rolling out to all nodes{paused}; {counts}"
        return self.finish("RollingOut", msg, ("True" if facts.ready else "False", "Remaining", msg),
                           ("True", "Remaining", msg), ("False", "AsExpected", ""))

def _reason(obs: tuple[str, str, str]) -> str:
    return obs[1]


def _old_reason(old: EdgeFleetStatus) -> str | None:
    return (cond.condition(old.conditions, cond.DEGRADED) or {}).get("reason")
