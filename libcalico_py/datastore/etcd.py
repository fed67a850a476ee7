"""The etcd v3 datastore: Calico resources and raw keys, with failover across endpoints.

Layers, bottom up:

* `_Connection` holds one gRPC channel to one endpoint at a time (the channel and stubs
  come from grpc and the etcd3 package's generated `etcdrpc` messages). `call(op)` runs an
  operation and, when the endpoint is unreachable, times out, or the cluster answers
  "leader changed"/"no leader" (gRPC UNAVAILABLE / DEADLINE_EXCEEDED), drops the channel and
  retries on the next endpoint, sleeping briefly after each full round. It gives up with
  DatastoreUnavailable naming every endpoint after `retry_timeout` seconds, or sooner
  (`_UNREACHABLE_GRACE`) if no endpoint has answered at all, so a CLI pointed at a dead etcd
  fails within seconds while a cluster electing a new leader is waited for.
* `KVStore` (`ds.kv`) is the raw key/value API used for IPAM, status keys and the syncer:
  get, get_prefix (paged at one revision), put (optionally with a lease), delete, txn with
  compare tuples, and watch streams.
* `EtcdDatastore` stores v3 resources as Calico does (reference §1.5/1.6): JSON at the key
  from `keys.resource_key`, `metadata.resourceVersion` never stored and always reported as
  the key's mod revision; create = `txn(version == 0)`; update = `txn(mod_revision == rv)`
  (Conflict leaves the stored object untouched); delete optionally guarded the same way.

The etcd3 package's own client wrapper is not used for requests: its range request drops
the `revision` field and its watcher thread retries a broken stream in a tight loop without
reporting compaction on reconnect. Importing this module is cheap; grpc is imported when a
datastore is constructed. `libcalico_py.model` is imported on first resource operation.
"""
from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, Sequence
from urllib.parse import urlsplit

from libcalico_py.datastore import keys
from libcalico_py.datastore.config import ConfigError, DatastoreConfig, endpoint_target
from libcalico_py.errors import (AlreadyExists, CalicoError, Conflict, DatastoreUnavailable,
                                 FieldError, NotFound, ValidationError)

log = logging.getLogger(__name__)

# Give up early when no endpoint has answered at all (refused, unroutable, TLS rejected).
_UNREACHABLE_GRACE = 3.0
_UNREACHABLE_MARKERS = ("failed to connect", "Connection refused", "DNS resolution failed",
                        "handshake", "No route to host", "Network is unreachable")
_PAGE_SIZE = 2000
_GRPC_OPTIONS = [
    ("grpc.max_receive_message_length", 256 * 1024 * 1024),
    ("grpc.max_send_message_length", 16 * 1024 * 1024),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
    # A fresh channel must really reconnect, not inherit a shared subchannel in backoff.
    ("grpc.use_local_subchannel_pool", 1),
]
_APPLY_ATTEMPTS = 5


class DatastoreError(CalicoError):
    """etcd refused a request for a reason other than availability (bad request,
    permission denied, ...)."""


class RevisionCompacted(DatastoreError):
    """A read or watch asked for a revision etcd has already compacted away."""

    def __init__(self, revision: int, compact_revision: int = 0):
        self.revision, self.compact_revision = revision, compact_revision
        super().__init__(f"revision {revision} has been compacted"
                         + (f" (compacted up to {compact_revision})" if compact_revision else ""))


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


def _kv(pb: Any) -> KV:
    return KV(pb.key.decode(), pb.value, pb.mod_revision, pb.create_revision, pb.version, pb.lease)


def _bytes(x: str | bytes) -> bytes:
    return x.encode() if isinstance(x, str) else x


# --- connection and failover ------------------------------------------------------------

class _Session:
    """One open channel to one endpoint; `generation` identifies it for failure reports."""

    def __init__(self, endpoint: str, channel: Any, rpc: Any, metadata: tuple, generation: int):
        self.endpoint, self.channel, self.metadata, self.generation = \
            endpoint, channel, metadata, generation
        self.kv = rpc.KVStub(channel)
        self.watch = rpc.WatchStub(channel)
        self.lease = rpc.LeaseStub(channel)
        self.maintenance = rpc.MaintenanceStub(channel)


