"""Traffic generator for real edge agents: shifted per-site traffic, feedback, held-out accuracy.

Used by `ecc traffic`, the end-to-end test and the demo (they call ``send_traffic`` and
``evaluate_sites`` directly).

Sites and domains. Every edge node serves one site (its ``ecc.dev/site`` label, see
``contracts.EDGE_SITES``); a site's utterances come from one domain of the corpus, the domains
``corpus.BITEXT_DOMAIN_RULE`` derives from Bitext's language-variation tags:

==============  =================================================================
site            utterances
==============  =================================================================
``base``        domain ``base`` (no Q, Z or K tag: the plain register)
``colloquial``  domain ``colloquial`` (tag Q, without Z or K)
``typos``       domain ``typos`` (tag Z)
``keyword``     domain ``keyword`` (tag K, without Z)
``voice``       domain ``base`` with injected character noise (``VOICE_NOISE_RATE`` per
                letter: replaced ½, dropped ¼, doubled ¼; seeded per row) — the corpus
                has no speech-transcript tag, so this stands in for ASR errors, as in
                ``benchmarks/learning.py``
==============  =================================================================

Held-out rows. The rows of a site's domain are split with ``splits.split`` (80/10/10,
stratified by label × domain, seed 13 — the same strata and seed as the teacher's corpus
split, so the held-out slice is the teacher's *test* rows of that domain). Traffic and
feedback use the train + val rows only; ``evaluate_sites`` scores the test rows only, so
feedback never reaches the evaluation slice.

Errors from agents (connection refused, timeouts, non-2xx answers, malformed JSON) are
counted per site and never stop the generator.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field

from ecc_workloads.contracts import (
    AgentApiAuth,
    EDGE_SITE_LABEL,
    NODE_KIND_KWOK,
    NODE_KIND_LABEL,
    AgentEnv,
    AgentPaths,
    FeedbackRequest,
    PredictRequest,
    PredictResponse,
    fleet_agent_name,
)
from ecc_workloads.data.corpus import Example
from ecc_workloads.sim.kube import api_client

VOICE_NOISE_RATE = 0.10
SITE_DOMAINS: dict[str, tuple[str, float]] = {
    "base": ("base", 0.0),
    "colloquial": ("colloquial", 0.0),
    "typos": ("typos", 0.0),
    "keyword": ("keyword", 0.0),
    "voice": ("base", VOICE_NOISE_RATE),
}
"""site -> (corpus domain, injected character-noise rate)."""
DEFAULT_AGENT_PORT = 8090
SPLIT_SEED = 13
FEEDBACK_RETRIES = 5
"""Times one feedback item is sent again after a 429 (the agent's rate limit), waiting Retry-After."""


class TrafficError(ValueError):
    """Bad input to the generator (unknown site, no rows); the message names it."""


# ---------------------------------------------------------------------------
# Site data (pure)
# ---------------------------------------------------------------------------
def site_domain(site: str) -> tuple[str, float]:
    try:
        return SITE_DOMAINS[site]
    except KeyError:
        raise TrafficError(f"unknown site {site!r}: known sites are {', '.join(SITE_DOMAINS)}") from None


def char_noise(text: str, rate: float, seed: str) -> str:
    """Each letter, with probability ``rate``, is replaced by a random letter (½), dropped (¼)
    or doubled (¼); deterministic for a seed."""
    rng = random.Random(seed)
    out: list[str] = []
    for ch in text:
        if not (ch.isalpha() and rng.random() < rate):
            out.append(ch)
            continue
        r = rng.random()
        if r < 0.5:
            out.append(rng.choice("abcdefghijklmnopqrstuvwxyz"))
        elif r >= 0.75:
            out.append(ch + ch)
    return "".join(out).strip() or text


@dataclass(frozen=True)
class SiteData:
    site: str
    traffic: list[Example]
    """rows traffic and feedback are drawn from (train + val of the site's domain)"""
    heldout: list[Example]
    """rows accuracy is measured on (test of the site's domain); never sent as feedback"""


def site_data(examples: list[Example], site: str, seed: int = SPLIT_SEED) -> SiteData:
    """The site's traffic rows and held-out rows (see the module docstring)."""
    from ecc_workloads.contracts import SplitsSpec
    from ecc_workloads.data.splits import split

    domain, noise = site_domain(site)
    rows = [ex for ex in examples if ex.domain == domain]
    if not rows:
        domains = sorted({str(ex.domain) for ex in examples})
        raise TrafficError(f"site {site!r} needs rows of domain {domain!r}; the corpus has {', '.join(domains)}")
    parts = split(rows, SplitsSpec(seed=seed, stratify="label+domain"))
    if noise:
        parts = {name: [ex.model_copy(update={"text": char_noise(ex.text, noise, f"{seed}:{site}:{ex.id}"),
                                              "domain": site}) for ex in part]
                 for name, part in parts.items()}
    return SiteData(site, parts["train"] + parts["val"], parts["test"])


def load_examples(source: str) -> list[Example]:
    """Examples with domains: a prepared split (JSONL of Examples, or a directory holding
    train/val/test.jsonl as `ecc corpus prepare` writes) or a raw Bitext CSV (cleaned with
    ``corpus.BITEXT_SPEC``)."""
    from ecc_workloads.data import corpus

    path = Path(source)
    if path.is_dir():
        files = [path / f"{name}.jsonl" for name in ("train", "val", "test") if (path / f"{name}.jsonl").exists()]
        if not files:
            raise TrafficError(f"{source}: no train/val/test.jsonl inside")
        return [Example.model_validate(obj) for f in files for _, obj in corpus.iter_jsonl(f.read_text(), str(f))]
    if source.endswith(".jsonl"):
        return [Example.model_validate(obj) for _, obj in corpus.iter_jsonl(path.read_text(), source)]
    records = corpus.read_records(source)
    corpus.check_columns(records, corpus.BITEXT_SPEC, source)
    return corpus.clean(records, corpus.BITEXT_SPEC).examples


# ---------------------------------------------------------------------------
# Endpoints
# ---------------------------------------------------------------------------
class AgentEndpoint(BaseModel):
    url: str = Field(description="http://ip:port of the agent")
    site: str
    node: str | None = None
    token: str | None = Field(None, repr=False, description="bearer token of the agent's API (feedback scope)")


def parse_endpoint(value: str) -> AgentEndpoint:
    """``SITE=http://ip:port`` -> AgentEndpoint."""
    site, sep, url = value.partition("=")
    if not sep or not url.startswith(("http://", "https://")):
        raise TrafficError(f"--endpoint {value!r}: expected SITE=http://ip:port, e.g. typos=http://127.0.0.5:8090")
    site_domain(site)
    return AgentEndpoint(url=url.rstrip("/"), site=site)


def discover_endpoints(kubeconfig: str | None, namespace: str, fleet: str,
                       port: int | None = None) -> dict[str, list[AgentEndpoint]]:
    """site -> endpoints of the fleet's agent pods that really run (not on KWOK fake nodes): each
    Running pod of the DaemonSet ``fleet_agent_name(fleet)`` with a podIP, its port from the
    container's ECC_AGENT_PORT env (else ``port``, else 8090), its site from its node's
    ``ecc.dev/site`` label (pods on nodes without a known site are left out), and the feedback
    token of the fleet's API Secret when this kubeconfig may read it."""
    from kubernetes import client

    api = api_client(kubeconfig)
    try:
        apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
        ds = apps.read_namespaced_daemon_set(fleet_agent_name(fleet), namespace)
        match = (ds.spec.selector.match_labels or {}) if ds.spec and ds.spec.selector else {}
        selector = ",".join(f"{k}={v}" for k, v in sorted(match.items()))
        pods = core.list_namespaced_pod(namespace, label_selector=selector or None).items
        nodes = {n.metadata.name: (n.metadata.labels or {}) for n in core.list_node().items}
        token = _fleet_token(core, namespace, fleet)
    finally:
        api.close()
    out: list[AgentEndpoint] = []
    for pod in pods:
        node = pod.spec.node_name if pod.spec else None
        labels = nodes.get(node or "", {})
        ip = pod.status.pod_ip if pod.status else None
        if not node or not ip or (pod.status.phase != "Running") or labels.get(NODE_KIND_LABEL) == NODE_KIND_KWOK:
            continue
        site = labels.get(EDGE_SITE_LABEL)
        if site not in SITE_DOMAINS:
            continue
        out.append(AgentEndpoint(url=f"http://{ip}:{_pod_port(pod, port)}", site=site, node=node, token=token))
    by_site: dict[str, list[AgentEndpoint]] = {}
    for ep in sorted(out, key=lambda e: (e.site, e.node or "")):
        by_site.setdefault(ep.site, []).append(ep)
    return by_site


Endpoints = Iterable[AgentEndpoint] | Mapping[str, Iterable[AgentEndpoint | str]]
"""A list of endpoints, or site -> endpoints (AgentEndpoint or plain URLs), as discover_endpoints gives."""
Rows = SiteData | Sequence[Example] | Sequence[tuple[str, str]]
"""A site's rows: SiteData (its traffic or held-out part is used), Examples, or (text, label) pairs."""


def as_endpoints(endpoints: Endpoints) -> list[AgentEndpoint]:
    if isinstance(endpoints, Mapping):
        out = []
        for site, eps in endpoints.items():
            for ep in eps:
                out.append(ep if isinstance(ep, AgentEndpoint) else AgentEndpoint(url=str(ep).rstrip("/"), site=site))
        return out
    return list(endpoints)


def as_pairs(rows: Rows | None, part: str) -> list[tuple[str, str]]:
    """(text, label) pairs of ``rows``; ``part`` ("traffic" or "heldout") picks SiteData's part."""
    if rows is None:
        return []
    if isinstance(rows, SiteData):
        rows = getattr(rows, part)
    out = []
    for row in rows:
        if isinstance(row, Example):
            out.append((row.text, row.label))
        else:
            text, label = row
            out.append((str(text), str(label)))
    return out


def _pod_port(pod, default: int | None) -> int:
    for container in (pod.spec.containers or []):
        for env in container.env or []:
            if env.name == AgentEnv.PORT and env.value and env.value.isdigit():
                return int(env.value)
        for p in container.ports or []:
            if p.container_port:
                return int(p.container_port)
    return default or DEFAULT_AGENT_PORT


# ---------------------------------------------------------------------------
# Traffic and evaluation
# ---------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, int(round(q * (len(ordered) - 1)))))
    return round(ordered[idx], 3)


class SiteTraffic(BaseModel):
    site: str
    nodes: int = 0
    requests: int = 0
    errors: int = 0
    feedback_sent: int = 0
    feedback_errors: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None
    last_error: str = ""


class SiteEval(BaseModel):
    site: str
    nodes: int = 0
    rows: int = Field(0, description="held-out rows scored (summed over the site's nodes)")
    correct: int = 0
    accuracy: float | None = None
    errors: int = 0
    revisions: list[int] = Field(default_factory=list, description="revisions that answered")
    last_error: str = ""


def _fleet_token(core, namespace: str, fleet: str) -> str | None:
    """The first feedback-scope token of the fleet's API Secret, if readable."""
    import base64

    from kubernetes.client.rest import ApiException

    try:
        secret = core.read_namespaced_secret(AgentApiAuth.secret_name(fleet), namespace)
    except ApiException:
        return None  # not allowed or not there: the agents will say 401
    raw = (secret.data or {}).get("feedback")
    tokens = base64.b64decode(raw).decode().split() if raw else []
    return tokens[-1] if tokens else None


def _client(timeout: float, proxy: str | None = None, token: str | None = None):
    """An HTTP client; through `proxy` (http://host:port) when the agents' addresses are not
    routable from here (the local cluster's pods, through its gateway); with the agent's token."""
    import httpx

    headers = {"authorization": f"Bearer {token}"} if token else None
    return httpx.Client(timeout=timeout, proxy=proxy, trust_env=proxy is None, headers=headers)


def _predict(client, url: str, texts: list[str], learn: bool = True) -> tuple[PredictResponse, float]:
    body = PredictRequest(instances=texts, learn=learn).model_dump()
    t0 = time.perf_counter()
    resp = client.post(url + AgentPaths.PREDICT, json=body)
    elapsed_ms = (time.perf_counter() - t0) * 1000
    resp.raise_for_status()
    answer = PredictResponse.model_validate_json(resp.content)
    if len(answer.predictions) != len(texts):
        raise ValueError(f"{len(answer.predictions)} predictions for {len(texts)} utterances")
    return answer, elapsed_ms


def _err(exc: Exception) -> str:
    first = (str(exc).splitlines() or [""])[0]
    return f"{exc.__class__.__name__}: {first}"[:300]


def send_traffic(endpoints: Endpoints, data: Mapping[str, Rows], *, requests_per_node: int | None = None,
                 feedback_fraction: float = 0.3, seed: int = 0, timeout: float = 10.0,
                 pause_s: float = 0.0, proxy: str | None = None) -> dict[str, dict]:
    """Send single utterances of each endpoint's site (``data[site]``: SiteData — its traffic
    part —, Examples or (text, label) pairs) to its PREDICT path and, for ``feedback_fraction``
    of them (seeded), the true label to FEEDBACK. ``requests_per_node`` utterances drawn at
    random (seeded), or, when None, every row once in order. Endpoints run in parallel, one
    thread each. Per site (SiteTraffic as a dict): requests, errors, feedback_sent (also as
    ``feedback``), p50/p95 latency."""
    if not 0 <= feedback_fraction <= 1:
        raise TrafficError(f"feedback_fraction must be within 0..1, got {feedback_fraction}")
    endpoints = as_endpoints(endpoints)
    pairs = {site: as_pairs(data.get(site), "traffic") for site in {ep.site for ep in endpoints}}
    for ep in endpoints:
        if not pairs[ep.site]:
            raise TrafficError(f"no traffic rows for site {ep.site!r} (endpoint {ep.url})")

    def one(ep: AgentEndpoint) -> tuple[str, dict]:
        rng = random.Random(f"{seed}:{ep.site}:{ep.node or ep.url}")
        rows = pairs[ep.site]
        picks = (rows if requests_per_node is None
                 else [rows[rng.randrange(len(rows))] for _ in range(requests_per_node)])
        st = {"requests": 0, "errors": 0, "feedback_sent": 0, "feedback_errors": 0, "lat": [], "last_error": ""}
        with _client(timeout, proxy, ep.token) as client:
            for text, label in picks:
                st["requests"] += 1
                try:
                    _, ms = _predict(client, ep.url, [text])
                    st["lat"].append(ms)
                except Exception as exc:
                    st["errors"] += 1
                    st["last_error"] = _err(exc)
                    continue
                if rng.random() < feedback_fraction:
                    try:
                        body = FeedbackRequest(text=text[:2000], label=label).model_dump()
                        resp = client.post(ep.url + AgentPaths.FEEDBACK, json=body)
                        for _ in range(FEEDBACK_RETRIES):  # the agent's rate limit: wait as it says
                            if resp.status_code != 429:
                                break
                            time.sleep(min(10.0, float(resp.headers.get("retry-after") or 1)))
                            resp = client.post(ep.url + AgentPaths.FEEDBACK, json=body)
                        resp.raise_for_status()
                        st["feedback_sent"] += 1
                    except Exception as exc:
                        st["feedback_errors"] += 1
                        st["last_error"] = _err(exc)
                if pause_s:
                    time.sleep(pause_s)
        return ep.site, st

    per_site = _per_site(endpoints, one, workers=32, name="traffic")
    out: dict[str, dict] = {}
    for site, stats in sorted(per_site.items()):
        lat = [ms for st in stats for ms in st["lat"]]
        out[site] = _traffic_dict(SiteTraffic(
            site=site, nodes=len(stats), requests=sum(s["requests"] for s in stats),
            errors=sum(s["errors"] for s in stats), feedback_sent=sum(s["feedback_sent"] for s in stats),
            feedback_errors=sum(s["feedback_errors"] for s in stats),
            p50_ms=percentile(lat, 0.5), p95_ms=percentile(lat, 0.95),
            last_error=next((s["last_error"] for s in stats if s["last_error"]), ""),
        ))
    return out


def _per_site(endpoints: list[AgentEndpoint], one, *, workers: int, name: str) -> dict[str, list[dict]]:
    """Run `one(endpoint) -> (site, stats)` for every endpoint concurrently; stats per site."""
    per_site: dict[str, list[dict]] = defaultdict(list)
    if endpoints:
        with ThreadPoolExecutor(max_workers=min(workers, len(endpoints)), thread_name_prefix=name) as pool:
            for site, st in pool.map(one, endpoints):
                per_site[site].append(st)
    return per_site


def _traffic_dict(t: SiteTraffic) -> dict:
    return {**t.model_dump(), "feedback": t.feedback_sent}


def evaluate_sites(endpoints: Endpoints, heldout: Mapping[str, Rows], *, batch_size: int = 32,
                   max_rows: int | None = None, timeout: float = 30.0, proxy: str | None = None) -> dict[str, dict]:
    """Accuracy of each endpoint on its site's held-out rows (``heldout[site]``: SiteData — its
    held-out part —, Examples or (text, label) pairs), by calling PREDICT in batches; aggregated
    per site (SiteEval as a dict: accuracy, rows, correct, errors, revisions). Rows of a failed
    request count as errors, not as wrong answers."""
    if not 1 <= batch_size <= 256:
        raise TrafficError(f"batch_size must be within 1..256 (PredictRequest.instances), got {batch_size}")
    endpoints = as_endpoints(endpoints)
    pairs = {site: as_pairs(heldout.get(site), "heldout") for site in {ep.site for ep in endpoints}}

    def one(ep: AgentEndpoint) -> tuple[str, dict]:
        rows = pairs[ep.site][: max_rows or None]
        st = {"rows": 0, "correct": 0, "errors": 0, "revisions": set(), "last_error": ""}
        if not rows:
            st["last_error"] = f"no held-out rows for site {ep.site!r}"
            return ep.site, st
        with _client(timeout, proxy, ep.token) as client:
            for i in range(0, len(rows), batch_size):
                batch = rows[i:i + batch_size]
                try:
                    answer, _ = _predict(client, ep.url, [text for text, _ in batch], learn=False)
                except Exception as exc:
                    st["errors"] += len(batch)
                    st["last_error"] = _err(exc)
                    continue
                st["rows"] += len(batch)
                st["correct"] += sum(p.label == label for p, (_, label) in zip(answer.predictions, batch))
                st["revisions"].add(answer.revision)
        return ep.site, st

    per_site = _per_site(endpoints, one, workers=16, name="evaluate")
    out: dict[str, dict] = {}
    for site, stats in sorted(per_site.items()):
        rows = sum(s["rows"] for s in stats)
        correct = sum(s["correct"] for s in stats)
        out[site] = SiteEval(
            site=site, nodes=len(stats), rows=rows, correct=correct,
            accuracy=round(correct / rows, 4) if rows else None, errors=sum(s["errors"] for s in stats),
            revisions=sorted(set().union(*(s["revisions"] for s in stats))),
            last_error=next((s["last_error"] for s in stats if s["last_error"]), ""),
        ).model_dump()
    return out


def combine(traffic: Mapping[str, dict], evaluation: Mapping[str, dict]) -> dict[str, dict]:
    """One JSON-ready row per site: requests, accuracy, p50/p95 latency, feedback sent, errors."""
    out: dict[str, dict] = {}
    for site in sorted(set(traffic) | set(evaluation)):
        t = SiteTraffic.model_validate({k: v for k, v in traffic[site].items() if k != "feedback"}) \
            if site in traffic else None
        e = SiteEval.model_validate(evaluation[site]) if site in evaluation else None
        out[site] = {
            "site": site,
            "domain": SITE_DOMAINS.get(site, (None,))[0],
            "nodes": max(t.nodes if t else 0, e.nodes if e else 0),
            "requests": t.requests if t else 0,
            "request_errors": t.errors if t else 0,
            "feedback_sent": t.feedback_sent if t else 0,
            "p50_ms": t.p50_ms if t else None,
            "p95_ms": t.p95_ms if t else None,
            "eval_rows": e.rows if e else 0,
            "accuracy": e.accuracy if e else None,
            "eval_errors": e.errors if e else 0,
            "revisions": e.revisions if e else [],
        }
    return out
