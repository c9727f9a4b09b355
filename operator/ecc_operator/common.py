"""What the three controllers share: spec problems, typed status in and out, owner references,
manifest hashes and per-object locks (kopf runs handlers of different objects concurrently; one
object's are serialised by its lock)."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from ecc_operator.api.common import Kind

M = TypeVar("M", bound=BaseModel)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ObjectRef:
    """The custom resource a reconcile is about (of any of the three kinds)."""

    namespace: str
    name: str
    uid: str
    generation: int
    created: str | None = None
    """metadata.creationTimestamp (a policy's schedule first ticks after it)"""

    @classmethod
    def of(cls, obj: Mapping) -> "ObjectRef":
        """The reference to an object as the API server returned it (its metadata)."""
        meta = obj.get("metadata") or {}
        return cls(meta.get("namespace", ""), meta.get("name", ""), meta.get("uid", ""),
                   int(meta.get("generation") or 0), meta.get("creationTimestamp"))


class SpecProblem(ValueError):
    """The spec passed the API server but cannot be run as it is (names the field); `reason`
    becomes the conditions' reason."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason

    def observations(self, ready: str = "False") -> tuple[tuple[str, str, str], ...]:
        """(Ready, Progressing, Degraded) of a resource held by this problem: Ready `ready` (True while
        a published revision stays served), Progressing False until the spec is fixed, Degraded True."""
        return (ready, self.reason, str(self)), ("False", self.reason, "fix the spec"), ("True", self.reason, str(self))


def parse_spec(model: type[M], raw: Mapping | None) -> M:
    """A resource's spec as its model; a SpecProblem ("InvalidSpec") naming the fields otherwise."""
    try:
        return model.model_validate(dict(raw or {}))
    except Exception as exc:  # pydantic.ValidationError names the fields
        raise SpecProblem("InvalidSpec", f"spec is invalid: {exc}") from exc


def read_status(model: type[M], raw: Mapping | M | None) -> M:
    """A stored status as its model. The API server validated it against the same schema, so this
    normally just parses; a field that does not validate (a status an older operator wrote) is
    left out and logged rather than losing the rest — the published revision above all."""
    if isinstance(raw, model):
        return raw
    raw = dict(raw or {})
    try:
        return model.model_validate(raw)
    except ValidationError:
        keep = {}
        for key, value in raw.items():
            try:
                model.model_validate({key: value})
            except ValidationError as exc:
                log.warning(f"status.{key} left out: {exc.errors()[0]['msg']}")
            else:
                keep[key] = value
        return model.model_validate(keep)


def status_patch(status: BaseModel) -> dict:
    """A status model as the merge patch to write: the fields this reconcile set, camelCase; a field
    set to None removes it from the stored status."""
    return status.model_dump(mode="json", by_alias=True, exclude_unset=True)


def owner_reference(name: str, uid: str, kind: Kind) -> dict:
    """The controller owner reference to the custom resource `name` of `kind`."""
    return {"apiVersion": kind.api_version, "kind": kind.kind, "name": name, "uid": uid,
            "controller": True, "blockOwnerDeletion": True}


ANNOTATION_DESIRED_HASH = "ecc.dev/desired-hash"
"""Hash of the manifest the operator last applied to a child (no write when it has not changed)."""


def manifest_hash(manifest: Mapping) -> str:
    """A short hash of a child's manifest as the operator wants it (its desired-hash annotation)."""
    return hashlib.sha256(json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


def with_desired_hash(manifest: dict) -> dict:
    """`manifest` with its own hash in the desired-hash annotation."""
    manifest["metadata"].setdefault("annotations", {})
    manifest["metadata"]["annotations"][ANNOTATION_DESIRED_HASH] = manifest_hash(manifest)
    return manifest


def desired_hash(current: Mapping | None) -> str | None:
    """The desired-hash annotation of a child as it is in the cluster (None: absent, or no child)."""
    return (((current or {}).get("metadata") or {}).get("annotations") or {}).get(ANNOTATION_DESIRED_HASH)


def needs_apply(manifest: dict, current_hash: str | None) -> bool:
    """Whether the child must be written: the one in the cluster was made from another manifest."""
    return current_hash != manifest["metadata"]["annotations"][ANNOTATION_DESIRED_HASH]


class KeyedLocks:
    """One lock per key (an object's uid), made on first use."""

    def __init__(self) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def __call__(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())
