"""Endpoint and dispatch chains: order of evaluation, fail-closed ends, chain references."""
from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from felixpy.calc.messages import ParsedRule, PolicyID, PolicyRules, TierInfo, WorkloadEndpoint
from felixpy.iptables.chain import Chain
from felixpy.rules import defs
from felixpy.rules.defs import RulesConfig
from felixpy.rules.renderer import RuleRenderer
from tests.unit.felixpy.rules.chain_evaluator import Packet, run_tree

R = RuleRenderer()
POL = PolicyID("np", "prod", "allow-web")


def _targets(chains: list[Chain]) -> set[str]:
    out = set()
    for c in chains:
        for r in c.rules:
            hit = re.match(r"-[jg] (\S+)", r.action)
            if hit and hit.group(1).startswith("cali"):
                out.add(hit.group(1))
    return out


def test_admin_down_endpoint_is_a_single_drop():
    for chain in R.endpoint_chains(WorkloadEndpoint(name="cali1", state="down", profile_ids=("p",))):
        assert len(chain.rules) == 1
        assert chain.rules[0].render() == '-m comment --comment "Endpoint admin disabled" -j DROP'


def test_conntrack_then_marks_then_tiers_then_profiles_then_drop():
    ep = WorkloadEndpoint(name="cali1", tiers=(TierInfo("default", (POL,), ()),), profile_ids=("kns.prod",))
    tw, fw = R.endpoint_chains(ep)
    assert (tw.name, fw.name) == ("cali-tw-cali1", "cali-fw-cali1")
    text = [r.render() for r in tw.rules]
    assert text[0] == "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
    assert text[1] == "-m conntrack --ctstate INVALID -j DROP"
    assert text[2] == "-j MARK --set-xmark 0x0/0x30000"
    assert text[4] == "-m mark --mark 0x0/0x20000 -j cali-pi-np/prod/allow-web"
    assert "End of tier default" in text[6] and text[6].endswith("-j DROP")
    assert text[7] == "-j cali-pri-kns.prod"
    assert text[-1] == '-m comment --comment "Drop if no profiles matched" -j DROP'
    # the policy is ingress-only: egress goes straight to the profile
    assert not any("cali-po-" in r.action for r in fw.rules)
    assert "-j cali-pro-kns.prod" in [r.render() for r in fw.rules]


def test_pass_tier_has_no_end_of_tier_drop():
    ep = WorkloadEndpoint(name="cali1", tiers=(TierInfo("security", (POL,), (), default_action="Pass"),))
    tw = R.endpoint_chains(ep)[0]
    assert not any("End of tier" in r.comment for r in tw.rules)


def test_invalid_check_can_be_disabled_and_encap_dropped():
    r = RuleRenderer(RulesConfig(disable_conntrack_invalid_check=True, allow_vxlan_from_workloads=False,
                                 allow_ipip_from_workloads=False))
    tw, fw = r.endpoint_chains(WorkloadEndpoint(name="cali1"))
    assert not any("INVALID" in x.match for x in tw.rules + fw.rules)
    assert any("--destination-ports 4789" in x.match for x in fw.rules)
    assert any(x.match == "-p 4" for x in fw.rules)
    assert not any("4789" in x.match for x in tw.rules)


def test_dispatch_single_and_empty():
    chains = R.dispatch_chains([])
    assert [c.name for c in chains] == [defs.CHAIN_FROM_WORKLOAD_DISPATCH, defs.CHAIN_TO_WORKLOAD_DISPATCH]
    assert all(c.rules[-1].render() == '-m comment --comment "Unknown interface" -j DROP' for c in chains)
    one = R.dispatch_chains(["cali123"])
    assert [r.render() for r in one[0].rules][0] == "-i cali123 -g cali-fw-cali123"
    assert [r.render() for r in one[1].rules][0] == "-o cali123 -g cali-tw-cali123"


def test_dispatch_prefix_tree_covers_every_interface_once():
    ifaces = [f"cali{i:x}{j}" for i in range(16) for j in range(3)] + ["cali", "calia", "tap0"]
    chains = R.dispatch_chains(ifaces + ifaces[:5])       # duplicates are ignored
    by_name = {c.name: c for c in chains}
    assert len(by_name) == len(chains)
    for root, flag, prefix in ((defs.CHAIN_FROM_WORKLOAD_DISPATCH, "-i", "cali-fw-"),
                               (defs.CHAIN_TO_WORKLOAD_DISPATCH, "-o", "cali-tw-")):
        seen = []
        for rule in by_name[root].rules:
            if rule.action.startswith("-g cali-") and rule.action[3:] in by_name:
                child = by_name[rule.action[3:]]
                assert child.rules[-1].comment == "Unknown interface"
                pattern = rule.match.split()[1].rstrip("+")
                for leaf in child.rules[:-1]:
                    iface = leaf.match.split()[1]
                    assert iface.startswith(pattern) and leaf.action == f"-g {prefix}{iface}"
                    seen.append(iface)
            elif rule.action.startswith(f"-g {prefix}"):
                assert rule.match.startswith(flag)
                seen.append(rule.match.split()[1])
        assert sorted(seen) == sorted(set(ifaces))
        assert by_name[root].rules[-1].comment == "Unknown interface"
    assert all(len(c.name) <= defs.MAX_CHAIN_NAME_LENGTH for c in chains)


