"""Selector checks for the validators, delegated to the selector package: the syntax
(`validate_selector`), Calico's length limit, and where `global()` may appear
(`global_selector_error`, decided on the parsed selector, with Calico's messages)."""
from __future__ import annotations

from libcalico_py.selector import global_selector_error, validate_selector

MAX_SELECTOR_LEN = 1024


def selector_reason(text: str, *, entity_namespace_selector: bool = False) -> str | None:
    """None if `text` is a valid selector for its place, else the reason. Only an
    EntityRule's namespaceSelector may be `global()` (and then nothing else)."""
    if len(text) > MAX_SELECTOR_LEN:
        return f"selector is longer than {MAX_SELECTOR_LEN} characters"
    reason = validate_selector(text)
    if reason:
        return f"invalid selector: {reason}"
    return global_selector_error(text, entity_namespace_selector=entity_namespace_selector)
