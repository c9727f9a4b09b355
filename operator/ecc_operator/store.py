"""Where the operator's own store credentials come from — one place for every controller.

In a cluster the operator runs with its store credentials in its environment (the StoreEnv
variables, from a Secret in the operator's own namespace that the Helm chart mounts), so its
ServiceAccount never needs to read Secrets elsewhere. Run outside a cluster (a developer's
shell, the control-plane tests) without those variables, it falls back to reading the Secret a
resource names (spec.store.secretRef) in that resource's namespace.

Jobs and servers never use these: their pods take the Secret of their own namespace by
`envFrom`, and edge agents a fleet-scoped one."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

from ecc_workloads.contracts import StoreEnv, StoreSettings

from ecc_operator.children import Kube, store_settings_from_secret

STORE_RETRY_S = 5.0


@dataclass(frozen=True)
class StoreAccess:
    settings: StoreSettings | None
    """None: no credentials (the named Secret is missing)."""
    source: str
    """where they came from, for messages: 'operator environment' or 'Secret ns/name'"""


def env_settings(bucket: str, environ: dict[str, str] | None = None) -> StoreSettings | None:
    env = dict(os.environ if environ is None else environ)
    if not env.get(StoreEnv.ENDPOINT):
        return None
    env[StoreEnv.BUCKET] = bucket
    return StoreSettings.from_env(env)


def store_access(kube: Kube, namespace: str, secret_name: str, bucket: str) -> StoreAccess:
    """The operator's credentials for `bucket`: its environment first, else the named Secret."""
    from_env = env_settings(bucket)
    if from_env is not None:
        return StoreAccess(from_env, "operator environment")
    data = kube.get_secret_data(namespace, secret_name)
    source = f"Secret {namespace}/{secret_name}"
    return StoreAccess(store_settings_from_secret(data, bucket) if data is not None else None, source)


@functools.lru_cache(maxsize=32)
def open_store(settings: StoreSettings):
    """One Store (and so one connection pool) per set of credentials, shared by every
    reconcile of every controller, instead of a new client every few seconds."""
    from ecc_workloads.store import Store

    return Store(settings, retry_seconds=STORE_RETRY_S)
