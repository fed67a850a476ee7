"""Datastore snapshot -> BirdConfig for one node: every BGP decision lives here.

Pure: no I/O, no clocks, no environment. Secrets and the CALICO_ROUTER_ID setting are
passed in. The rules follow Calico's confd (`bgp_processor.go` and the BIRD templates):

* Router id: CALICO_ROUTER_ID (an IPv4 address, or `hash` = IPv4 derived from the node
  name as Calico's `hashToIPv4` does), else the node's IPv4 address, else the hash.
* AS: the Node's `spec.bgp.asNumber`, else BGPConfiguration `asNumber`, else 64512.
  Dotted `a.b` becomes `a*65536+b`.
* BGPConfiguration `default` is overlaid by `node.<nodename>` (listenPort, bindMode,
  logSeverityScreen, ignoredInterfaces, ...).
* Node-to-node mesh (on unless `nodeToNodeMeshEnabled: false`): every other node with an
  address of the family, except route reflectors (nodes with `routeReflectorClusterID`);
  a route reflector joins no mesh at all. This side is `passive` when its IP string is
  greater than the peer's, so exactly one side of each pair connects.
* Explicit BGPPeers, global first (no `node`/`nodeSelector`), then node-specific ones;
  a peering to an IP already covered (mesh or earlier peer) is suppressed. `peerSelector`
  peers expand to the selected Calico nodes (AS from their Node or the global default),
  and a node selected by another node's `peerSelector` peers back (reverse peering)
  unless `reversePeering: Manual`.
* Route reflection: when this node has a cluster ID and the peer is iBGP and not a node
  of the same cluster, the peer is `rr client` with our `rr cluster id`.
* Export: this node's confirmed affine blocks inside an exported pool; any route inside
  an enabled pool (other nodes' blocks on a reflector, kernel /32s of borrowed IPs);
  service CIDRs from BGPConfiguration. Everything else is rejected. Disabled and
  `disableBGPExport` pools are rejected before anything else.
* Kernel: routes in VXLAN or IPIP pools are left to Felix; service CIDRs are never
  programmed locally; interface routes are never exported to the kernel.

Secrets: `password.secretKeyRef {name, key}` is resolved by the `secrets` callable given
to `build_bird_config` (the CLI reads `<secrets dir>/<name>/<key>`, see `secrets.py`).
An unresolvable secret drops that peering (we never connect without the password) and
leaves a note in the rendered file.
"""
from __future__ import annotations

import functools
import hashlib
import ipaddress
import re
from typing import Callable

from confdpy.bgp_model import BirdConfig, BirdPeer, CommunityRule, FamilyConfig, PoolFilter
from confdpy.snapshot import BgpSnapshot
from libcalico_py.errors import CalicoError

DEFAULT_AS = 64512
SecretResolver = Callable[[str, str], "str | None"]


class ProcessorError(CalicoError):
    """The datastore does not allow a configuration for this node (e.g. no Node)."""


# -- small parsers ----------------------------------------------------------

def parse_as(value) -> int | None:
    """Plain (`64512`) or dotted (`1.10`) AS number; None when unset."""
    if value is None or value == "":
        return None
    text = str(value)
    if "." in text:
        high, low = text.split(".", 1)
        return int(high) * 65536 + int(low)
    return int(text)


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")


def parse_duration(value) -> int | None:
    """Go duration string (`120s`, `2m`, `1m30s`) or number of seconds -> whole seconds."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return int(value)
    total = 0.0
    pos = 0
    for m in _DURATION.finditer(value):
        if m.start() != pos:
            raise ValueError(f"invalid duration {value!r}")
        n = float(m.group(1))
        total += n * {"h": 3600, "m": 60, "s": 1, "ms": 0.001}[m.group(2)]
        pos = m.end()
    if pos != len(value) or pos == 0:
        raise ValueError(f"invalid duration {value!r}")
    return int(total)


def hash_router_id(node_name: str) -> str:
    """An IPv4 router id from the node name: first 4 bytes of sha256, first octet mod 223
    (keeps it out of multicast/reserved space), as Calico's `hashToIPv4`."""
    digest = hashlib.sha256(node_name.encode()).digest()
    octets = [digest[0] % 223, digest[1], digest[2], digest[3]]
    return ".".join(str(o) for o in octets)


