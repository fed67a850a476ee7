"""Kubernetes NetworkPolicy -> Calico NetworkPolicy, case by case as Calico converts."""
import pytest

from libcalico_py import model
from libcalico_py.convert.k8s_policy import k8s_policy_to_calico, simplify_ports

ORCH = "projectcalico.org/orchestrator == 'k8s'"


def _knp(spec, name="pol", namespace="ns1"):
    return model.load({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                       "metadata": {"name": name, "namespace": namespace,
                                    "resourceVersion": "7", "uid": "u-1",
                                    "labels": {"k8s": "label"}},
                       "spec": spec})


def _allow(source=None, destination=None, protocol=None):
    rule = {"action": "Allow"}
    if protocol:
        rule["protocol"] = protocol
    rule["source"] = source or {}
    rule["destination"] = destination or {}
    return rule


CASES = [
    ("empty-pod-selector-default-deny", {"podSelector": {}},
     {"selector": ORCH, "types": ["Ingress"]}),
    ("match-labels-sorted",
     {"podSelector": {"matchLabels": {"zeta": "1", "app": "web", "m": "x"}}},
     {"selector": f"{ORCH} && app == 'web' && m == 'x' && zeta == '1'", "types": ["Ingress"]}),
    ("match-expressions-all-operators",
     {"podSelector": {"matchExpressions": [
         {"key": "env", "operator": "In", "values": ["prod", "staging"]},
         {"key": "tier", "operator": "NotIn", "values": ["db"]},
         {"key": "team", "operator": "Exists"},
         {"key": "legacy", "operator": "DoesNotExist"}]}},
     {"selector": f"{ORCH} && env in {{ 'prod', 'staging' }} && tier not in {{ 'db' }} && "
                  "has(team) && ! has(legacy)", "types": ["Ingress"]}),
    ("labels-before-expressions",
     {"podSelector": {"matchLabels": {"app": "a"},
                      "matchExpressions": [{"key": "b", "operator": "Exists"}]}},
     {"selector": f"{ORCH} && app == 'a' && has(b)", "types": ["Ingress"]}),
    ("empty-ingress-rule-allows-all", {"podSelector": {}, "ingress": [{}]},
     {"selector": ORCH, "types": ["Ingress"], "ingress": [_allow()]}),
    ("pod-selector-peer",
     {"podSelector": {}, "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "fe"}}}]}]},
     {"selector": ORCH, "types": ["Ingress"],
      "ingress": [_allow(source={"selector": f"{ORCH} && role == 'fe'"})]}),
    ("empty-namespace-selector-is-all",
     {"podSelector": {}, "ingress": [{"from": [{"namespaceSelector": {}}]}]},
     {"selector": ORCH, "types": ["Ingress"],
      "ingress": [_allow(source={"selector": ORCH, "namespaceSelector": "all()"})]}),
    ("namespace-and-pod-selector-in-one-peer",
     {"podSelector": {}, "ingress": [{"from": [{
         "namespaceSelector": {"matchLabels": {"project": "p1"}},
         "podSelector": {"matchExpressions": [{"key": "r", "operator": "In", "values": ["x"]}]}}]}]},
     {"selector": ORCH, "types": ["Ingress"],
      "ingress": [_allow(source={"selector": f"{ORCH} && r in {{ 'x' }}",
                                 "namespaceSelector": "project == 'p1'"})]}),
    ("ipblock-with-except",
     {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {
         "cidr": "172.17.0.0/16", "except": ["172.17.1.0/24", "172.17.2.0/24"]}}]}]},
     {"selector": ORCH, "types": ["Ingress"],
      "ingress": [_allow(source={"nets": ["172.17.0.0/16"],
                                 "notNets": ["172.17.1.0/24", "172.17.2.0/24"]})]}),
    ("ipblock-host-bits-masked",
     {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "10.1.2.3/8"}}]}]},
     {"selector": ORCH, "types": ["Ingress"], "ingress": [_allow(source={"nets": ["10.0.0.0/8"]})]}),
    ("port-without-protocol-is-tcp",
     {"podSelector": {}, "ingress": [{"ports": [{"port": 80}]}]},
     {"selector": ORCH, "types": ["Ingress"],
      "ingress": [_allow(destination={"ports": [80]}, protocol="TCP")]}),
    ("protocol-without-port-is-all-ports",
     {"podSelector": {}, "ingress": [{"ports": [{"protocol": "UDP"}]}]},
     {"selector": ORCH, "types": ["Ingress"], "ingress": [_allow(protocol="UDP")]}),
    ("end-port-range",
     {"podSelector": {}, "egress": [{"ports": [{"port": 32000, "endPort": 32768}]}],
      "policyTypes": ["Egress"]},
     {"selector": ORCH, "types": ["Egress"],
      "egress": [_allow(destination={"ports": ["32000:32768"]}, protocol="TCP")]}),
    ("named-port",
     {"podSelector": {}, "ingress": [{"ports": [{"port": "http"}]}]},
     {"selector": ORCH, "types": ["Ingress"],
      "ingress": [_allow(destination={"ports": ["http"]}, protocol="TCP")]}),
    ("ports-merged-per-protocol-and-coalesced",
     {"podSelector": {}, "ingress": [{"ports": [
         {"port": 81}, {"protocol": "UDP", "port": 53}, {"port": 80}, {"port": 82},
         {"port": 9090}, {"port": "metrics"}]}]},
     {"selector": ORCH, "types": ["Ingress"], "ingress": [
         _allow(destination={"ports": ["metrics", "80:82", 9090]}, protocol="TCP"),
         _allow(destination={"ports": [53]}, protocol="UDP")]}),
    ("protocols-sorted-one-rule-per-protocol-and-peer",
     {"podSelector": {}, "ingress": [{
         "from": [{"podSelector": {}}, {"ipBlock": {"cidr": "10.0.0.0/8"}}],
         "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "SCTP", "port": 9}]}]},
     {"selector": ORCH, "types": ["Ingress"], "ingress": [
         _allow(source={"selector": ORCH}, destination={"ports": [9]}, protocol="SCTP"),
         _allow(source={"nets": ["10.0.0.0/8"]}, destination={"ports": [9]}, protocol="SCTP"),
         _allow(source={"selector": ORCH}, destination={"ports": [53]}, protocol="UDP"),
         _allow(source={"nets": ["10.0.0.0/8"]}, destination={"ports": [53]}, protocol="UDP")]}),
    ("all-ports-entry-wins-over-numbers",
     {"podSelector": {}, "ingress": [{"ports": [{"port": 80}, {"protocol": "TCP"}, {"port": 81}]}]},
     {"selector": ORCH, "types": ["Ingress"], "ingress": [_allow(protocol="TCP")]}),
    ("egress-peer-goes-to-destination",
     {"podSelector": {"matchLabels": {"app": "api"}}, "policyTypes": ["Egress"],
      "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "db"}}}],
                  "ports": [{"port": 5432}]}]},
     {"selector": f"{ORCH} && app == 'api'", "types": ["Egress"],
      "egress": [_allow(destination={"ports": [5432], "selector": f"{ORCH} && app == 'db'"},
                        protocol="TCP")]}),
    ("no-policy-types-means-ingress-only-even-with-egress",
     {"podSelector": {}, "egress": [{}]},
     {"selector": ORCH, "types": ["Ingress"], "egress": [_allow()]}),
    ("both-policy-types-in-calico-order",
     {"podSelector": {}, "policyTypes": ["Egress", "Ingress"]},
     {"selector": ORCH, "types": ["Ingress", "Egress"]}),
    ("several-rules-concatenate",
     {"podSelector": {}, "ingress": [{"ports": [{"port": 1}]}, {"ports": [{"port": 2}]}]},
     {"selector": ORCH, "types": ["Ingress"], "ingress": [
         _allow(destination={"ports": [1]}, protocol="TCP"),
         _allow(destination={"ports": [2]}, protocol="TCP")]}),
]


