"""The Helm chart's generated parts: current, valid, and consistent with their one source.

Pure Python checks, plus `helm template`/`helm lint` run locally (no cluster) with the Helm
the project builds (`ecc-dev binaries ensure`) — Helm is what validates values against
values.schema.json, so the schema is tested by the tool that enforces it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import promql_parser
import pytest
import yaml

from ecc_workloads.contracts import (DEFAULT_WORKLOAD_IMAGE, STORE_SECRET_NAME, SYSTEM_NAMESPACE, MetricNames,
                                     NodeIdentity, StoreEnv)

from ecc_operator.common import ObjectRef
from ecc_operator.gen import alerts, chart_values, chartgen, crdgen, dashboards

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / chartgen.CHART_DIR


@pytest.fixture(scope="module")
def helm() -> str:
    from ecc_devcluster.binaries import binary_path

    try:
        return str(binary_path("helm"))  # the one the project builds (chartgen itself takes $ECC_HELM or PATH)
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"helm is needed: `make setup` builds it ({exc})", pytrace=False)


def template(helm: str, tmp_path: Path, *sets: str, values: dict | None = None,
             namespace: str = "ecc-test", api_versions: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    argv = [helm, "template", "rel", str(CHART), "--namespace", namespace]
    for v in api_versions:
        argv += ["--api-versions", v]
    for s in sets:
        argv += ["--set", s]
    if values is not None:
        f = tmp_path / "values.json"
        f.write_text(json.dumps(values))
        argv += ["--values", str(f)]
    env = {"HELM_CACHE_HOME": str(tmp_path / "c"), "HELM_CONFIG_HOME": str(tmp_path / "f"),
           "HELM_DATA_HOME": str(tmp_path / "d"), "PATH": "/usr/bin:/bin"}
    return subprocess.run(argv, capture_output=True, text=True, env=env)


def docs_of(run: subprocess.CompletedProcess) -> list[dict]:
    assert run.returncode == 0, run.stderr
    return [d for d in yaml.safe_load_all(run.stdout) if d]


def one(docs: list[dict], kind: str, name_suffix: str = "") -> dict:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"].endswith(name_suffix)]
    assert len(found) == 1, [(d["kind"], d["metadata"]["name"]) for d in docs]
    return found[0]


# ---------------------------------------------------------------------------
# Generated files are current
# ---------------------------------------------------------------------------
def test_generated_chart_files_are_current():
    stale = chartgen.stale(ROOT, chartgen.render_pure(), chartgen.OWNED_DIRS)
    assert not stale, f"run `python -m ecc_operator.gen.chartgen`: {stale}"


def test_kustomize_base_is_current(helm):
    stale = chartgen.stale(ROOT, chartgen.render_base(ROOT, helm=helm), (chartgen.BASE_DIR,))
    assert not stale, f"run `python -m ecc_operator.gen.chartgen`: {stale}"


def test_check_mode_notices_a_stale_file(tmp_path):
    root = tmp_path
    (root / "pyproject.toml").write_text("")
    assert chartgen.main(["--check", "--no-base", "--root", str(root)]) == 1
    assert chartgen.main(["--no-base", "--root", str(root)]) == 0
    assert chartgen.main(["--check", "--no-base", "--root", str(root)]) == 0
    (root / chartgen.DASHBOARD_DIR / "old.json").write_text("{}")  # a stray file in a generated dir
    assert chartgen.main(["--check", "--no-base", "--root", str(root)]) == 1
    assert chartgen.main(["--no-base", "--root", str(root)]) == 0
    assert not (root / chartgen.DASHBOARD_DIR / "old.json").exists()


def test_chart_crds_are_the_crds_of_crds_folder(helm, tmp_path):
    """Rendered chart CRDs equal crds/*.yaml but for the keep annotation (and Helm's labels)."""
    rendered = {d["metadata"]["name"]: d for d in docs_of(template(helm, tmp_path))
                if d["kind"] == "CustomResourceDefinition"}
    on_disk = {}
    for path in sorted((ROOT / crdgen.CRD_DIR).glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        on_disk[doc["metadata"]["name"]] = doc
    assert set(rendered) == set(on_disk) and len(on_disk) == 5
    for name, doc in rendered.items():
        assert doc["metadata"].pop("annotations") == {"helm.sh/resource-policy": "keep"}
        assert doc == on_disk[name], name
    none = [d for d in docs_of(template(helm, tmp_path, "crds.install=false")) if d["kind"] == "CustomResourceDefinition"]
    assert none == []


# ---------------------------------------------------------------------------
# Values and their schema
# ---------------------------------------------------------------------------
def test_values_yaml_is_the_models_defaults_and_valid():
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert values == chart_values.default_values()
    assert chart_values.validation_errors(values) == []
    schema = json.loads((CHART / "values.schema.json").read_text())
    assert schema["additionalProperties"] is False and "$ref" not in json.dumps(schema)
    assert set(schema["properties"]) == set(values)


def test_model_errors_name_the_field():
    errors = chart_values.validation_errors({"operator": {"replicas": -1}})
    assert errors and errors[0].startswith("operator.replicas:"), errors
    errors = chart_values.validation_errors({"operator": {"watchNamespaces": ["Not_A_Name"]}})
    assert errors and errors[0].startswith("operator.watchNamespaces:"), errors
    for removed in ({"operator": {"python": "/usr/bin/python3"}}, {"workloads": {"python": "python"}}):
        errors = chart_values.validation_errors(removed)
        assert errors and errors[0].endswith(".python: Extra inputs are not permitted"), errors


@pytest.mark.parametrize("bad, field", [
    ("operator.replicas=-1", "replicas"),
    ("metrics.port=70000", "port"),
    ("image.pullPolicy=Sometimes", "pullPolicy"),
    ("operator.replicaz=2", "replicaz"),
    ("store.endpoint=http://minio:9000", "endpoint"),
    ("operator.python=/opt/py/bin/python", "python"),  # removed: the image's `python` runs
    ("workloads.python=/w/python", "python"),
])
def test_helm_refuses_a_bad_value_naming_the_field(helm, tmp_path, bad, field):
    run = template(helm, tmp_path, bad)
    assert run.returncode != 0, f"{bad} was accepted"
    assert "values don't meet the specifications of the schema" in run.stderr, run.stderr
    assert field in run.stderr, run.stderr


def test_helm_lint_passes(helm, tmp_path):
    env = {"HELM_CACHE_HOME": str(tmp_path / "c"), "HELM_CONFIG_HOME": str(tmp_path / "f"),
           "HELM_DATA_HOME": str(tmp_path / "d"), "PATH": "/usr/bin:/bin"}
    run = subprocess.run([helm, "lint", "--strict", str(CHART)], capture_output=True, text=True, env=env)
    assert run.returncode == 0 and "0 chart(s) failed" in run.stdout, run.stdout + run.stderr


# ---------------------------------------------------------------------------
# What the templates render
# ---------------------------------------------------------------------------
def test_operator_deployment_is_hardened_and_runs_the_images_python(helm, tmp_path):
    docs = docs_of(template(helm, tmp_path, "store.existingSecret=my-store", "operator.watchNamespaces={a,b}"))
    dep = one(docs, "Deployment")
    pod = dep["spec"]["template"]["spec"]
    c = pod["containers"][0]
    assert c["command"] == ["python", "-m", "ecc_operator"]
    assert not [a for a in c["args"] if a.startswith("--python")], c["args"]
    assert "strategy" not in dep["spec"], dep["spec"]  # the default RollingUpdate; kopf peering picks one active
    assert "--namespace=a" in c["args"] and "--namespace=b" in c["args"]
    assert "--liveness=http://$(ECC_POD_IP):8080/healthz" in c["args"] and "--metrics-port=9090" in c["args"]
    # agents reach the node-credentials endpoint over TLS, at the Service the certificate is made for
    assert f"--node-credentials-url=https://rel-ecc-fleet.ecc-test.svc:8081{NodeIdentity.PATH}" in c["args"], c["args"]
    assert f"--node-credentials-tls-secret={NodeIdentity.TLS_SECRET}" in c["args"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert c["resources"]["requests"] and c["resources"]["limits"]
    assert c["livenessProbe"]["httpGet"]["port"] == "health" and c["readinessProbe"]["httpGet"]["path"] == "/healthz"
    env = {e["name"]: e for e in c["env"]}
    for key in (StoreEnv.ENDPOINT, StoreEnv.ACCESS_KEY, StoreEnv.SECRET_KEY, StoreEnv.BUCKET, StoreEnv.SECURE):
        assert env[key]["valueFrom"]["secretKeyRef"]["name"] == "my-store", key
    assert env["ECC_POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
    annotations = dep["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true" and annotations["prometheus.io/port"] == "9090"


def test_the_operator_accepts_every_argument_the_chart_passes(helm, tmp_path):
    from ecc_operator.__main__ import parse_args

    args = one(docs_of(template(helm, tmp_path)), "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]
    parsed = parse_args([a.replace("$(ECC_POD_IP)", "10.0.0.1") for a in args])
    assert parsed.node_credentials_tls_secret == NodeIdentity.TLS_SECRET
    assert parsed.node_credentials_host == "rel-ecc-fleet.ecc-test.svc"


def test_store_endpoint_creates_the_secret_the_operator_reads(helm, tmp_path):
    docs = docs_of(template(helm, tmp_path, "store.endpoint=minio.example:9000", "store.accessKey=ak",
                            "store.secretKey=sk", "store.secure=true"))
    secret = one(docs, "Secret")
    assert secret["stringData"] == {StoreEnv.ENDPOINT: "minio.example:9000", StoreEnv.ACCESS_KEY: "ak",
                                    StoreEnv.SECRET_KEY: "sk", StoreEnv.BUCKET: "ecc-fleet", StoreEnv.SECURE: "true"}
    c = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    refs = {e["valueFrom"]["secretKeyRef"]["name"] for e in c["env"] if "secretKeyRef" in e.get("valueFrom", {})}
    assert refs == {secret["metadata"]["name"]}
    run = template(helm, tmp_path, "store.endpoint=minio.example:9000")
    assert run.returncode != 0 and "store.accessKey is required" in run.stderr


def _rules(role: dict) -> dict[tuple[str, str], set[str]]:
    out: dict[tuple[str, str], set[str]] = {}
    for rule in role["rules"]:
        for group in rule["apiGroups"]:
            for res in rule["resources"]:
                out.setdefault((group, res), set()).update(rule["verbs"])
    return out


def test_rbac_is_least_privilege(helm, tmp_path):
    docs = docs_of(template(helm, tmp_path))
    everything: dict[tuple[str, str], set[str]] = {}
    for d in docs:
        if d["kind"] in ("ClusterRole", "Role"):
            for k, v in _rules(d).items():
                everything.setdefault(k, set()).update(v)
    assert everything[("", "secrets")] == {"create", "patch", "delete", "get"}
    assert ("", "pods/exec") not in everything and "create" not in everything[("", "pods")]
    assert not any("*" in v or r == "*" for (g, r), v in everything.items())
    cluster_roles = [d for d in docs if d["kind"] == "ClusterRole"]
    secret_cluster_verbs = set().union(*(_rules(r).get(("", "secrets"), set()) for r in cluster_roles))
    assert secret_cluster_verbs == {"create", "patch", "delete"}  # never get/list/watch cluster-wide
    role = one(docs, "Role")
    # get: store Secrets; create: the release signing key and the node-credentials certificate on first
    # start (release_keys, node_credentials_tls); patch: only that certificate's Secret (its renewal)
    assert _rules(role) == {("", "secrets"): {"get", "create", "patch"}} and role["metadata"]["namespace"] == "ecc-test"
    patch_rules = [r for r in role["rules"] if "patch" in r["verbs"]]
    assert [(r["verbs"], r.get("resourceNames")) for r in patch_rules] == [(["patch"], [NodeIdentity.TLS_SECRET])]
    assert everything[("", "nodes")] == {"get", "list", "watch"}
    assert {"get", "list"} <= everything[("apiextensions.k8s.io", "customresourcedefinitions")]
    assert "patch" in everything[("ecc.dev", "edgefleets/status")]
    assert {"create", "delete"} <= everything[("serving.kserve.io", "inferenceservices")]
    # what says KServe can serve: read-only
    assert everything[("serving.kserve.io", "clusterservingruntimes")] == {"get"}
    assert everything[("admissionregistration.k8s.io", "mutatingwebhookconfigurations")] == {"get"}
    assert everything[("discovery.k8s.io", "endpointslices")] == {"list"}
    # cluster-wide by default: the workloads role is bound by a ClusterRoleBinding
    assert {d["roleRef"]["name"] for d in docs if d["kind"] == "ClusterRoleBinding"} == {
        "rel-ecc-fleet-ecc-test-cluster", "rel-ecc-fleet-ecc-test-workloads"}


def test_kserve_runtime_only_when_kserve_is_there_and_equal_to_the_python_source(helm, tmp_path):
    from ecc_operator import kserve_runtime

    kinds = ("ClusterServingRuntime", "ClusterStorageContainer")
    kserve = ("serving.kserve.io/v1alpha1/ClusterServingRuntime",)
    assert not [d for d in docs_of(template(helm, tmp_path)) if d["kind"] in kinds]  # no KServe: nothing
    docs = [d for d in docs_of(template(helm, tmp_path, "kserve.image.tag=9.9.9", api_versions=kserve))
            if d["kind"] in kinds]
    want = {m["kind"]: m for m in kserve_runtime.manifests(f"{DEFAULT_WORKLOAD_IMAGE.rsplit(':', 1)[0]}:9.9.9")}
    got = {d["kind"]: d for d in docs}
    assert sorted(got) == sorted(want) == sorted(kinds)
    for kind, expected in want.items():
        assert got[kind]["spec"] == expected["spec"]
        assert got[kind]["metadata"]["labels"]["app.kubernetes.io/instance"] == "rel"
    # named per release (cluster-scoped), and the operator is told the names
    assert got["ClusterServingRuntime"]["metadata"]["name"] == "rel-ecc-fleet-ecc-test-teacher"
    assert got["ClusterStorageContainer"]["metadata"]["name"] == "rel-ecc-fleet-ecc-test-bundle"
    args = one(docs_of(template(helm, tmp_path)), "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]
    assert {"--kserve-runtime=rel-ecc-fleet-ecc-test-teacher", "--kserve-storage-container=rel-ecc-fleet-ecc-test-bundle"} <= set(args)
    # KServe's own placeholder reaches KServe unexpanded
    assert {"name": "ECC_MODEL_NAME", "value": "{{.Name}}"} in got["ClusterServingRuntime"]["spec"]["containers"][0]["env"]
    off = template(helm, tmp_path, "kserve.install=false", api_versions=kserve)
    assert not [d for d in docs_of(off) if d["kind"] in kinds]


def test_watch_namespaces_bind_the_workloads_role_only_there(helm, tmp_path):
    docs = docs_of(template(helm, tmp_path, "operator.watchNamespaces={shop,lab}"))
    crbs = {d["roleRef"]["name"] for d in docs if d["kind"] == "ClusterRoleBinding"}
    assert crbs == {"rel-ecc-fleet-ecc-test-cluster"}
    rbs = {(d["metadata"]["namespace"], d["roleRef"]["name"]) for d in docs if d["kind"] == "RoleBinding"}
    assert rbs == {("shop", "rel-ecc-fleet-ecc-test-workloads"), ("lab", "rel-ecc-fleet-ecc-test-workloads"),
                   ("ecc-test", "rel-ecc-fleet-secrets")}


def test_optional_monitoring_objects(helm, tmp_path):
    default = docs_of(template(helm, tmp_path))
    assert not [d for d in default if d["kind"] in ("ServiceMonitor", "PrometheusRule")]
    cms = [d for d in default if d["kind"] == "ConfigMap"]
    assert len(cms) == len(dashboards.DASHBOARDS) and all(c["metadata"]["labels"]["grafana_dashboard"] == "1" for c in cms)
    board = json.loads(next(iter(cms[0]["data"].values())))
    assert board["uid"] == dashboards.FLEET_OVERVIEW_UID
    docs = docs_of(template(helm, tmp_path, "metrics.serviceMonitor.enabled=true", "prometheusRule.enabled=true",
                            "prometheusRule.labels.release=kps"))
    sm = one(docs, "ServiceMonitor")
    assert sm["spec"]["endpoints"][0]["port"] == "metrics" and sm["spec"]["endpoints"][0]["honorLabels"] is True
    rule = one(docs, "PrometheusRule")
    assert rule["metadata"]["labels"]["release"] == "kps"
    assert rule["spec"] == alerts.rules_document()  # the very same rules as the plain rules file


# ---------------------------------------------------------------------------
# Alerts and dashboards
# ---------------------------------------------------------------------------
def test_rules_file_is_a_valid_prometheus_rules_file():
    path = ROOT / chartgen.RULES_FILE
    assert yaml.safe_load(path.read_text()) == alerts.rules_document()
    promtool = shutil.which("promtool")
    assert promtool, "promtool (Debian's prometheus package) is missing: run `make setup`"
    run = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True)
    assert run.returncode == 0 and f"SUCCESS: {len(alerts.ALERTS)} rules found" in run.stdout, run.stdout + run.stderr


def test_every_alert_parses_and_uses_known_metrics():
    known = {v for k, v in vars(MetricNames).items() if k.isupper()} | {alerts.JOBS_TOTAL}
    names = {a.name for a in alerts.ALERTS}
    assert {"EccFleetAgentsNotReporting", "EccFleetRevisionSkew", "EccFleetDriftHigh", "EccMergeBackFailed",
            "EccDistillationFailed"} <= names
    for name, expr in alerts.expressions():
        promql_parser.parse(expr)
        used = {m for m in known if m in expr}
        assert used, f"{name}: {expr} uses no known metric"


def test_every_panel_query_parses():
    queries = dashboards.panel_queries()
    assert len(queries) >= 15
    for title, expr in dashboards.panel_queries(resolved=True):
        try:
            promql_parser.parse(expr)
        except Exception as exc:  # noqa: BLE001 - name the panel
            pytest.fail(f"panel {title!r}: {expr!r} does not parse: {exc}")
    with pytest.raises(Exception):
        promql_parser.parse("sum by (fleet) (rate(x[5m]) /")  # the parser does refuse bad PromQL


def test_dashboard_covers_the_fleet_overview():
    text = " ".join(e for _, e in dashboards.panel_queries())
    for metric in (MetricNames.FLEET_NODES, MetricNames.FLEET_NODES_BY_REVISION, MetricNames.FLEET_ROLLOUT_PROGRESS,
                   MetricNames.FLEET_DRIFT, MetricNames.AGENT_DRIFT, MetricNames.MERGEBACK_ROUNDS,
                   MetricNames.FLEET_BYTES_DOWN, MetricNames.FLEET_BYTES_UP, MetricNames.AGENT_LATENCY + "_bucket",
                   MetricNames.AGENT_CONFIDENCE + "_bucket"):
        assert metric in text, metric
    board = json.loads((ROOT / chartgen.DASHBOARD_DIR / "ecc-fleet-overview.json").read_text())
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    assert {v["name"] for v in board["templating"]["list"]} == {"datasource", "fleet"}
    with pytest.raises(ValueError, match=r"\$nope"):
        dashboards.resolve('up{x="$nope"}')


def test_kustomize_base_files():
    kust = yaml.safe_load((ROOT / chartgen.BASE_DIR / "kustomization.yaml").read_text())
    assert kust["namespace"] == SYSTEM_NAMESPACE
    for name in kust["resources"]:
        assert (ROOT / chartgen.BASE_DIR / name).is_file(), name
    ops = list(yaml.safe_load_all((ROOT / chartgen.BASE_DIR / "operator.yaml").read_text()))
    dep = next(d for d in ops if d["kind"] == "Deployment")
    c = dep["spec"]["template"]["spec"]["containers"][0]
    assert c["command"] == ["python", "-m", "ecc_operator"]
    assert "strategy" not in dep["spec"] and not [a for a in c["args"] if a.startswith("--python")]
    env = {e["name"]: e for e in dep["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env[StoreEnv.ENDPOINT]["valueFrom"]["secretKeyRef"]["name"] == STORE_SECRET_NAME
    text = "".join(p.read_text() for p in (ROOT / chartgen.BASE_DIR).glob("*.yaml"))
    assert "helm.sh/chart" not in text and "managed-by: Helm" not in text


# ---------------------------------------------------------------------------
# kind-config.yaml and the samples
# ---------------------------------------------------------------------------
def test_kind_edge_workers_carry_what_the_samples_select():
    from ecc_workloads import contracts as c

    text = (ROOT / "kind-config.yaml").read_text()
    cfg = yaml.safe_load(text)
    workers = [n for n in cfg["nodes"] if n["role"] == "worker"]
    edge = [n for n in workers if c.EDGE_SITE_LABEL in (n.get("labels") or {})]
    assert len(edge) >= 2
    for node in workers:  # a kubelet refuses labels in kubernetes.io other than its own set
        assert not [k for k in node.get("labels") or {} if "kubernetes.io/" in k], node
    fleet = yaml.safe_load((ROOT / "manifests" / "samples" / "edgefleet.yaml").read_text())
    tolerations = fleet["spec"]["agent"]["tolerations"]
    for node in edge:
        labels = node["labels"]
        assert labels[c.EDGE_SITE_LABEL] in c.EDGE_SITES and labels[c.EDGE_CAPACITY_CLASS_LABEL] in c.CAPACITY_CLASSES
        patch = yaml.safe_load(node["kubeadmConfigPatches"][0])
        taints = patch["nodeRegistration"]["taints"]
        assert {"key": c.EDGE_TAINT_KEY, "effect": "NoSchedule"} in taints
        assert all(any(t["key"] == tol["key"] and t["effect"] == tol["effect"] for tol in tolerations) for t in taints)
    # The role labels the samples select on are set once the nodes exist: the documented commands.
    assert list(fleet["spec"]["nodeSelector"]["matchLabels"]) == [c.EDGE_NODE_ROLE_LABEL]
    assert f"kubectl label nodes -l {c.EDGE_SITE_LABEL} {c.EDGE_NODE_ROLE_LABEL}=" in text
    assert f"kubectl label node ecc-fleet-worker {c.CLOUD_NODE_ROLE_LABEL}=" in text
    assert cfg["name"] == "ecc-fleet" and workers[0].get("labels") is None  # ecc-fleet-worker: the cloud one
    tiers = {t["name"]: t for t in fleet["spec"]["tiers"]}
    small = tiers["small"]["match"]["labels"]
    assert any(all(n["labels"].get(k) == v for k, v in small.items()) for n in edge)


def test_network_policy_admits_agents_metrics_and_probes_only(helm, tmp_path):
    """Off by default; on, the operator's pods take node-credentials traffic only from the agent pods
    the operator creates (their labels, any namespace), metrics from metricsFrom, probes from anywhere."""
    from ecc_operator.controllers.fleet import decisions as fd

    assert not [d for d in docs_of(template(helm, tmp_path)) if d["kind"] == "NetworkPolicy"]
    docs = docs_of(template(helm, tmp_path, "networkPolicy.enabled=true"))
    policy = one(docs, "NetworkPolicy")
    pod = one(docs, "Deployment")["spec"]["template"]
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    ports = {p["name"] for p in pod["spec"]["containers"][0]["ports"]}
    rules = {r["ports"][0]["port"]: r.get("from") for r in policy["spec"]["ingress"]}
    assert set(rules) == ports == {"node-creds", "metrics", "health"}
    agent = fd.agent_labels(ObjectRef("shop", "edge", "uid", 1))
    (peer,) = rules["node-creds"]
    assert peer["namespaceSelector"] == {} and peer["podSelector"]["matchLabels"].items() <= agent.items()
    assert rules["health"] is None and rules["metrics"] == [{"namespaceSelector": {}}]
