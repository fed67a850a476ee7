"""Policy rendering: multiport splitting, match blocks, actions, families, comments.

The property tests run the rendered chain through a small interpreter
(chain_evaluator.py) and compare its verdict with Calico's rule semantics evaluated
directly on the ParsedRules, for random rules and packets.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from felixpy.calc.messages import ParsedRule, PolicyID, PolicyRules, RuleOrigin
from felixpy.rules.defs import RulesConfig
from felixpy.rules.policy import PolicyRenderer, RuleRenderError, normalise_port, split_port_list
from felixpy.rules.renderer import RuleRenderer
from tests.unit.felixpy.rules.chain_evaluator import Packet, calico_verdict, run_chain

PID = PolicyID("np", "prod", "allow-web")
CFG = RulesConfig()


def _inbound(*rules: ParsedRule, config: RulesConfig = CFG):
    return RuleRenderer(config).policy_chains(PID, PolicyRules(inbound_rules=rules))[0]


# ------------------------------------------------------------ multiport splitting

def test_split_port_list_fits_fifteen_slots():
    singles = [str(p) for p in range(1, 16)]
    assert split_port_list(singles) == [singles]
    assert split_port_list(singles + ["16"]) == [singles, ["16"]]


def test_split_port_list_ranges_cost_two():
    ranges = [f"{p}:{p + 1}" for p in range(100, 170, 10)]        # 7 ranges = 14 slots
    assert split_port_list(ranges + ["1"]) == [ranges + ["1"]]     # + a single = 15
    assert split_port_list(ranges + ["1:2"]) == [ranges, ["1:2"]]  # + a range would be 16
    assert split_port_list([]) == []


def test_normalise_port():
    assert normalise_port("80") == "80"
    assert normalise_port("1000-2000") == "1000:2000"
    assert normalise_port("443:443") == "443"
    for bad in ("http", "2000:1000", "70000", ""):
        with pytest.raises(RuleRenderError):
            normalise_port(bad)


def test_more_than_fifteen_ports_are_ored_in_a_block():
    chain = _inbound(ParsedRule(action="allow", protocol="tcp", dst_ports=tuple(str(p) for p in range(1, 40))))
    multiport = [r for r in chain.rules if "--destination-ports" in r.match]
    assert len(multiport) == 3
    assert all(r.action == "-j MARK --set-xmark 0x80000/0x80000" for r in multiport)
    for port, verdict in ((1, "allow"), (17, "allow"), (39, "allow"), (40, "none")):
        assert run_chain(chain, Packet(dport=port), CFG) == verdict


def test_negated_ports_over_fifteen_are_anded_in_one_rule():
    chain = _inbound(ParsedRule(action="allow", protocol="udp", not_dst_ports=tuple(str(p) for p in range(1, 20))))
    assert len(chain.rules) == 1
    assert chain.rules[0].match.count("! --destination-ports") == 2
    assert run_chain(chain, Packet(protocol="udp", dport=18), CFG) == "none"
    assert run_chain(chain, Packet(protocol="udp", dport=20), CFG) == "allow"


# ------------------------------------------------------------ actions and comments

def test_action_mapping():
    allow, deny, pas, log = (ParsedRule(action=a, protocol="tcp") for a in ("allow", "deny", "pass", "log"))
    chain = _inbound(log, allow)
    assert chain.rules[0].action.startswith('-j LOG --log-prefix "calico-packet: "')
    assert chain.rules[1].action == "-j MARK --set-xmark 0x10000/0x10000"
    assert len(chain.rules) == 2    # the trailing RETURN is stripped
    deny_chain = _inbound(deny)
    assert [r.action for r in deny_chain.rules] == ["-j MARK --set-xmark 0x40000/0x40000", "-j DROP"]
    assert deny_chain.rules[1].match.endswith("-m mark --mark 0x40000/0x40000")
    reject = _inbound(deny, config=RulesConfig(filter_deny_action="REJECT"))
    assert reject.rules[1].action == "-j REJECT"
    pass_chain = _inbound(pas, allow)
    assert [r.action for r in pass_chain.rules[:2]] == ["-j MARK --set-xmark 0x20000/0x20000", "-j RETURN"]


def test_unknown_action_is_rejected():
    with pytest.raises(RuleRenderError, match="unknown rule action"):
        _inbound(ParsedRule(action="bounce"))


def test_provenance_and_human_comments():
    origin = RuleOrigin("policy", "default", "np", "prod", "allow-web", "ingress", 2)
    chain = _inbound(ParsedRule(action="deny", protocol="tcp", origin=origin))
    assert all('-m comment --comment "np/prod/allow-web ingress rule 2"' in r.match for r in chain.rules)
    assert chain.rules[0].comment == "NetworkPolicy prod/allow-web ingress"
    assert all(not r.comment for r in chain.rules[1:])
    out = RuleRenderer().policy_chains(PID, PolicyRules())[1]
    assert out.rules[0].render() == '-m comment --comment "NetworkPolicy prod/allow-web egress"'
    pro = RuleRenderer().profile_chains("kns.prod", PolicyRules(outbound_rules=(ParsedRule(action="allow"),)))
    assert pro[1].name == "cali-pro-kns.prod"
    assert pro[1].rules[0].comment == "Profile kns.prod egress"
    assert '"pro/kns.prod egress rule 0"' in pro[1].rules[0].match


def test_staged_policies_are_not_rendered():
    assert RuleRenderer().policy_chains(PolicyID("snp", "prod", "x"), PolicyRules()) == []


def test_log_prefix_specifiers_and_limit():
    r = PolicyRenderer(RulesConfig(log_prefix="%t|%k|%p"))
    chain = r.policy_chains(PID, PolicyRules(tier="default", inbound_rules=(ParsedRule(action="log"),)))[0]
    assert '--log-prefix "default|np|prod/allow-web: "' in chain.rules[0].action
    long = PolicyRenderer(RulesConfig(log_prefix="x" * 60))
    text = long.policy_chains(PID, PolicyRules(inbound_rules=(ParsedRule(action="log"),)))[0].rules[0].action
    assert f'"{"x" * 27}: "' in text


def test_sctp_ports():
    chain = _inbound(ParsedRule(action="allow", protocol="sctp", dst_ports=("9000", "9100:9200")))
    assert chain.rules[0].match.endswith("-p sctp -m multiport --destination-ports 9000,9100:9200")


def test_named_ports_render_as_ip_port_sets():
    chain = _inbound(ParsedRule(action="allow", protocol="tcp", src_named_port_ipset_ids=("n:src",),
                                not_dst_named_port_ipset_ids=("n:dst",)))
    assert "-m set --match-set cali40n:src src,src" in chain.rules[0].match
    assert "-m set ! --match-set cali40n:dst dst,dst" in chain.rules[0].match


def test_selectors_render_as_set_matches():
    chain = _inbound(ParsedRule(action="allow", src_ipset_ids=("s:a", "s:b"), not_dst_ipset_ids=("s:c",)))
    match = chain.rules[0].match
    assert "-m set --match-set cali40s:a src -m set --match-set cali40s:b src" in match
    assert "-m set ! --match-set cali40s:c dst" in match


# ------------------------------------------------------------ IP families

def test_rules_of_the_other_family_are_skipped():
    rules = (ParsedRule(action="allow", ip_version=6),
             ParsedRule(action="allow", src_nets=("fd00::/8",)),
             ParsedRule(action="allow", not_dst_nets=("fd00::/8",)),
             ParsedRule(action="allow", src_nets=("fd00::/8", "10.0.0.0/8")))
    chain = _inbound(*rules)
    assert len(chain.rules) == 1 and "-s 10.0.0.0/8" in chain.rules[0].match
    assert '"np/prod/allow-web ingress rule 3"' in chain.rules[0].match


def test_negated_catch_all_skips_the_rule():
    assert _inbound(ParsedRule(action="allow", not_src_nets=("0.0.0.0/0",))).rules[0].match == ""


def test_ipv6_rendering():
    r = RuleRenderer(RulesConfig(ipv6=True))
    chain = r.policy_chains(PID, PolicyRules(inbound_rules=(
        ParsedRule(action="allow", protocol="icmpv6", icmp_type=128, icmp_code=0, src_ipset_ids=("s:x",)),
        ParsedRule(action="allow", ip_version=4),
        ParsedRule(action="allow", protocol="icmp", icmp_type=8)),))[0]   # ICMPv4 cannot match in v6
    assert "-m icmp6 --icmpv6-type 128/0" in chain.rules[0].match
    assert "cali60s:x" in chain.rules[0].match
    assert len(chain.rules) == 1
    v4 = _inbound(ParsedRule(action="allow", protocol="icmpv6", icmp_type=128))
    assert v4.rules[0].match == ""


# ------------------------------------------------------------ semantics (property tests)

NETS = ["10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "192.168.0.0/16", "10.1.2.3/32"]
IPS = ["10.1.2.3", "10.1.9.9", "10.200.0.1", "192.168.1.1", "172.16.0.1"]
SETS = ["s:a", "s:b"]
NAMED = ["n:http", "n:dns"]
PORT = st.one_of(st.integers(1, 30).map(str),
                 st.tuples(st.integers(1, 30), st.integers(0, 5)).map(lambda t: f"{t[0]}:{t[0] + t[1]}"))


@st.composite
def parsed_rules(draw):
    ports = draw(st.booleans())
    kw = dict(
        action=draw(st.sampled_from(["allow", "deny", "pass", "log"])),
        protocol=draw(st.sampled_from(["tcp", "udp"])) if ports or draw(st.booleans()) else None,
        src_nets=tuple(draw(st.lists(st.sampled_from(NETS), max_size=3, unique=True))),
        not_src_nets=tuple(draw(st.lists(st.sampled_from(NETS), max_size=2, unique=True))),
        dst_nets=tuple(draw(st.lists(st.sampled_from(NETS), max_size=3, unique=True))),
        not_dst_nets=tuple(draw(st.lists(st.sampled_from(NETS), max_size=2, unique=True))),
        src_ipset_ids=tuple(draw(st.lists(st.sampled_from(SETS), max_size=1))),
        not_dst_ipset_ids=tuple(draw(st.lists(st.sampled_from(SETS), max_size=1))),
    )
    if ports:
        kw.update(
            dst_ports=tuple(draw(st.lists(PORT, max_size=20))),
            dst_named_port_ipset_ids=tuple(draw(st.lists(st.sampled_from(NAMED), max_size=2, unique=True))),
            src_ports=tuple(draw(st.lists(PORT, max_size=3))),
            not_dst_ports=tuple(draw(st.lists(PORT, max_size=17))),
            not_src_named_port_ipset_ids=tuple(draw(st.lists(st.sampled_from(NAMED), max_size=1))),
        )
    return ParsedRule(**kw)


packets = st.builds(
    Packet,
    protocol=st.sampled_from(["tcp", "udp", "icmp"]),
    src=st.sampled_from(IPS), dst=st.sampled_from(IPS),
    sport=st.integers(1, 36), dport=st.integers(1, 36),
    src_sets=st.frozensets(st.sampled_from(SETS)), dst_sets=st.frozensets(st.sampled_from(SETS)),
    src_named=st.frozensets(st.sampled_from(NAMED)), dst_named=st.frozensets(st.sampled_from(NAMED)),
)


@settings(max_examples=120, deadline=None)
@given(rules=st.lists(parsed_rules(), min_size=1, max_size=3), pkt=packets)
def test_rendered_chain_decides_like_calico(rules, pkt):
    chain = _inbound(*rules)
    expected = calico_verdict(tuple(rules), pkt)
    # Marks left over from an earlier chain must not change the result.
    for start_mark in (0, CFG.mark_scratch0, CFG.mark_scratch0 | CFG.mark_scratch1):
        assert run_chain(chain, pkt, CFG, mark=start_mark) == expected, "\n".join(r.render() for r in chain.rules)


@settings(max_examples=40, deadline=None)
@given(rule=parsed_rules(), pkt=packets)
def test_log_rules_log_exactly_when_matching(rule, pkt):
    from tests.unit.felixpy.rules.chain_evaluator import rule_matches
    log_rule = ParsedRule(**{**rule.__dict__, "action": "log"})
    chain = _inbound(log_rule)
    run_chain(chain, pkt, CFG)
    assert bool(pkt.logs) == rule_matches(log_rule, pkt)
