"""One exclusive builder at a time: an flock on a file in the cache, waited for, not refused.

Used by the Go binary builds and the image builds, which several test processes or a `make`
beside a test run may start at once (the local cluster's own lock refuses instead of waiting).
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def exclusive(lock_path: Path, on_wait: Callable[[], None]) -> Iterator[None]:
    """Hold an exclusive flock on `lock_path`; call `on_wait` first if another holder makes us wait."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
