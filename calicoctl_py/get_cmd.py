"""`get`: fetch resources by kind and name (or from a manifest) and print them."""
from __future__ import annotations

import click

from calicoctl_py import output, resources
from calicoctl_py.client import datastore
from calicoctl_py.exit import fail

_EXPORT_STRIP = ("resourceVersion", "uid", "creationTimestamp", "generation", "selfLink")


def _dicts(items, export: bool) -> list[dict]:
    out = []
    for r in items:
        d = r.to_dict()
        if export:
            for k in _EXPORT_STRIP:
                d.get("metadata", {}).pop(k, None)
        out.append(d)
    return out


def _context(ds, spec, fmt: str) -> dict:
    """Extra values some columns need (a Node's inherited AS number)."""
    if spec.kind != "Node" or fmt not in ("ps", "wide", "") and not fmt.startswith("custom-columns="):
        return {}
    from libcalico_py.errors import NotFound
    try:
        bgp = ds.get("BGPConfiguration", "default").to_dict().get("spec", {})
        return {"default_as": str(bgp.get("asNumber", 64512))}
    except NotFound:
        return {}


def run(kind, names, filename, fmt, all_namespaces, export, config, namespace):
    if filename:
        if kind:
            fail("Failed to execute command: give either -f FILE or KIND [NAME...], not both")
        _from_file(filename, fmt, export, config, namespace)
        return
    if not kind:
        fail("Failed to execute command: get needs a resource KIND (e.g. 'get nodes') or -f FILE")
    spec = resources.resolve_kind(kind)
    if names and all_namespaces:
        fail("Failed to execute command: a resource name cannot be combined with --all-namespaces")
    ds = datastore(config)
    items, revision = resources.fetch(ds, spec, list(names), namespace, all_namespaces)
    if revision is None:
        revision = max((int(i.metadata.resource_version or 0) for i in items), default=0)
    text = output.render(fmt, spec, _dicts(items, export), single=len(names) == 1, revision=revision,
                         with_namespace=bool(all_namespaces or namespace), ctx=_context(ds, spec, fmt))
    click.echo(text, nl=False)


def _from_file(filename, fmt, export, config, namespace):
    from calicoctl_py import manifests
    from libcalico_py.model import kinds
    docs = manifests.read(filename)
    ds = datastore(config)
    by_kind: dict[str, list] = {}
    for doc in docs:
        spec = kinds.by_document(doc.body.get("apiVersion"), doc.body.get("kind", ""))
        if spec is None:
            fail(f"Failed to get resources: document {doc.index}: resource type "
                 f"'{doc.body.get('kind')}' is not supported")
        md = doc.body.get("metadata") or {}
        items, _ = resources.fetch(ds, spec, [md.get("name", "")], md.get("namespace") or namespace, False)
        by_kind.setdefault(spec.kind, []).extend(items)
    specs = [kinds.by_kind(k) for k in by_kind]
    if fmt in ("yaml", "json") and len(specs) > 1:
        items = [d for k in by_kind for d in _dicts(by_kind[k], export)]
        doc = {"apiVersion": "v1", "items": items, "kind": "List"}
        if fmt == "json":
            import json
            click.echo(json.dumps(doc, indent=2))
        else:
            click.echo(output._yaml_dump(doc), nl=False)
        return
    for spec in specs:
        items = _dicts(by_kind[spec.kind], export)
        click.echo(output.render(fmt, spec, items, single=len(items) == 1, revision=0,
                                 with_namespace=bool(namespace), ctx=_context(ds, spec, fmt)), nl=False)
