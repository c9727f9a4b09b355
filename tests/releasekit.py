"""A release signing key for tests: desired states signed and manifests pinned as the operator
does it (release_signing), and the public key agents are given."""

from __future__ import annotations

import hashlib

from ecc_workloads import release_signing
from ecc_workloads.contracts import DesiredState, DesiredTier

SIGNER = release_signing.signer_from_pem(release_signing.generate_private_pem())
KEYS_TEXT = release_signing.public_key_text(SIGNER)
"""what AgentEnv.RELEASE_KEYS holds"""
KEYS = tuple(release_signing.parse_trusted_keys(KEYS_TEXT))
ANY_SHA = "0" * 64
"""a pin for manifests a test never loads"""


def signed(desired: DesiredState, signer=SIGNER) -> bytes:
    """The desired state as the operator stores it."""
    return release_signing.sign_document(desired, signer)


def pinned_tier(tier: str, profile: str, manifest_key: str, manifest: bytes, **kwargs) -> DesiredTier:
    """A tier whose pin is the sha256 of the manifest bytes stored at `manifest_key`."""
    return DesiredTier(tier=tier, profile=profile, manifest_key=manifest_key,
                       manifest_sha256=hashlib.sha256(manifest).hexdigest(), **kwargs)