def test_table_size():
    assert len(CASES) >= 15


@pytest.mark.parametrize("spec,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_conversion(spec, expected):
    out = k8s_policy_to_calico(_knp(spec)).to_dict()
    assert out["spec"] == {"tier": "default", "order": 1000, **expected}


def test_metadata_name_namespace_only():
    res = k8s_policy_to_calico(_knp({"podSelector": {}}, name="allow-web", namespace="prod"))
    assert res.kind == "NetworkPolicy"
    assert res.metadata.name == "knp.default.allow-web"
    assert res.metadata.namespace == "prod"
    assert res.metadata.resource_version is None and res.metadata.uid is None
    assert res.metadata.labels == {"projectcalico.org/tier": "default"}
    assert res.spec.order == 1000.0 and res.spec.tier == "default"


def test_result_round_trips():
    res = k8s_policy_to_calico(_knp(CASES[-6][1]))
    assert model.load(res.to_dict()).to_dict() == res.to_dict()


def test_rejects_other_kinds():
    with pytest.raises(ValueError):
        k8s_policy_to_calico(model.make("IPPool", "p", spec={"cidr": "10.0.0.0/16"}))


@pytest.mark.parametrize("ports,expected", [
    ([80, 81, 82, 9090, "foo"], ["foo", "80:82", 9090]),
    ([80, "http"], [80, "http"]),
    (["1:3", 4, 2], ["1:4"]),
    ([443, 80], [80, 443]),
    ([80], [80]),
    (None, None),
    ([80, 80], [80]),
])
def test_simplify_ports(ports, expected):
    assert simplify_ports(ports) == expected