def test_every_jump_target_is_rendered_or_documented():
    """A whole node's filter table references only chains the renderer produces."""
    ep = WorkloadEndpoint(name="cali1", tiers=(TierInfo("default", (POL,), (POL,)),), profile_ids=("kns.prod",))
    chains = (R.static_chains("filter") + R.policy_chains(POL, PolicyRules(inbound_rules=(ParsedRule("allow"),)))
              + R.profile_chains("kns.prod", PolicyRules()) + R.endpoint_chains(ep) + R.dispatch_chains(["cali1"]))
    names = {c.name for c in chains}
    assert _targets(chains) <= names
    nat = R.static_chains("nat") + R.nat_outgoing_chains(active=False)
    assert _targets(nat) <= {c.name for c in nat}
    for table in defs.TABLES:
        statics = {c.name for c in R.static_chains(table)} | {c.name for c in nat}
        hooks = {**R.kernel_hooks(table), **R.kernel_hooks_append(table)}
        assert _targets([Chain(k, tuple(v)) for k, v in hooks.items()]) <= statics


def test_inactive_nat_outgoing_is_empty():
    assert R.nat_outgoing_chains(active=False) == [Chain(defs.CHAIN_NAT_OUTGOING)]


# ------------------------------------------------------------ tiers and profiles (property test)

TIER_POLICIES = [PolicyID("np", "ns", f"p{i}") for i in range(4)]
ACTIONS = ["allow", "deny", "pass", None]          # None: the policy does not match the packet


@settings(max_examples=150, deadline=None)
@given(tiers=st.lists(st.tuples(st.lists(st.sampled_from(TIER_POLICIES), max_size=3, unique=True),
                                st.sampled_from(["Deny", "Pass"])), max_size=3),
       profiles=st.lists(st.sampled_from(["pr-allow", "pr-deny", "pr-none", "pr-pass"]), max_size=3),
       outcome=st.fixed_dictionaries({p: st.sampled_from(ACTIONS) for p in TIER_POLICIES}))
def test_endpoint_chain_decides_like_calico(tiers, profiles, outcome):
    """Tier order, Pass skipping the rest of a tier, end-of-tier drop, profile fall-through
    and the final drop, checked against Calico's decision procedure."""
    def rules_for(action):
        return (ParsedRule(action=action),) if action else ()

    chains = {}
    for pid in TIER_POLICIES:
        for c in R.policy_chains(pid, PolicyRules(inbound_rules=rules_for(outcome[pid]))):
            chains[c.name] = c
    for prof in ("pr-allow", "pr-deny", "pr-none", "pr-pass"):
        action = prof[3:] if prof != "pr-none" else None
        for c in R.profile_chains(prof, PolicyRules(inbound_rules=rules_for(action))):
            chains[c.name] = c
    ep = WorkloadEndpoint(name="cali1", profile_ids=tuple(profiles),
                          tiers=tuple(TierInfo(f"t{i}", tuple(pols), (), default) for i, (pols, default) in
                                      enumerate(tiers)))
    for c in R.endpoint_chains(ep):
        chains[c.name] = c

    def expected() -> str:
        for pols, default in tiers:
            if not pols:
                continue
            for pid in pols:
                if outcome[pid] == "allow":
                    return "accept"
                if outcome[pid] == "deny":
                    return "drop"
                if outcome[pid] == "pass":
                    break
            else:
                if default == "Deny":
                    return "drop"
        for prof in profiles:
            if prof == "pr-allow":
                return "accept"
            if prof == "pr-deny":
                return "drop"
        return "drop"

    assert run_tree(chains, "cali-tw-cali1", Packet(), RulesConfig()) == expected()
    assert run_tree(chains, "cali-tw-cali1", Packet(ct_state="ESTABLISHED"), RulesConfig()) == "accept"
    assert run_tree(chains, "cali-tw-cali1", Packet(ct_state="INVALID"), RulesConfig()) == "drop"
