"""Per-node store credentials for edge agents (contracts.NodeIdentity).

An agent POSTs its projected ServiceAccount token (audience `NodeIdentity.AUDIENCE`, bound to its
pod) to `NodeIdentity.PATH`. The operator:

1. asks the API server who the token is (TokenReview, with the audience): a token for another
   audience, expired, or of a deleted pod is refused (401);
2. reads the pod the token is bound to and checks that it is an EdgeFleet's agent — the fleet's
   label, controlled by the fleet's agent DaemonSet, scheduled on a node, the token's ServiceAccount
   — and, when the token names its node (Kubernetes ≥ 1.30), that it is the pod's node (403);
3. reads the fleet (active: it carries the store-access annotation its controller writes) and the
   operator's own credentials of the fleet's store;
4. asks MinIO's STS (AssumeRole) for credentials of the fleet's store user narrowed by a session
   policy to this node: read what every agent of the fleet reads; write only
   `reports/<node>.json` and `deltas/*/<node>.safetensors` of its fleet.

A node reaches the operator only by a pod the kubelet of that node runs (the node authorizer lets a
kubelet request tokens only for its own pods), so a compromised node gets its own credentials and
no other node's. Credentials live `NodeIdentity.CREDENTIALS_SECONDS`; a still-young set is handed
out again instead of asking STS once more. Decisions are pure functions; `Broker` does the reads,
`serve` is the aiohttp endpoint (the same event loop as kopf; the blocking calls run in threads,
a few at a time), over TLS only (node_credentials_tls).
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from ecc_workloads.contracts import (NodeCredentialsRefusal, NodeIdentity, NodeStoreCredentials, StoreLayout,
                                     StoreSettings, fleet_agent_name)

from ecc_operator.controllers.fleet.decisions import LABEL_COMPONENT, LABEL_FLEET
from ecc_operator.credentials.store_access import derive_password, user_name

log = logging.getLogger(__name__)

POD_NAME_EXTRA = "authentication.kubernetes.io/pod-name"
POD_UID_EXTRA = "authentication.kubernetes.io/pod-uid"
NODE_NAME_EXTRA = "authentication.kubernetes.io/node-name"
SA_PREFIX = "system:serviceaccount:"
MAX_SESSION_POLICY_CHARS = 2048
"""STS refuses longer session policies."""
CONCURRENT_ISSUES = 4
STS_TIMEOUT_S = 10.0


class Refused(Exception):
    """The request is refused; `status` is the HTTP status, `reason` a CamelCase word."""

    def __init__(self, status: int, reason: str, message: str):
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message

    def body(self) -> NodeCredentialsRefusal:
        return NodeCredentialsRefusal(reason=self.reason, message=self.message)


@dataclass(frozen=True)
class Identity:
    """Who a reviewed token says it is."""

    namespace: str
    service_account: str
    pod_name: str
    pod_uid: str
    node_name: str | None


@dataclass(frozen=True)
class AgentPod:
    """A fleet agent's pod, checked."""

    namespace: str
    fleet: str
    node: str
    pod_uid: str


# ---------------------------------------------------------------------------
# Decisions (pure)
# ---------------------------------------------------------------------------
def _one(extra: Mapping[str, Any], key: str) -> str | None:
    values = extra.get(key) or []
    return values[0] if isinstance(values, list) and len(values) == 1 and isinstance(values[0], str) else None


