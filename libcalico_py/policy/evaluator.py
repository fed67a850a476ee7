"""The policy evaluator: the verdict Calico's policies give a (new) flow, and the rule
that decided it.

    from libcalico_py.policy.evaluator import Cluster, Flow, evaluate
    cluster = Cluster.from_resources(resources)   # model Resources: WorkloadEndpoint,
        # NetworkPolicy, GlobalNetworkPolicy, KubernetesNetworkPolicy, Profile,
        # NetworkSet, GlobalNetworkSet
    v = evaluate(cluster, Flow("10.0.0.1", "10.0.0.2", "TCP", dst_port=80, src_port=40000))
    v.allowed                 # both directions allow
    v.egress, v.ingress       # Decision(action "allow"|"deny", reason, rule, logged)
    v.ingress.by              # RuleRef (np/prod/web ingress rule 0) or the reason text
    str(v.ingress.rule)       # "np/prod/web ingress rule 0": the provenance comment
                              # felixpy puts on the iptables rules it renders

Semantics, as Felix programs the workload chains (calico.md §5.4, §5.5, §5.9):

* egress is evaluated at the source endpoint if the source address belongs to a
  workload endpoint, ingress at the destination endpoint if that is one; both must
  allow. An address that is no workload is not policed on its side ("not a workload
  (not policed)"). A flow from an endpoint to itself (loopback inside the pod) never
  reaches Felix's chains and is allowed;
* with `allow_vxlan_from_workloads` / `allow_ipip_from_workloads` off, egress of
  UDP/4789 or IP protocol 4 is dropped first;
* tiers in order, each only if at least one of its policies selects the endpoint in
  this direction (its `types` include it); inside a tier the policies in order, and in
  each policy the first matching rule decides: Allow -> allowed, Deny -> denied,
  Pass -> skip the rest of the tier, Log -> recorded in `logged`, carry on. A policy
  with no matching rule falls through to the next. At the end of a tier whose default
  action is Deny (the `default` tier) the packet is dropped unless a policy passed it
  ("end of tier default: no policy passed the packet");
* then the endpoint's profiles in its order: the first Allow or Deny decides (Pass ends
  that profile only); a profile that does not exist denies; nothing decided ->
  "no profile matched" (Felix's "Drop if no profiles matched"). Felix quirk, kept
  because the kernel does it: the pass mark is not cleared before the profiles, so after
  a tier (or an earlier profile) passed the packet, a profile's first Pass rule ends
  that profile even if it does not match (see `_profile_chain`).

Only the first packet of a connection is modelled: replies and later packets are
accepted by conntrack in the kernel. Rule matching is in `matching`, the index in
`cluster`.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from libcalico_py.policy.cluster import (EGRESS, INGRESS, Cluster, Endpoint, Policy, Profile,
                                         tier_default_action)
from libcalico_py.policy.matching import FlowFacts, protocol_number, rule_matches

__all__ = ["Cluster", "Flow", "RuleRef", "Decision", "Verdict", "evaluate", "evaluate_direction"]

VXLAN_PORT = 4789
IPIP_PROTOCOL = 4
UDP = 17
NOT_POLICED = "not a workload (not policed)"
SAME_ENDPOINT = "same endpoint as source and destination (loopback inside the pod)"
NO_PROFILE_MATCHED = "no profile matched"


@dataclass(frozen=True)
class Flow:
    """The first packet of a flow. `protocol` is a name (TCP, UDP, ICMP, ICMPv6, SCTP,
    UDPLite, any case) or a number; ports for port-carrying protocols, ICMP type/code for
    ICMP."""

    src_ip: str
    dst_ip: str
    protocol: str | int = "TCP"
    dst_port: int | None = None
    src_port: int | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None


@dataclass(frozen=True)
class RuleRef:
    """Which rule decided (felixpy's RuleOrigin fields). `owner` is "policy" or
    "profile"; `kind` np | gnp | knp | pro; `namespace` "" for global kinds and
    profiles; `index` the position in the policy's ingress/egress list."""

    owner: str
    tier: str
    kind: str
    namespace: str
    name: str
    direction: str
    index: int

    @property
    def ident(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}" if self.namespace else f"{self.kind}/{self.name}"

    def __str__(self) -> str:
        return f"{self.ident} {self.direction} rule {self.index}"


@dataclass(frozen=True)
class Decision:
    action: str                          # "allow" | "deny"
    reason: str
    rule: RuleRef | None = None          # None when no rule decided (defaults)
    logged: tuple[RuleRef, ...] = ()     # Log rules the packet matched on the way

    @property
    def allowed(self) -> bool:
        return self.action == "allow"

    @property
    def by(self) -> RuleRef | str:
        """The deciding rule, or the reason when a default decided."""
        return self.rule if self.rule is not None else self.reason


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    egress: Decision      # at the source endpoint
    ingress: Decision     # at the destination endpoint

    def __str__(self) -> str:
        word = "allowed" if self.allowed else "denied"
        return f"{word}; egress: {self.egress.action} ({self.egress.by}); " \
               f"ingress: {self.ingress.action} ({self.ingress.by})"


def facts_for(cluster: Cluster, flow: Flow) -> FlowFacts:
    """The flow with its protocol as a number and its addresses resolved."""
    src, dst = ipaddress.ip_address(flow.src_ip), ipaddress.ip_address(flow.dst_ip)
    if src.version != dst.version:
        raise ValueError(f"flow mixes IPv{src.version} and IPv{dst.version} addresses")
    return FlowFacts(
        version=src.version, src=src, dst=dst, protocol=protocol_number(flow.protocol),
        src_port=flow.src_port, dst_port=flow.dst_port,
        icmp_type=flow.icmp_type, icmp_code=flow.icmp_code,
        src_items=cluster.items_at(src), dst_items=cluster.items_at(dst),
    )


def evaluate(cluster: Cluster, flow: Flow) -> Verdict:
    """The verdict for `flow`. Both directions are always evaluated (so a denied flow
    still says what the other side would do)."""
    facts = facts_for(cluster, flow)
    src_ep, dst_ep = cluster.endpoint_at(facts.src), cluster.endpoint_at(facts.dst)
    if src_ep is not None and src_ep is dst_ep:
        same = Decision("allow", SAME_ENDPOINT)
        return Verdict(True, same, same)
    unpoliced = Decision("allow", NOT_POLICED)
    egress = evaluate_direction(cluster, src_ep, EGRESS, facts) if src_ep else unpoliced
    ingress = evaluate_direction(cluster, dst_ep, INGRESS, facts) if dst_ep else unpoliced
    return Verdict(egress.allowed and ingress.allowed, egress, ingress)


def _policy_chain(policy: Policy, direction: str, facts: FlowFacts,
                  logged: list[RuleRef]) -> tuple[str, RuleRef] | None:
    """(action, rule) of the policy's first matching non-Log rule in this direction, or
    None when no rule matches; matching Log rules are appended to `logged`."""
    for rule in policy.rules(direction):
        if not rule_matches(rule, facts):
            continue
        ref = RuleRef("policy", policy.tier, policy.kind, policy.namespace, policy.name, direction,
                      rule.index)
        if rule.action == "log":
            logged.append(ref)
            continue
        return rule.action, ref
    return None


def evaluate_direction(cluster: Cluster, endpoint: Endpoint, direction: str, facts: FlowFacts) -> Decision:
    """What the endpoint's `cali-tw-*` (ingress) or `cali-fw-*` (egress) chain decides."""
    logged: list[RuleRef] = []
    if direction == EGRESS:
        if not cluster.allow_vxlan_from_workloads and facts.protocol == UDP and facts.dst_port == VXLAN_PORT:
            return Decision("deny", "VXLAN packets (UDP/4789) from workloads are dropped")
        if not cluster.allow_ipip_from_workloads and facts.protocol == IPIP_PROTOCOL:
            return Decision("deny", "IP-in-IP packets from workloads are dropped")

    tiers = cluster.tiers_for(endpoint, direction)
    passed = False      # Felix's pass mark: cleared at the start of each tier
    for tier, policies in tiers:
        passed = False
        for policy in policies:
            hit = _policy_chain(policy, direction, facts, logged)
            if hit is None:
                continue
            action, ref = hit
            if action == "pass":
                passed = True
                break
            verb = "allowed" if action == "allow" else "denied"
            return Decision(action, f"{verb} by {ref}", ref, tuple(logged))
        if not passed and tier_default_action(tier).lower() == "deny":
            return Decision("deny", f"end of tier {tier}: no policy passed the packet", None, tuple(logged))

    prefix = "no policy selected the endpoint" if not tiers else "policies passed the packet"
    pass_mark = passed
    for name in endpoint.profiles:
        profile = cluster.profiles.get(name)
        if profile is None:
            return Decision("deny", f"{prefix}: profile {name} does not exist (fail closed)",
                            None, tuple(logged))
        action, ref, pass_mark = _profile_chain(profile, direction, facts, pass_mark, logged)
        if action in ("allow", "deny"):
            verb = "allowed" if action == "allow" else "denied"
            return Decision(action, f"{prefix}: profile {name} {verb}", ref, tuple(logged))
    return Decision("deny", NO_PROFILE_MATCHED, None, tuple(logged))


def _profile_chain(profile: Profile, direction: str, facts: FlowFacts, pass_mark: bool,
                   logged: list[RuleRef]) -> tuple[str | None, RuleRef | None, bool]:
    """(action or None, deciding rule, pass mark after) for one profile chain.

    Felix renders a Pass rule as "match -> set the pass mark" followed by "pass mark set ->
    RETURN", and the endpoint chain does not clear the pass mark before the profiles. So
    once a tier (or an earlier profile) has passed the packet, the first Pass rule of a
    profile ends that profile even when the rule itself does not match. Modelled here
    because the kernel does it. (A tier whose default action is Pass sets no mark when no
    rule matched.)"""
    for rule in profile.rules(direction):
        ref = RuleRef("profile", "", "pro", "", profile.name, direction, rule.index)
        if not rule_matches(rule, facts):
            if rule.action == "pass" and pass_mark:
                return None, None, pass_mark
            continue
        if rule.action == "log":
            logged.append(ref)
        elif rule.action == "pass":
            return None, None, True
        else:
            return rule.action, ref, pass_mark
    return None, None, pass_mark