class _Connection:
    def __init__(self, config: DatastoreConfig):
        # gRPC's C core logs connection failures straight to stderr, which would garble
        # calicoctl output and CNI results; errors reach users as DatastoreUnavailable.
        # An explicit GRPC_VERBOSITY from the environment wins.
        os.environ.setdefault("GRPC_VERBOSITY", "NONE")
        import grpc
        from etcd3 import etcdrpc

        config.validate()
        self._grpc, self.rpc = grpc, etcdrpc
        self.config = config
        self.endpoints = list(config.endpoints)
        self._lock = threading.Lock()
        self._index = 0
        self._generation = 0
        self._session: _Session | None = None
        self._closed = False
        self._tls = self._tls_material()

    def _tls_material(self) -> tuple[bytes | None, bytes | None, bytes | None]:
        c = self.config

        def read(path: str | None, inline: str | None, what: str) -> bytes | None:
            if inline is not None:
                return inline.encode()
            if path is None:
                return None
            try:
                with open(path, "rb") as f:
                    return f.read()
            except OSError as e:
                raise ConfigError(f"{what}: cannot read {path}: {e.strerror or e}") from None

        return (read(c.ca_cert_file, c.ca_cert, "ETCD_CA_CERT_FILE"),
                read(c.key_file, c.key, "ETCD_KEY_FILE"),
                read(c.cert_file, c.cert, "ETCD_CERT_FILE"))

    def _open(self, endpoint: str) -> _Session:
        grpc = self._grpc
        target = endpoint_target(endpoint)
        if urlsplit(endpoint).scheme == "https":
            ca, key, cert = self._tls
            creds = grpc.ssl_channel_credentials(root_certificates=ca, private_key=key,
                                                 certificate_chain=cert)
            channel = grpc.secure_channel(target, creds, options=_GRPC_OPTIONS)
        else:
            channel = grpc.insecure_channel(target, options=_GRPC_OPTIONS)
        self._generation += 1
        metadata: tuple = ()
        if self.config.username is not None:
            try:
                resp = self.rpc.AuthStub(channel).Authenticate(
                    self.rpc.AuthenticateRequest(name=self.config.username,
                                                 password=self.config.password),
                    timeout=self.config.request_timeout)
            except BaseException:
                channel.close()
                raise
            metadata = (("token", resp.token),)
        return _Session(endpoint, channel, self.rpc, metadata, self._generation)

    def session(self) -> _Session:
        with self._lock:
            if self._closed:
                raise DatastoreError("datastore client is closed")
            if self._session is None:
                self._session = self._open(self.endpoints[self._index])
            return self._session

    def failed(self, session: _Session | None) -> None:
        """The endpoint of `session` misbehaved: close it and move to the next endpoint
        (unless another thread already did). `None`: opening a session failed."""
        with self._lock:
            if session is None:
                if self._session is None:
                    self._index = (self._index + 1) % len(self.endpoints)
                return
            if self._session is not None and self._session.generation == session.generation:
                self._session.channel.close()
                self._session = None
                self._index = (self._index + 1) % len(self.endpoints)

    def is_current(self, session: _Session) -> bool:
        with self._lock:
            return self._session is not None and self._session.generation == session.generation

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._session is not None:
                self._session.channel.close()
                self._session = None

    def is_retryable(self, err: Any) -> bool:
        code = err.code()
        details = err.details() or ""
        sc = self._grpc.StatusCode
        return (code in (sc.UNAVAILABLE, sc.DEADLINE_EXCEEDED)
                or "leader changed" in details or "no leader" in details)

    def _describe(self, causes: dict[str, str]) -> str:
        text = "; ".join(f"{ep}: {d}" for ep, d in causes.items())
        tls_failed = any(urlsplit(ep).scheme == "https" and ("TSI_" in d or "andshake" in d)
                         for ep, d in causes.items())
        if tls_failed and "CERTIFICATE_VERIFY_FAILED" in text:
            text += (" (etcd's server certificate is not trusted; set ETCD_CA_CERT_FILE to the "
                     "CA that signed it)")
        elif tls_failed and self.config.cert_file is None and self.config.cert is None:
            text += (" (TLS handshake failed; if etcd requires client certificates, set "
                     "ETCD_CERT_FILE and ETCD_KEY_FILE)")
        return text

    def is_unreachable(self, err: Any) -> bool:
        """No connection was made at all (refused, no route, name or TLS failure), as
        opposed to a member that answered but could not serve (election, timeout)."""
        details = err.details() or ""
        return (err.code() == self._grpc.StatusCode.UNAVAILABLE
                and not details.startswith("etcdserver:")
                and any(p in details for p in _UNREACHABLE_MARKERS))

    def translate(self, err: Any) -> CalicoError:
        details = err.details() or str(err.code())
        if err.code() == self._grpc.StatusCode.OUT_OF_RANGE and "compacted" in details:
            return RevisionCompacted(0)
        return DatastoreError(f"etcd refused the request: {err.code().name}: {details}")

    def call(self, op: Callable[[_Session, float], Any]) -> Any:
        """Run `op(session, timeout)` with failover (see module docstring)."""
        grpc = self._grpc
        start = time.monotonic()
        deadline = start + self.config.retry_timeout
        unreachable_deadline = start + min(_UNREACHABLE_GRACE, self.config.retry_timeout)
        answered = False
        causes: dict[str, str] = {}
        reauthenticated = False
        attempts = 0
        backoff = 0.05
        while True:
            session = None
            try:
                session = self.session()
                remaining = max(0.2, deadline - time.monotonic())
                return op(session, min(self.config.request_timeout, remaining))
            except grpc.RpcError as err:
                if (err.code() == grpc.StatusCode.UNAUTHENTICATED and self.config.username
                        and not reauthenticated):
                    reauthenticated = True  # token expired: log in again on a new channel
                    self.failed(session)
                    continue
                stale = (err.code() == grpc.StatusCode.CANCELLED and session is not None
                         and not self.is_current(session))
                if not stale:  # stale: another thread failed over and closed this channel
                    if not self.is_retryable(err):
                        raise self.translate(err) from None
                    details = err.details() or err.code().name
                    answered = answered or not self.is_unreachable(err)
                    endpoint = session.endpoint if session else self.endpoints[self._index]
                    causes[endpoint] = details
                    log.debug("etcd request failed on %s (%s); trying next endpoint",
                              endpoint, details)
                    self.failed(session)
            attempts += 1
            now = time.monotonic()
            if now >= deadline or (not answered and now >= unreachable_deadline):
                raise DatastoreUnavailable(self.endpoints, self._describe(causes))
            if attempts % len(self.endpoints) == 0:
                time.sleep(min(backoff, max(0.0, deadline - now)))
                backoff = min(backoff * 2, 0.5)


