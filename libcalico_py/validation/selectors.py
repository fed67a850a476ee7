"""Selector checks, delegated to the selector package (`validate_selector(text)`).

Imported lazily so the model works while the selector package is absent; then every
selector is taken as valid apart from the length limit Calico applies.
"""
from __future__ import annotations

MAX_SELECTOR_LEN = 1024


def selector_reason(text: str) -> str | None:
    if len(text) > MAX_SELECTOR_LEN:
        return f"selector is longer than {MAX_SELECTOR_LEN} characters"
    try:
        from libcalico_py.selector import validate_selector
    except ImportError:
        return None
    reason = validate_selector(text)
    return f"invalid selector: {reason}" if reason else None


def uses_global(text: str) -> bool:
    """True if the selector calls `global()` (allowed only in rule namespaceSelectors)."""
    return "global()" in text.replace(" ", "")
