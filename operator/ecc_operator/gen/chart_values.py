"""The Helm chart's values, as ONE pydantic model: `values.yaml` and `values.schema.json` are
generated from it (`python -m ecc_operator.gen.chartgen`), so the defaults, the documentation and
the validation Helm runs on `helm install/upgrade/lint/template` can never disagree.

`values_yaml()` writes every field with its description as a comment; `values_schema()` is a
self-contained JSON Schema (draft-07, `$ref`s inlined) that refuses unknown keys, so a typo in
`--set` or a values file fails with the path of the field instead of being silently ignored.
"""

from __future__ import annotations

import copy
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ecc_workloads.contracts import (DEFAULT_BUCKET, DEFAULT_WORKLOAD_IMAGE, STORE_SECRET_NAME, NodeIdentity,
                                     ReleaseSigning)

_K8S_NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_QUANTITY = r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"


class _Values(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Crds(_Values):
    """The chart's CustomResourceDefinitions (ecc.dev and kopf's peering CRDs)."""

    install: bool = Field(True, description="Install and upgrade the CRDs with the release. They are templates, "
                                            "not Helm's crds/ folder, so `helm upgrade` upgrades them too. They carry "
                                            "helm.sh/resource-policy: keep: `helm uninstall` leaves them (and every "
                                            "custom resource) in place.")


class Image(_Values):
    """The operator's container image (images/operator.Dockerfile: no torch)."""

    repository: str = Field("ghcr.io/ecc-fleet/ecc-operator", min_length=1, description="image repository")
    tag: str = Field("", description="image tag; empty: the chart's appVersion")
    pullPolicy: Literal["Always", "IfNotPresent", "Never"] = Field("IfNotPresent", description="imagePullPolicy")


class ResourceList(_Values):
    """CPU and memory quantities."""

    cpu: Annotated[str, Field(pattern=_QUANTITY)] | float | None = Field(None, description="CPU quantity, e.g. 100m")
    memory: Annotated[str, Field(pattern=_QUANTITY)] | float | None = Field(None, description="memory quantity, "
                                                                                              "e.g. 256Mi")


class Resources(_Values):
    """Requests and limits of the operator container."""

    requests: ResourceList = Field(default_factory=lambda: ResourceList(cpu="100m", memory="256Mi"),
                                   description="what the scheduler reserves")
    limits: ResourceList = Field(default_factory=lambda: ResourceList(cpu="1", memory="512Mi"),
                                 description="the ceiling (memory over it: OOM-killed)")


class EnvVar(_Values):
    name: str = Field(min_length=1, pattern=r"^[-._a-zA-Z][-._a-zA-Z0-9]*$", description="variable name")
    value: str = Field("", description="its value")


class Operator(_Values):
    """The operator Deployment (`python -m ecc_operator`)."""

    replicas: int = Field(1, ge=0, le=5, description="replicas; with more than one, kopf's peering keeps exactly one "
                                                     "active and the others wait as hot standbys")
    watchNamespaces: list[str] = Field(default_factory=list,
                                       description="namespaces the operator watches and manages (and where it may "
                                                   "write Secrets); empty: all namespaces (ClusterRoleBinding). "
                                                   "Listed: RoleBindings in each, the operator is started with "
                                                   "--namespace for each")
    peering: str = Field("ecc-operator", pattern=r"^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
                         description="kopf peering name: one active instance per name ('' for standalone: "
                                     "only with replicas 1)")
    healthPort: int = Field(8080, ge=1, le=65535, description="port of kopf's liveness endpoint (/healthz), "
                                                              "served on the pod's IP; used by both probes")
    nodeCredentialsPort: int = Field(8081, ge=1, le=65535, description="port where edge agents exchange their "
                                     "pod-bound ServiceAccount token for their own node's store credentials; the "
                                     "Service <fullname> in front of it is what the agents reach")
    releaseSigningSecret: str = Field(
        ReleaseSigning.SECRET_NAME, pattern=r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$",
        description=f"Secret in the release namespace whose key '{ReleaseSigning.SECRET_KEY}' signs the fleets' "
        "desired states; the operator makes it (a new key) when absent. Create it first to bring your own key")
    nodeCredentialsTlsSecret: str = Field(
        NodeIdentity.TLS_SECRET, pattern=r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$",
        description="Secret (kubernetes.io/tls) in the release namespace with the node-credentials endpoint's "
        f"certificate and the CA agents trust ('{NodeIdentity.TLS_CA}'); the operator makes it (its own CA) when "
        "absent and renews it, and then also issues the served teachers' certificates from that CA. Create it "
        "first (without 'ca.key') to bring your own; it must cover <fullname>.<namespace>.svc, and each "
        "CloudTeacher then needs spec.serving.tlsSecretName (a certificate from the same CA)")
    allowUnscopedStoreCredentials: bool = Field(
        False, description="a store whose STS refuses to narrow a Job's credentials to its own prefixes (not "
        "MinIO) gets Jobs the operator's own store credentials; false: such Jobs wait, and the refusal is reported")
    verbose: bool = Field(False, description="debug logging")
    logFormat: Literal["text", "json"] = Field(
        "text", description="the operator's log lines: text, or json (one JSON object per line, kopf's format, "
        "naming the object a line is about)")
    extraArgs: list[str] = Field(default_factory=list, description="more arguments for `python -m ecc_operator`")
    extraEnv: list[EnvVar] = Field(default_factory=list,
                                   description="more environment variables of the operator container "
                                               "(e.g. PYTHONPATH for a source checkout)")
    resources: Resources = Field(default_factory=Resources)
    nodeSelector: dict[str, str] = Field(default_factory=dict, description="pod nodeSelector")
    tolerations: list[dict[str, Any]] = Field(default_factory=list, description="pod tolerations")
    affinity: dict[str, Any] = Field(default_factory=dict, description="pod affinity")
    podAnnotations: dict[str, str] = Field(default_factory=dict, description="extra pod annotations")
    priorityClassName: str = Field("", description="pod priorityClassName")

    @field_validator("watchNamespaces")
    @classmethod
    def _names(cls, v: list[str]) -> list[str]:
        import re

        bad = [n for n in v if not re.match(_K8S_NAME, n) or len(n) > 63]
        if bad:
            raise ValueError(f"not namespace names: {bad}")
        if len(set(v)) != len(v):
            raise ValueError("listed twice")
        return v


class Workloads(_Values):
    """What the operator puts into the Jobs and servers it creates."""

    bitextCsv: str = Field("", description="path or s3:// URI the Jobs read instead of the built-in corpus "
                                           "`bitext` (`--bitext-csv`); empty: the copy packaged with the "
                                           "workloads (in the image)")


class WorkloadImage(Image):
    """The workloads image KServe runs (storage initializer and teacher server)."""

    repository: str = Field(DEFAULT_WORKLOAD_IMAGE.rsplit(":", 1)[0], min_length=1, description="image repository")


class KServe(_Values):
    """What CloudTeachers of serving.mode kserve (or auto) run on: the ClusterServingRuntime
    `<release>-<chart>-<namespace>-teacher` (`ecc serve-teacher`) and the ClusterStorageContainer
    `…-bundle` (`ecc fetch-bundle`, KServe's storage initializer for ecc-bundle:// URIs)."""

    install: bool = Field(True, description="install them when KServe's CRDs (serving.kserve.io/v1alpha1) are "
                                            "in the cluster; without KServe nothing is installed")
    image: WorkloadImage = Field(default_factory=WorkloadImage)


class ServiceAccount(_Values):
    """The operator's ServiceAccount."""

    create: bool = Field(True, description="create it (false: use `name`, which must exist)")
    name: str = Field("", description="its name; empty: the release's full name")
    annotations: dict[str, str] = Field(default_factory=dict, description="e.g. a cloud IAM role binding")


class Rbac(_Values):
    """Least-privilege RBAC (see docs/operations.md for every rule and why)."""

    create: bool = Field(True, description="create the ClusterRoles, Role and bindings")


class Store(_Values):
    """The operator's own object-store credentials, given to it as the ECC_STORE_* environment
    variables from a Secret in the release namespace. Either name an existing Secret, or give
    an endpoint and keys and the chart creates one (an external S3 or MinIO). With neither,
    the operator reads the Secret each resource names (spec.store.secretRef), which RBAC only
    allows in the release namespace."""

    existingSecret: str = Field("", pattern=r"^$|" + _K8S_NAME[1:],
                                description=f"a Secret in the release namespace with the keys ECC_STORE_ENDPOINT, "
                                            f"ECC_STORE_ACCESS_KEY, ECC_STORE_SECRET_KEY (and optionally "
                                            f"ECC_STORE_BUCKET, ECC_STORE_SECURE, ECC_STORE_CA) — e.g. "
                                            f"`{STORE_SECRET_NAME}` on the local cluster")
    endpoint: str = Field("", pattern=r"^$|^[^/:\s]+(:[0-9]{1,5})?$",
                          description="host:port of the S3 API without scheme (used when existingSecret is empty)")
    accessKey: str = Field("", description="access key (used with endpoint)")
    secretKey: str = Field("", description="secret key (used with endpoint)")
    bucket: str = Field(DEFAULT_BUCKET, min_length=3, max_length=63, description="bucket")
    secure: bool = Field(False, description="TLS to the store")
    caBundle: str = Field("", pattern=r"^$|^-----BEGIN CERTIFICATE-----",
                          description="with secure: PEM of the CA(s) the store's certificate chains to, when not a "
                                      "public CA; it reaches every Job, agent and storage initializer with the store "
                                      "settings (ECC_STORE_CA)")


class ServiceMonitor(_Values):
    """A prometheus-operator ServiceMonitor for the metrics Service (needs monitoring.coreos.com)."""

    enabled: bool = Field(False, description="create it")
    interval: str = Field("30s", pattern=r"^[0-9]+(ms|s|m|h)$", description="scrape interval")
    labels: dict[str, str] = Field(default_factory=dict,
                                   description="extra labels, e.g. the `release` your Prometheus selects on")


class Metrics(_Values):
    """The operator's Prometheus endpoint."""

    port: int = Field(9090, ge=1, le=65535, description="container port of /metrics (`--metrics-port`; the "
                                                        "operator listens on all addresses)")
    servicePort: int = Field(9090, ge=1, le=65535,
                             description="port of the metrics Service (it forwards to the container's `port`)")
    scrapeAnnotations: bool = Field(True, description="annotate the pod prometheus.io/scrape, port and path "
                                                      "(annotation-based discovery, e.g. the local cluster)")
    service: bool = Field(True, description="create a ClusterIP Service named <fullname>-metrics")
    serviceMonitor: ServiceMonitor = Field(default_factory=ServiceMonitor)


class PrometheusRule(_Values):
    """The alert rules (operator/ecc_operator/gen/alerts.py) as a prometheus-operator PrometheusRule.
    The same rules are in the chart as a plain rules file: files/alerts/ecc-fleet.rules.yaml."""

    enabled: bool = Field(False, description="create it (needs monitoring.coreos.com)")
    labels: dict[str, str] = Field(default_factory=dict, description="extra labels your Prometheus selects on")


class Dashboards(_Values):
    """Grafana dashboards (operator/ecc_operator/gen/dashboards.py) as ConfigMaps for Grafana's sidecar."""

    enabled: bool = Field(True, description="create one ConfigMap per dashboard")
    namespace: str = Field("", pattern=r"^$|" + _K8S_NAME[1:],
                           description="namespace of the ConfigMaps; empty: the release namespace")
    labels: dict[str, str] = Field(default_factory=lambda: {"grafana_dashboard": "1"},
                                   description="labels the sidecar selects on")
    annotations: dict[str, str] = Field(default_factory=dict, description="e.g. grafana_folder for the sidecar")


class NetworkPolicy(_Values):
    """A NetworkPolicy on the operator's pods (defence in depth; needs a policy engine such as
    Calico or Cilium: without one it is stored and ignored). Ingress only: the node-credentials
    port from edge agents' pods, /metrics from `metricsFrom`, the health port from anywhere (the
    kubelet's probes). Egress stays open (the API server and the store are cluster-specific)."""

    enabled: bool = Field(False, description="create it. Off by default: on KubeEdge, agents on edge nodes may "
                          "reach the operator through EdgeMesh, whose traffic does not come from the agents' pods")
    agentsFrom: list[dict[str, Any]] = Field(
        default_factory=lambda: [{"namespaceSelector": {},
                                  "podSelector": {"matchLabels": {"app.kubernetes.io/component": "edge-agent"}}}],
        description="NetworkPolicyPeers allowed on the node-credentials port; default: the agent pods the "
        "operator creates, in every namespace")
    metricsFrom: list[dict[str, Any]] = Field(
        default_factory=lambda: [{"namespaceSelector": {}}],
        description="NetworkPolicyPeers allowed on the metrics port (your Prometheus); default: every namespace")


class ChartValues(_Values):
    """Values of the ecc-fleet Helm chart."""

    nameOverride: str = Field("", max_length=40, description="replaces the chart name in object names")
    fullnameOverride: str = Field("", max_length=52, description="replaces <release>-<chart> in object names")
    crds: Crds = Field(default_factory=Crds)
    image: Image = Field(default_factory=Image)
    imagePullSecrets: list[dict[str, str]] = Field(default_factory=list, description="e.g. [{name: regcred}]")
    operator: Operator = Field(default_factory=Operator)
    workloads: Workloads = Field(default_factory=Workloads)
    kserve: KServe = Field(default_factory=KServe)
    serviceAccount: ServiceAccount = Field(default_factory=ServiceAccount)
    rbac: Rbac = Field(default_factory=Rbac)
    store: Store = Field(default_factory=Store)
    metrics: Metrics = Field(default_factory=Metrics)
    prometheusRule: PrometheusRule = Field(default_factory=PrometheusRule)
    dashboards: Dashboards = Field(default_factory=Dashboards)
    networkPolicy: NetworkPolicy = Field(default_factory=NetworkPolicy)
    global_: dict[str, Any] = Field(default_factory=dict, alias="global",
                                    description="Helm's global values (unused by this chart)")


# ---------------------------------------------------------------------------
# values.schema.json (pure)
# ---------------------------------------------------------------------------
def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_inline(x, defs) for x in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = copy.deepcopy(defs[node["$ref"].split("/")[-1]])
        rest = {k: v for k, v in node.items() if k != "$ref"}
        return _inline({**target, **rest}, defs)
    return {k: _inline(v, defs) for k, v in node.items() if k not in ("$defs", "title")}


def _simplify(node: Any) -> Any:
    """Optional[X] (anyOf X|null) → X that also accepts null; keep everything else."""
    if isinstance(node, list):
        return [_simplify(x) for x in node]
    if not isinstance(node, dict):
        return node
    node = {k: _simplify(v) for k, v in node.items()}
    branches = node.get("anyOf")
    if branches and len(branches) == 2 and {"type": "null"} in branches:
        other = next(b for b in branches if b != {"type": "null"})
        if "type" in other and isinstance(other["type"], str):
            merged = {**other, **{k: v for k, v in node.items() if k != "anyOf"}}
            merged["type"] = [other["type"], "null"]
            return merged
    return node


def values_schema() -> dict[str, Any]:
    """values.schema.json: draft-07, self-contained, unknown keys refused."""
    raw = ChartValues.model_json_schema(by_alias=True, mode="validation")
    schema = _simplify(_inline(raw, raw.get("$defs", {})))
    return {"$schema": "http://json-schema.org/draft-07/schema#", "title": "ecc-fleet chart values", **schema}


def default_values() -> dict[str, Any]:
    return ChartValues().model_dump(by_alias=True, mode="json")


# ---------------------------------------------------------------------------
# values.yaml with descriptions as comments (pure)
# ---------------------------------------------------------------------------
def _scalar(value: Any) -> str:
    return json.dumps(value) if isinstance(value, str) else ("null" if value is None else json.dumps(value))


def _wrap(text: str, indent: str, width: int = 100) -> list[str]:
    words, lines, line = text.split(), [], ""
    for w in words:
        if line and len(indent) + 2 + len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    if line:
        lines.append(line)
    return [f"{indent}# {x}" for x in lines]


def _emit(model: type[BaseModel], value: dict[str, Any], indent: str, out: list[str]) -> None:
    for name, field in model.model_fields.items():
        key = field.alias or name
        v = value[key]
        if field.description:
            out.extend(_wrap(field.description, indent))
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            doc = (annotation.__doc__ or "").strip()
            if doc and not field.description:
                out.extend(_wrap(" ".join(doc.split()), indent))
            out.append(f"{indent}{key}:")
            _emit(annotation, v, indent + "  ", out)
        elif isinstance(v, dict) and v:
            out.append(f"{indent}{key}:")
            out.extend(f"{indent}  {json.dumps(k)}: {_scalar(x)}" for k, x in v.items())
        elif isinstance(v, list) and v:
            out.append(f"{indent}{key}:")
            out.extend(f"{indent}  - {json.dumps(x)}" for x in v)
        elif isinstance(v, dict):
            out.append(f"{indent}{key}: {{}}")
        elif isinstance(v, list):
            out.append(f"{indent}{key}: []")
        else:
            out.append(f"{indent}{key}: {_scalar(v)}")


def values_yaml(header: str = "") -> str:
    out: list[str] = [header.rstrip("\n")] if header else []
    _emit(ChartValues, default_values(), "", out)
    return "\n".join(out) + "\n"


def validation_errors(values: dict[str, Any]) -> list[str]:
    """Why `values` (merged onto the defaults by Helm) are invalid, each naming its field (pure)."""
    from pydantic import ValidationError

    try:
        ChartValues.model_validate(values)
    except ValidationError as exc:
        return [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
    return []