def split_peer_ip(peer_ip: str) -> tuple[str, int | None]:
    """`10.0.0.1`, `10.0.0.1:1790`, `fd00::1`, `[fd00::1]:1790` -> (ip, port)."""
    if peer_ip.startswith("["):
        host, _, rest = peer_ip[1:].partition("]")
        return str(ipaddress.ip_address(host)), int(rest[1:]) if rest.startswith(":") else None
    if peer_ip.count(":") == 1:
        host, port = peer_ip.split(":")
        return str(ipaddress.ip_address(host)), int(port)
    return str(ipaddress.ip_address(peer_ip)), None


@functools.lru_cache(maxsize=65536)
def address_of(cidr_or_ip: str | None) -> str | None:
    """`10.0.0.5/24` -> `10.0.0.5` (Node addresses are stored in CIDR form)."""
    if not cidr_or_ip:
        return None
    return str(ipaddress.ip_interface(cidr_or_ip).ip)


@functools.lru_cache(maxsize=65536)
def _network(cidr: str):
    return ipaddress.ip_network(cidr, strict=False)


@functools.lru_cache(maxsize=65536)
def _inside(inner: str, outer: str) -> bool:
    a, b = _network(inner), _network(outer)
    return a.version == b.version and a.subnet_of(b)


def protocol_name(prefix: str, ip: str, port: int | None) -> str:
    name = f"{prefix}_{ip.replace('.', '_').replace(':', '_')}"
    return f"{name}_port_{port}" if port else name


def _family(ip: str) -> int:
    return ipaddress.ip_address(ip).version


def _selector(text: str):
    from libcalico_py import selector
    return selector.parse(text)


# -- the processor ----------------------------------------------------------

class _Ctx:
    """Per-run lookups shared by the peer builders."""

    def __init__(self, snap: BgpSnapshot, node_name: str):
        self.snap = snap
        self.node_name = node_name
        self.node = snap.nodes.get(node_name)
        if self.node is None:
            raise ProcessorError(f"node {node_name!r} does not exist in the datastore")
        spec = self.node.get("spec") or {}
        self.bgp = spec.get("bgp") or {}
        if not self.bgp:
            raise ProcessorError(f"node {node_name!r} has no spec.bgp: BGP is not configured on it")
        self.config = _merged_config(snap, node_name)
        self.global_as = parse_as(self.config.get("asNumber")) or DEFAULT_AS
        self.local_as = parse_as(self.bgp.get("asNumber")) or self.global_as
        self.ips = {4: address_of(self.bgp.get("ipv4Address")), 6: address_of(self.bgp.get("ipv6Address"))}
        self.cluster_id = self.bgp.get("routeReflectorClusterID") or None
        self._by_ip: dict[str, str] | None = None
        self.listen_port = self.config.get("listenPort") or None
        if self.listen_port == 179:
            self.listen_port = None

    def node_labels(self, name: str) -> dict:
        return ((self.snap.nodes[name].get("metadata") or {}).get("labels")) or {}

    def node_bgp(self, name: str) -> dict:
        return (self.snap.nodes[name].get("spec") or {}).get("bgp") or {}

    def node_as(self, name: str) -> int:
        return parse_as(self.node_bgp(name).get("asNumber")) or self.global_as

    def node_by_ip(self, ip: str) -> str | None:
        if self._by_ip is None:
            self._by_ip = {}
            for name in sorted(self.snap.nodes, reverse=True):   # first name wins
                bgp = self.node_bgp(name)
                for field in ("ipv4Address", "ipv6Address"):
                    addr = address_of(bgp.get(field))
                    if addr:
                        self._by_ip[addr] = name
        return self._by_ip.get(ip)


def _merged_config(snap: BgpSnapshot, node_name: str) -> dict:
    merged = dict((snap.bgp_configs.get("default") or {}).get("spec") or {})
    for key, value in ((snap.bgp_configs.get(f"node.{node_name}") or {}).get("spec") or {}).items():
        if value not in (None, "", [], {}):
            merged[key] = value
    return merged


def build_bird_config(snap: BgpSnapshot, node_name: str, router_id_setting: str | None = None,
                      secrets: SecretResolver | None = None) -> BirdConfig:
    """The BIRD model for `node_name`; raises ProcessorError when the node cannot run BGP
    or the data cannot be turned into a configuration (never a bare ValueError)."""
    try:
        return _build(snap, node_name, router_id_setting, secrets)
    except (ValueError, KeyError, TypeError) as e:
        raise ProcessorError(f"cannot build the BGP configuration of node {node_name!r}: "
                             f"{type(e).__name__}: {e}") from e


