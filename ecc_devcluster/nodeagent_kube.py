"""Thin wrapper over the Kubernetes API calls the process node agent makes.

Everything comes back as the API's JSON (camelCase dicts), which is what the
pure plan/lifecycle functions consume. The kubernetes client is imported here
only, lazily, so the pure modules stay light.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

log = logging.getLogger("ecc.nodeagent")


class KubeApi:
    def __init__(self, kubeconfig: Path):
        from kubernetes import client, config

        cfg = client.Configuration()
        config.load_kube_config(config_file=str(kubeconfig), client_configuration=cfg)
        cfg.connection_pool_maxsize = 32
        cfg.retries = 3
        self._client_mod = client
        self.api_client = client.ApiClient(cfg)
        self.core = client.CoreV1Api(self.api_client)
        self.coordination = client.CoordinationV1Api(self.api_client)

    # ------------------------------------------------------------------ helpers
    def to_json(self, obj: Any) -> dict:
        return self.api_client.sanitize_for_serialization(obj)

    @staticmethod
    def is_status(exc: Exception, *codes: int) -> bool:
        return getattr(exc, "status", None) in codes

    def _raw(self, response) -> dict:
        return json.loads(response.data)

    # ------------------------------------------------------------------ nodes
    def get_node(self, name: str) -> dict | None:
        from kubernetes.client.rest import ApiException

        try:
            return self._raw(self.core.read_node(name, _preload_content=False))
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def create_node(self, body: dict) -> dict:
        return self._raw(self.core.create_node(body, _preload_content=False))

    def patch_node(self, name: str, body: dict) -> dict:
        return self._raw(self.core.patch_node(name, body, _preload_content=False))

    def patch_node_status(self, name: str, body: dict) -> dict:
        """JSON merge patch: lists (conditions, addresses) are replaced as a whole."""
        return self._raw(self.core.patch_node_status(name, body, _preload_content=False,
                                                     _content_type="application/merge-patch+json"))

    def renew_lease(self, node_name: str, node_uid: str, duration_seconds: int) -> None:
        from kubernetes.client.rest import ApiException

        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        namespace = "kube-node-lease"
        body = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {
                "name": node_name,
                "namespace": namespace,
                "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": node_name, "uid": node_uid}],
            },
            "spec": {"holderIdentity": node_name, "leaseDurationSeconds": duration_seconds, "renewTime": now},
        }
        try:
            self.coordination.patch_namespaced_lease(node_name, namespace, {"spec": body["spec"]})
        except ApiException as exc:
            if exc.status != 404:
                raise
            self.coordination.create_namespaced_lease(namespace, body)

    # ------------------------------------------------------------------ pods
    def list_pods_on_node(self, node_name: str) -> tuple[list[dict], str]:
        raw = self._raw(
            self.core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={node_name}", _preload_content=False)
        )
        return raw.get("items") or [], raw["metadata"]["resourceVersion"]

    def watch(self, list_func, resource_version: str, timeout_seconds: int = 300, **kwargs) -> Iterator[dict]:
        """Raw watch events ({'type', 'object'} with JSON objects); ends on timeout."""
        from kubernetes import watch

        w = watch.Watch()
        for event in w.stream(list_func, resource_version=resource_version, timeout_seconds=timeout_seconds,
                              allow_watch_bookmarks=True, _request_timeout=(10, timeout_seconds + 30), **kwargs):
            obj = event.get("raw_object") or self.to_json(event["object"])
            yield {"type": event["type"], "object": obj}

    def patch_pod_status(self, namespace: str, name: str, status: dict) -> None:
        self.core.patch_namespaced_pod_status(name, namespace, {"status": status}, _preload_content=False)

    def delete_pod_now(self, namespace: str, name: str, uid: str) -> None:
        """Confirm a pod's deletion (grace 0, only this incarnation: uid precondition)."""
        from kubernetes.client.rest import ApiException

        body = {"gracePeriodSeconds": 0, "preconditions": {"uid": uid}}
        try:
            self.core.delete_namespaced_pod(name, namespace, body=body, grace_period_seconds=0, _preload_content=False)
        except ApiException as exc:
            if exc.status not in (404, 409):
                raise

    def emit_event(self, pod: dict, node_name: str, reason: str, message: str, warning: bool = False) -> None:
        """A core/v1 Event about the pod, from `kubelet` on the node (as `kubectl describe` shows)."""
        meta = pod["metadata"]
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"generateName": f"{meta['name']}.", "namespace": meta["namespace"]},
            "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": meta["name"],
                               "namespace": meta["namespace"], "uid": meta["uid"]},
            "reason": reason,
            "message": message[:1024],
            "type": "Warning" if warning else "Normal",
            "source": {"component": "kubelet", "host": node_name},
            "reportingComponent": "ecc-process-node-agent",
            "reportingInstance": node_name,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        self.core.create_namespaced_event(meta["namespace"], body, _preload_content=False)

    def read_secret(self, namespace: str, name: str) -> dict | None:
        from kubernetes.client.rest import ApiException

        try:
            return self._raw(self.core.read_namespaced_secret(name, namespace, _preload_content=False))
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def read_configmap(self, namespace: str, name: str) -> dict | None:
        from kubernetes.client.rest import ApiException

        try:
            return self._raw(self.core.read_namespaced_config_map(name, namespace, _preload_content=False))
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def request_token(self, namespace: str, service_account: str, pod_name: str, pod_uid: str,
                      audience: str, expiration_seconds: int) -> tuple[str, datetime]:
        """A service-account token bound to the pod (TokenRequest API)."""
        body = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {
                "audiences": [audience] if audience else [],
                "expirationSeconds": expiration_seconds,
                "boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": pod_name, "uid": pod_uid},
            },
        }
        raw = self._raw(
            self.core.create_namespaced_service_account_token(service_account, namespace, body, _preload_content=False)
        )
        expires = datetime.strptime(raw["status"]["expirationTimestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        return raw["status"]["token"], expires

    # ------------------------------------------------------------------ services
    def list_services(self) -> tuple[list[dict], str]:
        raw = self._raw(self.core.list_service_for_all_namespaces(_preload_content=False))
        return raw.get("items") or [], raw["metadata"]["resourceVersion"]
