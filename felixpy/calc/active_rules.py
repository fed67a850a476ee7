"""Active rules: the policies and profiles the dataplane needs, and the IP sets they use.

A policy is active while it selects at least one local endpoint; a profile while at
least one local endpoint lists it. Only active ones are scanned into `PolicyRules`
(selectors -> IP set ids) and sent; only IP sets referenced by an active policy or
profile exist. Each set is reference counted by the policies/profiles ("owners") that
use it, so it is created when the first owner needs it and removed after the last one
lets go (`felix/calc/active_rules_calculator.go` + `rule_scanner.go`).

A profile named by an endpoint but missing from the datastore is sent with deny-all
rules (Felix's DummyDropRules): the dataplane never sees a dangling reference and
traffic fails closed.
"""
from __future__ import annotations

from typing import Hashable

from felixpy.calc.ipset_members import IPSetMembers
from felixpy.calc.messages import PolicyID, PolicyRules
from felixpy.calc.records import (MISSING_PROFILE_EGRESS, MISSING_PROFILE_INGRESS, PolicyRecord,
                                  ProfileRecord)
from felixpy.calc.rule_scanner import IPSetSpec, parse_rules

PROFILE_TIER = ""


class ActiveRules:
    def __init__(self, sequencer, ipsets: IPSetMembers):
        self._seq = sequencer
        self._ipsets = ipsets
        self._sets_by_owner: dict[Hashable, frozenset[str]] = {}
        self._owners_by_set: dict[str, set] = {}

    def policy_active(self, policy: PolicyRecord) -> None:
        pid = policy.policy_id
        tier = policy.meta.tier
        inbound, in_sets = parse_rules(policy.ingress, pid.namespace, "policy", tier, pid.kind,
                                       pid.name, "ingress")
        outbound, out_sets = parse_rules(policy.egress, pid.namespace, "policy", tier, pid.kind,
                                         pid.name, "egress")
        in_sets.update(out_sets)
        self._set_owner_sets(pid, in_sets)
        self._seq.on_policy_active(pid, PolicyRules(inbound, outbound, tier))

    def policy_inactive(self, policy_id: PolicyID) -> None:
        self._seq.on_policy_inactive(policy_id)
        self._set_owner_sets(policy_id, {})

    def profile_active(self, name: str, profile: ProfileRecord | None) -> None:
        ingress = profile.ingress if profile is not None else MISSING_PROFILE_INGRESS
        egress = profile.egress if profile is not None else MISSING_PROFILE_EGRESS
        inbound, in_sets = parse_rules(ingress, "", "profile", PROFILE_TIER, "pro", name, "ingress")
        outbound, out_sets = parse_rules(egress, "", "profile", PROFILE_TIER, "pro", name, "egress")
        in_sets.update(out_sets)
        self._set_owner_sets(("profile", name), in_sets)
        self._seq.on_profile_active(name, PolicyRules(inbound, outbound, PROFILE_TIER))

    def profile_inactive(self, name: str) -> None:
        self._seq.on_profile_inactive(name)
        self._set_owner_sets(("profile", name), {})

    def _set_owner_sets(self, owner: Hashable, specs: dict[str, IPSetSpec]) -> None:
        old = self._sets_by_owner.get(owner, frozenset())
        new = frozenset(specs)
        if new == old:
            return
        for set_id in new - old:
            owners = self._owners_by_set.get(set_id)
            if owners is None:
                owners = self._owners_by_set[set_id] = set()
                self._ipsets.activate(specs[set_id])
            owners.add(owner)
        for set_id in old - new:
            owners = self._owners_by_set[set_id]
            owners.discard(owner)
            if not owners:
                del self._owners_by_set[set_id]
                self._ipsets.deactivate(set_id)
        if new:
            self._sets_by_owner[owner] = new
        else:
            self._sets_by_owner.pop(owner, None)
