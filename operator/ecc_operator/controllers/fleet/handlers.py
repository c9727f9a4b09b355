"""kopf handlers of EdgeFleet: observe, call the pure decisions, act. Nothing is decided here.

Triggers
* create / spec update / resume, and every CloudTeacher event (a teacher that appears,
  publishes or disappears) for the fleets that follow it;
* a resync timer (RESYNC_SECONDS) on *active* fleets: those whose teacher has published a
  revision, marked by the annotation `ecc.dev/store-access` the first reconcile puts on them;
* deletion of an active fleet: the scoped MinIO user and the fleet's store prefix are removed
  (the DaemonSet and the API-token Secret follow their owner reference).

kopf puts a finalizer on every object that has a timer or a deletion handler; limiting both to
active fleets keeps a fleet that never ran anything (a teacherRef pointing nowhere) free of
finalizers, deletable without the operator.

Per reconcile, whatever the fleet's size: GET fleet, GET teacher, GET the store Secret (unless
the operator's environment has credentials), LIST AdaptationPolicies of the namespace, GET the
DaemonSet; apply it only when its desired hash changed, one status
patch only when the status changed. Nodes come from the in-memory index (`node_index`). In
the store (overlapping those API calls): one GET of the desired state, a LIST of the reports
prefix (ETags), a GET per report whose ETag changed since the last reconcile (per-fleet cache)
— or, when more than METADATA_LISTING_SHARE of them changed, a second LIST with the objects'
metadata, whose summaries stand for those reports — and a PUT of the desired state only when
its content changed.

Why the summary in the listing: a GET costs the operator ~0.6 ms of CPU and a round trip, so a
rollout at 5,000 nodes (every report changes) cost 5,000 GETs and a reconcile of ~15 s. Agents
(`contracts.report_summary_metadata`) write the fields the status needs as the report object's
user metadata, in the same PUT; MinIO's listing with metadata returns them, 1,000 a page. That
listing costs MinIO ≈ 4x a plain one, so it is made only when it beats the GETs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import logging
import secrets
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import kopf

from ecc_workloads import release_signing
from ecc_workloads.contracts import (AgentApiAuth, AgentReport, BundleManifest, DesiredState, StoreLayout,
                                     fleet_agent_name)

from ecc_operator.controllers.fleet import decisions as fd
from ecc_operator import metrics
from ecc_operator import store as operator_store
from ecc_operator.children import Kube
from ecc_operator.common import ObjectRef, desired_hash
from ecc_operator.runtime import SHARED
from ecc_operator.controllers.fleet.node_index import NodeIndex, NodeWatcher, wait_synced
from ecc_operator.api.adaptationpolicy import ADAPTATION_POLICY, AdaptationPolicySpec
from ecc_operator.api.cloudteacher import CLOUD_TEACHER
from ecc_operator.api.edgefleet import EDGE_FLEET
from ecc_operator.credentials.store_access import AccessProblem, ScopedUsers, user_name

log = logging.getLogger(__name__)

GROUP, VERSION, PLURAL = EDGE_FLEET.group, EDGE_FLEET.version, EDGE_FLEET.plural
RESYNC_SECONDS = 5.0
NODE_SYNC_WAIT_S = 10.0
LEGACY_STORE_SECRET = "ecc-fleet-{fleet}-store"
"""The fleet-wide store Secret of releases before per-node credentials; removed on upgrade."""
ANNOTATION_STORE_ACCESS = "ecc.dev/store-access"
"""On active fleets: JSON {user, secret, bucket} — what deletion must clean up, and where."""


@dataclass
class ReportCache:
    """The latest report per node of one fleet, keyed by the object's ETag. An entry taken from
    the listing's metadata holds the report's summary only (contracts.REPORT_SUMMARY_FIELDS; the
    other fields at their defaults): what fold_reports and drift_summaries use."""

    entries: dict[str, tuple[str, AgentReport]] = field(default_factory=dict)
    errors: dict[str, tuple[str, str]] = field(default_factory=dict)
    with_metadata: bool = True
    """the last listing with metadata found agents' summaries (or there was none yet)"""
    skipped: int = 0
    """listings with metadata not made because the last one found no summary"""


