"""The Helm chart and the kustomize base against the real local cluster.

- `helm lint`; `helm install` of an *older* copy of the chart (its EdgeFleet CRD lacks the `Wave`
  printer column, chart version 0.0.1) — the operator pod runs from its image under its own
  ServiceAccount on the real cloud worker, becomes Ready, keeps its peering record and reconciles a CloudTeacher in its
  namespace (status, Event, finalizer) without a Forbidden in its log;
- `kubectl auth can-i --as` the ServiceAccount: allowed what it needs, refused Secrets list/watch
  cluster-wide, Secrets outside its namespace, pods/exec, pod creation; a second, cluster-wide
  release (no replicas) shows the ClusterRoleBinding variant;
- `helm upgrade` to the real chart: the API server's CRD gains the column (Helm never upgrades a
  chart's crds/ folder; these CRDs are templates);
- `helm uninstall`: the operator and RBAC are gone, the CRDs are kept;
- `kubectl apply --server-side -k` of an overlay of manifests/base into its own namespace.

The cluster is shared: CRDs are cluster-scoped and other tests use them. Only a printer column
differs between the old and the new chart (harmless to others); Helm's ownership marks on the
CRDs are removed again at the end so that later installs (another release name) can adopt them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

from ecc_devcluster.images import IMAGES
from ecc_workloads import contracts as c

from ecc_operator.gen import chartgen, crdgen

from clusterkit import eventually

pytestmark = pytest.mark.cluster

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART = REPO_ROOT / chartgen.CHART_DIR
SUFFIX = uuid.uuid4().hex[:6]
NS = f"helm-{SUFFIX}"
OTHER_NS = f"helm-other-{SUFFIX}"
WIDE_NS = f"helm-wide-{SUFFIX}"
RELEASE = f"ecc-{SUFFIX}"
WIDE_RELEASE = f"eccw-{SUFFIX}"
FULLNAME = f"{RELEASE}-ecc-fleet"
SA = f"system:serviceaccount:{NS}:{FULLNAME}"
CRD_NAMES = [d["metadata"]["name"] for d in crdgen.all_crds()]
HELM_OWNERSHIP = ("meta.helm.sh/release-name", "meta.helm.sh/release-namespace")
READY_TIMEOUT_S = 180


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------
class Tools:
    def __init__(self, cluster, home: Path):
        self.cluster = cluster
        self.kubectl = str(Path(cluster.bin_dir) / "kubectl")
        helm = Path(cluster.bin_dir) / "helm"
        if not os.access(helm, os.X_OK):
            pytest.fail(f"{helm} is missing: build it with `.venv/bin/ecc-dev binaries ensure`", pytrace=False)
        self.helm_bin = str(helm)
        self.env = {**os.environ, "KUBECONFIG": cluster.kubeconfig, "HELM_CACHE_HOME": str(home / "cache"),
                    "HELM_CONFIG_HOME": str(home / "config"), "HELM_DATA_HOME": str(home / "data")}

    def run(self, argv: list[str], check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
        run = subprocess.run(argv, capture_output=True, text=True, env=self.env, timeout=timeout)
        if check:
            assert run.returncode == 0, f"{' '.join(argv)} failed ({run.returncode}):\n{run.stdout}\n{run.stderr}"
        return run

    def helm(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
        return self.run([self.helm_bin, *args], check=check, timeout=timeout)

    def kubectl_run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run([self.kubectl, *args], check=check)

    def can_i(self, *args: str, sa: str = SA) -> bool:
        run = self.run([self.kubectl, "auth", "can-i", *args, "--as", sa], check=False)
        answer = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
        assert answer in ("yes", "no"), f"kubectl auth can-i {' '.join(args)}: {run.stdout} {run.stderr}"
        return answer == "yes"


@pytest.fixture(scope="module")
def tools(cluster, tmp_path_factory):
    return Tools(cluster, tmp_path_factory.mktemp("helm-home"))


def _crd_marks(kube) -> dict[str, tuple[dict, dict]]:
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    ext = client.ApiextensionsV1Api(kube)
    out = {}
    for name in CRD_NAMES:
        try:
            meta = ext.read_custom_resource_definition(name).metadata
        except ApiException as exc:
            if exc.status == 404:
                continue
            raise
        out[name] = (dict(meta.labels or {}), dict(meta.annotations or {}))
    return out


def _set_crd_marks(kube, name: str, labels: dict, annotations: dict) -> None:
    from kubernetes import client

    client.ApiextensionsV1Api(kube).patch_custom_resource_definition(
        name, {"metadata": {"labels": labels, "annotations": annotations}})


@pytest.fixture(scope="module")
def namespaces(kube, tools):
    from kubernetes import client

    core = client.CoreV1Api(kube)
    for ns in (NS, OTHER_NS, WIDE_NS):
        core.create_namespace({"metadata": {"name": ns}})
    yield
    # A failed test may leave a release: uninstall it (its cluster-scoped RBAC goes with it).
    for release, ns in ((RELEASE, NS), (WIDE_RELEASE, WIDE_NS)):
        tools.helm("uninstall", release, "--namespace", ns, "--ignore-not-found", "--wait", check=False)
    rbac = client.RbacAuthorizationV1Api(kube)
    for prefix in (FULLNAME, f"{WIDE_RELEASE}-ecc-fleet"):
        for item in rbac.list_cluster_role_binding().items:
            if item.metadata.name.startswith(prefix):
                rbac.delete_cluster_role_binding(item.metadata.name)
        for item in rbac.list_cluster_role().items:
            if item.metadata.name.startswith(prefix):
                rbac.delete_cluster_role(item.metadata.name)
    for ns in (NS, OTHER_NS, WIDE_NS):
        try:
            core.delete_namespace(ns)
        except Exception:  # noqa: BLE001 - best effort
            pass


@pytest.fixture(scope="module")
def crd_ownership(kube):
    """Let the release adopt the shared CRDs (they exist: other tests applied crds/), and give
    them back afterwards: Helm's ownership marks removed, the original ones restored."""
    before = _crd_marks(kube)
    for name in before:
        _set_crd_marks(kube, name, {"app.kubernetes.io/managed-by": "Helm"},
                       {HELM_OWNERSHIP[0]: RELEASE, HELM_OWNERSHIP[1]: NS})
    yield before
    after = _crd_marks(kube)
    for name in after:
        labels0, ann0 = before.get(name, ({}, {}))
        labels = {"app.kubernetes.io/managed-by": labels0.get("app.kubernetes.io/managed-by")}
        annotations = {k: ann0.get(k) for k in HELM_OWNERSHIP}
        _set_crd_marks(kube, name, labels, annotations)


