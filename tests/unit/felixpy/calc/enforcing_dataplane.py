"""An enforcing fake of the calc -> dataplane seam (after Felix's mock_dataplane.go).

It applies the graph's messages to a plain view of what a dataplane would hold and
fails at once on anything a real dataplane could not do safely: a delta to a set it
never got, a delta that adds a present member or removes an absent one, a policy or
profile that names a set not yet created, an endpoint naming an unknown policy or
profile, removing something still referenced, removing something unknown, or a second
InSync.
"""
from __future__ import annotations

from felixpy.calc.messages import (ActivePolicyRemove, ActivePolicyUpdate, ActiveProfileRemove,
                                   ActiveProfileUpdate, ConfigUpdate, InSync, IPAMPoolRemove,
                                   IPAMPoolUpdate, IPSetDeltaUpdate, IPSetRemove, IPSetUpdate,
                                   PolicyRules, WorkloadEndpointRemove, WorkloadEndpointUpdate)

_SET_FIELDS = ("src_ipset_ids", "not_src_ipset_ids", "dst_ipset_ids", "not_dst_ipset_ids",
               "src_named_port_ipset_ids", "not_src_named_port_ipset_ids",
               "dst_named_port_ipset_ids", "not_dst_named_port_ipset_ids")


class ContractViolation(AssertionError):
    pass


def sets_used(rules: PolicyRules) -> set[str]:
    out: set[str] = set()
    for rule in rules.inbound_rules + rules.outbound_rules:
        for name in _SET_FIELDS:
            out.update(getattr(rule, name))
    return out


class EnforcingDataplane:
    def __init__(self) -> None:
        self.ipsets: dict[str, set[str]] = {}
        self.ipset_types: dict[str, str] = {}
        self.policies: dict = {}
        self.profiles: dict = {}
        self.endpoints: dict = {}
        self.pools: dict = {}
        self.config: dict | None = None
        self.in_sync = False
        self.messages: list = []

    def fail(self, msg, why: str) -> None:
        raise ContractViolation(f"{why}: {msg!r}")

    def apply(self, messages) -> None:
        for msg in messages:
            self.messages.append(msg)
            getattr(self, "_on_" + type(msg).__name__)(msg)

    # ---------------------------------------------------------------- handlers

    def _on_InSync(self, msg: InSync) -> None:
        if self.in_sync:
            self.fail(msg, "second InSync")
        self.in_sync = True

    def _on_ConfigUpdate(self, msg: ConfigUpdate) -> None:
        self.config = dict(msg.config)

    def _on_IPAMPoolUpdate(self, msg: IPAMPoolUpdate) -> None:
        self.pools[msg.pool_id] = msg

    def _on_IPAMPoolRemove(self, msg: IPAMPoolRemove) -> None:
        if msg.pool_id not in self.pools:
            self.fail(msg, "remove of unknown pool")
        del self.pools[msg.pool_id]

    def _on_IPSetUpdate(self, msg: IPSetUpdate) -> None:
        self.ipsets[msg.set_id] = set(msg.members)
        self.ipset_types[msg.set_id] = msg.set_type

    def _on_IPSetDeltaUpdate(self, msg: IPSetDeltaUpdate) -> None:
        members = self.ipsets.get(msg.set_id)
        if members is None:
            self.fail(msg, "delta to unknown IP set")
        if not msg.added and not msg.removed:
            self.fail(msg, "empty delta")
        if msg.added & members:
            self.fail(msg, f"delta adds present members {sorted(msg.added & members)}")
        if msg.removed - members:
            self.fail(msg, f"delta removes absent members {sorted(msg.removed - members)}")
        members -= msg.removed
        members |= msg.added

    def _on_IPSetRemove(self, msg: IPSetRemove) -> None:
        if msg.set_id not in self.ipsets:
            self.fail(msg, "remove of unknown IP set")
        for owner, rules in list(self.policies.items()) + list(self.profiles.items()):
            if msg.set_id in sets_used(rules):
                self.fail(msg, f"remove of IP set still used by {owner}")
        del self.ipsets[msg.set_id]
        del self.ipset_types[msg.set_id]

    def _check_sets(self, msg, rules: PolicyRules) -> None:
        missing = sets_used(rules) - set(self.ipsets)
        if missing:
            self.fail(msg, f"rules reference IP sets not created: {sorted(missing)}")

    def _on_ActivePolicyUpdate(self, msg: ActivePolicyUpdate) -> None:
        self._check_sets(msg, msg.policy)
        self.policies[msg.policy_id] = msg.policy

    def _on_ActivePolicyRemove(self, msg: ActivePolicyRemove) -> None:
        if msg.policy_id not in self.policies:
            self.fail(msg, "remove of unknown policy")
        for ep_id, ep in self.endpoints.items():
            for tier in ep.tiers:
                if msg.policy_id in tier.ingress_policies + tier.egress_policies:
                    self.fail(msg, f"remove of policy still used by endpoint {ep_id}")
        del self.policies[msg.policy_id]

    def _on_ActiveProfileUpdate(self, msg: ActiveProfileUpdate) -> None:
        self._check_sets(msg, msg.profile)
        self.profiles[msg.profile_id] = msg.profile

    def _on_ActiveProfileRemove(self, msg: ActiveProfileRemove) -> None:
        if msg.profile_id not in self.profiles:
            self.fail(msg, "remove of unknown profile")
        for ep_id, ep in self.endpoints.items():
            if msg.profile_id in ep.profile_ids:
                self.fail(msg, f"remove of profile still used by endpoint {ep_id}")
        del self.profiles[msg.profile_id]

    def _on_WorkloadEndpointUpdate(self, msg: WorkloadEndpointUpdate) -> None:
        ep = msg.endpoint
        for tier in ep.tiers:
            for pid in tier.ingress_policies + tier.egress_policies:
                if pid not in self.policies:
                    self.fail(msg, f"endpoint names unknown policy {pid}")
        for profile_id in ep.profile_ids:
            if profile_id not in self.profiles:
                self.fail(msg, f"endpoint names unknown profile {profile_id}")
        self.endpoints[msg.endpoint_id] = ep

    def _on_WorkloadEndpointRemove(self, msg: WorkloadEndpointRemove) -> None:
        if msg.endpoint_id not in self.endpoints:
            self.fail(msg, "remove of unknown endpoint")
        del self.endpoints[msg.endpoint_id]

    # ---------------------------------------------------------------- view

    def view(self) -> dict:
        """The dataplane state in the shape the state tables use."""
        endpoints = {}
        for ep_id, ep in self.endpoints.items():
            endpoints[ep_id.name] = {
                "profiles": tuple(ep.profile_ids),
                "tiers": tuple((t.name, tuple(str(p) for p in t.ingress_policies),
                                tuple(str(p) for p in t.egress_policies)) for t in ep.tiers),
            }
        return {
            "policies": {str(pid) for pid in self.policies},
            "profiles": set(self.profiles),
            "ipsets": {sid: set(m) for sid, m in self.ipsets.items()},
            "endpoints": endpoints,
        }
