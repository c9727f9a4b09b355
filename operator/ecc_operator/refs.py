"""Pure reference checks: an EdgeFleet's teacherRef and an AdaptationPolicy's fleetRef.

Until the fleet and policy controllers (part 2) own these resources' status, the operator
only says when a reference points nowhere (Degraded, reason TeacherNotFound/FleetNotFound)
and clears that verdict once the referenced object exists (Pending, reason ReferenceFound).
Any other status written by a later controller is left alone."""

from __future__ import annotations

from ecc_operator import conditions as cond

MISSING_REASONS = ("TeacherNotFound", "FleetNotFound")


def reference_status(kind: str, ref_kind: str, ref_name: str, exists: bool, old_status: dict | None,
                     generation: int) -> dict | None:
    """The status patch to write, or None when nothing is to be said."""
    old = old_status or {}
    reason = "TeacherNotFound" if ref_kind == "CloudTeacher" else "FleetNotFound"
    degraded = cond.condition(old.get("conditions"), cond.DEGRADED) or {}
    if not exists:
        msg = f"{ref_kind} {ref_name!r} (spec.{'teacherRef' if ref_kind == 'CloudTeacher' else 'fleetRef'}) " \
              f"does not exist in this namespace"
        obs = cond.triple(("False", reason, msg), ("False", reason, msg), ("True", reason, msg))
        return {"phase": "Degraded", "message": msg, "observedGeneration": generation,
                "conditions": cond.merge_conditions(old.get("conditions"), obs, generation)}
    if degraded.get("reason") in MISSING_REASONS or not old.get("phase"):
        msg = f"{ref_kind} {ref_name!r} found; waiting for the {kind} controller"
        obs = cond.triple(("False", "ReferenceFound", msg), ("True", "ReferenceFound", msg),
                          ("False", "ReferenceFound", msg))
        return {"phase": "Pending", "message": msg, "observedGeneration": generation,
                "conditions": cond.merge_conditions(old.get("conditions"), obs, generation)}
    return None
