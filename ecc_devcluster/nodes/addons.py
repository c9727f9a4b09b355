"""What a real cluster has besides its nodes (pure manifests): CoreDNS, and the object store
as a Service without a selector whose endpoint is the gateway's MinIO relay.

CoreDNS serves cluster.local only and forwards nowhere: a name outside the cluster gets an
error instead of a query to some resolver the machine happens to use.
"""

from __future__ import annotations

from ecc_devcluster.nodes.plan import CLUSTER_DNS_IP, CLUSTER_DOMAIN, STORE_SERVICE, STORE_SERVICE_PORT
from ecc_workloads import contracts as c

DNS_NAMESPACE = "kube-system"
DNS_PORT = 1053
"""CoreDNS listens unprivileged; the Service maps 53 to it."""

COREFILE = f""".:{DNS_PORT} {{
    errors
    health :8080
    ready :8181
    kubernetes {CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {{
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }}
    prometheus :9153
    cache 30
    loop
    reload
}}
"""


def coredns_manifests(image: str) -> list[dict]:
    labels = {"k8s-app": "kube-dns"}
    meta = {"name": "coredns", "namespace": DNS_NAMESPACE}
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "system:coredns"},
         "rules": [
             {"apiGroups": [""], "resources": ["endpoints", "services", "pods", "namespaces"],
              "verbs": ["list", "watch"]},
             {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list", "watch"]},
         ]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": "system:coredns"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:coredns"},
         "subjects": [{"kind": "ServiceAccount", "name": "coredns", "namespace": DNS_NAMESPACE}]},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"Corefile": COREFILE}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {**meta, "labels": labels},
         "spec": {
             "replicas": 1,
             "selector": {"matchLabels": labels},
             "template": {
                 "metadata": {"labels": labels},
                 "spec": {
                     "serviceAccountName": "coredns",
                     "priorityClassName": "system-cluster-critical",
                     "dnsPolicy": "Default",
                     "nodeSelector": {c.CLOUD_NODE_ROLE_LABEL: ""},
                     "securityContext": {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532},
                     "containers": [{
                         "name": "coredns",
                         "image": image,
                         "imagePullPolicy": "Never",
                         "args": ["-conf", "/etc/coredns/Corefile"],
                         "ports": [{"name": "dns", "containerPort": DNS_PORT, "protocol": "UDP"},
                                   {"name": "dns-tcp", "containerPort": DNS_PORT, "protocol": "TCP"},
                                   {"name": "metrics", "containerPort": 9153, "protocol": "TCP"}],
                         "resources": {"requests": {"cpu": "50m", "memory": "32Mi"}, "limits": {"memory": "128Mi"}},
                         "securityContext": {"readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False,
                                             "capabilities": {"drop": ["ALL"]}},
                         "livenessProbe": {"httpGet": {"path": "/health", "port": 8080}, "periodSeconds": 10},
                         "readinessProbe": {"httpGet": {"path": "/ready", "port": 8181}, "periodSeconds": 2},
                         "volumeMounts": [{"name": "config", "mountPath": "/etc/coredns", "readOnly": True}],
                     }],
                     "volumes": [{"name": "config", "configMap": {"name": "coredns"}}],
                 },
             },
         }},
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": "kube-dns", "namespace": DNS_NAMESPACE, "labels": labels},
         "spec": {"selector": labels, "clusterIP": CLUSTER_DNS_IP, "ports": [
             {"name": "dns", "port": 53, "targetPort": DNS_PORT, "protocol": "UDP"},
             {"name": "dns-tcp", "port": 53, "targetPort": DNS_PORT, "protocol": "TCP"},
         ]}},
    ]


def store_manifests(gateway_ip: str, minio_port: int) -> list[dict]:
    """`ecc-store.ecc-system.svc:9000`: MinIO, which runs outside the nodes (as an object store
    outside a real cluster would), reached through the gateway."""
    return [
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": STORE_SERVICE, "namespace": c.SYSTEM_NAMESPACE},
         "spec": {"ports": [{"name": "s3", "port": STORE_SERVICE_PORT, "targetPort": minio_port, "protocol": "TCP"}]}},
        {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
         "metadata": {"name": f"{STORE_SERVICE}-gateway", "namespace": c.SYSTEM_NAMESPACE,
                      "labels": {"kubernetes.io/service-name": STORE_SERVICE,
                                 "endpointslice.kubernetes.io/managed-by": "ecc-dev"}},
         "addressType": "IPv4",
         "endpoints": [{"addresses": [gateway_ip], "conditions": {"ready": True}}],
         "ports": [{"name": "s3", "port": minio_port, "protocol": "TCP"}]},
    ]


def store_endpoint_in_cluster() -> str:
    return f"{STORE_SERVICE}.{c.SYSTEM_NAMESPACE}.svc:{STORE_SERVICE_PORT}"
