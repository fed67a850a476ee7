"""Cross-check: the evaluator against what felixpy programs.

For random clusters (endpoints, network sets, profiles, Calico and Kubernetes policies)
and random flows, the same resources go (1) into `libcalico_py.policy.evaluator` and
(2) through felixpy's whole pipeline: `CalcGraph` (as datastore updates) -> the
dataplane messages -> `RuleRenderer` chains -> the chain interpreter of
tests/unit/felixpy/rules/chain_evaluator.py, with IP set membership taken from the
graph's IP set messages. Per direction (egress chain of the source workload, ingress
chain of the destination workload) both must give the same verdict.

The interpreter compares protocols as text, so rules and flows use protocol names (and
the nameless 47 and 4), never numbers of named protocols; numbers are covered by the
table tests.
"""
from __future__ import annotations

import ipaddress
import json

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from felixpy.calc.graph import CalcGraph
from felixpy.rules.defs import RulesConfig
from felixpy.rules.names import ipset_name
from felixpy.rules.renderer import RuleRenderer
from libcalico_py.datastore.keys import resource_key
from libcalico_py.datastore.syncer import Update
from libcalico_py.errors import ValidationError
from libcalico_py.model import load
from libcalico_py.policy.evaluator import Cluster, Flow, evaluate
from tests.unit.felixpy.calc.enforcing_dataplane import EnforcingDataplane
from tests.unit.felixpy.rules.chain_evaluator import Packet, run_tree
from tests.unit.libcalico_py.policy.world import gnp, knp, np, ns_profile, profile, wep

HOST = "node1"
NAMESPACES = ("a", "b")
EP_IPS = ("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.1.4")
OTHER_IPS = ("192.168.1.5", "10.0.9.9", "8.8.8.8")
SELECTORS = ("app == 'web'", "app == 'db'", "has(app)", "!has(app)", "role == 'partner'",
             "role in {'corp', 'corp2'}", "all()")
NS_SELECTORS = ("env == 'a-env'", "all()", "global()", "has(env)")
NETS = ("10.0.0.0/24", "10.0.0.2/32", "10.0.0.0/8", "192.168.1.0/24", "8.8.8.0/24")
PORTS = (53, 80, 81, 8080, 4789, 1000)
PORT_NAMES = ("http", "alt", "dns")
ENDPOINT_PORTS = (("http", "TCP", 80), ("alt", "TCP", 8080), ("dns", "UDP", 53), ("http", "UDP", 81))


def _maybe(draw, strategy):
    return draw(st.one_of(st.none(), strategy))


@st.composite
def entity_rules(draw, protocol):
    e: dict = {}
    if draw(st.integers(0, 2)) == 0:
        e["selector"] = draw(st.sampled_from(SELECTORS))
    if draw(st.integers(0, 3)) == 0:
        e["notSelector"] = draw(st.sampled_from(SELECTORS))
    if draw(st.integers(0, 3)) == 0:
        e["namespaceSelector"] = draw(st.sampled_from(NS_SELECTORS))
    if draw(st.integers(0, 3)) == 0:
        e["nets"] = draw(st.lists(st.sampled_from(NETS), min_size=1, max_size=2, unique=True))
    if draw(st.integers(0, 3)) == 0:
        e["notNets"] = draw(st.lists(st.sampled_from(NETS), min_size=1, max_size=2, unique=True))
    if draw(st.integers(0, 5)) == 0:
        e["serviceAccounts"] = {"names": [draw(st.sampled_from(("sa1", "sa2")))]}
    numeric_ok = protocol in ("TCP", "UDP")
    port = st.one_of(st.sampled_from(PORTS), st.sampled_from(("50:90", "80:81", "1000:9000")),
                     st.sampled_from(PORT_NAMES)) if numeric_ok else st.sampled_from(PORT_NAMES)
    if protocol in (None, "TCP", "UDP"):
        if draw(st.integers(0, 2)) == 0:
            e["ports"] = draw(st.lists(port, min_size=1, max_size=3, unique=True))
        if draw(st.integers(0, 3)) == 0:
            e["notPorts"] = draw(st.lists(port, min_size=1, max_size=2, unique=True))
    return e


@st.composite
def rules(draw):
    protocol = draw(st.sampled_from((None, None, "TCP", "UDP", "ICMP", 47)))
    rule: dict = {"action": draw(st.sampled_from(("Allow", "Allow", "Deny", "Pass", "Log")))}
    if protocol is not None:
        rule["protocol"] = protocol
    elif draw(st.integers(0, 4)) == 0:
        rule["notProtocol"] = draw(st.sampled_from(("TCP", "UDP", "ICMP")))
    if protocol == "ICMP":
        if draw(st.booleans()):
            icmp = {"type": draw(st.sampled_from((0, 8)))}
            if draw(st.booleans()):
                icmp["code"] = draw(st.sampled_from((0, 1)))
            rule["icmp"] = icmp
        elif draw(st.booleans()):
            rule["notICMP"] = {"type": 8}
    side = draw(st.sampled_from(("source", "destination", "both", "none", "none")))
    if side in ("source", "both"):
        rule["source"] = draw(entity_rules(protocol))
    if side in ("destination", "both"):
        rule["destination"] = draw(entity_rules(protocol))
    return rule


