"""`ipam check`'s leak analysis and JSON report, as calicoctl's `IPAMChecker` does it.

Pure: it takes one snapshot of the datastore (blocks, affinities, handles with their mod
revisions, Nodes, WorkloadEndpoints, IPPools, ClusterInformation) and returns the lines to
print, the number of problems and the machine-readable report. Two kinds of finding:

* leaks, found by cross-referencing: an address allocated in a block that no
  WorkloadEndpoint (`spec.ipNetworks`) and no Node tunnel address uses; an address used by
  an endpoint or node but allocated nowhere; a handle that holds no address;
* structural inconsistencies between blocks, handles and affinities, which
  `libcalico_py.ipam.check.check_snapshot` finds (free list vs allocations, handle counts,
  dangling affinities, blocks of unknown hosts).

The report keeps calicoctl's field names (`allocations` keyed by address, each with
`handle`, `sequenceNumber`, `inUse`, ...; `leakedHandles` with `ID`/`Revision`), so that
`ipam release --from-report` can release exactly what was leaked when the report was
made and nothing that has been re-allocated since (the handle and sequence number must
still match).
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from libcalico_py.datastore import keys
from libcalico_py.ipam import block as blk
from libcalico_py.ipam.check import check_snapshot

TOP_NODES = 20


@dataclass
class Snapshot:
    """What `ipam check` reads, each as stored (raw values keyed by etcd key)."""

    blocks: dict[str, bytes]
    affinities: dict[str, bytes]
    handles: dict[str, tuple[bytes, int]]          # key -> (value, mod revision)
    nodes: list[dict]
    workload_endpoints: list[dict]
    pools: list[dict]
    cluster_info: dict | None = None              # ClusterInformation "default" as a dict
    cluster_info_revision: str = ""


@dataclass
class Allocation:
    ip: str
    block: str
    handle: str | None
    sequence_number: int
    attrs: dict
    node: str
    borrowed: bool
    in_use: bool = False
    owners: list[str] = field(default_factory=list)

    def attr_string(self) -> str:
        extra = ",".join(f"{k}={v}" for k, v in sorted((self.attrs.get("secondary") or {}).items()))
        return f"Main:{self.handle or '<none>'} Extra:{extra}"

    def to_json(self) -> dict:
        secondary = self.attrs.get("secondary") or {}
        out: dict = {"ip": self.ip}
        if self.handle:
            out["handle"] = self.handle
        out["sequenceNumber"] = self.sequence_number
        for src, dst in (("pod", "pod"), ("namespace", "namespace")):
            if secondary.get(src):
                out[dst] = secondary[src]
        if self.node:
            out["node"] = self.node
        if secondary.get("type"):
            out["type"] = secondary["type"]
        if secondary.get("timestamp"):
            out["creationTimestamp"] = secondary["timestamp"]
        out["inUse"] = self.in_use
        if self.borrowed:
            out["borrowed"] = True
        out["owners"] = self.owners or None
        return out


@dataclass
class Result:
    lines: list[str]
    problems: int
    report: dict


def _normalise(addr: str) -> str | None:
    try:
        return str(ipaddress.ip_interface(addr).ip)
    except ValueError:
        return None


def node_ips(node: dict) -> list[str]:
    """Tunnel addresses a Node holds from IPAM (IPIP, VXLAN, WireGuard)."""
    spec = node.get("spec") or {}
    found = [(spec.get("bgp") or {}).get("ipv4IPIPTunnelAddr"), spec.get("ipv4VXLANTunnelAddr"),
             spec.get("ipv6VXLANTunnelAddr"), (spec.get("wireguard") or {}).get("interfaceIPv4Address"),
             (spec.get("wireguard") or {}).get("interfaceIPv6Address")]
    return [ip for ip in (_normalise(a) for a in found if a) if ip]


def workload_ips(wep: dict) -> list[str]:
    return [ip for ip in (_normalise(a) for a in (wep.get("spec") or {}).get("ipNetworks") or []) if ip]


def in_use_owners(snapshot: Snapshot) -> dict[str, list[str]]:
    """Address -> friendly names of what uses it (`Node(n1)`, `Workload(ns/name)`)."""
    owners: dict[str, list[str]] = {}
    for n in snapshot.nodes:
        for ip in node_ips(n):
            owners.setdefault(ip, []).append(f"Node({n['metadata']['name']})")
    for w in snapshot.workload_endpoints:
        md = w.get("metadata") or {}
        for ip in workload_ips(w):
            owners.setdefault(ip, []).append(f"Workload({md.get('namespace')}/{md.get('name')})")
    return owners


def _allocations(blocks: list[blk.Block]) -> list[Allocation]:
    out = []
    for b in blocks:
        host = b.host or ""
        for ip, handle in b.allocated_ips():
            attrs = b.attributes_of(ip) or {}
            node = (attrs.get("secondary") or {}).get("node") or host
            ordinal = b.ordinal(ip)
            out.append(Allocation(ip=str(ip), block=str(b.cidr), handle=handle,
                                  sequence_number=b.seq_for_allocation.get(str(ordinal), 0),
                                  attrs=attrs, node=node, borrowed=node != host))
    return out


def analyse(snapshot: Snapshot, show_all_ips: bool, show_problem_ips: bool,
            version: str) -> Result:
    show_problem_ips = show_problem_ips or show_all_ips
    lines = ["Checking IPAM for inconsistencies...", ""]
    say = lines.append

    say("Loading all IPAM blocks...")
    blocks = []
    for key, value in sorted(snapshot.blocks.items()):
        if keys.parse_block_key(key) is not None:
            blocks.append(blk.Block.from_json(value))
    say(f"Found {len(blocks)} IPAM blocks.")
    allocations = _allocations(blocks)
    by_ip: dict[str, list[Allocation]] = {}
    for b in blocks:
        say(f" IPAM block {b.cidr} affinity={b.affinity or '<none>'}:")
        for a in allocations:
            if a.block == str(b.cidr):
                by_ip.setdefault(a.ip, []).append(a)
                if show_all_ips:
                    say(f"  {a.ip} allocated; attrs {a.attr_string()}")
    say(f"IPAM blocks record {len(allocations)} allocations.")
    say("")

    say("Loading all IPAM pools...")
    active = []
    for p in snapshot.pools:
        spec = p.get("spec") or {}
        if spec.get("disabled"):
            continue
        say(f"  {spec.get('cidr')}")
        active.append(ipaddress.ip_network(spec["cidr"], strict=False))
    say(f"Found {len(active)} active IP pools.")
    say("")

    owners = in_use_owners(snapshot)
    node_count = sum(len(node_ips(n)) for n in snapshot.nodes)
    wep_count = sum(len(workload_ips(w)) for w in snapshot.workload_endpoints)
    say("Loading all nodes.")
    say(f"Found {node_count} node tunnel IPs.")
    say("")
    say("Loading all workload endpoints.")
    say(f"Found {wep_count} workload IPs.")
    say(f"Workloads and nodes are using {len(owners)} IPs.")
    if show_all_ips:
        for ip, names in sorted(owners.items()):
            for name in names:
                say(f"  {ip} belongs to {name}")
    say("")
    for ip, names in owners.items():
        for a in by_ip.get(ip, []):
            a.in_use = True
            a.owners = list(names)

    say("Loading all handles")
    handles = {}
    for key, (_value, revision) in snapshot.handles.items():
        hid = keys.parse_handle_key(key)
        if hid is not None:
            handles[hid] = revision
    in_use_handles = {a.handle for a in allocations if a.handle}

    say(f"Looking for top (up to {TOP_NODES}) nodes by allocations...")
    per_node: dict[str, int] = {}
    for a in allocations:
        per_node[a.node] = per_node.get(a.node, 0) + 1
    ranked = sorted(per_node, key=lambda n: (-per_node[n], n))
    for n in ranked[:TOP_NODES]:
        say(f"  {n or '<none>'} has {per_node[n]} allocations")
    if ranked:
        say(f"Node with most allocations has {per_node[ranked[0]]}; "
            f"median is {per_node[ranked[len(ranked) // 2]]}")
    say("")

    problems = 0
    say("Scanning for IPs that are allocated but not actually in use...")
    leaked = sorted((ip for ip in by_ip if ip not in owners), key=_ip_key)
    for ip in leaked:
        if show_problem_ips:
            for a in by_ip[ip]:
                say(f"  {ip} leaked; attrs {a.attr_string()}")
    problems += len(leaked)
    say(f"Found {len(leaked)} IPs that are allocated in IPAM but not actually in use.")

    say("Scanning for IPs that are in use by a workload or node but not allocated in IPAM...")
    outside, unallocated = [], []
    for ip in sorted(owners, key=_ip_key):
        if show_problem_ips and len(owners[ip]) > 1:
            say(f"  {ip} has multiple owners.")
        if ip in by_ip:
            continue
        addr = ipaddress.ip_address(ip)
        if not any(addr in net for net in active):
            outside.append(ip)
            if show_problem_ips:
                for o in owners[ip]:
                    say(f"  {ip} in use by {o} is not in any active IP pool.")
            continue
        unallocated.append(ip)
        if show_problem_ips:
            for o in owners[ip]:
                say(f"  {ip} in use by {o} and in active IPAM pool but has no IPAM allocation.")
    problems += len(outside) + len(unallocated)
    say(f"Found {len(outside)} in-use IPs that are not in active IP pools.")
    say(f"Found {len(unallocated)} in-use IPs that are in active IP pools but have no "
        f"corresponding IPAM allocation.")
    say("")

    say("Scanning for IPAM handles with no matching IPs...")
    leaked_handles = [h for h in sorted(handles) if h not in in_use_handles]
    for h in leaked_handles:
        if show_all_ips:
            say(f"  {h} doesn't have any active IPs.")
    problems += len(leaked_handles)
    say(f"Found {len(leaked_handles)} handles with no matching IPs (and "
        f"{len(handles) - len(leaked_handles)} handles with matches).")
    say("Scanning for IPs with missing handle...")
    missing = sorted(h for h in in_use_handles if h not in handles)
    for h in missing:
        if show_problem_ips:
            say(f"  {h} is in use in a block but doesn't exist.")
    say(f"Found {len(missing)} handles mentioned in blocks with no matching handle resource.")

    say("Checking blocks, affinities and handles for consistency...")
    node_names = {(n.get("metadata") or {}).get("name") for n in snapshot.nodes}
    consistency = check_snapshot(snapshot.blocks, snapshot.affinities,
                                 {k: v for k, (v, _rev) in snapshot.handles.items()}, node_names)
    # Missing and dangling handles are already counted above under calicoctl's names.
    structural = [p for p in consistency.problems
                  if p.kind not in ("allocation-no-handle", "handle-dangling")]
    for p in structural:
        say(f"  {p}")
    problems += len(structural)
    say(f"Found {len(structural)} inconsistencies between blocks, affinities and handles.")

    say(f"Check complete; found {problems} problems.")

    info = (snapshot.cluster_info or {}).get("spec") or {}
    report = {
        "version": version,
        "clusterGUID": info.get("clusterGUID", ""),
        "datastoreLocked": info.get("datastoreReady") is False,
        "clusterInformationRevision": snapshot.cluster_info_revision,
        "clusterType": info.get("clusterType", ""),
        "allocations": {ip: [a.to_json() for a in by_ip[ip]] for ip in sorted(by_ip, key=_ip_key)},
        "leakedHandles": [{"ID": h, "UID": None, "Revision": str(handles[h])} for h in leaked_handles],
        "problems": [{"kind": p.kind, "key": p.key, "detail": p.detail} for p in structural],
    }
    if not report["leakedHandles"]:
        del report["leakedHandles"]
    return Result(lines, problems, report)


def _ip_key(ip: str):
    addr = ipaddress.ip_address(ip)
    return (addr.version, int(addr))


@dataclass
class ReleasePlan:
    """What a set of reports agrees is leaked: addresses (with the handle and sequence
    number they had) and handles (with their revision)."""

    ips: dict[str, tuple[str | None, int | None]]
    handles: dict[str, str]


def merge_reports(reports: list[dict]) -> ReleasePlan:
    """Only what every report calls leaked; a handle only if its revision never changed."""
    ips: dict[str, tuple[str | None, int | None]] | None = None
    handles: dict[str, str] | None = None
    for r in reports:
        these = {}
        for allocs in (r.get("allocations") or {}).values():
            for a in allocs:
                if a.get("inUse"):
                    continue
                if ips is not None and a["ip"] not in ips:
                    continue
                these[a["ip"]] = (a.get("handle"), a.get("sequenceNumber"))
        ips = these
        hs = {}
        for h in r.get("leakedHandles") or []:
            if handles is None or handles.get(h["ID"]) == h.get("Revision"):
                hs[h["ID"]] = h.get("Revision")
        handles = hs
    return ReleasePlan(ips or {}, handles or {})
