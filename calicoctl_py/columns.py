"""`get` table columns per kind (calicoctl's resourcemgr templates): how each column
reads its value out of a resource's Calico JSON form."""
from __future__ import annotations

from typing import Callable

DEFAULT_AS = "64512"


def _join(values) -> str:
    return ",".join(str(v) for v in values or [])


def _labels(d: dict | None) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted((d or {}).items()))


def _peer_node(spec: dict) -> str:
    if spec.get("node"):
        return spec["node"]
    if spec.get("nodeSelector"):
        return spec["nodeSelector"]
    return "(global)"


def _peer_as(spec: dict) -> str:
    return str(spec.get("asNumber", "")) if spec.get("asNumber") is not None else ""


def _bool(v) -> str:
    return "true" if v else "false"


_COMMON: dict[str, Callable[[dict, dict], str]] = {
    "NAME": lambda r, ctx: r["metadata"].get("name", ""),
    "NAMESPACE": lambda r, ctx: r["metadata"].get("namespace", ""),
}

_PER_KIND: dict[str, dict[str, Callable[[dict, dict], str]]] = {
    "NetworkPolicy": {
        "TIER": lambda r, ctx: r["spec"].get("tier") or "default",
        "ORDER": lambda r, ctx: _num(r["spec"].get("order")),
        "SELECTOR": lambda r, ctx: r["spec"].get("selector", ""),
    },
    "WorkloadEndpoint": {
        "WORKLOAD": lambda r, ctx: r["spec"].get("workload") or r["spec"].get("pod", ""),
        "NODE": lambda r, ctx: r["spec"].get("node", ""),
        "NETWORKS": lambda r, ctx: _join(r["spec"].get("ipNetworks")),
        "INTERFACE": lambda r, ctx: r["spec"].get("interfaceName", ""),
        "PROFILES": lambda r, ctx: _join(r["spec"].get("profiles")),
        "NATS": lambda r, ctx: _join(f"{n.get('internalIP')}:{n.get('externalIP')}"
                                     for n in r["spec"].get("ipNATs") or []),
    },
    "HostEndpoint": {
        "NODE": lambda r, ctx: r["spec"].get("node", ""),
        "INTERFACE": lambda r, ctx: r["spec"].get("interfaceName", ""),
        "IPS": lambda r, ctx: _join(r["spec"].get("expectedIPs")),
        "PROFILES": lambda r, ctx: _join(r["spec"].get("profiles")),
    },
    "IPPool": {
        "CIDR": lambda r, ctx: r["spec"].get("cidr", ""),
        "SELECTOR": lambda r, ctx: r["spec"].get("nodeSelector", "all()"),
        "NAT": lambda r, ctx: _bool(r["spec"].get("natOutgoing")),
        "IPIPMODE": lambda r, ctx: r["spec"].get("ipipMode") or "Never",
        "VXLANMODE": lambda r, ctx: r["spec"].get("vxlanMode") or "Never",
        "DISABLED": lambda r, ctx: _bool(r["spec"].get("disabled")),
        "DISABLEBGPEXPORT": lambda r, ctx: _bool(r["spec"].get("disableBGPExport")),
        "ASSIGNMENTMODE": lambda r, ctx: r["spec"].get("assignmentMode") or "Automatic",
    },
    "IPReservation": {
        "CIDRS": lambda r, ctx: _join(r["spec"].get("reservedCIDRs")),
    },
    "Node": {
        "ASN": lambda r, ctx: str((r["spec"].get("bgp") or {}).get("asNumber")
                                  or f"({ctx.get('default_as', DEFAULT_AS)})"),
        "IPV4": lambda r, ctx: (r["spec"].get("bgp") or {}).get("ipv4Address", ""),
        "IPV6": lambda r, ctx: (r["spec"].get("bgp") or {}).get("ipv6Address", ""),
    },
    "BGPPeer": {
        "PEERIP": lambda r, ctx: r["spec"].get("peerIP") or r["spec"].get("peerSelector", ""),
        "NODE": lambda r, ctx: _peer_node(r["spec"]),
        "ASN": lambda r, ctx: _peer_as(r["spec"]),
    },
    "BGPConfiguration": {
        "LOGSEVERITY": lambda r, ctx: r["spec"].get("logSeverityScreen", "Info"),
        "MESHENABLED": lambda r, ctx: _bool(r["spec"].get("nodeToNodeMeshEnabled", True)),
        "ASNUMBER": lambda r, ctx: str(r["spec"].get("asNumber", "")),
    },
    "Profile": {
        "LABELS": lambda r, ctx: _labels(r["spec"].get("labelsToApply")),
    },
    "NetworkSet": {"NETS": lambda r, ctx: _join(r["spec"].get("nets"))},
    "ClusterInformation": {
        "CLUSTERGUID": lambda r, ctx: r["spec"].get("clusterGUID", ""),
        "CLUSTERTYPE": lambda r, ctx: r["spec"].get("clusterType", ""),
        "CALICOVERSION": lambda r, ctx: r["spec"].get("calicoVersion", ""),
        "DATASTOREREADY": lambda r, ctx: _bool(r["spec"].get("datastoreReady")),
    },
    "KubernetesNetworkPolicy": {
        "SELECTOR": lambda r, ctx: _k8s_selector(r["spec"].get("podSelector") or {}),
    },
}
_PER_KIND["GlobalNetworkPolicy"] = _PER_KIND["NetworkPolicy"]
_PER_KIND["GlobalNetworkSet"] = _PER_KIND["NetworkSet"]


def _num(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _k8s_selector(sel: dict) -> str:
    parts = [f"{k}={v}" for k, v in sorted((sel.get("matchLabels") or {}).items())]
    return ",".join(parts) or "<all>"


def columns_for(kind: str) -> dict[str, Callable[[dict, dict], str]]:
    return {**_COMMON, **_PER_KIND.get(kind, {})}
