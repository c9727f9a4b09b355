"""Signed releases: the operator signs what the agents follow, and agents refuse anything else.

The store and the path to it are not trusted: whoever can write the desired state could choose
which modules every node runs. So the operator signs each DesiredState it writes (ed25519, in a
DSSE envelope — the Dead Simple Signing Envelope of in-toto and TUF, via securesystemslib), and
the desired state pins each tier's bundle manifest by sha256; the manifest pins its modules and
its tokenizer by sha256. One signature covers the chain.

    signer = signer_from_pem(pem)                        # the operator (its key in a Secret)
    raw = sign_document(desired, signer)                 # bytes to store
    desired = open_document(raw, DesiredState, keys)     # an agent; raises UntrustedDocument

Agents learn the trusted public keys from ``AgentEnv.RELEASE_KEYS``: comma-separated
``ed25519:<hex of the 32-byte key>`` (two during a rotation). Key ids are derived from the
key itself, so signer and verifier never have to agree on a name.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from ecc_workloads.contracts import AgentEnv, ReleaseSigning, SignedEnvelope

D = TypeVar("D", bound=BaseModel)
KEY_PREFIX = "ed25519:"


class UntrustedDocument(ValueError):
    """A document that is not signed by a trusted key, is tampered with, or is not an envelope."""


class KeyFormatError(ValueError):
    """A trusted key or a private key that cannot be used; the message names the setting."""


def payload_type(doc_type: type[BaseModel]) -> str:
    """The envelope's payloadType of a document class (ReleaseSigning.PAYLOAD_TYPES)."""
    try:
        return ReleaseSigning.PAYLOAD_TYPES[doc_type.__name__]
    except KeyError as err:
        raise TypeError(f"{doc_type.__name__} is not a signed document kind "
                        f"(signed: {sorted(ReleaseSigning.PAYLOAD_TYPES)})") from err


# ---------------------------------------------------------------------------------------------
# Keys
# ---------------------------------------------------------------------------------------------
def generate_private_pem() -> bytes:
    """A new ed25519 private key, PEM (PKCS#8), as the operator keeps it in its Secret."""
    from securesystemslib.signer import CryptoSigner

    return CryptoSigner.generate_ed25519().private_bytes


def signer_from_pem(pem: bytes, source: str = "the signing key"):
    """A securesystemslib CryptoSigner for an ed25519 private key in PEM (PKCS#8)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    from securesystemslib.signer import CryptoSigner

    try:
        key = load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as err:
        raise KeyFormatError(f"{source} is not an unencrypted PEM private key: {err}") from err
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFormatError(f"{source} is a {type(key).__name__}; release signing takes ed25519 keys only")
    return CryptoSigner(key)


def public_key_text(signer) -> str:
    """The signer's public key as agents are given it: ``ed25519:<hex>``."""
    return KEY_PREFIX + signer.public_key.keyval["public"]


def parse_trusted_keys(text: str | None, setting: str = AgentEnv.RELEASE_KEYS) -> list:
    """The public keys in ``text`` (comma-separated ``ed25519:<64 hex>``) as securesystemslib keys.
    At least one is required: an agent that trusts no key could follow no release."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from securesystemslib.signer import SSlibKey

    items = [t.strip() for t in (text or "").split(",") if t.strip()]
    if not items:
        raise KeyFormatError(f"{setting} is empty: it must name at least one release key "
                             f"('{KEY_PREFIX}<64 hex digits>'; the operator's DaemonSet sets it)")
    keys = []
    for item in items:
        raw = item[len(KEY_PREFIX):] if item.startswith(KEY_PREFIX) else None
        try:
            if raw is None or len(raw) != 64:
                raise ValueError("not 'ed25519:' followed by 64 hex digits")
            keys.append(SSlibKey.from_crypto(Ed25519PublicKey.from_public_bytes(bytes.fromhex(raw))))
        except ValueError as err:
            raise KeyFormatError(f"{setting}: {item[:80]!r} is not a release key ({err}); "
                                 f"allowed: comma-separated '{KEY_PREFIX}<64 hex digits>'") from err
    return keys


# ---------------------------------------------------------------------------------------------
# Documents
# ---------------------------------------------------------------------------------------------
def sign_bytes(payload: bytes, kind: str, signer) -> bytes:
    """A DSSE envelope (JSON bytes) of ``payload`` with payloadType ``kind``, signed by ``signer``."""
    from securesystemslib.dsse import Envelope

    envelope = Envelope(payload=payload, payload_type=kind, signatures={})
    envelope.sign(signer)
    return json.dumps(envelope.to_dict(), sort_keys=True).encode()


def sign_document(doc: BaseModel, signer) -> bytes:
    """The document's JSON in a signed envelope; its class names the payloadType."""
    return sign_bytes(doc.model_dump_json().encode(), payload_type(type(doc)), signer)


def open_bytes(raw: bytes, kind: str, keys: Sequence) -> bytes:
    """The payload of an envelope of payloadType ``kind`` that one of ``keys`` signed; anything
    else raises UntrustedDocument saying why (never another exception, whatever ``raw`` holds)."""
    from securesystemslib.dsse import Envelope
    from securesystemslib.exceptions import VerificationError

    if len(raw) > ReleaseSigning.MAX_ENVELOPE_BYTES:
        raise UntrustedDocument(f"{len(raw)} bytes: larger than a signed document may be "
                                f"({ReleaseSigning.MAX_ENVELOPE_BYTES})")
    try:
        envelope = SignedEnvelope.model_validate_json(raw)
    except ValidationError as err:
        raise UntrustedDocument(f"not a signed envelope: {_first_error(err)}") from err
    if envelope.payload_type != kind:
        raise UntrustedDocument(f"payloadType is {envelope.payload_type[:100]!r}, expected {kind!r}")
    try:
        parsed = Envelope.from_dict(envelope.model_dump(by_alias=True))
        parsed.verify(list(keys), threshold=1)
    except VerificationError as err:
        known = ", ".join(k.keyid[:12] for k in keys)
        signed = ", ".join(s.keyid[:12] for s in envelope.signatures)
        raise UntrustedDocument(f"no valid signature by a trusted key (signed by {signed or 'nobody'}; "
                                f"trusted: {known}): {err}") from err
    except Exception as err:  # noqa: BLE001 - malformed base64 or signature encodings, whatever the library raises
        raise UntrustedDocument(f"malformed envelope: {type(err).__name__}: {str(err)[:200]}") from err
    return parsed.payload


def open_document(raw: bytes, doc_type: type[D], keys: Sequence) -> D:
    """``doc_type`` parsed from a signed envelope (open_bytes); a signed payload that is not a
    valid ``doc_type`` raises UntrustedDocument too."""
    payload = open_bytes(raw, payload_type(doc_type), keys)
    try:
        return doc_type.model_validate_json(payload)
    except ValidationError as err:
        raise UntrustedDocument(f"signed, but not a valid {doc_type.__name__}: {_first_error(err)}") from err


def _first_error(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "document"
    return f"{where}: {first.get('msg', '')}"[:300]
