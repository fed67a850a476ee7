"""The datastore contents confdpy needs, as plain Calico documents.

`BgpSnapshot` holds the BGP-relevant resources (Nodes, BGPConfigurations, BGPPeers,
IPPools) as their Calico JSON form (`{"metadata": ..., "spec": ...}`), plus this node's
block affinities. It is built two ways:

* from a list of documents (unit tests, `input.yaml` golden cases): `from_documents`;
* from raw etcd keys and values (the watcher and `--onetime`): `apply_kv` / `remove_kv`,
  which parse each value through `libcalico_py.model.load` so Calico defaults are
  filled and invalid objects are dropped (and reported) before the processor sees them.

The processor reads only documented camelCase fields, so it does not depend on the
model's Python attribute names.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from libcalico_py.datastore import keys

log = logging.getLogger(__name__)

# Kinds the processor reads, and the snapshot attribute holding each.
KINDS = {"Node": "nodes", "BGPConfiguration": "bgp_configs", "BGPPeer": "peers", "IPPool": "pools"}


def watched_prefixes(node_name: str) -> list[str]:
    """The etcd prefixes confdpy lists and watches (Calico's BGP syncer set)."""
    return [keys.resource_prefix(kind) for kind in KINDS] + [keys.affinity_prefix(node_name)]


@dataclass
class BgpSnapshot:
    """Name -> document maps per kind, and this node's affinities (block CIDR -> state)."""

    nodes: dict[str, dict] = field(default_factory=dict)
    bgp_configs: dict[str, dict] = field(default_factory=dict)
    peers: dict[str, dict] = field(default_factory=dict)
    pools: dict[str, dict] = field(default_factory=dict)
    affinities: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_documents(cls, docs: list[dict], affinities: dict[str, str] | None = None) -> "BgpSnapshot":
        snap = cls(affinities=dict(affinities or {}))
        for doc in docs:
            kind = doc.get("kind")
            if kind not in KINDS:
                raise ValueError(f"kind {kind!r} is not read by confdpy")
            getattr(snap, KINDS[kind])[doc["metadata"]["name"]] = doc
        return snap

    # -- raw etcd keys ----------------------------------------------------
    def apply_kv(self, key: str, value: bytes | str | None, node_name: str) -> bool:
        """Apply one etcd key (value None = deleted). Returns True when the key is one
        confdpy reads (so a render may be due)."""
        rkey = keys.parse_resource_key(key)
        if rkey is not None:
            if rkey.kind not in KINDS:
                return False
            target = getattr(self, KINDS[rkey.kind])
            if value is None:
                return target.pop(rkey.name, None) is not None
            doc = _load_resource(rkey.kind, rkey.name, value)
            if doc is None:
                return target.pop(rkey.name, None) is not None
            target[rkey.name] = doc
            return True
        parsed = keys.parse_affinity_key(key)
        if parsed is None or parsed.host != node_name:
            return False
        cidr = parsed.cidr
        if value is None:
            return self.affinities.pop(cidr, None) is not None
        self.affinities[cidr] = affinity_state(value)
        return True


def affinity_state(value: bytes | str) -> str:
    """The affinity's state; an empty value (old format) counts as confirmed, and a
    deleted affinity as pendingDeletion."""
    if isinstance(value, bytes):
        value = value.decode()
    if not value.strip():
        return "confirmed"
    try:
        data = json.loads(value)
    except ValueError:
        log.warning("ignoring unparseable block affinity value %r", value)
        return "invalid"
    if data.get("deleted"):
        return "pendingDeletion"
    return data.get("state") or "confirmed"


def _load_resource(kind: str, name: str, value: bytes | str) -> dict | None:
    """Parse one stored resource through the model (defaults + validation)."""
    from libcalico_py import model
    from libcalico_py.errors import ValidationError
    try:
        doc = json.loads(value)
    except ValueError as e:
        log.warning("ignoring %s %s: value is not JSON: %s", kind, name, e)
        return None
    doc.setdefault("apiVersion", "projectcalico.org/v3")
    doc.setdefault("kind", kind)
    try:
        return model.load(doc).to_dict()
    except ValidationError as e:
        log.warning("ignoring invalid %s %s: %s", kind, name, e)
        return None
