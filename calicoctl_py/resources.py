"""The resource verbs: create, apply, replace, delete, get, patch, label.

A file is validated whole before anything is written: every document is parsed and
validated by libcalico_py.model, and if any fails, every error is listed with its
document index, kind, name and field, and nothing is written (calicoctl itself writes
document by document and stops at the first error; we deliberately do not).
"""
from __future__ import annotations

import copy

import click

from calicoctl_py.exit import fail

ACTION_PAST = {"create": "created", "apply": "applied", "replace": "replaced", "delete": "deleted"}


def _kind_spec_for_doc(doc):
    from libcalico_py.model import kinds
    body = doc.body
    api_version, kind = body.get("apiVersion"), body.get("kind")
    if not kind:
        return None, "document has no 'kind'"
    spec = kinds.by_document(api_version, kind)
    if spec is None:
        if api_version is None:
            return None, f"document has no 'apiVersion' (kind {kind})"
        return None, f"resource type '{kind}' ({api_version}) is not supported"
    return spec, None


def _describe(doc, spec) -> str:
    md = doc.body.get("metadata") or {}
    name = md.get("name", "<unnamed>")
    ns = md.get("namespace")
    kind = spec.kind if spec else doc.body.get("kind", "?")
    where = f"{ns}/{name}" if ns and spec and spec.namespaced else name
    return f"document {doc.index} ({doc.source}) {kind} '{where}'"


def load_documents(docs, namespace: str | None, action: str):
    """Parse and validate every document; return resources or exit listing every error."""
    from libcalico_py import model
    from libcalico_py.errors import ValidationError
    resources, errors = [], []
    for doc in docs:
        spec, problem = _kind_spec_for_doc(doc)
        if problem:
            errors.append(f"{_describe(doc, spec)}: {problem}")
            continue
        body = copy.deepcopy(doc.body)
        md = body.setdefault("metadata", {}) if isinstance(body.get("metadata", {}), dict) else None
        if md is None:
            errors.append(f"{_describe(doc, spec)}: metadata: must be a mapping")
            continue
        if spec.namespaced:
            if namespace and md.get("namespace") and md["namespace"] != namespace:
                errors.append(f"{_describe(doc, spec)}: metadata.namespace: '{md['namespace']}' "
                              f"does not match the namespace given on the command line '{namespace}'")
                continue
            md.setdefault("namespace", namespace or "default")
        if action == "create":
            md.pop("resourceVersion", None)
        try:
            resources.append((doc, model.load(body)))
        except ValidationError as e:
            for fe in e.errors:
                errors.append(f"{_describe(doc, spec)}: {field_error_text(fe)}")
    if not errors:
        pools = _pools(r for _, r in resources)
        errors.extend(_pool_overlaps(pools, pools))
    if errors:
        msg = "\n".join(errors)
        fail(f"Failed to {action} resources: {len(errors)} error(s), nothing was written:\n{msg}")
    return resources


def field_error_text(fe) -> str:
    """One field error as users read it; unknown fields in calicoctl's words
    ("field in document is not recognized or is in the wrong location: spec.foo")."""
    from libcalico_py.model.schema import UNKNOWN_FIELD
    if fe.reason == UNKNOWN_FIELD:
        return f"{UNKNOWN_FIELD}: {fe.path}"
    return str(fe)


def failure_message(action: str, kinds: list[str], total: int, done: int, error) -> str:
    """calicoctl's wording when a write or delete fails part-way (create.go/delete.go):
    nothing handled -> "Failed to <action> ..."; some handled -> "Partial success: ..."."""
    distinct = sorted(set(kinds))
    kind = distinct[0] if len(distinct) == 1 else None
    if done == 0:
        if total == 1 and kind:
            return f"Failed to {action} '{kind}' resource: {error}"
        if kind:
            return f"Failed to {action} any '{kind}' resources: {error}"
        return f"Failed to {action} any resources: {error}"
    what = f"'{kind}' resources" if kind else "resources"
    return (f"Partial success: {ACTION_PAST.get(action, action + 'd')} the first {done} out of "
            f"{total} {what}:\nHit error: {error}")


def _pools(resources) -> list:
    return [r for r in resources if r.kind == "IPPool"]


def _pool_overlaps(pools, against) -> list[str]:
    """An error line for each of `pools` that overlaps a pool of `against`
    (`validate_pool_overlap` skips the pool's own name: itself, or the stored version it
    replaces)."""
    from libcalico_py import model
    return [f"IPPool '{pool.metadata.name}': {fe}" for pool in pools
            for fe in model.validate_pool_overlap(pool, against)]


def _summary(action: str, kinds: list[str], count: int) -> str:
    past = ACTION_PAST[action]
    distinct = sorted(set(kinds))
    if len(distinct) == 1:
        return f"Successfully {past} {count} '{distinct[0]}' resource(s)"
    return f"Successfully {past} {count} resource(s)"


def write_all(ds, resources, action: str, skip_exists=False, skip_not_exists=False):
    """Write validated resources one by one; report partial success on a datastore error."""
    from libcalico_py.errors import AlreadyExists, NotFound, CalicoError
    pools = _pools(r for _, r in resources)
    if action in ("create", "apply", "replace") and pools:
        overlaps = _pool_overlaps(pools, ds.list("IPPool")[0])
        if overlaps:
            fail(f"Failed to {action} resources: nothing was written:\n" + "\n".join(overlaps))
    done, kinds = 0, []
    for doc, res in resources:
        spec_kind = _doc_kind(res)
        try:
            if action == "create":
                try:
                    ds.create(res)
                except AlreadyExists:
                    if not skip_exists:
                        raise
            elif action == "apply":
                ds.apply(res)
            elif action == "replace":
                _replace(ds, res)
            elif action == "delete":
                try:
                    ds.delete(res.kind, res.metadata.name, _namespace_of(res))
                except NotFound:
                    if not skip_not_exists:
                        raise
        except CalicoError as e:
            fail(failure_message(action, [_doc_kind(r) for _, r in resources], len(resources), done, e))
        done += 1
        kinds.append(spec_kind)
    click.echo(_summary(action, kinds, done))


def _replace(ds, res):
    """Update only: the resource must exist; an absent resourceVersion takes the stored one."""
    current = ds.get(res.kind, res.metadata.name, _namespace_of(res))
    if not res.metadata.resource_version:
        res.metadata.resource_version = current.metadata.resource_version
        res.metadata.uid = res.metadata.uid or current.metadata.uid
        res.metadata.creation_timestamp = res.metadata.creation_timestamp or current.metadata.creation_timestamp
    ds.update(res)


def _namespace_of(res) -> str | None:
    from libcalico_py.model import kinds
    return res.metadata.namespace if kinds.by_kind(res.kind).namespaced else None


def _doc_kind(res) -> str:
    from libcalico_py.model import kinds
    return kinds.by_kind(res.kind).doc_kind


def resolve_kind(name: str):
    from libcalico_py.model import kinds
    spec = kinds.lookup(name)
    if spec is None:
        fail(f"Failed to execute command: resource type '{name}' is not supported")
    return spec


def fetch(ds, spec, names: list[str], namespace: str | None, all_namespaces: bool):
    """Resources of one kind, by name or all; a missing named resource is an error."""
    from libcalico_py.errors import NotFound
    ns = None if (all_namespaces or not spec.namespaced) else (namespace or "default")
    if names:
        items = []
        for name in names:
            try:
                items.append(ds.get(spec.kind, name, ns))
            except NotFound as e:
                fail(f"Failed to get resources: {e}")
        return items, None
    items, revision = ds.list(spec.kind, ns)
    return items, revision
