"""Golden iptables-save fragments for representative policies, endpoints and dispatch.

Each case renders chains with RuleRenderer and compares the iptables-save style text
(`*filter`, `:chain - [0:0]`, `-A chain ...`, `COMMIT`; without the driver's
`cali:<hash>` comments) with tests/unit/felixpy/rules/golden/<case>.txt.

To regenerate after an intended change, run

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/felixpy/rules/test_golden.py

and review the diff of the golden files before committing them. A missing golden
file fails the test unless UPDATE_GOLDEN=1 is set.
"""
from __future__ import annotations

import os
import pathlib

import pytest

from felixpy.calc.messages import ParsedRule, PolicyID, PolicyRules, RuleOrigin, TierInfo, WorkloadEndpoint
from felixpy.rules.defs import RulesConfig
from felixpy.rules.renderer import RuleRenderer
from tests.unit.felixpy.rules.save_format import chains_text, rule_lines

GOLDEN_DIR = pathlib.Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

WEB_CLIENTS = "s:Uyl9vyRRfOaFqrVQpwHNo5QoY3t7HOw8RzhAQg"       # role == 'frontend'
MONITORING = "s:4pTWPxkRwGRFr2X2pfXSQZmWjETzi08kH5M8Ug"        # team == 'monitoring'
HTTP_NAMED = "n:bEAQSk0cKPv9cDSJWCrNe0YnHy_KjCQsdAk3Zg"        # named port "http"
METRICS_NAMED = "n:Xh3XfYkQ2z6hKqv1mY2l9rUjxgR5bD0eW8oT4A"    # named port "metrics"


def _origin(pid: PolicyID, direction: str, index: int, tier: str = "default") -> RuleOrigin:
    return RuleOrigin("policy", tier, pid.kind, pid.namespace, pid.name, direction, index)


def _table(table: str, chains) -> str:
    return f"*{table}\n{chains_text(chains)}COMMIT\n"


def case_allow_selector_port(r: RuleRenderer) -> str:
    pid = PolicyID("np", "prod", "allow-web")
    rules = PolicyRules(inbound_rules=(
        ParsedRule(action="allow", protocol="tcp", src_ipset_ids=(WEB_CLIENTS,), dst_ports=("80", "443"),
                   origin=_origin(pid, "ingress", 0)),
    ))
    return _table("filter", r.policy_chains(pid, rules))


def case_deny_not_nets(r: RuleRenderer) -> str:
    pid = PolicyID("gnp", "", "deny-egress-outside")
    rules = PolicyRules(outbound_rules=(
        # A single notNet fits in the rule itself ...
        ParsedRule(action="deny", protocol="tcp", not_dst_nets=("10.0.0.0/8",)),
        # ... several need a negative match block; with a positive net as well.
        ParsedRule(action="deny", src_nets=("10.65.0.0/16",),
                   not_dst_nets=("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")),
        # An IPv6 CIDR is not rendered into the IPv4 table; a v6-only list skips the rule.
        ParsedRule(action="deny", not_dst_nets=("fd00::/8",)),
    ))
    return _table("filter", r.policy_chains(pid, rules))


def case_ports_ranges_named(r: RuleRenderer) -> str:
    pid = PolicyID("knp", "shop", "knp.default.api")
    rules = PolicyRules(inbound_rules=(
        # ranges cost two multiport slots
        ParsedRule(action="allow", protocol="tcp", dst_ports=("8000:8080", "9090", "30000:32767")),
        # named + numeric ports need an OR block
        ParsedRule(action="allow", protocol="tcp", dst_ports=("8443",), dst_named_port_ipset_ids=(HTTP_NAMED,)),
        # a single named port stays in the rule
        ParsedRule(action="allow", protocol="tcp", src_ipset_ids=(MONITORING,),
                   dst_named_port_ipset_ids=(METRICS_NAMED,)),
        # more than 15 slots split into several multiport matches (OR) ...
        ParsedRule(action="allow", protocol="udp", dst_ports=tuple(str(p) for p in range(5000, 5020))),
        # ... and source-port ranges plus excluded ports (AND of negations)
        ParsedRule(action="allow", protocol="sctp", src_ports=("1024:65535",),
                   not_dst_ports=tuple(str(p) for p in range(7000, 7017))),
    ))
    return _table("filter", r.policy_chains(pid, rules))


def case_icmp(r: RuleRenderer) -> str:
    pid = PolicyID("np", "prod", "icmp")
    rules = PolicyRules(inbound_rules=(
        ParsedRule(action="allow", protocol="icmp", icmp_type=8, icmp_code=0),
        ParsedRule(action="allow", protocol="icmp", icmp_type=3),
        ParsedRule(action="deny", protocol="icmp", not_icmp_type=0, not_icmp_code=0),
        ParsedRule(action="allow", not_protocol="icmp", ip_version=4),
        ParsedRule(action="allow", protocol="icmpv6", icmp_type=128, ip_version=6),
    ))
    return _table("filter", r.policy_chains(pid, rules))


