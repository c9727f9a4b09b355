"""The process node agent's runner: real processes in private mount namespaces, no API server.

Needs root and util-linux (unshare, setpriv), as the agent does; a missing tool is a failure
saying how to get it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ecc_devcluster.nodeagent_network import ServiceEntry, hosts_file
from ecc_devcluster.nodeagent_plan import Mount, PodInputs, RuntimeContext, pod_plan
from ecc_devcluster.nodeagent_runner import (
    ContainerProcess,
    StartFailure,
    check_tools,
    materialise_volumes,
    mount_script,
    read_termination_file,
    start_container,
    write_in_place,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _tools():
    check_tools()  # raises with an apt-get hint if unshare/setpriv are missing or we are not root


def plan_for(tmp_path: Path, containers: list[dict], volumes=None, restart="Never", kept_paths=()):
    pod = {
        "metadata": {"name": "runner-test", "namespace": "team", "uid": "u-1", "labels": {"app": "t"}},
        "spec": {"nodeName": "ecc-cloud-0", "restartPolicy": restart, "containers": containers,
                 "volumes": volumes or []},
    }
    inputs = PodInputs(secrets={"creds": {"password": b"hunter2"}},
                       configmaps={"kube-root-ca.crt": {"ca.crt": b"CA-PEM"}},
                       tokens={"kube-api-access/token": "TOKEN"})
    ctx = RuntimeContext(node_name="ecc-cloud-0", pod_ip="127.100.9.9", pod_dir=str(tmp_path),
                         apiserver_port=6443, base_env={"PATH": os.environ["PATH"]}, kept_paths=kept_paths)
    plan = pod_plan(pod, inputs, ctx)
    materialise_volumes(plan, tmp_path)
    services = [ServiceEntry(namespace="team", name="web", address="127.200.0.9")]
    write_in_place(tmp_path / "hosts", hosts_file("runner-test", "127.100.9.9", "team", services).encode())
    return plan


def _alive(pid: int) -> bool:
    """Running (not gone, not a zombie waiting for init to reap it)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    state = next((line.split()[1] for line in status.splitlines() if line.startswith("State:")), "?")
    return state not in ("Z", "X")


def wait_exit(proc: ContainerProcess, timeout: float = 20) -> int:
    proc.popen.wait(timeout=timeout)
    return proc.exit_status()[0]


