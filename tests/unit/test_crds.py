"""The CRDs: crds/ is current, the schemas are structural and fully documented, status.revision
is an integer, status.phase a documented enum; the pydantic → structural converter; the models
and the schemas agree (aliases, defaults, rule field paths, printer columns)."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
import yaml
from pydantic import BaseModel, Field, ValidationError

from ecc_operator.gen import crdgen
from ecc_operator.api import KINDS
from ecc_operator.api.cloudteacher import (
    Bundle,
    CLOUD_TEACHER,
    CLOUD_TEACHER_PHASES,
    CloudTeacherSpec,
    CloudTeacherStatus,
)
from ecc_operator.api.common import Kind, ResourceRequirements
from ecc_operator.api.edgefleet import EDGE_FLEET, EdgeFleetSpec, PrivacySpec, RolloutSpec
from ecc_workloads.contracts import StudentProfile
from ecc_workloads.crd_model import CRDModel

REPO_ROOT = Path(__file__).resolve().parents[2]
CRD_DIR = REPO_ROOT / "crds"


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _crd_files() -> dict[str, dict]:
    return {p.name: copy.deepcopy(doc) for p, doc in _loaded().items()}


@functools.cache
def _loaded() -> dict[Path, dict]:
    return {p: yaml.load(p.read_text(), Loader=_Loader) for p in sorted(CRD_DIR.glob("*.yaml"))}


def _schema_on_disk(kind: Kind) -> dict:
    doc = _crd_files()[f"{kind.group}_{kind.plural}.yaml"]
    (version,) = doc["spec"]["versions"]
    return version["schema"]["openAPIV3Schema"]


# ---------------------------------------------------------------------------
# crds/ is current and complete
# ---------------------------------------------------------------------------
def test_crds_dir_is_current():
    stale = crdgen.stale_files(REPO_ROOT)
    assert not stale, f"out of date: {', '.join(map(str, stale))} — run `python -m ecc_operator.gen.crdgen`"


def test_crds_dir_holds_every_crd_the_operator_needs():
    names = {doc["metadata"]["name"] for doc in _crd_files().values()}
    assert names == {"cloudteachers.ecc.dev", "edgefleets.ecc.dev", "adaptationpolicies.ecc.dev",
                     "kopfpeerings.kopf.dev", "clusterkopfpeerings.kopf.dev"}
    for doc in _crd_files().values():
        assert doc["apiVersion"] == "apiextensions.k8s.io/v1" and doc["kind"] == "CustomResourceDefinition"


def test_check_mode_fails_when_stale_and_passes_when_current(tmp_path, capsys):
    assert crdgen.main(["--root", str(tmp_path)]) == 0
    assert crdgen.main(["--check", "--root", str(tmp_path)]) == 0
    target = tmp_path / "crds" / "ecc.dev_cloudteachers.yaml"
    target.write_text(target.read_text().replace("maxItems: 16", "maxItems: 17", 1))
    assert crdgen.main(["--check", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "crds/ecc.dev_cloudteachers.yaml" in err and "run `python -m ecc_operator.gen.crdgen`" in err
    (tmp_path / "crds" / "stray.yaml").write_text("kind: Nothing\n")
    assert crdgen.main(["--root", str(tmp_path)]) == 0
    assert crdgen.main(["--check", "--root", str(tmp_path)]) == 1, "a stray file in crds/ must be reported"


# ---------------------------------------------------------------------------
# Structural, documented (walked independently of crdgen's own checker)
# ---------------------------------------------------------------------------
def _walk(node: dict, path: str, out: list[str], *, is_field: bool = True) -> None:
    for forbidden in ("$ref", "$defs", "allOf", "oneOf", "not", "title", "nullable"):
        if forbidden in node:
            out.append(f"{path}: has {forbidden}")
    if "anyOf" in node:
        out.append(f"{path}: has anyOf")
    if is_field and path != "metadata" and not str(node.get("description", "")).strip():
        out.append(f"{path}: no description")
    t = node.get("type")
    if t is None and not node.get("x-kubernetes-int-or-string") and not node.get("x-kubernetes-preserve-unknown-fields"):
        out.append(f"{path}: no type")
    if t == "object":
        if not ("properties" in node or "additionalProperties" in node
                or node.get("x-kubernetes-preserve-unknown-fields")):
            out.append(f"{path}: object without properties or preserve-unknown-fields")
        if node.get("x-kubernetes-preserve-unknown-fields") and path != "status":
            out.append(f"{path}: preserve-unknown-fields (not needed in our kinds)")
        for req in node.get("required", []):
            if req not in node.get("properties", {}):
                out.append(f"{path}: required {req} is not a property")
        if path != "metadata":
            for name, sub in node.get("properties", {}).items():
                _walk(sub, f"{path}.{name}" if path else name, out)
        if isinstance(node.get("additionalProperties"), dict):
            _walk(node["additionalProperties"], f"{path}[*]", out, is_field=False)
    if t == "array":
        if "items" not in node:
            out.append(f"{path}: array without items")
        else:
            _walk(node["items"], f"{path}[*]", out, is_field=False)
    if node.get("exclusiveMinimum") not in (None, True, False) or node.get("exclusiveMaximum") not in (None, True, False):
        out.append(f"{path}: draft-2020 numeric exclusive bound (OpenAPI v3 wants a boolean)")


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.kind)
def test_schema_is_structural_and_every_field_documented(kind):
    problems: list[str] = []
    _walk(_schema_on_disk(kind), "", problems)
    assert not problems, "\n".join(problems)


def test_crdgen_checker_agrees_on_a_bad_schema():
    bad = {"type": "object", "description": "x", "properties": {
        "a": {"type": "object"}, "b": {"type": "string"}, "c": {"anyOf": [{"type": "string"}, {"type": "integer"}],
                                                               "description": "c"}}}
    problems = crdgen.structural_problems(bad)
    assert any(".a: object without" in p for p in problems)
    assert any(".b: no description" in p for p in problems)
    assert any(".c: anyOf" in p for p in problems)


def test_kopf_peering_crds_preserve_only_status():
    for name in ("kopf.dev_kopfpeerings.yaml", "kopf.dev_clusterkopfpeerings.yaml"):
        doc = _crd_files()[name]
        schema = doc["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        assert schema["properties"]["status"]["x-kubernetes-preserve-unknown-fields"] is True
        assert "subresources" not in doc["spec"]["versions"][0], "kopf patches status on the main resource"
    assert _crd_files()["kopf.dev_clusterkopfpeerings.yaml"]["spec"]["scope"] == "Cluster"
    assert _crd_files()["kopf.dev_kopfpeerings.yaml"]["spec"]["scope"] == "Namespaced"


# ---------------------------------------------------------------------------
# status.revision, status.phase, names, columns
# ---------------------------------------------------------------------------
def test_cloudteacher_status_revision_is_a_non_negative_integer():
    rev = _schema_on_disk(CLOUD_TEACHER)["properties"]["status"]["properties"]["revision"]
    assert rev["type"] == "integer" and rev["minimum"] == 0
    ef = _schema_on_disk(EDGE_FLEET)["properties"]["status"]["properties"]["targetRevision"]
    assert ef["type"] == "integer"


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.kind)
def test_status_phase_is_an_enum_of_the_documented_set(kind):
    phase = _schema_on_disk(kind)["properties"]["status"]["properties"]["phase"]
    assert phase["type"] == "string"
    assert phase["enum"] == list(kind.phases)
    for name, meaning in kind.phases.items():
        assert f"{name}: {meaning}" in phase["description"]
    doc = (REPO_ROOT / "docs" / "crd-reference.md").read_text()
    for name, meaning in kind.phases.items():
        assert f"**{name}** — {meaning}" in doc


def test_cloudteacher_phases_are_the_designed_ones():
    assert list(CLOUD_TEACHER_PHASES) == ["Pending", "Distilling", "Publishing", "Ready", "Degraded", "Deleting"]


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.kind)
def test_names_status_subresource_and_category(kind):
    doc = _crd_files()[f"{kind.group}_{kind.plural}.yaml"]
    assert doc["spec"]["group"] == "ecc.dev" and doc["spec"]["scope"] == "Namespaced"
    (version,) = doc["spec"]["versions"]
    assert version["name"] == "v1alpha1" and version["served"] and version["storage"]
    assert version["subresources"] == {"status": {}}
    assert "ecc" in doc["spec"]["names"]["categories"]
    assert doc["spec"]["names"]["shortNames"] == list(kind.short_names)
    assert "spec" in version["schema"]["openAPIV3Schema"]["required"]


def test_short_names_are_distinct():
    shorts = [s for k in KINDS for s in k.short_names]
    assert sorted(shorts) == ["ap", "ct", "ef"]


def _resolve(schema: dict, json_path: str) -> dict | None:
    node = schema
    for part in json_path.strip(".").split("."):
        node = node.get("properties", {}).get(part) if node.get("type") == "object" else None
        if node is None:
            return None
    return node


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.kind)
def test_printer_columns_point_at_fields_of_the_right_type(kind):
    schema = _schema_on_disk(kind)
    names = [c.name for c in kind.columns]
    assert names[0] == "Phase" and names[-1] == "Age"
    for col in kind.columns:
        if col.json_path == ".metadata.creationTimestamp":
            continue
        target = _resolve(schema, col.json_path)
        assert target is not None, f"{kind.kind} column {col.name}: {col.json_path} is not in the schema"
        assert target["type"] == col.type, f"{kind.kind} column {col.name}: {target['type']} != {col.type}"


def test_edgefleet_columns_show_ready_total_and_drift():
    paths = {c.json_path for c in EDGE_FLEET.columns if c.priority == 0}
    assert {".status.nodes.ready", ".status.nodes.matched", ".status.driftScore", ".status.targetRevision"} <= paths


# ---------------------------------------------------------------------------
# CEL rules: declared next to the models, pointing at real fields
# ---------------------------------------------------------------------------
def _models() -> set[type[CRDModel]]:
    seen: set[type] = set()

    def visit(model: type) -> None:
        if model in seen:
            return
        seen.add(model)
        for info in model.model_fields.values():
            for arg in _types_in(info.annotation):
                if isinstance(arg, type) and issubclass(arg, CRDModel):
                    visit(arg)

    for k in KINDS:
        visit(k.spec)
        visit(k.status)
    return seen


def _types_in(annotation: Any) -> list[Any]:
    args = getattr(annotation, "__args__", None)
    if not args:
        return [annotation]
    return [t for a in args for t in _types_in(a)]


def test_every_rule_names_a_field_of_its_model():
    count = 0
    for model in _models():
        aliases = {info.alias or name for name, info in model.model_fields.items()}
        for rule in model.cel_rules:
            count += 1
            assert rule.field_path, f"{model.__name__}: rule {rule.message!r} has no fieldPath"
            assert rule.field_path.lstrip(".").split(".")[0] in aliases, (model.__name__, rule.field_path)
    assert count >= 15, count


def test_rules_appear_in_the_crds():
    rules_on_disk = []

    def collect(node):
        if isinstance(node, dict):
            rules_on_disk.extend(v["rule"] for v in node.get("x-kubernetes-validations", []))
            for v in node.values():
                collect(v)
        elif isinstance(node, list):
            for v in node:
                collect(v)

    for k in KINDS:
        collect(_schema_on_disk(k))
    declared = {rule.cel for m in _models() for rule in m.cel_rules}
    assert declared <= set(rules_on_disk)


# ---------------------------------------------------------------------------
# The models parse custom resources (camelCase) and agree with the schema's defaults
# ---------------------------------------------------------------------------
def _apply_defaults(schema: dict, value: Any) -> Any:
    """What the API server does with defaults: fill missing properties that have a default,
    recursively (into given objects and into the defaults themselves)."""
    if schema.get("type") == "object" and isinstance(value, dict):
        out = dict(value)
        for name, sub in schema.get("properties", {}).items():
            if name not in out and "default" in sub:
                out[name] = sub["default"]
            if name in out:
                out[name] = _apply_defaults(sub, out[name])
        if isinstance(schema.get("additionalProperties"), dict):
            out = {k: _apply_defaults(schema["additionalProperties"], v) for k, v in out.items()}
        return out
    if schema.get("type") == "array" and isinstance(value, list):
        return [_apply_defaults(schema["items"], v) for v in value]
    return value


MINIMAL_SPECS = {
    "CloudTeacher": {"students": [{"profile": "s", "blocks": [0, 1]}]},
    "EdgeFleet": {"teacherRef": {"name": "t"}, "tiers": [{"name": "all", "profile": "s"}]},
    "AdaptationPolicy": {"fleetRef": {"name": "f"}},
}


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.kind)
def test_schema_defaults_equal_model_defaults(kind):
    spec_schema = _schema_on_disk(kind)["properties"]["spec"]
    minimal = MINIMAL_SPECS[kind.kind]
    by_server = _apply_defaults(spec_schema, minimal)
    by_models = kind.spec.model_validate(minimal).to_k8s()
    assert by_server == by_models


def test_spec_parses_camel_case_and_dumps_it_back():
    body = {"students": [{"profile": "edge-small", "blocks": [0, 1], "maxLatencyMs": 20, "pruneVocabulary": True}],
            "corpus": {"uri": "bitext", "cleaning": {"scrubPII": False}, "maxRows": 100}}
    spec = CloudTeacherSpec.model_validate(body)
    assert spec.students[0].max_latency_ms == 20 and spec.students[0].prune_vocabulary
    assert spec.corpus.cleaning.scrub_pii is False and spec.corpus.max_rows == 100
    out = spec.to_k8s()
    assert out["corpus"]["cleaning"]["scrubPII"] is False
    assert out["students"][0]["maxLatencyMs"] == 20
    assert "labels" not in out["model"], "unset optional fields are left out, never null"
    assert CloudTeacherSpec.model_validate(out) == spec
    # Python code may use snake_case names too
    assert StudentProfile(profile="x", blocks=[0], max_bytes=10).to_k8s()["maxBytes"] == 10


def test_status_dumps_camel_case_with_exact_aliases():
    st = CloudTeacherStatus(phase="Ready", revision=2, serving_url="http://t:8080",
                              bundles=[Bundle(profile="p", manifest_uri="s3://b/k", sha256="a" * 64, bytes=1)])
    out = st.to_k8s()
    assert out == {"phase": "Ready", "revision": 2, "servingURL": "http://t:8080",
                   "bundles": [{"profile": "p", "manifestURI": "s3://b/k", "sha256": "a" * 64, "bytes": 1}]}


@pytest.mark.parametrize("body, says", [
    ({"students": [{"profile": "a", "blocks": [1, 0]}]}, "ascending"),
    ({"students": [{"profile": "a", "blocks": [0, 0]}]}, "duplicate"),
    ({"students": [{"profile": "a", "blocks": [0]}, {"profile": "a", "blocks": [1]}]}, "unique"),
    ({"students": [{"profile": "a", "blocks": [0]}], "corpus": {"splits": {"train": 0.9, "test": 0.2}}}, "exceed 1"),
    ({"students": [{"profile": "a", "blocks": [0]}], "unknownField": 1}, "unknownField"),
])
def test_models_enforce_the_rules_with_the_field_named(body, says):
    with pytest.raises(ValidationError) as err:
        CloudTeacherSpec.model_validate(body)
    assert says in str(err.value)


MINIMAL_FLEET = {"teacherRef": {"name": "t"}, "tiers": [{"name": "all", "profile": "s"}]}


def test_upload_bits_are_accepted_from_2_to_8_and_default_to_the_operators_choice():
    spec = EdgeFleetSpec.model_validate({**MINIMAL_FLEET, "privacy": {"uploadBits": 4, "uploadHeadBits": 6}})
    assert (spec.privacy.upload_bits, spec.privacy.upload_head_bits, spec.privacy.quantize_uploads) == (4, 6, True)
    assert spec.to_k8s()["privacy"]["uploadBits"] == 4 and spec.to_k8s()["privacy"]["uploadHeadBits"] == 6
    default = EdgeFleetSpec.model_validate(MINIMAL_FLEET).privacy
    assert (default.upload_bits, default.upload_head_bits, default.upload_head_rank) == (None, None, 8)
    assert not {"uploadBits", "uploadHeadBits"} & set(EdgeFleetSpec.model_validate(MINIMAL_FLEET).to_k8s()["privacy"])
    for bits in (2, 8):
        assert EdgeFleetSpec.model_validate({**MINIMAL_FLEET, "privacy": {"uploadBits": bits}}).privacy.upload_bits == bits


@pytest.mark.parametrize("privacy, field", [
    ({"uploadBits": 1}, "privacy.uploadBits"),
    ({"uploadBits": 9}, "privacy.uploadBits"),
    ({"uploadHeadBits": 1}, "privacy.uploadHeadBits"),
    ({"uploadHeadBits": 9}, "privacy.uploadHeadBits"),
])
def test_upload_bits_out_of_range_are_refused_naming_the_field(privacy, field):
    with pytest.raises(ValidationError) as err:
        EdgeFleetSpec.model_validate({**MINIMAL_FLEET, "privacy": privacy})
    assert field in str(err.value)


@pytest.mark.parametrize("privacy", [
    {"uploadBits": 4, "quantizeUploads": False},
    {"uploadBits": 8, "uploadHeadBits": 4, "quantizeUploads": False},
    {"uploadHeadBits": 8, "quantizeUploads": False},
])
def test_fewer_upload_bits_need_quantize_uploads(privacy):
    with pytest.raises(ValidationError) as err:
        EdgeFleetSpec.model_validate({**MINIMAL_FLEET, "privacy": privacy})
    text = str(err.value)
    assert "quantizeUploads: uploadBits below 8 and uploadHeadBits need quantizeUploads" in text, text
    # plain int8 off is still allowed (the default bits do not get in its way), and so are fewer bits with int8 on
    for off in ({"quantizeUploads": False}, {"quantizeUploads": False, "uploadBits": 8}):
        assert not EdgeFleetSpec.model_validate({**MINIMAL_FLEET, "privacy": off}).privacy.quantize_uploads
    assert PrivacySpec.model_validate({**privacy, "quantizeUploads": True}).quantize_uploads


def test_quantity_comparison_used_by_the_limits_rule():
    # kubernetes' own parser (exact decimals): every quantity the CRD's pattern admits compares
    tiny = ResourceRequirements.model_validate({"requests": {"cpu": "999m"}, "limits": {"cpu": "1"}})
    assert tiny.limits["cpu"] == "1"
    with pytest.raises(ValidationError, match="at least the request"):
        ResourceRequirements.model_validate({"requests": {"cpu": "1001m"}, "limits": {"cpu": "1"}})
    assert ResourceRequirements.model_validate({"requests": {"memory": "1e3"}, "limits": {"memory": "1k"}})
    ok = ResourceRequirements.model_validate({"requests": {"cpu": "500m", "memory": "1Gi"},
                                                "limits": {"cpu": 1, "memory": "1024Mi"}})
    assert ok.limits["cpu"] == 1
    with pytest.raises(ValidationError, match="at least the request"):
        ResourceRequirements.model_validate({"requests": {"memory": "2Gi"}, "limits": {"memory": "1Gi"}})


def test_percent_or_count_fields():
    assert RolloutSpec.model_validate({"maxUnavailable": 3}).max_unavailable == 3
    assert RolloutSpec.model_validate({"maxUnavailable": "100%"}).max_unavailable == "100%"
    for bad in ("101%", "x", -1):
        with pytest.raises(ValidationError):
            RolloutSpec.model_validate({"maxUnavailable": bad})


# ---------------------------------------------------------------------------
# The converter, on small models
# ---------------------------------------------------------------------------
class _Inner(BaseModel):
    """Inner thing."""

    n: int = Field(3, ge=1, description="a count")


class _Outer(BaseModel):
    """Outer thing."""

    name: str = Field(description="a name", pattern="^[a-z]+$")
    maybe: int | None = Field(None, gt=0, description="optional, positive")
    either: Annotated[int, Field(ge=0)] | Annotated[str, Field(pattern="^[0-9]+%$")] = Field(
        "5%", description="count or percent")
    mode: Literal["a", "b"] = Field("a", description="a mode")
    fixed: Literal["only"] = Field("only", description="a constant")
    inner: _Inner = Field(default_factory=_Inner, description="the inner one")
    inner_opt: _Inner | None = Field(None, description="an optional inner one")
    many: list[_Inner] = Field(default_factory=list, description="inners")
    tags: dict[str, str] = Field(default_factory=dict, description="tags")


def test_converter_inlines_refs_and_drops_null_unions():
    s = crdgen.structural(_Outer.model_json_schema(by_alias=True))
    assert s["type"] == "object" and s["description"] == "Outer thing."
    assert s["required"] == ["name"]
    p = s["properties"]
    assert p["maybe"] == {"description": "optional, positive", "type": "integer", "minimum": 0, "exclusiveMinimum": True}
    assert p["inner"]["type"] == "object" and p["inner"]["description"] == "the inner one"
    assert p["inner"]["properties"]["n"] == {"description": "a count", "type": "integer", "default": 3, "minimum": 1}
    assert p["inner_opt"]["properties"]["n"]["default"] == 3 and "default" not in p["inner_opt"]
    assert p["many"]["items"]["description"] == "Inner thing."
    assert p["tags"]["additionalProperties"] == {"type": "string"}
    assert p["mode"]["enum"] == ["a", "b"] and p["fixed"]["enum"] == ["only"]
    assert p["either"] == {"description": "count or percent", "x-kubernetes-int-or-string": True, "default": "5%",
                           "minimum": 0, "pattern": "^[0-9]+%$"}
    assert crdgen.structural_problems(s) == []
    text = yaml.safe_dump(s)
    for forbidden in ("$ref", "anyOf", "null", "title"):
        assert forbidden not in text


def test_converter_refuses_what_has_no_structural_form():
    class Union(BaseModel):
        x: int | list[int] = Field(description="bad")

    class Extra(BaseModel):
        x: str = Field(description="x", json_schema_extra={"examples": ["a"]})

    with pytest.raises(crdgen.SchemaError, match=r"\.x: union"):
        crdgen.structural(Union.model_json_schema())
    with pytest.raises(crdgen.SchemaError, match="examples"):
        crdgen.structural(Extra.model_json_schema())


def test_reference_doc_lists_every_spec_field_and_rule():
    doc = (REPO_ROOT / "docs" / "crd-reference.md").read_text()

    def fields(node: dict, path: str):
        for name, sub in node.get("properties", {}).items():
            yield f"{path}.{name}"
            target = sub["items"] if sub.get("type") == "array" else sub
            suffix = "[*]" if sub.get("type") == "array" else ""
            if target.get("type") == "object":
                yield from fields(target, f"{path}.{name}{suffix}")

    for k in KINDS:
        schema = _schema_on_disk(k)
        for part in ("spec", "status"):
            for path in fields(schema["properties"][part], part):
                assert f"`{path}`" in doc, f"{k.kind}: {path} missing from docs/crd-reference.md"
    for m in _models():
        for rule in m.cel_rules:
            assert rule.message in doc


def test_generated_text_is_deterministic():
    assert crdgen.render() == crdgen.render()
