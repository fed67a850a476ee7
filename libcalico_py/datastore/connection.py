"""One gRPC channel to one etcd endpoint at a time, with failover: the bottom layer of
the etcd datastore (`kv_store.KVStore` and `etcd.EtcdDatastore` sit on it).

`Connection.call(op)` runs an operation and, when the endpoint is unreachable, times out,
or the cluster answers "leader changed"/"no leader" (gRPC UNAVAILABLE / DEADLINE_EXCEEDED),
drops the channel and retries on the next endpoint, sleeping briefly after each full round.
It gives up with DatastoreUnavailable naming every endpoint after `retry_timeout` seconds,
or sooner (`_UNREACHABLE_GRACE`) if no endpoint has answered at all, so a CLI pointed at a
dead etcd fails within seconds while a cluster electing a new leader is waited for. Any
other refusal becomes DatastoreError (RevisionCompacted for a compacted revision).

The channel and stubs come from grpc and the etcd3 package's generated `etcdrpc` messages;
both are imported when a Connection is constructed, not when this module is imported.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any, Callable
from urllib.parse import urlsplit

from libcalico_py.datastore.config import ConfigError, DatastoreConfig, endpoint_target
from libcalico_py.errors import CalicoError, DatastoreUnavailable

log = logging.getLogger(__name__)

# Give up early when no endpoint has answered at all (refused, unroutable, TLS rejected).
_UNREACHABLE_GRACE = 3.0
_UNREACHABLE_MARKERS = ("failed to connect", "Connection refused", "DNS resolution failed",
                        "handshake", "No route to host", "Network is unreachable")
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


class DatastoreError(CalicoError):
    """etcd refused a request for a reason other than availability (bad request,
    permission denied, ...)."""


class RevisionCompacted(DatastoreError):
    """A read or watch asked for a revision etcd has already compacted away."""

    def __init__(self, revision: int, compact_revision: int = 0):
        self.revision, self.compact_revision = revision, compact_revision
        super().__init__(f"revision {revision} has been compacted"
                         + (f" (compacted up to {compact_revision})" if compact_revision else ""))


class Session:
    """One open channel to one endpoint; `generation` identifies it for failure reports."""

    def __init__(self, endpoint: str, channel: Any, rpc: Any, metadata: tuple, generation: int):
        self.endpoint, self.channel, self.metadata, self.generation = \
            endpoint, channel, metadata, generation
        self.kv = rpc.KVStub(channel)
        self.watch = rpc.WatchStub(channel)
        self.lease = rpc.LeaseStub(channel)
        self.maintenance = rpc.MaintenanceStub(channel)


class Connection:
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
        self._session: Session | None = None
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

    def _open(self, endpoint: str) -> Session:
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
        return Session(endpoint, channel, self.rpc, metadata, self._generation)

    def session(self) -> Session:
        with self._lock:
            if self._closed:
                raise DatastoreError("datastore client is closed")
            if self._session is None:
                self._session = self._open(self.endpoints[self._index])
            return self._session

    def failed(self, session: Session | None) -> None:
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

    def is_current(self, session: Session) -> bool:
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

    def call(self, op: Callable[[Session, float], Any]) -> Any:
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
            except ValueError:
                # grpc refuses to start a call on a channel another thread has just closed
                # while failing over ("Cannot invoke RPC on closed channel!"): retry on the
                # new session. Any other ValueError is a real error.
                if session is None or self.is_current(session):
                    raise
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
