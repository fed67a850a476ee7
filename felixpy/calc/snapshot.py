"""Building datastore updates from resource dicts, for tests, benchmarks and tools.

`update_for(doc)` gives the `Update` the syncer would deliver for a stored resource:
Calico's key for its kind/namespace/name and the JSON value; `delete_for(...)` the
deletion. Documents are not validated here (the graph's validation filter does that),
so tests can feed deliberately invalid values.
"""
from __future__ import annotations

import json

from libcalico_py.datastore.keys import resource_key
from libcalico_py.datastore.syncer import Update
from libcalico_py.model import kinds


def key_for(doc: dict) -> str:
    spec = kinds.by_document(doc.get("apiVersion"), doc["kind"])
    if spec is None:
        raise ValueError(f"unknown kind {doc.get('apiVersion')}/{doc['kind']}")
    meta = doc.get("metadata") or {}
    return resource_key(spec.kind, meta["name"], meta.get("namespace") if spec.namespaced else None)


def update_for(doc: dict, revision: int = 1) -> Update:
    return Update(key_for(doc), json.dumps(doc).encode(), revision)


def delete_for(doc_or_kind, name: str | None = None, namespace: str | None = None,
               revision: int = 1) -> Update:
    """`delete_for(doc)` or `delete_for("NetworkPolicy", "name", "ns")`."""
    if isinstance(doc_or_kind, dict):
        return Update(key_for(doc_or_kind), None, revision)
    return Update(resource_key(doc_or_kind, name, namespace), None, revision)
