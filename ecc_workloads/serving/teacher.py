"""The teacher's inference server: intent, confidence, scores and a suggested reply.

A ``kserve.Model`` (:class:`IntentModel`) served by ``kserve.ModelServer`` — one worker, no
gRPC, bound to one address — answers both KServe protocols:

- v1  ``POST /v1/models/<name>:predict``
      request  ``{"instances": ["text", ...]}`` or ``{"instances": [{"text": "..."}, ...]}``
      response ``{"predictions": [{"intent", "confidence", "scores": {label: p},
      "suggested_reply", "reply_similarity"}, ...], "model": {...}}``
- v2  ``POST /v2/models/<name>/infer`` (Open Inference Protocol)
      request  ``{"inputs": [{"name": "text", "datatype": "BYTES", "shape": [n], "data": [...]}]}``
      response outputs ``intent`` BYTES [n], ``confidence`` FP32 [n], ``scores`` FP32 [n, L],
      ``suggested_reply`` BYTES [n] ("" when there is none), ``reply_similarity`` FP32 [n]
      (-1 when there is none) and ``labels`` BYTES [L] (the column order of ``scores``).

The *suggested reply* is the corpus response of the predicted intent whose example
instruction is closest to the query (cosine similarity of the model's own pooled sentence
embeddings). Responses are returned as stored: ``{{Placeholder}}`` slots stay for the agent
to fill. They come from a JSONL file of ``{"instruction", "intent", "response"}`` rows (the
prepared corpus's ``{"text", "label", "response"}`` rows are accepted as well).

The model is loaded from a bundle manifest; every module's hash is verified
(:mod:`ecc_workloads.learning.bundles`), so a tampered bundle stops the server before it listens.

This module imports torch and kserve: import it from inside a command, not at CLI start.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import ValidationError

from ecc_workloads.learning import bundles, modular
from ecc_workloads.contracts import BundleManifest, ModelDirLayout, StoreLayout, StoreSettings
from ecc_workloads.serving.predictor import (  # noqa: F401  (re-exported: the server's public names)
    IntentPredictor, Prediction, ReplyIndex, ResponseRow, ServingError, parse_responses, select_rows)


def _import_kserve():
    """kserve parses ``sys.argv`` when it is imported (kserve/model_server.py); hide our own
    command line from it so that none of our options is mistaken for one of its options."""
    saved = sys.argv
    sys.argv = saved[:1]
    try:
        import kserve
        from kserve.errors import InvalidInput
    finally:
        sys.argv = saved
    return kserve, InvalidInput


kserve, InvalidInput = _import_kserve()
from kserve.protocol.infer_type import InferOutput, InferRequest, InferResponse  # noqa: E402

RESPONSES_FILE = StoreLayout.RESPONSES_FILE
responses_key = StoreLayout.responses


V2_INPUT = "text"
DEFAULT_MAX_BATCH = 256
_REVISION_BUNDLE_KEY = re.compile(r"^(?P<revision_dir>(?:.*/)?revisions/\d+)/bundles/[^/]+\.json$")


# ---------------------------------------------------------------------- request parsing
def _check_texts(texts: list[Any], what: str, max_batch: int) -> list[str]:
    if not texts:
        raise InvalidInput(f"{what}: no texts given (expected at least one utterance)")
    if len(texts) > max_batch:
        raise InvalidInput(f"{what}: {len(texts)} texts given, at most {max_batch} per request")
    out = []
    for i, t in enumerate(texts):
        if isinstance(t, bytes):
            try:
                t = t.decode("utf-8")
            except UnicodeDecodeError as err:
                raise InvalidInput(f"{what}[{i}]: not UTF-8 text") from err
        if not isinstance(t, str):
            raise InvalidInput(f"{what}[{i}]: expected a string, got {type(t).__name__}")
        if not t.strip():
            raise InvalidInput(f"{what}[{i}]: empty text")
        out.append(t)
    return out


def texts_from_v1(payload: Any, max_batch: int = DEFAULT_MAX_BATCH) -> list[str]:
    """``{"instances": ["text", ...]}`` or ``{"instances": [{"text": "..."}, ...]}``.
    (kserve hands over the raw body when the content type is not JSON: it is parsed here.)"""
    if isinstance(payload, (bytes, str)):
        try:
            payload = json.loads(payload)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise InvalidInput(f"v1 request body is not JSON: {err}") from err
    if not isinstance(payload, dict) or "instances" not in payload:
        got = sorted(payload) if isinstance(payload, dict) else type(payload).__name__
        raise InvalidInput(
            f'v1 request needs "instances": a list of texts or of {{"text": ...}} objects (got {got})'
        )
    instances = payload["instances"]
    if not isinstance(instances, list):
        raise InvalidInput(f'"instances" must be a list, got {type(instances).__name__}')
    texts: list[Any] = []
    for i, inst in enumerate(instances):
        if isinstance(inst, dict):
            if "text" not in inst:
                raise InvalidInput(f'instances[{i}]: object without "text" (keys: {sorted(inst)})')
            texts.append(inst["text"])
        else:
            texts.append(inst)
    return _check_texts(texts, "instances", max_batch)


def texts_from_v2(request: InferRequest, max_batch: int = DEFAULT_MAX_BATCH) -> list[str]:
    """The BYTES input named ``text`` of a v2 request, flattened."""
    names = [i.name for i in request.inputs]
    chosen = [i for i in request.inputs if i.name == V2_INPUT]
    if not chosen:
        raise InvalidInput(f'v2 request needs an input named "{V2_INPUT}" (datatype BYTES, shape [n]); got inputs {names}')
    inp = chosen[0]
    if inp.datatype != "BYTES":
        raise InvalidInput(f'input "{V2_INPUT}": datatype must be BYTES, got {inp.datatype}')
    try:
        values = inp.as_numpy().reshape(-1).tolist()
    except Exception as err:  # noqa: BLE001 - shape/data mismatch of any kind
        raise InvalidInput(f'input "{V2_INPUT}": data does not match shape {inp.shape}: {err}') from err
    return _check_texts(values, f'input "{V2_INPUT}"', max_batch)


def v2_outputs(predictions: Sequence[Prediction], labels: Sequence[str]) -> list[InferOutput]:
    n, k = len(predictions), len(labels)

    def tensor(name: str, datatype: str, values: np.ndarray) -> InferOutput:
        out = InferOutput(name=name, shape=list(values.shape), datatype=datatype)
        out.set_data_from_numpy(values, binary_data=False)
        return out

    return [
        tensor("intent", "BYTES", np.array([p.intent for p in predictions], dtype=np.object_)),
        tensor("confidence", "FP32", np.array([p.confidence for p in predictions], dtype=np.float32)),
        tensor("scores", "FP32", np.array([[p.scores[l] for l in labels] for p in predictions], dtype=np.float32).reshape(n, k)),
        tensor("suggested_reply", "BYTES", np.array([p.suggested_reply or "" for p in predictions], dtype=np.object_)),
        tensor("reply_similarity", "FP32", np.array(
            [-1.0 if p.reply_similarity is None else p.reply_similarity for p in predictions], dtype=np.float32)),
        tensor("labels", "BYTES", np.array(list(labels), dtype=np.object_)),
    ]


# ---------------------------------------------------------------------- the kserve model
class IntentModel(kserve.Model):
    """KServe predictor answering v1 and v2 requests with :class:`IntentPredictor`."""

    def __init__(self, name: str, predictor: IntentPredictor, manifest: BundleManifest,
                 max_batch: int = DEFAULT_MAX_BATCH):
        super().__init__(name)
        self.predictor = predictor
        self.manifest = manifest
        self.max_batch = max_batch
        self.ready = True

    def load(self) -> bool:
        self.ready = True
        return self.ready

    def describe(self) -> dict[str, Any]:
        replies = self.predictor.replies
        return {
            "profile": self.predictor.profile,
            "revision": self.manifest.revision,
            "blocks": self.predictor.blocks,
            "labels": self.predictor.labels,
            "reply_examples": replies.size() if replies else 0,
        }

    def get_input_types(self) -> list[dict]:
        return [{"name": V2_INPUT, "datatype": "BYTES", "shape": [-1]}]

    def get_output_types(self) -> list[dict]:
        k = len(self.predictor.labels)
        return [
            {"name": "intent", "datatype": "BYTES", "shape": [-1]},
            {"name": "confidence", "datatype": "FP32", "shape": [-1]},
            {"name": "scores", "datatype": "FP32", "shape": [-1, k]},
            {"name": "suggested_reply", "datatype": "BYTES", "shape": [-1]},
            {"name": "reply_similarity", "datatype": "FP32", "shape": [-1]},
            {"name": "labels", "datatype": "BYTES", "shape": [k]},
        ]

    def predict(self, payload, headers: dict[str, str] | None = None):  # type: ignore[override]
        # Synchronous on purpose: inference runs on the event-loop thread, one request at a
        # time, with one torch thread — the lowest single-query latency on a shared CPU.
        if isinstance(payload, InferRequest):
            texts = texts_from_v2(payload, self.max_batch)
            preds = self.predictor.predict(texts)
            return InferResponse(
                response_id=payload.id or "",
                model_name=self.name,
                infer_outputs=v2_outputs(preds, self.predictor.labels),
                parameters={"profile": self.predictor.profile, "revision": self.manifest.revision},
                requested_outputs=payload.request_outputs,
            )
        texts = texts_from_v1(payload, self.max_batch)
        preds = self.predictor.predict(texts)
        return {"predictions": [p.model_dump() for p in preds], "model": self.describe()}


# ---------------------------------------------------------------------- loading
@dataclass
class LoadedBundle:
    manifest: BundleManifest
    fetch: bundles.Fetch
    manifest_uri: str
    revision_dir: str | None
    """s3:// URI or local directory of the manifest's revision (``.../revisions/N``), when the
    manifest sits in the standard layout; the reply corpus is looked for there by default."""


def _s3_store(bucket: str):
    from ecc_workloads.store import Store

    try:
        settings = StoreSettings.from_env()
    except ValueError as err:
        raise ServingError(str(err)) from err
    return Store(settings.model_copy(update={"bucket": bucket}))


def _local_store_root(manifest_path: Path) -> Path:
    for parent in manifest_path.resolve().parents:
        if (parent / "modules").is_dir():
            return parent
    raise ServingError(
        f"no module store found for {manifest_path}: no directory above it holds modules/ "
        "(pass --store DIR, the root of the local store)"
    )


def _open_store(target: str):
    """``s3://bucket`` or a local directory → a key-addressed store."""
    from ecc_workloads.store import parse_s3_uri

    if target.startswith("s3://"):
        loc = parse_s3_uri(target, allow_empty_key=True)
        return bundles.BucketKeys(_s3_store(loc.bucket))
    root = Path(target)
    if not root.is_dir():
        raise ServingError(f"--store {target}: not a directory")
    return bundles.LocalDirStore(root)


