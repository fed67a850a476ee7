"""Per-kind validation entry point: `validate(resource) -> list[FieldError]`."""
from __future__ import annotations

from libcalico_py.errors import FieldError
from libcalico_py.validation import names


def validate(resource) -> list[FieldError]:
    errs: list[FieldError] = []
    meta = resource.metadata
    if not meta.name:
        errs.append(FieldError("metadata.name", "required field is missing"))
    else:
        reason = names.dns_subdomain(meta.name)
        if reason:
            errs.append(FieldError("metadata.name", reason, meta.name))
    return errs