@dataclass
class Runtime:
    """Process-wide state of the handlers (set once at startup)."""

    workload: fd.AgentWorkload = field(default_factory=fd.AgentWorkload)
    nodes: NodeIndex = field(default_factory=NodeIndex)
    watcher: NodeWatcher | None = None
    users: ScopedUsers = field(default_factory=ScopedUsers)
    reports: dict[str, ReportCache] = field(default_factory=dict)
    api_secrets: set[str] = field(default_factory=set)
    """fleets (uid) whose agents' API token Secret this process has made sure of"""
    report_uids: dict[tuple[str, str], str] = field(default_factory=dict)
    """(namespace, fleet) -> uid of the fleet whose ReportCache the policy controller reads"""
    fleets: dict[tuple[str, str], str] = field(default_factory=dict)
    """(namespace, fleet) -> teacher name, from EdgeFleet events"""
    signer: object | None = None
    """signs the desired states (release_signing; the operator's key, release_keys.ensure)"""
    pins: dict[str, str] = field(default_factory=dict)
    """manifest key -> sha256 of manifests read for a decision's pins_needed"""



RUNTIME = Runtime()


def configure(signer, node_credentials_url: str | None = None, node_credentials_ca: str = "") -> None:
    """The handlers' release signer and how agents are launched (the Kubernetes client: runtime.SHARED)."""
    RUNTIME.signer = signer
    RUNTIME.workload = dataclasses.replace(RUNTIME.workload, release_keys=release_signing.public_key_text(signer),
                                           node_credentials_ca=node_credentials_ca,
                                           **({"node_credentials_url": node_credentials_url}
                                              if node_credentials_url else {}))


def trust_ca(ca_pem: str) -> None:
    """The CA bundle agents trust changed (a renewal made a new CA): the next reconciles put it into
    the DaemonSets (AgentEnv.CREDENTIALS_CA) and desired states (teacher_ca_pem)."""
    if ca_pem != RUNTIME.workload.node_credentials_ca:
        RUNTIME.workload = dataclasses.replace(RUNTIME.workload, node_credentials_ca=ca_pem)


def node_credentials_broker():
    """The endpoint's broker: agents' tokens → their node's store credentials (node_credentials)."""
    from ecc_operator.credentials.nodes import Broker

    return Broker(SHARED.kube.api, SHARED.kube, operator_store.store_access, ANNOTATION_STORE_ACCESS)


def start() -> None:
    """Start the node index's watch (idempotent)."""
    if RUNTIME.watcher is None:
        RUNTIME.watcher = NodeWatcher(SHARED.kube.api, RUNTIME.nodes)
        RUNTIME.watcher.start()


def stop() -> None:
    if RUNTIME.watcher is not None:
        RUNTIME.watcher.stop()


# ---------------------------------------------------------------------------
# The store: the one place that opens it with the operator's credentials
# ---------------------------------------------------------------------------
def open_store(kube: Kube, namespace: str, teacher: fd.TeacherView):
    """(Store or None, StoreSettings or None, problem) with the operator's credentials for the
    teacher's store (its environment, else the Secret spec.store.secretRef of the teacher)."""
    access = operator_store.store_access(kube, namespace, teacher.store_secret, teacher.bucket)
    if access.settings is None:
        return None, None, (f"{access.source} (spec.store.secretRef of CloudTeacher {teacher.name!r}) not found: "
                            "the operator reads the fleet's desired state and reports with it")
    return operator_store.open_store(access.settings), access.settings, ""


# ---------------------------------------------------------------------------
# Observation (reads; plus making sure the scoped store user exists)
# ---------------------------------------------------------------------------
def _policy(kube: Kube, ns: str, fleet: str) -> tuple[fd.PolicyView | None, tuple[str, ...]]:
    items = [o for o in kube.list_custom(ADAPTATION_POLICY.group, ADAPTATION_POLICY.version, ADAPTATION_POLICY.plural,
                                         ns)
             if ((o.get("spec") or {}).get("fleetRef") or {}).get("name") == fleet
             and not o["metadata"].get("deletionTimestamp")]
    items.sort(key=lambda o: (o["metadata"].get("creationTimestamp") or "", o["metadata"]["name"]))
    for i, obj in enumerate(items):
        try:
            spec = AdaptationPolicySpec.model_validate(obj.get("spec") or {})
        except Exception:  # noqa: BLE001 - the policy controller reports its own spec problems
            continue
        others = tuple(o["metadata"]["name"] for o in items if o is not obj)
        return fd.PolicyView(obj["metadata"]["name"], spec), others
    return None, ()


