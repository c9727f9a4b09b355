"""The edge agent's API tokens: read from a directory (the fleet's Secret, mounted), one file per
scope, re-read when the files change (a rotated Secret reaches the agent without a restart).

Tokens are compared in constant time. A scope file may list several tokens (whitespace-separated)
so that clients can move to a new token before the old one is dropped.
"""

from __future__ import annotations

import hmac
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ecc_workloads.contracts import AgentApiAuth

RECHECK_S = 1.0


class TokenFilesMissing(RuntimeError):
    """The directory holds no token file at all."""


class ApiTokens:
    def __init__(self, directory: str | Path, recheck_s: float = RECHECK_S, clock: Callable[[], float] = time.monotonic):
        self.directory = Path(directory)
        self.recheck_s, self.clock = recheck_s, clock
        self._lock = threading.Lock()
        self._checked_at = float("-inf")
        self._signature: tuple = ()
        self._tokens: dict[str, tuple[bytes, ...]] = {}
        self._refresh(force=True)
        if not any(self._tokens.values()):
            raise TokenFilesMissing(
                f"no API token in {self.directory} (expected files {', '.join(AgentApiAuth.SCOPES)}: the EdgeFleet's "
                f"Secret ecc-fleet-<fleet>-api mounted there)")

    def _files_signature(self) -> tuple:
        sig = []
        for scope in AgentApiAuth.SCOPES:
            try:
                st = os.stat(self.directory / scope)  # follows the Secret volume's symlinks
                sig.append((scope, st.st_mtime_ns, st.st_size, st.st_ino))
            except FileNotFoundError:
                sig.append((scope, None))
        return tuple(sig)

    def _refresh(self, force: bool = False) -> None:
        now = self.clock()
        if not force and now - self._checked_at < self.recheck_s:
            return
        self._checked_at = now
        sig = self._files_signature()
        if sig == self._signature and not force:
            return
        tokens = {}
        for scope in AgentApiAuth.SCOPES:
            try:
                text = (self.directory / scope).read_text(encoding="utf-8")
            except (FileNotFoundError, UnicodeDecodeError):
                text = ""
            tokens[scope] = tuple(t.encode() for t in text.split() if len(t) >= 16)
        self._tokens, self._signature = tokens, sig

    def scopes_of(self, token: str | None) -> set[str]:
        """The scopes a presented token has (empty: none)."""
        if not token:
            return set()
        presented = token.encode("utf-8", "replace")
        with self._lock:
            self._refresh()
            tokens = self._tokens
        held = set()
        for scope, known in tokens.items():
            # compare with every token (no early exit on a match): constant time per scope
            if any([hmac.compare_digest(presented, k) for k in known]):
                held.add(scope)
        return held

    def allows(self, token: str | None, scope: str) -> bool:
        return bool(self.scopes_of(token) & set(AgentApiAuth.granting(scope)))
