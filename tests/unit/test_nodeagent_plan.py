"""Launch plans of the process node agent: env resolution, threads, volumes, mounts."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from ecc_devcluster.nodeagent_model import image_paths
from ecc_devcluster.nodeagent_plan import (
    PlanError,
    PodInputs,
    RuntimeContext,
    cpu_threads,
    expand_vars,
    is_within,
    parse_quantity,
    pod_plan,
    requirements,
    secret_data,
)

POD_DIR = "/state/pods/team_p1"


def ctx(**kw) -> RuntimeContext:
    base = dict(node_name="ecc-cloud-0", pod_ip="127.100.0.7", pod_dir=POD_DIR, apiserver_port=6443,
                path_prepend=("/venv/bin", "/cache/bin"), base_env={"PATH": "/usr/bin:/bin", "HOME": "/root"},
                node_allocatable={"cpu": "2", "memory": "4Gi"})
    base.update(kw)
    return RuntimeContext(**base)


def make_pod(containers, volumes=None, init=None, **spec) -> dict:
    return {
        "metadata": {"name": "p1", "namespace": "team", "uid": "uid-1", "labels": {"app": "demo", "tier": "a"}},
        "spec": {"nodeName": "ecc-cloud-0", "serviceAccountName": "runner", "containers": containers,
                 "volumes": volumes or [], "initContainers": init or [], **spec},
    }


def container(**kw) -> dict:
    return {"name": "main", "image": "ignored:latest", "command": ["python", "-c"], "args": ["print(1)"], **kw}


INPUTS = PodInputs(
    secrets={"creds": {"password": b"s3cret", "user": b"alice"}},
    configmaps={"settings": {"LEVEL": b"debug", "MODE": b"fast"}, "kube-root-ca.crt": {"ca.crt": b"PEM"}},
    tokens={"kube-api-access/token": "TOKEN-XYZ"},
)


def test_env_resolves_secret_configmap_field_and_resource_refs():
    c = container(
        env=[
            {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}},
            {"name": "LVL", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "LEVEL"}}},
            {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
            {"name": "ME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
            {"name": "SA", "valueFrom": {"fieldRef": {"fieldPath": "spec.serviceAccountName"}}},
            {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}},
            {"name": "URL", "value": "http://$(IP):8080/$(ME)/$$(ME)/$(UNDEFINED)"},
        ],
        resources={"limits": {"memory": "512Mi"}},
    )
    env = pod_plan(make_pod([c]), INPUTS, ctx()).containers[0].env
    assert env["PW"] == "s3cret"
    assert env["LVL"] == "debug"
    assert env["NODE"] == "ecc-cloud-0"
    assert (env["ME"], env["NS"], env["IP"], env["APP"], env["SA"]) == ("p1", "team", "127.100.0.7", "demo", "runner")
    assert env["MEM"] == "512"
    assert env["URL"] == "http://127.100.0.7:8080/p1/$(ME)/$(UNDEFINED)"


def test_env_from_in_order_with_prefix_and_env_overrides():
    c = container(
        envFrom=[{"configMapRef": {"name": "settings"}}, {"secretRef": {"name": "creds"}, "prefix": "DB_"}],
        env=[{"name": "MODE", "value": "slow"}],
    )
    env = pod_plan(make_pod([c]), INPUTS, ctx()).containers[0].env
    assert env["LEVEL"] == "debug" and env["MODE"] == "slow"
    assert env["DB_user"] == "alice" and env["DB_password"] == "s3cret"


def test_runtime_env_service_host_pod_identity_and_path():
    env = pod_plan(make_pod([container()]), INPUTS, ctx()).containers[0].env
    assert env["KUBERNETES_SERVICE_HOST"] == "127.0.0.1"
    assert env["KUBERNETES_SERVICE_PORT"] == "6443"
    assert env["ECC_POD_IP"] == "127.100.0.7"
    assert env["ECC_NODE_NAME"] == "ecc-cloud-0"
    assert env["ECC_POD_NAME"] == "p1" and env["ECC_POD_NAMESPACE"] == "team"
    assert env["PATH"] == "/venv/bin:/cache/bin:/usr/bin:/bin"
    assert env["HOME"] == "/root"
    assert "KUBECONFIG" not in env


@pytest.mark.parametrize(
    "limits, threads",
    [(None, 1), ({"cpu": "500m"}, 1), ({"cpu": "1"}, 1), ({"cpu": "2"}, 2), ({"cpu": "3500m"}, 3), ({"memory": "1Gi"}, 1)],
)
def test_cpu_limit_bounds_threads(limits, threads):
    c = container(resources={"limits": limits} if limits else {})
    assert cpu_threads(c) == threads
    env = pod_plan(make_pod([c]), INPUTS, ctx()).containers[0].env
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "TORCH_NUM_THREADS"):
        assert env[name] == str(threads)


def test_missing_secret_key_is_a_retryable_error_naming_it():
    c = container(env=[{"name": "PW", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "nope"}}}])
    with pytest.raises(PlanError) as err:
        pod_plan(make_pod([c]), INPUTS, ctx())
    assert "'nope'" in str(err.value) and "'creds'" in str(err.value) and "'PW'" in str(err.value)
    assert not err.value.permanent


def test_optional_missing_refs_are_skipped():
    c = container(
        env=[{"name": "X", "valueFrom": {"secretKeyRef": {"name": "absent", "key": "k", "optional": True}}}],
        envFrom=[{"configMapRef": {"name": "absent", "optional": True}}],
    )
    env = pod_plan(make_pod([c]), INPUTS, ctx()).containers[0].env
    assert "X" not in env


def test_container_without_command_is_a_clear_permanent_error():
    c = {"name": "web", "image": "nginx"}
    with pytest.raises(PlanError) as err:
        pod_plan(make_pod([c]), INPUTS, ctx())
    assert "'web'" in str(err.value) and "command" in str(err.value)
    assert err.value.permanent


def test_unsupported_field_path_and_volume_are_named():
    c = container(env=[{"name": "X", "valueFrom": {"fieldRef": {"fieldPath": "spec.bogus"}}}])
    with pytest.raises(PlanError, match="spec.bogus"):
        pod_plan(make_pod([c]), INPUTS, ctx())
    with pytest.raises(PlanError, match="persistentVolumeClaim"):
        pod_plan(make_pod([container()], volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "x"}}]),
                 INPUTS, ctx())


def test_args_are_expanded_and_appended_to_command():
    c = container(command=["sh", "-c"], args=["echo $(MSG) $$HOME"], env=[{"name": "MSG", "value": "hi"}])
    assert pod_plan(make_pod([c]), INPUTS, ctx()).containers[0].argv == ["sh", "-c", "echo hi $HOME"]


def test_expand_vars_rules():
    assert expand_vars("$(A)-$(B)-$$(A)-$", {"A": "1"}) == "1-$(B)-$(A)-$"


def test_quantities():
    assert parse_quantity("500m") == parse_quantity("0.5")
    assert parse_quantity("1Gi") == 2**30
    assert parse_quantity("2k") == 2000
    with pytest.raises(PlanError):
        parse_quantity("lots")


SA_VOLUME = {
    "name": "kube-api-access",
    "projected": {
        "defaultMode": 420,
        "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
        ],
    },
}


def test_volumes_become_files_and_mounts():
    volumes = [
        {"name": "creds", "secret": {"secretName": "creds", "items": [{"key": "password", "path": "db/pw"}]}},
        {"name": "cfg", "configMap": {"name": "settings"}},
        {"name": "scratch", "emptyDir": {}},
        {"name": "info", "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
        SA_VOLUME,
    ]
    c = container(volumeMounts=[
        {"name": "creds", "mountPath": "/etc/creds"},
        {"name": "cfg", "mountPath": "/etc/cfg"},
        {"name": "scratch", "mountPath": "/scratch"},
        {"name": "info", "mountPath": "/etc/podinfo"},
        {"name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": True},
    ])
    plan = pod_plan(make_pod([c], volumes=volumes), INPUTS, ctx())
    vols = {v.name: v for v in plan.volumes}
    assert vols["creds"].files["db/pw"].data == b"s3cret"
    assert set(vols["cfg"].files) == {"LEVEL", "MODE"}
    assert vols["scratch"].kind == "emptyDir"
    assert vols["info"].files["labels"].data == b'app="demo"\ntier="a"'
    sa = vols["kube-api-access"]
    assert sa.files["token"].data == b"TOKEN-XYZ" and sa.files["ca.crt"].data == b"PEM"
    assert sa.files["namespace"].data == b"team"
    assert [t.key for t in sa.tokens] == ["kube-api-access/token"]
    mounts = {m.target: m for m in plan.containers[0].mounts}
    assert mounts["/etc/creds"].source == f"{POD_DIR}/volumes/creds" and mounts["/etc/creds"].read_only
    assert not mounts["/scratch"].read_only
    assert mounts["/var/run/secrets/kubernetes.io/serviceaccount"].source == f"{POD_DIR}/volumes/kube-api-access"
    assert mounts["/etc/hosts"].source == f"{POD_DIR}/hosts" and mounts["/etc/hosts"].is_file
    assert mounts["/dev/termination-log"].source == f"{POD_DIR}/termination/main"
    depths = [m.target.count("/") for m in plan.containers[0].mounts]
    assert depths == sorted(depths)


def test_missing_configmap_for_projected_volume_is_retryable():
    inputs = PodInputs(tokens={"kube-api-access/token": "T"})
    with pytest.raises(PlanError, match="kube-root-ca.crt") as err:
        pod_plan(make_pod([container()], volumes=[SA_VOLUME]), inputs, ctx())
    assert not err.value.permanent


def test_requirements_list_what_to_fetch():
    c = container(env=[{"name": "PW", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}}],
                  envFrom=[{"configMapRef": {"name": "settings"}}])
    req = requirements(make_pod([c], volumes=[SA_VOLUME]))
    assert req.secrets == {"creds"}
    assert req.configmaps == {"settings", "kube-root-ca.crt"}
    assert [(t.volume, t.path, t.expiration_seconds) for t in req.tokens] == [("kube-api-access", "token", 3607)]


def test_volume_paths_cannot_escape():
    vol = {"name": "creds", "secret": {"secretName": "creds", "items": [{"key": "user", "path": "../../etc/passwd"}]}}
    with pytest.raises(PlanError, match="inside the volume"):
        pod_plan(make_pod([container()], volumes=[vol]), INPUTS, ctx())


def test_init_containers_and_restart_policy_in_plan():
    plan = pod_plan(make_pod([container()], init=[container(name="prep")], restartPolicy="OnFailure",
                             terminationGracePeriodSeconds=5), INPUTS, ctx())
    assert [c.name for c in plan.init_containers] == ["prep"] and plan.init_containers[0].init
    assert plan.restart_policy == "OnFailure" and plan.termination_grace_seconds == 5


def test_secret_data_decodes_base64():
    assert secret_data({"data": {"a": "aGk="}, "stringData": {"b": "x"}}) == {"a": b"hi", "b": b"x"}


def test_sub_path_mounts_a_single_file():
    c = container(volumeMounts=[{"name": "cfg", "mountPath": "/etc/app/level.txt", "subPath": "LEVEL"}])
    plan = pod_plan(make_pod([c], volumes=[{"name": "cfg", "configMap": {"name": "settings"}}]), INPUTS, ctx())
    (mount,) = [m for m in plan.containers[0].mounts if m.target == "/etc/app/level.txt"]
    assert mount.is_file and mount.source == f"{POD_DIR}/volumes/cfg/LEVEL" and mount.read_only


def test_sidecar_init_containers_are_refused_clearly():
    sidecar = container(name="proxy", restartPolicy="Always")
    with pytest.raises(PlanError, match="sidecar") as err:
        pod_plan(make_pod([container()], init=[sidecar]), INPUTS, ctx())
    assert err.value.permanent


# The "image" of a process node is the host's checkout and venv: a volume must not hide them.
CHECKOUT, VENV = "/tmp/x", "/root/.cache/ecc-fleet/venvs/k1"
IMAGE = (CHECKOUT, f"{CHECKOUT}/.venv", VENV)


def _mounts(mounts: list[dict], volumes: list[dict], kept=IMAGE) -> list:
    plan = pod_plan(make_pod([container(volumeMounts=mounts)], volumes=volumes), INPUTS, ctx(kept_paths=kept))
    return plan.containers[0].mounts


def test_a_volume_over_the_checkout_keeps_it_and_its_inner_volumes():
    volumes = [{"name": "tmp", "emptyDir": {}}, {"name": "data", "emptyDir": {}}]
    mounts = _mounts([{"name": "tmp", "mountPath": "/tmp"}, {"name": "data", "mountPath": "/tmp/x/data"}], volumes)
    kept = [m for m in mounts if m.kept]
    # only the checkout: its .venv comes back with it, the venv's real path is not under /tmp
    assert [(m.target, m.source) for m in kept] == [(CHECKOUT, f"{POD_DIR}/keep/0")]
    order = [m.target for m in mounts]
    # after the volume that hides it, before the volume inside it
    assert order.index("/tmp") < order.index(CHECKOUT) < order.index("/tmp/x/data")


def test_a_volume_on_the_kept_path_itself_or_over_the_venv_keeps_both():
    volumes = [{"name": "app", "emptyDir": {}}, {"name": "cache", "emptyDir": {}}]
    mounts = _mounts([{"name": "app", "mountPath": "/tmp/x"}, {"name": "cache", "mountPath": "/root/.cache"}], volumes)
    assert sorted((m.source, m.target) for m in mounts if m.kept) == [
        (f"{POD_DIR}/keep/0", VENV), (f"{POD_DIR}/keep/1", CHECKOUT)]
    at_checkout = [m for m in mounts if m.target == CHECKOUT]
    assert [m.kept for m in at_checkout] == [False, True]  # the volume first, the checkout back on top


def test_volumes_that_hide_no_kept_path_keep_nothing():
    volumes = [{"name": "scratch", "emptyDir": {}}, {"name": "cfg", "configMap": {"name": "settings"}}]
    mounts = _mounts([{"name": "scratch", "mountPath": "/tmp/x/data"},   # inside the checkout: no harm
                      {"name": "cfg", "mountPath": "/tmpx"},              # a sibling sharing a prefix
                      ], volumes)
    assert not any(m.kept for m in mounts)
    assert not any(m.kept for m in _mounts([{"name": "scratch", "mountPath": "/tmp"}], volumes[:1], kept=()))


def test_is_within():
    assert is_within("/tmp/x", "/tmp") and is_within("/tmp/x", "/tmp/x") and is_within("/tmp", "/")
    assert not is_within("/tmpx", "/tmp") and not is_within("/tmp", "/tmp/x")


def test_the_agent_keeps_its_checkout_and_its_venv_by_default():
    paths = image_paths()
    assert str(Path(__file__).resolve().parents[2]) in paths       # the checkout (installed editable)
    assert os.path.realpath(sys.prefix) in paths                   # where .venv really lives
    assert all(os.path.isabs(p) for p in paths)
