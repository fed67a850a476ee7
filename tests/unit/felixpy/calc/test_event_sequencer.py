"""The sequencer's ordering contract and its coalescing of set membership."""
from __future__ import annotations

from felixpy.calc.event_sequencer import EventSequencer
from felixpy.calc.messages import (ActivePolicyRemove, ActivePolicyUpdate, ActiveProfileRemove,
                                   ConfigUpdate, InSync, IPAMPoolRemove,
                                   IPAMPoolUpdate, IPSetDeltaUpdate, IPSetRemove, IPSetUpdate,
                                   PolicyID, PolicyRules, WorkloadEndpoint, WorkloadEndpointID,
                                   WorkloadEndpointRemove, WorkloadEndpointUpdate)

P1, P2 = PolicyID("gnp", "", "p1"), PolicyID("np", "ns", "p2")
E1, E2 = WorkloadEndpointID("ns", "e1"), WorkloadEndpointID("ns", "e2")


class Members:
    def __init__(self):
        self.sets: dict[str, set] = {}

    def __call__(self, set_id):
        return frozenset(self.sets.get(set_id, ()))


def make():
    members = Members()
    return EventSequencer(members), members


def names(msgs):
    return [type(m).__name__ for m in msgs]


def test_flush_order_is_sets_policies_profiles_endpoints_then_removals_reversed():
    seq, members = make()
    seq.on_ipset_added("s:a", "hash:net")
    seq.on_policy_active(P1, PolicyRules())
    seq.on_profile_active("kns.ns", PolicyRules())
    seq.on_endpoint_update(E1, WorkloadEndpoint("cali1"))
    seq.on_pool_update(IPAMPoolUpdate("pool", "10.0.0.0/16", True))
    seq.on_in_sync()
    first = seq.flush()
    assert names(first) == ["ConfigUpdate", "IPAMPoolUpdate", "IPSetUpdate", "ActivePolicyUpdate",
                            "ActiveProfileUpdate", "WorkloadEndpointUpdate", "InSync"]

    seq.on_endpoint_remove(E1)
    seq.on_profile_inactive("kns.ns")
    seq.on_policy_inactive(P1)
    seq.on_ipset_removed("s:a")
    seq.on_pool_remove("pool")
    seq.on_ipset_added("s:b", "hash:net")
    seq.on_policy_active(P2, PolicyRules())
    seq.on_endpoint_update(E2, WorkloadEndpoint("cali2"))
    assert seq.flush() == [
        IPSetUpdate("s:b", "hash:net", frozenset()),
        ActivePolicyUpdate(P2, PolicyRules()),
        WorkloadEndpointUpdate(E2, WorkloadEndpoint("cali2")),
        WorkloadEndpointRemove(E1),
        ActiveProfileRemove("kns.ns"),
        ActivePolicyRemove(P1),
        IPSetRemove("s:a"),
        IPAMPoolRemove("pool"),
    ]


def test_new_set_is_sent_whole_then_only_deltas():
    seq, members = make()
    seq.on_ipset_added("s:a", "hash:net")
    members.sets["s:a"] = {"10.0.0.1/32"}
    seq.on_ipset_member_added("s:a", "10.0.0.1/32")
    assert seq.flush() == [IPSetUpdate("s:a", "hash:net", frozenset({"10.0.0.1/32"}))]

    seq.on_ipset_member_added("s:a", "10.0.0.2/32")
    seq.on_ipset_member_removed("s:a", "10.0.0.1/32")
    assert seq.flush() == [IPSetDeltaUpdate("s:a", frozenset({"10.0.0.2/32"}), frozenset({"10.0.0.1/32"}))]


def test_member_flapping_within_one_flush_cancels_out():
    seq, members = make()
    seq.on_ipset_added("s:a", "hash:net")
    seq.flush()
    seq.on_ipset_member_added("s:a", "m")
    seq.on_ipset_member_removed("s:a", "m")
    assert seq.flush() == []


def test_set_added_and_removed_within_one_flush_is_never_sent():
    seq, members = make()
    seq.on_ipset_added("s:a", "hash:net")
    seq.on_ipset_removed("s:a")
    assert seq.flush() == []


def test_set_removed_and_re_added_within_one_flush_is_resent_whole():
    seq, members = make()
    seq.on_ipset_added("s:a", "hash:net")
    seq.flush()
    seq.on_ipset_member_removed("s:a", "x")
    seq.on_ipset_removed("s:a")
    seq.on_ipset_added("s:a", "hash:net")
    members.sets["s:a"] = {"y"}
    assert seq.flush() == [IPSetUpdate("s:a", "hash:net", frozenset({"y"}))]


def test_identical_updates_and_unknown_removals_are_dropped():
    seq, _ = make()
    seq.on_policy_active(P1, PolicyRules())
    seq.flush()
    seq.on_policy_active(P1, PolicyRules())
    seq.on_endpoint_remove(E1)
    seq.on_profile_inactive("never-sent")
    seq.on_pool_remove("never-sent")
    assert seq.flush() == []


def test_config_waits_for_in_sync_and_is_resent_only_on_change():
    seq, _ = make()
    seq.on_config({"a": "1"})
    assert seq.flush() == []
    seq.on_in_sync()
    assert seq.flush() == [ConfigUpdate({"a": "1"}), InSync()]
    seq.on_config({"a": "1"})
    assert seq.flush() == []
    seq.on_config({"a": "2"})
    assert seq.flush() == [ConfigUpdate({"a": "2"})]
