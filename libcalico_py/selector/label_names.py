"""Kubernetes label key and value rules, which Calico applies to every resource's labels.

A key is an optional prefix and a name: `[prefix/]name`. The prefix is a DNS-1123
subdomain (lower-case alphanumerics, '-' and '.', at most 253 characters); the name is
at most 63 characters of [A-Za-z0-9_.-] starting and ending with an alphanumeric. A
value is empty or follows the same rule as the name. (k8s.io/apimachinery
`IsQualifiedName` and `IsValidLabelValue`.)

The one implementation of these rules: the model validators (`validation.meta`,
`validation.k8s`) call it for labels, annotation keys and Kubernetes label selectors.
"""
from __future__ import annotations

import re
from typing import Optional

_NAME = re.compile(r"(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]\Z")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*\Z")
_NAME_RULE = ("must consist of alphanumeric characters, '-', '_' or '.', "
              "and must start and end with an alphanumeric character")


def validate_label_key(key: object) -> Optional[str]:
    """None if `key` is a valid label key, else why not."""
    if not isinstance(key, str):
        return "label key must be a string"
    parts = key.split("/")
    if len(parts) == 1:
        name = key
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            return "label key prefix part must be non-empty"
        if len(prefix) > 253:
            return "label key prefix part must be no more than 253 characters"
        if not _DNS1123_SUBDOMAIN.match(prefix):
            return ("label key prefix part must be a lowercase DNS-1123 subdomain (lower case "
                    "alphanumeric characters, '-' or '.', starting and ending with an alphanumeric)")
    else:
        return "label key may contain at most one '/' (an optional DNS subdomain prefix and a name)"
    if not name:
        return "label key name part must be non-empty"
    if len(name) > 63:
        return "label key name part must be no more than 63 characters"
    if not _NAME.match(name):
        return "label key name part " + _NAME_RULE
    return None


def validate_label_value(value: object) -> Optional[str]:
    """None if `value` is a valid label value (the empty string is valid), else why not."""
    if not isinstance(value, str):
        return "label value must be a string"
    if value == "":
        return None
    if len(value) > 63:
        return "label value must be no more than 63 characters"
    if not _NAME.match(value):
        return "label value " + _NAME_RULE
    return None
