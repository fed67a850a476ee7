"""RuleRenderer: the one object the dataplane managers call to turn calc-graph
messages into Chain/Rule values (the F-rules side of felix's Seam 2).

Pure: no I/O, no clocks, no state beyond the configuration, so the same inputs always
give the same chains (and therefore the same rule hashes). One renderer renders one IP
family (`RulesConfig.ipv6`); build two renderers for a dual-stack node.
"""
from __future__ import annotations

from collections.abc import Iterable

from felixpy.calc.messages import PolicyID, PolicyRules, WorkloadEndpoint
from felixpy.iptables.chain import Chain, Rule
from felixpy.rules.defs import RulesConfig
from felixpy.rules.dispatch import DispatchRenderer
from felixpy.rules.endpoints import EndpointRenderer
from felixpy.rules.nat import NATRenderer
from felixpy.rules.policy import PolicyRenderer
from felixpy.rules.static import StaticRenderer


class RuleRenderer:
    def __init__(self, config: RulesConfig | None = None):
        self.config = config or RulesConfig()
        self._static = StaticRenderer(self.config)
        self._policy = PolicyRenderer(self.config)
        self._endpoints = EndpointRenderer(self.config)
        self._dispatch = DispatchRenderer(self.config)
        self._nat = NATRenderer(self.config)

    @property
    def ip_version(self) -> int:
        return self.config.ip_version

    def static_chains(self, table: str) -> list[Chain]:
        """cali-INPUT, cali-FORWARD, ... for table "filter" | "raw" | "mangle" | "nat"."""
        return self._static.static_chains(table)

    def kernel_hooks(self, table: str) -> dict[str, list[Rule]]:
        """Rules to insert at the top of the kernel's chains."""
        return self._static.kernel_hooks(table)

    def kernel_hooks_append(self, table: str) -> dict[str, list[Rule]]:
        """Rules to append at the end of the kernel's chains (filter FORWARD, nat POSTROUTING)."""
        return self._static.kernel_hooks_append(table)

    def policy_chains(self, policy_id: PolicyID, policy_rules: PolicyRules) -> list[Chain]:
        """[cali-pi-<id>, cali-po-<id>] (filter table); [] for staged policies."""
        return self._policy.policy_chains(policy_id, policy_rules)

    def profile_chains(self, profile_id: str, profile_rules: PolicyRules) -> list[Chain]:
        """[cali-pri-<id>, cali-pro-<id>] (filter table)."""
        return self._policy.profile_chains(profile_id, profile_rules)

    def endpoint_chains(self, endpoint: WorkloadEndpoint) -> list[Chain]:
        """[cali-tw-<iface>, cali-fw-<iface>] (filter table)."""
        return self._endpoints.endpoint_chains(endpoint)

    def dispatch_chains(self, ifaces: Iterable[str]) -> list[Chain]:
        """cali-from-wl-dispatch[-X]..., cali-to-wl-dispatch[-X]... (filter table)."""
        return self._dispatch.dispatch_chains(ifaces)

    def nat_outgoing_chains(self, active: bool = True) -> list[Chain]:
        """[cali-nat-outgoing] (nat table); empty chain when no pool masquerades."""
        return self._nat.nat_outgoing_chains(active)
