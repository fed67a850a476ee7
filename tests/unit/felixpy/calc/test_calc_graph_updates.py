"""Incremental behaviour of the graph: the exact messages a single change produces,
asymmetric deletions (referent gone while the referrer lives), validation, pools, config."""
from __future__ import annotations

import copy
import logging

from felixpy.calc.graph import CalcGraph
from felixpy.calc.messages import (ActivePolicyRemove, ActiveProfileUpdate, ConfigUpdate,
                                   IPAMPoolRemove, IPAMPoolUpdate, IPSetDeltaUpdate, PolicyID,
                                   WorkloadEndpointID, WorkloadEndpointRemove,
                                   WorkloadEndpointUpdate)
from felixpy.calc.snapshot import delete_for, key_for, update_for
from libcalico_py.datastore.syncer import Update
from tests.unit.felixpy.calc import states as st
from tests.unit.felixpy.calc.enforcing_dataplane import EnforcingDataplane


class Harness:
    def __init__(self, *docs):
        self.graph = CalcGraph(hostname=st.HOST)
        self.dataplane = EnforcingDataplane()
        self.rev = 0
        self.put(*docs)
        self.graph.on_status("in-sync")
        self.flush()

    def put(self, *docs):
        for doc in docs:
            self.rev += 1
            self.graph.on_updates([update_for(doc, self.rev)])

    def delete(self, *docs):
        for doc in docs:
            self.rev += 1
            self.graph.on_updates([delete_for(doc, revision=self.rev)])

    def flush(self):
        msgs = self.graph.flush()
        self.dataplane.apply(msgs)
        return msgs


def relabel(doc, **labels):
    out = copy.deepcopy(doc)
    out["metadata"]["labels"] = labels
    return out


REMOTE_NS1 = st.wep("other", "ns1", "node2", ["10.0.0.9/32"], {"app": "other"})


def test_label_change_moves_a_remote_endpoint_in_and_out_with_exactly_one_delta():
    h = Harness(st.PROF_NS1, st.EP1, st.EP2, st.NP_ALLOW_DB, REMOTE_NS1)
    assert h.dataplane.ipsets[st.SET_NS1_DB] == {"10.0.0.2/32"}

    h.put(relabel(REMOTE_NS1, app="db"))
    assert h.flush() == [IPSetDeltaUpdate(st.SET_NS1_DB, frozenset({"10.0.0.9/32"}), frozenset())]

    h.put(relabel(REMOTE_NS1, app="db", extra="x"))   # still matches: nothing to say
    assert h.flush() == []

    h.put(relabel(REMOTE_NS1, app="other"))
    assert h.flush() == [IPSetDeltaUpdate(st.SET_NS1_DB, frozenset(), frozenset({"10.0.0.9/32"}))]


def test_local_endpoint_leaving_the_only_selected_policy_deactivates_it_in_order():
    h = Harness(st.PROF_NS1, st.EP1, st.EP2, st.NP_ALLOW_DB)
    h.put(relabel(st.EP1, app="other"))
    msgs = h.flush()
    kinds = [type(m).__name__ for m in msgs]
    assert kinds == ["WorkloadEndpointUpdate", "ActivePolicyRemove", "IPSetRemove", "IPSetRemove"]
    assert msgs[0].endpoint.tiers == ()
    assert msgs[1] == ActivePolicyRemove(PolicyID("np", "ns1", "allow-db"))
    assert h.dataplane.ipsets == {}


def test_namespace_profile_deleted_while_endpoints_live():
    h = Harness(st.PROF_NS1, st.PROF_NS2, st.EP1, st.EP3, st.EP4, st.GNP_WEB_FROM_DEV)
    assert h.dataplane.ipsets[st.SET_DEV_NS] == {"10.0.1.3/32", "10.0.1.4/32", "fd00::4/128"}

    h.delete(st.PROF_NS2)
    msgs = h.flush()
    deltas = [m for m in msgs if isinstance(m, IPSetDeltaUpdate)]
    assert deltas == [IPSetDeltaUpdate(st.SET_DEV_NS, frozenset(),
                                       frozenset({"10.0.1.3/32", "10.0.1.4/32", "fd00::4/128"}))]
    # web4 still names kns.ns2: it is kept active with deny-all rules (fail closed).
    (profile,) = [m for m in msgs if isinstance(m, ActiveProfileUpdate)]
    assert profile.profile_id == "kns.ns2"
    assert [r.action for r in profile.profile.inbound_rules + profile.profile.outbound_rules] == ["deny", "deny"]
    assert st.ep_name("web4") in {e.name for e in h.dataplane.endpoints}

    h.put(st.PROF_NS2)
    msgs = h.flush()
    assert IPSetDeltaUpdate(st.SET_DEV_NS, frozenset({"10.0.1.3/32", "10.0.1.4/32", "fd00::4/128"}),
                            frozenset()) in msgs
    assert h.dataplane.profiles["kns.ns2"].inbound_rules[0].action == "allow"


