"""iptables-save style text of rendered chains, for golden files and restore tests.

`chains_text` prints chains the way `iptables-save` lists them (`:name - [0:0]`
declarations, then `-A name ...`). With `hashes=True` each rule gets the
`-m comment --comment "cali:<hash>"` prefix exactly as the iptables driver adds it,
so the text is what the kernel would be fed.
"""
from __future__ import annotations

from collections.abc import Iterable

from felixpy.iptables.chain import RULE_HASH_PREFIX, Chain, Rule, rule_hashes


def rule_lines(chain_name: str, rules: Iterable[Rule], hashes: bool, verb: str = "-A") -> list[str]:
    rules = list(rules)
    ids = rule_hashes(chain_name, rules) if hashes else [None] * len(rules)
    lines = []
    for position, (rule, ident) in enumerate(zip(rules, ids), start=1):
        body = rule.render()
        if ident is not None:
            body = f'-m comment --comment "{RULE_HASH_PREFIX}{ident}" {body}'.rstrip()
        where = f"{chain_name} {position}" if verb == "-I" else chain_name
        lines.append(f"{verb} {where} {body}".rstrip())
    return lines


def chains_text(chains: Iterable[Chain], hashes: bool = False) -> str:
    chains = list(chains)
    lines = [f":{c.name} - [0:0]" for c in chains]
    for c in chains:
        lines.extend(rule_lines(c.name, c.rules, hashes))
    return "\n".join(lines) + "\n"


def restore_payload(table: str, chains: Iterable[Chain], inserts: dict[str, list[Rule]] | None = None,
                    appends: dict[str, list[Rule]] | None = None) -> str:
    """A complete `iptables-restore` input for one table, with hashes, hooks included."""
    out = [f"*{table}", chains_text(chains, hashes=True).rstrip("\n")]
    for kernel_chain, rules in (inserts or {}).items():
        out.extend(rule_lines(kernel_chain, rules, hashes=True, verb="-I"))
    for kernel_chain, rules in (appends or {}).items():
        out.extend(rule_lines(kernel_chain, rules, hashes=True, verb="-A"))
    out.append("COMMIT")
    return "\n".join(out) + "\n"
