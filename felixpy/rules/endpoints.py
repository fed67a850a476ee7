"""Per-workload chains: `cali-tw-<iface>` (traffic to the pod, ingress policy) and
`cali-fw-<iface>` (traffic from the pod, egress policy), calico.md §5.4.

Order inside each chain:
  1. admin-down endpoint: one DROP "Endpoint admin disabled", nothing else;
  2. conntrack: ACCEPT RELATED,ESTABLISHED; DROP INVALID (unless disabled);
  3. clear the accept and pass marks;
  4. (from-workload only, when not allowed by config) DROP VXLAN / IPIP sent by pods;
  5. per tier with at least one policy in this direction: clear the pass mark
     ("Start of tier <name>"); for each policy jump to its chain while the pass mark is
     clear, then RETURN if it set the accept mark; at the end of a tier whose default
     action is Deny, drop unless a policy passed;
  6. per profile: jump to its chain, RETURN if accepted;
  7. DROP "Drop if no profiles matched".

A RETURN from these chains always means "accepted": the FORWARD append rule (or
cali-wl-to-host's configured action) turns the accept mark into ACCEPT.
"""
from __future__ import annotations

from felixpy.calc.messages import TierInfo, WorkloadEndpoint
from felixpy.iptables.chain import Chain, Rule
from felixpy.rules import defs, names
from felixpy.rules import match as m
from felixpy.rules.defs import RulesConfig

VXLAN_PORT = 4789
ACTIVE_STATES = ("active", "up", "")


class EndpointRenderer:
    def __init__(self, config: RulesConfig):
        self.config = config

    def endpoint_chains(self, endpoint: WorkloadEndpoint) -> list[Chain]:
        return [
            self._chain(endpoint, "ingress", defs.WORKLOAD_TO_ENDPOINT_PREFIX,
                        defs.POLICY_INBOUND_PREFIX, defs.PROFILE_INBOUND_PREFIX,
                        allow_vxlan=True, allow_ipip=True),
            self._chain(endpoint, "egress", defs.WORKLOAD_FROM_ENDPOINT_PREFIX,
                        defs.POLICY_OUTBOUND_PREFIX, defs.PROFILE_OUTBOUND_PREFIX,
                        allow_vxlan=self.config.allow_vxlan_from_workloads,
                        allow_ipip=self.config.allow_ipip_from_workloads),
        ]

    def _chain(self, endpoint: WorkloadEndpoint, direction: str, endpoint_prefix: str,
               policy_prefix: str, profile_prefix: str, allow_vxlan: bool, allow_ipip: bool) -> Chain:
        name = names.endpoint_chain_name(endpoint_prefix, endpoint.name)
        deny = f"-j {self.config.filter_deny_action}"
        if (endpoint.state or "").lower() not in ACTIVE_STATES:
            return Chain(name, (Rule("", deny, "Endpoint admin disabled"),))

        cfg = self.config
        rules: list[Rule] = [Rule(m.Match().conntrack_state("RELATED,ESTABLISHED").render(), m.ACCEPT)]
        if not cfg.disable_conntrack_invalid_check:
            rules.append(Rule(m.Match().conntrack_state("INVALID").render(), m.DROP))
        rules.append(Rule("", m.clear_mark(cfg.mark_accept | cfg.mark_pass)))
        if not allow_vxlan:
            rules.append(Rule(m.Match().protocol("udp").dest_ports([str(VXLAN_PORT)]).render(), deny,
                              f"{cfg.filter_deny_action} VXLAN encapped packets originating in workloads"))
        if not allow_ipip:
            rules.append(Rule(m.Match().protocol("4").render(), deny,
                              f"{cfg.filter_deny_action} IPinIP encapped packets originating in workloads"))

        for tier in endpoint.tiers:
            rules.extend(self._tier_rules(tier, direction, policy_prefix, deny))

        for profile_id in endpoint.profile_ids:
            rules.append(Rule("", m.jump(names.profile_chain_name(profile_prefix, profile_id))))
            rules.append(Rule(m.Match().mark_single_bit_set(cfg.mark_accept).render(), m.RETURN,
                              "Return if profile accepted"))
        rules.append(Rule("", deny, f"{self._deny_word()} if no profiles matched"))
        return Chain(name, tuple(rules))

    def _deny_word(self) -> str:
        return "Drop" if self.config.filter_deny_action == "DROP" else "Reject"

    def _tier_rules(self, tier: TierInfo, direction: str, policy_prefix: str, deny: str) -> list[Rule]:
        policies = tier.ingress_policies if direction == "ingress" else tier.egress_policies
        if not policies:
            return []   # an endpoint is only "in" a tier for directions it has policies for
        cfg = self.config
        rules = [Rule("", m.clear_mark(cfg.mark_pass), m.comment_text(f"Start of tier {tier.name}"))]
        for policy_id in policies:
            rules.append(Rule(m.Match().mark_clear(cfg.mark_pass).render(),
                              m.jump(names.policy_chain_name(policy_prefix, policy_id))))
            rules.append(Rule(m.Match().mark_single_bit_set(cfg.mark_accept).render(), m.RETURN,
                              "Return if policy accepted"))
        if (tier.default_action or "Deny").lower() == "deny":
            rules.append(Rule(m.Match().mark_clear(cfg.mark_pass).render(), deny,
                              m.comment_text(f"End of tier {tier.name}. {self._deny_word()} if no policies "
                                             "passed packet")))
        return rules