# --- raw key/value layer ----------------------------------------------------------------

class WatchStream:
    """One etcd watch over `[key, range_end)` from `start_revision`, on the current
    endpoint. Iterate for WatchResponse objects; `cancel()` (from any thread) ends the
    iteration. A broken stream raises DatastoreUnavailable and marks the endpoint failed, so
    the next stream is opened on another endpoint."""

    def __init__(self, conn: _Connection, key: bytes, range_end: bytes, start_revision: int,
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
                    kv = _kv(ev.kv)
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

    def __init__(self, conn: _Connection):
        self._conn = conn
        self._rpc = conn.rpc

    def get(self, key: str) -> KV | None:
        req = self._rpc.RangeRequest(key=_bytes(key))
        resp = self._conn.call(lambda s, t: s.kv.Range(req, timeout=t, metadata=s.metadata))
        return _kv(resp.kvs[0]) if resp.kvs else None

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
            out.extend(_kv(kv) for kv in resp.kvs)
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


# --- resources --------------------------------------------------------------------------

def _now_rfc3339() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _where(resource: Any) -> tuple[str, str, str | None]:
    md = resource.metadata
    return resource.kind, md.name, md.namespace


class EtcdDatastore:
    """Calico v3 resources in etcd, plus the raw `kv` layer. Thread-safe."""

    def __init__(self, config: DatastoreConfig | None = None):
        self.config = config if config is not None else DatastoreConfig.load()
        self._conn = _Connection(self.config)
        self.kv = KVStore(self._conn)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> "EtcdDatastore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- encoding --

    @staticmethod
    def _model() -> Any:
        from libcalico_py import model
        return model

    def _key_of(self, resource: Any) -> str:
        kind, name, namespace = _where(resource)
        from libcalico_py.model import kinds
        if kinds.by_kind(kind).namespaced and not namespace:
            raise ValidationError([FieldError("metadata.namespace",
                                              "must be set for a namespaced resource")],
                                  kind, name)
        return keys.resource_key(kind, name, namespace)

    @staticmethod
    def _encode(doc: dict) -> bytes:
        md = doc.setdefault("metadata", {})
        md.pop("resourceVersion", None)
        md.pop("selfLink", None)
        return json.dumps(doc, separators=(",", ":"), sort_keys=False).encode()

    def _decode(self, kv: KV) -> Any:
        doc = json.loads(kv.value)
        doc.setdefault("metadata", {})["resourceVersion"] = str(kv.mod_revision)
        return self._model().load(doc)

    def _decode_pb(self, pb: Any) -> Any:
        return self._decode(_kv(pb))

    # -- operations --

    def create(self, resource: Any) -> Any:
        """Store a new resource; AlreadyExists if the key exists. Fills
        `creationTimestamp` and `uid` when empty. Returns the stored resource with its
        resourceVersion."""
        kind, name, namespace = _where(resource)
        if resource.metadata.resource_version:
            raise ValidationError([FieldError("metadata.resourceVersion",
                                              "must not be set for a create request",
                                              resource.metadata.resource_version)], kind, name)
        key = self._key_of(resource)
        # Fill the server-side fields on a copy and serialise that, so every write
        # stores the model's canonical key order (get -o yaml | apply is byte-identical).
        r = resource.copy()
        r.metadata.creation_timestamp = r.metadata.creation_timestamp or _now_rfc3339()
        r.metadata.uid = r.metadata.uid or str(uuid.uuid4())
        value = self._encode(r.to_dict())
        resp = self.kv.txn_response([("version", key, 0)], [("put", key, value)])
        if not resp.succeeded:
            raise AlreadyExists(kind, name, namespace)
        return self._decode(KV(key, value, resp.header.revision, resp.header.revision, 1))

    def update(self, resource: Any) -> Any:
        """Compare-and-swap on `metadata.resourceVersion`: Conflict if the stored revision
        differs (the stored object is left as it was), NotFound if it is gone.
        creationTimestamp and uid are kept from the stored object when not given."""
        kind, name, namespace = _where(resource)
        rv = resource.metadata.resource_version
        if not rv:
            raise ValidationError([FieldError("metadata.resourceVersion",
                                              "must be set for an update request")], kind, name)
        try:
            rev = int(rv)
        except ValueError:
            raise ValidationError([FieldError("metadata.resourceVersion",
                                              "must be a decimal etcd revision", rv)],
                                  kind, name) from None
        key = self._key_of(resource)
        r = resource.copy()
        if not r.metadata.uid or not r.metadata.creation_timestamp:
            current = self.kv.get(key)
            if current is None:
                raise NotFound(kind, name, namespace)
            if current.mod_revision != rev:
                raise Conflict(key, rv, str(current.mod_revision))
            stored_md = json.loads(current.value).get("metadata", {})
            r.metadata.uid = r.metadata.uid or stored_md.get("uid")
            r.metadata.creation_timestamp = (r.metadata.creation_timestamp
                                             or stored_md.get("creationTimestamp"))
        value = self._encode(r.to_dict())
        resp = self.kv.txn_response([("mod", key, rev)], [("put", key, value)], [("get", key)])
        if not resp.succeeded:
            kvs = resp.responses[0].response_range.kvs
            if not kvs:
                raise NotFound(kind, name, namespace)
            raise Conflict(key, rv, str(kvs[0].mod_revision))
        return self._decode(KV(key, value, resp.header.revision, 0))

    def apply(self, resource: Any) -> Any:
        """Create or update. Without a resourceVersion the current one is read and used
        (retrying if a concurrent writer wins in between); with one, this is an update."""
        kind, name, namespace = _where(resource)
        if resource.metadata.resource_version:
            return self.update(resource)
        key = self._key_of(resource)
        last: CalicoError | None = None
        for _ in range(_APPLY_ATTEMPTS):
            current = self.kv.get(key)
            if current is None:
                try:
                    return self.create(resource)
                except AlreadyExists as e:
                    last = e
                    continue
            candidate = resource.copy()
            candidate.metadata.resource_version = str(current.mod_revision)
            try:
                return self.update(candidate)
            except (Conflict, NotFound) as e:
                last = e
        assert last is not None
        raise last

    def get(self, kind: str, name: str, namespace: str | None = None) -> Any:
        key = keys.resource_key(kind, name, namespace)
        kv = self.kv.get(key)
        if kv is None:
            raise NotFound(kind, name, namespace)
        return self._decode(kv)

    def list(self, kind: str, namespace: str | None = None, name: str | None = None
             ) -> tuple[list[Any], int]:
        """Every resource of `kind` (in `namespace`, or all namespaces when None; only
        `name` when given), sorted by key, and the revision of the read. Stored objects that
        no longer validate are logged and skipped, so one bad object cannot hide the rest."""
        if name is not None:
            if namespace is None and self._namespaced(kind):
                items, rev = self.list(kind)
                return [r for r in items if r.metadata.name == name], rev
            key = keys.resource_key(kind, name, namespace).encode()
            kvs, rev = self.kv.get_range(key, key + b"\0")
            return [self._decode(kv) for kv in kvs], rev
        kvs, rev = self.kv.get_prefix(keys.resource_prefix(kind, namespace))
        out = []
        for kv in kvs:
            if keys.parse_resource_key(kv.key) is None:
                continue
            try:
                out.append(self._decode(kv))
            except (ValidationError, ValueError) as e:
                log.warning("skipping unreadable object at %s: %s", kv.key, e)
        return out, rev

    @staticmethod
    def _namespaced(kind: str) -> bool:
        from libcalico_py.model import kinds
        return kinds.by_kind(kind).namespaced

    def delete(self, kind: str, name: str, namespace: str | None = None,
               resource_version: str | int | None = None) -> Any:
        """Delete and return the deleted resource (with its last resourceVersion). With
        `resource_version`, only if the stored revision still equals it (else Conflict)."""
        key = keys.resource_key(kind, name, namespace)
        if resource_version in (None, ""):
            resp = self.kv.txn_response([], [("delete", key)])
            prev = resp.responses[0].response_delete_range.prev_kvs
            if not prev:
                raise NotFound(kind, name, namespace)
            return self._decode_pb(prev[0])
        try:
            rev = int(resource_version)
        except (TypeError, ValueError):
            raise ValidationError([FieldError("metadata.resourceVersion",
                                              "must be a decimal etcd revision",
                                              resource_version)], kind, name) from None
        resp = self.kv.txn_response([("mod", key, rev)], [("delete", key)], [("get", key)])
        if not resp.succeeded:
            kvs = resp.responses[0].response_range.kvs
            if not kvs:
                raise NotFound(kind, name, namespace)
            raise Conflict(key, str(resource_version), str(kvs[0].mod_revision))
        return self._decode_pb(resp.responses[0].response_delete_range.prev_kvs[0])
