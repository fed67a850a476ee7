"""IP set membership: which addresses belong in each active IP set.

Members come from ALL endpoints in the cluster (a policy on this host may allow traffic
from a pod anywhere) and from NetworkSets/GlobalNetworkSets. A `LabelIndex` over every
item's effective labels tells us which active selectors match which items; each match
contributes members:

* selector set (`hash:net`): the item's nets (`10.0.0.1/32`, network-set CIDRs);
* named-port set (`hash:ip,port`): for each of the endpoint's ports with that name and
  protocol, `ip,proto:port` per endpoint IP (network sets have no ports).

Several items may contribute the same member (two network sets with the same CIDR, a
re-used IP), so members are reference counted; the sequencer hears only 0 <-> 1
transitions. Invariant: for every (set, item) match, the item's *current* data is
counted exactly once.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable, Mapping

from libcalico_py.selector.index import LabelIndex

from felixpy.calc.rule_scanner import IPSetSpec


@dataclass(frozen=True, slots=True)
class MemberSource:
    """What one item can contribute: its nets and its named ports (name, proto, port)."""

    nets: tuple[str, ...] = ()
    ports: tuple[tuple[str, str, int], ...] = ()


def _ip_of(net: str) -> str:
    return net.split("/", 1)[0]


def contributions(spec: IPSetSpec, source: MemberSource) -> list[str]:
    if spec.service:
        return []
    if not spec.named_port:
        return list(source.nets)
    out = []
    for name, proto, port in source.ports:
        if name == spec.named_port and proto == spec.protocol:
            for net in source.nets:
                out.append(f"{_ip_of(net)},{proto}:{port}")
    return out


class IPSetMembers:
    def __init__(self, sequencer):
        self._seq = sequencer
        self._index = LabelIndex(self._on_match_started, self._on_match_stopped)
        self._specs: dict[str, IPSetSpec] = {}
        self._members: dict[str, dict[str, int]] = {}
        self._sources: dict[Hashable, MemberSource] = {}

    # ---------------------------------------------------------------- sets

    def activate(self, spec: IPSetSpec) -> None:
        """A rule now refers to this set: create it and fill it."""
        self._specs[spec.set_id] = spec
        self._members[spec.set_id] = {}
        self._seq.on_ipset_added(spec.set_id, spec.set_type)
        self._index.update_selector(spec.set_id, spec.selector)

    def deactivate(self, set_id: str) -> None:
        """No rule refers to this set any more."""
        self._index.remove_selector(set_id)
        self._specs.pop(set_id, None)
        self._members.pop(set_id, None)
        self._seq.on_ipset_removed(set_id)

    def members(self, set_id: str) -> frozenset[str]:
        return frozenset(self._members.get(set_id, ()))

    def active_set_ids(self) -> set[str]:
        return set(self._specs)

    # ---------------------------------------------------------------- items

    def update_item(self, item_id: Hashable, labels: Mapping[str, str], source: MemberSource) -> None:
        old = self._sources.get(item_id)
        if old is not None and old != source:
            for set_id in self._index.matching_selectors(item_id):
                spec = self._specs[set_id]
                self._remove(set_id, contributions(spec, old))
                self._add(set_id, contributions(spec, source))
        self._sources[item_id] = source
        self._index.update_labels(item_id, labels)

    def remove_item(self, item_id: Hashable) -> None:
        if item_id not in self._sources:
            return
        self._index.remove_labels(item_id)
        del self._sources[item_id]

    # ---------------------------------------------------------------- index callbacks

    def _on_match_started(self, set_id: str, item_id: Hashable) -> None:
        self._add(set_id, contributions(self._specs[set_id], self._sources[item_id]))

    def _on_match_stopped(self, set_id: str, item_id: Hashable) -> None:
        self._remove(set_id, contributions(self._specs[set_id], self._sources[item_id]))

    def _add(self, set_id: str, members: list[str]) -> None:
        counts = self._members[set_id]
        for m in members:
            n = counts.get(m, 0)
            counts[m] = n + 1
            if n == 0:
                self._seq.on_ipset_member_added(set_id, m)

    def _remove(self, set_id: str, members: list[str]) -> None:
        counts = self._members[set_id]
        for m in members:
            n = counts[m] - 1
            if n:
                counts[m] = n
            else:
                del counts[m]
                self._seq.on_ipset_member_removed(set_id, m)