@pytest.fixture(scope="module")
def old_chart(tmp_path_factory) -> Path:
    """A copy of the chart as an older release would have shipped it: version 0.0.1, and its
    EdgeFleet CRD without the `Wave` printer column."""
    dest = tmp_path_factory.mktemp("old-chart") / "ecc-fleet"
    shutil.copytree(CHART, dest)
    chart_yaml = dest / "Chart.yaml"
    chart_yaml.write_text(re.sub(r"^version: .*$", "version: 0.0.1", chart_yaml.read_text(), flags=re.M))
    crd = dest / crdgen.CHART_CRD_DIR.relative_to(chartgen.CHART_DIR) / "ecc.dev_edgefleets.yaml"
    text = crd.read_text()
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.strip() == "- name: Wave")
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = start + 1
    while end < len(lines) and (len(lines[end]) - len(lines[end].lstrip())) > indent:
        end += 1
    crd.write_text("".join(lines[:start] + lines[end:]))
    assert "- name: Wave" not in crd.read_text() and "jsonPath: .status.rolloutWave" not in crd.read_text()
    return dest


def _values(cluster, tmp: Path, **extra) -> Path:
    s = cluster.store_in_cluster  # the operator pod reaches the store by its Service
    assert s is not None, "the test cluster has no real nodes"
    values = {
        "operator": {
            "watchNamespaces": [NS],
            "nodeSelector": {c.CLOUD_NODE_ROLE_LABEL: ""},
        },
        "store": {"endpoint": s.endpoint, "accessKey": s.access_key, "secretKey": s.secret_key,
                  "bucket": s.bucket, "secure": s.secure, "caBundle": s.ca_pem or ""},
        **extra,
    }
    path = tmp / f"values-{uuid.uuid4().hex[:4]}.json"
    path.write_text(json.dumps(values))
    return path


