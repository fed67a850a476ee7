"""One IPAM block, as Calico stores it at `/calico/ipam/v2/assignment/ipv4/block/<cidr>`.

Pure data and arithmetic, no I/O. The JSON form is Calico's `AllocationBlock`
(`libcalico-go/lib/backend/model/block.go`) key for key, so blocks written by Calico and by
us are interchangeable:

    {"cidr": "10.65.0.0/26", "affinity": "host:node1", "affinityClaimTime": "...",
     "allocations": [0, null, ...],      # per ordinal: index into attributes, or null = free
     "unallocated": [1, 2, ...],         # free ordinals, FIFO: take the head, release to the tail
     "attributes": [{"handle_id": "net.cid", "secondary": {...}}],
     "sequenceNumber": 3, "sequenceNumberForAllocation": {"0": 2},
     "deleted": false, "strictAffinity": false}

Invariants kept by every mutating method: an ordinal is either in `unallocated` or has a
non-null `allocations` entry, never both; every attribute is referenced by at least one
allocation (unreferenced ones are dropped and indexes renumbered, as Calico does); every
mutation bumps `sequenceNumber`, and each allocation records the sequence number it was made
at (so a stale release can be detected).

Also here: the handle and affinity values and the arithmetic that splits a pool into blocks.
"""
from __future__ import annotations

import hashlib
import ipaddress
import json
from dataclasses import dataclass, field
from typing import Iterator, Mapping

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

AFFINITY_PENDING = "pending"
AFFINITY_CONFIRMED = "confirmed"
AFFINITY_PENDING_DELETION = "pendingDeletion"


class BlockError(ValueError):
    """An operation that the block's state does not allow (address outside the block,
    already allocated, not enough free addresses)."""


def block_cidrs(pool_cidr: str | IPNetwork, block_size: int) -> Iterator[IPNetwork]:
    """Every block of prefix length `block_size` inside the pool, in address order."""
    pool = ipaddress.ip_network(pool_cidr) if isinstance(pool_cidr, str) else pool_cidr
    if block_size < pool.prefixlen:
        raise BlockError(f"blockSize {block_size} is shorter than the pool prefix /{pool.prefixlen}")
    if block_size > pool.max_prefixlen:
        raise BlockError(f"blockSize {block_size} is longer than /{pool.max_prefixlen}")
    return pool.subnets(new_prefix=block_size)


def block_count(pool_cidr: str | IPNetwork, block_size: int) -> int:
    pool = ipaddress.ip_network(pool_cidr) if isinstance(pool_cidr, str) else pool_cidr
    return 1 << (block_size - pool.prefixlen)


def nth_block(pool_cidr: str | IPNetwork, block_size: int, n: int) -> IPNetwork:
    """Block number `n` of the pool without enumerating the ones before it."""
    pool = ipaddress.ip_network(pool_cidr) if isinstance(pool_cidr, str) else pool_cidr
    step = 1 << (pool.max_prefixlen - block_size)
    base = int(pool.network_address) + n * step
    return ipaddress.ip_network((base, block_size))


def host_block_order(host: str, count: int) -> Iterator[int]:
    """Block indexes 0..count-1 starting at a point derived from the host name, wrapping.

    Calico tries blocks in a pseudo-random order seeded by the host name so that nodes
    starting together do not all race for the first block; a fixed hash gives the same
    spread and is reproducible in tests."""
    start = int.from_bytes(hashlib.sha1(host.encode()).digest()[:8], "big") % count if count else 0
    for i in range(count):
        yield (start + i) % count


def block_containing(ip: IPAddress, block_size: int) -> IPNetwork:
    """The block of `block_size` that holds `ip`."""
    return ipaddress.ip_network((int(ip), block_size), strict=False)


