"""Name checks: DNS-1123 labels and subdomains (resource names, namespaces), Kubernetes
qualified label keys and label values, and Calico's policy-name forms.

Each check returns None when the value is valid, otherwise the reason.
"""
from __future__ import annotations

import re

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_LABEL = re.compile(rf"^{_LABEL}$")
_DNS_SUBDOMAIN = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
# Calico: a NetworkPolicy name is a label, `label.label`, or knp.default./ossg.default.
# followed by a subdomain; a GlobalNetworkPolicy name is a label or `label.label`.
_POLICY_NAME = re.compile(rf"^{_LABEL}(\.{_LABEL})?$")
_K8S_POLICY_NAME = re.compile(rf"^(knp|ossg)\.default\.{_LABEL}(\.{_LABEL})*$")


def dns_label(value: str) -> str | None:
    if not value:
        return "must not be empty"
    if len(value) > 63:
        return "must be no more than 63 characters"
    if not _DNS_LABEL.match(value):
        return ("must consist of lower case alphanumeric characters or '-', and must start "
                "and end with an alphanumeric character")
    return None


def dns_subdomain(value: str) -> str | None:
    if not value:
        return "must not be empty"
    if len(value) > 253:
        return "must be no more than 253 characters"
    if not _DNS_SUBDOMAIN.match(value):
        return ("must consist of lower case alphanumeric characters, '-' or '.', and must "
                "start and end with an alphanumeric character")
    return None


def namespace(value: str) -> str | None:
    return dns_label(value)


def label_key(key: str) -> str | None:
    """A Kubernetes qualified name: optional `<dns subdomain>/` prefix, then a name of at
    most 63 characters of alphanumerics, '-', '_' and '.', alphanumeric at both ends."""
    if not key:
        return "label key must not be empty"
    prefix, sep, name = key.rpartition("/")
    if sep:
        if not prefix:
            return "label key prefix must not be empty"
        reason = dns_subdomain(prefix)
        if reason:
            return f"label key prefix {reason}"
    if not name:
        return "label key name must not be empty"
    if len(name) > 63:
        return "label key name must be no more than 63 characters"
    if not _QUALIFIED_NAME.match(name):
        return ("label key name must consist of alphanumeric characters, '-', '_' or '.', "
                "and must start and end with an alphanumeric character")
    return None


def label_value(value: str) -> str | None:
    if len(value) > 63:
        return "label value must be no more than 63 characters"
    if not _LABEL_VALUE.match(value):
        return ("label value must be empty or consist of alphanumeric characters, '-', '_' "
                "or '.', and must start and end with an alphanumeric character")
    return None


def network_policy_name(value: str) -> str | None:
    if not value:
        return "must not be empty"
    if len(value) > 253:
        return "must be no more than 253 characters"
    if _POLICY_NAME.match(value) or _K8S_POLICY_NAME.match(value):
        return None
    return ("must be a DNS label, optionally with one '.' (e.g. 'allow-web' or "
            "'tier1.allow-web'), or 'knp.default.<name>'")


def global_network_policy_name(value: str) -> str | None:
    if not value:
        return "must not be empty"
    if len(value) > 253:
        return "must be no more than 253 characters"
    if _POLICY_NAME.match(value):
        return None
    return "must be a DNS label, optionally with one '.' (e.g. 'allow-web' or 'tier1.allow-web')"


def tier_name(value: str) -> str | None:
    return dns_label(value)
