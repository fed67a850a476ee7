"""List + watch of etcd key prefixes, with resume and resync: the feed felixpy and confdpy
consume.

The syncer lists every prefix at one revision R and hands the result over as one batch,
reports "in-sync", then watches from R+1. Each watch response becomes one batch of
`Update(key, value, revision)` (value None = deleted), delivered in revision order.

When the stream breaks (etcd restarted, member killed, network gone) it reports
"disconnected", waits with exponential backoff, and opens a new watch (on the next
endpoint) from the last revision it delivered + 1, so nothing is lost or repeated. If etcd
has compacted that revision meanwhile, the missed events are gone; the syncer then lists
again at a new revision and emits exactly the difference from what it had delivered:
a put for every key that is new or whose mod revision changed, a delete for every key that
vanished. To do that it remembers the mod revision of every key it delivered (not the
values).

One watch covers the key range spanning all prefixes; events for keys outside the prefixes
are dropped but still advance the resume revision. Progress notifications advance it too,
so a quiet prefix resumes from a recent revision.

Callbacks run on the syncer thread; a slow consumer slows the syncer, it never drops
events. An exception raised by a callback ends the syncer thread (logged, kept in
`Syncer.error`): continuing after a half-applied batch would leave the consumer silently
inconsistent, so its owner should treat a dead syncer as fatal (`is_alive()`).

Status values: "wait-for-ready" (started, nothing listed yet), "resync" (listing),
"in-sync" (listed and watching), "disconnected" (waiting to reconnect).
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from libcalico_py.datastore import keys
from libcalico_py.datastore.connection import DatastoreError, RevisionCompacted
from libcalico_py.datastore.etcd import EtcdDatastore
from libcalico_py.errors import DatastoreUnavailable

log = logging.getLogger(__name__)

WAIT_FOR_READY = "wait-for-ready"
RESYNC = "resync"
IN_SYNC = "in-sync"
DISCONNECTED = "disconnected"


@dataclass(frozen=True, slots=True)
class Update:
    key: str
    value: bytes | None   # None: the key was deleted
    revision: int


class _Compacted(Exception):
    pass


class Syncer:
    """`Syncer(ds, prefixes, on_updates, on_status)`; `start()` runs it on a daemon thread,
    `stop()` ends it. `min_backoff`/`max_backoff` bound the reconnect delay in seconds."""

    def __init__(self, ds: EtcdDatastore, prefixes: Sequence[str],
                 on_updates: Callable[[list[Update]], Any], on_status: Callable[[str], Any],
                 *, min_backoff: float = 0.1, max_backoff: float = 3.0, name: str = "syncer"):
        if not prefixes:
            raise ValueError("Syncer needs at least one key prefix")
        self._ds = ds
        self._prefixes = sorted(set(prefixes))
        self._range = (min(p.encode() for p in self._prefixes),
                       max(keys.prefix_range_end(p) for p in self._prefixes))
        self._on_updates = on_updates
        self._on_status = on_status
        self._min_backoff, self._max_backoff = min_backoff, max_backoff
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._stream_lock = threading.Lock()
        self._stream: Any = None
        self._known: dict[str, int] = {}   # key -> mod revision delivered
        self._revision = 0                  # every event <= this has been delivered
        self._status: str | None = None
        self._name = name
        self.error: BaseException | None = None

    # -- public --

    @property
    def revision(self) -> int:
        """The revision up to which everything has been delivered."""
        return self._revision

    @property
    def status(self) -> str | None:
        return self._status

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> "Syncer":
        if self._thread is not None:
            raise RuntimeError("syncer already started")
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        with self._stream_lock:
            if self._stream is not None:
                self._stream.cancel()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    # -- the loop --

    def _set_status(self, status: str) -> None:
        if status != self._status:
            self._status = status
            self._on_status(status)

    def _run(self) -> None:
        try:
            self._loop()
        except BaseException as e:
            self.error = e
            log.exception("%s: stopped by an error", self._name)

    def _loop(self) -> None:
        self._set_status(WAIT_FOR_READY)
        need_list = True
        backoff = self._min_backoff
        while not self._stop.is_set():
            try:
                if need_list:
                    self._set_status(RESYNC)
                    self._resync()
                    need_list = False
                    self._set_status(IN_SYNC)
                    backoff = self._min_backoff
                self._watch()
            except _Compacted:
                log.info("%s: revision %d compacted; listing again", self._name,
                         self._revision + 1)
                need_list = True
            except RevisionCompacted:
                need_list = True
            except (DatastoreUnavailable, DatastoreError) as e:
                if self._stop.is_set():
                    break
                log.warning("%s: %s; reconnecting in %.1fs", self._name, e, backoff)
                self._set_status(DISCONNECTED)
                if self._stop.wait(backoff):
                    break
                backoff = min(backoff * 2, self._max_backoff)

    def _resync(self) -> None:
        """List every prefix at one revision and emit the difference from what was
        delivered before (everything, the first time)."""
        kv = self._ds.kv
        revision: int | None = None
        current: dict[str, Any] = {}
        for prefix in self._prefixes:
            kvs, rev = kv.get_prefix(prefix, revision=revision)
            revision = revision or rev
            for item in kvs:
                current[item.key] = item
        assert revision is not None
        batch = [Update(k, item.value, item.mod_revision) for k, item in sorted(current.items())
                 if self._known.get(k) != item.mod_revision]
        batch.extend(Update(k, None, revision) for k in sorted(self._known.keys() - current.keys()))
        self._known = {k: item.mod_revision for k, item in current.items()}
        self._revision = revision
        if batch:
            self._on_updates(batch)

    def _wanted(self, key: str) -> bool:
        return any(key.startswith(p) for p in self._prefixes)

    def _watch(self) -> None:
        lo, hi = self._range
        stream = self._ds.kv.watch(lo, range_end=hi, start_revision=self._revision + 1)
        with self._stream_lock:
            self._stream = stream
            if self._stop.is_set():
                stream.cancel()
        try:
            for resp in stream:
                if resp.compact_revision:
                    raise _Compacted()
                if resp.canceled:
                    raise DatastoreUnavailable([stream.endpoint],
                                               f"watch cancelled by etcd: {resp.cancel_reason}")
                if resp.created:
                    self._set_status(IN_SYNC)
                    continue
                if not resp.events:
                    # Progress notification: everything up to the header revision is sent.
                    self._revision = max(self._revision, resp.revision)
                    continue
                batch = []
                for ev in resp.events:
                    key, rev = ev.kv.key, ev.kv.mod_revision
                    if self._wanted(key):
                        if ev.type == "put":
                            self._known[key] = rev
                            batch.append(Update(key, ev.kv.value, rev))
                        elif self._known.pop(key, None) is not None:
                            batch.append(Update(key, None, rev))
                    self._revision = max(self._revision, rev)
                if batch:
                    self._on_updates(batch)
        finally:
            with self._stream_lock:
                self._stream = None
            stream.cancel()
