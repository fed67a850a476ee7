"""Workload dispatch chains: which per-endpoint chain a packet goes to (calico.md §5.3).

`cali-from-wl-dispatch` matches `-i <iface>` and goes to `cali-fw-<iface>`;
`cali-to-wl-dispatch` matches `-o <iface>` and goes to `cali-tw-<iface>`. Both end in
a DROP "Unknown interface", so a `cali*` interface we have no endpoint for is
fail-closed: a pod whose policy is not programmed yet gets no traffic.

To keep the linear scan short with many endpoints, names are sorted, their common
prefix is found and they are binned by the next character. A bin with one name is a
direct rule in the root chain; a bin with several becomes `-i cali3+ -g
cali-from-wl-dispatch-3` and a child chain listing those names, ending with the same
DROP. One level deep, as Felix (`WorkloadDispatchChains`).

Rules use goto (`-g`), so the endpoint chain's RETURN lands back in the chain that
jumped to the root dispatch chain (cali-FORWARD or cali-wl-to-host).
"""
from __future__ import annotations

import os
from collections.abc import Iterable

from felixpy.iptables.chain import Chain, Rule
from felixpy.rules import defs, names
from felixpy.rules import match as m
from felixpy.rules.defs import RulesConfig


class DispatchRenderer:
    def __init__(self, config: RulesConfig):
        self.config = config

    def dispatch_chains(self, ifaces: Iterable[str]) -> list[Chain]:
        sorted_names = sorted(set(ifaces))
        return (self._tree(sorted_names, defs.CHAIN_FROM_WORKLOAD_DISPATCH,
                           defs.WORKLOAD_FROM_ENDPOINT_PREFIX, inbound=True)
                + self._tree(sorted_names, defs.CHAIN_TO_WORKLOAD_DISPATCH,
                             defs.WORKLOAD_TO_ENDPOINT_PREFIX, inbound=False))

    def _tree(self, ifaces: list[str], root_name: str, endpoint_prefix: str, inbound: bool) -> list[Chain]:
        drop = Rule("", m.DROP, "Unknown interface")

        def iface_match(pattern: str) -> str:
            match = m.Match()
            return (match.in_interface(pattern) if inbound else match.out_interface(pattern)).render()

        def leaf(iface: str) -> Rule:
            return Rule(iface_match(iface), m.goto(names.endpoint_chain_name(endpoint_prefix, iface)))

        common = os.path.commonprefix(ifaces) if len(ifaces) > 1 else ""
        bins: dict[str, list[str]] = {}
        for iface in ifaces:
            key = iface[len(common):len(common) + 1] if len(ifaces) > 1 else ""
            bins.setdefault(key, []).append(iface)

        root_rules: list[Rule] = []
        children: list[Chain] = []
        for key in sorted(bins):
            members = bins[key]
            if len(members) == 1 or key == "":
                root_rules.extend(leaf(i) for i in members)
                continue
            child_name = names.length_limited_id(root_name + "-", key)
            children.append(Chain(child_name, tuple(leaf(i) for i in members) + (drop,)))
            root_rules.append(Rule(iface_match(common + key + "+"), m.goto(child_name)))
        root_rules.append(drop)
        return [Chain(root_name, tuple(root_rules))] + children
