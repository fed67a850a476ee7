"""Start-of-day registration, as calico-node's startup does: the Node resource with this
node's BGP address and AS, ClusterInformation, the default IPPool (only when no pool exists),
and the FelixConfiguration defaults (`default`, and `node.<name>` with
defaultEndpointToHostAction Return, as Calico does in etcd mode)."""
from __future__ import annotations

import logging
import os
import uuid

from node_py.settings import NodeSettings

log = logging.getLogger("calico-node-py")
CALICO_VERSION = "v3.30.0-py"
DEFAULT_POOL_NAME = "default-ipv4-ippool"


def node_address(settings: NodeSettings) -> str | None:
    if settings.ip.lower() == "none":
        return None
    if settings.ip.lower() != "autodetect":
        return settings.ip if "/" in settings.ip else f"{settings.ip}/32"
    from node_py.autodetect import detect
    addr = detect(settings.autodetection_method)
    log.info("autodetected IPv4 address %s (method %s)", addr, settings.autodetection_method)
    return addr


def _ensure(ds, kind: str, name: str, spec: dict) -> None:
    """Create the resource if it is missing; leave an existing one as the user left it."""
    from libcalico_py import model
    from libcalico_py.errors import AlreadyExists, NotFound
    try:
        ds.get(kind, name)
    except NotFound:
        try:
            ds.create(model.make(kind, name, spec=spec))
            log.info("created %s %s", kind, name)
        except AlreadyExists:
            pass  # another node won the race


def register_node(ds, settings: NodeSettings, address: str | None) -> None:
    """Create or update this node's Node resource (BGP address and AS), with CAS retry."""
    from libcalico_py import model
    from libcalico_py.errors import AlreadyExists, Conflict, NotFound
    for _ in range(10):
        try:
            current = ds.get("Node", settings.nodename).to_dict()
        except NotFound:
            current = None
        doc = current or {"apiVersion": "projectcalico.org/v3", "kind": "Node",
                          "metadata": {"name": settings.nodename}, "spec": {}}
        spec = doc.setdefault("spec", {})
        bgp = dict(spec.get("bgp") or {})
        if address:
            bgp["ipv4Address"] = address
        if settings.as_number:
            bgp["asNumber"] = int(settings.as_number) if settings.as_number.isdigit() else settings.as_number
        if bgp:
            spec["bgp"] = bgp
        doc.setdefault("metadata", {}).setdefault("labels", {})["kubernetes.io/hostname"] = settings.nodename
        try:
            if current is None:
                ds.create(model.load(doc))
            else:
                ds.update(model.load(doc))
            log.info("registered node %s (bgp %s)", settings.nodename, bgp)
            return
        except (Conflict, AlreadyExists):
            continue
    raise RuntimeError(f"could not register node {settings.nodename}: too many concurrent updates")


def ensure_cluster_defaults(ds, settings: NodeSettings) -> None:
    _ensure(ds, "ClusterInformation", "default", {
        "clusterGUID": uuid.uuid4().hex, "clusterType": settings.cluster_type,
        "calicoVersion": CALICO_VERSION, "datastoreReady": True})
    _ensure(ds, "FelixConfiguration", "default", {"logSeverityScreen": "Info", "reportingInterval": "0s"})
    _ensure(ds, "FelixConfiguration", f"node.{settings.nodename}", {"defaultEndpointToHostAction": "Return"})
    if settings.no_default_pools:
        return
    pools, _ = ds.list("IPPool")
    if not pools:
        _ensure(ds, "IPPool", DEFAULT_POOL_NAME, {
            "cidr": settings.pool_cidr, "blockSize": settings.pool_block_size,
            "natOutgoing": settings.pool_nat_outgoing, "nodeSelector": "all()"})


def write_nodename(settings: NodeSettings) -> None:
    """The CNI plugin reads the node name from here, as Calico's does."""
    os.makedirs(settings.state_dir, exist_ok=True)
    with open(os.path.join(settings.state_dir, "nodename"), "w") as f:
        f.write(settings.nodename)


def run(ds, settings: NodeSettings) -> str | None:
    address = node_address(settings)
    ensure_cluster_defaults(ds, settings)
    register_node(ds, settings, address)
    write_nodename(settings)
    return address
