"""The edge agent's HTTP API (FastAPI, served by uvicorn in a thread): contracts.AgentPaths.

======================  =====================================================================
POST /v1/predict        PredictRequest -> PredictResponse (503 until a model is loaded); scope
                        predict, or feedback when it asks to learn (learn: true, the default)
POST /v1/feedback       FeedbackRequest -> 202 {"accepted": true}; scope feedback
GET  /v1/status         the agent's current AgentReport snapshot; scope admin
GET  /healthz           200 while the process runs
GET  /readyz            200 once a model is loaded, else 503
GET  /metrics           Prometheus text (names from contracts.MetricNames; labels fleet, node)
======================  =====================================================================

Scoped routes need ``Authorization: Bearer <token>`` (contracts.AgentApiAuth; 401 without a
known token, 403 with one that lacks the scope) unless the app was made without tokens (a lab
agent started with ``--no-auth``). An invalid body is a 422 whose ``error`` names each bad field and what is allowed; a body
larger than ``AgentApiLimits.MAX_BODY_BYTES`` or a text longer than ``MAX_TEXT_CHARS`` is a 413;
feedback faster than ``FEEDBACK_PER_SECOND`` (bursts of ``FEEDBACK_BURST``) is a 429 with
Retry-After. Malformed input never gets a 5xx.
The app only calls the agent's methods (``predict``, ``feedback``, ``snapshot``, ``ready``);
no decision is taken here.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from ecc_workloads.contracts import (
    AgentApiAuth,
    AgentApiLimits,
    AgentPaths,
    AgentReport,
    FeedbackRequest,
    MetricNames,
    PredictRequest,
    PredictResponse,
)

log = logging.getLogger("ecc.agent.server")

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
CONFIDENCE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)


class NotReady(RuntimeError):
    """No model is loaded yet (503)."""


class BadField(ValueError):
    """A request field the agent cannot accept (422 naming the field)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


# ---------------------------------------------------------------------- metrics
class _ReportCollector(Collector):
    """Counters and gauges read from the agent's report snapshot at scrape time."""

    def __init__(self, fleet: str, node: str, snapshot: Callable[[], AgentReport], swaps: Callable[[], int]):
        self.labels = [fleet, node]
        self.snapshot = snapshot
        self.swaps = swaps

    def collect(self):
        r = self.snapshot()
        names = ["fleet", "node"]

        def counter(name: str, doc: str, value: float) -> CounterMetricFamily:
            m = CounterMetricFamily(name, doc, labels=names)
            m.add_metric(self.labels, value)
            return m

        def gauge(name: str, doc: str, value: float | None) -> GaugeMetricFamily | None:
            if value is None:
                return None
            m = GaugeMetricFamily(name, doc, labels=names)
            m.add_metric(self.labels, value)
            return m

        yield counter(MetricNames.AGENT_REQUESTS, "predict requests answered", r.requests_total)
        yield counter(MetricNames.AGENT_FEEDBACK, "feedback items received", r.feedback_total)
        yield counter(MetricNames.AGENT_BYTES_DOWN, "module and manifest bytes fetched", r.bytes_down)
        yield counter(MetricNames.AGENT_BYTES_UP, "delta and report bytes written to the store", r.bytes_up)
        yield counter(MetricNames.AGENT_MODEL_SWAPS, "models swapped in (revisions and local adaptations)", self.swaps())
        yield counter(MetricNames.AGENT_MODULES_REJECTED, "modules refused for a hash mismatch", r.modules_rejected)
        yield counter(MetricNames.AGENT_DOCUMENTS_REFUSED, "desired states refused (signature, fleet, generation) "
                      "and manifests or tokenizers refused (hash)", r.documents_refused)
        for g in (
            gauge(MetricNames.AGENT_REVISION, "revision being served", r.revision),
            gauge(MetricNames.AGENT_DRIFT, "drift score of the policy's signal (0..1)", r.drift_score),
            gauge(MetricNames.AGENT_SPOOL_DEPTH, "reports and deltas waiting on local disk", r.spool_depth),
        ):
            if g is not None:
                yield g


