"""MasqManager: IP pools -> the masquerade IP sets and the nat table's cali-nat-outgoing.

Keeps `cali40masq-ipam-pools` (CIDRs of pools with natOutgoing) and `cali40network-ip-pools`
(every pool CIDR) and renders cali-nat-outgoing, which masquerades traffic from the first
that is not going to the second (Felix's masq_mgr.go). Both sets always exist so the nat
chain's references are always valid.
"""
from __future__ import annotations

import logging

from felixpy.calc.messages import IPAMPoolRemove, IPAMPoolUpdate
from felixpy.ipsets.ipsets import IPSets
from felixpy.iptables.table import Table
from felixpy.rules.names import ALL_POOLS_IPSET_ID, MASQ_IPSET_ID

log = logging.getLogger(__name__)


class MasqManager:
    def __init__(self, ipsets: IPSets, nat_table: Table, renderer):
        self.ipsets = ipsets
        self.table = nat_table
        self.renderer = renderer
        self._pools: dict[str, IPAMPoolUpdate] = {}
        self._dirty = True

    def on_update(self, msg) -> None:
        if isinstance(msg, IPAMPoolUpdate):
            if msg.cidr and ":" in msg.cidr:
                return                      # IPv6 pools are not programmed by this IPv4 dataplane
            self._pools[msg.pool_id] = msg
            self._dirty = True
        elif isinstance(msg, IPAMPoolRemove):
            if self._pools.pop(msg.pool_id, None) is not None:
                self._dirty = True

    def set_renderer(self, renderer) -> None:
        self.renderer = renderer
        self._dirty = True

    @property
    def dirty(self) -> bool:
        return self._dirty

    def complete_deferred_work(self) -> None:
        if not self._dirty:
            return
        masq = {p.cidr for p in self._pools.values() if p.masquerade and not p.disabled}
        self.ipsets.set_members(MASQ_IPSET_ID, "hash:net", masq)
        self.ipsets.set_members(ALL_POOLS_IPSET_ID, "hash:net", {p.cidr for p in self._pools.values()})
        for chain in self.renderer.nat_outgoing_chains(bool(masq)):
            self.table.update_chain(chain)
        log.info("masquerade: %d pool(s) with natOutgoing of %d", len(masq), len(self._pools))
        self._dirty = False