def open_bundle(manifest_uri: str, profile: str | None = None, store: str | None = None) -> LoadedBundle:
    """Read a manifest: ``s3://bucket/key.json`` or a local ``.json`` file, or the bundles
    prefix/directory of a revision (``.../revisions/N/bundles/``), where ``profile`` (default
    ``teacher``) picks ``<profile>.json``. Modules come from the manifest's own store unless
    ``store`` names another."""
    from ecc_workloads.store import StoreError, parse_s3_uri

    is_file = manifest_uri.endswith(".json")
    wanted = profile or modular.TEACHER_PROFILE
    try:
        if manifest_uri.startswith("s3://"):
            loc = parse_s3_uri(manifest_uri)
            key = loc.key if is_file else f"{loc.key.rstrip('/')}/{wanted}.json"
            uri = f"s3://{loc.bucket}/{key}"
            kv = bundles.BucketKeys(_s3_store(loc.bucket))
            manifest = bundles.read_manifest(kv, key)
            match = _REVISION_BUNDLE_KEY.match(key)
            revision_dir = f"s3://{loc.bucket}/{match['revision_dir']}" if match else None
        else:
            path = Path(manifest_uri)
            if not is_file:
                path = path / f"{wanted}.json"
            if not path.is_file():
                raise ServingError(f"bundle manifest {path} does not exist")
            uri = str(path)
            try:
                manifest = BundleManifest.model_validate_json(path.read_bytes())
            except ValidationError as err:
                raise bundles.BundleError(f"bundle manifest {path}: {err}") from err
            kv = None if store else bundles.LocalDirStore(_local_store_root(path))
            match = _REVISION_BUNDLE_KEY.match(path.resolve().as_posix())
            # the store's layout, or a model directory of `ecc fetch-bundle` (bundles/ beside responses.jsonl)
            revision_dir = match["revision_dir"] if match else (
                str(path.resolve().parent.parent) if path.resolve().parent.name == ModelDirLayout.BUNDLES_DIR else None)
        if store:
            kv = _open_store(store)
    except StoreError as err:
        raise ServingError(f"cannot read the bundle manifest {manifest_uri}: {err}") from err
    if profile and manifest.profile != profile:
        raise ServingError(f"--profile {profile!r} but the manifest {uri} is for profile {manifest.profile!r}")
    return LoadedBundle(manifest=manifest, fetch=bundles.store_fetcher(kv), manifest_uri=uri, revision_dir=revision_dir)