class AgentMetrics:
    """One registry per agent (tests run several agents in one process)."""

    def __init__(self, fleet: str, node: str):
        self.registry = CollectorRegistry(auto_describe=True)
        self.fleet, self.node = fleet, node
        self.latency = Histogram(MetricNames.AGENT_LATENCY, "inference time per predict request (seconds)",
                                 ["fleet", "node"], registry=self.registry, buckets=LATENCY_BUCKETS).labels(fleet, node)
        self.confidence = Histogram(MetricNames.AGENT_CONFIDENCE, "top-class confidence of each prediction",
                                    ["fleet", "node"], registry=self.registry, buckets=CONFIDENCE_BUCKETS).labels(fleet, node)

    def attach(self, snapshot: Callable[[], AgentReport], swaps: Callable[[], int]) -> None:
        self.registry.register(_ReportCollector(self.fleet, self.node, snapshot, swaps))

    def observe(self, seconds: float, confidences: list[float]) -> None:
        self.latency.observe(seconds)
        for c in confidences:
            self.confidence.observe(c)

    def text(self) -> bytes:
        return generate_latest(self.registry)


# ---------------------------------------------------------------------- limits
class BodyLimit:
    """ASGI middleware: a request body larger than `limit` bytes is answered 413 before any
    handler reads it (declared by Content-Length or found while reading a chunked body)."""

    def __init__(self, app, limit: int = AgentApiLimits.MAX_BODY_BYTES):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                return await _send_json(send, 400, {"error": f"Content-Length {declared[:40]!r} is not a number"})
            if size > self.limit:
                return await _send_json(send, 413, self._too_large(size))
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                return await _send_json(send, 413, self._too_large(len(body), "at least "))
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)

    def _too_large(self, size: int, prefix: str = "") -> dict:
        return {"error": f"request body of {prefix}{size} bytes; at most {self.limit} bytes are accepted"}


async def _send_json(send, status: int, content: dict, headers: list[tuple[bytes, bytes]] = ()) -> None:
    data = json.dumps(content).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": data})


class Unauthorized(Exception):
    pass


class Forbidden(Exception):
    pass


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    kind, _, token = header.partition(" ")
    return token.strip() or None if kind.lower() == "bearer" else None


class RateLimited(Exception):
    def __init__(self, retry_after_s: float):
        super().__init__(f"too many feedback requests: retry in {retry_after_s:.1f} s")
        self.retry_after_s = retry_after_s


