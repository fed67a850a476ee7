"""`datastore migrate export` / `import`: every Calico resource and the IPAM data as one
YAML stream, for backup and restore; `lock` / `unlock`: ClusterInformation's
`datastoreReady` set false/true. Calico's CNI plugin refuses to work while it is false;
`ipam release --from-report` insists on it (or --force), as calicoctl does.

Resources are written in their Calico form (without resourceVersion); IPAM keys, which
are not v3 resources, are written as IPAMBlock / BlockAffinity / IPAMHandle / IPAMConfig
documents carrying their etcd key so that import restores them exactly.
"""
from __future__ import annotations

import json

import click

from calicoctl_py.client import datastore
from calicoctl_py.exit import fail

IPAM_PREFIX = "/calico/ipam/v2/"
ETCD_KEY_ANNOTATION = "projectcalico.org/etcd-key"
IPAM_API_VERSION = "crd.projectcalico.org/v1"


def _ipam_kind(key: str) -> str:
    rest = key[len(IPAM_PREFIX):]
    if rest.startswith("assignment/"):
        return "IPAMBlock"
    if rest.startswith("handle/"):
        return "IPAMHandle"
    if rest == "config":
        return "IPAMConfig"
    if rest.startswith("host/") and "/block/" in rest:
        return "BlockAffinity"
    return "IPAMHost"


def export(config):
    import yaml
    from libcalico_py.model import kinds
    ds = datastore(config)
    docs = []
    for spec in kinds.KINDS:
        items, _ = ds.list(spec.kind)
        for r in sorted(items, key=lambda r: (r.metadata.namespace or "", r.metadata.name)):
            d = r.to_dict()
            d["metadata"].pop("resourceVersion", None)
            docs.append(d)
    kvs, _ = ds.kv.get_prefix(IPAM_PREFIX)
    for kv in sorted(kvs, key=lambda kv: kv.key):
        try:
            value = json.loads(kv.value) if kv.value else {}
        except ValueError:
            value = {"raw": kv.value.decode(errors="replace")}
        name = kv.key[len(IPAM_PREFIX):].replace("/", ".")
        docs.append({"apiVersion": IPAM_API_VERSION, "kind": _ipam_kind(kv.key),
                     "metadata": {"name": name, "annotations": {ETCD_KEY_ANNOTATION: kv.key}},
                     "spec": value})
    click.echo(yaml.safe_dump_all(docs, sort_keys=False, default_flow_style=False), nl=False)


def import_(filename, config):
    from calicoctl_py import manifests, resources
    docs = manifests.read(filename)
    ipam_docs = [d for d in docs if d.body.get("apiVersion") == IPAM_API_VERSION]
    res_docs = [d for d in docs if d.body.get("apiVersion") != IPAM_API_VERSION]
    for d in ipam_docs:
        key = ((d.body.get("metadata") or {}).get("annotations") or {}).get(ETCD_KEY_ANNOTATION, "")
        if not key.startswith(IPAM_PREFIX):
            fail(f"Failed to import: document {d.index}: {d.body.get('kind')} has no valid "
                 f"'{ETCD_KEY_ANNOTATION}' annotation")
    loaded = resources.load_documents(res_docs, None, "import")
    ds = datastore(config)
    existing, _ = ds.kv.get_prefix("/calico/")
    if existing:
        fail(f"Failed to import: the datastore is not empty ({len(existing)} keys under /calico/); "
             f"import restores into an empty datastore only")
    for _, res in loaded:
        ds.create(res)
    for d in ipam_docs:
        key = d.body["metadata"]["annotations"][ETCD_KEY_ANNOTATION]
        spec = d.body.get("spec")
        # Compact JSON in the document's key order: what Calico and libcalico_py write, so
        # a restore is byte-identical.
        value = (spec["raw"] if isinstance(spec, dict) and set(spec) == {"raw"}
                 else json.dumps(spec, separators=(",", ":"), ensure_ascii=False))
        ds.kv.put(key, value)
    click.echo(f"Successfully imported {len(loaded)} resource(s) and {len(ipam_docs)} IPAM record(s)")


def set_ready(ready: bool, config):
    """`lock` (ready=False) / `unlock` (ready=True) through a CAS update of
    ClusterInformation "default" (created when missing, as locking must work on a
    datastore calico-node-py has not initialised yet)."""
    from libcalico_py import model
    from libcalico_py.errors import Conflict, NotFound
    ds = datastore(config)
    for _ in range(10):
        try:
            current = ds.get("ClusterInformation", "default")
        except NotFound:
            ds.create(model.load({"apiVersion": "projectcalico.org/v3", "kind": "ClusterInformation",
                                  "metadata": {"name": "default"},
                                  "spec": {"datastoreReady": ready}}))
            break
        doc = current.to_dict()
        doc.setdefault("spec", {})["datastoreReady"] = ready
        try:
            ds.update(model.load(doc))
            break
        except Conflict:
            continue
    else:
        fail("Failed to update ClusterInformation: too many concurrent updates")
    click.echo("Datastore unlocked." if ready else "Datastore locked.")
