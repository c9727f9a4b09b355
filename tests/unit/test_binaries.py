"""ecc_devcluster.binaries: cache keys, version stamping, build caching and the real binaries.

The tests against the real control-plane binaries need them built (`make binaries`); when they
are absent the tests FAIL saying so. The cache-behaviour tests build a tiny Go module of their
own into a temporary cache, with the real `go`.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ecc_devcluster import binaries
from ecc_workloads.contracts import RuntimeEnv

# A real go.sum line: go ignores entries the module does not use, and the cache key only hashes.
GO_SUM_LINE = "github.com/pkg/errors v0.9.1/go.mod h1:bwawxfHBFNV+L2hUp1rHADufV3IMtnDRdf1r5NINEl0=\n"
HELLO_MAIN = """package main

import "fmt"

var version = "unset"

func main() { fmt.Println("hello version " + version) }
"""


def _hello_spec(module_dir: Path, go_mod_extra: str = "") -> binaries.ToolSpec:
    module_dir.mkdir(parents=True, exist_ok=True)
    (module_dir / "go.mod").write_text(f"module example.com/hello\n\ngo 1.24\n{go_mod_extra}")
    (module_dir / "go.sum").write_text(GO_SUM_LINE)
    (module_dir / "main.go").write_text(HELLO_MAIN)
    return binaries.ToolSpec(
        name="hello",
        module_dir=module_dir,
        packages=(".",),
        binaries=("hello",),
        version=lambda go_mod: "v1.2.3",
        x_flags=lambda go_mod, built_at: {"main.version": "v1.2.3"},
    )


@pytest.fixture
def temp_cache(tmp_path, monkeypatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv(RuntimeEnv.CACHE_DIR, str(cache))
    return cache


@pytest.fixture
def hello(tmp_path, temp_cache, monkeypatch) -> binaries.ToolSpec:
    spec = _hello_spec(tmp_path / "hello")
    monkeypatch.setitem(binaries.TOOLS, spec.name, spec)
    return spec


def _forbid_builds(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("ensure_binaries rebuilt something on a warm cache")

    monkeypatch.setattr(binaries, "_build_fresh", refuse)


def _real_binary(name: str) -> Path:
    try:
        return binaries.binary_path(name)
    except binaries.BinaryMissingError as error:
        pytest.fail(str(error))


# ---------------------------------------------------------------------------
# Pure functions
# ---------------------------------------------------------------------------
def test_cache_key_is_sha256_prefix_and_follows_go_sum():
    assert binaries.cache_key(b"") == "e3b0c44298fc1c14"
    assert binaries.cache_key(b"a v1 h1:x=\n") != binaries.cache_key(b"a v1 h1:y=\n")
    assert re.fullmatch(r"[0-9a-f]{16}", binaries.cache_key(GO_SUM_LINE.encode()))


def test_build_dir_changes_when_go_sum_changes(tmp_path, temp_cache):
    spec = _hello_spec(tmp_path / "hello")
    before = binaries.build_dir(spec)
    assert before.parent == temp_cache / "builds"
    assert before.name == "hello-" + binaries.cache_key(GO_SUM_LINE.encode())
    (spec.module_dir / "go.sum").write_text(GO_SUM_LINE + GO_SUM_LINE.replace("v0.9.1", "v0.9.0"))
    assert binaries.build_dir(spec) != before


def test_go_mod_reading_handles_blocks_single_lines_and_comments():
    go_mod = (
        "module x\n\ngo 1.25.0\n\nrequire k8s.io/kubernetes v1.35.4\n\n"
        "require (\n\tk8s.io/client-go v0.37.0 // indirect\n\tsigs.k8s.io/kwok v0.8.0\n)\n\n"
        "replace k8s.io/api => k8s.io/api v0.35.4\n"
        "replace (\n\tk8s.io/kubectl => k8s.io/kubectl v0.35.4\n\tfoo => ./local\n)\n"
    )
    assert binaries.required_version(go_mod, "k8s.io/kubernetes") == "v1.35.4"
    assert binaries.required_version(go_mod, "k8s.io/client-go") == "v0.37.0"
    assert binaries.required_version(go_mod, "sigs.k8s.io/kwok") == "v0.8.0"
    assert binaries.replaced_versions(go_mod) == {"k8s.io/api": "v0.35.4", "k8s.io/kubectl": "v0.35.4"}
    with pytest.raises(binaries.BinariesError, match="does not require helm.sh/helm/v3"):
        binaries.required_version(go_mod, "helm.sh/helm/v3")


def test_kubernetes_flags_come_from_go_mod_and_reject_a_mismatched_staging_module():
    go_mod = binaries.TOOLS["kubernetes"].read_go_mod()
    version = binaries.kubernetes_version(go_mod)
    flags = binaries.kubernetes_x_flags(go_mod, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        assert flags[f"{package}.gitVersion"] == version
        assert flags[f"{package}.gitMinor"] == version.split(".")[1]
        assert flags[f"{package}.buildDate"] == "2026-01-02T03:04:05Z"
    staging = binaries.staging_version(version)
    assert binaries.replaced_versions(go_mod)["k8s.io/client-go"] == staging
    broken = go_mod.replace(f"k8s.io/kubectl {staging}", "k8s.io/kubectl v0.34.0")
    with pytest.raises(binaries.BinariesError, match=r"k8s.io/kubectl.*v0\.34\.0"):
        binaries.kubernetes_x_flags(broken, datetime.now(UTC))


def test_minio_flags_follow_the_pseudo_version():
    go_mod = "module x\n\nrequire github.com/minio/minio v0.0.0-20260212201848-7aac2a2c5b7c\n"
    flags = binaries.minio_x_flags(go_mod, datetime.now(UTC))
    assert flags["github.com/minio/minio/cmd.Version"] == "2026-02-12T20:18:48Z"
    assert flags["github.com/minio/minio/cmd.ReleaseTag"] == "DEVELOPMENT.2026-02-12T20-18-48Z"
    assert flags["github.com/minio/minio/cmd.ShortCommitID"] == "7aac2a2c5b7c"
    with pytest.raises(binaries.BinariesError, match="not a pseudo-version"):
        binaries.minio_x_flags("require github.com/minio/minio v1.0.0\n", datetime.now(UTC))


def test_coredns_stamps_the_pinned_tag_as_git_commit():
    go_mod = binaries.TOOLS["coredns"].read_go_mod()
    version = binaries.coredns_version(go_mod)
    assert re.fullmatch(r"v1\.\d+\.\d+", version)
    assert binaries.coredns_x_flags(go_mod, datetime.now(UTC)) == {
        "github.com/coredns/coredns/coremain.GitCommit": version
    }


def test_node_binaries_and_static_tools_are_registered():
    kubernetes = binaries.TOOLS["kubernetes"]
    for name in ("kubelet", "kube-proxy"):
        assert f"k8s.io/kubernetes/cmd/{name}" in kubernetes.packages
        assert binaries.tool_for_binary(name) is kubernetes
    # kubelet and kube-proxy are built like the rest of Kubernetes: static, like every tool
    assert [spec.name for spec in binaries.TOOLS.values() if spec.cgo] == []
    assert binaries.TOOLS["coredns"].packages == ("github.com/coredns/coredns",)
    assert binaries.tool_for_binary("pause").module_dir == binaries.GOMODS_DIR / "pause"
    assert binaries.go_env({})["CGO_ENABLED"] == "0"
    assert binaries.go_env({}, cgo=True)["CGO_ENABLED"] == "1"


def test_pause_version_comes_from_its_main_go_which_is_part_of_its_cache_key(tmp_path, temp_cache):
    pause = binaries.TOOLS["pause"]
    source = (pause.module_dir / "main.go").read_text()
    assert f'const version = "{binaries.pause_version("")}"' in source
    # Most tools are keyed by go.sum alone; pause has no dependencies, so its code is hashed too.
    etcd = binaries.TOOLS["etcd"]
    assert binaries.build_dir(etcd).name == "etcd-" + binaries.cache_key(etcd.read_go_sum())
    copy = tmp_path / "pause"
    shutil.copytree(pause.module_dir, copy)
    spec = dataclasses.replace(pause, module_dir=copy)
    before = binaries.build_dir(spec)
    (copy / "main.go").write_text(source + "\n// changed\n")
    assert binaries.build_dir(spec) != before


def test_elf_interpreter_tells_static_from_dynamic(tmp_path):
    assert binaries.elf_interpreter(Path(__file__)) is None
    dynamic = Path(shutil.which("sh") or "/bin/sh").resolve()
    assert "ld" in (binaries.elf_interpreter(dynamic) or ""), f"{dynamic} should be dynamic"


def test_ldflags_refuse_values_with_spaces():
    assert binaries.ldflags({"a.b": "v1"}) == "-s -w -X a.b=v1"
    with pytest.raises(binaries.BinariesError, match="a.b"):
        binaries.ldflags({"a.b": "two words"})


def test_diagnosis_names_module_and_version():
    output = (
        "go: downloading example.com/fine v1.0.0\n"
        "go: example.com/gone@v9.9.9: reading https://proxy.golang.org/example.com/gone/@v/v9.9.9.info: 404 Not Found\n"
    )
    message = binaries.diagnose_go_failure(output)
    assert "example.com/gone v9.9.9" in message and "404 Not Found" in message
    proxy = "main.go:3:8: example.invalid/x@v1.4.2: reading https://proxy.golang.org/example.invalid/x/@v/v1.4.2.zip: 400 Bad Request"
    assert "example.invalid/x v1.4.2: reading" in binaries.diagnose_go_failure(proxy)
    too_old = "go: go.mod requires go >= 1.27.0 (running go 1.26.8; GOTOOLCHAIN=local)"
    assert "Go 1.26.8 is too old" in binaries.diagnose_go_failure(too_old)


def test_unknown_tool_and_binary_are_named_with_the_known_ones(temp_cache):
    with pytest.raises(binaries.UnknownToolError, match=r"'kubelet'.*coredns.*etcd.*kubernetes.*pause"):
        binaries.ensure_binaries(["kubelet"])
    with pytest.raises(binaries.UnknownToolError, match=r"'kubeadm'.*kube-apiserver.*kube-proxy.*kubelet"):
        binaries.binary_path("kubeadm")


def test_missing_go_says_how_to_install_it(hello, monkeypatch):
    monkeypatch.setenv("PATH", "")
    monkeypatch.setattr(binaries, "GO_FALLBACK_DIRS", ())
    with pytest.raises(binaries.GoNotFoundError, match=r"(?s)`go`.*not found.*install Go"):
        binaries.ensure_binaries(["hello"])


def test_cli_reports_unknown_tool():
    from typer.testing import CliRunner

    result = CliRunner().invoke(binaries.app, ["path", "kubeadm"])
    assert result.exit_code == 1
    assert "unknown binary 'kubeadm'" in result.output


# ---------------------------------------------------------------------------
# Cache behaviour, with a tiny real Go module
# ---------------------------------------------------------------------------
def test_build_links_stamps_and_records(hello, temp_cache):
    with pytest.raises(binaries.BinaryMissingError, match="make binaries"):
        binaries.binary_path("hello")
    bin_dir = binaries.ensure_binaries(["hello"])
    assert bin_dir == temp_cache / "bin"
    path = binaries.binary_path("hello")
    assert path == bin_dir / "hello"
    assert path.resolve().parent == binaries.build_dir(hello)
    out = subprocess.run([path], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "hello version v1.2.3"
    record = binaries.read_build_record(binaries.build_dir(hello))
    assert record is not None and record.version == "v1.2.3" and record.go_version.startswith("go")
    assert record.cgo is False and binaries.elf_interpreter(path) is None
    assert not list((temp_cache / "builds").glob(".tmp-*"))


def test_warm_cache_is_a_no_op_and_go_sum_change_rebuilds(hello, temp_cache, monkeypatch):
    binaries.ensure_binaries(["hello"])
    first = binaries.build_dir(hello)
    with monkeypatch.context() as patch:
        _forbid_builds(patch)
        binaries.ensure_binaries(["hello"])
    (hello.module_dir / "go.sum").write_text(GO_SUM_LINE + GO_SUM_LINE.replace("v0.9.1", "v0.9.0"))
    binaries.ensure_binaries(["hello"])
    second = binaries.build_dir(hello)
    assert second != first and second.is_dir()
    assert binaries.binary_path("hello").resolve().parent == second


def test_binary_path_refuses_a_link_to_an_outdated_build(hello):
    binaries.ensure_binaries(["hello"])
    (hello.module_dir / "go.sum").write_text(GO_SUM_LINE * 2)
    with pytest.raises(binaries.BinaryMissingError, match="current"):
        binaries.binary_path("hello")


def test_interrupted_build_leaves_no_cache_entry(hello, temp_cache, monkeypatch):
    def interrupted(spec, out_dir, *args):
        (out_dir / "hello").write_text("half a binary")
        raise KeyboardInterrupt

    monkeypatch.setattr(binaries, "_build_into", interrupted)
    with pytest.raises(KeyboardInterrupt):
        binaries.ensure_binaries(["hello"])
    builds = temp_cache / "builds"
    assert [p.name for p in builds.iterdir() if not p.name.endswith(".lock")] == []
    assert not (temp_cache / "bin" / "hello").exists()


def test_concurrent_callers_build_once(hello, monkeypatch):
    calls = []
    real = binaries._build_into

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(binaries, "_build_into", counting)
    errors = []

    def call():
        try:
            binaries.ensure_binaries(["hello"])
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []
    assert len(calls) == 1


def test_unavailable_module_is_named_with_its_version(tmp_path, temp_cache, monkeypatch):
    """A real `go` run that cannot fetch a module (the proxy switched off, so this stays offline)."""
    spec = _hello_spec(tmp_path / "needy", go_mod_extra="\nrequire example.invalid/nothere v1.4.2\n")
    (spec.module_dir / "main.go").write_text(
        'package main\n\nimport _ "example.invalid/nothere"\n\nfunc main() {}\n'
    )
    fake_hash = "h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    (spec.module_dir / "go.sum").write_text(
        f"example.invalid/nothere v1.4.2 {fake_hash}\nexample.invalid/nothere v1.4.2/go.mod {fake_hash}\n"
    )
    spec = dataclasses.replace(spec, name="needy", binaries=("needy",))
    monkeypatch.setitem(binaries.TOOLS, "needy", spec)
    monkeypatch.setenv("GOPROXY", "off")
    with pytest.raises(binaries.GoBuildError) as caught:
        binaries.ensure_binaries(["needy"])
    message = str(caught.value)
    assert "example.invalid/nothere v1.4.2" in message
    assert "lookup disabled by GOPROXY=off" in message
    assert "full log:" in message
    assert not (temp_cache / "bin" / "needy").exists()


# ---------------------------------------------------------------------------
# The real control-plane binaries (built by `make binaries`)
# ---------------------------------------------------------------------------
def _pinned(tool: str) -> str:
    spec = binaries.TOOLS[tool]
    return spec.version(spec.read_go_mod())


def _run(path: Path, *args: str) -> str:
    done = subprocess.run([path, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"{path} {' '.join(args)} failed: {done.stderr[-2000:]}"
    return done.stdout + done.stderr


@pytest.mark.parametrize(
    "name", ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy"]
)
def test_kubernetes_components_report_the_pinned_version(name):
    assert _run(_real_binary(name), "--version").strip() == f"Kubernetes {_pinned('kubernetes')}"


def test_kubectl_reports_the_pinned_version():
    assert f"Client Version: {_pinned('kubernetes')}" in _run(_real_binary("kubectl"), "version", "--client")


def test_etcd_reports_the_pinned_version():
    out = _run(_real_binary("etcd"), "--version")
    assert f"etcd Version: {_pinned('etcd').removeprefix('v')}" in out


def test_kwok_reports_the_pinned_version():
    assert _pinned("kwok") in _run(_real_binary("kwok"), "--version")


def test_helm_reports_the_pinned_version():
    assert f'Version:"{_pinned("helm")}"' in _run(_real_binary("helm"), "version")


def test_minio_reports_the_pinned_commit():
    go_mod = binaries.TOOLS["minio"].read_go_mod()
    when, commit = binaries.minio_release(go_mod)
    out = _run(_real_binary("minio"), "--version")
    assert f"DEVELOPMENT.{when:%Y-%m-%dT%H-%M-%SZ}" in out
    assert commit in out


def test_coredns_reports_the_pinned_version_and_is_static():
    version = _pinned("coredns")
    path = _real_binary("coredns")
    out = _run(path, "-version")
    assert f"CoreDNS-{version.removeprefix('v')}" in out
    assert out.rstrip().endswith(f", {version}")  # GitCommit, stamped by coredns_x_flags
    assert binaries.elf_interpreter(path.resolve()) is None


def _start_pause(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [*args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs
    )


def _stat(pid: int | str) -> tuple[str, int] | None:
    """(state, parent pid) of a process, None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return fields[0], int(fields[1])


