"""The edge agent's durable local state: the spool of store writes, its dead-letter area, and
the feedback journal.

When the object store is unreachable, a write goes into the spool instead; when it comes
back, :class:`Outbox` delivers the spooled items in the order they were made, then resumes
writing directly. While anything is spooled, new writes queue behind it, so the store always
receives them in order. Nothing acknowledged is lost across restarts or ``kill -9``: an item
is one file, written to a temporary name, fsynced, renamed into place (atomic on POSIX) and
its directory fsynced; it is removed only after the store accepted it.

File format: ``<seq:012d>-<kind>.item`` holding one JSON header line ``{"key", "kind", "n",
"sha256"}`` and then the payload bytes (``n`` and ``sha256`` let a truncated or damaged item be
told from a good one; items written before they existed are accepted without the check).
Order is the file name order (the sequence number only grows; on start it continues after the
highest one on disk, dead letters included).

Bounds (:class:`SpoolLimits`):

- ``max_reports`` spooled reports and ``max_bytes`` bytes in all. Reports are snapshots and
  deltas are learning, so when an item does not fit (or the disk is full) room is made by
  dropping, oldest first, items *superseded* by a newer item with the same store key (the store
  would end up with the newer one anyway), then the oldest reports. A delta that is not
  superseded is never dropped: if there is still no room the new item is refused
  (:class:`SpoolFull`) — it was never acknowledged, and the caller says so.
- Dead letters: an item the store refuses for a reason that will not go away by waiting
  (:func:`is_permanent`: denied, a 4xx, a key the store rejects) ``dead_letter_after`` times in
  a row, or one that cannot be read back (truncated, bad header), is moved to ``<root>/dead/``
  with a ``.why`` note, counted, and no longer blocks the items behind it. A store that is down
  (``StoreUnavailable``) or any unknown error never dead-letters an item: the spool waits, in
  order. Before a refused item is dead-lettered the next item is tried once: if the store
  refuses that one too, the fault is likely the store's or the credentials', not the item's,
  and nothing is dead-lettered. The dead-letter area keeps at most ``dead_max_bytes`` (oldest
  evicted first).
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ecc_workloads.store import StoreDenied, StoreUnavailable

log = logging.getLogger("ecc.agent.spool")

Kind = Literal["report", "delta"]
KINDS: tuple[str, ...] = ("report", "delta")
_NAME = re.compile(r"^(\d{12})-(report|delta)\.item$")
DEAD_DIR = "dead"
MiB = 1024 * 1024

# metric names of the agent's local state (exported next to contracts.MetricNames' agent series)
METRIC_SPOOL_BYTES = "ecc_agent_spool_bytes"
METRIC_SPOOL_DROPPED = "ecc_agent_spool_dropped_total"
METRIC_SPOOL_REFUSED = "ecc_agent_spool_refused_total"
METRIC_DEAD_LETTERS = "ecc_agent_spool_dead_letters_total"
METRIC_DEAD_LETTERS_HELD = "ecc_agent_spool_dead_letters"
METRIC_CACHE_BYTES = "ecc_agent_module_cache_bytes"
METRIC_CACHE_EVICTIONS = "ecc_agent_module_cache_evictions_total"


class SpoolFull(Exception):
    """The item was not spooled (no room within the cap or on the disk): not acknowledged."""


class CorruptItem(ValueError):
    """A spooled item whose bytes are not the ones written (truncated or damaged)."""


@dataclass(frozen=True)
class SpoolLimits:
    max_reports: int = 10000
    max_bytes: int = 64 * MiB
    dead_letter_after: int = 5
    dead_max_bytes: int = 16 * MiB

    def __post_init__(self):
        if self.max_reports < 1:
            raise ValueError("max_reports must be >= 1")
        if self.max_bytes < 4096:
            raise ValueError("max_bytes must be >= 4096")
        if self.dead_letter_after < 1:
            raise ValueError("dead_letter_after must be >= 1")
        if self.dead_max_bytes < 0:
            raise ValueError("dead_max_bytes must be >= 0")


def is_permanent(err: BaseException) -> bool:
    """A store error that waiting will not cure (dead-letter candidates). Anything unknown is
    treated as transient: the spool keeps the item and its order."""
    if isinstance(err, StoreUnavailable):
        return False
    if isinstance(err, (StoreDenied, ValueError, KeyError)):
        return True
    status = getattr(getattr(err, "response", None), "status", None)
    code = getattr(err, "code", None)
    if isinstance(status, int):
        return 400 <= status < 500 and status not in (408, 429)
    if isinstance(code, str):  # minio.error.S3Error without a response
        return code not in ("SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable")
    return False


def fsync_dir(path: str | Path) -> None:
    """Make a rename or unlink in ``path`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_durably(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically and durably: temp file, fsync, rename, fsync of the
    directory. On any error (e.g. ENOSPC) the temp file is removed and ``path`` is untouched."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise
    fsync_dir(path.parent)


def _no_space(err: OSError) -> bool:
    return err.errno in (errno.ENOSPC, errno.EDQUOT)


@dataclass(frozen=True)
class SpoolItem:
    seq: int
    kind: str
    key: str
    path: Path
    size: int = 0
    n: int | None = None
    sha256: str | None = None

    def read(self) -> bytes:
        """The payload, checked against the header (:class:`CorruptItem` if it does not match)."""
        raw = self.path.read_bytes()
        head, nl, data = raw.partition(b"\n")
        if not nl:
            raise CorruptItem(f"{self.path.name}: no header line")
        if self.n is not None and len(data) != self.n:
            raise CorruptItem(f"{self.path.name}: {len(data)} payload bytes, the header says {self.n}")
        if self.sha256 is not None and hashlib.sha256(data).hexdigest() != self.sha256:
            raise CorruptItem(f"{self.path.name}: payload sha256 does not match its header")
        return data


class Spool:
    """An ordered, bounded on-disk queue of (store key, bytes) under ``root``."""

    def __init__(self, root: str | Path, max_reports: int | None = None, limits: SpoolLimits | None = None):
        limits = limits or SpoolLimits()
        if max_reports is not None:
            limits = SpoolLimits(max_reports=max_reports, max_bytes=limits.max_bytes,
                                 dead_letter_after=limits.dead_letter_after, dead_max_bytes=limits.dead_max_bytes)
        self.limits = limits
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.dead_root = self.root / DEAD_DIR
        self.dead_root.mkdir(exist_ok=True)
        self.dropped_reports = 0
        self.dropped_total = 0
        """items dropped to make room (superseded ones and old reports)"""
        self.refused_total = 0
        self.dead_letters_total = 0
        self.dead_evicted_total = 0
        self.last_dead_reason = ""
        self._lock = threading.RLock()
        for d in (self.root, self.dead_root):
            for stale in d.glob("*.tmp"):  # a write cut short by a crash: never renamed, never counted
                stale.unlink(missing_ok=True)
        self._bytes = 0
        items = self.items()
        dead_seqs = [int(m[1]) for p in self.dead_root.iterdir() if (m := _NAME.match(p.name))]
        self._next = max([it.seq for it in items] + dead_seqs, default=0) + 1

    @property
    def max_reports(self) -> int:
        return self.limits.max_reports

    @property
    def bytes(self) -> int:
        return self._bytes

    # -- writing -------------------------------------------------------------------
    def append(self, kind: Kind, key: str, data: bytes) -> SpoolItem:
        """Spool one item durably; :class:`SpoolFull` if there is no room (nothing is written)."""
        if kind not in KINDS:
            raise ValueError(f"spool kind {kind!r}: expected one of {KINDS}")
        if "\n" in key:
            raise ValueError(f"store key {key!r} must not contain a newline")
        header = json.dumps({"key": key, "kind": kind, "n": len(data),
                             "sha256": hashlib.sha256(data).hexdigest()}).encode() + b"\n"
        size = len(header) + len(data)
        with self._lock:
            if size > self.limits.max_bytes:
                self.refused_total += 1
                raise SpoolFull(f"a {kind} of {size} bytes is larger than the spool's cap of "
                                f"{self.limits.max_bytes} bytes")
            if self._bytes + size > self.limits.max_bytes:
                self._make_room(key, self._bytes + size - self.limits.max_bytes)
            if self._bytes + size > self.limits.max_bytes:
                self.refused_total += 1
                raise SpoolFull(f"spool full: {self._bytes} of {self.limits.max_bytes} bytes held by deltas "
                                f"not yet delivered; this {kind} of {size} bytes was not kept")
            seq = self._next
            self._next += 1
            path = self.root / f"{seq:012d}-{kind}.item"
            try:
                write_durably(path, header + data)
            except OSError as err:
                if not _no_space(err) or not self._make_room(key, size):
                    self.refused_total += 1
                    raise SpoolFull(f"could not spool a {kind} of {size} bytes: {err}") from err
                try:  # room was made by dropping superseded items or old reports: once more
                    write_durably(path, header + data)
                except OSError as err2:
                    self.refused_total += 1
                    raise SpoolFull(f"could not spool a {kind} of {size} bytes: {err2}") from err2
            self._bytes += size
            item = SpoolItem(seq=seq, kind=kind, key=key, path=path, size=size, n=len(data),
                             sha256=hashlib.sha256(data).hexdigest())
            if kind == "report":
                self._cap_reports()
        return item

    def _drop(self, item: SpoolItem, why: str) -> None:
        item.path.unlink(missing_ok=True)
        self._bytes = max(0, self._bytes - item.size)
        self.dropped_total += 1
        if item.kind == "report":
            self.dropped_reports += 1
        log.info("spool: dropped %s (%s)", item.path.name, why)

    def _make_room(self, new_key: str, need: int) -> bool:
        """Drop superseded items, then the oldest reports, until ``need`` bytes are freed.
        True if anything was dropped."""
        items = self.items()
        newest_of_key: dict[str, int] = {}
        for it in items:
            newest_of_key[it.key] = it.seq
        superseded = [it for it in items if it.key == new_key or newest_of_key[it.key] != it.seq]
        reports = [it for it in items if it.kind == "report" and it not in superseded]
        freed, dropped = 0, False
        for it in superseded + reports:
            if freed >= need:
                break
            self._drop(it, "superseded by a newer write of the same key" if it in superseded else
                       "room for newer items")
            freed += it.size
            dropped = True
        if dropped:
            fsync_dir(self.root)
        return dropped

    def _cap_reports(self) -> None:
        reports = [it for it in self.items() if it.kind == "report"]
        for it in reports[: max(0, len(reports) - self.limits.max_reports)]:
            self._drop(it, f"more than {self.limits.max_reports} reports spooled")

    # -- reading -------------------------------------------------------------------
    def items(self) -> list[SpoolItem]:
        """Spooled items, oldest first. An item whose header cannot be read is dead-lettered."""
        out = []
        with self._lock:
            for path in sorted(self.root.iterdir()):
                m = _NAME.match(path.name)
                if not m:
                    continue
                try:
                    size = path.stat().st_size
                    with open(path, "rb") as fh:
                        header = json.loads(fh.readline())
                    if not isinstance(header, dict) or not isinstance(header.get("key"), str) or not header["key"]:
                        raise ValueError("no store key in the header")
                    n = header.get("n")
                    sha = header.get("sha256")
                except (OSError, ValueError) as err:
                    item = SpoolItem(seq=int(m[1]), kind=m[2], key="", path=path,
                                     size=path.stat().st_size if path.exists() else 0)
                    self._to_dead(item, f"unreadable header: {err}", counted_in_bytes=False)
                    continue
                out.append(SpoolItem(seq=int(m[1]), kind=m[2], key=header["key"], path=path, size=size,
                                     n=n if isinstance(n, int) else None, sha256=sha if isinstance(sha, str) else None))
            self._bytes = sum(it.size for it in out)  # what is on disk is the truth
        return out

    def remove(self, item: SpoolItem) -> None:
        with self._lock:
            if item.path.exists():
                item.path.unlink(missing_ok=True)
                self._bytes = max(0, self._bytes - item.size)

    def __len__(self) -> int:
        return sum(1 for p in self.root.iterdir() if _NAME.match(p.name))

    # -- dead letters ----------------------------------------------------------------
    def dead_letter(self, item: SpoolItem, reason: str) -> None:
        """Move ``item`` out of the queue into the dead-letter area, with why."""
        with self._lock:
            self._to_dead(item, reason, counted_in_bytes=True)

    def _to_dead(self, item: SpoolItem, reason: str, counted_in_bytes: bool) -> None:
        self.dead_letters_total += 1
        self.last_dead_reason = reason
        log.warning("spool: dead-lettered %s (%s): %s", item.path.name, item.key or "no key", reason)
        dest = self.dead_root / item.path.name
        try:
            os.replace(item.path, dest)
            if counted_in_bytes:
                self._bytes = max(0, self._bytes - item.size)
            note = json.dumps({"key": item.key, "kind": item.kind, "reason": reason[:1000],
                               "time": time.time()}).encode()
            try:
                write_durably(dest.with_name(dest.name + ".why"), note)
            except OSError:
                pass  # the note is a courtesy; the item itself is out of the queue
            fsync_dir(self.root)
        except OSError as err:  # cannot even move it (disk trouble): drop it rather than jam
            log.warning("spool: could not move %s to the dead letters (%s): removing it", item.path.name, err)
            item.path.unlink(missing_ok=True)
            if counted_in_bytes:
                self._bytes = max(0, self._bytes - item.size)
        self._cap_dead()

    def dead_letters(self) -> list[Path]:
        return sorted(p for p in self.dead_root.iterdir() if _NAME.match(p.name))

    def dead_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.dead_letters())

    def _cap_dead(self) -> None:
        held = [(p, p.stat().st_size) for p in self.dead_letters()]
        total = sum(s for _, s in held)
        for p, s in held:
            if total <= self.limits.dead_max_bytes:
                break
            p.unlink(missing_ok=True)
            p.with_name(p.name + ".why").unlink(missing_ok=True)
            total -= s
            self.dead_evicted_total += 1
        fsync_dir(self.dead_root)


class Outbox:
    """Writes to the store in order, through the spool whenever the store is unreachable.

    ``put(key, data)`` is the store's write; it raises ``StoreUnavailable`` when the store
    cannot be reached. Any other error also keeps the item spooled and is remembered in
    ``last_error``; a permanent one (:func:`is_permanent`) that repeats ``dead_letter_after``
    times dead-letters the item (see the module's docstring)."""

    def __init__(self, spool: Spool, put: Callable[[str, bytes], None]):
        self.spool = spool
        self._put = put
        self._lock = threading.Lock()
        self.flushed_total = 0
        self.bytes_up = 0
        self.store_ok: bool | None = None
        self.last_error: str = ""
        self._attempts: dict[int, int] = {}  # seq -> permanent failures in a row

    @property
    def depth(self) -> int:
        return len(self.spool)

    def send(self, kind: Kind, key: str, data: bytes) -> bool:
        """Write now, or spool. True if the store has it now; :class:`SpoolFull` if it could do
        neither (the item is then not kept)."""
        with self._lock:
            if len(self.spool) == 0:
                return self._direct_locked(kind, key, data)
            # older items are waiting: queue behind them, then try to deliver all in order
            try:
                self.spool.append(kind, key, data)
            except SpoolFull:
                self._flush_locked()
                if len(self.spool):
                    raise
                return self._direct_locked(kind, key, data)
            self._flush_locked()
            return len(self.spool) == 0

    def _direct_locked(self, kind: Kind, key: str, data: bytes) -> bool:
        try:
            self._put(key, data)
        except Exception as err:  # noqa: BLE001 - StoreUnavailable or not: keep the item, say why
            self._failed(err)
            item = self.spool.append(kind, key, data)
            if is_permanent(err):
                self._attempts[item.seq] = 1
            return False
        self.bytes_up += len(data)
        self.store_ok = True
        self.last_error = ""
        return True

    def flush(self) -> int:
        """Deliver spooled items in order until one fails; returns how many were delivered."""
        with self._lock:
            return self._flush_locked()

    def _deliver(self, item: SpoolItem, data: bytes) -> None:
        self.spool.remove(item)
        self._attempts.pop(item.seq, None)
        self.bytes_up += len(data)
        self.flushed_total += 1
        self.store_ok = True
        self.last_error = ""

    def _flush_locked(self) -> int:
        sent = 0
        items = self.spool.items()
        i = 0
        while i < len(items):
            item = items[i]
            i += 1
            try:
                data = item.read()
            except (OSError, ValueError) as err:  # truncated or damaged: it can never be delivered
                self.spool.dead_letter(item, f"unreadable: {err}")
                continue
            try:
                self._put(item.key, data)
            except Exception as err:  # noqa: BLE001 - StoreUnavailable or anything else: retry later
                self._failed(err)
                if not is_permanent(err):
                    break
                n = self._attempts[item.seq] = self._attempts.get(item.seq, 0) + 1
                if n < self.spool.limits.dead_letter_after:
                    break
                own_fault, probed = self._probe_next(items, i)
                if not own_fault:
                    break  # the next item is refused too: the store or the credentials, not this item
                sent += probed
                self.spool.dead_letter(item, f"refused {n} times: {err.__class__.__name__}: {err}")
                self._attempts.pop(item.seq, None)
                continue
            self._deliver(item, data)
            sent += 1
        return sent

    def _probe_next(self, items: list[SpoolItem], i: int) -> tuple[bool, int]:
        """(is the fault the item's own?, items delivered). Its own if there is no next item or
        the store takes the next one (then delivered: nothing before it is left but the item
        being dead-lettered)."""
        while i < len(items):
            nxt = items[i]
            try:
                data = nxt.read()
            except (OSError, ValueError):
                i += 1
                continue  # dead-lettered when the loop reaches it
            try:
                self._put(nxt.key, data)
            except Exception:  # noqa: BLE001
                return False, 0
            self._deliver(nxt, data)
            items.pop(i)
            return True, 1
        return True, 0

    def _failed(self, err: Exception) -> None:
        self.store_ok = False if isinstance(err, StoreUnavailable) else self.store_ok
        self.last_error = f"{err.__class__.__name__}: {err}"[:300]


# ---------------------------------------------------------------------- feedback journal
class FeedbackJournal:
    """Feedback the agent accepted, kept on local disk for the model it was given to.

    The agent answers a feedback request only after its line is written and fsynced, so a
    restarted agent (``kill -9``, a replaced pod on the same hostPath) learns from everything it
    acknowledged: :meth:`entries` are replayed into the learner. The file is
    ``<state>/feedback.jsonl``: a header line ``{"revision", "manifest_key"}`` (the base model the
    feedback belongs to — a new revision starts a new journal, as the learner starts a new
    buffer), then one JSON line per item. A line cut short by a crash (never acknowledged) is cut
    off on open. Bounded: at most ``max_items`` items and ``max_bytes`` bytes (newest kept).
    The texts never leave the node (the same holds for the learner's in-memory buffer)."""

    FILE = "feedback.jsonl"

    def __init__(self, state_dir: str | Path, max_items: int = 5000, max_bytes: int = 16 * MiB):
        self.path = Path(state_dir) / self.FILE
        self.max_items, self.max_bytes = max_items, max_bytes
        self._lock = threading.Lock()
        self.base: tuple[int, str] | None = None
        self._count = 0
        self._repair()

    def _repair(self) -> None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as err:
            log.warning("feedback journal unreadable (%s): starting a new one", err)
            raw = b""
        cut = raw.rfind(b"\n") + 1
        lines = raw[:cut].split(b"\n")[:-1]
        try:
            head = json.loads(lines[0]) if lines else None
            self.base = (int(head["revision"]), str(head["manifest_key"]))
        except (ValueError, KeyError, TypeError, IndexError):
            log.warning("feedback journal %s has no readable header: starting a new one", self.path)
            self.base = None
            self.path.unlink(missing_ok=True)
            fsync_dir(self.path.parent)
            return
        if cut != len(raw):
            with open(self.path, "r+b") as fh:  # a line cut short by a crash: never acknowledged
                fh.truncate(cut)
                os.fsync(fh.fileno())
        self._count = len(lines) - 1

    def _parse(self) -> list[dict]:
        out = []
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return out
        for line in raw.split(b"\n")[1:]:
            if not line:
                continue
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if isinstance(item, dict) and isinstance(item.get("text"), str) and isinstance(item.get("label"), str):
                out.append(item)
        return out

    def entries(self, revision: int, manifest_key: str) -> list[dict]:
        """The items kept for that base model (none if the journal is for another one)."""
        with self._lock:
            return self._parse() if self.base == (revision, manifest_key) else []

    def start(self, revision: int, manifest_key: str) -> None:
        """The served base model is (revision, manifest_key): keep the journal if it is that
        model's, else start an empty one."""
        with self._lock:
            self._start_locked(revision, manifest_key)

    def _start_locked(self, revision: int, manifest_key: str) -> None:
        if self.base == (revision, manifest_key) and self.path.exists():
            return
        write_durably(self.path, json.dumps({"revision": revision, "manifest_key": manifest_key}).encode() + b"\n")
        self.base, self._count = (revision, manifest_key), 0

    def append(self, revision: int, manifest_key: str, entry: dict) -> None:
        """Write one item durably (OSError — e.g. a full disk — if it could not be)."""
        line = json.dumps(entry, ensure_ascii=False).encode() + b"\n"
        with self._lock:
            self._start_locked(revision, manifest_key)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
            try:
                before = os.fstat(fd).st_size
                try:
                    view = memoryview(line)
                    while view:
                        view = view[os.write(fd, view):]
                    os.fsync(fd)
                except OSError:
                    try:  # a partial line must not glue itself to the next one
                        os.ftruncate(fd, before)
                        os.fsync(fd)
                    except OSError:
                        pass
                    raise
                size = before + len(line)
            finally:
                os.close(fd)
            self._count += 1
            if self._count > 2 * self.max_items or size > self.max_bytes:
                self._compact_locked()

    def _compact_locked(self) -> None:
        items = self._parse()
        keep: list[bytes] = []
        total = 0
        for item in reversed(items[-self.max_items:]):
            line = json.dumps(item, ensure_ascii=False).encode() + b"\n"
            if total + len(line) > self.max_bytes // 2:
                break
            keep.append(line)
            total += len(line)
        head = json.dumps({"revision": self.base[0], "manifest_key": self.base[1]}).encode() + b"\n"
        try:
            write_durably(self.path, head + b"".join(reversed(keep)))
            self._count = len(keep)
        except OSError as err:  # the journal as it is stays valid
            log.warning("feedback journal not compacted: %s", err)
