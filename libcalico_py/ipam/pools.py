"""Which IPPools an allocation may use (Calico's pool selection, reference §2.7, §9.5).

Pure: takes the pools (as Calico's v3 JSON documents) and the node's labels, returns the
eligible pools in a stable order. A pool is eligible for a workload address when it is not
`disabled`, has the right IP family, allows the `Workload` use, its `nodeSelector` matches
the node's labels, and, when the caller names pools (CNI `ipam.ipv4_pools`, by name or by
CIDR), it is one of them. Naming a pool that does not exist or is disabled is an error,
as in Calico, rather than a silent fallback to other pools.
"""
from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from typing import Iterable, Mapping

DEFAULT_BLOCK_SIZE = {4: 26, 6: 122}


class PoolSelectionError(ValueError):
    """The requested pools cannot be used (unknown, disabled, wrong family, bad selector)."""


@dataclass(frozen=True)
class Pool:
    name: str
    cidr: ipaddress.IPv4Network | ipaddress.IPv6Network
    block_size: int
    disabled: bool = False
    node_selector: str = "all()"
    allowed_uses: tuple[str, ...] = ("Workload", "Tunnel")
    assignment_mode: str = "Automatic"

    @property
    def version(self) -> int:
        return self.cidr.version

    @classmethod
    def from_document(cls, doc: Mapping | bytes | str) -> "Pool":
        d = json.loads(doc) if isinstance(doc, (bytes, str)) else doc
        spec = d.get("spec") or {}
        cidr = ipaddress.ip_network(spec["cidr"], strict=False)
        return cls(name=(d.get("metadata") or {}).get("name", str(cidr)),
                   cidr=cidr,
                   block_size=int(spec.get("blockSize") or DEFAULT_BLOCK_SIZE[cidr.version]),
                   disabled=bool(spec.get("disabled", False)),
                   node_selector=(spec.get("nodeSelector") or "all()").strip() or "all()",
                   allowed_uses=tuple(spec.get("allowedUses") or ("Workload", "Tunnel")),
                   assignment_mode=spec.get("assignmentMode") or "Automatic")


def node_selector_matches(pool: Pool, labels: Mapping[str, str]) -> bool:
    if pool.node_selector in ("all()", ""):
        return True
    from libcalico_py.selector import parse  # lazy: the CNI fast path rarely needs it
    try:
        return parse(pool.node_selector).evaluate(labels)
    except ValueError as e:
        raise PoolSelectionError(f"IPPool {pool.name}: invalid nodeSelector "
                                 f"{pool.node_selector!r}: {e}") from None


def eligible_pools(pools: Iterable[Pool], node_labels: Mapping[str, str], version: int = 4,
                   requested: Iterable[str] | None = None, use: str = "Workload") -> list[Pool]:
    """The pools an automatic allocation may draw from, ordered by CIDR."""
    pools = list(pools)
    requested = [r for r in (requested or []) if r]
    if requested:
        chosen = []
        for req in requested:
            match = _find(pools, req)
            if match is None:
                raise PoolSelectionError(f"requested IP pool {req!r} does not exist")
            if match.disabled:
                raise PoolSelectionError(f"requested IP pool {req!r} is disabled")
            if match.version != version:
                raise PoolSelectionError(f"requested IP pool {req!r} is not an IPv{version} pool")
            if match not in chosen:
                chosen.append(match)
        candidates = chosen
    else:
        candidates = [p for p in pools if not p.disabled and p.version == version
                      and p.assignment_mode == "Automatic"]
    out = [p for p in candidates if use in p.allowed_uses and node_selector_matches(p, node_labels)]
    return sorted(out, key=lambda p: (int(p.cidr.network_address), p.cidr.prefixlen))


def _find(pools: list[Pool], req: str) -> Pool | None:
    for p in pools:
        if p.name == req:
            return p
    try:
        net = ipaddress.ip_network(req, strict=False)
    except ValueError:
        return None
    for p in pools:
        if p.cidr == net:
            return p
    return None


def pool_for_ip(pools: Iterable[Pool], ip) -> Pool | None:
    addr = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    for p in pools:
        if addr in p.cidr:
            return p
    return None