@st.composite
def policies(draw, index):
    kind = draw(st.sampled_from(("np", "np", "gnp", "knp")))
    name = f"p{index}"
    if kind == "knp":
        return draw(k8s_policies(name))
    spec: dict = {"selector": draw(st.sampled_from(SELECTORS[:4] + ("", "", "all()")))}
    order = draw(st.sampled_from((None, 1, 2, 1000)))
    if order is not None:
        spec["order"] = order
    if draw(st.integers(0, 5)) == 0:
        spec["tier"] = "kube-admin"
    types = draw(st.sampled_from((None, ["Ingress"], ["Egress"], ["Ingress", "Egress"])))
    if types:
        spec["types"] = types
    spec["ingress"] = draw(st.lists(rules(), min_size=1, max_size=3))
    spec["egress"] = draw(st.lists(rules(), min_size=1, max_size=3))
    if kind == "gnp":
        if draw(st.integers(0, 4)) == 0:
            spec["namespaceSelector"] = "env == 'a-env'"
        return gnp(name, **spec)
    return np(name, draw(st.sampled_from(NAMESPACES)), **spec)


@st.composite
def k8s_peers(draw):
    choice = draw(st.sampled_from(("pod", "ns", "both", "ip")))
    labels = st.sampled_from(({"app": "web"}, {"app": "db"}, {}))
    if choice == "ip":
        block = {"cidr": "10.0.0.0/16"}
        if draw(st.booleans()):
            block["except"] = ["10.0.0.2/32"]
        return {"ipBlock": block}
    peer: dict = {}
    if choice in ("pod", "both"):
        peer["podSelector"] = {"matchLabels": draw(labels)}
    if choice in ("ns", "both"):
        peer["namespaceSelector"] = {"matchLabels": draw(st.sampled_from(({"env": "a-env"}, {})))}
    return peer


@st.composite
def k8s_policies(draw, name):
    k8s_port = st.fixed_dictionaries({"port": st.sampled_from((80, 53, "http", "dns"))},
                                     optional={"protocol": st.sampled_from(("TCP", "UDP"))})
    ranged = st.fixed_dictionaries({"port": st.just(50), "endPort": st.just(90)})

    def k8s_rule(peer_key):
        return st.fixed_dictionaries({}, optional={
            peer_key: st.lists(k8s_peers(), min_size=1, max_size=2),
            "ports": st.lists(st.one_of(k8s_port, ranged), min_size=1, max_size=2)})

    spec: dict = {"podSelector": {"matchLabels": draw(st.sampled_from(({"app": "web"}, {})))}}
    spec["ingress"] = draw(st.lists(k8s_rule("from"), max_size=2))
    spec["egress"] = draw(st.lists(k8s_rule("to"), max_size=2))
    types = draw(st.sampled_from((None, ["Ingress"], ["Egress"], ["Ingress", "Egress"])))
    if types:
        spec["policyTypes"] = types
    return knp(name, draw(st.sampled_from(NAMESPACES)), **spec)


@st.composite
def clusters(draw):
    docs = [
        ns_profile("a", {"env": "a-env"}, ingress=draw(st.lists(rules(), max_size=2)) + [{"action": "Allow"}],
                   egress=draw(st.lists(rules(), max_size=2)) + [{"action": "Allow"}]),
        ns_profile("b", {"env": "b-env"}),
        profile("extra", ingress=draw(st.lists(rules(), max_size=2)),
                egress=draw(st.lists(rules(), max_size=2)),
                labels_to_apply=draw(st.sampled_from(({}, {"app": "web"}, {"role": "corp"})))),
        {"apiVersion": "projectcalico.org/v3", "kind": "NetworkSet",
         "metadata": {"name": "partners", "namespace": "a", "labels": {"role": "partner"}},
         "spec": {"nets": ["192.168.1.0/24"]}},
        {"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkSet",
         "metadata": {"name": "corp", "labels": {"role": "corp"}}, "spec": {"nets": ["10.0.9.0/24"]}},
        {"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkSet",
         "metadata": {"name": "corp2", "labels": {"role": "corp2"}}, "spec": {"nets": ["10.0.0.0/30"]}},
    ]
    for i, ip in enumerate(EP_IPS):
        ns = draw(st.sampled_from(NAMESPACES))
        labels = draw(st.sampled_from(({"app": "web"}, {"app": "db"}, {}, {"role": "partner"})))
        profiles = draw(st.sampled_from(([f"kns.{ns}"], [f"kns.{ns}"], [], ["extra", f"kns.{ns}"],
                                         ["missing"], ["projectcalico-default-allow"])))
        ports = draw(st.lists(st.sampled_from(ENDPOINT_PORTS), max_size=3, unique=True))
        sa = draw(st.sampled_from((None, "sa1", "sa2")))
        docs.append(wep(f"e{i}", ns, [ip + "/32"], labels, profiles, ports, sa))
    for i in range(draw(st.integers(0, 4))):
        docs.append(draw(policies(i)))
    return docs


