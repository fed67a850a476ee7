"""kubectl's label-argument semantics, shared by `namespace label` and `pod label`, and
the `--label k=v` options of `namespace add` / `pod add`. Pure functions.

As `kubectl label`: `k=v` sets, `k-` removes; changing an existing key to a different
value needs --overwrite (setting the same value again is fine); removing a key that is
not there is not an error, kubectl just says `label "k" not found.`; a key may not be
both set and removed in one command; keys and values are validated as Kubernetes does.
"""
from __future__ import annotations


class LabelError(ValueError):
    pass


def _check(key: str, value: str, spec: str) -> None:
    from libcalico_py.selector import validate_label_key, validate_label_value
    problem = validate_label_key(key) or validate_label_value(value)
    if problem:
        raise LabelError(f"invalid label {spec!r}: {problem}")


def parse_pairs(items) -> dict[str, str]:
    """`--label k=v` options into a dict (each validated)."""
    out = {}
    for item in items:
        if "=" not in item:
            raise LabelError(f"invalid label {item!r}: expected key=value")
        k, v = item.split("=", 1)
        _check(k, v, item)
        out[k] = v
    return out


def parse_changes(args) -> tuple[dict[str, str], list[str]]:
    """(labels to set, keys to remove) from `k=v` / `k-` arguments."""
    if not args:
        raise LabelError("at least one label update is required")
    sets: dict[str, str] = {}
    removes: list[str] = []
    for arg in args:
        if "=" in arg:
            key, value = arg.split("=", 1)
            _check(key, value, arg)
            sets[key] = value
        elif arg.endswith("-") and arg != "-":
            removes.append(arg[:-1])
        else:
            raise LabelError(f"invalid label spec {arg!r}: expected key=value or key-")
    both = sorted(set(sets) & set(removes))
    if both:
        raise LabelError(f"can not both modify and remove label {both[0]!r} in the same command")
    return sets, removes


def missing_removals(current: dict[str, str], args) -> list[str]:
    """Keys the command asks to remove that are not there (kubectl: `label "k" not found.`)."""
    _, removes = parse_changes(args)
    return [k for k in removes if k not in current]


def apply_changes(current: dict[str, str], args, overwrite: bool) -> dict[str, str]:
    """The new label set after `args` (k=v / k-), as kubectl label computes it."""
    sets, removes = parse_changes(args)
    if not overwrite:
        for key in sorted(sets):
            if key in current and current[key] != sets[key]:
                raise LabelError(f"'{key}' already has a value ({current[key]}), and --overwrite is false")
    result = {k: v for k, v in current.items() if k not in removes}
    result.update(sets)
    return result