REPORT_READERS = 8
"""Concurrent GETs of changed reports: each is a small object, so latency, not bandwidth, bounds them."""
_READ_POOL = ThreadPoolExecutor(max_workers=REPORT_READERS, thread_name_prefix="ecc-report-read")
MAX_REPORT_BYTES = 256 * 1024
"""A report is ~2 KB; a larger object under reports/ is refused from the listing, never read."""
METADATA_LISTING_SHARE = 0.15
METADATA_LISTING_MIN = 50
"""Above this share (and number) of changed reports, a second listing, with metadata, is cheaper
than a GET per changed report. Measured on MinIO (2 cores, 5,000 reports): a plain listing 0.2 s,
one with metadata 0.9 s (≈ 0.15 ms more per object), a GET ≈ 1 ms (8 at a time) and 0.6 ms of the
operator's CPU."""
METADATA_PROBE_EVERY = 12
"""While the last listing with metadata found no summary (agents that write none), GET instead
and try the metadata listing again only every this many occasions."""


def _get_report(store, bucket: str, key: str, node: str) -> AgentReport:
    report = store.get_json(f"s3://{bucket}/{key}", AgentReport)
    if report.node != node:
        raise ValueError(f"the report names node {report.node!r}")
    return report


@dataclass(frozen=True)
class Listed:
    """One object of a listing: what read_reports needs of minio's Object."""

    object_name: str
    etag: str
    size: int
    metadata: dict[str, str]


def parse_listing(xml: bytes) -> tuple[list[Listed], str | None]:
    """A ListObjectsV2 page -> (its objects, the continuation token when truncated). Walks the
    elements once instead of minio's per-field path searches and date parsing, which cost ~10x
    more (the listing of a 5,000-node fleet is parsed every reconcile)."""
    from xml.etree import ElementTree

    objects: list[Listed] = []
    token, truncated = None, False
    for el in ElementTree.fromstring(xml):
        tag = el.tag.rpartition("}")[2]
        if tag == "Contents":
            name, etag, size, meta = "", "", 0, {}
            for child in el:
                t = child.tag.rpartition("}")[2]
                if t == "Key":
                    name = child.text or ""
                elif t == "ETag":
                    etag = (child.text or "").replace('"', "")
                elif t == "Size":
                    size = int(child.text or 0)
                elif t == "UserMetadata":
                    meta = {m.tag.rpartition("}")[2]: m.text or "" for m in child}
            objects.append(Listed(name, etag, size, meta))
        elif tag == "NextContinuationToken":
            token = el.text
        elif tag == "IsTruncated":
            truncated = (el.text or "").strip().lower() == "true"
    return objects, (token if truncated else None)


def list_reports(client, bucket: str, prefix: str, with_metadata: bool):
    """The objects under `prefix` (recursive), with their metadata when asked: ListObjectsV2 pages
    through minio's request layer, parsed by parse_listing; through minio's own list_objects when
    the client has no such layer (another client, a test double)."""
    execute = getattr(client, "_execute", None)
    if execute is None:
        extra = {"include_user_meta": True} if with_metadata else {}
        yield from client.list_objects(bucket, prefix=prefix, recursive=True, **extra)
        return
    token = None
    while True:
        query = {"list-type": "2", "prefix": prefix, "delimiter": "", "max-keys": "1000"}
        if with_metadata:
            query["metadata"] = "true"
        if token:
            query["continuation-token"] = token
        objects, token = parse_listing(execute("GET", bucket, query_params=query).data)
        yield from objects
        if not token:
            return


def _lists_metadata(client) -> bool:
    """Whether the store client's listing can return the objects' metadata (minio-py's
    `include_user_meta`, MinIO's extension of ListObjectsV2)."""
    if getattr(client, "_execute", None) is not None:
        return True
    try:
        return "include_user_meta" in inspect.signature(client.list_objects).parameters
    except (TypeError, ValueError):
        return False


def _report_node(key: str, prefix: str) -> str | None:
    if not key.endswith(".json"):
        return None
    node = key[len(prefix):-len(".json")]
    return None if "/" in node else node


