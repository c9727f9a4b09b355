"""The edge agent's spool: store writes (reports, deltas) waiting on local disk.

When the object store is unreachable, a write goes into the spool instead; when it comes
back, :class:`Outbox` delivers the spooled items in the order they were made, then resumes
writing directly. While anything is spooled, new writes queue behind it, so the store always
receives them in order. Nothing is lost across restarts: an item is one file, written to a
temporary name, fsynced and renamed into place (atomic on POSIX), and removed only after the
store accepted it.

File format: ``<seq:012d>-<kind>.item`` holding one JSON header line ``{"key", "kind"}`` and
then the payload bytes. Order is the file name order (the sequence number only grows; on
start it continues after the highest one on disk).

Reports are snapshots, deltas are learning: only reports may be dropped, and only beyond
``max_reports`` spooled reports (oldest first), so a week-long outage cannot fill the disk.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ecc_workloads.store import StoreUnavailable

log = logging.getLogger("ecc.agent.spool")

Kind = Literal["report", "delta"]
KINDS: tuple[str, ...] = ("report", "delta")
_NAME = re.compile(r"^(\d{12})-(report|delta)\.item$")


@dataclass(frozen=True)
class SpoolItem:
    seq: int
    kind: str
    key: str
    path: Path

    def read(self) -> bytes:
        raw = self.path.read_bytes()
        _, _, data = raw.partition(b"\n")
        return data


class Spool:
    """An ordered on-disk queue of (store key, bytes) under ``root``."""

    def __init__(self, root: str | Path, max_reports: int = 10000):
        if max_reports < 1:
            raise ValueError("max_reports must be >= 1")
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.max_reports = max_reports
        self.dropped_reports = 0
        self._lock = threading.Lock()
        for stale in self.root.glob("*.tmp"):  # a write cut short by a crash: never renamed, never counted
            stale.unlink(missing_ok=True)
        self._next = max((it.seq for it in self.items()), default=0) + 1

    def append(self, kind: Kind, key: str, data: bytes) -> SpoolItem:
        if kind not in KINDS:
            raise ValueError(f"spool kind {kind!r}: expected one of {KINDS}")
        if "\n" in key:
            raise ValueError(f"store key {key!r} must not contain a newline")
        with self._lock:
            seq = self._next
            self._next += 1
            path = self.root / f"{seq:012d}-{kind}.item"
            tmp = path.with_name(path.name + ".tmp")
            with open(tmp, "wb") as fh:
                fh.write(json.dumps({"key": key, "kind": kind}).encode() + b"\n")
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
            self._fsync_dir()
            if kind == "report":
                self._cap_reports()
        return SpoolItem(seq=seq, kind=kind, key=key, path=path)

    def _fsync_dir(self) -> None:
        try:
            fd = os.open(self.root, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)

    def _cap_reports(self) -> None:
        reports = [it for it in self.items() if it.kind == "report"]
        for it in reports[: max(0, len(reports) - self.max_reports)]:
            it.path.unlink(missing_ok=True)
            self.dropped_reports += 1

    def items(self) -> list[SpoolItem]:
        """Spooled items, oldest first."""
        out = []
        for path in sorted(self.root.iterdir()):
            m = _NAME.match(path.name)
            if not m:
                continue
            try:
                with open(path, "rb") as fh:
                    header = json.loads(fh.readline())
            except (OSError, ValueError):
                log.warning("spool: unreadable item %s left in place", path.name)
                continue
            out.append(SpoolItem(seq=int(m[1]), kind=m[2], key=str(header.get("key", "")), path=path))
        return out

    def remove(self, item: SpoolItem) -> None:
        item.path.unlink(missing_ok=True)

    def __len__(self) -> int:
        return sum(1 for p in self.root.iterdir() if _NAME.match(p.name))


class Outbox:
    """Writes to the store in order, through the spool whenever the store is unreachable.

    ``put(key, data)`` is the store's write; it raises ``StoreUnavailable`` when the store
    cannot be reached (any other error also keeps the item spooled and is remembered in
    ``last_error``)."""

    def __init__(self, spool: Spool, put: Callable[[str, bytes], None]):
        self.spool = spool
        self._put = put
        self._lock = threading.Lock()
        self.flushed_total = 0
        self.bytes_up = 0
        self.store_ok: bool | None = None
        self.last_error: str = ""

    @property
    def depth(self) -> int:
        return len(self.spool)

    def send(self, kind: Kind, key: str, data: bytes) -> bool:
        """Write now, or spool. True if the store has it now."""
        with self._lock:
            if len(self.spool) == 0:
                try:
                    self._put(key, data)
                except Exception as err:  # noqa: BLE001 - StoreUnavailable or not: keep the item, say why
                    self._failed(err)
                    self.spool.append(kind, key, data)
                    return False
                self.bytes_up += len(data)
                self.store_ok = True
                self.last_error = ""
                return True
            # older items are waiting: queue behind them, then try to deliver all in order
            self.spool.append(kind, key, data)
            self._flush_locked()
            return len(self.spool) == 0

    def flush(self) -> int:
        """Deliver spooled items in order until one fails; returns how many were delivered."""
        with self._lock:
            return self._flush_locked()

    def _flush_locked(self) -> int:
        sent = 0
        for item in self.spool.items():
            data = item.read()
            try:
                self._put(item.key, data)
            except Exception as err:  # noqa: BLE001 - StoreUnavailable or anything else: retry later
                self._failed(err)
                break
            self.spool.remove(item)
            self.bytes_up += len(data)
            self.flushed_total += 1
            self.store_ok = True
            self.last_error = ""
            sent += 1
        return sent

    def _failed(self, err: Exception) -> None:
        self.store_ok = False if isinstance(err, StoreUnavailable) else self.store_ok
        self.last_error = f"{err.__class__.__name__}: {err}"[:300]
