"""The base of every model that appears in a CustomResourceDefinition or in a Job spec.

`CRDModel` speaks camelCase on the wire and forbids unknown fields; a cross-field `Rule`
carries the CEL expression the API server enforces *and* the same check in Python, so a
value the API server accepts passes the model and vice versa. It lives beside the contracts
(not in the operator) because the settings a resource hands to its Jobs — cleaning, splits,
students, training — are the same models on both sides of that boundary
(`contracts.CorpusPrepareJob`, `contracts.DistillJob`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel, to_snake

FLOAT_SLACK = 1e-9
"""Rounding allowed where fractions are summed (CEL and Python alike)."""


# ---------------------------------------------------------------------------
# Cross-field rules: CEL for the API server, the same check in Python
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """One `x-kubernetes-validations` entry on the model it is declared on.

    `check` is the same rule in Python (given the model instance); `field_path` (relative to
    the object, e.g. ``.splits``) makes the API server's error name the offending field."""

    cel: str
    message: str
    check: Callable[[Any], bool]
    field_path: str | None = None
    reason: Literal["FieldValueInvalid", "FieldValueForbidden", "FieldValueRequired"] | None = None
    """FieldValueDuplicate is left out on purpose: the API server drops the message for it."""
    transition: bool = False
    """A transition rule (uses oldSelf): checked by the API server on update only."""

    def as_k8s(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.cel, "message": self.message}
        if self.field_path:
            out["fieldPath"] = self.field_path
        if self.reason:
            out["reason"] = self.reason
        return out


def _add_rules(schema: dict[str, Any], cls: type) -> None:
    rules = getattr(cls, "cel_rules", ())
    if rules:
        schema["x-kubernetes-validations"] = [r.as_k8s() for r in rules]


class CRDModel(BaseModel):
    """Base of every model that appears in a CRD: camelCase on the wire, no unknown fields,
    and the Python twin of each CEL rule checked on validation."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        json_schema_extra=_add_rules,
    )
    cel_rules: ClassVar[tuple[Rule, ...]] = ()

    @model_validator(mode="after")
    def _check_rules(self):
        for name, info in type(self).model_fields.items():
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            items = getattr(self, name)
            if not items or extra.get("x-kubernetes-list-type") not in ("set", "map"):
                continue
            keys = extra.get("x-kubernetes-list-map-keys")
            seen = [tuple(getattr(i, to_snake(k)) for k in keys) if keys else i for i in items]
            if len(set(seen)) != len(seen):
                what = "keys " + "/".join(keys) if keys else "values"
                raise ValueError(f"{info.alias or name}: duplicate {what}")
        for rule in type(self).cel_rules:
            if not rule.transition and not rule.check(self):
                where = f"{rule.field_path.lstrip('.')}: " if rule.field_path else ""
                raise ValueError(f"{where}{rule.message}")
        return self

    def to_k8s(self) -> dict[str, Any]:
        """The resource's dict form: camelCase, unset optional fields left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def sub(model: type[CRDModel], description: str) -> Any:
    """A nested object field that may be left out: it defaults to the model's defaults.

    The schema default is the fully defaulted object (not `{}`): the API server checks
    CEL rules against a default as written, without filling nested defaults first."""
    return Field(default_factory=model, description=description,
                 json_schema_extra={"default": model().to_k8s()})


def set_list(**extra: Any) -> dict[str, Any]:
    return {"x-kubernetes-list-type": "set", **extra}


def field_defaults(model: type[BaseModel]) -> dict[str, Any]:
    """field name -> default of `model` (the defaults a command's options take from a spec)."""
    return {name: info.default for name, info in model.model_fields.items()}


def describe(err: ValidationError) -> str:
    """A pydantic ValidationError as one line: each wrong field's dotted path and what it allows."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in err.errors())
