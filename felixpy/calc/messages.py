"""The dataplane vocabulary: what the calculation graph tells the dataplane.

This is the seam between felixpy.calc (producer) and felixpy.dataplane (consumer).
Names follow Felix's proto messages so Calico people recognise them. Everything is a
frozen dataclass of plain values: selectors have already been turned into IP set IDs,
policies are already ordered per endpoint, and every rule carries its provenance.

Ordering contract (kept by felixpy.calc.event_sequencer): IP sets are created before
any policy refers to them, policies/profiles before endpoints refer to them; removals
go in the reverse order (endpoints, then policies/profiles, then IP sets).
"""
from __future__ import annotations

from dataclasses import dataclass, field

# ---------------------------------------------------------------- identifiers


@dataclass(frozen=True, order=True)
class PolicyID:
    """`kind` is Felix's short kind: "np" (NetworkPolicy), "gnp" (GlobalNetworkPolicy),
    "knp" (converted Kubernetes NetworkPolicy). `namespace` is "" for global kinds."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:  # the id used inside chain names: np/<ns>/<name>, gnp/<name>
        return f"{self.kind}/{self.namespace}/{self.name}" if self.namespace else f"{self.kind}/{self.name}"


@dataclass(frozen=True, order=True)
class WorkloadEndpointID:
    """The WorkloadEndpoint resource's namespace and name."""

    namespace: str
    name: str


# ---------------------------------------------------------------- rules


@dataclass(frozen=True)
class RuleOrigin:
    """Where a rendered rule came from, so a later `policy explain` and flow logs can
    name the deciding rule. `owner` is "policy" or "profile"."""

    owner: str
    tier: str
    kind: str          # np | gnp | knp | pro
    namespace: str
    name: str
    direction: str     # "ingress" | "egress"
    index: int         # position in the policy's rule list


@dataclass(frozen=True)
class ParsedRule:
    """One Calico rule with its selectors resolved to IP set IDs (Felix's proto.Rule).

    All match fields AND together. Port entries are strings "80" or "1000:2000".
    `*_ipset_ids` are selector sets (all must match); `*_named_port_ipset_ids` are
    `hash:ip,port` sets (any may match). Protocol is a lower-case name or a number.
    """

    action: str                       # "allow" | "deny" | "pass" | "log"
    ip_version: int | None = None     # 4, 6 or None for both
    protocol: str | None = None
    not_protocol: str | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None
    not_icmp_type: int | None = None
    not_icmp_code: int | None = None

    src_nets: tuple[str, ...] = ()
    not_src_nets: tuple[str, ...] = ()
    src_ports: tuple[str, ...] = ()
    not_src_ports: tuple[str, ...] = ()
    src_named_port_ipset_ids: tuple[str, ...] = ()
    not_src_named_port_ipset_ids: tuple[str, ...] = ()
    src_ipset_ids: tuple[str, ...] = ()
    not_src_ipset_ids: tuple[str, ...] = ()

    dst_nets: tuple[str, ...] = ()
    not_dst_nets: tuple[str, ...] = ()
    dst_ports: tuple[str, ...] = ()
    not_dst_ports: tuple[str, ...] = ()
    dst_named_port_ipset_ids: tuple[str, ...] = ()
    not_dst_named_port_ipset_ids: tuple[str, ...] = ()
    dst_ipset_ids: tuple[str, ...] = ()
    not_dst_ipset_ids: tuple[str, ...] = ()

    origin: RuleOrigin | None = None


@dataclass(frozen=True)
class PolicyRules:
    """A policy (or profile) as the dataplane needs it."""

    inbound_rules: tuple[ParsedRule, ...] = ()
    outbound_rules: tuple[ParsedRule, ...] = ()
    tier: str = "default"


# ---------------------------------------------------------------- messages


@dataclass(frozen=True)
class InSync:
    """The first full snapshot has been delivered; the dataplane may now program."""


@dataclass(frozen=True)
class ConfigUpdate:
    """Effective Felix configuration (already merged by precedence), as strings."""

    config: dict = field(default_factory=dict)


@dataclass(frozen=True)
class IPSetUpdate:
    """Full membership of one IP set. `set_type` is "hash:net" or "hash:ip,port";
    members are "10.0.0.1/32" or "10.0.0.1,tcp:80"."""

    set_id: str
    set_type: str
    members: frozenset[str]


@dataclass(frozen=True)
class IPSetDeltaUpdate:
    set_id: str
    added: frozenset[str]
    removed: frozenset[str]


@dataclass(frozen=True)
class IPSetRemove:
    set_id: str


@dataclass(frozen=True)
class ActivePolicyUpdate:
    policy_id: PolicyID
    policy: PolicyRules


@dataclass(frozen=True)
class ActivePolicyRemove:
    policy_id: PolicyID


@dataclass(frozen=True)
class ActiveProfileUpdate:
    profile_id: str
    profile: PolicyRules


@dataclass(frozen=True)
class ActiveProfileRemove:
    profile_id: str


@dataclass(frozen=True)
class TierInfo:
    """The policies of one tier that apply to an endpoint, already ordered."""

    name: str
    ingress_policies: tuple[PolicyID, ...] = ()
    egress_policies: tuple[PolicyID, ...] = ()
    default_action: str = "Deny"


@dataclass(frozen=True)
class WorkloadEndpoint:
    name: str                                 # host-side interface, e.g. cali1a2b3c4d5e6
    ipv4_nets: tuple[str, ...] = ()           # "10.65.0.3/32"
    ipv6_nets: tuple[str, ...] = ()
    mac: str | None = None
    tiers: tuple[TierInfo, ...] = ()
    profile_ids: tuple[str, ...] = ()
    state: str = "active"
    labels: tuple[tuple[str, str], ...] = ()  # informational (logs, status)


@dataclass(frozen=True)
class WorkloadEndpointUpdate:
    endpoint_id: WorkloadEndpointID
    endpoint: WorkloadEndpoint


@dataclass(frozen=True)
class WorkloadEndpointRemove:
    endpoint_id: WorkloadEndpointID


@dataclass(frozen=True)
class IPAMPoolUpdate:
    pool_id: str
    cidr: str
    masquerade: bool
    disabled: bool = False


@dataclass(frozen=True)
class IPAMPoolRemove:
    pool_id: str
