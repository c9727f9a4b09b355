"""Thin Kubernetes side effects for the controllers: get / create-or-adopt / apply / delete
children, read Secrets, patch status. Everything returns plain dicts (camelCase, as the API
server speaks) so the pure decision functions never see client objects."""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from typing import Any

from kubernetes import client
from kubernetes.client.rest import ApiException

from ecc_workloads.contracts import StoreEnv, StoreSettings

log = logging.getLogger(__name__)

FIELD_MANAGER = "ecc-operator"


def _dict(api: client.ApiClient, obj: Any) -> dict:
    return api.sanitize_for_serialization(obj) if obj is not None else None


@dataclass
class Kube:
    """The typed API groups the operator uses, on one ApiClient."""

    api: client.ApiClient

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    @property
    def batch(self) -> client.BatchV1Api:
        return client.BatchV1Api(self.api)

    @property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api)

    @property
    def custom(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.api)

    # ------------------------------------------------------------------ reads
    def get_job(self, namespace: str, name: str) -> dict | None:
        return self._get(lambda: self.batch.read_namespaced_job(name, namespace))

    def list_jobs(self, namespace: str, selector: str) -> list[dict]:
        items = self.batch.list_namespaced_job(namespace, label_selector=selector).items
        return [_dict(self.api, j) for j in items]

    def list_pods(self, namespace: str, selector: str) -> list[dict]:
        items = self.core.list_namespaced_pod(namespace, label_selector=selector).items
        return [_dict(self.api, p) for p in items]

    def get_deployment(self, namespace: str, name: str) -> dict | None:
        return self._get(lambda: self.apps.read_namespaced_deployment(name, namespace))

    def get_service(self, namespace: str, name: str) -> dict | None:
        return self._get(lambda: self.core.read_namespaced_service(name, namespace))

    def get_daemonset(self, namespace: str, name: str) -> dict | None:
        return self._get(lambda: self.apps.read_namespaced_daemon_set(name, namespace))

    def get_secret(self, namespace: str, name: str) -> dict | None:
        """The Secret as a dict, with `data` decoded to text."""
        secret = self._get(lambda: self.core.read_namespaced_secret(name, namespace))
        if secret is not None:
            secret["data"] = {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}
        return secret

    def list_custom(self, group: str, version: str, plural: str, namespace: str) -> list[dict]:
        return self.custom.list_namespaced_custom_object(group, version, namespace, plural).get("items") or []

    def annotate_custom(self, group: str, version: str, plural: str, namespace: str, name: str,
                        annotations: dict[str, str | None]) -> None:
        """Merge-patch metadata.annotations of a custom resource (None removes a key)."""
        self.custom.patch_namespaced_custom_object(group, version, namespace, plural, name,
                                                   {"metadata": {"annotations": annotations}},
                                                   _content_type="application/merge-patch+json")

    def annotate_job(self, namespace: str, name: str, annotations: dict[str, str | None]) -> None:
        self.batch.patch_namespaced_job(name, namespace, {"metadata": {"annotations": annotations}})

    def get_custom(self, group: str, version: str, plural: str, namespace: str, name: str) -> dict | None:
        return self._get(lambda: self.custom.get_namespaced_custom_object(group, version, namespace, plural, name),
                         raw=True)

    def get_cluster_custom(self, group: str, version: str, plural: str, name: str) -> dict | None:
        return self._get(lambda: self.custom.get_cluster_custom_object(group, version, plural, name), raw=True)

    def get_mutating_webhook(self, name: str) -> dict | None:
        adm = client.AdmissionregistrationV1Api(self.api)
        return self._get(lambda: adm.read_mutating_webhook_configuration(name))

    def ready_endpoints(self, namespace: str, service: str) -> int:
        """Ready endpoints of a Service, from its EndpointSlices."""
        slices = client.DiscoveryV1Api(self.api).list_namespaced_endpoint_slice(
            namespace, label_selector=f"kubernetes.io/service-name={service}").items
        return sum(1 for s in slices for e in (s.endpoints or [])
                   if e.conditions is None or e.conditions.ready is not False)

    def crd_exists(self, name: str) -> bool:
        ext = client.ApiextensionsV1Api(self.api)
        return self._get(lambda: ext.read_custom_resource_definition(name)) is not None

    def get_secret_data(self, namespace: str, name: str) -> dict[str, str] | None:
        secret = self._get(lambda: self.core.read_namespaced_secret(name, namespace))
        if secret is None:
            return None
        data = {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}
        data.update(secret.get("stringData") or {})
        return data

    def _get(self, call, raw: bool = False) -> dict | None:
        try:
            obj = call()
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return obj if raw else _dict(self.api, obj)

    # ------------------------------------------------------------------ writes
    def create_job(self, manifest: dict) -> bool:
        """Create the Job; an existing Job of that name is adopted (returns False)."""
        return _create_once(self.batch.create_namespaced_job, manifest)

    def create_if_absent(self, manifest: dict) -> bool:
        """Create a Secret unless one of that name exists (never read nor overwritten); True if created."""
        return _create_once(self.core.create_namespaced_secret, manifest)

    def delete_job(self, namespace: str, name: str) -> None:
        try:
            self.batch.delete_namespaced_job(name, namespace, propagation_policy="Background")
        except ApiException as exc:
            if exc.status != 404:
                raise

    def apply(self, manifest: dict) -> None:
        """Server-side apply (create or update) of a child, owned by the operator's field manager."""
        kind = manifest["kind"]
        ns, name = manifest["metadata"]["namespace"], manifest["metadata"]["name"]
        kw = dict(field_manager=FIELD_MANAGER, force=True, _content_type="application/apply-patch+yaml")
        if kind == "Deployment":
            self.apps.patch_namespaced_deployment(name, ns, manifest, **kw)
        elif kind == "DaemonSet":
            self.apps.patch_namespaced_daemon_set(name, ns, manifest, **kw)
        elif kind == "Secret":
            manifest = _secret_with_data(manifest)
            self.core.patch_namespaced_secret(name, ns, manifest, **kw)
        elif kind == "Service":
            self.core.patch_namespaced_service(name, ns, manifest, **kw)
        elif kind == "ConfigMap":
            self.core.patch_namespaced_config_map(name, ns, manifest, **kw)
        else:
            group, version = manifest["apiVersion"].split("/")
            plural = kind.lower() + "s"
            self.custom.patch_namespaced_custom_object(group, version, ns, plural, name, manifest, **kw)

    def delete_child(self, kind: str, namespace: str, name: str, api_version: str | None = None) -> None:
        try:
            if kind == "Deployment":
                self.apps.delete_namespaced_deployment(name, namespace)
            elif kind == "Service":
                self.core.delete_namespaced_service(name, namespace)
            elif kind == "Job":
                self.delete_job(namespace, name)
            elif kind == "Secret":
                self.core.delete_namespaced_secret(name, namespace)
            else:
                group, version = (api_version or "serving.kserve.io/v1beta1").split("/")
                self.custom.delete_namespaced_custom_object(group, version, namespace, kind.lower() + "s", name)
        except ApiException as exc:
            if exc.status != 404:
                raise

    def patch_status(self, group: str, version: str, plural: str, namespace: str, name: str, status: dict) -> None:
        self.custom.patch_namespaced_custom_object_status(
            group, version, namespace, plural, name, {"status": status},
            _content_type="application/merge-patch+json",
        )

    def write_status(self, group: str, version: str, plural: str, namespace: str, name: str, old: dict,
                     new: dict) -> bool:
        """Patch `new` onto the status only when it changes something (and log a phase change);
        returns whether it wrote. One write per reconcile at most, none when nothing changed."""
        from ecc_operator.conditions import same_status

        old = old or {}
        if same_status(old, new):
            return False
        if new.get("phase") != old.get("phase"):
            log.info(f"{namespace}/{name}: phase {old.get('phase')} -> {new.get('phase')}: {new.get('message')}")
        self.patch_status(group, version, plural, namespace, name, new)
        return True


def _secret_with_data(manifest: dict) -> dict:
    """stringData folded into base64 `data` (server-side apply then owns plain fields only)."""
    if not manifest.get("stringData"):
        return manifest
    out = {k: v for k, v in manifest.items() if k != "stringData"}
    out["data"] = {**(manifest.get("data") or {}),
                   **{k: base64.b64encode(v.encode()).decode() for k, v in manifest["stringData"].items()}}
    return out


def _create_once(create, manifest: dict) -> bool:
    """create(namespace, manifest); False when an object of that name exists already."""
    try:
        create(manifest["metadata"]["namespace"], manifest)
        return True
    except ApiException as exc:
        if exc.status == 409:
            return False
        raise


def store_settings_from_secret(data: dict[str, str], bucket: str) -> StoreSettings:
    """StoreSettings from a Secret holding the StoreEnv keys; the spec's bucket wins."""
    env = dict(data)
    env[StoreEnv.BUCKET] = bucket
    return StoreSettings.from_env(env)