@pytest.fixture(scope="module")
def values_file(cluster, tmp_path_factory) -> Path:
    return _values(cluster, tmp_path_factory.mktemp("values"))


def _printer_columns(kube, crd: str) -> list[str]:
    from kubernetes import client

    obj = client.ApiextensionsV1Api(kube).read_custom_resource_definition(crd)
    return [col.name for col in obj.spec.versions[0].additional_printer_columns or []]


def _operator_pods(kube, ns: str, fullname_prefix: str) -> list:
    from kubernetes import client

    pods = client.CoreV1Api(kube).list_namespaced_pod(ns, label_selector="app.kubernetes.io/component=operator").items
    return [p for p in pods if p.metadata.name.startswith(fullname_prefix) and not p.metadata.deletion_timestamp]


def _ready(pod) -> bool:
    return any(cd.type == "Ready" and cd.status == "True" for cd in pod.status.conditions or [])


def _pod_log(tools: Tools, ns: str, pod: str) -> str:
    return tools.kubectl_run("logs", "-n", ns, pod, "--tail=60", check=False).stdout


# ---------------------------------------------------------------------------
# Tests (in order: they share the release)
# ---------------------------------------------------------------------------
def test_helm_lint(tools, values_file):
    run = tools.helm("lint", "--strict", str(CHART), "--namespace", NS, "--values", str(values_file))
    assert "1 chart(s) linted, 0 chart(s) failed" in run.stdout, run.stdout


def test_install_runs_the_operator_under_its_own_service_account(tools, kube, cluster, namespaces, crd_ownership,
                                                                  old_chart, values_file):
    from kubernetes import client

    tools.helm("install", RELEASE, str(old_chart), "--namespace", NS, "--values", str(values_file),
               "--wait", "--timeout", f"{READY_TIMEOUT_S}s", timeout=READY_TIMEOUT_S + 60)
    pods = eventually(lambda: [p for p in _operator_pods(kube, NS, FULLNAME) if _ready(p)], 60, "operator pod Ready")
    pod = pods[0]
    assert pod.spec.service_account_name == FULLNAME
    assert pod.spec.node_name in cluster.real_nodes and pod.spec.node_name.startswith("ecc-cloud-"), pod.spec.node_name
    assert pod.spec.containers[0].command == ["python", "-m", "ecc_operator"]
    assert pod.spec.containers[0].image == IMAGES["ecc-operator"].reference  # loaded into the node by `ecc-dev up`
    assert pod.spec.containers[0].security_context.read_only_root_filesystem is True
    # The older chart's CRD is what the API server serves now.
    assert "Wave" not in _printer_columns(kube, "edgefleets.ecc.dev")
    # The chart created the store Secret the operator reads its credentials from.
    secret = client.CoreV1Api(kube).read_namespaced_secret(f"{FULLNAME}-store", NS)
    assert set(secret.data) == {c.StoreEnv.ENDPOINT, c.StoreEnv.ACCESS_KEY, c.StoreEnv.SECRET_KEY,
                                c.StoreEnv.BUCKET, c.StoreEnv.SECURE, c.StoreEnv.CA}  # the cluster's MinIO is TLS
    # It works under its ServiceAccount: its peering record, and a CloudTeacher it cannot distil
    # (a model source the Job does not support) reported Degraded with an Event — without a Job.
    custom = client.CustomObjectsApi(kube)
    eventually(lambda: custom.get_namespaced_custom_object("kopf.dev", "v1", NS, "kopfpeerings", "ecc-operator")
               .get("status"), 60, "the operator's KopfPeering record")
    custom.create_namespaced_custom_object("ecc.dev", "v1alpha1", NS, "cloudteachers", {
        "apiVersion": "ecc.dev/v1alpha1", "kind": "CloudTeacher", "metadata": {"name": "unsupported"},
        "spec": {"model": {"source": "s3://models/not-built-in"}, "corpus": {"uri": "bitext"},
                 "students": [{"profile": "s02", "blocks": [0, 2]}], "serving": {"mode": "none"}}})

    def degraded():
        st = custom.get_namespaced_custom_object("ecc.dev", "v1alpha1", NS, "cloudteachers", "unsupported"
                                                 ).get("status") or {}
        reasons = {x.get("reason") for x in st.get("conditions") or []}
        return st if st.get("phase") == "Degraded" and "UnsupportedModel" in reasons else None

    try:
        eventually(degraded, 90, "CloudTeacher unsupported Degraded with UnsupportedModel")
        events = client.CoreV1Api(kube).list_namespaced_event(
            NS, field_selector="involvedObject.name=unsupported,involvedObject.kind=CloudTeacher").items
        assert ("Warning", "Degraded") in {(e.type, e.reason) for e in events}
        assert not client.BatchV1Api(kube).list_namespaced_job(NS).items
        custom.delete_namespaced_custom_object("ecc.dev", "v1alpha1", NS, "cloudteachers", "unsupported")
        eventually(lambda: not custom.list_namespaced_custom_object("ecc.dev", "v1alpha1", NS, "cloudteachers")
                   ["items"], 60, "the CloudTeacher deleted (its finalizer removed by the operator)")
    except BaseException:
        print(_pod_log(tools, NS, pod.metadata.name), file=sys.stderr)
        raise
    log = _pod_log(tools, NS, pod.metadata.name)
    assert "Forbidden" not in log and " 403" not in log, log


