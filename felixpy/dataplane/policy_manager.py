"""PolicyManager: active policies and profiles -> cali-pi/po and cali-pri/pro chains.

Renders each ActivePolicyUpdate / ActiveProfileUpdate with the RuleRenderer into the filter
table's desired state and forgets chains a policy no longer produces. Only active policies
(those selecting a local endpoint) ever arrive, so only they are programmed. Keeps the last
message per policy so a configuration change can re-render everything.
"""
from __future__ import annotations

import logging

from felixpy.calc.messages import ActivePolicyRemove, ActivePolicyUpdate, ActiveProfileRemove, ActiveProfileUpdate
from felixpy.iptables.table import Table

log = logging.getLogger(__name__)


class PolicyManager:
    def __init__(self, filter_table: Table, renderer):
        self.table = filter_table
        self.renderer = renderer
        self._policies: dict = {}
        self._profiles: dict = {}
        self._chains: dict[tuple[str, object], set[str]] = {}

    def on_update(self, msg) -> None:
        if isinstance(msg, ActivePolicyUpdate):
            if self._policies.get(msg.policy_id) == msg.policy:
                return      # same rules as programmed: nothing to render
            self._policies[msg.policy_id] = msg.policy
            self._program(("policy", msg.policy_id), self.renderer.policy_chains(msg.policy_id, msg.policy))
            log.info("policy %s programmed (%d in, %d out rules)", msg.policy_id,
                     len(msg.policy.inbound_rules), len(msg.policy.outbound_rules))
        elif isinstance(msg, ActivePolicyRemove):
            self._policies.pop(msg.policy_id, None)
            self._program(("policy", msg.policy_id), [])
            log.info("policy %s no longer active: chains removed", msg.policy_id)
        elif isinstance(msg, ActiveProfileUpdate):
            if self._profiles.get(msg.profile_id) == msg.profile:
                return
            self._profiles[msg.profile_id] = msg.profile
            self._program(("profile", msg.profile_id), self.renderer.profile_chains(msg.profile_id, msg.profile))
            log.info("profile %s programmed", msg.profile_id)
        elif isinstance(msg, ActiveProfileRemove):
            self._profiles.pop(msg.profile_id, None)
            self._program(("profile", msg.profile_id), [])
            log.info("profile %s no longer active: chains removed", msg.profile_id)

    def _program(self, key, chains) -> None:
        new = {c.name for c in chains}
        for chain in chains:
            self.table.update_chain(chain)
        for name in self._chains.get(key, set()) - new:
            self.table.remove_chain(name)
        if new:
            self._chains[key] = new
        else:
            self._chains.pop(key, None)

    def set_renderer(self, renderer) -> None:
        """Re-render every policy and profile (after a configuration change)."""
        self.renderer = renderer
        for pid, rules in self._policies.items():
            self._program(("policy", pid), renderer.policy_chains(pid, rules))
        for pid, rules in self._profiles.items():
            self._program(("profile", pid), renderer.profile_chains(pid, rules))

    dirty = False      # everything is handed to the table in on_update

    def complete_deferred_work(self) -> None:
        pass

    @property
    def policy_count(self) -> int:
        return len(self._policies)

    @property
    def profile_count(self) -> int:
        return len(self._profiles)