def _children(parent: int) -> dict[int, str]:
    """{pid: state} of the processes whose parent is `parent`."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(entry.name)) and stat[1] == parent:
            found[int(entry.name)] = stat[0]
    return found


def _wait_for(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_pause_prints_its_version_and_is_static():
    path = _real_binary("pause")
    assert _run(path, "-v").startswith(f"pause {_pinned('pause')} ")
    assert binaries.elf_interpreter(path.resolve()) is None


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_pause_blocks_until_sigterm_or_sigint_then_exits_0(stop):
    proc = _start_pause(str(_real_binary("pause")))
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=0.5)
        proc.send_signal(stop)
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait()


def test_pause_reaps_its_exited_children():
    """`sh` starts a short child, then execs pause, which inherits the child: once the child
    exits it must not stay a zombie."""
    proc = _start_pause("sh", "-c", 'sleep 0.3 & echo $!; exec "$0"', str(_real_binary("pause")))
    try:
        assert proc.stdout is not None
        child = int(proc.stdout.readline())
        assert _wait_for(lambda: _stat(child) is None), f"pause left its exited child: {_stat(child)}"
        assert proc.poll() is None, "pause must keep running"
        proc.terminate()
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait()


def test_pause_as_pid_1_reaps_orphans_of_its_pid_namespace():
    """As in a pod: pause is PID 1 of a new PID namespace; a process entering the namespace
    leaves an orphan behind, which is re-parented to pause and must be reaped when it exits."""
    unshare, nsenter = shutil.which("unshare"), shutil.which("nsenter")
    if os.geteuid() != 0 or not unshare or not nsenter:
        pytest.fail("needs root and util-linux's unshare and nsenter to make a PID namespace "
                    "(run the tests as root on a machine set up by `make setup`)")
    proc = _start_pause(unshare, "--pid", "--fork", "--kill-child", str(_real_binary("pause")))
    try:
        assert _wait_for(lambda: _children(proc.pid)), "unshare did not start pause"
        (pause,) = _children(proc.pid)
        ns_pids = Path(f"/proc/{pause}/status").read_text().split("NSpid:")[1].split("\n")[0].split()
        assert ns_pids[-1] == "1", f"pause is not PID 1 of its namespace: NSpid {ns_pids}"
        # sh backgrounds a subshell and exits at once: the subshell is orphaned to pause
        subprocess.run(
            [nsenter, "-t", str(pause), "-p", "--", "sh", "-c", "(sleep 0.5) & exit 0"],
            check=True, timeout=10,
        )
        orphans = _children(pause)
        assert orphans and set(orphans.values()) <= {"S", "R", "Z"}, f"no orphan under pause: {orphans}"
        assert _wait_for(lambda: not _children(pause)), f"pause left zombies: {_children(pause)}"
        assert proc.poll() is None, "pause must keep running"
        os.kill(pause, signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait()


def test_ensure_is_a_no_op_when_everything_is_built(monkeypatch):
    for spec in binaries.TOOLS.values():
        for name in spec.binaries:
            _real_binary(name)
    _forbid_builds(monkeypatch)
    assert binaries.ensure_binaries() == binaries.bin_dir()
