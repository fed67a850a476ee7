"""Validation as Calico validates: field checks (names, networks, ports, protocols,
AS numbers, selectors) and the per-kind cross-field rules.

`libcalico_py.validation.resources.validate(resource)` returns every FieldError of one
object; `libcalico_py.model.load` raises them together as one ValidationError.
"""
