"""Condition helpers: one entry per type, transition times only move on status changes."""

from __future__ import annotations

from ecc_operator import conditions as c


def test_new_conditions_get_the_time_and_generation_sorted_by_type():
    out = c.merge_conditions(None, c.triple(("True", "A", "a"), ("False", "B", "b"), ("False", "C", "")), 3,
                             now="2026-01-01T00:00:00Z")
    assert [x["type"] for x in out] == ["Degraded", "Progressing", "Ready"]
    assert all(x["lastTransitionTime"] == "2026-01-01T00:00:00Z" and x["observedGeneration"] == 3 for x in out)
    assert c.is_true(out, c.READY) and not c.is_true(out, c.DEGRADED)


def test_transition_time_kept_when_status_unchanged_and_moved_when_changed():
    first = c.merge_conditions(None, [c.Observation(c.READY, "False", "NoRevisionYet", "x")], 1, now="T1")
    same = c.merge_conditions(first, [c.Observation(c.READY, "False", "OtherReason", "y")], 2, now="T2")
    assert same[0]["lastTransitionTime"] == "T1"
    assert same[0]["reason"] == "OtherReason" and same[0]["observedGeneration"] == 2
    flipped = c.merge_conditions(same, [c.Observation(c.READY, "True", "RevisionPublished", "z")], 2, now="T3")
    assert flipped[0]["lastTransitionTime"] == "T3"


def test_unobserved_types_are_kept_and_long_messages_clipped():
    first = c.merge_conditions(None, [c.Observation("Custom", "True", "Why", "m")], 1, now="T1")
    out = c.merge_conditions(first, [c.Observation(c.READY, "True", "R", "x" * 10_000)], 1, now="T2")
    assert {x["type"] for x in out} == {"Custom", c.READY}
    ready = c.condition(out, c.READY)
    assert len(ready["message"]) == c.MAX_MESSAGE and ready["message"].endswith("...")


def test_same_status_ignores_keys_the_patch_does_not_mention():
    assert c.same_status({"phase": "Ready", "revision": 1, "extra": 5}, {"phase": "Ready", "revision": 1})
    assert not c.same_status({"phase": "Ready"}, {"phase": "Degraded"})
    assert c.same_status(None, {"servingURL": None})