def read_text(uri: str) -> str:
    """A small text object: ``s3://bucket/key`` or a local path."""
    from ecc_workloads.store import StoreError, parse_s3_uri

    if uri.startswith("s3://"):
        loc = parse_s3_uri(uri)
        try:
            return _s3_store(loc.bucket).get_bytes(uri).decode("utf-8")
        except StoreError as err:
            raise ServingError(f"cannot read {uri}: {err}") from err
    path = Path(uri)
    if not path.is_file():
        raise ServingError(f"{uri} does not exist")
    return path.read_text(encoding="utf-8")


def default_responses_uri(bundle: LoadedBundle) -> str | None:
    """The revision's reply corpus beside its bundles, if it exists."""
    if bundle.revision_dir is None:
        return None
    candidate = f"{bundle.revision_dir}/{RESPONSES_FILE}"
    if candidate.startswith("s3://"):
        from ecc_workloads.store import StoreError, parse_s3_uri

        loc = parse_s3_uri(candidate)
        try:
            return candidate if _s3_store(loc.bucket).exists(candidate) else None
        except StoreError as err:
            raise ServingError(f"cannot look for the reply corpus {candidate}: {err}") from err
    return candidate if Path(candidate).is_file() else None


def build_model(
    manifest_uri: str,
    *,
    profile: str | None = None,
    responses_uri: str | None = None,
    store: str | None = None,
    model_name: str = "ecc-intent",
    max_length: int = 64,
    replies_per_intent: int = 100,
    max_batch: int = DEFAULT_MAX_BATCH,
    index_threads: int = 1,
    log=print,
) -> IntentModel:
    """Load and verify the bundle, index the replies, warm up: a ready IntentModel.
    Raises BundleError (naming the module) or ServingError."""
    bundle = open_bundle(manifest_uri, profile, store)
    manifest = bundle.manifest
    sub = bundles.load_submodel(manifest, bundle.fetch)  # verifies every module's sha256
    tokenizer = modular.load_tokenizer(manifest.config.get("tokenizer", modular.BASE_MODEL_MINILM),
                                       manifest.tokenizer_sha256)
    predictor = IntentPredictor(sub, tokenizer, manifest.profile, max_length=max_length)
    log(f"loaded {bundle.manifest_uri}: profile {manifest.profile} rev {manifest.revision}, "
        f"blocks {manifest.blocks}, {len(manifest.labels)} labels, {bundles.bundle_bytes(manifest)} bytes, hashes verified")
    source = responses_uri or default_responses_uri(bundle)
    if source is None:
        log("no reply corpus (--responses not given and none beside the bundles): suggested_reply will be null")
    else:
        rows = parse_responses(read_text(source), source)
        chosen = select_rows(rows, manifest.labels, replies_per_intent)
        if not chosen:
            intents = sorted({r.intent for r in rows})[:10]
            raise ServingError(
                f"reply corpus {source}: none of its {len(rows)} rows with a response has an intent of the "
                f"model's label set (rows' intents: {intents}; labels: {manifest.labels[:10]})"
            )
        started = time.perf_counter()
        serving_threads = torch.get_num_threads()
        # one thread by default: on a shared 2-core machine two threads ran 2x slower (measured)
        torch.set_num_threads(index_threads or os.cpu_count() or 1)
        try:
            index = predictor.index_replies(chosen)
        finally:
            torch.set_num_threads(serving_threads)
        indexed_in = time.perf_counter() - started
        missing = [label for label in manifest.labels if label not in index.embeddings]
        log(f"reply corpus {source}: {index.size()} examples over {len(index.intents)} intents, "
            f"embedded in {indexed_in:.1f} s on {index_threads or os.cpu_count()} threads"
            + (f"; no replies for {missing}" if missing else ""))
    predictor.predict(["hello"])  # warm-up: the first request should not pay for lazy init
    return IntentModel(model_name, predictor, manifest, max_batch=max_batch)


