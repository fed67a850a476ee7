"""Policy and profile chains: one Calico rule becomes one or more iptables rules.

`cali-pi-<id>` / `cali-po-<id>` hold a policy's inbound / outbound rules,
`cali-pri-<name>` / `cali-pro-<name>` a profile's (calico.md §5.5). A policy chain
never accepts or drops on its own authority except for Deny: it reports its verdict to
the endpoint chain through mark bits and RETURNs:

    Allow -> set the accept mark, RETURN        Pass -> set the pass mark, RETURN
    Deny  -> set the drop mark, DROP (or REJECT per IptablesFilterDenyAction)
    Log   -> LOG and carry on with the next rule

A rule is rendered as "match -> set mark" followed by actions gated on that mark, so
the (possibly long) match is evaluated once. Trailing RETURN rules are dropped, since
falling off the end of a chain returns anyway.

Where one iptables rule cannot express a Calico rule's OR-logic (several CIDRs, more
than 15 port slots, named plus numeric ports, positive and negative CIDRs together),
the rule is split into "match blocks" that compute the result into the scratch0 mark
("all blocks pass"), using scratch1 ("this block passes") for the second and later
positive blocks; the final rule then matches on scratch0. This is Felix's scheme
(`ProtoRuleToIptablesRules`), kept so the mark bits mean the same as in Calico.

Provenance: every iptables rule rendered from a Calico rule carries a comment such as
`np/prod/allow-web ingress rule 2` (2 = index in spec.ingress), so the deciding rule
can be read back from the kernel; the first rule of each chain also carries the human
comment "NetworkPolicy prod/allow-web ingress" / "Profile kns.prod egress".
"""
from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass

from felixpy.calc.messages import ParsedRule, PolicyID, PolicyRules
from felixpy.iptables.chain import Chain, Rule
from felixpy.rules import defs, names
from felixpy.rules import match as m
from felixpy.rules.defs import RulesConfig

MULTIPORT_SLOTS = 15
_LOG_SPECIFIER = re.compile(r"%[tknp]")
# Protocols that exist in only one IP family.
_FAMILY_ONLY_PROTOCOLS = {4: frozenset({"icmp", "1"}), 6: frozenset({"icmpv6", "ipv6-icmp", "58"})}


class RuleRenderError(ValueError):
    """A ParsedRule the renderer cannot express (bad port, unknown action, ...)."""


@dataclass(frozen=True)
class RuleOwner:
    """Who a chain belongs to, as the comments and log prefixes name it."""

    kind: str          # np | gnp | knp | ... | pro
    namespace: str
    name: str
    tier: str

    @property
    def ident(self) -> str:
        """np/prod/allow-web, gnp/deny-all, pro/kns.prod."""
        return f"{self.kind}/{self.namespace}/{self.name}" if self.namespace else f"{self.kind}/{self.name}"


def split_port_list(ports: tuple[str, ...] | list[str]) -> list[list[str]]:
    """Split ports into multiport-sized groups: 15 slots each, a range costs 2."""
    splits: list[list[str]] = []
    current: list[str] = []
    free = MULTIPORT_SLOTS
    for port in ports:
        text = normalise_port(port)
        cost = 2 if ":" in text else 1
        if cost > free:
            splits.append(current)
            current, free = [], MULTIPORT_SLOTS
        current.append(text)
        free -= cost
    if current:
        splits.append(current)
    return splits


@functools.lru_cache(maxsize=4096)
def normalise_port(port: str | int) -> str:
    """"80" -> "80"; "1000:2000" or "1000-2000" -> "1000:2000"; "80:80" -> "80"."""
    text = str(port).strip()
    lo, sep, hi = text.replace("-", ":").partition(":")
    try:
        first = int(lo)
        last = int(hi) if sep else first
    except ValueError:
        raise RuleRenderError(f"port {port!r} is neither a number nor a range first:last") from None
    if not (0 <= first <= last <= 65535):
        raise RuleRenderError(f"port {port!r} is out of range 0-65535")
    return str(first) if first == last else f"{first}:{last}"


def _net_version(cidr: str) -> int:
    return 6 if ":" in cidr else 4


