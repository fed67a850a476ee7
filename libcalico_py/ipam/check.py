"""IPAM consistency report, shared by `calicoctl-py ipam check` and the tests.

Reads every block, affinity, handle and Node once (one prefix read each) and cross-checks
them. Pure apart from those reads: `check_snapshot()` takes the raw key/values so it can be
tested without etcd. Kinds of problem reported (each with the key concerned):

* `block-invalid`          a block whose free list and allocations disagree
* `allocation-no-handle`   an allocated address whose handle key does not exist
* `handle-count-mismatch`  a handle's per-block count differs from what the block holds
* `handle-dangling`        a handle naming a block that does not exist or holds nothing for it
* `affinity-no-block`      an affinity key whose block is missing or affine to someone else
* `block-no-affinity`      a block affine to a host that has no affinity key for it
* `affinity-pending`       a claim that never got confirmed
* `host-no-node`           a block affine to a host that has no Node resource
"""
from __future__ import annotations

from dataclasses import dataclass, field

from libcalico_py.datastore import keys
from libcalico_py.ipam import block as blk


@dataclass(frozen=True)
class Problem:
    kind: str
    key: str
    detail: str
    ip: str | None = None  # the address concerned, for allocation problems (`ipam release`)

    def __str__(self) -> str:
        return f"{self.kind}: {self.key}: {self.detail}"


@dataclass
class CheckReport:
    problems: list[Problem] = field(default_factory=list)
    blocks: int = 0
    allocations: int = 0
    handles: int = 0
    affinities: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def leaked_ips(self) -> list[str]:
        """Addresses allocated to a handle that no longer exists (safe to release)."""
        return [p.ip for p in self.problems if p.kind == "allocation-no-handle" and p.ip]

    def summary(self) -> str:
        head = (f"{self.blocks} blocks, {self.affinities} affinities, {self.handles} handles, "
                f"{self.allocations} allocated addresses: ")
        if self.ok:
            return head + "no problems found"
        return head + f"{len(self.problems)} problem(s)\n" + "\n".join(str(p) for p in self.problems)


def check(ds) -> CheckReport:
    kv = getattr(ds, "kv", ds)
    blocks, _ = kv.get_prefix(keys.BLOCK_PREFIX)
    affinities, _ = kv.get_prefix(keys.AFFINITY_PREFIX)
    handles, _ = kv.get_prefix(keys.HANDLE_PREFIX)
    nodes, _ = kv.get_prefix(keys.resource_prefix("Node"))
    node_names = set()
    for n in nodes:
        parsed = keys.parse_resource_key(n.key)
        if parsed:
            node_names.add(parsed.name)
    return check_snapshot({k.key: k.value for k in blocks}, {k.key: k.value for k in affinities},
                          {k.key: k.value for k in handles}, node_names)


def check_snapshot(blocks: dict, affinities: dict, handles: dict, node_names: set) -> CheckReport:
    report = CheckReport()
    problems = report.problems
    parsed_blocks: dict[str, blk.Block] = {}
    for key, value in blocks.items():
        cidr = keys.parse_block_key(key)
        if cidr is None:
            continue
        b = blk.Block.from_json(value)
        parsed_blocks[cidr] = b
        allocated = {i for i, a in enumerate(b.allocations) if a is not None}
        free = b.unallocated
        if len(set(free)) != len(free):
            problems.append(Problem("block-invalid", key, "an ordinal is listed twice as free"))
        both = allocated & set(free)
        if both:
            problems.append(Problem("block-invalid", key,
                                    f"ordinals both free and allocated: {sorted(both)[:5]}"))
        missing = set(range(b.size)) - allocated - set(free)
        if missing:
            problems.append(Problem("block-invalid", key,
                                    f"ordinals neither free nor allocated: {sorted(missing)[:5]}"))
        bad_attr = [i for i in allocated if b.allocations[i] >= len(b.attributes)]
        if bad_attr:
            problems.append(Problem("block-invalid", key, "allocation points past the attributes"))
    report.blocks = len(parsed_blocks)

    handle_counts: dict[str, dict[str, int]] = {}
    for key, value in handles.items():
        hid = keys.parse_handle_key(key)
        if hid is not None:
            handle_counts[hid] = blk.parse_handle(value)
    report.handles = len(handle_counts)

    held: dict[str, dict[str, int]] = {}
    for cidr, b in parsed_blocks.items():
        for ip, hid in b.allocated_ips():
            report.allocations += 1
            if hid is None or hid not in handle_counts:
                problems.append(Problem("allocation-no-handle", keys.block_key(cidr),
                                        f"{ip} is allocated to handle {hid!r}, which does not exist",
                                        str(ip)))
                continue
            held.setdefault(hid, {})
            held[hid][cidr] = held[hid].get(cidr, 0) + 1
    for hid, counts in handle_counts.items():
        hkey = keys.handle_key(hid)
        for cidr, n in counts.items():
            have = held.get(hid, {}).get(cidr, 0)
            if cidr not in parsed_blocks or have == 0:
                problems.append(Problem("handle-dangling", hkey,
                                        f"claims {n} address(es) in block {cidr}, which holds none for it"))
            elif have != n:
                problems.append(Problem("handle-count-mismatch", hkey,
                                        f"claims {n} address(es) in block {cidr}, the block holds {have}"))
        for cidr, have in held.get(hid, {}).items():
            if cidr not in counts:
                problems.append(Problem("handle-count-mismatch", hkey,
                                        f"block {cidr} holds {have} address(es) the handle does not list"))

    affine_pairs = set()
    for key, value in affinities.items():
        parsed = keys.parse_affinity_key(key)
        if parsed is None:
            continue
        report.affinities += 1
        affine_pairs.add((parsed.host, parsed.cidr))
        b = parsed_blocks.get(parsed.cidr)
        state = blk.parse_affinity(value)
        if state == blk.AFFINITY_PENDING:
            problems.append(Problem("affinity-pending", key, "block claim was never confirmed"))
        if b is None:
            problems.append(Problem("affinity-no-block", key, f"block {parsed.cidr} does not exist"))
        elif b.host != parsed.host:
            problems.append(Problem("affinity-no-block", key,
                                    f"block {parsed.cidr} is affine to {b.affinity!r}"))
    for cidr, b in parsed_blocks.items():
        host = b.host
        if host is None:
            continue
        if (host, cidr) not in affine_pairs:
            problems.append(Problem("block-no-affinity", keys.block_key(cidr),
                                    f"affine to host {host!r}, which has no affinity key for it"))
        if host not in node_names:
            problems.append(Problem("host-no-node", keys.block_key(cidr),
                                    f"affine to host {host!r}, which has no Node resource"))
    return report