# ---------------------------------------------------------------------- the server
class BoundModelServer(kserve.ModelServer):
    """``kserve.ModelServer`` with one REST worker bound to one address, without gRPC.

    kserve 0.21.0's RESTServer always listens on 0.0.0.0; a pod must bind its own IP
    (ECC_POD_IP) and a developer's machine 127.0.0.1. ``start`` follows
    ``ModelServer.start`` for the single-worker case and sets the listen address; it is the
    one place that touches kserve internals (pinned: kserve==0.21.0). With `tls_files`
    (certificate file, key file) it serves HTTPS only: RESTServer hands them to uvicorn's
    Config (ssl_certfile / ssl_keyfile); cli_serve.check_tls_files has checked them."""

    def __init__(self, host: str, http_port: int, tls_files: tuple[str, str] | None = None, **kwargs):
        super().__init__(http_port=http_port, workers=1, enable_grpc=False, **kwargs)
        self.host = host
        self.tls_files = tls_files

    def start(self, models) -> None:  # type: ignore[override]
        import asyncio

        from kserve.constants.constants import FASTAPI_APP_IMPORT_STRING
        from kserve.protocol.rest.server import RESTServer

        for model in models:
            if not model.ready:
                raise ServingError(f"model {model.name!r} is not ready")
            self.register_model(model)
            model.enable_latency_logging = self.enable_latency_logging
        self._rest_server = RESTServer(
            FASTAPI_APP_IMPORT_STRING,
            self.dataplane,
            self.model_repository_extension,
            self.http_port,
            access_log_format=self.access_log_format,
            workers=1,
            grace_period=self.grace_period,
            event_loop=self.event_loop,
            timeout_keep_alive=self.timeout_keep_alive,
            ssl_certfile=self.tls_files[0] if self.tls_files else None,
            ssl_keyfile=self.tls_files[1] if self.tls_files else None,
        )
        self._rest_server.config.host = self.host
        _explain_validation_errors()
        self.servers.append(self._rest_server.start())
        asyncio.run(self._serve())  # uvicorn handles SIGINT/SIGTERM: graceful shutdown


