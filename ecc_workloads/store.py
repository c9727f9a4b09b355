"""Thin wrapper over the minio SDK: s3:// URIs, bytes and JSON in and out, bounded retries.

Built from ``contracts.StoreSettings`` (read from the StoreEnv variables). Connection errors are
retried with tenacity for at most ``retry_seconds`` in total; a store that stays unreachable
raises ``StoreUnavailable`` naming the endpoint. Other S3 errors (no such key, access denied)
are not retried and surface as the SDK's ``S3Error`` — except a missing key on ``get_*``,
which raises ``KeyNotFound`` naming the URI.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

import urllib3
from pydantic import BaseModel
from tenacity import Retrying, retry_if_exception, stop_after_attempt, stop_after_delay, wait_exponential

from ecc_workloads.contracts import StoreEnv, StoreSettings

M = TypeVar("M", bound=BaseModel)

S3_SCHEME = "s3://"


class StoreError(Exception):
    """Base class of this module's errors."""


class StoreUnavailable(StoreError):
    """The object store could not be reached within the retry budget."""


class StoreDenied(StoreError):
    """The store refused the credentials or the request (403-like S3 codes)."""


_DENIED_CODES = ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch")


class KeyNotFound(StoreError):
    """The object does not exist."""


class BadStoreUri(StoreError, ValueError):
    """A string that should be ``s3://bucket/key`` is not."""


@dataclass(frozen=True)
class S3Uri:
    bucket: str
    key: str

    def __str__(self) -> str:
        return f"{S3_SCHEME}{self.bucket}/{self.key}"


def object_uri(bucket: str, key: str) -> str:
    """The ``s3://bucket/key`` URI of an object: status and Job specs keep keys, this makes the URI."""
    return str(S3Uri(bucket, key))


def object_key(bucket: str, uri: str) -> str:
    """The key of ``uri`` in ``bucket``; BadStoreUri when ``uri`` is not an s3:// URI of that bucket."""
    parsed = parse_s3_uri(uri)
    if parsed.bucket != bucket:
        raise BadStoreUri(f"{uri!r} is not in bucket {bucket!r}")
    return parsed.key


def is_s3_uri(value: str) -> bool:
    return value.startswith(S3_SCHEME)


def parse_s3_uri(uri: str, allow_empty_key: bool = False) -> S3Uri:
    """``s3://bucket/some/key`` → S3Uri. Bucket names follow S3's rules (3–63 chars,
    lower-case letters, digits, dots and dashes)."""
    if not isinstance(uri, str) or not uri.startswith(S3_SCHEME):
        raise BadStoreUri(f"not an s3:// URI: {uri!r} (expected s3://bucket/key)")
    rest = uri[len(S3_SCHEME):]
    bucket, _, key = rest.partition("/")
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket or ""):
        raise BadStoreUri(
            f"bad bucket name in {uri!r}: {bucket!r} (3-63 characters: lower-case letters, digits, '.', '-')"
        )
    if not key and not allow_empty_key:
        raise BadStoreUri(f"no object key in {uri!r} (expected s3://bucket/key)")
    if "//" in key or key.startswith("/"):
        raise BadStoreUri(f"empty path segment in the key of {uri!r}")
    return S3Uri(bucket=bucket, key=key)


_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    urllib3.exceptions.MaxRetryError,
    urllib3.exceptions.NewConnectionError,
    urllib3.exceptions.ProtocolError,
    urllib3.exceptions.TimeoutError,
    ConnectionError,
    TimeoutError,
)


def _tls_refused(exc: BaseException) -> str | None:
    """Why a TLS handshake failed (a certificate that does not verify), if that is what `exc` is:
    not worth retrying, and not an outage to wait out."""
    reason = getattr(exc, "reason", None) or exc
    return str(reason) if isinstance(reason, urllib3.exceptions.SSLError) else None


def store_http(settings: StoreSettings, *, connect_timeout: float = 3.0, read_timeout: float = 60.0,
               retries: urllib3.Retry | None = None, maxsize: int = 10) -> urllib3.PoolManager:
    """The connection pool every client of the store uses: with TLS (settings.secure) the store's
    certificate and host name are checked against settings.ca_pem, else the system's trust store."""
    from ecc_workloads.tls import client_context

    tls = {"ssl_context": client_context(settings.ca_pem, StoreEnv.CA)} if settings.secure else {}
    return urllib3.PoolManager(timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
                               retries=retries or urllib3.Retry(total=0, connect=0, read=0, redirect=2),
                               maxsize=maxsize, **tls)


