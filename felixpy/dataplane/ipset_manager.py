"""IPSetManager: IPSetUpdate / IPSetDeltaUpdate / IPSetRemove -> the IPSets driver.

Converts the calculation graph's set IDs ("s:…" selector sets, "n:…" named-port sets) into
kernel set names (`felixpy.rules.names.ipset_name`) and records membership; no I/O here.
"""
from __future__ import annotations

from felixpy.calc.messages import IPSetDeltaUpdate, IPSetRemove, IPSetUpdate
from felixpy.ipsets.ipsets import IPSets


class IPSetManager:
    def __init__(self, ipsets: IPSets):
        self.ipsets = ipsets
        self._types: dict[str, str] = {}

    def on_update(self, msg) -> None:
        if isinstance(msg, IPSetUpdate):
            self._types[msg.set_id] = msg.set_type
            self.ipsets.set_members(msg.set_id, msg.set_type, msg.members)
        elif isinstance(msg, IPSetDeltaUpdate):
            if msg.set_id not in self._types:
                raise KeyError(f"IP set delta for unknown set {msg.set_id}")
            self.ipsets.remove_members(msg.set_id, msg.removed)
            self.ipsets.add_members(msg.set_id, msg.added)
        elif isinstance(msg, IPSetRemove):
            self._types.pop(msg.set_id, None)
            self.ipsets.remove_set(msg.set_id)

    dirty = False      # everything is handed to the driver in on_update

    def complete_deferred_work(self) -> None:
        pass

    @property
    def set_count(self) -> int:
        return len(self._types)
