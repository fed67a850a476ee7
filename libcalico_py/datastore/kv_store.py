"""The raw etcd key/value API (`ds.kv`) used for IPAM, status keys and the syncer: get,
get_prefix (paged at one revision), put (optionally with a lease), delete, txn with
compare tuples, and watch streams. Values are plain `KV` records, not protobuf messages.

The etcd3 package's own client wrapper is not used for requests: its range request drops
the `revision` field and its watcher thread retries a broken stream in a tight loop without
reporting compaction on reconnect.
"""
from __future__ import annotations

import queue
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from libcalico_py.datastore import keys
from libcalico_py.datastore.connection import Connection, RevisionCompacted
from libcalico_py.errors import DatastoreUnavailable

_PAGE_SIZE = 2000


@dataclass(frozen=True, slots=True)
class KV:
    key: str
    value: bytes
    mod_revision: int
    create_revision: int
    version: int = 0
    lease: int = 0


@dataclass(frozen=True, slots=True)
class WatchEvent:
    """`type` is "put" or "delete"; for a delete `kv.value` is b"" and `kv.mod_revision`
    is the revision of the deletion."""

    type: str
    kv: KV


@dataclass(frozen=True, slots=True)
class WatchResponse:
    events: list[WatchEvent]
    revision: int            # header revision
    created: bool = False
    canceled: bool = False
    compact_revision: int = 0
    cancel_reason: str = ""


def kv_from_pb(pb: Any) -> KV:
    return KV(pb.key.decode(), pb.value, pb.mod_revision, pb.create_revision, pb.version, pb.lease)


def _bytes(x: str | bytes) -> bytes:
    return x.encode() if isinstance(x, str) else x


class WatchStream:
    """One etcd watch over `[key, range_end)` from `start_revision`, on the current
    endpoint. Iterate for WatchResponse objects; `cancel()` (from any thread) ends the
    iteration. A broken stream raises DatastoreUnavailable and marks the endpoint failed, so
    the next stream is opened on another endpoint."""

    def __init__(self, conn: Connection, key: bytes, range_end: bytes, start_revision: int,
                 prev_kv: bool = False):
        rpc = conn.rpc
        self._conn = conn
        self._requests: "queue.Queue[Any]" = queue.Queue()
        self._requests.put(rpc.WatchRequest(create_request=rpc.WatchCreateRequest(
            key=key, range_end=range_end, start_revision=start_revision, prev_kv=prev_kv,
            progress_notify=True)))
        self._cancelled = False
        try:
            self._session = conn.session()
        except conn._grpc.RpcError as err:  # authentication on a fresh channel failed
            conn.failed(None)
            raise DatastoreUnavailable(conn.endpoints, err.details() or err.code().name) from None
        # "hasleader": the member cancels the watch if it loses the cluster leader, instead
        # of silently serving nothing from a partitioned minority.
        metadata = self._session.metadata + (("hasleader", "true"),)
        self._call = self._session.watch.Watch(self._request_iter(), metadata=metadata)

    @property
    def endpoint(self) -> str:
        return self._session.endpoint

    def _request_iter(self) -> Iterator[Any]:
        while True:
            req = self._requests.get()
            if req is None:
                return
            yield req

    def __iter__(self) -> Iterator[WatchResponse]:
        grpc = self._conn._grpc
        try:
            for resp in self._call:
                events = []
                for ev in resp.events:
                    kv = kv_from_pb(ev.kv)
                    events.append(WatchEvent("delete" if ev.type == 1 else "put", kv))
                yield WatchResponse(events, resp.header.revision, resp.created, resp.canceled,
                                    resp.compact_revision, resp.cancel_reason)
        except grpc.RpcError as err:
            if self._cancelled:
                return
            if err.code() == grpc.StatusCode.CANCELLED:
                raise DatastoreUnavailable([self.endpoint], "watch stream cancelled") from None
            if not self._conn.is_retryable(err):
                raise self._conn.translate(err) from None
            self._conn.failed(self._session)
            raise DatastoreUnavailable([self.endpoint], err.details() or err.code().name) from None
        if not self._cancelled:
            self._conn.failed(self._session)
            raise DatastoreUnavailable([self.endpoint], "watch stream ended")

    def cancel(self) -> None:
        self._cancelled = True
        self._requests.put(None)
        self._call.cancel()


Compare = tuple  # ("mod", key, rev) | ("version", key, n) | ("create", key, rev) | ("value", key, bytes)
Op = tuple       # ("put", key, value) | ("put", key, value, lease_id) | ("delete", key) | ("get", key)