def _explain_validation_errors() -> None:
    """FastAPI answers a malformed v2 body with a 422 listing its internal union branches
    (InferenceRequest | bytes); answer with the missing or wrong fields and the expected shape."""
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from kserve.model_server import app

    async def handler(_request, exc: RequestValidationError):
        problems = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "InferenceRequest")]
            if loc[:1] == ["bytes"]:
                continue  # the raw-bytes branch of kserve's request union: not what a JSON client sent
            problems.append(f"{'.'.join(loc) or 'body'}: {err.get('msg')}")
        return JSONResponse(status_code=422, content={
            "error": "invalid request body: " + "; ".join(problems or ["unreadable"])
            + f' (a v2 request is {{"inputs": [{{"name": "{V2_INPUT}", "datatype": "BYTES", "shape": [n], "data": [...]}}]}})',
            "detail": jsonable(exc.errors()),
        })

    app.add_exception_handler(RequestValidationError, handler)


def jsonable(value):
    from fastapi.encoders import jsonable_encoder

    return jsonable_encoder(value)


def serve(model: IntentModel, host: str, port: int, tls_files: tuple[str, str] | None = None) -> None:
    """Serve until SIGTERM; HTTPS with `tls_files` (certificate file, key file), else plain HTTP."""
    torch.set_num_threads(1)
    BoundModelServer(host=host, http_port=port, tls_files=tls_files, grace_period=5).start([model])