def test_policy_deleted_while_endpoint_lives():
    h = Harness(st.PROF_NS1, st.EP1, st.EP2, st.NP_ALLOW_DB, st.GNP_DENY_OUT)
    h.delete(st.NP_ALLOW_DB)
    msgs = h.flush()
    assert [type(m).__name__ for m in msgs] == [
        "WorkloadEndpointUpdate", "ActivePolicyRemove", "IPSetRemove", "IPSetRemove"]
    assert h.dataplane.view()["policies"] == {"gnp/deny-out"}


def test_endpoint_moving_to_another_node_leaves_the_dataplane_but_stays_in_sets():
    h = Harness(st.PROF_NS1, st.EP1, st.EP2, st.NP_ALLOW_DB)
    moved = copy.deepcopy(st.EP2)
    moved["spec"]["node"] = "node2"
    h.put(moved)
    msgs = h.flush()
    assert msgs == [WorkloadEndpointRemove(WorkloadEndpointID("ns1", st.ep_name("db2")))]
    assert h.dataplane.ipsets[st.SET_NS1_DB] == {"10.0.0.2/32"}


def test_endpoint_without_addresses_is_ignored():
    bare = copy.deepcopy(st.EP1)
    bare["spec"]["ipNetworks"] = []
    h = Harness(st.PROF_NS1, bare)
    assert h.dataplane.endpoints == {}
    h.put(st.EP1)
    h.flush()
    assert len(h.dataplane.endpoints) == 1
    h.put(bare)
    assert [type(m).__name__ for m in h.flush()] == ["WorkloadEndpointRemove", "ActiveProfileRemove"]


def test_invalid_value_is_treated_as_a_deletion(caplog):
    h = Harness(st.PROF_NS1, st.EP1)
    bad = copy.deepcopy(st.EP1)
    bad["spec"]["ipNetworks"] = ["not-an-ip"]
    caplog.set_level(logging.WARNING, logger="felixpy.calc.validation_filter")
    h.put(bad)
    assert [type(m).__name__ for m in h.flush()] == ["WorkloadEndpointRemove", "ActiveProfileRemove"]
    assert h.graph.rejected_updates == 1
    assert "spec.ipNetworks" in caplog.text and "treated as deleted" in caplog.text

    h.graph.on_updates([Update(key_for(st.EP1), b"{not json", 99)])
    assert h.flush() == []
    assert h.graph.rejected_updates == 2
    h.put(st.EP1)
    assert [type(m).__name__ for m in h.flush()] == ["ActiveProfileUpdate", "WorkloadEndpointUpdate"]


def test_shared_member_stays_until_its_last_contributor_goes():
    a = st.wep("a", "ns1", "node2", ["10.0.0.50/32"], {"app": "db"})
    b = st.wep("b", "ns1", "node3", ["10.0.0.50/32"], {"app": "db"})
    h = Harness(st.PROF_NS1, st.EP1, st.NP_ALLOW_DB, a, b)
    assert h.dataplane.ipsets[st.SET_NS1_DB] == {"10.0.0.50/32"}
    h.delete(a)
    assert h.flush() == []
    h.delete(b)
    assert h.flush() == [IPSetDeltaUpdate(st.SET_NS1_DB, frozenset(), frozenset({"10.0.0.50/32"}))]


def test_named_port_number_change_is_one_delta():
    h = Harness(st.PROF_NS1, st.EP1, st.EP2, st.NP_ALLOW_DB)
    changed = copy.deepcopy(st.EP2)
    changed["spec"]["ports"][0]["port"] = 5433
    h.put(changed)
    assert h.flush() == [IPSetDeltaUpdate(st.SET_ALL_HTTP, frozenset({"10.0.0.2,tcp:5433"}),
                                          frozenset({"10.0.0.2,tcp:5432"}))]


def test_order_change_reorders_endpoint_without_resending_rules():
    h = Harness(st.PROF_NS1, st.EP2, st.SAME_ORDER_A, st.SAME_ORDER_B)
    later = copy.deepcopy(st.SAME_ORDER_A)
    later["spec"]["order"] = 60
    h.put(later)
    msgs = h.flush()
    assert [type(m).__name__ for m in msgs] == ["WorkloadEndpointUpdate"]
    assert [str(p) for p in msgs[0].endpoint.tiers[0].ingress_policies] == ["np/ns1/b-pol", "np/ns1/a-pol"]


def test_profile_rule_change_resends_only_the_profile():
    h = Harness(st.PROF_NS1, st.EP1)
    h.put(st.ns_profile("ns1", {"env": "prod"}, ingress=[{"action": "Deny"}]))
    msgs = h.flush()
    assert [type(m).__name__ for m in msgs] == ["ActiveProfileUpdate"]
    assert msgs[0].profile.inbound_rules[0].action == "deny"


