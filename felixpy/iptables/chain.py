"""Chain and Rule values: the seam between rendering (felixpy.rules) and the
iptables driver (felixpy.iptables.table).

A Rule is match text plus action text in iptables-restore syntax, without the chain
name and without our `cali:<hash>` comment: the driver adds both, so a rule's identity
is its position-chained hash (see `rule_hashes`), never a text comparison.
"""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

RULE_HASH_PREFIX = "cali:"
HASH_LEN = 16


@dataclass(frozen=True)
class Rule:
    match: str = ""            # e.g. "-p tcp -m set --match-set cali40s:abc src"
    action: str = ""           # e.g. "-j ACCEPT", "-g cali-fw-cali1234", "-j MARK --set-xmark 0x10000/0x10000"
    comment: str = ""          # human comment, e.g. "NetworkPolicy prod/allow-web ingress"

    def render(self) -> str:
        """Rule text without the hash comment (what the hash is computed over)."""
        match, action = self.match, self.action
        if self.comment:
            parts = [p for p in (match, f'-m comment --comment "{self.comment}"', action) if p]
            return " ".join(parts)
        if match and action:
            return f"{match} {action}"
        return match or action


@dataclass(frozen=True)
class Chain:
    name: str
    rules: tuple[Rule, ...] = ()


def rule_hashes(chain_name: str, rules: tuple[Rule, ...] | list[Rule]) -> list[str]:
    """Felix's chained rule hashes: h0 = SHA-224(chain name); h_i = SHA-224(h_{i-1} +
    rule text); each id is the first 16 chars of base64url(h_i). A rule's id thus
    depends on its chain, its position and everything before it."""
    h = hashlib.sha224(chain_name.encode()).digest()
    out = []
    for rule in rules:
        h = hashlib.sha224(h + rule.render().encode()).digest()
        out.append(base64.urlsafe_b64encode(h).decode()[:HASH_LEN])
    return out