def _changed_count(listing, prefix: str, cache: ReportCache) -> int:
    """Listed reports whose ETag is neither the cached report's nor a known bad one's."""
    n = 0
    for obj in listing:
        node = _report_node(obj.object_name, prefix)
        if node is None:
            continue
        etag = obj.etag or ""
        have, bad = cache.entries.get(node), cache.errors.get(node)
        if (have is None or have[0] != etag) and (bad is None or bad[0] != etag):
            n += 1
    return n


def wants_metadata_listing(changed: int, listed: int, cache: ReportCache) -> bool:
    """After a plain listing: list again with metadata rather than GET `changed` reports? When more
    than METADATA_LISTING_SHARE of them (and at least METADATA_LISTING_MIN) changed and the agents
    write summaries (the last such listing found some; without, one try every METADATA_PROBE_EVERY
    occasions)."""
    if changed < METADATA_LISTING_MIN or changed <= METADATA_LISTING_SHARE * listed:
        return False
    if cache.with_metadata:
        return True
    cache.skipped += 1
    return cache.skipped % METADATA_PROBE_EVERY == 0


def read_reports(store, ref: ObjectRef, cache: ReportCache) -> tuple[dict[str, AgentReport], tuple[str, ...]]:
    """Latest report per node. LIST the prefix (ETags only); when few reports changed, GET those
    (concurrently); when many did (a rollout), LIST again with the objects' metadata (a MinIO
    extension) and take each changed report's summary from it, GETting only those without a
    usable one. Unchanged ETags are never looked at again."""
    bucket = store.settings.bucket
    prefix = StoreLayout.reports_prefix(ref.namespace, ref.name)
    listing = list(list_reports(store.client, bucket, prefix, with_metadata=False))
    with_metadata = False
    if _lists_metadata(store.client) and wants_metadata_listing(_changed_count(listing, prefix, cache),
                                                                len(listing), cache):
        listing = list(list_reports(store.client, bucket, prefix, with_metadata=True))
        with_metadata = True
    seen: set[str] = set()
    changed: list[tuple[str, str, str]] = []
    summaries = listed = from_listing = 0
    for obj in listing:
        key = obj.object_name
        node = _report_node(key, prefix)
        if node is None:
            continue
        seen.add(node)
        listed += 1
        summary = fd.listed_summary(getattr(obj, "metadata", None)) if with_metadata else None
        summaries += summary is not None
        etag = obj.etag or ""
        have = cache.entries.get(node)
        if have is not None and have[0] == etag:
            continue
        bad = cache.errors.get(node)
        if bad is not None and bad[0] == etag:
            continue
        if (obj.size or 0) > MAX_REPORT_BYTES:
            cache.errors[node] = (etag, f"{key}: {obj.size} bytes, more than {MAX_REPORT_BYTES}: not read")
            cache.entries.pop(node, None)
            continue
        report = fd.report_from_summary(summary, node) if summary is not None else None
        if report is not None:
            cache.entries[node] = (etag, report)
            cache.errors.pop(node, None)
            from_listing += 1
            continue
        changed.append((node, key, etag))
    if with_metadata:
        cache.with_metadata = summaries > 0
    metrics.FLEET_REPORTS_LISTED.inc(listed)
    metrics.FLEET_REPORTS_READ.labels(via="listing").inc(from_listing)
    metrics.FLEET_REPORTS_READ.labels(via="get").inc(len(changed))
    futures = [(node, key, etag, _READ_POOL.submit(_get_report, store, bucket, key, node))
               for node, key, etag in changed]
    for node, key, etag, future in futures:
        try:
            cache.entries[node] = (etag, future.result())
            cache.errors.pop(node, None)
        except Exception as exc:  # noqa: BLE001 - one bad report must not hide the others
            cache.errors[node] = (etag, f"{key}: {type(exc).__name__}: {str(exc)[:300]}")
            cache.entries.pop(node, None)
    for node in list(cache.entries):
        if node not in seen:
            del cache.entries[node]
    for node in list(cache.errors):
        if node not in seen:
            del cache.errors[node]
    return {n: r for n, (_, r) in cache.entries.items()}, tuple(e for _, e in cache.errors.values())


def fleet_reports(namespace: str, fleet: str) -> list[AgentReport]:
    """A fleet's node reports as this controller last read them (runtime.SHARED.fleet_reports: the
    policy controller reads them from here); empty until the fleet's first reconcile."""
    cache = RUNTIME.reports.get(RUNTIME.report_uids.get((namespace, fleet), ""))
    return [] if cache is None else [r for _, r in list(cache.entries.values())]