def minio_client(settings: StoreSettings, http: urllib3.PoolManager | None = None, credentials=None):
    """A minio client of the store (the settings' keys, or `credentials`, a minio provider)."""
    from minio import Minio

    return Minio(settings.endpoint, secure=settings.secure, http_client=http or store_http(settings),
                 access_key=None if credentials else settings.access_key,
                 secret_key=None if credentials else settings.secret_key,
                 session_token=None if credentials else settings.session_token, credentials=credentials)


class Store:
    """Object-store client. ``retry_seconds`` bounds the total time spent retrying one call."""

    def __init__(self, settings: StoreSettings, retry_seconds: float = 20.0, connect_timeout: float = 3.0,
                 credentials=None):
        """`credentials`: a minio credentials provider used instead of the settings' keys (an edge
        agent's per-node credentials, store_credentials.NodeCredentialsProvider)."""
        self.settings = settings
        self.credentials = credentials
        self.retry_seconds = retry_seconds
        self.client = minio_client(settings, store_http(settings, connect_timeout=connect_timeout), credentials)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **kwargs) -> "Store":
        return cls(StoreSettings.from_env(environ), **kwargs)

    @property
    def who(self) -> str:
        """The credentials, for messages: an access key, or the provider's currently held one."""
        held = getattr(self.credentials, "held", None)
        if self.credentials is None:
            return f"access key {self.settings.access_key!r}"
        return f"access key {held.access_key!r} (of node {held.node})" if held else "per-node credentials"

    @property
    def endpoint(self) -> str:
        return ("https://" if self.settings.secure else "http://") + self.settings.endpoint

    def uri(self, key: str) -> str:
        return object_uri(self.settings.bucket, key)

    def _call(self, what: str, fn, *args, **kwargs):
        from minio.error import InvalidResponseError

        retrying = Retrying(
            retry=retry_if_exception(lambda exc: isinstance(exc, _CONNECTION_ERRORS) and not _tls_refused(exc)),
            stop=stop_after_delay(self.retry_seconds) | stop_after_attempt(50),
            wait=wait_exponential(multiplier=0.2, max=3.0),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return fn(*args, **kwargs)
        except _CONNECTION_ERRORS as exc:
            if _tls_refused(exc):
                raise StoreUnavailable(
                    f"TLS to the object store at {self.endpoint} failed while trying to {what}: its certificate does "
                    f"not chain to the CA bundle given ({StoreEnv.CA}; AWS_CA_BUNDLE in a storage initializer) or to "
                    f"the system's trust store, or it names another host: {_tls_refused(exc)}") from exc
            raise StoreUnavailable(
                f"object store at {self.endpoint} unreachable while trying to {what} "
                f"(gave up after {self.retry_seconds:g} s): {exc.__class__.__name__}: {exc}"
            ) from exc
        except InvalidResponseError as exc:
            if "HTTP request to an HTTPS server" in str(exc):
                raise StoreError(f"the object store at {self.endpoint} speaks TLS only: reach it with https "
                                 f"({StoreEnv.SECURE}=true, or an https:// endpoint URL)") from exc
            raise

    # -- bytes ---------------------------------------------------------------
    def get_bytes(self, uri: str) -> bytes:
        from minio.error import S3Error

        loc = parse_s3_uri(uri)

        def _get() -> bytes:
            resp = self.client.get_object(loc.bucket, loc.key)
            try:
                return resp.read()
            finally:
                resp.close()
                resp.release_conn()

        try:
            return self._call(f"read {uri}", _get)
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchBucket", "ResourceNotFound"):
                raise KeyNotFound(f"{uri} does not exist ({exc.code}) on {self.endpoint}") from exc
            if exc.code in _DENIED_CODES:
                raise StoreDenied(f"{uri}: {exc.code} for {self.who} on "
                                  f"{self.endpoint}") from exc
            raise

    def put_bytes(self, uri: str, data: bytes, content_type: str = "application/octet-stream",
                  metadata: dict[str, str] | None = None) -> None:
        """Write the object (``metadata``: its user metadata, ``x-amz-meta-*``)."""
        loc = parse_s3_uri(uri)
        self._call(
            f"write {uri}",
            lambda: self.client.put_object(loc.bucket, loc.key, io.BytesIO(data), len(data), content_type=content_type,
                                           metadata=metadata or None),
        )

    # -- JSON ----------------------------------------------------------------
    def get_json(self, uri: str, model: type[M] | None = None):
        raw = self.get_bytes(uri)
        if model is not None:
            return model.model_validate_json(raw)
        return json.loads(raw)

    def put_json(self, uri: str, value) -> None:
        if isinstance(value, BaseModel):
            data = value.model_dump_json(indent=2).encode()
        else:
            data = json.dumps(value, indent=2, ensure_ascii=False).encode()
        self.put_bytes(uri, data, content_type="application/json")

    # -- listing and metadata --------------------------------------------------
    def exists(self, uri: str) -> bool:
        from minio.error import S3Error

        loc = parse_s3_uri(uri)
        try:
            self._call(f"stat {uri}", self.client.stat_object, loc.bucket, loc.key)
            return True
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchBucket", "ResourceNotFound"):
                return False
            if exc.code in _DENIED_CODES:
                raise StoreDenied(f"{uri}: {exc.code} for {self.who} on "
                                  f"{self.endpoint}") from exc
            raise

    def etag(self, uri: str) -> str | None:
        """The object's ETag from one HEAD request (cheap polling: compare before reading),
        or None if the object does not exist."""
        from minio.error import S3Error

        loc = parse_s3_uri(uri)
        try:
            stat = self._call(f"stat {uri}", self.client.stat_object, loc.bucket, loc.key)
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchBucket", "ResourceNotFound"):
                return None
            raise
        return stat.etag

    def _objects(self, prefix_uri: str, recursive: bool = True) -> tuple[str, list]:
        loc = parse_s3_uri(prefix_uri, allow_empty_key=True)
        return loc.bucket, self._call(
            f"list {prefix_uri}",
            lambda: list(self.client.list_objects(loc.bucket, prefix=loc.key or None, recursive=recursive)),
        )

    def list(self, prefix_uri: str, recursive: bool = True) -> list[str]:
        """URIs of the objects under ``s3://bucket/prefix``, sorted."""
        bucket, objects = self._objects(prefix_uri, recursive)
        return sorted(str(S3Uri(bucket, obj.object_name)) for obj in objects)

    def list_sizes(self, prefix_uri: str) -> dict[str, int]:
        """URI -> size in bytes of the objects under ``s3://bucket/prefix`` (one listing, no reads)."""
        bucket, objects = self._objects(prefix_uri)
        return {str(S3Uri(bucket, obj.object_name)): int(obj.size or 0) for obj in objects}

    def presign_get(self, uri: str, expires_seconds: int = 3600) -> str:
        return self._presign(self.client.presigned_get_object, uri, expires_seconds)

    def presign_put(self, uri: str, expires_seconds: int = 3600) -> str:
        return self._presign(self.client.presigned_put_object, uri, expires_seconds)

    def _presign(self, presign, uri: str, expires_seconds: int) -> str:
        loc = parse_s3_uri(uri)
        return self._call(f"presign {uri}", presign, loc.bucket, loc.key, expires=timedelta(seconds=expires_seconds))

    def ensure_bucket(self, bucket: str | None = None) -> None:
        name = bucket or self.settings.bucket
        if not self._call(f"check bucket {name}", self.client.bucket_exists, name):
            self._call(f"create bucket {name}", self.client.make_bucket, name)

    def delete_prefixes(self, prefixes: list[str], bucket: str | None = None) -> int:
        """Remove every object under each key prefix (in `bucket`, else the store's); returns how
        many. StoreError naming the first object that could not be removed."""
        from minio.deleteobjects import DeleteObject

        bucket = bucket or self.settings.bucket
        keys = [object_key(bucket, u) for prefix in prefixes for u in self.list(object_uri(bucket, prefix))]
        if keys:
            errors = list(self.client.remove_objects(bucket, [DeleteObject(k) for k in keys]))
            if errors:
                raise StoreError(f"could not remove {len(errors)} store objects under {', '.join(prefixes)}: "
                                 f"{errors[0]}")
        return len(keys)
