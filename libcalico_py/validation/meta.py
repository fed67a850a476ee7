"""Metadata checks shared by every kind: name (per kind's naming rule), namespace,
label keys and values, annotation size."""
from __future__ import annotations

from typing import Callable

from libcalico_py.selector.label_names import validate_label_key, validate_label_value
from libcalico_py.validation import names
from libcalico_py.validation.collector import Collector

MAX_ANNOTATIONS_BYTES = 256 * 1024

NAME_CHECKS: dict[str, Callable[[str], str | None]] = {
    "NetworkPolicy": names.network_policy_name,
    "GlobalNetworkPolicy": names.global_network_policy_name,
}


def validate_labels(errs: Collector, path: str, labels: dict) -> None:
    for key, value in labels.items():
        errs.check(f"{path}[{key}]", validate_label_key(key), key)
        if isinstance(value, str):
            errs.check(f"{path}[{key}]", validate_label_value(value), value)


def validate_metadata(errs: Collector, kind: str, namespaced: bool, meta) -> None:
    if not meta.name:
        errs.add("metadata.name", "required field is missing")
    else:
        check = NAME_CHECKS.get(kind, names.dns_subdomain)
        errs.check("metadata.name", check(meta.name), meta.name)
    if namespaced and meta.namespace:
        errs.check("metadata.namespace", names.namespace(meta.namespace), meta.namespace)
    elif not namespaced and meta.namespace:
        errs.add("metadata.namespace", f"namespace is not allowed: {kind} is cluster-scoped",
                 meta.namespace)
    validate_labels(errs, "metadata.labels", meta.labels)
    size = sum(len(k) + len(v or "") for k, v in meta.annotations.items())
    if size > MAX_ANNOTATIONS_BYTES:
        errs.add("metadata.annotations", f"annotations total {size} bytes, more than "
                                         f"{MAX_ANNOTATIONS_BYTES}")
    for key in meta.annotations:
        errs.check(f"metadata.annotations[{key}]", validate_label_key(key), key)
