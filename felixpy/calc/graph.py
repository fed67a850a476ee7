r"""The calculation graph: datastore updates in, dataplane messages out. Pure: no I/O,
no threads, no clocks; the same inputs in any order give the same final view.

    Update(key, value, revision)
        |
    ValidationFilter ---- invalid value == deletion (logged)
        |
    Dispatcher (by kind)
        |-- WorkloadEndpoint ----+--> IPSetMembers (ALL endpoints + network sets:
        |-- (Global)NetworkSet --+      LabelIndex of active rule selectors -> members)
        |-- Profile (labelsToApply) -> effective labels of the items listing it
        |                         \-> LocalEndpoints (profiles referenced here are active)
        |   WorkloadEndpoint (spec.node == hostname) -> LocalEndpoints
        |                                            -> PolicyResolver (LabelIndex of
        |                                               policy selectors over local eps)
        |-- (Global|Kubernetes)NetworkPolicy -> PolicyResolver
        |                  active policies/profiles -> ActiveRules -> RuleScanner
        |                                              (rules -> ParsedRule + IP sets,
        |                                               sets ref-counted -> IPSetMembers)
        |-- IPPool -------------> IPAMPoolUpdate/Remove
        \-- FelixConfiguration -> ConfigBatcher (default, then node.<hostname>)
                                      |
                               EventSequencer.flush() -> ordered messages (messages.py)

`flush()` resolves the lazily-marked work (policy activation, profile activation,
endpoint policy lists) and then drains the sequencer. InSync is emitted once, at the
end of the first flush after the syncer reported "in-sync".
"""
from __future__ import annotations

import logging
from typing import Iterable

from libcalico_py.convert.k8s_policy import k8s_policy_to_calico
from libcalico_py.errors import ValidationError
from libcalico_py.selector.labels import effective_labels, namespace_profile_name

from felixpy.calc.active_rules import ActiveRules
from felixpy.calc.config_batcher import ConfigBatcher
from felixpy.calc.dispatcher import Dispatcher
from felixpy.calc.event_sequencer import EventSequencer
from felixpy.calc.ipset_members import IPSetMembers, MemberSource
from felixpy.calc.local_endpoints import LocalEndpoints
from felixpy.calc.messages import IPAMPoolUpdate, WorkloadEndpointID
from felixpy.calc.policy_resolver import PolicyResolver
from felixpy.calc.records import (DEFAULT_ALLOW_PROFILE, EndpointRecord, NetworkSetRecord,
                                  ProfileRecord, endpoint_record, network_set_record,
                                  policy_id_for, policy_record, pool_record, profile_record)
from felixpy.calc.validation_filter import ResourceUpdate, ValidationFilter

log = logging.getLogger(__name__)

IN_SYNC = "in-sync"