@dataclass
class Block:
    cidr: IPNetwork
    affinity: str | None = None
    affinity_claim_time: str | None = None
    allocations: list[int | None] = field(default_factory=list)
    unallocated: list[int] = field(default_factory=list)
    attributes: list[dict] = field(default_factory=list)
    sequence_number: int = 0
    seq_for_allocation: dict[str, int] = field(default_factory=dict)
    deleted: bool = False
    strict_affinity: bool = False

    # --- construction and JSON ---------------------------------------------------------

    @classmethod
    def new(cls, cidr: str | IPNetwork, host: str | None = None,
            claim_time: str | None = None) -> "Block":
        net = ipaddress.ip_network(cidr) if isinstance(cidr, str) else cidr
        size = net.num_addresses
        return cls(cidr=net, affinity=f"host:{host}" if host else None,
                   affinity_claim_time=claim_time if host else None,
                   allocations=[None] * size, unallocated=list(range(size)))

    @classmethod
    def from_json(cls, raw: bytes | str | Mapping) -> "Block":
        d = json.loads(raw) if isinstance(raw, (bytes, str)) else dict(raw)
        net = ipaddress.ip_network(d["cidr"])
        size = net.num_addresses
        allocations = list(d.get("allocations") or [])
        if len(allocations) != size:
            allocations = (allocations + [None] * size)[:size]
        return cls(cidr=net, affinity=d.get("affinity"),
                   affinity_claim_time=d.get("affinityClaimTime"),
                   allocations=allocations,
                   unallocated=list(d.get("unallocated") or []),
                   attributes=[dict(a) for a in (d.get("attributes") or [])],
                   sequence_number=int(d.get("sequenceNumber") or 0),
                   seq_for_allocation={str(k): int(v) for k, v in
                                       (d.get("sequenceNumberForAllocation") or {}).items()},
                   deleted=bool(d.get("deleted", False)),
                   strict_affinity=bool(d.get("strictAffinity", False)))

    def to_dict(self) -> dict:
        d: dict = {"cidr": str(self.cidr), "affinity": self.affinity}
        if self.affinity_claim_time:
            d["affinityClaimTime"] = self.affinity_claim_time
        d.update({
            "allocations": list(self.allocations),
            "unallocated": list(self.unallocated),
            "attributes": [dict(a) for a in self.attributes],
            "sequenceNumber": self.sequence_number,
            "sequenceNumberForAllocation": dict(self.seq_for_allocation),
            "deleted": self.deleted,
            "strictAffinity": self.strict_affinity,
        })
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    # --- queries -----------------------------------------------------------------------

    @property
    def size(self) -> int:
        return self.cidr.num_addresses

    @property
    def host(self) -> str | None:
        """The host this block is affine to (`host:<name>` affinity), else None."""
        if self.affinity and self.affinity.startswith("host:"):
            return self.affinity[5:]
        return None

    def free_count(self) -> int:
        return len(self.unallocated)

    def in_use(self) -> int:
        return sum(1 for a in self.allocations if a is not None)

    def ordinal(self, ip: str | IPAddress) -> int:
        addr = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
        if addr not in self.cidr:
            raise BlockError(f"{addr} is not in block {self.cidr}")
        return int(addr) - int(self.cidr.network_address)

    def ip(self, ordinal: int) -> IPAddress:
        return self.cidr.network_address + ordinal

    def handle_of(self, ip: str | IPAddress) -> str | None:
        idx = self.allocations[self.ordinal(ip)]
        if idx is None or idx >= len(self.attributes):
            return None
        return self.attributes[idx].get("handle_id")

    def attributes_of(self, ip: str | IPAddress) -> dict | None:
        idx = self.allocations[self.ordinal(ip)]
        if idx is None or idx >= len(self.attributes):
            return None
        return dict(self.attributes[idx])

    def allocated_ips(self) -> list[tuple[IPAddress, str | None]]:
        """(ip, handle_id) of every allocated address."""
        out = []
        for ordinal, idx in enumerate(self.allocations):
            if idx is not None:
                handle = self.attributes[idx].get("handle_id") if idx < len(self.attributes) else None
                out.append((self.ip(ordinal), handle))
        return out

    def handle_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for _, handle in self.allocated_ips():
            if handle is not None:
                counts[handle] = counts.get(handle, 0) + 1
        return counts

    def ips_for_handle(self, handle_id: str) -> list[IPAddress]:
        return [ip for ip, h in self.allocated_ips() if h == handle_id]

    # --- mutations ---------------------------------------------------------------------

    def _attribute_index(self, handle_id: str | None, secondary: Mapping[str, str] | None) -> int:
        attr: dict = {}
        if handle_id is not None:
            attr["handle_id"] = handle_id
        if secondary:
            attr["secondary"] = dict(secondary)
        for i, existing in enumerate(self.attributes):
            if existing == attr:
                return i
        self.attributes.append(attr)
        return len(self.attributes) - 1

    def _bump(self) -> int:
        self.sequence_number += 1
        return self.sequence_number

    def allocate(self, num: int, handle_id: str | None,
                 secondary: Mapping[str, str] | None = None) -> list[IPAddress]:
        """Take up to `num` addresses from the head of the free list."""
        if num <= 0:
            return []
        take = self.unallocated[:num]
        if not take:
            return []
        del self.unallocated[:len(take)]
        idx = self._attribute_index(handle_id, secondary)
        seq = self._bump()
        for ordinal in take:
            self.allocations[ordinal] = idx
            self.seq_for_allocation[str(ordinal)] = seq
        return [self.ip(o) for o in take]

    def assign(self, ip: str | IPAddress, handle_id: str | None,
               secondary: Mapping[str, str] | None = None) -> IPAddress:
        """Allocate one specific address; BlockError if it is taken."""
        ordinal = self.ordinal(ip)
        if self.allocations[ordinal] is not None:
            raise BlockError(f"{self.ip(ordinal)} is already allocated "
                             f"(handle {self.handle_of(self.ip(ordinal))})")
        try:
            self.unallocated.remove(ordinal)
        except ValueError:
            pass
        self.allocations[ordinal] = self._attribute_index(handle_id, secondary)
        self.seq_for_allocation[str(ordinal)] = self._bump()
        return self.ip(ordinal)

    def release(self, ips) -> dict[str | None, int]:
        """Free the given addresses that are allocated here; returns released count per
        handle. Addresses already free are ignored (release is idempotent)."""
        released: dict[str | None, int] = {}
        changed = False
        for ip in ips:
            ordinal = self.ordinal(ip)
            idx = self.allocations[ordinal]
            if idx is None:
                continue
            handle = self.attributes[idx].get("handle_id") if idx < len(self.attributes) else None
            released[handle] = released.get(handle, 0) + 1
            self.allocations[ordinal] = None
            self.unallocated.append(ordinal)
            self.seq_for_allocation.pop(str(ordinal), None)
            changed = True
        if changed:
            self._compact_attributes()
            self._bump()
        return released

    def release_handle(self, handle_id: str) -> list[IPAddress]:
        ips = self.ips_for_handle(handle_id)
        self.release(ips)
        return ips

    def _compact_attributes(self) -> None:
        used = sorted({i for i in self.allocations if i is not None})
        if used == list(range(len(self.attributes))):
            return
        remap = {old: new for new, old in enumerate(used)}
        self.attributes = [self.attributes[old] for old in used]
        self.allocations = [None if i is None else remap[i] for i in self.allocations]

    def is_empty(self) -> bool:
        return all(a is None for a in self.allocations)


# --- the other IPAM values ----------------------------------------------------------------

def handle_value(blocks: Mapping[str, int]) -> str:
    """`/calico/ipam/v2/handle/<id>` value: addresses held per block CIDR."""
    return json.dumps({"block": {k: v for k, v in blocks.items() if v > 0}, "deleted": False},
                      separators=(",", ":"))


def parse_handle(raw: bytes | str | None) -> dict[str, int]:
    if not raw:
        return {}
    d = json.loads(raw)
    return {str(k): int(v) for k, v in (d.get("block") or {}).items()}


def affinity_value(state: str) -> str:
    return json.dumps({"state": state, "deleted": False}, separators=(",", ":"))


def parse_affinity(raw: bytes | str | None) -> str:
    """The affinity state; an empty value is Calico's old format and means confirmed."""
    if not raw:
        return AFFINITY_CONFIRMED
    d = json.loads(raw)
    return d.get("state") or AFFINITY_CONFIRMED