def identity_from_review(status: Mapping[str, Any]) -> Identity:
    """The identity in a TokenReview's status; Refused(401) unless it is a pod-bound ServiceAccount
    token for our audience."""
    if not status.get("authenticated"):
        raise Refused(401, "InvalidToken", "the token is not valid for "
                      f"{NodeIdentity.AUDIENCE!r}: {status.get('error') or 'not authenticated'} (mount a projected "
                      "serviceAccountToken with that audience)")
    if NodeIdentity.AUDIENCE not in (status.get("audiences") or []):
        raise Refused(401, "WrongAudience", f"the token's audiences {status.get('audiences')} do not include "
                      f"{NodeIdentity.AUDIENCE!r}")
    user = status.get("user") or {}
    username = user.get("username") or ""
    parts = username[len(SA_PREFIX):].split(":") if username.startswith(SA_PREFIX) else []
    if len(parts) != 2:
        raise Refused(401, "NotAServiceAccount", f"{username!r} is not a ServiceAccount")
    extra = user.get("extra") or {}
    pod_name, pod_uid = _one(extra, POD_NAME_EXTRA), _one(extra, POD_UID_EXTRA)
    if not pod_name or not pod_uid:
        raise Refused(401, "NotBoundToAPod", "the token is not bound to a pod (use a projected serviceAccountToken "
                      "volume, not a Secret-based or TokenRequest token without a pod)")
    return Identity(namespace=parts[0], service_account=parts[1], pod_name=pod_name, pod_uid=pod_uid,
                    node_name=_one(extra, NODE_NAME_EXTRA))