class CalcGraph:
    def __init__(self, hostname: str, config: dict | None = None):
        self.hostname = hostname
        self.config = dict(config or {})
        self._filter = ValidationFilter()
        self._dispatcher = Dispatcher()
        self._seq = EventSequencer(lambda set_id: self._ipsets.members(set_id))
        self._ipsets = IPSetMembers(self._seq)
        self._active_rules = ActiveRules(self._seq, self._ipsets)
        self._resolver = PolicyResolver(self._active_rules)
        self._local = LocalEndpoints(self._seq, self._active_rules)
        self._config = ConfigBatcher(hostname, self._seq)

        self._endpoints: dict[WorkloadEndpointID, EndpointRecord] = {}
        self._netsets: dict[tuple, NetworkSetRecord] = {}
        self._profiles: dict[str, ProfileRecord] = {}
        # profile name -> ids of endpoints / network sets whose labels inherit from it
        self._items_by_profile: dict[str, set] = {}
        self._status = ""

        d = self._dispatcher
        d.register("WorkloadEndpoint", self._on_endpoint)
        d.register("NetworkSet", self._on_network_set)
        d.register("GlobalNetworkSet", self._on_network_set)
        d.register("Profile", self._on_profile)
        d.register("NetworkPolicy", self._on_policy)
        d.register("GlobalNetworkPolicy", self._on_policy)
        d.register("KubernetesNetworkPolicy", self._on_policy)
        d.register("IPPool", self._on_pool)
        d.register("FelixConfiguration", self._on_felix_config)

    # ---------------------------------------------------------------- API

    def on_updates(self, updates: Iterable) -> None:
        decode = self._filter.decode
        dispatch = self._dispatcher.dispatch
        for update in updates:
            resource_update = decode(update)
            if resource_update is not None:
                dispatch(resource_update)

    def on_status(self, status: str) -> None:
        self._status = status
        if status == IN_SYNC:
            self._seq.on_in_sync()

    def flush(self) -> list:
        self._resolver.flush_policies()
        self._local.flush_profiles(self._profile)
        self._local.flush_endpoints(self._resolver.tiers, self._resolver.dirty_endpoints)
        self._resolver.dirty_endpoints.clear()
        return self._seq.flush()

    @property
    def rejected_updates(self) -> int:
        return self._filter.rejected

    # ---------------------------------------------------------------- profiles

    def _profile(self, name: str) -> ProfileRecord | None:
        record = self._profiles.get(name)
        if record is None and name == DEFAULT_ALLOW_PROFILE.name:
            return DEFAULT_ALLOW_PROFILE
        return record

    def _profile_labels(self, names: Iterable[str]) -> list:
        out = []
        for name in names:
            record = self._profiles.get(name)
            out.append(record.labels_to_apply if record is not None else None)
        return out

    def _link_profiles(self, item_id, old: Iterable[str], new: Iterable[str]) -> None:
        old, new = set(old), set(new)
        for name in old - new:
            items = self._items_by_profile.get(name)
            if items is not None:
                items.discard(item_id)
                if not items:
                    del self._items_by_profile[name]
        for name in new - old:
            self._items_by_profile.setdefault(name, set()).add(item_id)

    def _on_profile(self, u: ResourceUpdate) -> None:
        old = self._profiles.get(u.name)
        record = profile_record(u.name, u.doc) if u.doc is not None else None
        if record == old:
            return
        if record is None:
            del self._profiles[u.name]
        else:
            self._profiles[u.name] = record
        old_labels = old.labels_to_apply if old is not None else None
        new_labels = record.labels_to_apply if record is not None else None
        if old_labels != new_labels:
            for item_id in list(self._items_by_profile.get(u.name, ())):
                if type(item_id) is WorkloadEndpointID:
                    self._index_endpoint(self._endpoints[item_id])
                else:
                    self._index_network_set(self._netsets[item_id])
        self._local.profile_changed(u.name)

    # ---------------------------------------------------------------- endpoints

    def _on_endpoint(self, u: ResourceUpdate) -> None:
        ep_id = WorkloadEndpointID(u.namespace, u.name)
        record = endpoint_record(ep_id, u.doc) if u.doc is not None else None
        old = self._endpoints.get(ep_id)
        if record is None:
            if old is None:
                return
            del self._endpoints[ep_id]
            self._link_profiles(ep_id, old.profiles, ())
            self._ipsets.remove_item(ep_id)
            if old.node == self.hostname:
                self._local.remove(ep_id)
                self._resolver.remove_endpoint(ep_id)
            return
        if record == old:
            return
        self._endpoints[ep_id] = record
        self._link_profiles(ep_id, old.profiles if old is not None else (), record.profiles)
        if old is not None and old.node == self.hostname and record.node != self.hostname:
            self._local.remove(ep_id)
            self._resolver.remove_endpoint(ep_id)
        self._index_endpoint(record)

    def _index_endpoint(self, record: EndpointRecord) -> None:
        ep_id = record.endpoint_id
        labels = effective_labels(record.labels, self._profile_labels(record.profiles),
                                  ep_id.namespace, record.orchestrator, record.service_account)
        self._ipsets.update_item(ep_id, labels, MemberSource(record.nets, record.ports))
        if record.node == self.hostname:
            self._local.update(record, labels)
            self._resolver.update_endpoint(ep_id, labels)

    # ---------------------------------------------------------------- network sets

    def _on_network_set(self, u: ResourceUpdate) -> None:
        item_kind = "netset" if u.namespace else "gnetset"
        item_id = (item_kind, u.namespace or "", u.name)
        record = network_set_record(u.kind, u.namespace, u.name, u.doc) if u.doc is not None else None
        old = self._netsets.get(item_id)
        profiles = (namespace_profile_name(u.namespace),) if u.namespace else ()
        if record is None:
            if old is not None:
                del self._netsets[item_id]
                self._link_profiles(item_id, profiles, ())
                self._ipsets.remove_item(item_id)
            return
        if record == old:
            return
        self._netsets[item_id] = record
        self._link_profiles(item_id, (), profiles)
        self._index_network_set(record)

    def _index_network_set(self, record: NetworkSetRecord) -> None:
        ns = record.namespace
        profile_labels = self._profile_labels((namespace_profile_name(ns),)) if ns else []
        labels = effective_labels(record.labels, profile_labels, ns, None)
        self._ipsets.update_item(record.item_id, labels, MemberSource(record.nets))

    # ---------------------------------------------------------------- policies

    def _on_policy(self, u: ResourceUpdate) -> None:
        pid = policy_id_for(u.kind, u.namespace, u.name)
        record = None
        if u.resource is not None:
            doc = u.doc
            if u.kind == "KubernetesNetworkPolicy":
                try:
                    doc = k8s_policy_to_calico(u.resource).to_dict()
                except (ValueError, ValidationError) as exc:
                    log.warning("Ignoring Kubernetes NetworkPolicy %s/%s that does not convert "
                                "(treated as deleted): %s", u.namespace, u.name, exc)
                    self._resolver.update_policy(pid, None)
                    return
            spec = doc.get("spec") or {}
            if spec.get("doNotTrack") or spec.get("preDNAT"):
                # Calico applies these only to host endpoints, which this graph does not
                # program; they never select a workload endpoint.
                log.debug("Policy %s is doNotTrack/preDNAT: not applied to workloads", pid)
            else:
                record = policy_record(pid, doc)
        self._resolver.update_policy(pid, record)

    # ---------------------------------------------------------------- pools, config

    def _on_pool(self, u: ResourceUpdate) -> None:
        if u.doc is None:
            self._seq.on_pool_remove(u.name)
            return
        pool = pool_record(u.name, u.doc)
        self._seq.on_pool_update(IPAMPoolUpdate(pool.name, pool.cidr, pool.nat_outgoing, pool.disabled))

    def _on_felix_config(self, u: ResourceUpdate) -> None:
        # The stored spec, not the defaulted one: only what an operator set overrides
        # lower-precedence sources.
        self._config.on_update(u.name, (u.doc.get("spec") or {}) if u.doc is not None else None)
