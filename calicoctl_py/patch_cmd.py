"""`patch` and `label`: read one resource, change it, validate, write it back with
compare-and-swap so a concurrent writer is never silently overwritten."""
from __future__ import annotations

import copy
import json

import click

from calicoctl_py import resources
from calicoctl_py.client import datastore
from calicoctl_py.exit import fail


def _parse_patch(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        import yaml
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as e:
            fail(f"Failed to patch resource: the patch is neither JSON nor YAML: {e}")


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch (also used for calicoctl's default 'strategic' type)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = merge_patch(result.get(k), v)
    return result


def _pointer(path: str) -> list[str]:
    if not path.startswith("/"):
        fail(f"Failed to patch resource: JSON pointer must start with '/': {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _slot(node, key: str):
    """A JSON-pointer segment as a subscript of `node` (a number when `node` is a list)."""
    return int(key) if isinstance(node, list) else key


def json_patch(doc, ops):
    """RFC 6902 JSON patch: add, remove, replace, move, copy, test."""
    doc = copy.deepcopy(doc)
    if not isinstance(ops, list):
        fail("Failed to patch resource: a JSON patch must be a list of operations")

    def parent_of(parts):
        node = doc
        for p in parts[:-1]:
            node = node[_slot(node, p)]
        return node, parts[-1]

    for i, op in enumerate(ops):
        try:
            kind = op["op"]
            parts = _pointer(op["path"])
            parent, key = parent_of(parts)
            if kind in ("add", "replace"):
                value = copy.deepcopy(op["value"])
                if isinstance(parent, list):
                    idx = len(parent) if key == "-" else int(key)
                    if kind == "add":
                        parent.insert(idx, value)
                    else:
                        parent[idx] = value
                else:
                    if kind == "replace" and key not in parent:
                        raise KeyError(key)
                    parent[key] = value
            elif kind == "remove":
                del parent[_slot(parent, key)]
            elif kind in ("move", "copy"):
                src_parent, src_key = parent_of(_pointer(op["from"]))
                value = src_parent[_slot(src_parent, src_key)]
                if kind == "move":
                    del src_parent[_slot(src_parent, src_key)]
                parent[key] = copy.deepcopy(value)
            elif kind == "test":
                if parent[_slot(parent, key)] != op["value"]:
                    fail(f"Failed to patch resource: test operation {i} failed at {op['path']}")
            else:
                fail(f"Failed to patch resource: unknown operation {kind!r} in patch[{i}]")
        except (KeyError, IndexError, ValueError, TypeError) as e:
            fail(f"Failed to patch resource: patch[{i}] cannot be applied: {e!s}")
    return doc


def _load(ds, spec, name, namespace):
    ns = (namespace or "default") if spec.namespaced else None
    return ds.get(spec.kind, name, ns)


def _store(ds, body: dict, verb: str):
    from libcalico_py import model
    from libcalico_py.errors import ValidationError
    try:
        res = model.load(body)
    except ValidationError as e:
        fail(f"Failed to {verb} resource: "
             + "; ".join(resources.field_error_text(fe) for fe in e.errors))
    return ds.update(res)


def run(kind, name, patch_text, patch_type, config, namespace):
    spec = resources.resolve_kind(kind)
    patch = _parse_patch(patch_text)
    ds = datastore(config)
    current = _load(ds, spec, name, namespace).to_dict()
    patched = json_patch(current, patch) if patch_type == "json" else merge_patch(current, patch)
    # Identity fields cannot be patched away; the stored revision guards the write.
    for key in ("name", "namespace", "resourceVersion", "uid", "creationTimestamp"):
        if key in current["metadata"]:
            patched.setdefault("metadata", {})[key] = current["metadata"][key]
    _store(ds, patched, "patch")
    click.echo(f"Successfully patched 1 '{spec.doc_kind}' resource")


def label(kind, name, text, overwrite, remove, config, namespace):
    spec = resources.resolve_kind(kind)
    ds = datastore(config)
    body = _load(ds, spec, name, namespace).to_dict()
    labels = body["metadata"].setdefault("labels", {})
    if remove:
        key = text.split("=", 1)[0]
        if key not in labels:
            fail(f"Failed to remove label: {spec.doc_kind} {name} has no label '{key}'")
        del labels[key]
        if not labels:
            body["metadata"].pop("labels")
        _store(ds, body, "label")
        click.echo(f"Successfully removed label {key} from {spec.kind.lower()} {name}")
        return
    if "=" not in text:
        fail(f"Failed to label resource: expected key=value, got '{text}' (use --remove to delete a label)")
    key, value = text.split("=", 1)
    if key in labels and labels[key] != value and not overwrite:
        fail(f"Failed to label resource: {spec.doc_kind} {name} already has label {key}={labels[key]}; "
             f"use --overwrite to change it")
    labels[key] = value
    _store(ds, body, "label")
    click.echo(f"Successfully set label {key} on {spec.kind.lower()} {name}")
