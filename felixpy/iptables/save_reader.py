"""Parse `iptables-save -t <table>` output into what the driver needs to recognise its own rules.

Only two things are read back: which chains exist, and for every rule its `cali:<hash>` comment
(or None for a rule without one). Rule text is never compared (neutron's mistake): a rule's
identity is its hash, so a rule someone edited by hand no longer carries a hash we expect and
gets rewritten. The rest of each rule line is kept only so a stale hook rule in a kernel chain
can be deleted by its exact spec (`-D CHAIN <spec>`), which is safer than deleting by position.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from felixpy.iptables.chain import HASH_LEN, RULE_HASH_PREFIX

_HASH_RE = re.compile(r'--comment "?' + re.escape(RULE_HASH_PREFIX) + r'([A-Za-z0-9_-]{%d})"?(?:\s|$)' % HASH_LEN)


@dataclass(frozen=True)
class SavedRule:
    hash: str | None      # our rule id, or None for a rule we did not write
    spec: str             # the rule line without "-A <chain> "


@dataclass
class SavedTable:
    name: str
    chains: dict[str, list[SavedRule]] = field(default_factory=dict)


def rule_hash(spec: str) -> str | None:
    """The `cali:` hash of one rule line, if it carries one."""
    m = _HASH_RE.search(spec)
    return m.group(1) if m else None


def _section_bodies(text: str, table: str):
    """The text after each `*<table>` line up to the next `*` line: the other tables'
    sections are skipped without being split into lines."""
    starts = [0] if text.startswith("*") else []
    pos = text.find("\n*")
    while pos != -1:
        starts.append(pos + 1)
        pos = text.find("\n*", pos + 1)
    starts.append(len(text) + 1)
    for begin, after in zip(starts, starts[1:]):
        eol = text.find("\n", begin, after)
        head_end = eol if eol != -1 else min(after, len(text))
        if text[begin + 1:head_end].strip() == table and eol != -1:
            yield text[eol + 1:after - 1]


def parse_save(text: str, table: str) -> SavedTable:
    """Chains and per-rule hashes of `table` in iptables-save output (other tables ignored)."""
    out = SavedTable(table)
    chains = out.chains
    for body in _section_bodies(text, table):
        for line in body.splitlines():
            if not line or line[0] == "#":
                continue
            if line[0] == ":":
                chains.setdefault(line[1:].split(" ", 1)[0], [])
            elif line.startswith("-A "):
                _, chain, *rest = line.split(" ", 2)
                spec = rest[0] if rest else ""
                chains.setdefault(chain, []).append(SavedRule(rule_hash(spec), spec))
    return out
