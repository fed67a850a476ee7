"""Calico IPAM over etcd: claim blocks for hosts, hand out and release addresses.

`IPAM(ds)` works on any object with Calico's raw-KV contract (`ds.kv.get/get_prefix/txn`,
see COMMON.md), or on such a `kv` itself. Layout and values are Calico's (reference §1.3):
blocks under `/calico/ipam/v2/assignment/`, affinities under `/calico/ipam/v2/host/<h>/`,
handles under `/calico/ipam/v2/handle/`, config at `/calico/ipam/v2/config`.

Allocation order (reference §9.5):
1. free addresses in blocks this host has a confirmed affinity for;
2. claim a new block: the first block of an eligible pool, in a host-seeded order, that has
   no block object yet. Claiming writes the affinity as `pending` together with the new
   block (one transaction, guarded by both keys being absent), then flips the affinity to
   `confirmed` (guarded by its value), so a crash in between leaves a visible pending claim;
3. unless `strict_affinity` is set in the IPAM config, borrow a free address from any other
   block of an eligible pool.

Every write is one etcd transaction that compares the mod revision of every key it read
(block and handle together), so two allocators racing for one block cannot both win: the
loser re-reads and tries again, at most `retries` times. An address is therefore never handed
out twice, whichever process or node asks. Release is idempotent.
"""
from __future__ import annotations

import ipaddress
import json
import time
from dataclasses import dataclass
from typing import Iterable, Mapping

from libcalico_py.datastore import keys
from libcalico_py.errors import CalicoError
from libcalico_py.ipam import block as blk
from libcalico_py.ipam.pools import Pool, PoolSelectionError, eligible_pools, pool_for_ip

DEFAULT_RETRIES = 100
DEFAULT_MAX_BLOCKS_PER_HOST = 20


class IPAMError(CalicoError):
    """Base of allocator errors."""


class PoolExhausted(IPAMError):
    """No eligible pool has a free address for this request."""


class AddressInUse(IPAMError):
    """A specific address was requested but is already allocated."""


class AddressNotInPool(IPAMError):
    """A specific address lies outside every configured IPPool."""


class TooManyRetries(IPAMError):
    """Kept losing compare-and-swap races; the datastore is too contended right now."""


class InvalidPoolRequest(IPAMError):
    """The requested pools cannot be used."""