class KVStore:
    """Raw etcd keys (`ds.kv`): for IPAM, status reports, and the syncer."""

    def __init__(self, conn: Connection):
        self._conn = conn
        self._rpc = conn.rpc

    def get(self, key: str) -> KV | None:
        req = self._rpc.RangeRequest(key=_bytes(key))
        resp = self._conn.call(lambda s, t: s.kv.Range(req, timeout=t, metadata=s.metadata))
        return kv_from_pb(resp.kvs[0]) if resp.kvs else None

    def get_prefix(self, prefix: str, revision: int | None = None) -> tuple[list[KV], int]:
        """Every key under `prefix`, sorted by key, read at one revision (the current one,
        or `revision`), fetched in pages; returns (kvs, that revision)."""
        return self.get_range(_bytes(prefix), keys.prefix_range_end(prefix), revision)

    def get_range(self, start: bytes, end: bytes, revision: int | None = None
                  ) -> tuple[list[KV], int]:
        rpc = self._rpc
        out: list[KV] = []
        key = start
        rev = revision or 0
        while True:
            req = rpc.RangeRequest(key=key, range_end=end, limit=_PAGE_SIZE, revision=rev,
                                   sort_order=rpc.RangeRequest.ASCEND,
                                   sort_target=rpc.RangeRequest.KEY)
            try:
                resp = self._conn.call(lambda s, t: s.kv.Range(req, timeout=t, metadata=s.metadata))
            except RevisionCompacted:
                raise RevisionCompacted(rev) from None
            if not rev:
                rev = resp.header.revision  # later pages read the same snapshot
            out.extend(kv_from_pb(kv) for kv in resp.kvs)
            if not resp.more or not resp.kvs:
                return out, rev
            key = resp.kvs[-1].key + b"\0"

    def revision(self) -> int:
        """The store's current revision."""
        req = self._rpc.RangeRequest(key=b"\0", count_only=True)
        resp = self._conn.call(lambda s, t: s.kv.Range(req, timeout=t, metadata=s.metadata))
        return resp.header.revision

    def put(self, key: str, value: bytes | str, lease_ttl: int | None = None) -> int:
        """Write unconditionally; returns the new revision. With `lease_ttl` the key
        disappears `lease_ttl` seconds later unless written again."""
        rpc = self._rpc
        lease_id = self.grant_lease(lease_ttl) if lease_ttl else 0
        req = rpc.PutRequest(key=_bytes(key), value=_bytes(value), lease=lease_id)
        resp = self._conn.call(lambda s, t: s.kv.Put(req, timeout=t, metadata=s.metadata))
        return resp.header.revision

    def grant_lease(self, ttl: int) -> int:
        req = self._rpc.LeaseGrantRequest(TTL=int(ttl))
        resp = self._conn.call(lambda s, t: s.lease.LeaseGrant(req, timeout=t, metadata=s.metadata))
        return resp.ID

    def delete(self, key: str) -> bool:
        req = self._rpc.DeleteRangeRequest(key=_bytes(key))
        resp = self._conn.call(lambda s, t: s.kv.DeleteRange(req, timeout=t, metadata=s.metadata))
        return resp.deleted > 0

    def delete_prefix(self, prefix: str) -> int:
        req = self._rpc.DeleteRangeRequest(key=_bytes(prefix),
                                           range_end=keys.prefix_range_end(prefix))
        resp = self._conn.call(lambda s, t: s.kv.DeleteRange(req, timeout=t, metadata=s.metadata))
        return resp.deleted

    def txn(self, compare: Sequence[Compare], success: Sequence[Op] = (),
            failure: Sequence[Op] = ()) -> bool:
        """One etcd transaction; True if every comparison held (and `success` ran)."""
        return self.txn_response(compare, success, failure).succeeded

    def txn_response(self, compare: Sequence[Compare], success: Sequence[Op] = (),
                     failure: Sequence[Op] = ()) -> Any:
        """As txn, returning etcd's TxnResponse (`.succeeded`, `.header.revision`,
        `.responses[i].response_range.kvs`, `.response_delete_range.prev_kvs`)."""
        rpc = self._rpc
        req = rpc.TxnRequest(compare=[self._compare(c) for c in compare],
                             success=[self._op(o) for o in success],
                             failure=[self._op(o) for o in failure])
        return self._conn.call(lambda s, t: s.kv.Txn(req, timeout=t, metadata=s.metadata))

    def watch(self, key: str | bytes, range_end: bytes | None = None, start_revision: int = 0,
              prev_kv: bool = False) -> WatchStream:
        """A watch stream; `range_end` defaults to everything under `key` as a prefix."""
        k = _bytes(key)
        return WatchStream(self._conn, k, range_end if range_end is not None
                           else keys.prefix_range_end(k), start_revision, prev_kv)

    def compact(self, revision: int) -> None:
        req = self._rpc.CompactionRequest(revision=revision, physical=True)
        self._conn.call(lambda s, t: s.kv.Compact(req, timeout=t, metadata=s.metadata))

    def _compare(self, c: Compare) -> Any:
        rpc = self._rpc
        target, key, value = c
        cmp = rpc.Compare(key=_bytes(key), result=rpc.Compare.EQUAL)
        if target == "mod":
            cmp.target, cmp.mod_revision = rpc.Compare.MOD, int(value)
        elif target == "version":
            cmp.target, cmp.version = rpc.Compare.VERSION, int(value)
        elif target == "create":
            cmp.target, cmp.create_revision = rpc.Compare.CREATE, int(value)
        elif target == "value":
            cmp.target, cmp.value = rpc.Compare.VALUE, _bytes(value)
        else:
            raise ValueError(f"unknown txn comparison {target!r}")
        return cmp

    def _op(self, o: Op) -> Any:
        rpc = self._rpc
        if o[0] == "put":
            lease = int(o[3]) if len(o) > 3 and o[3] else 0
            return rpc.RequestOp(request_put=rpc.PutRequest(key=_bytes(o[1]), value=_bytes(o[2]),
                                                             lease=lease))
        if o[0] == "delete":
            return rpc.RequestOp(request_delete_range=rpc.DeleteRangeRequest(key=_bytes(o[1]),
                                                                             prev_kv=True))
        if o[0] == "get":
            return rpc.RequestOp(request_range=rpc.RangeRequest(key=_bytes(o[1])))
        raise ValueError(f"unknown txn operation {o[0]!r}")
