"""Certificates and TLS contexts: a small CA, leaves it signs, and the client and server contexts.

Used by the operator (the serving certificate of its node-credentials endpoint), by the agents
and the other store clients (a CA bundle to trust), and by the local cluster's PKI. Keys are
ECDSA P-256; certificates SHA-256. Everything takes and returns PEM text or `cryptography`
objects; nothing here reads the network.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LEAF_VALIDITY = dt.timedelta(days=365)
CA_VALIDITY = dt.timedelta(days=3650)
MIN_VERSION = ssl.TLSVersion.TLSv1_2


class CertificateError(ValueError):
    """A certificate or key that cannot be used; the message names where it came from."""


def _ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _name(common_name: str, organization: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)] if organization else []
    return x509.Name(attrs + [x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=cert_sign, crl_sign=cert_sign,
                         encipher_only=False, decipher_only=False)


def make_ca(common_name: str, validity: dt.timedelta = CA_VALIDITY) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _ec_key()
    now = dt.datetime.now(dt.timezone.utc)
    name = _name(common_name)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + validity)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def issue(ca_cert: x509.Certificate, ca_key, common_name: str, *, organization: str | None = None,
          server: bool = False, client: bool = False, dns_names: tuple[str, ...] = (),
          ip_addresses: tuple[str, ...] = (), validity: dt.timedelta = LEAF_VALIDITY,
          ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A leaf certificate signed by the CA, for serving and/or client authentication."""
    if not (server or client):
        raise ValueError("issue(): a certificate must be for server and/or client use")
    key = _ec_key()
    now = dt.datetime.now(dt.timezone.utc)
    usages = ([ExtendedKeyUsageOID.SERVER_AUTH] if server else []) + ([ExtendedKeyUsageOID.CLIENT_AUTH] if client else [])
    builder = (
        x509.CertificateBuilder().subject_name(_name(common_name, organization)).issuer_name(ca_cert.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + validity)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in dns_names]
    sans += [x509.IPAddress(ipaddress.ip_address(a)) for a in ip_addresses]
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def https_host(url: str, setting: str) -> str:
    """The host of an https URL; ValueError naming `setting` for any other URL (what is fetched
    from it is secret: never over plaintext)."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"{setting} {url!r}: must be https://HOST[:PORT]/PATH — the endpoint hands out secret "
                         "keys, so it is reached over TLS only")
    return parts.hostname


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def load_certificates(pem: str, source: str) -> list[x509.Certificate]:
    """Every certificate of a PEM bundle; CertificateError naming `source` if there is none or one
    does not parse."""
    try:
        certs = x509.load_pem_x509_certificates(pem.encode())
    except ValueError as exc:
        raise CertificateError(f"{source}: not a PEM certificate bundle ({exc})") from exc
    return certs


def covered_names(cert: x509.Certificate) -> set[str]:
    """The DNS names and IP addresses a certificate is valid for."""
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    return set(sans.get_values_for_type(x509.DNSName)) | {str(a) for a in sans.get_values_for_type(x509.IPAddress)}


def client_context(ca_pem: str | None, source: str = "the CA bundle") -> ssl.SSLContext:
    """Verifies the server's certificate and host name: against `ca_pem` when given (and only
    it), else against the system's trust store."""
    if ca_pem:
        load_certificates(ca_pem, source)
    try:
        ctx = ssl.create_default_context(cadata=ca_pem or None)
    except ssl.SSLError as exc:
        raise CertificateError(f"{source}: {exc}") from exc
    ctx.minimum_version = MIN_VERSION
    return ctx


def server_context(cert_chain_pem: str, key_pem_text: str, source: str = "the serving certificate") -> ssl.SSLContext:
    """A server context for a certificate (chain) and its key, TLS 1.2 or newer."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = MIN_VERSION
    load_chain(ctx, cert_chain_pem, key_pem_text, source)
    return ctx


def load_chain(ctx: ssl.SSLContext, cert_chain_pem: str, key_pem_text: str, source: str) -> None:
    """(Re)load a server context's certificate: new connections use it, open ones keep theirs.
    The ssl module reads only files, so the PEMs pass through a private temporary directory."""
    with tempfile.TemporaryDirectory(prefix="ecc-tls-") as tmp:
        cert_file, key_file = Path(tmp) / "tls.crt", Path(tmp) / "tls.key"
        cert_file.write_text(cert_chain_pem)
        key_file.touch(mode=0o600)
        key_file.write_text(key_pem_text)
        try:
            ctx.load_cert_chain(os.fspath(cert_file), os.fspath(key_file))
        except ssl.SSLError as exc:
            raise CertificateError(f"{source}: the certificate and key do not load ({exc})") from exc
