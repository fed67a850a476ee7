"""Tier order and default actions, shared by the agent's policy sorter and the policy
evaluator so both order tiers the same way.

We do not watch Tier resources: Calico's built-in tiers keep their orders and default
actions (`kube-admin` 1,000 Pass, `default` 1,000,000 Deny, `kube-baseline` 10,000,000
Pass); any other tier a policy names sorts after them by name, with default action Deny.
"""
from __future__ import annotations

import math

DEFAULT_TIER = "default"

# name -> (order, default action) for Calico's built-in tiers.
BUILTIN_TIERS: dict[str, tuple[float, str]] = {
    "kube-admin": (1_000.0, "Pass"),
    DEFAULT_TIER: (1_000_000.0, "Deny"),
    "kube-baseline": (10_000_000.0, "Pass"),
}


def tier_sort_key(tier: str) -> tuple:
    known = BUILTIN_TIERS.get(tier)
    return (known[0] if known else math.inf, tier)


def tier_default_action(tier: str) -> str:
    known = BUILTIN_TIERS.get(tier)
    return known[1] if known else "Deny"