def check_agent_pod(identity: Identity, pod: Mapping[str, Any] | None) -> AgentPod:
    """The fleet and node of the pod the token is bound to; Refused(403) unless it is a fleet's agent."""
    where = f"pod {identity.namespace}/{identity.pod_name}"
    if pod is None:
        raise Refused(403, "PodGone", f"{where} does not exist")
    meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
    if meta.get("uid") != identity.pod_uid:
        raise Refused(403, "PodReplaced", f"{where} is not the pod the token was issued to (uid differs)")
    if meta.get("deletionTimestamp") or (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        raise Refused(403, "PodEnding", f"{where} is terminating or finished")
    labels = meta.get("labels") or {}
    fleet = labels.get(LABEL_FLEET)
    if not fleet or labels.get(LABEL_COMPONENT) != "edge-agent":
        raise Refused(403, "NotAnAgent", f"{where} is not an edge agent (labels {LABEL_FLEET} and "
                                         f"{LABEL_COMPONENT}=edge-agent)")
    owners = [o for o in meta.get("ownerReferences") or [] if o.get("controller")]
    if not owners or owners[0].get("kind") != "DaemonSet" or owners[0].get("name") != fleet_agent_name(fleet):
        raise Refused(403, "NotAnAgent", f"{where} is not controlled by the DaemonSet {fleet_agent_name(fleet)}")
    if (spec.get("serviceAccountName") or "default") != identity.service_account:
        raise Refused(403, "WrongServiceAccount", f"the token's ServiceAccount {identity.service_account!r} is not "
                                                  f"{where}'s")
    node = spec.get("nodeName")
    if not node:
        raise Refused(403, "NotScheduled", f"{where} is not scheduled on a node")
    if identity.node_name is not None and identity.node_name != node:
        raise Refused(403, "WrongNode", f"the token names node {identity.node_name!r}, {where} runs on {node!r}")
    return AgentPod(namespace=identity.namespace, fleet=fleet, node=node, pod_uid=identity.pod_uid)


@dataclass(frozen=True)
class FleetAccess:
    """What the fleet's controller recorded when it made the fleet's store user."""

    uid: str
    teacher: str
    store_secret: str
    bucket: str


def fleet_access(fleet: Mapping[str, Any] | None, agent: AgentPod, annotation: str) -> FleetAccess:
    """Refused(403) for a fleet that is gone; Refused(503) for one whose store user is not made yet."""
    where = f"EdgeFleet {agent.namespace}/{agent.fleet}"
    if fleet is None or (fleet.get("metadata") or {}).get("deletionTimestamp"):
        raise Refused(403, "FleetGone", f"{where} does not exist or is being deleted")
    meta = fleet["metadata"]
    try:
        info = json.loads((meta.get("annotations") or {}).get(annotation) or "{}")
    except ValueError:
        info = {}
    teacher = ((fleet.get("spec") or {}).get("teacherRef") or {}).get("name")
    if not info.get("secret") or not info.get("bucket") or not teacher:
        raise Refused(503, "FleetNotActive", f"{where} has no store user yet (its teacher has no published "
                                             "revision, or the operator has not reconciled it): retry later")
    return FleetAccess(uid=meta["uid"], teacher=teacher, store_secret=info["secret"], bucket=info["bucket"])


def node_policy_document(bucket: str, namespace: str, fleet: str, node: str) -> dict:
    """The session policy of one node. STS grants the intersection of it and the fleet user's
    policy (store_access.policy_document), so it only has to narrow: reads stay what the fleet user
    may read (modules, the teacher's bundles and drift references, the desired state); writes
    shrink from every report and delta of the fleet to this node's own."""
    arn = f"arn:aws:s3:::{bucket}"
    deltas = StoreLayout.delta(namespace, fleet, 0, node).replace("/deltas/0/", "/deltas/*/")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:GetBucketLocation"], "Resource": [f"{arn}/*", arn]},
            {"Effect": "Allow", "Action": ["s3:PutObject"],
             "Resource": [f"{arn}/{StoreLayout.agent_report(namespace, fleet, node)}", f"{arn}/{deltas}"]},
        ],
    }


def session_policy(doc: dict) -> str:
    text = json.dumps(doc, separators=(",", ":"))
    if len(text) > MAX_SESSION_POLICY_CHARS:
        raise Refused(403, "NamesTooLong", f"the node's session policy would be {len(text)} characters (STS takes "
                                           f"{MAX_SESSION_POLICY_CHARS}): shorten the namespace, fleet or node name")
    return text


def reusable(issued_at: float, expiration: datetime, now: float) -> bool:
    """A set handed out before may be handed out again while more than half its life is left."""
    return now < issued_at + (expiration.timestamp() - issued_at) / 2


# ---------------------------------------------------------------------------
# Side effects
# ---------------------------------------------------------------------------
def assume_role(admin: StoreSettings, user: str, password: str, policy: str, seconds: int):
    """MinIO STS AssumeRole as the fleet's user, narrowed by `policy`: minio.credentials.Credentials."""
    import urllib3
    from minio.credentials import AssumeRoleProvider

    from ecc_workloads.store import store_http

    http = store_http(admin, read_timeout=STS_TIMEOUT_S,
                      retries=urllib3.Retry(total=1, connect=1, read=0, backoff_factor=0.2))
    scheme = "https://" if admin.secure else "http://"
    return AssumeRoleProvider(sts_endpoint=scheme + admin.endpoint, access_key=user, secret_key=password,
                              duration_seconds=seconds, policy=policy, http_client=http).retrieve()


class Broker:
    """Turns a token into credentials (the reads and the STS call); thread-safe."""

    def __init__(self, api, kube, store_access: Callable, annotation: str, *, sts: Callable = assume_role,
                 seconds: int = NodeIdentity.CREDENTIALS_SECONDS, clock: Callable[[], float] = time.time):
        self.api, self.kube, self.store_access, self.annotation = api, kube, store_access, annotation
        self.sts, self.seconds, self.clock = sts, seconds, clock
        self._issued: dict[tuple[str, str, str, str], tuple[float, datetime, NodeStoreCredentials]] = {}
        self._lock = threading.Lock()

    def review(self, token: str) -> Identity:
        from kubernetes import client

        review = client.V1TokenReview(spec=client.V1TokenReviewSpec(token=token, audiences=[NodeIdentity.AUDIENCE]))
        result = client.AuthenticationV1Api(self.api).create_token_review(review)
        return identity_from_review(self.api.sanitize_for_serialization(result.status) or {})

    def read_pod(self, namespace: str, name: str) -> dict | None:
        from kubernetes import client
        from kubernetes.client.rest import ApiException

        try:
            pod = client.CoreV1Api(self.api).read_namespaced_pod(name, namespace)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return self.api.sanitize_for_serialization(pod)

    def credentials(self, token: str) -> NodeStoreCredentials:
        from ecc_operator.api.edgefleet import EDGE_FLEET

        identity = self.review(token)
        agent = check_agent_pod(identity, self.read_pod(identity.namespace, identity.pod_name))
        key = (agent.namespace, agent.fleet, agent.node, agent.pod_uid)
        now = self.clock()
        with self._lock:
            known = self._issued.get(key)
        if known is not None and reusable(known[0], known[1], now):
            return known[2]
        fleet = self.kube.get_custom(EDGE_FLEET.group, EDGE_FLEET.version, EDGE_FLEET.plural, agent.namespace,
                                     agent.fleet)
        access = fleet_access(fleet, agent, self.annotation)
        store = self.store_access(self.kube, agent.namespace, access.store_secret, access.bucket).settings
        if store is None:
            raise Refused(503, "StoreSecretMissing", f"the operator has no credentials for the store of "
                                                     f"{agent.namespace}/{agent.fleet} (Secret {access.store_secret})")
        policy = session_policy(node_policy_document(store.bucket, agent.namespace, agent.fleet, agent.node))
        try:
            got = self.sts(store, user_name(agent.namespace, agent.fleet),
                           derive_password(store.secret_key, agent.namespace, agent.fleet, access.uid), policy,
                           self.seconds)
        except Exception as exc:  # noqa: BLE001 - STS refused or unreachable: the agent retries
            raise Refused(503, "StoreRefused", f"the store's STS did not issue credentials for node {agent.node!r} "
                                               f"of {agent.namespace}/{agent.fleet}: {type(exc).__name__}: {exc}")
        expiration = got.expiration if got.expiration.tzinfo else got.expiration.replace(tzinfo=timezone.utc)
        issued = NodeStoreCredentials(
            namespace=agent.namespace, fleet=agent.fleet, node=agent.node, access_key=got.access_key,
            secret_key=got.secret_key, session_token=got.session_token or "",
            expiration=expiration.isoformat().replace("+00:00", "Z"), endpoint=store.pod_endpoint or store.endpoint,
            bucket=store.bucket, secure=store.secure)
        with self._lock:
            self._issued = {k: v for k, v in self._issued.items() if v[1].timestamp() > now}
            self._issued[key] = (now, expiration, issued)
        log.info(f"store credentials issued to node {agent.node} of {agent.namespace}/{agent.fleet} until "
                 f"{issued.expiration}")
        return issued


def bearer(header: str | None) -> str:
    if not header or not header.startswith("Bearer ") or len(header) > NodeIdentity.MAX_TOKEN_BYTES:
        raise Refused(401, "NoToken", "send the node's projected ServiceAccount token as 'Authorization: Bearer "
                                      f"TOKEN' (at most {NodeIdentity.MAX_TOKEN_BYTES} bytes)")
    return header[len("Bearer "):].strip()


async def serve(broker: Broker, host: str, port: int, ssl_context: ssl.SSLContext,
                on_result: Callable[[str], None] = lambda _: None):
    """The endpoint over TLS (node_credentials_tls), on the running loop; returns the aiohttp
    runner (cleanup() stops it). There is no plaintext mode: the answers carry secret keys."""
    from aiohttp import web

    gate = asyncio.Semaphore(CONCURRENT_ISSUES)

    async def issue(request: web.Request) -> web.Response:
        try:
            token = bearer(request.headers.get("Authorization"))
            async with gate:
                creds = await asyncio.to_thread(broker.credentials, token)
        except Refused as refused:
            on_result(refused.reason)
            log.warning(f"node credentials refused to {request.remote}: {refused.reason}: {refused.message}")
            return web.Response(status=refused.status, content_type="application/json",
                                text=refused.body().model_dump_json())
        except Exception as exc:  # noqa: BLE001 - the API server or store failed: the agent retries
            on_result("Error")
            log.exception("node credentials: unexpected failure")
            body = NodeCredentialsRefusal(reason="Unavailable", message=f"{type(exc).__name__}: try again later")
            return web.Response(status=503, content_type="application/json", text=body.model_dump_json())
        on_result("Issued")
        return web.Response(status=200, content_type="application/json", text=creds.model_dump_json())

    app = web.Application(client_max_size=NodeIdentity.MAX_TOKEN_BYTES)
    app.router.add_post(NodeIdentity.PATH, issue)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port, ssl_context=ssl_context).start()
    log.info(f"node credentials served on https://{host}:{port}{NodeIdentity.PATH}")
    return runner