def case_pass_and_log(r: RuleRenderer) -> str:
    pid = PolicyID("gnp", "", "security.log-and-pass")
    rules = PolicyRules(tier="security", inbound_rules=(
        ParsedRule(action="log", protocol="tcp", dst_ports=("22",)),
        ParsedRule(action="deny", protocol="tcp", dst_ports=("22",)),
        ParsedRule(action="pass", src_ipset_ids=(MONITORING,)),
        ParsedRule(action="pass", src_nets=("10.65.0.0/16", "10.66.0.0/16"), protocol="tcp",
                   dst_ports=tuple(str(p) for p in range(1, 20))),
    ))
    plain = _table("filter", r.policy_chains(pid, rules))
    tagged = RuleRenderer(RulesConfig(log_prefix="calico-%k/%n"))
    return plain + _table("filter", tagged.policy_chains(pid, PolicyRules(
        tier="security", inbound_rules=(ParsedRule(action="log"),))))


def case_profile(r: RuleRenderer) -> str:
    rules = PolicyRules(
        inbound_rules=(ParsedRule(action="allow", src_ipset_ids=("s:kns-prod-members",)),),
        outbound_rules=(ParsedRule(action="allow"),))
    return _table("filter", r.profile_chains("kns.prod", rules)
                  + r.profile_chains("ksa.prod.default", PolicyRules()))


def case_endpoint_two_tiers(r: RuleRenderer) -> str:
    sec = PolicyID("gnp", "", "security.block-ssh")
    web = PolicyID("np", "prod", "allow-web")
    mon = PolicyID("knp", "prod", "knp.default.monitoring")
    ep = WorkloadEndpoint(
        name="cali1a2b3c4d5e6", ipv4_nets=("10.65.0.3/32",),
        tiers=(TierInfo("security", ingress_policies=(sec,), egress_policies=(sec,), default_action="Pass"),
               TierInfo("default", ingress_policies=(web, mon), egress_policies=())),
        profile_ids=("kns.prod", "ksa.prod.default"))
    down = WorkloadEndpoint(name="cali9999", state="down", profile_ids=("kns.prod",))
    bare = WorkloadEndpoint(name="cali-no-profiles")
    return _table("filter", r.endpoint_chains(ep) + r.endpoint_chains(down) + r.endpoint_chains(bare))


def case_dispatch(r: RuleRenderer) -> str:
    ifaces = ["cali1a2b3c4d5e6", "cali1f0000000000", "cali1f00000000a", "cali2b", "calia0", "calib7", "calib8"]
    return _table("filter", r.dispatch_chains(ifaces)) + _table("filter", r.dispatch_chains([]))


def case_static(r: RuleRenderer) -> str:
    out = []
    for table in ("raw", "mangle", "filter", "nat"):
        chains = r.static_chains(table) + (r.nat_outgoing_chains() if table == "nat" else [])
        hooks = []
        for kernel, rules in r.kernel_hooks(table).items():
            hooks += rule_lines(kernel, rules, hashes=False, verb="-I")
        for kernel, rules in r.kernel_hooks_append(table).items():
            hooks += rule_lines(kernel, rules, hashes=False)
        out.append(f"*{table}\n{chains_text(chains)}" + "".join(h + "\n" for h in hooks) + "COMMIT\n")
    return "".join(out)


def case_static_configured(_: RuleRenderer) -> str:
    cfg = RulesConfig.from_felix_config({
        "DefaultEndpointToHostAction": "Accept", "IptablesFilterDenyAction": "Reject",
        "FailsafeInboundHostPorts": "tcp:22,udp:10.0.0.0/8:68", "FailsafeOutboundHostPorts": "none",
        "InterfacePrefix": "cali,tap", "IptablesMarkMask": "0xff000000",
        "NATOutgoingAddress": "192.0.2.10", "DisableConntrackInvalidCheck": "true",
    })
    r = RuleRenderer(cfg)
    ep = WorkloadEndpoint(name="tap0", tiers=(TierInfo("default", (PolicyID("np", "a", "b"),)),))
    return (_table("filter", r.static_chains("filter") + r.endpoint_chains(ep))
            + _table("nat", r.nat_outgoing_chains()))


def case_ipv6(_: RuleRenderer) -> str:
    r = RuleRenderer(RulesConfig(ipv6=True))
    pid = PolicyID("np", "prod", "dual-stack")
    rules = PolicyRules(inbound_rules=(
        ParsedRule(action="allow", protocol="icmpv6", icmp_type=128, icmp_code=0),
        ParsedRule(action="allow", protocol="icmp", icmp_type=8),                 # v4-only: skipped
        ParsedRule(action="allow", protocol="tcp", src_nets=("10.0.0.0/8", "fd00::/8"), dst_ports=("80",)),
        ParsedRule(action="deny", ip_version=6, src_ipset_ids=(MONITORING,), not_src_nets=("fd00:1::/64",)),
    ))
    return _table("filter", r.static_chains("filter")[:2] + r.policy_chains(pid, rules)) \
        + _table("nat", r.nat_outgoing_chains())


CASES = {name[len("case_"):]: fn for name, fn in sorted(globals().items()) if name.startswith("case_")}


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden(case):
    text = CASES[case](RuleRenderer(RulesConfig()))
    path = GOLDEN_DIR / f"{case}.txt"
    if UPDATE:
        GOLDEN_DIR.mkdir(exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"no golden file {path}; run with UPDATE_GOLDEN=1 and review it"
    assert text == path.read_text(), f"{case} differs from {path} (UPDATE_GOLDEN=1 to regenerate)"


def test_rendering_is_deterministic():
    for case, fn in CASES.items():
        assert fn(RuleRenderer()) == fn(RuleRenderer()), case