def _filter_nets(nets: tuple[str, ...], ip_version: int, negated: bool) -> tuple[tuple[str, ...], bool]:
    """The CIDRs of this family and whether the rule must be skipped: a non-empty list
    that has nothing for this family, or a negated catch-all (a contradiction)."""
    if not nets:
        return (), False
    kept = tuple(n for n in nets if _net_version(n) == ip_version)
    if negated and any(ipaddress.ip_network(n, strict=False).prefixlen == 0 for n in kept):
        return (), True
    return kept, not kept


class PolicyRenderer:
    """Renders policies and profiles for one IP family."""

    def __init__(self, config: RulesConfig):
        self.config = config
        self.ip_version = config.ip_version
        self._other_family_protocols = _FAMILY_ONLY_PROTOCOLS[6 if self.ip_version == 4 else 4]
        # action -> (set-mark action, match gated on that mark, verdict), rendered once.
        self._action_texts: dict[str, tuple[str, str, str]] = {}
        for action, mark, verdict in (("allow", config.mark_accept, m.RETURN),
                                      ("pass", config.mark_pass, m.RETURN),
                                      ("next-tier", config.mark_pass, m.RETURN),
                                      ("deny", config.mark_drop, f"-j {config.filter_deny_action}")):
            self._action_texts[action] = (m.set_mark(mark), m.Match().mark_single_bit_set(mark).render(),
                                          verdict)
        self._ipset_names: dict[str, str] = {}

    # ------------------------------------------------------------ chains

    def policy_chains(self, policy_id: PolicyID, policy: PolicyRules) -> list[Chain]:
        if policy_id.kind in defs.STAGED_POLICY_KINDS:
            return []   # staged policies are never programmed
        owner = RuleOwner(policy_id.kind, policy_id.namespace, policy_id.name, policy.tier)
        display = names.policy_display_name(policy_id)
        return [
            Chain(names.policy_chain_name(defs.POLICY_INBOUND_PREFIX, policy_id),
                  self.rules_for(policy.inbound_rules, owner, "ingress", f"{display} ingress")),
            Chain(names.policy_chain_name(defs.POLICY_OUTBOUND_PREFIX, policy_id),
                  self.rules_for(policy.outbound_rules, owner, "egress", f"{display} egress")),
        ]

    def profile_chains(self, profile_id: str, profile: PolicyRules) -> list[Chain]:
        owner = RuleOwner(defs.PROFILE_KIND, "", profile_id, "")
        return [
            Chain(names.profile_chain_name(defs.PROFILE_INBOUND_PREFIX, profile_id),
                  self.rules_for(profile.inbound_rules, owner, "ingress", f"Profile {profile_id} ingress")),
            Chain(names.profile_chain_name(defs.PROFILE_OUTBOUND_PREFIX, profile_id),
                  self.rules_for(profile.outbound_rules, owner, "egress", f"Profile {profile_id} egress")),
        ]

    def rules_for(self, parsed: tuple[ParsedRule, ...], owner: RuleOwner, direction: str,
                  chain_comment: str) -> tuple[Rule, ...]:
        rules: list[Rule] = []
        for position, prule in enumerate(parsed):
            index = prule.origin.index if prule.origin is not None else position
            rules.extend(self.rule_to_rules(prule, owner, direction, index))
        while rules and rules[-1].action == m.RETURN:
            rules.pop()
        if not rules:
            rules.append(Rule())
        first = rules[0]
        rules[0] = Rule(first.match, first.action, m.comment_text(chain_comment))
        return tuple(rules)

    # ------------------------------------------------------------ one rule

    def rule_to_rules(self, prule: ParsedRule, owner: RuleOwner, direction: str, index: int) -> list[Rule]:
        """The iptables rules for one Calico rule, or [] if it does not apply to this family."""
        if prule.ip_version is not None and prule.ip_version != self.ip_version:
            return []
        if prule.protocol is not None and _proto(prule.protocol) in self._other_family_protocols:
            return []   # ICMP in an IPv6 table (or ICMPv6 in IPv4) can never match
        if prule.src_nets or prule.not_src_nets or prule.dst_nets or prule.not_dst_nets:
            nets = {}
            for field_name, negated in (("src_nets", False), ("not_src_nets", True),
                                        ("dst_nets", False), ("not_dst_nets", True)):
                kept, skip = _filter_nets(getattr(prule, field_name), self.ip_version, negated)
                if skip:
                    return []
                nets[field_name] = kept
            src_nets, dst_nets = nets["src_nets"], nets["dst_nets"]
            not_src_nets, not_dst_nets = nets["not_src_nets"], nets["not_dst_nets"]
        else:
            src_nets = dst_nets = not_src_nets = not_dst_nets = ()

        blocks = None

        src_ports = prule.src_ports
        src_named = prule.src_named_port_ipset_ids
        src_splits = split_port_list(src_ports) if src_ports else []
        if len(src_splits) + len(src_named) > 1:
            blocks = _MatchBlocks(self.config.mark_scratch0, self.config.mark_scratch1)
            blocks.positive([self._port_match(prule.protocol, split, "src") for split in src_splits]
                            + [m.Match().ipset(self._ipset(i), "src,src") for i in src_named])
            src_splits, src_named = [], ()
        dst_ports = prule.dst_ports
        dst_named = prule.dst_named_port_ipset_ids
        dst_splits = split_port_list(dst_ports) if dst_ports else []
        if len(dst_splits) + len(dst_named) > 1:
            if blocks is None:
                blocks = _MatchBlocks(self.config.mark_scratch0, self.config.mark_scratch1)
            blocks.positive([self._port_match(prule.protocol, split, "dst") for split in dst_splits]
                            + [m.Match().ipset(self._ipset(i), "dst,dst") for i in dst_named])
            dst_splits, dst_named = [], ()

        if len(src_nets) > 1 or len(dst_nets) > 1 or len(src_nets) + len(not_src_nets) > 1 \
                or len(dst_nets) + len(not_dst_nets) > 1:
            if blocks is None:
                blocks = _MatchBlocks(self.config.mark_scratch0, self.config.mark_scratch1)
            if len(src_nets) > 1:
                blocks.positive([m.Match().source_net(n) for n in src_nets])
                src_nets = ()
            if len(dst_nets) > 1:
                blocks.positive([m.Match().dest_net(n) for n in dst_nets])
                dst_nets = ()
            if len(src_nets) + len(not_src_nets) > 1:
                blocks.negative([m.Match().source_net(n) for n in not_src_nets])
                not_src_nets = ()
            if len(dst_nets) + len(not_dst_nets) > 1:
                blocks.negative([m.Match().dest_net(n) for n in not_dst_nets])
                not_dst_nets = ()

        main = m.Match()
        if blocks is not None and blocks.used:
            main.mark_single_bit_set(self.config.mark_scratch0)
        self._main_match(main, prule, src_nets, src_splits[:1], src_named, dst_nets, dst_splits[:1],
                         dst_named, not_src_nets, not_dst_nets)

        comment = _comment_match(f"{owner.ident} {direction} rule {index}")
        out = [] if blocks is None else [Rule(_join(comment, r.match), r.action) for r in blocks.rules]
        for r in self._actions(prule, owner, main):
            out.append(Rule(_join(comment, r.match), r.action))
        return out

    def _main_match(self, main: m.Match, prule: ParsedRule,
                    src_nets, src_ports, src_named, dst_nets, dst_ports, dst_named,
                    not_src_nets, not_dst_nets) -> None:
        """Felix's CalculateRuleMatch order: positive criteria, then negated ones.
        `src_ports` / `dst_ports` are the port splits still to match here (at most one)."""
        if prule.protocol is not None:
            main.protocol(_proto(prule.protocol))
        if src_nets:
            main.source_net(src_nets[0])
        for set_id in prule.src_ipset_ids:
            main.ipset(self._ipset(set_id), "src")
        for split in src_ports:
            main.source_ports(split)
        for set_id in src_named:
            main.ipset(self._ipset(set_id), "src,src")
        if dst_nets:
            main.dest_net(dst_nets[0])
        for set_id in prule.dst_ipset_ids:
            main.ipset(self._ipset(set_id), "dst")
        for split in dst_ports:
            main.dest_ports(split)
        for set_id in dst_named:
            main.ipset(self._ipset(set_id), "dst,dst")
        if prule.icmp_type is not None:
            main.icmp(prule.icmp_type, prule.icmp_code, self.ip_version)

        if prule.not_protocol is not None:
            main.not_protocol(_proto(prule.not_protocol))
        if not_src_nets:
            main.not_source_net(not_src_nets[0])
        for set_id in prule.not_src_ipset_ids:
            main.ipset(self._ipset(set_id), "src", negate=True)
        for split in split_port_list(prule.not_src_ports) if prule.not_src_ports else ():
            main.source_ports(split, negate=True)
        for set_id in prule.not_src_named_port_ipset_ids:
            main.ipset(self._ipset(set_id), "src,src", negate=True)
        if not_dst_nets:
            main.not_dest_net(not_dst_nets[0])
        for set_id in prule.not_dst_ipset_ids:
            main.ipset(self._ipset(set_id), "dst", negate=True)
        for split in split_port_list(prule.not_dst_ports) if prule.not_dst_ports else ():
            main.dest_ports(split, negate=True)
        for set_id in prule.not_dst_named_port_ipset_ids:
            main.ipset(self._ipset(set_id), "dst,dst", negate=True)
        if prule.not_icmp_type is not None:
            main.icmp(prule.not_icmp_type, prule.not_icmp_code, self.ip_version, negate=True)

    def _actions(self, prule: ParsedRule, owner: RuleOwner, main: m.Match) -> list[Rule]:
        action = (prule.action or "allow").lower()
        if action == "log":
            return [Rule(main.render(), m.log(self.log_prefix(owner)))]
        texts = self._action_texts.get(action)
        if texts is None:
            raise RuleRenderError(f"unknown rule action {prule.action!r} (allow, deny, pass or log)")
        set_mark, gate, verdict = texts
        return [Rule(main.render(), set_mark), Rule(gate, verdict)]

    def log_prefix(self, owner: RuleOwner) -> str:
        """LogPrefix with Felix's specifiers: %t tier, %k kind, %n name, %p ns/name."""
        values = {"%t": owner.tier, "%k": owner.kind, "%n": owner.name,
                  "%p": f"{owner.namespace}/{owner.name}" if owner.namespace else owner.name}
        return _LOG_SPECIFIER.sub(lambda hit: values[hit.group(0)], self.config.log_prefix or "calico-packet")

    def _port_match(self, protocol: str | None, ports: list[str], direction: str) -> m.Match:
        match = m.Match()
        if protocol is not None:
            match.protocol(_proto(protocol))
        return match.source_ports(ports) if direction == "src" else match.dest_ports(ports)

    def _ipset(self, set_id: str) -> str:
        name = self._ipset_names.get(set_id)
        if name is None:
            name = self._ipset_names[set_id] = names.ipset_name(set_id, self.ip_version)
        return name