def _build(snap: BgpSnapshot, node_name: str, router_id_setting: str | None,
           secrets: SecretResolver | None) -> BirdConfig:
    ctx = _Ctx(snap, node_name)
    secrets = secrets or (lambda _name, _key: None)
    notes: list[str] = []
    cfg = BirdConfig(
        node_name=node_name,
        router_id=_router_id(ctx, router_id_setting),
        as_number=ctx.local_as,
        ipv4=FamilyConfig(4, node_ip=ctx.ips[4]),
        ipv6=FamilyConfig(6, node_ip=ctx.ips[6]),
        debug=_debug_clause(ctx.config.get("logSeverityScreen")),
        ignored_interfaces=list(ctx.config.get("ignoredInterfaces") or []),
        notes=notes,
    )
    cfg.strict_bind = ctx.config.get("bindMode") == "NodeIP"
    _fill_routes(ctx, cfg)
    peers: list[BirdPeer] = []
    seen: set[tuple[str, int | None]] = set()

    names: set[str] = set()

    def add(peer: BirdPeer | None) -> None:
        """First peering to an (IP, port) wins: mesh, then global, then node-specific,
        then reverse peerings; never to ourselves; never two protocols of one name."""
        if peer is None or (peer.ip, peer.port) in seen or peer.name in names:
            return
        if peer.ip == ctx.ips.get(peer.family):
            return
        seen.add((peer.ip, peer.port))
        names.add(peer.name)
        peers.append(peer)

    for peer in _mesh_peers(ctx, secrets, notes):
        add(peer)
    explicit = sorted(snap.peers.values(), key=lambda d: d["metadata"]["name"])
    global_peers = [d for d in explicit if not _spec(d).get("node") and not _spec(d).get("nodeSelector")]
    node_peers = [d for d in explicit if d not in global_peers]
    for doc in global_peers:
        if _applies_to_this_node(ctx, doc):
            for peer in _explicit_peers(ctx, doc, "Global", secrets, notes):
                add(peer)
    for doc in node_peers:
        if _applies_to_this_node(ctx, doc):
            for peer in _explicit_peers(ctx, doc, "Node", secrets, notes):
                add(peer)
    for doc in explicit:
        for peer in _reverse_peers(ctx, doc, secrets, notes):
            add(peer)
    cfg.peers = peers
    if not peers:
        notes.append("No BGP peers configured for this node")
    return cfg


def _spec(doc: dict) -> dict:
    return doc.get("spec") or {}


def _router_id(ctx: _Ctx, setting: str | None) -> str:
    if setting:
        if setting == "hash":
            return hash_router_id(ctx.node_name)
        try:
            return str(ipaddress.IPv4Address(setting))
        except ValueError:
            raise ProcessorError(f"CALICO_ROUTER_ID {setting!r} is neither an IPv4 address nor 'hash'")
    return ctx.ips[4] or hash_router_id(ctx.node_name)


def _debug_clause(severity: str | None) -> str:
    level = (severity or "Info").lower()
    if level == "debug":
        return "all"
    if level == "none":
        return "off"
    return "{ states }"


# -- routes: blocks, pools, services, communities ---------------------------