def test_kubernetes_network_policy_is_converted():
    knp = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
           "metadata": {"name": "allow-fe", "namespace": "ns1"},
           "spec": {"podSelector": {"matchLabels": {"app": "web"}},
                    "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "db"}}}],
                                 "ports": [{"port": 80}]}]}}
    h = Harness(st.PROF_NS1, st.EP1, st.EP2, knp)
    pid = PolicyID("knp", "ns1", "allow-fe")
    assert set(h.dataplane.policies) == {pid}
    rules = h.dataplane.policies[pid]
    (rule,) = rules.inbound_rules
    assert (rule.action, rule.protocol, rule.dst_ports) == ("allow", "tcp", ("80",))
    (set_id,) = rule.src_ipset_ids
    assert h.dataplane.ipsets[set_id] == {"10.0.0.2/32"}
    assert rule.origin.kind == "knp"
    ep = h.dataplane.endpoints[WorkloadEndpointID("ns1", st.ep_name("web1"))]
    assert ep.tiers[0].ingress_policies == (pid,) and ep.tiers[0].egress_policies == ()


def test_ip_pools_and_felix_configuration():
    pool = {"apiVersion": st.API, "kind": "IPPool", "metadata": {"name": "p1"},
            "spec": {"cidr": "10.65.0.0/16", "natOutgoing": True}}
    default = {"apiVersion": st.API, "kind": "FelixConfiguration", "metadata": {"name": "default"},
               "spec": {"iptablesRefreshInterval": "60s", "logSeverityScreen": "Info"}}
    mine = {"apiVersion": st.API, "kind": "FelixConfiguration", "metadata": {"name": f"node.{st.HOST}"},
            "spec": {"logSeverityScreen": "Debug"}}
    other = {"apiVersion": st.API, "kind": "FelixConfiguration", "metadata": {"name": "node.node2"},
             "spec": {"logSeverityScreen": "Warning"}}
    graph = CalcGraph(hostname=st.HOST)
    graph.on_updates([update_for(d) for d in (pool, default, mine, other)])
    graph.on_status("in-sync")
    msgs = graph.flush()
    assert ConfigUpdate({"iptablesRefreshInterval": "60s", "logSeverityScreen": "Debug"}) in msgs
    assert IPAMPoolUpdate("p1", "10.65.0.0/16", True, False) in msgs

    graph.on_updates([delete_for(mine), delete_for(pool)])
    assert graph.flush() == [ConfigUpdate({"iptablesRefreshInterval": "60s", "logSeverityScreen": "Info"}),
                             IPAMPoolRemove("p1")]


def test_non_resource_and_unwatched_keys_are_ignored():
    graph = CalcGraph(hostname=st.HOST)
    graph.on_updates([Update("/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26", b"{}", 1),
                      update_for({"apiVersion": st.API, "kind": "BGPConfiguration",
                                  "metadata": {"name": "default"}, "spec": {}})])
    assert graph.flush() == []


def test_endpoint_messages_carry_addresses_and_interface():
    h = Harness(st.PROF_NS2, st.EP4)
    ep = h.dataplane.endpoints[WorkloadEndpointID("ns2", st.ep_name("web4"))]
    assert (ep.name, ep.ipv4_nets, ep.ipv6_nets) == ("caliweb4", ("10.0.1.4/32",), ("fd00::4/128",))
    assert ("projectcalico.org/namespace", "ns2") in ep.labels
    assert sum(isinstance(m, WorkloadEndpointUpdate) for m in h.dataplane.messages) == 1


def test_untracked_and_pre_dnat_policies_do_not_apply_to_workloads():
    untracked = st.gnp("raw", selector="all()", doNotTrack=True, applyOnForward=True, types=["Ingress"],
                       ingress=[{"action": "Allow"}])
    pre_dnat = st.gnp("pre", selector="all()", preDNAT=True, applyOnForward=True, types=["Ingress"],
                      ingress=[{"action": "Deny"}])
    h = Harness(st.PROF_NS1, st.EP1, untracked, pre_dnat, st.GNP_DENY_OUT)
    assert h.dataplane.view()["policies"] == {"gnp/deny-out"}


def test_resync_and_second_in_sync_do_not_repeat_in_sync():
    h = Harness(st.PROF_NS1, st.EP1)
    h.graph.on_status("resync")
    h.put(st.EP2)
    h.graph.on_status("in-sync")
    msgs = h.flush()
    assert [type(m).__name__ for m in msgs] == ["WorkloadEndpointUpdate"]
    assert h.dataplane.in_sync


def test_rule_naming_a_service_matches_no_endpoint():
    svc_pol = st.np("to-svc", "ns1", selector="all()", types=["Egress"],
                    egress=[{"action": "Allow", "destination": {"services": {"name": "api"}}}])
    h = Harness(st.PROF_NS1, st.EP1, st.EP2, svc_pol)
    (rule,) = h.dataplane.policies[PolicyID("np", "ns1", "to-svc")].outbound_rules
    (set_id,) = rule.dst_named_port_ipset_ids
    assert h.dataplane.ipsets[set_id] == set()
    assert h.dataplane.ipset_types[set_id] == "hash:ip,port"