flows = st.builds(
    lambda src, dst, proto, dport, sport, t, c: (src, dst, proto, dport, sport, t, c),
    st.sampled_from(EP_IPS * 3 + OTHER_IPS), st.sampled_from(EP_IPS * 3 + OTHER_IPS),
    st.sampled_from(("tcp", "tcp", "udp", "icmp", "47", "4")),
    st.sampled_from(PORTS), st.sampled_from(PORTS), st.sampled_from((0, 8)), st.sampled_from((0, 1)))


# ------------------------------------------------------------------ the felix side


class FelixView:
    """What felixpy would program for these resources, on one host holding every
    endpoint, and the interpreter to ask it."""

    def __init__(self, docs: list[dict], config: RulesConfig):
        graph = CalcGraph(HOST)
        updates = []
        for rev, doc in enumerate(docs, start=1):
            kind = load(doc).kind
            meta = doc["metadata"]
            updates.append(Update(resource_key(kind, meta["name"], meta.get("namespace")),
                                  json.dumps(doc).encode(), rev))
        graph.on_updates(updates)
        graph.on_status("in-sync")
        dp = EnforcingDataplane()
        dp.apply(graph.flush())
        renderer = RuleRenderer(config)
        self.config = config
        self.chains = {}
        for pid, rules_ in dp.policies.items():
            for chain in renderer.policy_chains(pid, rules_):
                self.chains[chain.name] = chain
        for name, rules_ in dp.profiles.items():
            for chain in renderer.profile_chains(name, rules_):
                self.chains[chain.name] = chain
        self.entry = {}          # ip -> (to-workload chain, from-workload chain)
        for ep in dp.endpoints.values():
            tw, fw = renderer.endpoint_chains(ep)
            self.chains[tw.name], self.chains[fw.name] = tw, fw
            for net in ep.ipv4_nets:
                self.entry[net.split("/")[0]] = (tw.name, fw.name)
        self.net_sets = {sid: members for sid, members in dp.ipsets.items()
                         if dp.ipset_types[sid] == "hash:net"}
        self.port_sets = {sid: members for sid, members in dp.ipsets.items()
                          if dp.ipset_types[sid] != "hash:net"}

    def _sets_holding(self, ip: str) -> frozenset:
        addr = ipaddress.ip_address(ip)
        return frozenset(ipset_name(sid)[len("cali40"):] for sid, members in self.net_sets.items()
                         if any(addr in ipaddress.ip_network(m, strict=False) for m in members))

    def _port_sets_holding(self, ip: str, proto: str, port: int) -> frozenset:
        member = f"{ip},{proto}:{port}"
        return frozenset(ipset_name(sid)[len("cali40"):] for sid, members in self.port_sets.items()
                         if member in members)

    def verdicts(self, src, dst, proto, dport, sport, icmp_type, icmp_code) -> tuple[str, str]:
        pkt = Packet(protocol=proto, src=src, dst=dst, sport=sport, dport=dport,
                     icmp_type=icmp_type, icmp_code=icmp_code,
                     src_sets=self._sets_holding(src), dst_sets=self._sets_holding(dst),
                     src_named=self._port_sets_holding(src, proto, sport),
                     dst_named=self._port_sets_holding(dst, proto, dport))
        egress = run_tree(self.chains, self.entry[src][1], pkt, self.config) if src in self.entry else "accept"
        ingress = run_tree(self.chains, self.entry[dst][0], pkt, self.config) if dst in self.entry else "accept"
        return egress, ingress


def _ours(cluster: Cluster, src, dst, proto, dport, sport, icmp_type, icmp_code) -> tuple[str, str]:
    ports = proto in ("tcp", "udp")
    flow = Flow(src, dst, int(proto) if proto.isdigit() else proto,
                dst_port=dport if ports else None, src_port=sport if ports else None,
                icmp_type=icmp_type if proto == "icmp" else None,
                icmp_code=icmp_code if proto == "icmp" else None)
    v = evaluate(cluster, flow)
    word = {"allow": "accept", "deny": "drop"}
    return word[v.egress.action], word[v.ingress.action]