def test_service_account_is_allowed_what_it_needs(tools, namespaces):
    needs = [
        ("list", "cloudteachers.ecc.dev", "-n", NS), ("watch", "edgefleets.ecc.dev", "-n", NS),
        ("patch", "adaptationpolicies.ecc.dev", "-n", NS),
        ("patch", "edgefleets.ecc.dev", "--subresource=status", "-n", NS),
        ("patch", "cloudteachers.ecc.dev", "--subresource=status", "-n", NS),
        ("create", "jobs.batch", "-n", NS), ("delete", "jobs.batch", "-n", NS),
        ("create", "daemonsets.apps", "-n", NS), ("patch", "deployments.apps", "-n", NS),
        ("create", "services", "-n", NS), ("create", "inferenceservices.serving.kserve.io", "-n", NS),
        ("get", "pods", "-n", NS), ("list", "pods", "-n", NS), ("create", "events", "-n", NS),
        ("list", "nodes"), ("watch", "nodes"), ("get", "customresourcedefinitions.apiextensions.k8s.io"),
        ("list", "customresourcedefinitions.apiextensions.k8s.io"),
        ("create", "secrets", "-n", NS), ("patch", "secrets", "-n", NS), ("delete", "secrets", "-n", NS),
        ("get", "secrets", "-n", NS), ("patch", "kopfpeerings.kopf.dev", "-n", NS),
        ("create", "tokenreviews.authentication.k8s.io"),  # who an agent asking for node credentials is
    ]
    refused = [need for need in needs if not tools.can_i(*need)]
    assert not refused, f"{SA} is refused what it needs: {refused}"


def test_service_account_is_refused_what_it_does_not_need(tools, namespaces):
    forbidden = [
        ("list", "secrets", "--all-namespaces"), ("watch", "secrets", "--all-namespaces"),
        ("list", "secrets", "-n", NS), ("watch", "secrets", "-n", NS),
        ("get", "secrets", "-n", OTHER_NS), ("get", "secrets", "-n", c.SYSTEM_NAMESPACE),
        ("create", "pods", "--subresource=exec", "-n", NS), ("get", "pods", "--subresource=exec", "-n", NS),
        ("create", "pods", "-n", NS), ("delete", "nodes"), ("patch", "nodes"),
        ("create", "serviceaccounts", "--subresource=token", "-n", NS),  # it reviews agents' tokens, never mints
        ("create", "jobs.batch", "-n", OTHER_NS),  # watchNamespaces: only NS
        ("create", "secrets", "-n", OTHER_NS), ("list", "cloudteachers.ecc.dev", "-n", OTHER_NS),
        ("create", "clusterroles.rbac.authorization.k8s.io"), ("create", "rolebindings.rbac.authorization.k8s.io",
                                                                "-n", NS),
    ]
    allowed = [f for f in forbidden if tools.can_i(*f)]
    assert not allowed, f"{SA} is allowed what it must not be: {allowed}"


