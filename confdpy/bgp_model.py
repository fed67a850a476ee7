"""The plain BGP model of one node: everything the BIRD templates print, already decided.

`processor.build_bird_config()` fills these from the datastore; the jinja2 templates in
`birdconf/templates` only print them (no lookups, no conditions on datastore data
beyond "is this field set"). Keeping the decisions here means processor tests can
assert peers, AS numbers and filter contents without rendering, and golden files only
change when the model does.

All values are already in BIRD's syntax: AS numbers are plain integers (dotted `a.b`
is converted), CIDRs are canonical strings, names fit BIRD's symbol rules.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class BirdPeer:
    """One `protocol bgp <name>` block."""

    name: str                    # Mesh_10_0_0_2, Global_10_0_0_9, Node_10_0_0_3_port_1790
    kind: str                    # "mesh" | "global" | "node"
    family: int                  # 4 | 6: the channel (ipv4 / ipv6) the session carries
    ip: str
    as_number: int
    local_as: int
    port: int | None = None      # neighbor port when not 179
    local_port: int | None = None  # our listen port when not 179 (BGPConfiguration.listenPort)
    source_address: str | None = None
    passive: bool = False
    password: str | None = None
    ttl_security: int | None = None   # hop count when ttlSecurity is set
    rr_client: bool = False
    rr_cluster_id: str | None = None
    next_hop: str | None = None  # "self" | "keep" | None (BIRD's default)
    allow_local_as: int | None = None
    graceful_restart_time: int | None = None
    keepalive_time: int | None = None
    comment: str = ""            # where the peering came from, printed above the block

    @property
    def internal(self) -> bool:
        """iBGP session (same AS on both ends)."""
        return self.as_number == self.local_as


@dataclass(frozen=True)
class PoolFilter:
    """One IP pool's clause in the export and kernel filters."""

    cidr: str
    export: bool                 # False: disabled or disableBGPExport -> reject towards peers
    kernel: str                  # "accept" | "reject": whether BIRD programs its routes into the kernel
    reason: str = ""             # comment printed beside the kernel clause


@dataclass(frozen=True)
class CommunityRule:
    """`if (net ~ cidr) then { bgp_community.add(...); }` for one prefixAdvertisement."""

    cidr: str
    standard: tuple[tuple[int, int], ...] = ()
    large: tuple[tuple[int, int, int], ...] = ()


@dataclass
class FamilyConfig:
    """What one address family (4 or 6) contributes: blocks, pools, services, communities."""

    family: int
    node_ip: str | None = None           # this node's address of the family, None = family off
    blocks: list[str] = field(default_factory=list)          # affine blocks: blackhole + exported
    blocks_not_exported: list[str] = field(default_factory=list)  # affine, but in a non-exported pool
    pools: list[PoolFilter] = field(default_factory=list)
    service_cidrs: list[str] = field(default_factory=list)   # advertised; never programmed locally
    communities: list[CommunityRule] = field(default_factory=list)

    @property
    def suffix(self) -> str:
        return f"v{self.family}"

    @property
    def channel(self) -> str:
        return f"ipv{self.family}"

    @property
    def static_routes(self) -> list[str]:
        """Everything that becomes a blackhole route in this family's static protocol."""
        return self.blocks + self.blocks_not_exported + self.service_cidrs


@dataclass
class BirdConfig:
    """The whole configuration of one node's BIRD."""

    node_name: str
    router_id: str
    as_number: int
    ipv4: FamilyConfig
    ipv6: FamilyConfig
    peers: list[BirdPeer] = field(default_factory=list)
    debug: str = "{ states }"            # BIRD `debug` clause from logSeverityScreen
    ignored_interfaces: list[str] = field(default_factory=list)
    strict_bind: bool = False            # bindMode NodeIP: listen only on the node address
    notes: list[str] = field(default_factory=list)   # printed as comments (skipped peers, etc.)

    @property
    def families(self) -> list[FamilyConfig]:
        return [self.ipv4, self.ipv6]

    def peers_of(self, family: int) -> list[BirdPeer]:
        return [p for p in self.peers if p.family == family]

    def peer(self, name: str) -> BirdPeer:
        for p in self.peers:
            if p.name == name:
                return p
        raise KeyError(name)
