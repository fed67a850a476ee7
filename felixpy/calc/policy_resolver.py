"""Policy resolver: which policies select each local endpoint, and which are active.

A `LabelIndex` over the effective labels of this host's endpoints holds one entry per
distinct policy selector (policies sharing a selector share the entry, which matters
when a thousand policies use thirty selectors). Match events update
policy -> endpoints and endpoint -> policies; both directions are marked dirty and
resolved lazily in `flush()`, so a burst of updates costs one pass:

* a policy that selects at least one local endpoint is active: its rules are scanned
  (again, if it changed) by `ActiveRules`; one that stops selecting anything, or is
  deleted, becomes inactive;
* each dirty endpoint gets its ordered tiers from the policy sorter.

Endpoints and policies may arrive in any order; a policy's match set depends only on
the current labels and selectors, never on history.
"""
from __future__ import annotations

from typing import Hashable, Mapping

from libcalico_py.selector.index import LabelIndex

from felixpy.calc.active_rules import ActiveRules
from felixpy.calc.messages import PolicyID, TierInfo, WorkloadEndpointID
from felixpy.calc.policy_sorter import tiers_for
from felixpy.calc.records import PolicyRecord


class PolicyResolver:
    def __init__(self, active_rules: ActiveRules):
        self._active_rules = active_rules
        self._index = LabelIndex(self._on_match_started, self._on_match_stopped)
        self._policies: dict[PolicyID, PolicyRecord] = {}
        self._pids_by_sel: dict[str, set[PolicyID]] = {}
        self._matches: dict[PolicyID, set[WorkloadEndpointID]] = {}
        self._policies_by_ep: dict[WorkloadEndpointID, set[PolicyID]] = {}
        self._active: set[PolicyID] = set()
        self._dirty_policies: set[PolicyID] = set()
        self._changed_policies: set[PolicyID] = set()
        self.dirty_endpoints: set[WorkloadEndpointID] = set()

    # ---------------------------------------------------------------- inputs

    def update_policy(self, pid: PolicyID, record: PolicyRecord | None) -> None:
        old = self._policies.get(pid)
        if record is None and old is None:
            return
        self._dirty_policies.add(pid)
        if old is not None and record is not None:
            if old == record:
                return
            self._changed_policies.add(pid)
            if old.meta != record.meta:
                self.dirty_endpoints.update(self._matches.get(pid, ()))
        old_uid = old.selector.unique_id() if old is not None else None
        new_uid = record.selector.unique_id() if record is not None else None
        if record is None:
            del self._policies[pid]
        else:
            self._policies[pid] = record
        if old_uid == new_uid:
            return
        if old_uid is not None:
            self._leave_group(pid, old_uid)
        if record is not None:
            self._join_group(pid, new_uid, record)

    def update_endpoint(self, ep_id: WorkloadEndpointID, labels: Mapping[str, str]) -> None:
        self._index.update_labels(ep_id, labels)

    def remove_endpoint(self, ep_id: WorkloadEndpointID) -> None:
        self._index.remove_labels(ep_id)
        self._policies_by_ep.pop(ep_id, None)

    # ---------------------------------------------------------------- groups

    def _join_group(self, pid: PolicyID, uid: str, record: PolicyRecord) -> None:
        group = self._pids_by_sel.get(uid)
        if group is None:
            self._pids_by_sel[uid] = {pid}
            self._index.update_selector(uid, record.selector)
            return
        group.add(pid)
        for ep_id in self._index.matching_items(uid):
            self._add_match(pid, ep_id)

    def _leave_group(self, pid: PolicyID, uid: str) -> None:
        group = self._pids_by_sel[uid]
        group.discard(pid)
        if not group:
            del self._pids_by_sel[uid]
            self._index.remove_selector(uid)
        for ep_id in list(self._matches.get(pid, ())):
            self._remove_match(pid, ep_id)

    def _on_match_started(self, uid: Hashable, ep_id: Hashable) -> None:
        for pid in self._pids_by_sel.get(uid, ()):
            self._add_match(pid, ep_id)

    def _on_match_stopped(self, uid: Hashable, ep_id: Hashable) -> None:
        for pid in self._pids_by_sel.get(uid, ()):
            self._remove_match(pid, ep_id)

    def _add_match(self, pid: PolicyID, ep_id: WorkloadEndpointID) -> None:
        self._matches.setdefault(pid, set()).add(ep_id)
        self._policies_by_ep.setdefault(ep_id, set()).add(pid)
        self._dirty_policies.add(pid)
        self.dirty_endpoints.add(ep_id)

    def _remove_match(self, pid: PolicyID, ep_id: WorkloadEndpointID) -> None:
        matches = self._matches.get(pid)
        if matches is not None:
            matches.discard(ep_id)
            if not matches:
                del self._matches[pid]
        pids = self._policies_by_ep.get(ep_id)
        if pids is not None:
            pids.discard(pid)
            if not pids:
                del self._policies_by_ep[ep_id]
        self._dirty_policies.add(pid)
        self.dirty_endpoints.add(ep_id)

    # ---------------------------------------------------------------- outputs

    def flush_policies(self) -> None:
        """Activate / re-scan / deactivate the policies touched since the last flush."""
        for pid in sorted(self._dirty_policies):
            record = self._policies.get(pid)
            if record is not None and self._matches.get(pid):
                if pid not in self._active or pid in self._changed_policies:
                    self._active.add(pid)
                    self._active_rules.policy_active(record)
            elif pid in self._active:
                self._active.discard(pid)
                self._active_rules.policy_inactive(pid)
        self._dirty_policies.clear()
        self._changed_policies.clear()

    def tiers(self, ep_id: WorkloadEndpointID) -> tuple[TierInfo, ...]:
        policies = self._policies
        return tiers_for((pid, policies[pid].meta) for pid in self._policies_by_ep.get(ep_id, ()))

    def active_policies(self) -> set[PolicyID]:
        return set(self._active)
