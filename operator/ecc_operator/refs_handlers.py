"""Reference check of AdaptationPolicy.spec.fleetRef.

A periodic sweep (paginated lists, one status patch per object whose verdict changed)
rather than kopf handlers: kopf puts a finalizer on every object that has a timer, and these
resources need no cleanup yet. The AdaptationPolicy controller replaces this; EdgeFleet's
teacherRef is the fleet controller's (`fleet_handlers`, reason TeacherNotFound)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from ecc_operator import metrics
from ecc_operator.children import Kube
from ecc_operator.conditions import same_status
from ecc_operator.refs import reference_status
from ecc_operator.resources import ADAPTATION_POLICY, EDGE_FLEET, Kind

log = logging.getLogger(__name__)

CHECK_SECONDS = 5.0
PAGE = 500
CHECKS: tuple[tuple[Kind, Kind, str], ...] = (
    (ADAPTATION_POLICY, EDGE_FLEET, "fleetRef"),
)


@dataclass
class _Runtime:
    kube: Kube | None = None
    namespaces: tuple[str, ...] = ()
    """watched namespaces; empty: the whole cluster"""
    stop: threading.Event = field(default_factory=threading.Event)


RUNTIME = _Runtime()


def _list(kube: Kube, kind: Kind, namespace: str | None) -> list[dict]:
    out, token = [], None
    while True:
        kw = {"limit": PAGE, **({"_continue": token} if token else {})}
        if namespace:
            page = kube.custom.list_namespaced_custom_object(kind.group, kind.version, namespace, kind.plural, **kw)
        else:
            page = kube.custom.list_cluster_custom_object(kind.group, kind.version, kind.plural, **kw)
        out += page.get("items") or []
        token = (page.get("metadata") or {}).get("continue")
        if not token:
            return out


def sweep(kube: Kube, namespaces: tuple[str, ...]) -> int:
    """Check every reference once; returns the number of status patches written."""
    written = 0
    for kind, ref_kind, ref_field in CHECKS:
        with metrics.reconcile_timer(kind.kind):
            for ns in namespaces or (None,):
                targets = {(o["metadata"]["namespace"], o["metadata"]["name"]) for o in _list(kube, ref_kind, ns)}
                for obj in _list(kube, kind, ns):
                    meta = obj["metadata"]
                    if meta.get("deletionTimestamp"):
                        continue
                    ref_name = ((obj.get("spec") or {}).get(ref_field) or {}).get("name", "")
                    old = dict(obj.get("status") or {})
                    patch = reference_status(kind.kind, ref_kind.kind, ref_name,
                                             (meta["namespace"], ref_name) in targets, old,
                                             int(meta.get("generation") or 0))
                    if patch is not None and not same_status(old, patch):
                        kube.patch_status(kind.group, kind.version, kind.plural, meta["namespace"], meta["name"],
                                          patch)
                        written += 1
                        log.info(f"{kind.kind} {meta['namespace']}/{meta['name']}: {patch['message']}")
    return written


def run_forever() -> None:
    while not RUNTIME.stop.wait(CHECK_SECONDS):
        try:
            sweep(RUNTIME.kube, RUNTIME.namespaces)
        except Exception as exc:  # noqa: BLE001 - the next sweep retries
            log.warning(f"reference sweep failed: {type(exc).__name__}: {exc}")


def start() -> threading.Thread:
    thread = threading.Thread(target=run_forever, name="ecc-reference-sweep", daemon=True)
    thread.start()
    return thread