def _fill_routes(ctx: _Ctx, cfg: BirdConfig) -> None:
    fams = {4: cfg.ipv4, 6: cfg.ipv6}
    pools = []
    for name in sorted(ctx.snap.pools):
        spec = _spec(ctx.snap.pools[name])
        cidr = spec.get("cidr")
        if not cidr:
            continue
        net = _network(cidr)
        export = not spec.get("disabled") and not spec.get("disableBGPExport")
        if (spec.get("vxlanMode") or "Never") != "Never":
            kernel, reason = "reject", "VXLAN routes are handled by Felix"
        elif (spec.get("ipipMode") or "Never") != "Never":
            kernel, reason = "reject", "IPIP routes are handled by Felix"
        else:
            kernel, reason = "accept", "no encapsulation: BIRD programs the routes"
        pools.append((net, export))
        fams[net.version].pools.append(PoolFilter(str(net), export, kernel, reason))

    for cidr, state in sorted(ctx.snap.affinities.items()):
        if state != "confirmed":
            continue
        net = _network(cidr)
        if net.prefixlen == net.max_prefixlen:
            continue
        containing = [exp for pnet, exp in pools if _inside(cidr, str(pnet))]
        fam = fams[net.version]
        if containing and all(containing):
            fam.blocks.append(str(net))
        else:
            fam.blocks_not_exported.append(str(net))

    config = ctx.config
    service_lists = [config.get("serviceClusterIPs"), config.get("serviceExternalIPs")]
    if config.get("serviceLoadBalancerAggregation", "Enabled") != "Disabled":
        service_lists.append(config.get("serviceLoadBalancerIPs"))
    for entries in service_lists:
        for entry in entries or []:
            net = ipaddress.ip_network(entry["cidr"], strict=False)
            if str(net) not in fams[net.version].service_cidrs:
                fams[net.version].service_cidrs.append(str(net))

    named = {c["name"]: c["value"] for c in config.get("communities") or []}
    for adv in config.get("prefixAdvertisements") or []:
        net = ipaddress.ip_network(adv["cidr"], strict=False)
        standard, large = [], []
        for ref in adv.get("communities") or []:
            parts = tuple(int(p) for p in named.get(ref, ref).split(":"))
            (large if len(parts) == 3 else standard).append(parts)
        fams[net.version].communities.append(CommunityRule(str(net), tuple(standard), tuple(large)))


# -- peers ------------------------------------------------------------------

def _mesh_peers(ctx: _Ctx, secrets: SecretResolver, notes: list[str]) -> list[BirdPeer]:
    if ctx.config.get("nodeToNodeMeshEnabled", True) is False:
        return []
    if ctx.cluster_id:
        notes.append("Route reflector: not part of the node-to-node mesh")
        return []
    password = _password(ctx.config.get("nodeMeshPassword"), secrets, "nodeMeshPassword", notes)
    if password is False:
        return []
    restart = parse_duration(ctx.config.get("nodeMeshMaxRestartTime"))
    peers = []
    for name in sorted(ctx.snap.nodes):
        if name == ctx.node_name:
            continue
        bgp = ctx.node_bgp(name)
        if not bgp or bgp.get("routeReflectorClusterID"):
            continue
        for family in (4, 6):
            local_ip = ctx.ips[family]
            peer_ip = address_of(bgp.get(f"ipv{family}Address"))
            if not local_ip or not peer_ip:
                continue
            peers.append(BirdPeer(
                name=protocol_name("Mesh", peer_ip, None), kind="mesh", family=family, ip=peer_ip,
                as_number=ctx.node_as(name), local_as=ctx.local_as, local_port=ctx.listen_port,
                port=ctx.listen_port, source_address=local_ip, passive=local_ip > peer_ip,
                password=password or None, graceful_restart_time=restart,
                comment=f"node-to-node mesh: node {name}"))
    return peers


def _applies_to_this_node(ctx: _Ctx, doc: dict) -> bool:
    spec = _spec(doc)
    if spec.get("node"):
        return spec["node"] == ctx.node_name
    if spec.get("nodeSelector"):
        return _selector(spec["nodeSelector"]).evaluate(ctx.node_labels(ctx.node_name))
    return True


def _explicit_peers(ctx: _Ctx, doc: dict, prefix: str, secrets: SecretResolver,
                    notes: list[str]) -> list[BirdPeer]:
    spec = _spec(doc)
    name = doc["metadata"]["name"]
    password = _password(spec.get("password"), secrets, f"BGPPeer {name}", notes)
    if password is False:
        return []
    out = []
    if spec.get("peerIP"):
        ip, port = split_peer_ip(spec["peerIP"])
        peer_as = parse_as(spec.get("asNumber"))
        if peer_as is None:
            notes.append(f"BGPPeer {name}: peerIP without asNumber, skipped")
            return []
        out.append(_peer(ctx, protocol_name(prefix, ip, port), ip, port, peer_as, spec, password,
                         ctx.node_by_ip(ip), False, f"BGPPeer {name}"))
    elif spec.get("peerSelector"):
        sel = _selector(spec["peerSelector"])
        for other in sorted(ctx.snap.nodes):
            if other == ctx.node_name or not sel.evaluate(ctx.node_labels(other)):
                continue
            out.extend(_node_peers(ctx, other, spec, password,
                                   f"BGPPeer {name} (peerSelector): node {other}"))
    return out


