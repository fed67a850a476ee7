"""Event sequencer: buffers what the graph decided and emits it in the ordering contract.

The graph's nodes report changes as they happen (a set became active, a member joined,
a policy's rules changed, an endpoint's policy list changed); the sequencer coalesces
them until `flush()` and then emits, in this order (`felix/calc/event_sequencer.go`):

    ConfigUpdate, IPAMPoolUpdate
    IPSetUpdate (new sets, full membership), IPSetDeltaUpdate (sets already sent)
    ActivePolicyUpdate, ActiveProfileUpdate
    WorkloadEndpointUpdate
    WorkloadEndpointRemove
    ActiveProfileRemove, ActivePolicyRemove
    IPSetRemove, IPAMPoolRemove
    InSync (once, after the first complete snapshot)

so a set exists before a rule refers to it, a policy/profile before an endpoint names
it, and removals happen in the reverse order. The sequencer remembers what it has sent:
a set that the dataplane already has only ever gets deltas; an update identical to the
one last sent is dropped; a removal of something never sent is dropped.
"""
from __future__ import annotations

from typing import Callable

from felixpy.calc.messages import (ActivePolicyRemove, ActivePolicyUpdate, ActiveProfileRemove,
                                   ActiveProfileUpdate, ConfigUpdate, InSync, IPAMPoolRemove,
                                   IPAMPoolUpdate, IPSetDeltaUpdate, IPSetRemove, IPSetUpdate,
                                   PolicyID, PolicyRules, WorkloadEndpoint, WorkloadEndpointID,
                                   WorkloadEndpointRemove, WorkloadEndpointUpdate)

_REMOVED = object()   # marker in the pending maps: "remove at flush"