SHARED.fleet_reports = fleet_reports


def _read_desired(store, ref: ObjectRef) -> DesiredState | None:
    """The desired state last written, if it carries this operator's signature (one that does not
    is replaced by the next write; its generation continues from status.desiredGeneration)."""
    from ecc_workloads.store import KeyNotFound

    key = StoreLayout.desired_state(ref.namespace, ref.name)
    try:
        return release_signing.open_document(store.get_bytes(store.uri(key)), DesiredState,
                                             [RUNTIME.signer.public_key])
    except KeyNotFound:
        return None
    except release_signing.UntrustedDocument as exc:
        log.warning(f"{ref.namespace}/{ref.name}: the desired state in the store is not this operator's "
                    f"({exc}); it will be rewritten")
        return None


def read_pins(store, keys: list[str]) -> dict[str, str]:
    """sha256 of the bundle manifests at `keys` that are in the store and valid (cached per key:
    a published manifest is never rewritten)."""
    from ecc_workloads.store import KeyNotFound

    for key in keys:
        if key in RUNTIME.pins:
            continue
        try:
            raw = store.get_bytes(store.uri(key))
            BundleManifest.model_validate_json(raw)
        except KeyNotFound:
            continue
        except ValueError as exc:
            log.warning(f"bundle manifest {key} is invalid, not pinned: {str(exc)[:200]}")
            continue
        RUNTIME.pins[key] = hashlib.sha256(raw).hexdigest()
    return {k: RUNTIME.pins[k] for k in keys if k in RUNTIME.pins}


_OBSERVE_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="ecc-fleet-store")
"""Reads a fleet's desired state and reports while its reconcile waits for the API server."""


def _read_store(store, ref: ObjectRef, cache: ReportCache):
    """(previous desired state, read_reports' result or None, its exception or None)."""
    previous = _read_desired(store, ref)
    try:
        return previous, read_reports(store, ref, cache), None
    except Exception as exc:  # noqa: BLE001 - observe reports it, with the desired state read
        return previous, None, exc


def observe(kube: Kube, p: fd.Plan, ref: ObjectRef, status: dict, teacher_ref: str) -> tuple[fd.Observed, object]:
    """The observations, and the opened store (None when not active or unavailable)."""
    obs: dict = {"ref": ref, "status": status, "now": time.time(), "teacher_ref": teacher_ref}
    if p.spec is None or p.teacher is None:
        return fd.Observed(**obs), None
    obs["nodes_synced"] = wait_synced(RUNTIME.nodes, NODE_SYNC_WAIT_S)
    obs["nodes"] = RUNTIME.nodes.select(p.spec.node_selector)
    if not p.active:
        return fd.Observed(**obs), None
    store, settings, problem = open_store(kube, ref.namespace, p.teacher)
    reading = None
    if store is not None:  # the store's reads go on while the API server answers the calls below
        cache = RUNTIME.reports.setdefault(ref.uid, ReportCache())
        RUNTIME.report_uids[(ref.namespace, ref.name)] = ref.uid
        reading = _OBSERVE_POOL.submit(_read_store, store, ref, cache)
    try:
        obs["policy"], obs["other_policies"] = _policy(kube, ref.namespace, ref.name)
        ds = kube.get_daemonset(ref.namespace, fleet_agent_name(ref.name))
    except BaseException:
        if reading is not None:  # never leave it touching the cache while the next reconcile does
            wait([reading])
        raise
    obs["daemonset_hash"] = desired_hash(ds)
    if store is None:
        return fd.Observed(**obs, store_problem=problem, store_reason="StoreSecretMissing"), None
    try:
        obs["store_credentials"] = RUNTIME.users.ensure(settings, ref.namespace, ref.name, p.teacher.name,
                                                        ref.uid)
    except AccessProblem as exc:
        obs["store_problem"], obs["store_reason"] = str(exc), exc.reason
    except BaseException:
        wait([reading])
        raise
    try:
        obs["previous"], reports, failed = reading.result()
        if failed is not None:
            raise failed
        obs["reports"], obs["report_errors"] = reports
    except Exception as exc:  # noqa: BLE001 - the store is unreachable or refuses: say so, write nothing
        obs["store_problem"] = f"the store at {settings.endpoint} could not be read: {type(exc).__name__}: {exc}"
        obs["store_reason"] = "StoreUnavailable"
        return fd.Observed(**obs), None
    return fd.Observed(**obs), store