def _node_peers(ctx: _Ctx, other: str, spec: dict, password, note: str) -> list[BirdPeer]:
    """Sessions with Calico node `other`, one per address family both nodes have."""
    out = []
    for family in (4, 6):
        ip = address_of(ctx.node_bgp(other).get(f"ipv{family}Address"))
        if ip and ctx.ips[family]:
            out.append(_peer(ctx, protocol_name("Node", ip, None), ip, ctx.listen_port,
                             ctx.node_as(other), spec, password, other, True, note))
    return out


def _reverse_peers(ctx: _Ctx, doc: dict, secrets: SecretResolver, notes: list[str]) -> list[BirdPeer]:
    """This node is selected by `doc`'s peerSelector: peer back with the nodes `doc`
    applies to (Calico's automatic reverse peering)."""
    spec = _spec(doc)
    if not spec.get("peerSelector") or spec.get("reversePeering") == "Manual":
        return []
    if not _selector(spec["peerSelector"]).evaluate(ctx.node_labels(ctx.node_name)):
        return []
    name = doc["metadata"]["name"]
    password = _password(spec.get("password"), secrets, f"BGPPeer {name}", notes)
    if password is False:
        return []
    node_sel = _selector(spec["nodeSelector"]) if spec.get("nodeSelector") else None
    out = []
    for other in sorted(ctx.snap.nodes):
        if other == ctx.node_name:
            continue
        if spec.get("node") and spec["node"] != other:
            continue
        if node_sel is not None and not node_sel.evaluate(ctx.node_labels(other)):
            continue
        out.extend(_node_peers(ctx, other, spec, password,
                               f"BGPPeer {name} (reverse of peerSelector): node {other}"))
    return out


def _password(ref, secrets: SecretResolver, what: str, notes: list[str]):
    """None = no password; False = a password is required but unavailable."""
    if not ref:
        return None
    key_ref = ref.get("secretKeyRef") if isinstance(ref, dict) else None
    if not key_ref:
        return None
    value = secrets(key_ref.get("name", ""), key_ref.get("key", ""))
    if value is None:
        notes.append(f"{what}: secret {key_ref.get('name')}/{key_ref.get('key')} not found, peering skipped")
        return False
    if '"' in value or "\n" in value:
        notes.append(f"{what}: password contains a double quote or newline, which BIRD cannot "
                     f"quote; peering skipped")
        return False
    return value


def _peer(ctx: _Ctx, name: str, ip: str, port: int | None, peer_as: int, spec: dict,
          password: str | None, peer_node: str | None, symmetric: bool, comment: str) -> BirdPeer:
    """One explicit peering. `symmetric`: the other end is a Calico node that has the
    mirror peering, so exactly one side (the greater IP string) waits passively."""
    family = _family(ip)
    local_as = parse_as(spec.get("localASNumber")) or ctx.local_as
    next_hop = None
    if spec.get("keepOriginalNextHop"):
        next_hop = "keep"
    elif spec.get("nextHopMode") in ("Self", "Keep"):
        next_hop = spec["nextHopMode"].lower()
    source = ctx.ips[family] if spec.get("sourceAddress", "UseNodeIP") == "UseNodeIP" else None
    rr_client = False
    if ctx.cluster_id and peer_as == local_as:
        peer_cluster = ctx.node_bgp(peer_node).get("routeReflectorClusterID") if peer_node else None
        rr_client = peer_cluster != ctx.cluster_id
    passive = bool(symmetric and ctx.ips[family] and ctx.ips[family] > ip)
    return BirdPeer(
        name=name, kind="global" if name.startswith("Global_") else "node",
        family=family, ip=ip, port=port, as_number=peer_as, local_as=local_as,
        local_port=ctx.listen_port, source_address=source, passive=passive, password=password,
        ttl_security=spec.get("ttlSecurity") or None,
        rr_client=rr_client, rr_cluster_id=ctx.cluster_id if rr_client else None,
        next_hop=next_hop, allow_local_as=spec.get("numAllowedLocalASNumbers") or None,
        graceful_restart_time=parse_duration(spec.get("maxRestartTime")),
        keepalive_time=parse_duration(spec.get("keepaliveTime")), comment=comment)
