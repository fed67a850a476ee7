"""Kernel object names: chains and IP sets, built from the prefixes in defs.py.

Chain names are limited to 28 characters (calico.md §5.6). A name is `prefix + id`
when that fits; otherwise, or when it fits exactly but the id starts with "_", it
becomes `prefix + "_" + base64url(SHA-256(id))` cut to the limit, as Felix's
GetLengthLimitedID does, so a shortened name can never collide with a literal one.

IP set names are `cali4` / `cali6` + the version token `0` + the set ID, cut to 31
characters (§5.8): selector sets "s:..." become "cali40s:...".
"""
from __future__ import annotations

import base64
import hashlib

from felixpy.calc.messages import PolicyID
from felixpy.rules import defs

MASQ_IPSET_ID = defs.MASQ_IPSET_ID
ALL_POOLS_IPSET_ID = defs.ALL_POOLS_IPSET_ID


def length_limited_id(prefix: str, suffix: str, max_length: int = defs.MAX_CHAIN_NAME_LENGTH) -> str:
    """`prefix + suffix`, or `prefix + "_" + hash(suffix)` when that would not fit."""
    total = len(prefix) + len(suffix)
    if total > max_length or (total == max_length and suffix.startswith(defs.SHORTENED_MARKER)):
        digest = base64.urlsafe_b64encode(hashlib.sha256(suffix.encode()).digest()).decode().rstrip("=")
        room = max_length - 1 - len(prefix)
        if room <= 0:
            raise ValueError(f"chain prefix {prefix!r} leaves no room for a hash within {max_length}")
        return prefix + defs.SHORTENED_MARKER + digest[:room]
    return prefix + suffix


def policy_chain_name(prefix: str, policy_id: PolicyID | str) -> str:
    """cali-pi-/cali-po- + "np/<ns>/<name>", "gnp/<name>", "knp/<ns>/<name>"."""
    return length_limited_id(prefix, str(policy_id))


def profile_chain_name(prefix: str, profile_id: str) -> str:
    """cali-pri-/cali-pro- + the profile name (e.g. "kns.prod")."""
    return length_limited_id(prefix, profile_id)


def endpoint_chain_name(prefix: str, iface: str) -> str:
    """cali-tw-/cali-fw- + the host-side interface name."""
    return length_limited_id(prefix, iface)


def ipset_name(set_id: str, ip_version: int = 4) -> str:
    """The main (non-temporary) IP set for a set ID: "cali40" + id, at most 31 chars."""
    if ip_version not in (4, 6):
        raise ValueError(f"ip_version must be 4 or 6, got {ip_version!r}")
    prefix = defs.IPSET_PREFIX_V4 if ip_version == 4 else defs.IPSET_PREFIX_V6
    return (prefix + set_id)[:defs.MAX_IPSET_NAME_LENGTH]


def policy_comment_id(policy_id: PolicyID) -> str:
    """The id as it appears in provenance comments ("np/prod/allow-web")."""
    return str(policy_id)


def policy_display_name(policy_id: PolicyID) -> str:
    """"NetworkPolicy prod/allow-web", "GlobalNetworkPolicy deny-all"."""
    kind = defs.POLICY_KIND_NAMES.get(policy_id.kind, policy_id.kind)
    where = f"{policy_id.namespace}/{policy_id.name}" if policy_id.namespace else policy_id.name
    return f"{kind} {where}"
