"""kubectl's label-argument semantics: `k=v` sets, `k-` removes, changing an existing
value needs --overwrite. Pure, shared by `namespace label` and `pod label`."""
from __future__ import annotations


class LabelError(ValueError):
    pass


def parse_pairs(items) -> dict[str, str]:
    """`--label k=v` options into a dict."""
    out = {}
    for item in items:
        if "=" not in item:
            raise LabelError(f"invalid label {item!r}: expected key=value")
        k, v = item.split("=", 1)
        out[k] = v
    return out


def apply_changes(current: dict[str, str], args, overwrite: bool) -> dict[str, str]:
    """The new label set after `args` (k=v / k-), as kubectl label computes it."""
    from libcalico_py.selector import validate_label_key, validate_label_value
    result = dict(current)
    if not args:
        raise LabelError("at least one label update is required")
    for arg in args:
        if arg.endswith("-") and "=" not in arg:
            key = arg[:-1]
            if key not in result:
                raise LabelError(f"label {key!r} not found")
            del result[key]
            continue
        if "=" not in arg:
            raise LabelError(f"invalid label spec {arg!r}: expected key=value or key-")
        key, value = arg.split("=", 1)
        problem = validate_label_key(key) or validate_label_value(value)
        if problem:
            raise LabelError(f"invalid label {arg!r}: {problem}")
        if key in current and current[key] != value and not overwrite:
            raise LabelError(f"'{key}' already has a value ({current[key]}), and --overwrite is false")
        result[key] = value
    return result