def test_cluster_wide_release_binds_the_workloads_role_everywhere_but_not_secret_reads(tools, cluster, namespaces,
                                                                                       tmp_path):
    values = _values(cluster, tmp_path, crds={"install": False})
    spec = json.loads(values.read_text())
    spec["operator"].update(replicas=0, watchNamespaces=[])
    values.write_text(json.dumps(spec))
    tools.helm("install", WIDE_RELEASE, str(CHART), "--namespace", WIDE_NS, "--values", str(values))
    try:
        sa = f"system:serviceaccount:{WIDE_NS}:{WIDE_RELEASE}-ecc-fleet"
        assert tools.can_i("create", "jobs.batch", "-n", OTHER_NS, sa=sa)
        assert tools.can_i("list", "edgefleets.ecc.dev", "--all-namespaces", sa=sa)
        assert tools.can_i("patch", "clusterkopfpeerings.kopf.dev", sa=sa)
        assert tools.can_i("create", "secrets", "-n", OTHER_NS, sa=sa)
        assert tools.can_i("get", "secrets", "-n", WIDE_NS, sa=sa)
        assert not tools.can_i("get", "secrets", "-n", OTHER_NS, sa=sa)
        assert not tools.can_i("list", "secrets", "--all-namespaces", sa=sa)
        assert not tools.can_i("watch", "secrets", "--all-namespaces", sa=sa)
        assert not tools.can_i("create", "pods", "--subresource=exec", "-n", OTHER_NS, sa=sa)
    finally:
        tools.helm("uninstall", WIDE_RELEASE, "--namespace", WIDE_NS, "--wait")


def test_upgrade_upgrades_the_crds(tools, kube, values_file):
    assert "Wave" not in _printer_columns(kube, "edgefleets.ecc.dev"), "needs the install test first"
    run = tools.helm("upgrade", RELEASE, str(CHART), "--namespace", NS, "--values", str(values_file), "--debug",
                     "--wait", "--timeout", f"{READY_TIMEOUT_S}s", timeout=READY_TIMEOUT_S + 60, check=False)
    if run.returncode != 0:
        state = tools.kubectl_run("get", "pods,deploy,rs", "-n", NS, "-o", "wide", check=False).stdout
        pytest.fail(f"helm upgrade failed:\n{run.stderr[-3000:]}\n{state}")
    columns = _printer_columns(kube, "edgefleets.ecc.dev")
    wanted = [col["name"] for col in crdgen.crd(next(k for k in crdgen.KINDS if k.plural == "edgefleets"))
              ["spec"]["versions"][0]["additionalPrinterColumns"]]
    assert columns == wanted and "Wave" in columns
    history = json.loads(tools.helm("history", RELEASE, "--namespace", NS, "--output", "json").stdout)
    assert [h["revision"] for h in history] == [1, 2] and history[-1]["status"] == "deployed"
    assert history[0]["chart"] == "ecc-fleet-0.0.1" and history[-1]["chart"].startswith("ecc-fleet-0.1")
    eventually(lambda: [p for p in _operator_pods(kube, NS, FULLNAME) if _ready(p)], READY_TIMEOUT_S,
               "the operator Ready after the upgrade")


def test_uninstall_removes_the_operator_and_keeps_the_crds(tools, kube):
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    tools.helm("uninstall", RELEASE, "--namespace", NS, "--wait", "--timeout", "120s")
    apps, rbac = client.AppsV1Api(kube), client.RbacAuthorizationV1Api(kube)
    with pytest.raises(ApiException) as gone:
        apps.read_namespaced_deployment(FULLNAME, NS)
    assert gone.value.status == 404
    names = {r.metadata.name for r in rbac.list_cluster_role().items}
    assert not [n for n in names if n.startswith(FULLNAME)], names
    eventually(lambda: not _operator_pods(kube, NS, FULLNAME), 60, "operator pods gone")
    ext = client.ApiextensionsV1Api(kube)
    for name in CRD_NAMES:
        assert ext.read_custom_resource_definition(name).metadata.name == name  # kept


