"""The etcd v3 datastore: Calico resources and raw keys, with failover across endpoints.

Layers, bottom up:

* `connection.Connection` holds one gRPC channel to one endpoint at a time and fails over
  between endpoints (see its module docstring for the retry rules).
* `kv_store.KVStore` (`ds.kv`) is the raw key/value API used for IPAM, status keys and the
  syncer.
* `EtcdDatastore` (here) stores v3 resources as Calico does (reference §1.5/1.6): JSON at
  the key from `keys.resource_key`, `metadata.resourceVersion` never stored and always
  reported as the key's mod revision; create = `txn(version == 0)`; update =
  `txn(mod_revision == rv)` (Conflict leaves the stored object untouched); delete
  optionally guarded the same way.

This module also re-exports `KV`, `KVStore`, `WatchStream`, `DatastoreError` and
`RevisionCompacted`, which callers import from here. Importing it is cheap; grpc is
imported when a datastore is constructed, `libcalico_py.model` on the first resource
operation.
"""
from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timezone
from typing import Any

from libcalico_py.datastore import keys
from libcalico_py.datastore.config import DatastoreConfig
from libcalico_py.datastore.connection import Connection, DatastoreError, RevisionCompacted
from libcalico_py.datastore.kv_store import KV, KVStore, WatchStream, kv_from_pb
from libcalico_py.errors import (AlreadyExists, CalicoError, Conflict, FieldError, NotFound,
                                 ValidationError)

__all__ = ["EtcdDatastore", "KV", "KVStore", "WatchStream", "DatastoreError",
           "RevisionCompacted"]

log = logging.getLogger(__name__)

_APPLY_ATTEMPTS = 5


def _now_rfc3339() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _where(resource: Any) -> tuple[str, str, str | None]:
    md = resource.metadata
    return resource.kind, md.name, md.namespace


class EtcdDatastore:
    """Calico v3 resources in etcd, plus the raw `kv` layer. Thread-safe."""

    def __init__(self, config: DatastoreConfig | None = None):
        self.config = config if config is not None else DatastoreConfig.load()
        self._conn = Connection(self.config)
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
        if self._namespaced(kind) and not namespace:
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
        return self._decode(kv_from_pb(pb))

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
