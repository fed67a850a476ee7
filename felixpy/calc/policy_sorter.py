"""Policy sorter: the order in which tiers and the policies inside a tier apply.

Calico's rules (`felix/calc/policy_sorter.go`, calico.md §5.5):

* inside a tier, policies by `order` ascending; a missing order is +infinity (applied
  last); ties broken by name, then namespace, then kind;
* tiers by their order (a tier without one goes last), ties by name.

We do not watch Tier resources: the built-in tiers keep Calico's orders and default
actions (`kube-admin` 1,000 Pass, `default` 1,000,000 Deny, `kube-baseline` 10,000,000
Pass); any other tier a policy names exists with no order and default action Deny.

`tiers_for(policies)` builds the per-endpoint `TierInfo` tuple: a policy governs
ingress and/or egress according to its `types`, and a tier appears for an endpoint
only if at least one of its policies selects that endpoint.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from felixpy.calc.messages import PolicyID, TierInfo
from libcalico_py.policy.tiers import BUILTIN_TIERS, DEFAULT_TIER, tier_default_action, tier_sort_key


@dataclass(frozen=True, slots=True)
class PolicyMeta:
    """What the sorter needs to know about a policy."""

    tier: str
    order: float            # math.inf when the policy has none
    ingress: bool
    egress: bool


def policy_sort_key(policy_id: PolicyID, meta: PolicyMeta) -> tuple:
    return (meta.order, policy_id.name, policy_id.namespace, policy_id.kind)


def tiers_for(policies: Iterable[tuple[PolicyID, PolicyMeta]]) -> tuple[TierInfo, ...]:
    """The ordered tiers (with ordered ingress/egress policy lists) for one endpoint."""
    by_tier: dict[str, list[tuple[PolicyID, PolicyMeta]]] = {}
    for pid, meta in policies:
        by_tier.setdefault(meta.tier, []).append((pid, meta))
    out = []
    for tier in sorted(by_tier, key=tier_sort_key):
        members = sorted(by_tier[tier], key=lambda item: policy_sort_key(*item))
        out.append(TierInfo(
            name=tier,
            ingress_policies=tuple(pid for pid, meta in members if meta.ingress),
            egress_policies=tuple(pid for pid, meta in members if meta.egress),
            default_action=tier_default_action(tier),
        ))
    return tuple(out)