class _MatchBlocks:
    """Felix's match-block builder: OR inside a block, AND across blocks, with the
    result left in `all_pass` (scratch0). Invariant after every block: `all_pass` is
    set only if every block so far matched."""

    def __init__(self, all_pass: int, this_pass: int):
        self.all_pass, self.this_pass = all_pass, this_pass
        self.rules: list[Rule] = []
        self.used = False
        self._done_first_positive = False

    def _start(self, initial: int) -> None:
        if not self.used:
            self.rules.append(Rule("", m.set_masked_mark(initial, self.all_pass | self.this_pass)))
            self.used = True

    def positive(self, alternatives: list[m.Match]) -> None:
        self._start(0)
        # The first positive block writes straight into all_pass; later ones go
        # through this_pass and then AND it into all_pass.
        bit = self.this_pass if self._done_first_positive else self.all_pass
        for alt in alternatives:
            self.rules.append(Rule(alt.render(), m.set_mark(bit)))
        if self._done_first_positive:
            self.rules.append(Rule(m.Match().mark_clear(self.this_pass).render(), m.clear_mark(self.all_pass)))
        self._done_first_positive = True

    def negative(self, alternatives: list[m.Match]) -> None:
        # A negated block starts "passing" and any match clears all_pass. Felix
        # renders positive blocks first, so when this is the first block there
        # is no earlier result to preserve.
        self._start(self.all_pass)
        for alt in alternatives:
            self.rules.append(Rule(alt.render(), m.clear_mark(self.all_pass)))


def _comment_match(comment: str) -> str:
    return m.Match().comment(comment).render()


def _join(comment_match: str, match: str) -> str:
    return f"{comment_match} {match}" if match else comment_match


def _proto(protocol: str | int) -> str:
    return str(protocol).strip().lower()
