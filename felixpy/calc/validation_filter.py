"""Validation filter: raw datastore updates -> validated resource updates.

The first node of the graph (`felix/calc/validation_filter.go`). Every value is decoded
and run through `libcalico_py.model.load`, the same parser/defaulter/validator the CLI
uses. A value that does not decode or validate is treated exactly like a deletion of its
key and logged with the reasons: the graph then never holds a half-understood object,
and a later valid write simply re-creates it. Keys that are not v3 resources of a kind
we know are dropped here.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from libcalico_py.datastore.keys import parse_resource_key
from libcalico_py.errors import ValidationError
from libcalico_py.model import Resource, load

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ResourceUpdate:
    """One resource's new state; `resource` and `doc` are None for a deletion (or an
    invalid value). `doc` is the decoded JSON as stored (valid, but not defaulted)."""

    kind: str
    namespace: str | None
    name: str
    resource: Resource | None
    doc: dict | None
    revision: int


class ValidationFilter:
    def __init__(self) -> None:
        self.rejected = 0

    def decode(self, update: Any) -> ResourceUpdate | None:
        """None when the key is not a resource key."""
        key = parse_resource_key(update.key)
        if key is None:
            return None
        kind, namespace, name = key
        if update.value is None:
            return ResourceUpdate(kind, namespace, name, None, None, update.revision)
        reason = ""
        try:
            doc = json.loads(update.value)
            resource = load(doc)
        except ValidationError as exc:
            reason = "; ".join(f"{e.path}: {e.reason}" for e in exc.errors)
        except (ValueError, TypeError, UnicodeDecodeError) as exc:
            reason = f"value is not JSON: {exc}"
        else:
            meta = resource.metadata
            if resource.kind != kind:
                reason = f"kind {resource.kind} stored under a {kind} key"
            elif meta.name != name or (namespace is not None and meta.namespace not in (None, namespace)):
                reason = f"metadata names {meta.namespace}/{meta.name}, key names {namespace}/{name}"
            else:
                return ResourceUpdate(kind, namespace, name, resource, doc, update.revision)
        self.rejected += 1
        log.warning("Ignoring invalid %s %s (treated as deleted): %s", kind,
                    f"{namespace}/{name}" if namespace else name, reason)
        return ResourceUpdate(kind, namespace, name, None, None, update.revision)
