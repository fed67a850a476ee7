"""IPv4 autodetection, as calico-node's IP_AUTODETECTION_METHOD:
`first-found` (first global address on an interface not excluded by default),
`interface=REGEX`, `skip-interface=REGEX`, `can-reach=DEST` (the source address the kernel
would use towards DEST), `cidr=CIDR[,CIDR]`. Returns "address/prefix"."""
from __future__ import annotations

import ipaddress
import json
import re
import subprocess

# Interfaces calico-node never picks with first-found.
DEFAULT_EXCLUDES = [r"^docker.*", r"^cbr.*", r"^dummy.*", r"^virbr.*", r"^lxcbr.*", r"^veth.*",
                    r"^lo$", r"^cali.*", r"^tunl.*", r"^flannel.*", r"^kube-ipvs.*", r"^cni.*",
                    r"^vxlan.calico.*", r"^vxlan-v6.calico.*", r"^wireguard.cali.*", r"^wg-v6.cali.*",
                    r"^nodelocaldns.*"]


class AutodetectError(Exception):
    pass


def _addresses() -> list[tuple[str, str]]:
    """(interface, "addr/prefix") for every global IPv4 address, in interface order."""
    out = subprocess.run(["ip", "-j", "-4", "addr", "show"], capture_output=True, text=True, check=True).stdout
    found = []
    for link in json.loads(out or "[]"):
        for a in link.get("addr_info", []):
            if a.get("family") == "inet" and a.get("scope") == "global":
                found.append((link["ifname"], f"{a['local']}/{a['prefixlen']}"))
    return found


def detect(method: str) -> str:
    method = method or "first-found"
    addrs = _addresses()
    if method == "first-found":
        for iface, addr in addrs:
            if not any(re.match(p, iface) for p in DEFAULT_EXCLUDES):
                return addr
        raise AutodetectError("first-found: no interface with a global IPv4 address")
    kind, _, arg = method.partition("=")
    if kind == "interface":
        for iface, addr in addrs:
            if any(re.fullmatch(p.strip(), iface) for p in arg.split(",")):
                return addr
        raise AutodetectError(f"interface={arg}: no matching interface has an IPv4 address")
    if kind == "skip-interface":
        for iface, addr in addrs:
            if not any(re.fullmatch(p.strip(), iface) for p in arg.split(",")) and \
                    not any(re.match(p, iface) for p in DEFAULT_EXCLUDES):
                return addr
        raise AutodetectError(f"skip-interface={arg}: no other interface has an IPv4 address")
    if kind == "cidr":
        nets = [ipaddress.ip_network(c.strip(), strict=False) for c in arg.split(",")]
        for _, addr in addrs:
            if any(ipaddress.ip_interface(addr).ip in n for n in nets):
                return addr
        raise AutodetectError(f"cidr={arg}: no address in range")
    if kind == "can-reach":
        out = subprocess.run(["ip", "-j", "-4", "route", "get", arg], capture_output=True, text=True)
        if out.returncode != 0:
            raise AutodetectError(f"can-reach={arg}: no route ({out.stderr.strip()})")
        src = json.loads(out.stdout)[0].get("prefsrc")
        for _, addr in addrs:
            if addr.split("/")[0] == src:
                return addr
        raise AutodetectError(f"can-reach={arg}: source {src} is not a global address here")
    raise AutodetectError(f"unknown IP_AUTODETECTION_METHOD {method!r}")
