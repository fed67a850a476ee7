"""Calico's label selector language.

`parse(text) -> Selector` (cached; raises `SelectorError`, a ValueError naming the
position and what was expected), `Selector.evaluate(labels)`, `str(selector)` (Calico's
canonical text), `selector.unique_id()` (Calico's "s:..." id that names ipsets),
`validate_selector(text)`, `global_selector_error(text, entity_namespace_selector=...)`
(where `global()` may appear), and the Kubernetes label key/value rules.

Submodules: `labels` (effective endpoint labels, namespace/service-account selector
translation), `index` (incremental selector/label index) and `linear_index` (its
brute-force reference).
"""
from libcalico_py.selector.errors import SelectorError
from libcalico_py.selector.label_names import validate_label_key, validate_label_value
from libcalico_py.selector.parser import global_selector_error, parse, validate_selector
from libcalico_py.selector.selector import Selector

__all__ = [
    "parse", "Selector", "SelectorError", "validate_selector",
    "validate_label_key", "validate_label_value", "global_selector_error",
]
