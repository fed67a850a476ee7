"""Rule scanning: selector assembly exactly as Calico, ports, protocols, provenance."""
from __future__ import annotations

import pytest

from felixpy.calc.messages import RuleOrigin
from felixpy.calc.rule_scanner import (SET_TYPE_IP_PORT, SET_TYPE_NET, parse_rule, parse_rules,
                                       policy_selector_text)
from libcalico_py.selector import parse
from tests.unit.felixpy.calc.states import port_set, sel_set


def scan(rule, namespace=""):
    parsed, sets = parse_rule(rule, namespace)
    return parsed, {s.set_id: s for s in sets}


@pytest.mark.parametrize("entity, namespace, expected", [
    # GNP: the selector as written.
    ({"selector": "app == 'db'"}, "", "app == 'db'"),
    # NP: limited to the policy's namespace.
    ({"selector": "app == 'db'"}, "prod", "(projectcalico.org/namespace == 'prod') && (app == 'db')"),
    # namespaceSelector replaces the namespace limit, with pcns.-prefixed labels.
    ({"selector": "app == 'db'", "namespaceSelector": "team == 'a'"}, "prod",
     "(pcns.team == 'a') && (app == 'db')"),
    ({"namespaceSelector": "all()"}, "prod", "has(projectcalico.org/namespace)"),
    ({"namespaceSelector": "global()"}, "", "!has(projectcalico.org/namespace)"),
    # serviceAccounts: names -> serviceaccount label, selector -> pcsa.-prefixed, AND-ed.
    ({"serviceAccounts": {"names": ["b", "a"]}}, "",
     "projectcalico.org/serviceaccount in {'a', 'b'}"),
    ({"serviceAccounts": {"selector": "role == 'x'", "names": ["a"]}, "selector": "app == 'y'"}, "prod",
     "(projectcalico.org/namespace == 'prod') && (((pcsa.role == 'x') && "
     "(projectcalico.org/serviceaccount in {'a'})) && (app == 'y'))"),
])
def test_source_selector_is_combined_as_calico_does(entity, namespace, expected):
    parsed, sets = scan({"action": "Allow", "source": entity}, namespace)
    assert parsed.src_ipset_ids == (sel_set(expected),)
    assert sets[sel_set(expected)].set_type == SET_TYPE_NET
    assert str(sets[sel_set(expected)].selector) == str(parse(expected))


def test_not_selector_is_absorbed_by_a_positive_selector():
    parsed, _ = scan({"action": "Deny", "destination": {"selector": "a == 'x'", "notSelector": "b == 'y'"}})
    assert parsed.dst_ipset_ids == (sel_set("(a == 'x') && (!(b == 'y'))"),)
    assert parsed.not_dst_ipset_ids == ()


def test_not_selector_alone_in_a_global_policy_is_a_negative_set():
    parsed, _ = scan({"action": "Deny", "source": {"notSelector": "b == 'y'"}})
    assert parsed.src_ipset_ids == ()
    assert parsed.not_src_ipset_ids == (sel_set("b == 'y'"),)


def test_not_selector_in_a_namespaced_policy_is_scoped_to_the_namespace():
    parsed, _ = scan({"action": "Deny", "source": {"notSelector": "b == 'y'"}}, "prod")
    assert parsed.src_ipset_ids == (
        sel_set("(projectcalico.org/namespace == 'prod') && (!(b == 'y'))"),)
    assert parsed.not_src_ipset_ids == ()


def test_nets_only_rule_in_a_namespaced_policy_has_no_selector():
    parsed, sets = scan({"action": "Allow", "source": {"nets": ["10.1.0.0/16"], "notNets": ["10.1.2.0/24"]}},
                        "prod")
    assert sets == {}
    assert parsed.src_nets == ("10.1.0.0/16",) and parsed.not_src_nets == ("10.1.2.0/24",)


