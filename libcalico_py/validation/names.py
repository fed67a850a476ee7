"""Name checks: DNS-1123 labels and subdomains (resource names, namespaces) and Calico's
policy-name forms. Label keys and values are checked by
`libcalico_py.selector.label_names` (the selector package owns the label rules).

Each check returns None when the value is valid, otherwise the reason.
"""
from __future__ import annotations

import re

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_LABEL = re.compile(rf"^{_LABEL}$")
_DNS_SUBDOMAIN = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")
# Calico: a NetworkPolicy name is a label, `label.label`, or knp.default./ossg.default.
# followed by a subdomain; a GlobalNetworkPolicy name is a label or `label.label`.
_POLICY_NAME = re.compile(rf"^{_LABEL}(\.{_LABEL})?$")
_K8S_POLICY_NAME = re.compile(rf"^(knp|ossg)\.default\.{_LABEL}(\.{_LABEL})*$")


def _name_reason(value: str, max_len: int, patterns: tuple, rule: str) -> str | None:
    """The shared shape of every name check: present, not too long, one pattern matches."""
    if not value:
        return "must not be empty"
    if len(value) > max_len:
        return f"must be no more than {max_len} characters"
    if any(p.match(value) for p in patterns):
        return None
    return rule


def dns_label(value: str) -> str | None:
    return _name_reason(value, 63, (_DNS_LABEL,),
                        "must consist of lower case alphanumeric characters or '-', and must "
                        "start and end with an alphanumeric character")


def dns_subdomain(value: str) -> str | None:
    return _name_reason(value, 253, (_DNS_SUBDOMAIN,),
                        "must consist of lower case alphanumeric characters, '-' or '.', and "
                        "must start and end with an alphanumeric character")


def namespace(value: str) -> str | None:
    return dns_label(value)


def network_policy_name(value: str) -> str | None:
    return _name_reason(value, 253, (_POLICY_NAME, _K8S_POLICY_NAME),
                        "must be a DNS label, optionally with one '.' (e.g. 'allow-web' or "
                        "'tier1.allow-web'), or 'knp.default.<name>'")


def global_network_policy_name(value: str) -> str | None:
    return _name_reason(value, 253, (_POLICY_NAME,),
                        "must be a DNS label, optionally with one '.' (e.g. 'allow-web' or "
                        "'tier1.allow-web')")


def tier_name(value: str) -> str | None:
    return dns_label(value)
