"""The operator's release signing key (release_signing): where it lives and how it is made.

The private key is the value ReleaseSigning.SECRET_KEY of a Secret in the operator's own
namespace. If the Secret does not exist the operator makes it (a new ed25519 key) on start-up;
bring your own by creating the Secret first. Replicas that start together race to create it:
the loser reads the winner's, so every replica signs with the same key.

Rotation: replace the Secret and restart the operator. The agents' DaemonSets carry the public
key, so they roll to the new one; until an agent has restarted it refuses documents signed with
the new key and keeps serving what it has (docs/operations.md).
"""

from __future__ import annotations

import logging

from ecc_workloads.contracts import ReleaseSigning
from ecc_workloads.release_signing import KeyFormatError, generate_private_pem, signer_from_pem

log = logging.getLogger(__name__)


def secret_manifest(namespace: str, name: str, pem: bytes) -> dict:
    return {
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": name, "namespace": namespace,
                     "labels": {"app.kubernetes.io/part-of": "ecc-fleet", "app.kubernetes.io/component": "release-signing"}},
        "stringData": {ReleaseSigning.SECRET_KEY: pem.decode()},
    }


def ensure(kube, namespace: str, name: str = ReleaseSigning.SECRET_NAME):
    """The signer of the key in Secret `namespace/name`, made first if the Secret is absent.
    A Secret without a usable key is an error naming the Secret and the key expected."""
    data = kube.get_secret_data(namespace, name)
    if data is None:
        if kube.create_if_absent(secret_manifest(namespace, name, generate_private_pem())):
            log.info("created Secret %s/%s: a new release signing key", namespace, name)
        data = kube.get_secret_data(namespace, name) or {}
    pem = data.get(ReleaseSigning.SECRET_KEY)
    if not pem:
        raise KeyFormatError(f"Secret {namespace}/{name} has no {ReleaseSigning.SECRET_KEY!r}: it must hold an "
                             f"ed25519 private key (PEM, PKCS#8) there, or be deleted so the operator makes one")
    return signer_from_pem(pem.encode(), source=f"Secret {namespace}/{name} key {ReleaseSigning.SECRET_KEY!r}")