def test_container_sees_volumes_env_hosts_and_its_workdir(tmp_path):
    script = textwrap.dedent("""
        set -e
        echo "pw-env=$PW ip=$ECC_POD_IP threads=$OMP_NUM_THREADS"
        echo "pw-file=$(cat /etc/creds/password)"
        echo "token=$(cat /var/run/secrets/kubernetes.io/serviceaccount/token)"
        echo "ns=$(cat /var/run/secrets/kubernetes.io/serviceaccount/namespace)"
        echo "web=$(getent hosts web.team.svc | cut -f1 -d' ')"
        echo "cwd=$(pwd)"
        touch /etc/creds/new 2>/dev/null && echo writable || echo read-only
        echo scratch > "$SCRATCH/f" && echo "scratch=$(cat "$SCRATCH/f")"
        """)
    scratch = tmp_path / "mnt" / "scratch"  # a mount point outside the pod's volumes
    volumes = [
        {"name": "creds", "secret": {"secretName": "creds"}},
        {"name": "scratch", "emptyDir": {}},
        {"name": "kube-api-access", "projected": {"sources": [
            {"serviceAccountToken": {"path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"fieldPath": "metadata.namespace"}}]}},
        ]}},
    ]
    container = {
        "name": "main", "command": ["sh", "-c", script],
        "env": [{"name": "PW", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}},
                {"name": "SCRATCH", "value": str(scratch)}],
        "resources": {"limits": {"cpu": "2"}},
        "volumeMounts": [
            {"name": "creds", "mountPath": "/etc/creds"},
            {"name": "scratch", "mountPath": str(scratch)},
            {"name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": True},
        ],
    }
    plan = plan_for(tmp_path, [container], volumes)
    proc = start_container(plan.containers[0], tmp_path, tmp_path / "main.log")
    assert isinstance(proc, ContainerProcess)
    code = wait_exit(proc)
    out = (tmp_path / "main.log").read_text()
    assert code == 0, out
    assert "pw-env=hunter2 ip=127.100.9.9 threads=2" in out
    assert "pw-file=hunter2" in out and "token=TOKEN" in out and "ns=team" in out
    assert "web=127.200.0.9" in out
    assert f"cwd={tmp_path}/work" in out
    assert "read-only" in out and "scratch=scratch" in out
    # the mounts stayed private to the container: on the host the mount point is still empty
    assert list(scratch.iterdir()) == []
    assert (tmp_path / "volumes" / "scratch" / "f").read_text() == "scratch\n"


def test_prologue_stages_kept_paths_before_the_volumes_and_moves_them_back():
    mounts = [Mount(source="/pod/volumes/cfg", target="/opt", read_only=True),
              Mount(source="/pod/keep/0", target="/opt/app", kept=True),
              Mount(source="/pod/volumes/data", target="/opt/app/data")]
    lines = mount_script(mounts, "/pod/work").splitlines()
    assert lines[:7] == [
        "set -e",
        "mount --bind /opt/app /pod/keep/0",       # staged while nothing hides it
        "mount --bind /pod/volumes/cfg /opt",
        "mkdir -p /opt/app",                        # its mount point, before the volume turns read-only
        "mount -o remount,bind,ro /opt",
        "mount --move /pod/keep/0 /opt/app",
        "mount --bind /pod/volumes/data /opt/app/data",
    ]


def test_a_volume_over_the_image_does_not_hide_it(tmp_path):
    """An emptyDir on an ancestor of the checkout and of the venv (the chart's /tmp with a checkout
    cloned under /tmp): the container still runs the venv's program and reads the checkout, and
    the volume is there and writable."""
    image = tmp_path / "image"                       # the volume's mountPath, like /tmp
    checkout, venv = image / "checkout", image / "cache" / "venv"
    (venv / "bin").mkdir(parents=True)
    (checkout / "pkg").mkdir(parents=True)
    (checkout / "pkg" / "code.txt").write_text("checkout-code\n")
    (checkout / ".venv").symlink_to(venv)            # like .venv -> ~/.cache/ecc-fleet/venvs/KEY
    prog = venv / "bin" / "prog"
    prog.write_text(textwrap.dedent(f"""\
        #!/bin/sh
        set -e
        echo "code=$(cat {checkout}/pkg/code.txt)"
        echo written > {image}/scratch.txt
        echo "volume=$(cat {image}/scratch.txt) entries=$(ls {image} | tr '\\n' ' ')"
        """))
    prog.chmod(0o755)
    container = {"name": "main", "command": [str(checkout / ".venv" / "bin" / "prog")],
                 "volumeMounts": [{"name": "tmp", "mountPath": str(image)}]}
    plan = plan_for(tmp_path, [container], [{"name": "tmp", "emptyDir": {}}],
                    kept_paths=(str(checkout), str(checkout / ".venv"), str(venv)))
    assert {m.target for m in plan.containers[0].mounts if m.kept} == {str(checkout), str(venv)}
    proc = start_container(plan.containers[0], tmp_path, tmp_path / "main.log")
    assert isinstance(proc, ContainerProcess)
    code = wait_exit(proc)
    out = (tmp_path / "main.log").read_text()
    assert code == 0, out
    assert "code=checkout-code" in out
    # the volume (not the host's directory) is what the container sees and writes around the kept paths
    assert "volume=written entries=cache checkout scratch.txt" in out
    assert (tmp_path / "volumes" / "tmp" / "scratch.txt").read_text() == "written\n"
    assert not (image / "scratch.txt").exists()
    assert (checkout / "pkg" / "code.txt").read_text() == "checkout-code\n"


def test_termination_file_and_exit_code(tmp_path):
    c = {"name": "main", "command": ["sh", "-c", "echo done-with-error > /dev/termination-log; exit 7"]}
    plan = plan_for(tmp_path, [c])
    proc = start_container(plan.containers[0], tmp_path, tmp_path / "main.log")
    assert wait_exit(proc) == 7
    assert read_termination_file(plan.containers[0]).strip() == "done-with-error"
    assert Path("/dev/termination-log").read_text() == ""  # host's file untouched


def test_missing_executable_is_a_start_error(tmp_path):
    plan = plan_for(tmp_path, [{"name": "main", "command": ["no-such-binary-ecc"]}])
    result = start_container(plan.containers[0], tmp_path, tmp_path / "main.log")
    assert isinstance(result, StartFailure) and result.exit_code == 128
    assert "no-such-binary-ecc" in result.message


def test_stop_sends_sigterm_then_sigkill_to_the_whole_group(tmp_path):
    # Parent traps TERM and keeps running; its child sleeps. Both must be gone after stop().
    script = "trap 'echo got-term' TERM; sleep 300 & echo child=$!; while true; do sleep 0.1; done"
    plan = plan_for(tmp_path, [{"name": "main", "command": ["sh", "-c", script]}])
    proc = start_container(plan.containers[0], tmp_path, tmp_path / "main.log")
    deadline = time.time() + 10
    while "child=" not in (tmp_path / "main.log").read_text() and time.time() < deadline:
        time.sleep(0.05)
    child = int((tmp_path / "main.log").read_text().split("child=")[1].split()[0])
    started = time.monotonic()
    code = proc.stop(grace_seconds=1.0)
    assert 0.9 <= time.monotonic() - started < 5
    assert code == 128 + signal.SIGKILL
    assert "got-term" in (tmp_path / "main.log").read_text()
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)


def test_graceful_exit_within_grace(tmp_path):
    plan = plan_for(tmp_path, [{"name": "main", "command": ["sleep", "300"]}])
    proc = start_container(plan.containers[0], tmp_path, tmp_path / "main.log")
    time.sleep(0.3)
    assert proc.stop(grace_seconds=10) == 128 + signal.SIGTERM


def test_container_dies_with_the_agent(tmp_path):
    """No orphans: a container started by a process that gets SIGKILLed is killed too."""
    code = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(REPO)!r})
        from pathlib import Path
        from ecc_devcluster.nodeagent_plan import ContainerPlan
        from ecc_devcluster.nodeagent_runner import start_container
        plan = ContainerPlan(name="c", argv=["sleep", "300"], env={{"PATH": "/usr/bin:/bin"}},
                             workdir={str(tmp_path)!r}, mounts=[])
        proc = start_container(plan, Path({str(tmp_path)!r}), Path({str(tmp_path)!r}) / "c.log")
        print(proc.pid, flush=True)
        time.sleep(300)
    """)
    agent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    pid = int(agent.stdout.readline())
    deadline = time.time() + 10
    # Wait until setpriv (which sets the parent-death signal), unshare and sh have all
    # exec'ed into the command: argv[0] is "sleep" only then (setpriv's own argv also
    # contains "sleep", so a substring test would race setpriv's prctl).
    while (Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].rsplit(b"/", 1)[-1] != b"sleep"
           and time.time() < deadline):
        time.sleep(0.02)
    agent.kill()
    agent.wait()
    deadline = time.time() + 5
    while time.time() < deadline:
        if not _alive(pid):
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        pytest.fail(f"container process {pid} outlived its agent")
