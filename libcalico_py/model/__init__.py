"""The typed Calico v3 resource model.

`load(doc)` parses a manifest dict (YAML/JSON already decoded), fills the defaults
Calico fills, validates, and returns a `Resource`; every problem is raised together as
one ValidationError whose FieldErrors carry paths from the document root.
`Resource.to_dict()` writes Calico's camelCase form back, so
`load(r.to_dict()).to_dict() == r.to_dict()`.

Spec classes live one family per module (policy, endpoint, profile, ippool, node, bgp,
felixconfig, networkset, cluster, ipreservation, k8s); `schema.py` is the field-table
engine they share.
"""
from __future__ import annotations

from typing import Any

from libcalico_py.errors import FieldError, ValidationError
from libcalico_py.model.resource import SPEC_CLASSES, Resource, parse_document

__all__ = ["Resource", "load", "parse", "make", "fill_defaults", "validate",
           "validate_pool_overlap", "SPEC_CLASSES"]


def fill_defaults(resource: Resource) -> Resource:
    """Fill the defaults Calico fills on write (in place); returns the resource."""
    filler = getattr(resource.spec, "fill_defaults", None)
    if filler is not None:
        filler(resource.metadata)
    return resource


def validate(resource: Resource) -> list[FieldError]:
    """Every field error of a (defaulted) resource; [] when valid."""
    from libcalico_py.validation.resources import validate as _validate
    return _validate(resource)


def parse(doc: Any) -> Resource:
    """Parse without defaulting or cross-field validation; raises ValidationError for type
    errors and unknown fields."""
    errs: list[FieldError] = []
    res = parse_document(doc, errs)
    if errs:
        raise ValidationError(errs, _kind_of(doc, res), _name_of(doc))
    return res


def load(doc: Any) -> Resource:
    """Parse, fill Calico's defaults, validate. Raises ValidationError with ALL errors."""
    errs: list[FieldError] = []
    res = parse_document(doc, errs)
    if res is not None:
        fill_defaults(res)
        errs.extend(e for e in validate(res) if e.path not in {x.path for x in errs})
    if errs:
        raise ValidationError(errs, _kind_of(doc, res), _name_of(doc))
    return res


def make(kind: str, name: str, namespace: str | None = None, spec: dict | None = None,
         labels: dict | None = None, annotations: dict | None = None) -> Resource:
    """Build and `load` a resource from its parts, e.g.
    `make("IPPool", "pool1", spec={"cidr": "10.0.0.0/16"})`."""
    from libcalico_py.model import kinds
    ks = kinds.by_kind(kind)
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = dict(labels)
    if annotations:
        meta["annotations"] = dict(annotations)
    return load({"apiVersion": ks.api_version, "kind": ks.doc_kind, "metadata": meta,
                 "spec": spec or {}})


def validate_pool_overlap(pool: Resource, other_pools: list[Resource]) -> list[FieldError]:
    """Errors at `spec.cidr` if `pool` overlaps any other pool (same-name pools skipped)."""
    from libcalico_py.validation.pools import validate_pool_overlap as _overlap
    return _overlap(pool, other_pools)


def _kind_of(doc: Any, res: Resource | None) -> str | None:
    if res is not None:
        return res.kind
    return doc.get("kind") if isinstance(doc, dict) and isinstance(doc.get("kind"), str) else None


def _name_of(doc: Any) -> str | None:
    meta = doc.get("metadata") if isinstance(doc, dict) else None
    name = meta.get("name") if isinstance(meta, dict) else None
    return name if isinstance(name, str) else None
