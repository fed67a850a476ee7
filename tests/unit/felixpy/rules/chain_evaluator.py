"""A tiny interpreter for rendered policy chains, and Calico's rule semantics, for tests.

`run_chain` walks a chain's rules the way netfilter would for the subset of matches and
targets the policy renderer emits (protocol, -s/-d, multiport, icmp, set, mark, comment;
MARK, RETURN, DROP, REJECT, LOG) and reports the verdict the endpoint chain would see.
`calico_verdict` decides the same question straight from the ParsedRules. Property tests
compare the two, which checks the match-block mark logic without a kernel.
"""
from __future__ import annotations

import ipaddress
import shlex
from dataclasses import dataclass, field

from felixpy.calc.messages import ParsedRule
from felixpy.iptables.chain import Chain
from felixpy.rules.defs import RulesConfig


@dataclass(frozen=True)
class Packet:
    protocol: str = "tcp"
    src: str = "10.0.0.1"
    dst: str = "10.0.0.2"
    sport: int = 1000
    dport: int = 80
    icmp_type: int | None = None
    icmp_code: int | None = None
    src_sets: frozenset = frozenset()      # selector set IDs containing the source
    dst_sets: frozenset = frozenset()
    src_named: frozenset = frozenset()     # named-port set IDs containing (src, proto:sport)
    dst_named: frozenset = frozenset()
    ct_state: str = "NEW"
    logs: list = field(default_factory=list, compare=False, hash=False)


def _in_net(ip: str, cidr: str) -> bool:
    return ipaddress.ip_address(ip) in ipaddress.ip_network(cidr, strict=False)


def _port_in(port: int, spec: str) -> bool:
    lo, _, hi = spec.partition(":")
    return int(lo) <= port <= int(hi or lo)


def _set_id(name: str) -> str:
    assert name.startswith("cali40"), name
    return name[len("cali40"):]


def _match(tokens: list[str], pkt: Packet, mark: int) -> bool:
    i, ok = 0, True
    while i < len(tokens):
        neg = tokens[i] == "!"
        if neg:
            i += 1
        tok = tokens[i]
        if tok == "-m":
            module = tokens[i + 1]
            i += 2
            if module == "comment":
                i += 2
                continue
            neg = tokens[i] == "!"
            if neg:
                i += 1
            opt, arg = tokens[i], tokens[i + 1]
            i += 2
            if module == "set":
                direction = tokens[i]
                i += 1
                set_id = _set_id(arg)
                pool = {"src": pkt.src_sets, "dst": pkt.dst_sets,
                        "src,src": pkt.src_named, "dst,dst": pkt.dst_named}[direction]
                hit = set_id in pool
            elif module == "multiport":
                port = pkt.sport if opt == "--source-ports" else pkt.dport
                hit = pkt.protocol in ("tcp", "udp", "sctp") and any(_port_in(port, s) for s in arg.split(","))
            elif module == "icmp":
                t, _, c = arg.partition("/")
                hit = (pkt.protocol == "icmp" and pkt.icmp_type == int(t)
                       and (not c or pkt.icmp_code == int(c)))
            elif module == "conntrack":
                hit = pkt.ct_state in arg.split(",")
            elif module == "mark":
                value, _, mask = arg.partition("/")
                hit = mark & int(mask, 16) == int(value, 16)
            else:
                raise AssertionError(f"unexpected module {module}")
        elif tok == "-p":
            hit = pkt.protocol == tokens[i + 1]
            i += 2
        elif tok in ("-s", "-d"):
            hit = _in_net(pkt.src if tok == "-s" else pkt.dst, tokens[i + 1])
            i += 2
        else:
            raise AssertionError(f"unexpected token {tok} in {tokens}")
        ok = ok and (hit != neg)
    return ok