def test_ports_are_strings_and_named_ports_become_ip_port_sets():
    parsed, sets = scan({"action": "Allow", "protocol": "UDP",
                         "destination": {"selector": "app == 'dns'", "ports": [53, "1000:2000", "dns"],
                                         "notPorts": ["metrics"]}})
    assert parsed.protocol == "udp"
    assert parsed.dst_ports == ("53", "1000:2000")
    named = port_set("app == 'dns'", "udp", "dns")
    not_named = port_set("app == 'dns'", "udp", "metrics")
    assert parsed.dst_named_port_ipset_ids == (named,)
    assert parsed.not_dst_named_port_ipset_ids == (not_named,)
    # numeric ports present: the selector set is kept as well
    assert parsed.dst_ipset_ids == (sel_set("app == 'dns'"),)
    assert sets[named].set_type == SET_TYPE_IP_PORT
    assert (sets[named].named_port, sets[named].protocol) == ("dns", "udp")


def test_only_named_ports_drop_the_selector_set():
    parsed, sets = scan({"action": "Allow", "protocol": "TCP",
                         "destination": {"selector": "app == 'web'", "ports": ["http"]}})
    assert parsed.dst_ipset_ids == ()
    assert set(sets) == {port_set("app == 'web'", "tcp", "http")}


def test_named_port_without_protocol_is_tcp_and_without_selector_uses_all():
    parsed, _ = scan({"action": "Allow", "destination": {"ports": ["http"]}})
    assert parsed.dst_named_port_ipset_ids == (port_set("all()", "tcp", "http"),)


def test_protocol_icmp_and_numbers():
    parsed, _ = scan({"action": "Allow", "protocol": "ICMP", "icmp": {"type": 8, "code": 0},
                      "notICMP": {"type": 3}, "ipVersion": 4})
    assert (parsed.protocol, parsed.icmp_type, parsed.icmp_code) == ("icmp", 8, 0)
    assert (parsed.not_icmp_type, parsed.not_icmp_code) == (3, None)
    assert parsed.ip_version == 4
    parsed, _ = scan({"action": "Deny", "protocol": 132, "notProtocol": "SCTP"})
    assert (parsed.protocol, parsed.not_protocol) == ("132", "sctp")


@pytest.mark.parametrize("action", ["Allow", "Deny", "Pass", "Log"])
def test_actions_are_lower_case(action):
    assert scan({"action": action})[0].action == action.lower()


def test_every_rule_carries_its_origin():
    rules, _ = parse_rules([{"action": "Allow"}, {"action": "Deny"}], "prod", "policy", "default",
                           "np", "web", "egress")
    assert [r.origin for r in rules] == [
        RuleOrigin("policy", "default", "np", "prod", "web", "egress", 0),
        RuleOrigin("policy", "default", "np", "prod", "web", "egress", 1),
    ]


def test_policy_selector_scoping():
    sel = parse(policy_selector_text({"selector": "app == 'x'"}, "prod"))
    assert sel.evaluate({"app": "x", "projectcalico.org/namespace": "prod"})
    assert not sel.evaluate({"app": "x", "projectcalico.org/namespace": "dev"})
    sel = parse(policy_selector_text({"selector": "app == 'x'", "namespaceSelector": "team == 'a'",
                                      "serviceAccountSelector": "role == 'r'"}, ""))
    assert sel.evaluate({"app": "x", "pcns.team": "a", "pcsa.role": "r"})
    assert not sel.evaluate({"app": "x", "pcns.team": "a"})
    assert parse(policy_selector_text({}, "")).evaluate({})


def test_service_matches_become_empty_calico_named_sets():
    from libcalico_py.selector.selector import make_unique_id
    parsed, sets = scan({"action": "Allow", "destination": {"services": {"name": "api"}}}, "prod")
    svc = make_unique_id("svc", "prod/api")
    assert parsed.dst_named_port_ipset_ids == (svc,)
    assert sets[svc].set_type == SET_TYPE_IP_PORT
    parsed, sets = scan({"action": "Allow", "source": {"services": {"name": "api", "namespace": "x"}}})
    nop = make_unique_id("svcnoport", "x/api")
    assert parsed.src_ipset_ids == (nop,)
    assert sets[nop].set_type == SET_TYPE_NET
