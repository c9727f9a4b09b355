"""An edge agent's own store credentials, from the operator (contracts.NodeIdentity).

`NodeCredentialsProvider` is a minio credentials provider: the SDK asks it before every request.
It answers from memory while the credentials it holds are young, and otherwise POSTs the node's
projected ServiceAccount token (re-read each time: the kubelet renews the file) to the operator.
When the operator cannot be reached or refuses, credentials that have not expired yet are used a
while longer (renewal is retried every RETRY_S); without any, the request fails with
`StoreUnavailable` (the agent spools and keeps serving) or `StoreDenied` (401/403, the message says
why), never with a credential of another node.

The exchange is HTTPS only, the operator's certificate checked against `ca_pem` (the fleet's
AgentEnv.CREDENTIALS_CA) or the system's trust store: the token is never sent to a server that
cannot prove it is the operator, and the keys never cross the network in plaintext.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Callable

import urllib3
from minio.credentials import Credentials, Provider

from ecc_workloads.contracts import AgentEnv, NodeCredentialsRefusal, NodeIdentity, NodeStoreCredentials
from ecc_workloads.store import StoreDenied, StoreUnavailable
from ecc_workloads.timestamps import epoch
from ecc_workloads.tls import client_context, https_host

log = logging.getLogger(__name__)

RETRY_S = 30.0
EXPIRY_MARGIN_S = 60.0
"""Credentials this close to their expiry are not used any more."""


def _expires_at(creds: NodeStoreCredentials) -> float:
    when = epoch(creds.expiration)
    if when is None:
        raise ValueError(f"node store credentials: expiration {creds.expiration!r} is not an RFC 3339 time")
    return when


class NodeCredentialsProvider(Provider):
    """Credentials of this node only, renewed at half their life."""

    def __init__(self, url: str, token_file: str | Path, *, ca_pem: str | None = None, timeout_s: float = 10.0,
                 clock: Callable[[], float] = time.time):
        """ValueError (naming the setting) for a URL that is not https or a CA that is not PEM."""
        https_host(url, AgentEnv.CREDENTIALS_URL)
        self.url, self.token_file, self.clock = url, Path(token_file), clock
        self.http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=3.0, read=timeout_s),
                                        retries=urllib3.Retry(total=0, connect=0, read=0, redirect=0),
                                        ssl_context=client_context(ca_pem, AgentEnv.CREDENTIALS_CA))
        self._held: NodeStoreCredentials | None = None
        self._renew_at = 0.0
        self._lock = threading.Lock()
        self.issued_total = 0

    @property
    def held(self) -> NodeStoreCredentials | None:
        return self._held

    def retrieve(self) -> Credentials:
        with self._lock:
            now = self.clock()
            if self._held is None or now >= self._renew_at:
                try:
                    fresh = self.fetch()
                except (StoreUnavailable, StoreDenied) as exc:
                    if self._held is None or now >= _expires_at(self._held) - EXPIRY_MARGIN_S:
                        raise
                    log.warning(f"store credentials not renewed ({exc}); the held ones expire at "
                                f"{self._held.expiration}")
                    self._renew_at = now + RETRY_S
                else:
                    start = now
                    self._held, self.issued_total = fresh, self.issued_total + 1
                    self._renew_at = start + max(RETRY_S, (_expires_at(fresh) - start) / 2)
            held = self._held
        return Credentials(held.access_key, held.secret_key, held.session_token or None)

    def fetch(self) -> NodeStoreCredentials:
        """One exchange with the operator."""
        try:
            token = self.token_file.read_text().strip()
        except OSError as exc:
            raise StoreDenied(f"the node's identity token {self.token_file} cannot be read ({exc.strerror}): the "
                              f"agent needs a projected serviceAccountToken volume with audience "
                              f"{NodeIdentity.AUDIENCE!r}") from exc
        try:
            resp = self.http.request("POST", self.url, headers={"Authorization": f"Bearer {token}"})
        except urllib3.exceptions.HTTPError as exc:
            reason = getattr(exc, "reason", None) or exc
            if isinstance(reason, urllib3.exceptions.SSLError):
                raise StoreUnavailable(f"the credentials endpoint {self.url} did not prove it is the operator (its "
                                       f"certificate does not chain to {AgentEnv.CREDENTIALS_CA}, or names another "
                                       f"host): {reason}") from exc
            raise StoreUnavailable(f"the operator's credentials endpoint {self.url} is unreachable: "
                                   f"{type(exc).__name__}") from exc
        if resp.status == 200:
            try:
                return NodeStoreCredentials.model_validate_json(resp.data)
            except ValueError as exc:
                raise StoreUnavailable(f"{self.url} answered credentials that do not parse: {exc}") from exc
        try:
            refusal = NodeCredentialsRefusal.model_validate_json(resp.data)
            why = f"{refusal.reason}: {refusal.message}"
        except ValueError:
            why = resp.data[:200].decode("utf-8", "replace")
        if resp.status in (401, 403):
            raise StoreDenied(f"the operator ({self.url}) refused this node's identity ({resp.status} {why})")
        raise StoreUnavailable(f"the operator ({self.url}) issued no credentials ({resp.status} {why})")
