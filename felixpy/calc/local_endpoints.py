"""Local endpoints: this host's WorkloadEndpoints, the profiles they make active, and
the `WorkloadEndpoint` messages built for them.

An endpoint is local when its `spec.node` is this host. Each local endpoint holds a
reference on every profile it lists; a profile is active while referenced, and is
(re)sent when it becomes active or changes. Endpoint messages are rebuilt lazily at
flush for endpoints whose record, labels or policy list changed.
"""
from __future__ import annotations

from typing import Callable, Mapping

from felixpy.calc.active_rules import ActiveRules
from felixpy.calc.messages import TierInfo, WorkloadEndpoint, WorkloadEndpointID
from felixpy.calc.records import EndpointRecord, ProfileRecord


class LocalEndpoints:
    def __init__(self, sequencer, active_rules: ActiveRules):
        self._seq = sequencer
        self._active_rules = active_rules
        self._records: dict[WorkloadEndpointID, EndpointRecord] = {}
        self._labels: dict[WorkloadEndpointID, tuple] = {}
        self._profile_refs: dict[str, set[WorkloadEndpointID]] = {}
        self._active_profiles: set[str] = set()
        self._dirty_profiles: set[str] = set()
        self._changed_profiles: set[str] = set()
        self.dirty_endpoints: set[WorkloadEndpointID] = set()

    def __contains__(self, ep_id: WorkloadEndpointID) -> bool:
        return ep_id in self._records

    def __len__(self) -> int:
        return len(self._records)

    def update(self, record: EndpointRecord, labels: Mapping[str, str]) -> None:
        ep_id = record.endpoint_id
        old = self._records.get(ep_id)
        self._records[ep_id] = record
        self._labels[ep_id] = tuple(sorted(labels.items()))
        self.dirty_endpoints.add(ep_id)
        old_profiles = old.profiles if old is not None else ()
        if old_profiles != record.profiles:
            for name in set(old_profiles) - set(record.profiles):
                self._unref(name, ep_id)
            for name in set(record.profiles) - set(old_profiles):
                self._profile_refs.setdefault(name, set()).add(ep_id)
                self._dirty_profiles.add(name)

    def remove(self, ep_id: WorkloadEndpointID) -> None:
        old = self._records.pop(ep_id, None)
        if old is None:
            return
        del self._labels[ep_id]
        self.dirty_endpoints.add(ep_id)
        for name in set(old.profiles):
            self._unref(name, ep_id)

    def _unref(self, name: str, ep_id: WorkloadEndpointID) -> None:
        refs = self._profile_refs.get(name)
        if refs is not None:
            refs.discard(ep_id)
            if not refs:
                del self._profile_refs[name]
        self._dirty_profiles.add(name)

    def profile_changed(self, name: str) -> None:
        if name in self._profile_refs:
            self._dirty_profiles.add(name)
            self._changed_profiles.add(name)

    def flush_profiles(self, lookup: Callable[[str], ProfileRecord | None]) -> None:
        for name in sorted(self._dirty_profiles):
            if name in self._profile_refs:
                if name not in self._active_profiles or name in self._changed_profiles:
                    self._active_profiles.add(name)
                    self._active_rules.profile_active(name, lookup(name))
            elif name in self._active_profiles:
                self._active_profiles.discard(name)
                self._active_rules.profile_inactive(name)
        self._dirty_profiles.clear()
        self._changed_profiles.clear()

    def flush_endpoints(self, tiers: Callable[[WorkloadEndpointID], tuple[TierInfo, ...]],
                        extra_dirty: set[WorkloadEndpointID]) -> None:
        dirty = self.dirty_endpoints | extra_dirty
        for ep_id in sorted(dirty):
            record = self._records.get(ep_id)
            if record is None:
                self._seq.on_endpoint_remove(ep_id)
                continue
            self._seq.on_endpoint_update(ep_id, WorkloadEndpoint(
                name=record.iface,
                ipv4_nets=record.ipv4_nets,
                ipv6_nets=record.ipv6_nets,
                mac=record.mac,
                tiers=tiers(ep_id),
                profile_ids=record.profiles,
                labels=self._labels[ep_id],
            ))
        self.dirty_endpoints.clear()

    def active_profiles(self) -> set[str]:
        return set(self._active_profiles)