# ---------------------------------------------------------------------------
# kustomize
# ---------------------------------------------------------------------------
def test_manifests_base_is_current(tools):
    stale = chartgen.stale(REPO_ROOT, chartgen.render_base(REPO_ROOT, helm=tools.helm_bin), (chartgen.BASE_DIR,))
    assert not stale, f"run `python -m ecc_operator.gen.chartgen`: {stale}"


def test_apply_k_manifests_base(tools, kube, tmp_path):
    from kubernetes import client

    ns, suffix = f"kb-{SUFFIX}", f"-{SUFFIX}"
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    base_rel = os.path.relpath(REPO_ROOT / chartgen.BASE_DIR, overlay)
    # the base's health port (8080) is bound on the pod's own address; metrics listen on all addresses
    args = ["--liveness=http://$(ECC_POD_IP):8080/healthz", f"--namespace={ns}"]
    patch = [
        {"op": "replace", "path": "/spec/template/spec/containers/0/args", "value": args},
        {"op": "add", "path": "/spec/template/spec/nodeSelector", "value": {c.CLOUD_NODE_ROLE_LABEL: ""}},
    ]
    # JSON (valid YAML): a suffix like "-4e37" must stay a string for kustomize's YAML 1.2 parser
    (overlay / "kustomization.yaml").write_text(json.dumps({
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
        "namespace": ns, "nameSuffix": suffix, "resources": [base_rel],
        "patches": [{"target": {"kind": "Deployment"}, "patch": yaml.safe_dump(patch)}],
    }))
    rendered = [d for d in yaml.safe_load_all(tools.kubectl_run("kustomize", str(overlay)).stdout) if d]
    kinds = {(d["kind"], d["metadata"]["name"]) for d in rendered}
    assert ("Namespace", ns) in kinds, kinds
    assert {("CustomResourceDefinition", n) for n in CRD_NAMES} <= kinds  # CRD names are never suffixed
    ours = [d for d in rendered if d["kind"] != "CustomResourceDefinition"]
    # the store Secret the base expects in its namespace (not part of the base: kept unsuffixed)
    core = client.CoreV1Api(kube)
    core.create_namespace({"metadata": {"name": ns}})
    src = core.read_namespaced_secret(c.STORE_SECRET_NAME, c.SYSTEM_NAMESPACE)
    core.create_namespaced_secret(ns, {"metadata": {"name": c.STORE_SECRET_NAME}, "data": src.data})
    try:
        run = tools.kubectl_run("apply", "--server-side", "--force-conflicts", "-k", str(overlay))
        assert f"deployment.apps/ecc-fleet{suffix} serverside-applied" in run.stdout, run.stdout
        dep = client.AppsV1Api(kube).read_namespaced_deployment(f"ecc-fleet{suffix}", ns)
        env = {e.name: e for e in dep.spec.template.spec.containers[0].env}
        assert env[c.StoreEnv.ENDPOINT].value_from.secret_key_ref.name == c.STORE_SECRET_NAME  # not in the base
        pods = eventually(lambda: [p for p in _operator_pods(kube, ns, "ecc-fleet") if _ready(p)], READY_TIMEOUT_S,
                          "the kustomize-installed operator Ready")
        assert pods[0].spec.service_account_name == f"ecc-fleet{suffix}"
        assert tools.can_i("list", "nodes", sa=f"system:serviceaccount:{ns}:ecc-fleet{suffix}")
        assert not tools.can_i("list", "secrets", "--all-namespaces", sa=f"system:serviceaccount:{ns}:ecc-fleet{suffix}")
    finally:
        # Never `kubectl delete -k`: it would delete the shared CRDs (and every custom resource).
        for d in ours:
            if d["kind"] in ("ClusterRole", "ClusterRoleBinding"):
                tools.kubectl_run("delete", d["kind"].lower(), d["metadata"]["name"], "--ignore-not-found",
                                  check=False)
        core.delete_namespace(ns)
