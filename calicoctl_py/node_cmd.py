"""`node status` (BGP sessions from the node's BIRD control socket) and
`node checksystem` (kernel features and tools a node needs)."""
from __future__ import annotations

import glob
import gzip
import os
import platform
import shutil

import click

from calicoctl_py.exit import fail

DEFAULT_BIRD_SOCKET = "/var/run/calico/bird.ctl"

# Modules calicoctl checks, with the kernel config option that builds each one.
REQUIRED_MODULES = {
    "ip_set": "CONFIG_IP_SET",
    "ip6_tables": "CONFIG_IP6_NF_IPTABLES",
    "ip_tables": "CONFIG_IP_NF_IPTABLES",
    "ipt_REJECT": "CONFIG_IP_NF_TARGET_REJECT",
    "ipt_ipvs": "CONFIG_NETFILTER_XT_MATCH_IPVS",
    "xt_bpf": "CONFIG_NETFILTER_XT_MATCH_BPF",
    "xt_rpfilter": "CONFIG_IP_NF_MATCH_RPFILTER",
    "nf_conntrack_netlink": "CONFIG_NF_CT_NETLINK",
    "xt_addrtype": "CONFIG_NETFILTER_XT_MATCH_ADDRTYPE",
    "xt_conntrack": "CONFIG_NETFILTER_XT_MATCH_CONNTRACK",
    "xt_mark": "CONFIG_NETFILTER_XT_MARK",
    "xt_multiport": "CONFIG_NETFILTER_XT_MATCH_MULTIPORT",
    "xt_set": "CONFIG_NETFILTER_XT_SET",
    "xt_u32": "CONFIG_NETFILTER_XT_MATCH_U32",
    "vfio-pci": "CONFIG_VFIO_PCI",
}
# Modules whose absence only limits optional features (IPVS, BPF matches, VFIO).
OPTIONAL_MODULES = {"ipt_ipvs", "xt_bpf", "vfio-pci"}
REQUIRED_TOOLS = ("ip", "iptables", "iptables-legacy", "ipset", "bird", "birdc", "conntrack")
MIN_KERNEL = (2, 6, 24)

PEER_TYPES = {"Mesh": "node-to-node mesh", "Global": "global", "Node": "node specific"}


def status(bird_socket: str | None):
    from libcalico_py.birdctl import BirdClient
    path = bird_socket or DEFAULT_BIRD_SOCKET
    if not os.path.exists(path):
        fail(f"Calico process is not running (no BIRD control socket at {path}).")
    try:
        protocols = BirdClient(path).show_protocols()
    except OSError as e:
        fail(f"Calico process is not running (cannot talk to BIRD at {path}: {e.strerror or e}).")
    click.echo("Calico process is running.\n")
    peers = [p for p in protocols if p.proto.upper() == "BGP"]
    for family, label in ((4, "IPv4"), (6, "IPv6")):
        rows = [_peer_row(p) for p in peers if _family(p.name) == family]
        if family == 6 and not rows:
            click.echo("No IPv6 peers found.\n")
            continue
        click.echo(f"{label} BGP status")
        click.echo(_table(["PEER ADDRESS", "PEER TYPE", "STATE", "SINCE", "INFO"], rows))
        click.echo("")


def _family(name: str) -> int:
    return 6 if name.count("_") > 4 or "__" in name else 4


def _peer_row(p) -> list[str]:
    kind, _, addr = p.name.partition("_")
    if kind in ("Mesh", "Global", "Node") and addr:
        if "_" in addr and _family(p.name) == 4:
            address = addr.replace("_", ".")
        else:
            address = addr.replace("_", ":") if _family(p.name) == 6 else addr
    else:
        address = p.name
    return [address, PEER_TYPES.get(kind, kind.lower()), p.state, p.since, p.info]


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    sep = "+-" + "-+-".join("-" * w for w in widths) + "-+"
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"
    return "\n".join([sep, line(header), sep, *[line(r) for r in rows], sep])


def _kernel_config(path: str | None) -> dict[str, str]:
    candidates = [path] if path else ["/proc/config.gz", f"/boot/config-{platform.release()}"]
    for c in candidates:
        if c and os.path.exists(c):
            opener = gzip.open if c.endswith(".gz") else open
            with opener(c, "rt") as f:
                return dict(line.strip().split("=", 1) for line in f if line.startswith("CONFIG_"))
    return {}


def _module_present(module: str, config: dict[str, str]) -> str | None:
    """How the module is available: 'loaded', 'builtin', 'module file', 'kernel config', or None."""
    norm = module.replace("-", "_")
    try:
        with open("/proc/modules") as f:
            if any(line.split()[0] == norm for line in f):
                return "loaded"
    except OSError:
        pass
    release = platform.release()
    try:
        with open(f"/lib/modules/{release}/modules.builtin") as f:
            if any(os.path.basename(line.strip()).split(".")[0].replace("-", "_") == norm for line in f):
                return "builtin"
    except OSError:
        pass
    if glob.glob(f"/lib/modules/{release}/**/{module}.ko*", recursive=True):
        return "module file"
    if config.get(REQUIRED_MODULES.get(module, "")) in ("y", "m"):
        return "kernel config"
    return None


def checksystem(kernel_config: str | None):
    ok = True
    click.echo("Checking kernel version...")
    release = platform.release()
    nums = tuple(int(x) for x in release.split("-")[0].split(".")[:3] if x.isdigit())
    kernel_ok = nums >= MIN_KERNEL
    ok &= kernel_ok
    click.echo(f"\t\t{release:<40}{'OK' if kernel_ok else 'FAIL (need >= 2.6.24)'}")
    click.echo("Checking kernel modules...")
    config = _kernel_config(kernel_config)
    missing = []
    for module in REQUIRED_MODULES:
        how = _module_present(module, config)
        if how:
            click.echo(f"\t\t{module:<40}OK")
        else:
            optional = module in OPTIONAL_MODULES
            click.echo(f"WARNING: Unable to detect the {module} module as Loaded/Builtin module or lsmod"
                       + (" (optional)" if optional else ""))
            click.echo(f"\t\t{module:<40}FAIL")
            if not optional:
                missing.append(module)
    click.echo("Checking tools...")
    missing_tools = [t for t in REQUIRED_TOOLS if not shutil.which(t)]
    for tool in REQUIRED_TOOLS:
        click.echo(f"\t\t{tool:<40}{'FAIL' if tool in missing_tools else 'OK'}")
    ok = ok and not missing and not missing_tools
    if ok:
        click.echo("System meets minimum system requirements to run Calico!")
        return
    what = ", ".join(missing + missing_tools)
    fail(f"System doesn't meet minimum system requirements to run Calico! Missing: {what}")
