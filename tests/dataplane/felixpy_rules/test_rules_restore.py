"""Rendered chains are accepted by the real iptables-restore, on both backends.

Each test makes a throwaway namespace, creates the IP sets the rules reference (with
`ipset create` inside the namespace), then feeds complete tables — the static chains,
hooks, policy, profile, endpoint, dispatch and NAT chains, each rule carrying the
`cali:<hash>` comment as the driver writes it — to `iptables-nft-restore` and
`iptables-legacy-restore` (and the ip6tables pair for an IPv6 renderer), and checks
that iptables-save lists every chain and hash.
"""
from __future__ import annotations

import re

import pytest

from felixpy.calc.messages import ParsedRule, PolicyID, PolicyRules, TierInfo, WorkloadEndpoint
from felixpy.iptables.chain import rule_hashes
from felixpy.rules import names
from felixpy.rules.defs import RulesConfig
from felixpy.rules.renderer import RuleRenderer
from tests.unit.felixpy.rules.save_format import restore_payload

SELECTOR_SET = "s:Uyl9vyRRfOaFqrVQpwHNo5QoY3t7HOw8RzhAQg"
OTHER_SET = "s:4pTWPxkRwGRFr2X2pfXSQZmWjETzi08kH5M8Ug"
NAMED_PORT_SET = "n:bEAQSk0cKPv9cDSJWCrNe0YnHy_KjCQsdAk3Zg"

WEB = PolicyID("np", "prod", "allow-web")
DENY = PolicyID("gnp", "", "deny-a-very-long-global-network-policy-name")
POLICIES = {
    WEB: PolicyRules(inbound_rules=(
        ParsedRule(action="log", protocol="tcp", dst_ports=("80",)),
        ParsedRule(action="allow", protocol="tcp", src_ipset_ids=(SELECTOR_SET,),
                   dst_ports=("80", "8000:8080"), dst_named_port_ipset_ids=(NAMED_PORT_SET,)),
        ParsedRule(action="allow", protocol="sctp", dst_ports=tuple(str(p) for p in range(100, 120))),
        ParsedRule(action="allow", protocol="icmp", icmp_type=8, icmp_code=0),
        ParsedRule(action="allow", protocol="icmp", not_icmp_type=3),
        ParsedRule(action="pass", not_protocol="udp", not_src_ipset_ids=(OTHER_SET,)),
    ), outbound_rules=(
        ParsedRule(action="deny", not_dst_nets=("10.0.0.0/8", "192.168.0.0/16"),
                   dst_nets=("0.0.0.0/0",)),
        ParsedRule(action="allow", src_nets=("10.1.0.0/16", "10.2.0.0/16"), not_src_nets=("10.1.1.0/24",),
                   protocol="udp", not_dst_ports=("53", "5353:5360"), src_ports=("1000:2000",)),
        ParsedRule(action="allow", ip_version=6, protocol="tcp"),
        ParsedRule(action="allow", protocol="icmpv6", icmp_type=128, icmp_code=0,
                   src_nets=("fd00::/8", "fd01::/16"), not_dst_nets=("fd00:1::/64",)),
    )),
    DENY: PolicyRules(inbound_rules=(ParsedRule(action="deny", protocol="tcp", dst_ports=("22",)),)),
}
PROFILE = ("kns.prod", PolicyRules(inbound_rules=(ParsedRule(action="allow"),),
                                   outbound_rules=(ParsedRule(action="allow"),)))


def _endpoints() -> list[WorkloadEndpoint]:
    return [
        WorkloadEndpoint(name="cali1a2b3c4d5e6", ipv4_nets=("10.65.0.3/32",),
                         tiers=(TierInfo("security", (DENY,), (), "Pass"),
                                TierInfo("default", (WEB,), (WEB,))),
                         profile_ids=("kns.prod",)),
        WorkloadEndpoint(name="cali1f00", profile_ids=("kns.prod",)),
        WorkloadEndpoint(name="cali9down", state="down"),
    ]


def _tables(renderer: RuleRenderer) -> dict[str, tuple[list, dict, dict]]:
    filter_chains = list(renderer.static_chains("filter"))
    for pid, rules in POLICIES.items():
        filter_chains += renderer.policy_chains(pid, rules)
    filter_chains += renderer.profile_chains(*PROFILE)
    endpoints = _endpoints()
    for ep in endpoints:
        filter_chains += renderer.endpoint_chains(ep)
    filter_chains += renderer.dispatch_chains(ep.name for ep in endpoints)
    tables = {}
    for table in ("raw", "mangle", "filter", "nat"):
        chains = filter_chains if table == "filter" else list(renderer.static_chains(table))
        if table == "nat":
            chains += renderer.nat_outgoing_chains()
        tables[table] = (chains, renderer.kernel_hooks(table), renderer.kernel_hooks_append(table))
    return tables


def _create_ipsets(netns, ns: str, ip_version: int) -> None:
    family = "inet" if ip_version == 4 else "inet6"
    for set_id, set_type in ((SELECTOR_SET, "hash:net"), (OTHER_SET, "hash:net"),
                             (NAMED_PORT_SET, "hash:ip,port"), (names.MASQ_IPSET_ID, "hash:net"),
                             (names.ALL_POOLS_IPSET_ID, "hash:net")):
        netns.run(ns, "ipset", "create", names.ipset_name(set_id, ip_version), set_type, "family", family)


@pytest.mark.parametrize("ip_version", [4, 6])
@pytest.mark.parametrize("backend", ["nft", "legacy"])
def test_rendered_tables_restore(netns, backend, ip_version):
    ns = netns("rules-restore")
    _create_ipsets(netns, ns, ip_version)
    renderer = RuleRenderer(RulesConfig(nat_port_range="32768:65535", filter_deny_action="REJECT",
                                        ipv6=(ip_version == 6)))
    tool = "iptables" if ip_version == 4 else "ip6tables"
    for table, (chains, inserts, appends) in _tables(renderer).items():
        payload = restore_payload(table, chains, inserts, appends)
        result = netns.run(ns, f"{tool}-{backend}-restore", "--noflush", input=payload, check=False)
        assert result.returncode == 0, f"{table} rejected by {tool}-{backend}:\n{result.stderr}\n{payload}"

        saved = netns.run(ns, f"{tool}-{backend}-save", "-t", table).stdout
        for chain in chains:
            assert re.search(rf"^:{re.escape(chain.name)} ", saved, re.M), f"{chain.name} missing"
            for ident in rule_hashes(chain.name, chain.rules):
                assert f'"cali:{ident}"' in saved or f"cali:{ident}" in saved, f"{chain.name} lost rule {ident}"
        for kernel_chain, rules in {**inserts, **appends}.items():
            for ident in rule_hashes(kernel_chain, rules):
                assert f"cali:{ident}" in saved, f"hook in {kernel_chain} missing"


def test_restore_rejects_broken_rule(netns):
    """The check above can fail: a rule naming a missing IP set is refused."""
    ns = netns("rules-restore-neg")
    renderer = RuleRenderer()
    chains = renderer.policy_chains(WEB, POLICIES[WEB])    # references IP sets never created
    result = netns.run(ns, "iptables-nft-restore", "--noflush",
                       input=restore_payload("filter", chains), check=False)
    assert result.returncode != 0