def _valid(docs: list[dict]) -> bool:
    try:
        for doc in docs:
            load(doc)
    except ValidationError:
        return False
    return True


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.filter_too_much])
@given(docs=clusters(), flow_list=st.lists(flows, min_size=1, max_size=8),
       strict=st.booleans())
def test_evaluator_agrees_with_rendered_chains(docs, flow_list, strict):
    assume(_valid(docs))
    config = RulesConfig(allow_vxlan_from_workloads=not strict, allow_ipip_from_workloads=not strict)
    felix = FelixView(docs, config)
    cluster = Cluster.from_resources([load(d) for d in docs], allow_vxlan_from_workloads=not strict,
                                     allow_ipip_from_workloads=not strict)
    for fl in flow_list:
        src, dst = fl[0], fl[1]
        if src == dst:
            continue          # loopback inside the pod never reaches the chains
        ours = _ours(cluster, *fl)
        theirs = felix.verdicts(*fl)
        assert ours == theirs, (
            f"flow {fl}: evaluator (egress, ingress) = {ours}, felix chains = {theirs}\n"
            f"evaluator: {evaluate(cluster, _flow_for_report(fl))}\n"
            + json.dumps(docs, indent=1))


def _flow_for_report(fl) -> Flow:
    src, dst, proto, dport, sport, t, c = fl
    ports = proto in ("tcp", "udp")
    return Flow(src, dst, int(proto) if proto.isdigit() else proto, dport if ports else None,
                sport if ports else None, t if proto == "icmp" else None, c if proto == "icmp" else None)


def test_hand_built_case_agrees():
    """One fixed cluster through both sides: a named-port allow, a notSelector deny and a
    namespace-scoped selector, each with the verdict written down."""
    docs = [
        ns_profile("a", {"env": "a-env"}), ns_profile("b", {"env": "b-env"}),
        wep("web", "a", ["10.0.0.1/32"], {"app": "web"}, ports=[("http", "TCP", 80)]),
        wep("db", "a", ["10.0.0.2/32"], {"app": "db"}),
        wep("other", "b", ["10.0.0.3/32"], {"app": "db"}),
        np("web", "a", selector="app == 'web'", ingress=[
            {"action": "Deny", "source": {"notSelector": "has(app)"}},
            {"action": "Allow", "protocol": "TCP", "source": {"selector": "app == 'db'"},
             "destination": {"ports": ["http"]}}]),
    ]
    felix = FelixView(docs, RulesConfig())
    cluster = Cluster.from_resources([load(d) for d in docs])
    cases = [
        (("10.0.0.2", "10.0.0.1", "tcp", 80, 1000, 0, 0), ("accept", "accept")),   # db -> web:http
        (("10.0.0.2", "10.0.0.1", "tcp", 81, 1000, 0, 0), ("accept", "drop")),     # not the named port
        (("10.0.0.3", "10.0.0.1", "tcp", 80, 1000, 0, 0), ("accept", "drop")),     # db in another namespace
        (("8.8.8.8", "10.0.0.1", "tcp", 80, 1000, 0, 0), ("accept", "drop")),      # denied by notSelector
    ]
    for fl, expected in cases:
        assert felix.verdicts(*fl) == expected
        assert _ours(cluster, *fl) == expected


# Table cases the interpreter cannot replay: it compares protocols as text ("-p 6" is not
# "tcp"), the renderer is built for IPv4 here, and loopback never reaches the chains.
_NOT_REPLAYABLE = {"protocol-number-in-rule", "protocol-number-in-flow", "ipv6-flow",
                   "v4-nets-rule-not-v6", "same-endpoint-loopback"}


def _table_cases():
    from tests.unit.libcalico_py.policy.test_policy_evaluator import CASES
    return [c for c in CASES if c[0] not in _NOT_REPLAYABLE]


@pytest.mark.parametrize("case", _table_cases(), ids=lambda c: c[0])
def test_table_case_agrees_with_rendered_chains(case):
    """Every table case of test_policy_evaluator.py, replayed through felixpy's chains."""
    from tests.unit.libcalico_py.policy.world import base_docs
    _, extra, fl, egress, ingress = case
    docs = base_docs() + list(extra)
    felix = FelixView(docs, RulesConfig())
    proto = str(fl.protocol).lower()
    theirs = felix.verdicts(fl.src_ip, fl.dst_ip, proto, fl.dst_port or 0, fl.src_port or 0,
                            fl.icmp_type, fl.icmp_code)
    word = {"allow": "accept", "deny": "drop"}
    assert theirs == (word[egress[0]], word[ingress[0]])
