"""The `cali-nat-outgoing` chain (nat table): masquerade pod traffic leaving the pools.

Traffic whose source is in a pool with natOutgoing (IP set `cali40masq-ipam-pools`)
and whose destination is in no pool (`cali40network-ip-pools`) is masqueraded, or
SNATed to NATOutgoingAddress when that is set (calico.md §5.2, Felix `rules/nat.go`).

The chain is owned by the masquerade manager, not by the static chains: it is
rendered active only while some pool has natOutgoing, so the two IP sets it
references exist whenever the rule does. cali-POSTROUTING (static) always jumps
here, so the manager must program the chain (empty when inactive) before or with
the static nat chains.
"""
from __future__ import annotations

from felixpy.iptables.chain import Chain, Rule
from felixpy.rules import defs, names
from felixpy.rules import match as m
from felixpy.rules.defs import RulesConfig


class NATRenderer:
    def __init__(self, config: RulesConfig):
        self.config = config

    def nat_outgoing_chains(self, active: bool = True) -> list[Chain]:
        if not active:
            return [Chain(defs.CHAIN_NAT_OUTGOING)]
        cfg = self.config
        version = cfg.ip_version
        match = (m.Match()
                 .ipset(names.ipset_name(defs.MASQ_IPSET_ID, version), "src")
                 .ipset(names.ipset_name(defs.ALL_POOLS_IPSET_ID, version), "dst", negate=True))
        rules: list[Rule] = []
        if cfg.nat_port_range:
            # A port range needs a protocol with ports; other traffic falls through to
            # the rule without one.
            ranged = self._action(cfg.nat_port_range.replace(":", "-"))
            rules.extend(Rule(match.copy().protocol(proto).render(), ranged) for proto in ("tcp", "udp", "sctp"))
        rules.append(Rule(match.render(), self._action("")))
        return [Chain(defs.CHAIN_NAT_OUTGOING, tuple(rules))]

    def _action(self, port_range: str) -> str:
        cfg = self.config
        if cfg.nat_outgoing_address:
            action = f"-j SNAT --to-source {cfg.nat_outgoing_address}" + (f":{port_range}" if port_range else "")
        else:
            action = "-j MASQUERADE" + (f" --to-ports {port_range}" if port_range else "")
        return action + (" --random-fully" if cfg.nat_random_fully else "")