@dataclass(frozen=True)
class IPAMConfig:
    strict_affinity: bool = False
    auto_allocate_blocks: bool = True
    max_blocks_per_host: int = 0

    @classmethod
    def from_json(cls, raw: bytes | str | None) -> "IPAMConfig":
        if not raw:
            return cls()
        d = json.loads(raw)
        return cls(strict_affinity=bool(d.get("strict_affinity", False)),
                   auto_allocate_blocks=bool(d.get("auto_allocate_blocks", True)),
                   max_blocks_per_host=int(d.get("maxBlocksPerHost") or 0))

    def to_json(self) -> str:
        return json.dumps({"strict_affinity": self.strict_affinity,
                           "auto_allocate_blocks": self.auto_allocate_blocks,
                           "maxBlocksPerHost": self.max_blocks_per_host})


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class IPAM:
    def __init__(self, ds, retries: int = DEFAULT_RETRIES):
        self.kv = getattr(ds, "kv", ds)
        self.retries = retries

    # --- reading ------------------------------------------------------------------------

    def config(self) -> IPAMConfig:
        kv = self.kv.get(keys.IPAM_CONFIG_KEY)
        return IPAMConfig.from_json(kv.value if kv else None)

    def set_config(self, config: IPAMConfig) -> None:
        self.kv.put(keys.IPAM_CONFIG_KEY, config.to_json())

    def pools(self) -> list[Pool]:
        kvs, _ = self.kv.get_prefix(keys.resource_prefix("IPPool"))
        return [Pool.from_document(kv.value) for kv in kvs]

    def node_labels(self, host: str) -> dict[str, str]:
        kv = self.kv.get(keys.resource_key("Node", host))
        if kv is None:
            return {}
        return dict((json.loads(kv.value).get("metadata") or {}).get("labels") or {})

    def blocks(self) -> list[blk.Block]:
        kvs, _ = self.kv.get_prefix(keys.BLOCK_PREFIX)
        return [blk.Block.from_json(kv.value) for kv in kvs]

    def _block_cidrs(self, version: int = 4) -> set:
        kvs, _ = self.kv.get_prefix(f"{keys.BLOCK_PREFIX}ipv{version}/")
        out = set()
        for kv in kvs:
            cidr = keys.parse_block_key(kv.key)
            if cidr:
                out.add(ipaddress.ip_network(cidr))
        return out

    def affine_blocks(self, host: str, version: int = 4) -> list[tuple[ipaddress.IPv4Network, str]]:
        """(block CIDR, state) of every affinity of `host`."""
        kvs, _ = self.kv.get_prefix(keys.affinity_prefix(host))
        out = []
        for kv in kvs:
            parsed = keys.parse_affinity_key(kv.key)
            if parsed is None:
                continue
            net = ipaddress.ip_network(parsed.cidr)
            if net.version == version:
                out.append((net, blk.parse_affinity(kv.value)))
        return sorted(out, key=lambda t: int(t[0].network_address))

    def _eligible(self, host: str, requested: Iterable[str] | None, version: int) -> list[Pool]:
        pools = self.pools()
        labels = self.node_labels(host) if any(p.node_selector != "all()" for p in pools) else {}
        try:
            return eligible_pools(pools, labels, version, requested)
        except PoolSelectionError as e:
            raise InvalidPoolRequest(str(e)) from None

    # --- allocation ---------------------------------------------------------------------

    def auto_assign(self, handle_id: str, host: str, num: int = 1,
                    pools: Iterable[str] | None = None, attrs: Mapping[str, str] | None = None,
                    version: int = 4) -> list[ipaddress.IPv4Address]:
        """Allocate `num` addresses for `handle_id` on `host`; all or nothing."""
        if num < 1:
            raise ValueError("num must be at least 1")
        cfg = self.config()
        eligible = self._eligible(host, pools, version)
        if not eligible:
            raise PoolExhausted(f"no enabled IPv{version} IP pool is usable by node {host!r}"
                                + (f" among {list(pools)}" if pools else ""))
        out: list = []
        try:
            for cidr, state in self.affine_blocks(host, version):
                if len(out) >= num:
                    break
                if state == blk.AFFINITY_PENDING:
                    state = self._finish_claim(host, cidr)
                if state == blk.AFFINITY_CONFIRMED and _in_pools(cidr, eligible):
                    out += self._allocate_in_block(cidr, handle_id, num - len(out), attrs, host)
            while len(out) < num:
                cidr = self._claim_block(host, eligible, cfg, version)
                if cidr is None:
                    break
                out += self._allocate_in_block(cidr, handle_id, num - len(out), attrs, host)
            if len(out) < num and not cfg.strict_affinity:
                for b in sorted(self.blocks(), key=lambda b: (b.cidr.version, int(b.cidr.network_address))):
                    if len(out) >= num:
                        break
                    if b.cidr.version == version and b.free_count() and _in_pools(b.cidr, eligible):
                        out += self._allocate_in_block(b.cidr, handle_id, num - len(out), attrs, None)
        except BaseException:
            if out:
                self.release_ips(out)
            raise
        if len(out) < num:
            if out:
                self.release_ips(out)
            names = ", ".join(f"{p.name} ({p.cidr})" for p in eligible)
            raise PoolExhausted(f"no free IPv{version} address left in IP pool(s) {names} for node "
                                f"{host!r}" + (" (strict affinity)" if cfg.strict_affinity else ""))
        return out

    def _allocate_in_block(self, cidr, handle_id: str, num: int, attrs, host: str | None) -> list:
        bkey = keys.block_key(str(cidr))
        for _ in range(self.retries):
            bkv = self.kv.get(bkey)
            if bkv is None:
                return []
            block = blk.Block.from_json(bkv.value)
            if host is not None and block.host != host:
                return []
            ips = block.allocate(num, handle_id, attrs)
            if not ips:
                return []
            if self._store_allocation(bkv, block, handle_id, len(ips)):
                return ips
        raise TooManyRetries(f"gave up allocating in block {cidr} after {self.retries} conflicts")

    def _store_allocation(self, bkv, block: blk.Block, handle_id: str, added: int) -> bool:
        """Write `block` (read as `bkv`, now holding `added` more addresses of `handle_id`)
        and raise the handle's count for the block, in one transaction guarded by both
        keys' revisions. False when another writer got there first."""
        hkey = keys.handle_key(handle_id)
        hkv = self.kv.get(hkey)
        counts = blk.parse_handle(hkv.value if hkv else None)
        cidr = str(block.cidr)
        counts[cidr] = counts.get(cidr, 0) + added
        compare = [("mod", bkv.key, bkv.mod_revision),
                   ("mod", hkey, hkv.mod_revision) if hkv else ("version", hkey, 0)]
        return self.kv.txn(compare=compare, success=[("put", bkv.key, block.to_json()),
                                                     ("put", hkey, blk.handle_value(counts))])

    def _claim_block(self, host: str, pools: list[Pool], cfg: IPAMConfig, version: int):
        """Claim one unclaimed block for `host`; its CIDR, or None when none is left."""
        if not cfg.auto_allocate_blocks:
            return None
        limit = cfg.max_blocks_per_host or DEFAULT_MAX_BLOCKS_PER_HOST
        if len(self.affine_blocks(host, version)) >= limit:
            return None
        existing = self._block_cidrs(version)
        for pool in pools:
            count = blk.block_count(pool.cidr, pool.block_size)
            for n in blk.host_block_order(host, count):
                cidr = blk.nth_block(pool.cidr, pool.block_size, n)
                if cidr in existing:
                    continue
                if self._claim(host, cidr):
                    return cidr
                existing.add(cidr)
        return None

    def _claim(self, host: str, cidr) -> bool:
        akey = keys.affinity_key(host, str(cidr))
        bkey = keys.block_key(str(cidr))
        pending = blk.affinity_value(blk.AFFINITY_PENDING)
        new_block = blk.Block.new(cidr, host, _now())
        if not self.kv.txn(compare=[("version", bkey, 0), ("version", akey, 0)],
                           success=[("put", akey, pending), ("put", bkey, new_block.to_json())]):
            return False
        self.kv.txn(compare=[("value", akey, pending.encode())],
                    success=[("put", akey, blk.affinity_value(blk.AFFINITY_CONFIRMED))])
        return True

    def _finish_claim(self, host: str, cidr) -> str:
        """Complete a claim a crashed allocator left `pending`: confirm it when the block
        exists and is ours; the resulting state."""
        akey = keys.affinity_key(host, str(cidr))
        bkv = self.kv.get(keys.block_key(str(cidr)))
        if bkv is None or blk.Block.from_json(bkv.value).host != host:
            return blk.AFFINITY_PENDING
        akv = self.kv.get(akey)
        if akv is None or blk.parse_affinity(akv.value) != blk.AFFINITY_PENDING:
            return blk.parse_affinity(akv.value) if akv else blk.AFFINITY_PENDING
        if self.kv.txn(compare=[("mod", akey, akv.mod_revision)],
                       success=[("put", akey, blk.affinity_value(blk.AFFINITY_CONFIRMED))]):
            return blk.AFFINITY_CONFIRMED
        akv = self.kv.get(akey)
        return blk.parse_affinity(akv.value) if akv else blk.AFFINITY_PENDING

    def assign(self, ip: str, handle_id: str, host: str,
               attrs: Mapping[str, str] | None = None) -> ipaddress.IPv4Address:
        """Allocate one specific address (CNI `args.cni.ips`, `calicoctl ipam` tooling)."""
        addr = ipaddress.ip_address(ip)
        pool = pool_for_ip(self.pools(), addr)
        if pool is None:
            raise AddressNotInPool(f"{addr} is not in any configured IP pool")
        if pool.disabled:
            raise AddressNotInPool(f"{addr} is in IP pool {pool.name}, which is disabled")
        cidr = blk.block_containing(addr, pool.block_size)
        bkey = keys.block_key(str(cidr))
        for _ in range(self.retries):
            bkv = self.kv.get(bkey)
            if bkv is None:
                if not self._claim(host, cidr):
                    continue
                bkv = self.kv.get(bkey)
                if bkv is None:
                    continue
            block = blk.Block.from_json(bkv.value)
            try:
                block.assign(addr, handle_id, attrs)
            except blk.BlockError as e:
                raise AddressInUse(str(e)) from None
            if self._store_allocation(bkv, block, handle_id, 1):
                return addr
        raise TooManyRetries(f"gave up assigning {addr} after {self.retries} conflicts")

    def ips_by_handle(self, handle_id: str) -> list:
        """Every address held by `handle_id` (empty for an unknown handle)."""
        hkv = self.kv.get(keys.handle_key(handle_id))
        out: list = []
        for cidr in blk.parse_handle(hkv.value if hkv else None):
            bkv = self.kv.get(keys.block_key(cidr))
            if bkv is not None:
                out += blk.Block.from_json(bkv.value).ips_for_handle(handle_id)
        return out

    # --- release ------------------------------------------------------------------------

    def release_by_handle(self, handle_id: str) -> list:
        """Free every address held by `handle_id` and delete the handle. Unknown handle:
        nothing to do (DEL is idempotent)."""
        hkey = keys.handle_key(handle_id)
        released: list = []
        for _ in range(self.retries):
            hkv = self.kv.get(hkey)
            if hkv is None:
                return released
            counts = blk.parse_handle(hkv.value)
            if not counts:
                if self.kv.txn(compare=[("mod", hkey, hkv.mod_revision)], success=[("delete", hkey)]):
                    return released
                continue
            cidr = next(iter(counts))
            bkey = keys.block_key(cidr)
            bkv = self.kv.get(bkey)
            ops = []
            compare = [("mod", hkey, hkv.mod_revision)]
            ips: list = []
            if bkv is not None:
                block = blk.Block.from_json(bkv.value)
                ips = block.release_handle(handle_id)
                compare.append(("mod", bkey, bkv.mod_revision))
                ops.append(_block_write(bkey, block))
            del counts[cidr]
            ops.append(("put", hkey, blk.handle_value(counts)) if counts else ("delete", hkey))
            if self.kv.txn(compare=compare, success=ops):
                released += ips
        raise TooManyRetries(f"gave up releasing handle {handle_id} after {self.retries} conflicts")

    def release_ips(self, ips: Iterable) -> list:
        """Free the given addresses; returns those that were allocated. Unallocated or
        unknown addresses are ignored."""
        by_block: dict = {}
        cidrs = self._block_cidrs(4) | self._block_cidrs(6)
        for ip in ips:
            addr = ipaddress.ip_address(str(ip))
            for cidr in cidrs:
                if addr in cidr:
                    by_block.setdefault(cidr, []).append(addr)
                    break
        released: list = []
        for cidr, addrs in by_block.items():
            released += self._release_in_block(cidr, addrs)
        return released

    def _release_in_block(self, cidr, addrs: list) -> list:
        bkey = keys.block_key(str(cidr))
        for _ in range(self.retries):
            bkv = self.kv.get(bkey)
            if bkv is None:
                return []
            block = blk.Block.from_json(bkv.value)
            held = [a for a in addrs if block.allocations[block.ordinal(a)] is not None]
            per_handle = block.release(held)
            if not held:
                return []
            compare = [("mod", bkey, bkv.mod_revision)]
            ops = [_block_write(bkey, block)]
            for handle, n in per_handle.items():
                if handle is None:
                    continue
                hkey = keys.handle_key(handle)
                hkv = self.kv.get(hkey)
                if hkv is None:
                    continue
                counts = blk.parse_handle(hkv.value)
                left = counts.get(str(cidr), 0) - n
                if left > 0:
                    counts[str(cidr)] = left
                else:
                    counts.pop(str(cidr), None)
                compare.append(("mod", hkey, hkv.mod_revision))
                ops.append(("put", hkey, blk.handle_value(counts)) if counts else ("delete", hkey))
            if self.kv.txn(compare=compare, success=ops):
                return held
        raise TooManyRetries(f"gave up releasing in block {cidr} after {self.retries} conflicts")

    def release_host_affinities(self, host: str) -> list:
        """Drop `host`'s affinity for its empty blocks (deleting those blocks); blocks still
        holding addresses keep their affinity. Returns the CIDRs released."""
        released = []
        for cidr, _state in self.affine_blocks(host, 4) + self.affine_blocks(host, 6):
            akey = keys.affinity_key(host, str(cidr))
            bkey = keys.block_key(str(cidr))
            for _ in range(self.retries):
                akv = self.kv.get(akey)
                bkv = self.kv.get(bkey)
                if akv is None:
                    break
                if bkv is not None and not blk.Block.from_json(bkv.value).is_empty():
                    break
                compare = [("mod", akey, akv.mod_revision)]
                ops = [("delete", akey)]
                if bkv is not None:
                    compare.append(("mod", bkey, bkv.mod_revision))
                    ops.append(("delete", bkey))
                if self.kv.txn(compare=compare, success=ops):
                    released.append(cidr)
                    break
        return released

    # --- reporting ----------------------------------------------------------------------

    def ip_info(self, ip: str) -> dict | None:
        """Who holds `ip`: {"ip", "block", "affinity", "handle_id", "attributes"} or None
        when it is in no block or not allocated."""
        addr = ipaddress.ip_address(ip)
        for cidr in self._block_cidrs(addr.version):
            if addr in cidr:
                bkv = self.kv.get(keys.block_key(str(cidr)))
                if bkv is None:
                    return None
                block = blk.Block.from_json(bkv.value)
                attrs = block.attributes_of(addr)
                if attrs is None:
                    return None
                return {"ip": str(addr), "block": str(cidr), "affinity": block.affinity,
                        "handle_id": attrs.get("handle_id"),
                        "attributes": dict(attrs.get("secondary") or {})}
        return None

    def borrowed(self) -> list[dict]:
        """Addresses handed out from a block affine to another node than the one that asked
        (`calicoctl ipam show --show-borrowed`)."""
        out = []
        for b in self.blocks():
            for ip, _handle in b.allocated_ips():
                attrs = b.attributes_of(ip) or {}
                node = (attrs.get("secondary") or {}).get("node")
                if node and b.host != node:
                    out.append({"ip": str(ip), "block": str(b.cidr), "block_owner": b.host,
                                "borrowing_node": node, "handle_id": attrs.get("handle_id"),
                                "attributes": dict(attrs.get("secondary") or {})})
        return out

    def usage(self) -> dict:
        """Per pool and per block: total, in use, free (`calicoctl ipam show`)."""
        pools = self.pools()
        blocks = self.blocks()
        out_pools = []
        for p in sorted(pools, key=lambda p: (p.version, int(p.cidr.network_address))):
            inside = [b for b in blocks if b.cidr.version == p.version and b.cidr.subnet_of(p.cidr)]
            in_use = sum(b.in_use() for b in inside)
            out_pools.append({"name": p.name, "cidr": str(p.cidr), "total": p.cidr.num_addresses,
                              "in_use": in_use, "free": p.cidr.num_addresses - in_use,
                              "disabled": p.disabled})
        out_blocks = [{"cidr": str(b.cidr), "affinity": b.affinity, "total": b.size,
                       "in_use": b.in_use(), "free": b.free_count()}
                      for b in sorted(blocks, key=lambda b: (b.cidr.version, int(b.cidr.network_address)))]
        return {"pools": out_pools, "blocks": out_blocks}


def _in_pools(cidr, pools: list[Pool]) -> bool:
    return any(cidr.version == p.version and cidr.subnet_of(p.cidr) for p in pools)


def _block_write(bkey: str, block: blk.Block):
    """Put the block back; an empty block nobody has affinity for is deleted instead."""
    if block.affinity is None and block.is_empty():
        return ("delete", bkey)
    return ("put", bkey, block.to_json())