class EventSequencer:
    def __init__(self, ipset_members: Callable[[str], frozenset[str]]):
        # Reads the full current membership of a set (for sets sent for the first time).
        self._ipset_members = ipset_members

        self._sent_sets: dict[str, str] = {}
        self._added_sets: dict[str, str] = {}
        self._removed_sets: set[str] = set()
        self._deltas: dict[str, tuple[set[str], set[str]]] = {}

        self._sent_policies: dict[PolicyID, PolicyRules] = {}
        self._pending_policies: dict[PolicyID, object] = {}
        self._sent_profiles: dict[str, PolicyRules] = {}
        self._pending_profiles: dict[str, object] = {}
        self._sent_endpoints: dict[WorkloadEndpointID, WorkloadEndpoint] = {}
        self._pending_endpoints: dict[WorkloadEndpointID, object] = {}
        self._sent_pools: dict[str, IPAMPoolUpdate] = {}
        self._pending_pools: dict[str, object] = {}

        self._config: dict | None = None
        self._config_dirty = False
        self._in_sync = False
        self._in_sync_sent = False

    # ---------------------------------------------------------------- ip sets

    def on_ipset_added(self, set_id: str, set_type: str) -> None:
        self._removed_sets.discard(set_id)
        self._deltas.pop(set_id, None)
        self._added_sets[set_id] = set_type

    def on_ipset_removed(self, set_id: str) -> None:
        self._added_sets.pop(set_id, None)
        self._deltas.pop(set_id, None)
        if set_id in self._sent_sets:
            self._removed_sets.add(set_id)

    def on_ipset_member_added(self, set_id: str, member: str) -> None:
        if set_id in self._added_sets or set_id in self._removed_sets or set_id not in self._sent_sets:
            return
        added, removed = self._deltas.setdefault(set_id, (set(), set()))
        if member in removed:
            removed.discard(member)
        else:
            added.add(member)

    def on_ipset_member_removed(self, set_id: str, member: str) -> None:
        if set_id in self._added_sets or set_id in self._removed_sets or set_id not in self._sent_sets:
            return
        added, removed = self._deltas.setdefault(set_id, (set(), set()))
        if member in added:
            added.discard(member)
        else:
            removed.add(member)

    # ---------------------------------------------------------------- policies, profiles

    def on_policy_active(self, policy_id: PolicyID, rules: PolicyRules) -> None:
        self._pending_policies[policy_id] = rules

    def on_policy_inactive(self, policy_id: PolicyID) -> None:
        self._pending_policies[policy_id] = _REMOVED

    def on_profile_active(self, profile_id: str, rules: PolicyRules) -> None:
        self._pending_profiles[profile_id] = rules

    def on_profile_inactive(self, profile_id: str) -> None:
        self._pending_profiles[profile_id] = _REMOVED

    # ---------------------------------------------------------------- endpoints

    def on_endpoint_update(self, endpoint_id: WorkloadEndpointID, endpoint: WorkloadEndpoint) -> None:
        self._pending_endpoints[endpoint_id] = endpoint

    def on_endpoint_remove(self, endpoint_id: WorkloadEndpointID) -> None:
        self._pending_endpoints[endpoint_id] = _REMOVED

    # ---------------------------------------------------------------- config, pools, sync

    def on_config(self, config: dict) -> None:
        if config != self._config:
            self._config = dict(config)
            self._config_dirty = True

    def on_pool_update(self, update: IPAMPoolUpdate) -> None:
        self._pending_pools[update.pool_id] = update

    def on_pool_remove(self, pool_id: str) -> None:
        self._pending_pools[pool_id] = _REMOVED

    def on_in_sync(self) -> None:
        self._in_sync = True

    # ---------------------------------------------------------------- flush

    def flush(self) -> list:
        out: list = []
        emit_config = self._in_sync and (self._config_dirty or not self._in_sync_sent)
        if emit_config:
            out.append(ConfigUpdate(dict(self._config or {})))
            self._config_dirty = False

        pool_removes = []
        for pool_id, value in self._pending_pools.items():
            if value is _REMOVED:
                if self._sent_pools.pop(pool_id, None) is not None:
                    pool_removes.append(IPAMPoolRemove(pool_id))
            elif self._sent_pools.get(pool_id) != value:
                self._sent_pools[pool_id] = value
                out.append(value)
        self._pending_pools.clear()

        for set_id, set_type in self._added_sets.items():
            out.append(IPSetUpdate(set_id, set_type, self._ipset_members(set_id)))
            self._sent_sets[set_id] = set_type
        self._added_sets.clear()
        for set_id, (added, removed) in self._deltas.items():
            if added or removed:
                out.append(IPSetDeltaUpdate(set_id, frozenset(added), frozenset(removed)))
        self._deltas.clear()

        policy_removes = self._flush_updates(self._pending_policies, self._sent_policies,
                                             ActivePolicyUpdate, ActivePolicyRemove, out)
        profile_removes = self._flush_updates(self._pending_profiles, self._sent_profiles,
                                              ActiveProfileUpdate, ActiveProfileRemove, out)
        endpoint_removes = self._flush_updates(self._pending_endpoints, self._sent_endpoints,
                                               WorkloadEndpointUpdate, WorkloadEndpointRemove, out)
        out.extend(endpoint_removes)
        out.extend(profile_removes)
        out.extend(policy_removes)

        for set_id in sorted(self._removed_sets):
            out.append(IPSetRemove(set_id))
            del self._sent_sets[set_id]
        self._removed_sets.clear()
        out.extend(pool_removes)

        if self._in_sync and not self._in_sync_sent:
            self._in_sync_sent = True
            out.append(InSync())
        return out

    @staticmethod
    def _flush_updates(pending: dict, sent: dict, update_cls, remove_cls, out: list) -> list:
        removes = []
        for key, value in pending.items():
            if value is _REMOVED:
                if sent.pop(key, None) is not None:
                    removes.append(remove_cls(key))
            elif sent.get(key) != value:
                sent[key] = value
                out.append(update_cls(key, value))
        pending.clear()
        return removes

    # ---------------------------------------------------------------- introspection

    @property
    def sent_ipsets(self) -> dict[str, str]:
        return dict(self._sent_sets)