def run_chain(chain: Chain, pkt: Packet, config: RulesConfig, mark: int = 0) -> str:
    """"allow", "pass", "deny" or "none" (fell off the end with no verdict mark)."""
    for rule in chain.rules:
        text = rule.match
        if not _match(shlex.split(text), pkt, mark):
            continue
        action = shlex.split(rule.action)
        if not action:
            continue
        target = action[1]
        if target == "MARK":
            value, _, mask = action[3].partition("/")
            mark = (mark & ~int(mask, 16)) | int(value, 16)
        elif target == "RETURN":
            break
        elif target in ("DROP", "REJECT"):
            return "deny"
        elif target == "LOG":
            pkt.logs.append(action[3])
        else:
            raise AssertionError(f"unexpected target {target}")
    if mark & config.mark_accept:
        return "allow"
    if mark & config.mark_pass:
        return "pass"
    return "none"


def _ports_match(port: int, ports: tuple[str, ...], named: tuple[str, ...], pkt_named: frozenset) -> bool:
    return any(_port_in(port, p.replace("-", ":")) for p in ports) or any(n in pkt_named for n in named)


def rule_matches(r: ParsedRule, pkt: Packet) -> bool:
    has_ports = pkt.protocol in ("tcp", "udp", "sctp")
    checks = [
        r.protocol is None or pkt.protocol == r.protocol,
        r.not_protocol is None or pkt.protocol != r.not_protocol,
        not r.src_nets or any(_in_net(pkt.src, n) for n in r.src_nets),
        not any(_in_net(pkt.src, n) for n in r.not_src_nets),
        not r.dst_nets or any(_in_net(pkt.dst, n) for n in r.dst_nets),
        not any(_in_net(pkt.dst, n) for n in r.not_dst_nets),
        all(s in pkt.src_sets for s in r.src_ipset_ids),
        not any(s in pkt.src_sets for s in r.not_src_ipset_ids),
        all(s in pkt.dst_sets for s in r.dst_ipset_ids),
        not any(s in pkt.dst_sets for s in r.not_dst_ipset_ids),
        (not r.src_ports and not r.src_named_port_ipset_ids)
        or (has_ports and _ports_match(pkt.sport, r.src_ports, r.src_named_port_ipset_ids, pkt.src_named)),
        (not r.dst_ports and not r.dst_named_port_ipset_ids)
        or (has_ports and _ports_match(pkt.dport, r.dst_ports, r.dst_named_port_ipset_ids, pkt.dst_named)),
        not (has_ports and any(_port_in(pkt.sport, p) for p in r.not_src_ports)),
        not (has_ports and any(_port_in(pkt.dport, p) for p in r.not_dst_ports)),
        not any(n in pkt.src_named for n in r.not_src_named_port_ipset_ids),
        not any(n in pkt.dst_named for n in r.not_dst_named_port_ipset_ids),
    ]
    return all(checks)


def calico_verdict(rules: tuple[ParsedRule, ...], pkt: Packet) -> str:
    for r in rules:
        if rule_matches(r, pkt) and r.action != "log":
            return r.action
    return "none"


def run_tree(chains: dict[str, Chain], start: str, pkt: Packet, config: RulesConfig) -> str:
    """Follow jumps and gotos from `start` as netfilter does; "accept" if the start
    chain is left by RETURN (or falls off) with the accept mark set, "drop" if a DROP
    or REJECT is hit or the chain returns without it."""
    mark = 0

    def call(name: str) -> str | None:        # None = returned to the caller
        nonlocal mark
        for rule in chains[name].rules:
            if not _match(shlex.split(rule.match), pkt, mark):
                continue
            action = shlex.split(rule.action)
            if not action:
                continue
            verb, target = action[0], action[1]
            if target == "MARK":
                value, _, mask = action[3].partition("/")
                mark = (mark & ~int(mask, 16)) | int(value, 16)
            elif target == "RETURN":
                return None
            elif target in ("DROP", "REJECT"):
                return "drop"
            elif target == "ACCEPT":
                return "accept"
            elif target == "LOG":
                pkt.logs.append(action[3])
            elif verb == "-j":
                verdict = call(target)
                if verdict is not None:
                    return verdict
            elif verb == "-g":
                return call(target)
            else:
                raise AssertionError(f"unexpected action {rule.action}")
        return None

    verdict = call(start)
    if verdict is None:
        verdict = "accept" if mark & config.mark_accept else "drop"
    return verdict