# ---------------------------------------------------------------------------
# Acting
# ---------------------------------------------------------------------------
def act(kube: Kube, body, ref: ObjectRef, old_status: dict, d: fd.Decision, store) -> None:
    if d.write_desired and d.desired is not None and store is not None:
        store.put_bytes(store.uri(StoreLayout.desired_state(ref.namespace, ref.name)),
                        release_signing.sign_document(d.desired, RUNTIME.signer), content_type="application/json")
        log.info(f"{ref.namespace}/{ref.name}: desired state generation {d.desired.generation} (revision "
                 f"{d.desired.target_revision}, wave {d.desired.wave}, {len(d.desired.node_tiers)} node(s))")
    for manifest in d.apply:
        if manifest["kind"] == "DaemonSet" and ref.uid not in RUNTIME.api_secrets:
            # the agents mount their API tokens: create them (random) once; the user rotates them
            tokens = {scope: secrets.token_urlsafe(32) for scope in AgentApiAuth.SCOPES}
            if kube.create_if_absent(fd.api_secret_manifest(ref, tokens)):
                log.info(f"{ref.namespace}/{ref.name}: created Secret {AgentApiAuth.secret_name(ref.name)} "
                         "(the agents' API tokens)")
            RUNTIME.api_secrets.add(ref.uid)
            # Before per-node credentials every agent of the fleet took this Secret, which may still
            # hold the fleet user's (fleet-wide) credentials: the new DaemonSet needs none of it.
            kube.delete_child("Secret", ref.namespace, LEGACY_STORE_SECRET.format(fleet=ref.name))
        kube.apply(manifest)
        log.info(f"{ref.namespace}/{ref.name}: applied {manifest['kind']} {manifest['metadata']['name']}")
    kube.write_status(GROUP, VERSION, PLURAL, ref.namespace, ref.name, old_status, d.patch())
    for etype, reason, message in d.events:
        kopf.event(body, type=etype, reason=reason, message=message)
    if d.metrics is not None:
        metrics.set_fleet(ref.namespace, ref.name, d.metrics)
    else:
        metrics.remove_fleet(ref.namespace, ref.name)


def _mark_active(kube: Kube, fresh: dict, p: fd.Plan) -> None:
    want = json.dumps({"user": user_name(fresh["metadata"]["namespace"], fresh["metadata"]["name"]),
                       "secret": p.teacher.store_secret, "bucket": p.teacher.bucket}, sort_keys=True)
    have = (fresh["metadata"].get("annotations") or {}).get(ANNOTATION_STORE_ACCESS)
    if have != want:
        kube.annotate_custom(GROUP, VERSION, PLURAL, fresh["metadata"]["namespace"], fresh["metadata"]["name"],
                             {ANNOTATION_STORE_ACCESS: want})


def reconcile(namespace: str, name: str, uid: str | None = None) -> None:
    kube = SHARED.kube
    with SHARED.lock(f"{namespace}/{name}"), metrics.reconcile_timer(EDGE_FLEET.kind):
        fresh = kube.get_custom(GROUP, VERSION, PLURAL, namespace, name)
        if fresh is None or (uid and fresh["metadata"].get("uid") != uid) or fresh["metadata"].get("deletionTimestamp"):
            return
        ref = ObjectRef.of(fresh)
        raw_spec = fresh.get("spec") or {}
        teacher_name = (raw_spec.get("teacherRef") or {}).get("name", "")
        RUNTIME.fleets[(namespace, name)] = teacher_name
        teacher = kube.get_custom(CLOUD_TEACHER.group, CLOUD_TEACHER.version, CLOUD_TEACHER.plural, namespace,
                                  teacher_name) if teacher_name else None
        p = fd.plan(raw_spec, teacher)
        if p.active:
            _mark_active(kube, fresh, p)
        status = dict(fresh.get("status") or {})
        obs, store = observe(kube, p, ref, status, teacher_name)
        d = fd.decide(p, obs, RUNTIME.workload)
        if d.pins_needed and store is not None:  # a revision the teacher no longer lists: pin it, decide again
            obs = dataclasses.replace(obs, manifest_pins=read_pins(store, d.pins_needed))
            d = fd.decide(p, obs, RUNTIME.workload)
        act(kube, fresh, ref, status, d, store)


