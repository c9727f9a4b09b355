"""Pure helpers for `status.conditions` (Ready, Progressing, Degraded) and phases.

Conditions follow metav1.Condition: one entry per type; `lastTransitionTime` changes only
when the status of that type changes, so re-reconciling an unchanged object writes the
same list and produces no status churn.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from ecc_workloads.timestamps import now_rfc3339  # noqa: F401  (re-exported)

from ecc_operator.api.common import Condition

ConditionStatus = Literal["True", "False", "Unknown"]

READY = "Ready"
PROGRESSING = "Progressing"
DEGRADED = "Degraded"
CONDITION_TYPES = (READY, PROGRESSING, DEGRADED)

MAX_MESSAGE = 4000
"""status.message and condition messages are cut to this (the CRD allows 4096 for message)."""


def clip(message: str, limit: int = MAX_MESSAGE) -> str:
    message = (message or "").strip()
    return message if len(message) <= limit else message[: limit - 3] + "..."


@dataclass(frozen=True)
class Observation:
    """What the controller concluded about one condition type."""

    type: str
    status: ConditionStatus
    reason: str
    message: str = ""


def _as_dict(c: Mapping | Condition) -> Mapping:
    return c if isinstance(c, Mapping) else c.to_k8s()


def as_models(conditions: Iterable[Mapping]) -> list[Condition]:
    """Conditions (camelCase dicts, as merge_conditions returns them) as the status models."""
    return [Condition.model_validate(c) for c in conditions]


def merge_conditions(
    existing: list[dict] | list[Condition] | None,
    observations: list[Observation],
    generation: int | None,
    now: str | None = None,
) -> list[dict]:
    """The new conditions list (camelCase dicts, sorted by type) given the old one.

    `lastTransitionTime` is kept from the existing entry when the status did not change.
    Types present in `existing` but not observed are kept as they were."""
    now = now or now_rfc3339()
    by_type = {c.get("type"): dict(c) for c in map(_as_dict, existing or []) if c.get("type")}
    for obs in observations:
        old = by_type.get(obs.type)
        changed = old is None or old.get("status") != obs.status
        entry = {
            "type": obs.type,
            "status": obs.status,
            "reason": obs.reason,
            "message": clip(obs.message),
            "lastTransitionTime": now if changed else old.get("lastTransitionTime", now),
        }
        if generation is not None:
            entry["observedGeneration"] = int(generation)
        by_type[obs.type] = entry
    return [by_type[t] for t in sorted(by_type)]


def settle(status, old, phase: str, message: str, observations: list[Observation], generation: int | None,
           now: str | None = None, replace: Iterable[Mapping] = ()) -> None:
    """Write a reconcile's outcome into a status model: phase, message (clipped) and conditions —
    `observations` merged with `old`'s (a type keeps its lastTransitionTime while its status stays),
    then `replace`, whole entries (camelCase) that take the place of their type's."""
    status.phase = phase
    status.message = clip(message)
    by_type = {c["type"]: c for c in merge_conditions(old.conditions, observations, generation, now=now)}
    by_type.update({c["type"]: c for c in replace})
    status.conditions = as_models(by_type[t] for t in sorted(by_type))


def condition(conditions: list[dict] | list[Condition] | None, ctype: str) -> Mapping | None:
    """The condition of type `ctype` (as a camelCase dict), or None."""
    for c in map(_as_dict, conditions or []):
        if c.get("type") == ctype:
            return c
    return None


def is_true(conditions: list[dict] | None, ctype: str) -> bool:
    c = condition(conditions, ctype)
    return bool(c and c.get("status") == "True")


def triple(
    ready: tuple[ConditionStatus, str, str],
    progressing: tuple[ConditionStatus, str, str],
    degraded: tuple[ConditionStatus, str, str],
) -> list[Observation]:
    """Ready, Progressing and Degraded observations from (status, reason, message) tuples."""
    return [
        Observation(READY, *ready),
        Observation(PROGRESSING, *progressing),
        Observation(DEGRADED, *degraded),
    ]


def same_status(old: dict | None, new: dict) -> bool:
    """True when applying `new` (a status patch) to `old` changes nothing, ignoring keys
    `new` does not mention."""
    old = old or {}
    return all(old.get(k) == v for k, v in new.items())
