"""What the three controllers share: spec problems, owner references, manifest hashes and
per-object locks (kopf runs handlers of different objects concurrently; one object's are
serialised by its lock)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from typing import TypeVar

from pydantic import BaseModel

from ecc_operator.api.common import Kind

M = TypeVar("M", bound=BaseModel)


class SpecProblem(ValueError):
    """The spec passed the API server but cannot be run as it is (names the field); `reason`
    becomes the conditions' reason."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def parse_spec(model: type[M], raw: Mapping | None) -> M:
    """A resource's spec as its model; a SpecProblem ("InvalidSpec") naming the fields otherwise."""
    try:
        return model.model_validate(dict(raw or {}))
    except Exception as exc:  # pydantic.ValidationError names the fields
        raise SpecProblem("InvalidSpec", f"spec is invalid: {exc}") from exc


def owner_reference(name: str, uid: str, kind: Kind) -> dict:
    """The controller owner reference to the custom resource `name` of `kind`."""
    return {"apiVersion": kind.api_version, "kind": kind.kind, "name": name, "uid": uid,
            "controller": True, "blockOwnerDeletion": True}


def manifest_hash(manifest: Mapping) -> str:
    """A short hash of a child's manifest as the operator wants it (its desired-hash annotation)."""
    return hashlib.sha256(json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


class KeyedLocks:
    """One lock per key (an object's uid), made on first use."""

    def __init__(self) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def __call__(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())