# ---------------------------------------------------------------------------
# kopf registrations
# ---------------------------------------------------------------------------
@kopf.on.create(GROUP, VERSION, PLURAL, backoff=5)
@kopf.on.resume(GROUP, VERSION, PLURAL, backoff=5)
@kopf.on.update(GROUP, VERSION, PLURAL, field="spec", backoff=5)
def on_change(body, **_) -> None:
    meta = body["metadata"]
    reconcile(meta["namespace"], meta["name"], meta["uid"])


@kopf.timer(GROUP, VERSION, PLURAL, interval=RESYNC_SECONDS, initial_delay=RESYNC_SECONDS,
            annotations={ANNOTATION_STORE_ACCESS: kopf.PRESENT})
def on_resync(body, **_) -> None:
    meta = body["metadata"]
    reconcile(meta["namespace"], meta["name"], meta["uid"])


@kopf.on.event(GROUP, VERSION, PLURAL)
def on_fleet_event(event, body, **_) -> None:
    """Keep the fleet -> teacher map the teacher events use (no finalizer, no API call)."""
    meta = body.get("metadata") or {}
    key = (meta.get("namespace"), meta.get("name"))
    if event.get("type") == "DELETED":
        RUNTIME.fleets.pop(key, None)
    else:
        RUNTIME.fleets[key] = ((body.get("spec") or {}).get("teacherRef") or {}).get("name", "")


@kopf.on.event(CLOUD_TEACHER.group, CLOUD_TEACHER.version, CLOUD_TEACHER.plural)
def on_teacher_event(event, body, **_) -> None:
    """A teacher appeared, changed or went: reconcile the fleets that follow it."""
    meta = body.get("metadata") or {}
    ns, teacher = meta.get("namespace"), meta.get("name")
    for (fns, fleet), followed in list(RUNTIME.fleets.items()):
        if fns == ns and followed == teacher:
            try:
                reconcile(fns, fleet)
            except Exception as exc:  # noqa: BLE001 - the fleet's own handlers retry
                log.warning(f"{fns}/{fleet}: reconcile after a teacher event failed: {type(exc).__name__}: {exc}")


@kopf.on.delete(GROUP, VERSION, PLURAL, backoff=5, retries=6,
                annotations={ANNOTATION_STORE_ACCESS: kopf.PRESENT})
def on_delete(body, **_) -> None:
    """Remove the scoped store user and the fleet's store prefix."""
    meta = body["metadata"]
    ns, name = meta["namespace"], meta["name"]
    kube = SHARED.kube
    if (body.get("status") or {}).get("phase") != "Deleting":
        kube.patch_status(GROUP, VERSION, PLURAL, ns, name, {
            "phase": "Deleting", "message": "removing the fleet's store user and store prefix; the agent DaemonSet "
                                            "and its Secret follow their owner reference"})
    try:
        info = json.loads((meta.get("annotations") or {}).get(ANNOTATION_STORE_ACCESS) or "{}")
    except ValueError:
        info = {}
    teacher = fd.TeacherView(name=((body.get("spec") or {}).get("teacherRef") or {}).get("name", ""),
                             bucket=info.get("bucket") or "ecc-fleet", store_secret=info.get("secret") or "ecc-store")
    store, settings, problem = open_store(kube, ns, teacher)
    if store is None:
        log.warning(f"{ns}/{name}: {problem}; store user and prefix left in place")
    else:
        try:
            RUNTIME.users.remove(settings, ns, name)
        except AccessProblem as exc:
            log.warning(f"{ns}/{name}: store user not removed: {exc}")
        try:
            removed = store.delete_prefixes([StoreLayout.fleet_prefix(ns, name)])
        except Exception as exc:  # noqa: BLE001
            raise kopf.TemporaryError(f"could not remove the fleet's store prefix: {exc}", delay=10) from exc
        log.info(f"{ns}/{name}: removed {removed} store objects and the store user")
    metrics.remove_fleet(ns, name)
    RUNTIME.reports.pop(meta.get("uid"), None)
    RUNTIME.report_uids.pop((ns, name), None)
    RUNTIME.api_secrets.discard(meta.get("uid"))
    RUNTIME.fleets.pop((ns, name), None)


@kopf.on.startup()
def _start(**_) -> None:
    start()


@kopf.on.cleanup()
def _stop(**_) -> None:
    stop()
