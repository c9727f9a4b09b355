"""`ecc fetch-bundle`: KServe's storage initializer for a teacher's bundle.

KServe runs it as the init container of an InferenceService's predictor (the chart's
ClusterStorageContainer claims ``ecc-bundle://`` URIs) with two arguments: the storage URI and
the model directory. It reads the bundle manifest from the store, fetches every module it names,
checks each one's length and sha256 against the manifest, and writes the model directory
(contracts.ModelDirLayout) that ``ecc serve-teacher --manifest /mnt/models/bundles/`` loads:

    bundles/<profile>.json          the manifest, written last (its presence means complete)
    modules/sha256/xx/<sha>.safetensors
    responses.jsonl                 the revision's reply corpus, when it has one

Credentials come from what KServe's credential builder injects from the Secret named in the
InferenceService's ``serving.kserve.io/storageSecretName`` annotation (AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL), or else from the ECC_STORE_* variables.

No torch here: the init container only moves and checks bytes.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import ValidationError

from ecc_workloads.contracts import (
    BundleManifest,
    KServeServing,
    ModelDirLayout,
    StoreEnv,
    StoreLayout,
    StoreSettings,
)

_REVISION_DIR = re.compile(r"^(?P<revision_dir>(?:.*/)?revisions/\d+)/bundles/[^/]+\.json$")
MAX_MANIFEST_BYTES = 4 * 1024 * 1024


class FetchError(Exception):
    """The bundle cannot be fetched; the message says what and why."""


@dataclass(frozen=True)
class Fetched:
    profile: str
    revision: int
    modules: int
    bytes: int
    responses: bool


def settings_from_env(environ: dict[str, str] | None = None) -> StoreSettings:
    """Store settings from KServe's injected S3 variables, else from ECC_STORE_*."""
    env = os.environ if environ is None else environ
    k = KServeServing
    if env.get(k.SECRET_KEY_ENV):
        url = env.get(k.ENDPOINT_URL_ENV, "")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise FetchError(
                f"{k.ENDPOINT_URL_ENV}={url!r}: expected http(s)://host:port — KServe sets it from the "
                f"{k.ENDPOINT_KEY} key (or the serving.kserve.io/s3-endpoint annotation) of the storage Secret")
        if not env.get(k.ACCESS_KEY_ENV):
            raise FetchError(f"{k.SECRET_KEY_ENV} is set but {k.ACCESS_KEY_ENV} is not")
        ca_pem = None
        if env.get(k.CA_BUNDLE_ENV):
            try:
                ca_pem = Path(env[k.CA_BUNDLE_ENV]).read_text()
            except OSError as err:
                raise FetchError(f"{k.CA_BUNDLE_ENV}={env[k.CA_BUNDLE_ENV]!r}: the store's CA bundle cannot be read "
                                 f"({err.strerror}); KServe mounts it from the ConfigMap named by "
                                 f"{k.CA_BUNDLE_CONFIGMAP_KEY} in the storage Secret") from err
        try:
            return StoreSettings(endpoint=parts.netloc, access_key=env[k.ACCESS_KEY_ENV],
                                 secret_key=env[k.SECRET_KEY_ENV], secure=parts.scheme == "https", ca_pem=ca_pem)
        except ValueError as err:
            raise FetchError(f"{k.ENDPOINT_URL_ENV}={url!r} with {k.CA_BUNDLE_ENV}: {err}") from err
    try:
        return StoreSettings.from_env(dict(env))
    except ValueError as err:
        raise FetchError(
            f"no store credentials: neither {k.ACCESS_KEY_ENV}/{k.SECRET_KEY_ENV}/{k.ENDPOINT_URL_ENV} (injected by "
            f"KServe from the Secret in serving.kserve.io/storageSecretName) nor {StoreEnv.ENDPOINT}/"
            f"{StoreEnv.ACCESS_KEY}/{StoreEnv.SECRET_KEY} are set ({err})") from err


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def fetch_bundle(store, bucket: str, key: str, dest: Path) -> Fetched:
    """Write the model directory of the manifest at s3://bucket/key into dest (see the module doc)."""
    from ecc_workloads.store import KeyNotFound, StoreError

    uri = f"s3://{bucket}/{key}"
    try:
        raw = store.get_bytes(uri)
    except KeyNotFound as err:
        raise FetchError(f"bundle manifest {uri} does not exist") from err
    except StoreError as err:
        raise FetchError(f"cannot read the bundle manifest {uri}: {err}") from err
    if len(raw) > MAX_MANIFEST_BYTES:
        raise FetchError(f"bundle manifest {uri}: {len(raw)} bytes, more than the {MAX_MANIFEST_BYTES} allowed")
    try:
        manifest = BundleManifest.model_validate_json(raw)
    except ValidationError as err:
        raise FetchError(f"bundle manifest {uri} is not a BundleManifest: {err}") from err
    total = 0
    for ref in manifest.modules:
        target = dest / ModelDirLayout.module(ref.sha256)
        if target.is_file() and _sha256_file(target) == ref.sha256:
            continue  # a restarted init container keeps what it verified
        module_uri = f"s3://{bucket}/{StoreLayout.module(ref.sha256)}"
        try:
            data = store.get_bytes(module_uri)
        except StoreError as err:
            raise FetchError(f"module {ref.name!r} of {uri} ({module_uri}): {err}") from err
        got = hashlib.sha256(data).hexdigest()
        if len(data) != ref.bytes or got != ref.sha256:
            raise FetchError(f"module {ref.name!r} of {uri}: {len(data)} bytes with sha256 {got[:12]}…, the manifest "
                             f"says {ref.bytes} bytes with sha256 {ref.sha256[:12]}…: tampered or corrupt")
        _write(target, data)
        total += len(data)
    responses = False
    match = _REVISION_DIR.match(key)
    if match:
        responses_uri = f"s3://{bucket}/{match['revision_dir']}/{StoreLayout.RESPONSES_FILE}"
        try:
            if store.exists(responses_uri):
                _write(dest / ModelDirLayout.RESPONSES, store.get_bytes(responses_uri))
                responses = True
        except StoreError as err:
            raise FetchError(f"reply corpus {responses_uri}: {err}") from err
    _write(dest / ModelDirLayout.manifest(manifest.profile), raw)
    return Fetched(profile=manifest.profile, revision=manifest.revision, modules=len(manifest.modules),
                   bytes=total, responses=responses)


def _sha256_file(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def fetch_bundle_command(storage_uri: str, dest: str) -> None:
    """Fetch a bundle (manifest, verified modules, reply corpus) into a model directory: KServe's
    storage initializer for ecc-bundle:// URIs."""
    import typer

    from ecc_workloads.store import Store

    def say(msg: str) -> None:
        print(f"fetch-bundle: {msg}", file=sys.stderr, flush=True)

    try:
        bucket, key = KServeServing.parse_bundle_uri(storage_uri)
        settings = settings_from_env()
        got = fetch_bundle(Store(settings.model_copy(update={"bucket": bucket})), bucket, key, Path(dest))
    except (FetchError, ValueError) as err:
        say(f"failed: {err}")
        raise typer.Exit(1) from err
    say(f"{storage_uri} -> {dest}: profile {got.profile} revision {got.revision}, {got.modules} modules "
        f"({got.bytes} bytes fetched), reply corpus {'yes' if got.responses else 'none'}")