class TokenBucket:
    """`rate` per second, bursts of `burst`; thread-safe (handlers run in a thread pool)."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst, self.clock = rate, burst, clock
        self.tokens, self.at = float(burst), clock()
        self._lock = threading.Lock()

    def take(self) -> None:
        """Take one token or raise RateLimited saying when the next one comes."""
        with self._lock:
            now = self.clock()
            self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
            self.at = now
            if self.tokens < 1:
                raise RateLimited((1 - self.tokens) / self.rate)
            self.tokens -= 1


# ---------------------------------------------------------------------- the app
_TOO_LONG = ("string_too_long", "too_long")


def _field_errors(errors) -> list[str]:
    out = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p != "body"]
        out.append(f"{'.'.join(loc) or 'body'}: {err.get('msg')}")
    return out


def create_app(agent, *, tokens=None, feedback_limit: TokenBucket | None = None,
               max_body_bytes: int = AgentApiLimits.MAX_BODY_BYTES) -> FastAPI:
    """``agent`` provides predict(texts) -> PredictResponse, feedback(text, label),
    snapshot() -> AgentReport, ready() -> bool and metrics (AgentMetrics). ``tokens``
    (agent_auth.ApiTokens) guards the scoped routes; None: no authentication (a lab agent)."""
    app = FastAPI(title="ecc edge agent", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(BodyLimit, limit=max_body_bytes)
    bucket = feedback_limit or TokenBucket(AgentApiLimits.FEEDBACK_PER_SECOND, AgentApiLimits.FEEDBACK_BURST)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError):
        errors = exc.errors()
        problems = _field_errors(errors)
        # a text or a list over its limit is too large (413), anything else is malformed (422)
        status = 413 if errors and all(e.get("type") in _TOO_LONG for e in errors) else 422
        return JSONResponse(status_code=status, content={"error": "invalid request: " + "; ".join(problems),
                                                         "fields": problems})

    def check(request: Request, scope: str, why: str = "") -> None:
        if tokens is None:
            return
        token = _bearer(request.headers.get("authorization"))
        held = tokens.scopes_of(token)
        if not held:
            raise Unauthorized("a Bearer token of the fleet's Secret is needed (Authorization: Bearer <token>)"
                               if token is None else "unknown token")
        if not held & set(AgentApiAuth.granting(scope)):
            raise Forbidden(f"this token's scope ({', '.join(sorted(held))}) does not allow {why or request.url.path}: "
                            f"it needs {scope}")

    def require(scope: str):
        def dependency(request: Request) -> None:
            check(request, scope)
        return Depends(dependency)

    @app.exception_handler(Unauthorized)
    async def _unauthorized(_request: Request, exc: Unauthorized):
        return JSONResponse(status_code=401, content={"error": str(exc)}, headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(Forbidden)
    async def _forbidden(_request: Request, exc: Forbidden):
        return JSONResponse(status_code=403, content={"error": str(exc)})

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException):
        # FastAPI's own refusals (a body that is no JSON, an unknown path, a wrong method): same shape
        return JSONResponse(status_code=exc.status_code, content={"error": str(exc.detail)},
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(RateLimited)
    async def _rate_limited(_request: Request, exc: RateLimited):
        return JSONResponse(status_code=429, content={"error": str(exc)},
                            headers={"Retry-After": str(max(1, math.ceil(exc.retry_after_s)))})

    @app.exception_handler(BadField)
    async def _bad_field(_request: Request, exc: BadField):
        return JSONResponse(status_code=422, content={"error": f"invalid request: {exc}", "fields": [str(exc)]})

    @app.exception_handler(NotReady)
    async def _not_ready(_request: Request, exc: NotReady):
        return JSONResponse(status_code=503, content={"error": str(exc)})

    # Plain `def` handlers: FastAPI runs them in its thread pool, so inference never blocks
    # the event loop (and /healthz, /metrics answer during a long request).
    @app.post(AgentPaths.PREDICT, response_model=PredictResponse, dependencies=[require("predict")])
    def predict(body: PredictRequest, request: Request) -> PredictResponse:
        if body.learn:  # learning from traffic feeds the model: as much trust as feedback
            check(request, "feedback", "learn: true (send learn: false to only ask)")
        return agent.predict(body.instances, learn=body.learn)

    @app.post(AgentPaths.FEEDBACK, status_code=202, dependencies=[require("feedback")])
    def feedback(body: FeedbackRequest) -> dict:
        bucket.take()
        agent.feedback(body.text, body.label)
        return {"accepted": True}

    @app.get(AgentPaths.STATUS, response_model=AgentReport, dependencies=[require("admin")])
    def status() -> AgentReport:
        return agent.snapshot()

    @app.get(AgentPaths.HEALTH)
    def healthz() -> dict:
        return {"ok": True}

    @app.get(AgentPaths.READY)
    def readyz():
        if agent.ready():
            return {"ready": True}
        return JSONResponse(status_code=503, content={"ready": False, "error": "no model loaded yet"})

    @app.get(AgentPaths.METRICS)
    def metrics() -> Response:
        return Response(agent.metrics.text(), media_type=CONTENT_TYPE_LATEST)

    return app


class AgentServer:
    """uvicorn in a background thread; ``stop()`` shuts it down gracefully."""

    def __init__(self, agent, host: str, port: int, tokens=None):
        import uvicorn

        self.config = uvicorn.Config(create_app(agent, tokens=tokens), host=host, port=port, log_level="warning",
                                     access_log=False, lifespan="off", timeout_graceful_shutdown=5)
        self.server = uvicorn.Server(self.config)
        self.thread = threading.Thread(target=self.server.run, name="ecc-agent-http", daemon=True)

    def start(self, timeout: float = 20.0) -> None:
        import time

        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError(f"HTTP server did not start on {self.config.host}:{self.config.port}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"HTTP server on {self.config.host}:{self.config.port} not up after {timeout} s")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
