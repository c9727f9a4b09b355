"""KServe's controller in the local cluster, in Standard (raw Deployment) mode: no Knative, no Istio.

The controller is built from github.com/kserve/kserve
v0.20.0 (gomods/kserve), put alone into an image FROM scratch, and installed from the module's
own kustomize config (config/default) with three changes:

* cert-manager is not there: the webhook server's certificate comes from the cluster's PKI
  (a Secret), and the CA bundle is written into the webhook configurations and the CRDs'
  conversion webhooks instead of cert-manager's injection annotation;
* the image is the one built here (`imagePullPolicy: Never`), on the cloud worker;
* `inferenceservice-config` (config/configmap) says defaultDeploymentMode Standard and creates
  no Ingress.

The API server reaches the webhooks through the gateway's egress proxy, so it must resolve a
webhook Service to its endpoints (pod IPs), not to its ClusterIP: `--enable-aggregator-routing`.
"""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path

import yaml

from ecc_devcluster import pki

KSERVE_VERSION = "v0.20.0"
NAMESPACE = "kserve"
WEBHOOK_SERVICE = "kserve-webhook-server-service"
WEBHOOK_SECRET = "kserve-webhook-server-cert"
CONTROLLER_IMAGE = f"localhost/ecc-kserve-controller:{KSERVE_VERSION}"


def module_dir() -> Path:
    gomodcache = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True, check=True).stdout.strip()
    return Path(gomodcache) / "github.com" / "kserve" / f"kserve@{KSERVE_VERSION}"


def render(kubectl: str, workdir: Path) -> list[dict]:
    """`kubectl kustomize config/default` of the module (copied: the module cache is read-only)."""
    import shutil

    src = module_dir() / "config"
    dst = workdir / "kserve-config"
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    for p in dst.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    out = subprocess.run([kubectl, "kustomize", str(dst / "default")], capture_output=True, text=True, check=True).stdout
    docs = [d for d in yaml.safe_load_all(out) if d]
    config = [d for d in yaml.safe_load_all((dst / "configmap" / "inferenceservice.yaml").read_text()) if d]
    return docs + config


def adapt(docs: list[dict], *, ca_pem: str, cert_pem: str, key_pem: str, node_selector: dict[str, str]) -> list[dict]:
    """The rendered manifests for this cluster (pure)."""
    import base64

    out: list[dict] = []
    ca_b64 = base64.b64encode(ca_pem.encode()).decode()
    for d in copy.deepcopy(docs):
        kind, name = d["kind"], d["metadata"]["name"]
        ann = d["metadata"].get("annotations") or {}
        ann.pop("cert-manager.io/inject-ca-from", None)
        if kind == "Certificate" or (kind == "Secret" and name != WEBHOOK_SECRET and "webhook" in name):
            continue  # cert-manager's; the Secret below replaces them
        if kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
            for w in d["webhooks"]:
                w["clientConfig"]["caBundle"] = ca_b64
        if kind == "CustomResourceDefinition":
            conv = (d["spec"].get("conversion") or {}).get("webhook")
            if conv:
                conv["clientConfig"]["caBundle"] = ca_b64
        if kind == "Deployment" and name == "kserve-controller-manager":
            pod = d["spec"]["template"]["spec"]
            pod["nodeSelector"] = dict(node_selector)
            for c in pod["containers"]:
                if c["name"] == "manager":
                    c["image"], c["imagePullPolicy"] = CONTROLLER_IMAGE, "Never"
                    c["command"] = ["/kserve-manager"]
            pod["containers"] = [c for c in pod["containers"] if c["name"] == "manager"]
        if kind == "ConfigMap" and name == "inferenceservice-config":
            data = d["data"]
            deploy = json.loads(data["deploy"])
            deploy["defaultDeploymentMode"] = "Standard"
            data["deploy"] = json.dumps(deploy)
            ingress = json.loads(_strip_comments(data["ingress"]))
            ingress["disableIngressCreation"] = True
            data["ingress"] = json.dumps(ingress)
        out.append(d)
    out.append({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                "metadata": {"name": WEBHOOK_SECRET, "namespace": NAMESPACE},
                "stringData": {"tls.crt": cert_pem, "tls.key": key_pem}})
    return out


def _strip_comments(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.strip().startswith("#"))


def webhook_certificate(ca_cert_file: str, ca_key_file: str) -> tuple[str, str, str]:
    """(CA, certificate, key) PEMs for the webhook Service's DNS names, from the cluster's CA."""
    ca_cert, ca_key = pki.load_ca(ca_cert_file, ca_key_file)
    names = (WEBHOOK_SERVICE, f"{WEBHOOK_SERVICE}.{NAMESPACE}", f"{WEBHOOK_SERVICE}.{NAMESPACE}.svc",
             f"{WEBHOOK_SERVICE}.{NAMESPACE}.svc.cluster.local")
    cert, key = pki.issue(ca_cert, ca_key, f"{WEBHOOK_SERVICE}.{NAMESPACE}.svc", server=True, dns_names=names)
    return (Path(ca_cert_file).read_text(), pki.cert_pem(cert).decode(), pki.key_pem(key).decode())


def install(info, say, timeout_s: float = 180) -> None:
    """Install the controller into a running cluster with real nodes (its image is in the seed)."""
    import tempfile

    from ecc_devcluster.nodes import realnodes

    if not info.node_plans:
        raise RuntimeError("KServe's controller needs a real cloud worker: start the cluster with --cloud-workers 1")
    kubectl = str(Path(info.bin_dir) / "kubectl")
    with tempfile.TemporaryDirectory(prefix="kserve-") as tmp:
        docs = render(kubectl, Path(tmp))
    ca, cert, key = webhook_certificate(info.ca_file, str(Path(info.ca_file).with_name("ca.key")))
    from ecc_workloads import contracts as c

    manifests = adapt(docs, ca_pem=ca, cert_pem=cert, key_pem=key, node_selector={c.CLOUD_NODE_ROLE_LABEL: ""})
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
    realnodes.kubectl(info, "apply", "--server-side", "--force-conflicts", "--field-manager=ecc-dev", "-f", "-",
                      stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": [namespace, *manifests]}),
                      timeout_s=timeout_s)
    realnodes.kubectl(info, "-n", NAMESPACE, "rollout", "status", "deployment/kserve-controller-manager",
                      f"--timeout={int(timeout_s)}s", timeout_s=timeout_s + 10)
    say(f"KServe {KSERVE_VERSION} controller ready (Standard deployment mode, webhooks on the cluster's PKI)")

