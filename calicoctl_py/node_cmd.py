"""`node status` (BGP sessions from the node's BIRD control socket) and
`node checksystem` (kernel features and tools a node needs)."""
from __future__ import annotations

import glob
import gzip
import ipaddress
import os
import platform
import re
import shutil

import click

from calicoctl_py import boxtable
from calicoctl_py.exit import fail

DEFAULT_BIRD_SOCKET = "/var/run/calico/bird.ctl"

# The modules calicoctl checks, each with the kernel config options that build it (a
# monolithic kernel has no /proc/modules, so the config is often the only evidence) and,
# for the icmp matches, the name iptables lists in /proc/net/ip_tables_matches.
REQUIRED_MODULES: dict[str, tuple[str, ...]] = {
    "ip_set": ("CONFIG_IP_SET",),
    "ip6_tables": ("CONFIG_IP6_NF_IPTABLES",),
    "ip_tables": ("CONFIG_IP_NF_IPTABLES",),
    "ipt_ipvs": ("CONFIG_NETFILTER_XT_MATCH_IPVS",),
    "vfio-pci": ("CONFIG_VFIO_PCI", "CONFIG_VFIO"),
    "xt_bpf": ("CONFIG_NETFILTER_XT_MATCH_BPF", "CONFIG_BPF"),
    "ipt_REJECT": ("CONFIG_IP_NF_TARGET_REJECT", "CONFIG_NFT_REJECT"),
    "ipt_rpfilter": ("CONFIG_IP_NF_MATCH_RPFILTER",),
    "xt_rpfilter": ("CONFIG_IP_NF_MATCH_RPFILTER",),
    "ipt_set": ("CONFIG_NET_EMATCH_IPSET", "CONFIG_NETFILTER_XT_SET"),
    "nf_conntrack_netlink": ("CONFIG_NF_CT_NETLINK",),
    "xt_addrtype": ("CONFIG_NETFILTER_XT_MATCH_ADDRTYPE",),
    "xt_conntrack": ("CONFIG_NETFILTER_XT_MATCH_CONNTRACK",),
    "xt_icmp": ("icmp",),
    "xt_icmp6": ("icmp",),
    "xt_mark": ("CONFIG_NETFILTER_XT_MARK", "CONFIG_IP_NF_TARGET_MARK"),
    "xt_multiport": ("CONFIG_NETFILTER_XT_MATCH_MULTIPORT", "CONFIG_IP_NF_MATCH_MULTIPORT"),
    "xt_set": ("CONFIG_NETFILTER_XT_SET",),
    "xt_u32": ("CONFIG_NETFILTER_XT_MATCH_U32",),
}
# Modules whose absence only limits optional features (IPVS, BPF matches, VFIO); calicoctl
# fails the check for them too, which makes it fail on many working nodes.
OPTIONAL_MODULES = {"ipt_ipvs", "xt_bpf", "vfio-pci"}
IPTABLES_MATCHES = "/proc/net/ip_tables_matches"
REQUIRED_TOOLS = ("ip", "iptables", "iptables-legacy", "ipset", "bird", "birdc", "conntrack")
MIN_KERNEL = (2, 6, 24)

PEER_TYPES = {"Mesh": "node-to-node mesh", "Global": "global", "Node": "node specific"}
_PEER_NAME = re.compile(r"^(Global|Node|Mesh)_(.+?)(?:_port_(\d+))?$")


def status(bird_socket: str | None):
    """calicoctl's `node status`: "Calico process is running." then, per IP family, the
    BGP sessions BIRD reports (`show protocols` on its control socket)."""
    from libcalico_py.birdctl import FALLBACK_SOCKET, BirdClient, BirdError
    if bird_socket:
        path = bird_socket
    else:
        path = next((p for p in (DEFAULT_BIRD_SOCKET, FALLBACK_SOCKET) if os.path.exists(p)),
                    DEFAULT_BIRD_SOCKET)
    if not os.path.exists(path):
        fail(f"Calico process is not running. (no BIRD control socket at {path})")
    try:
        protocols = BirdClient(path, timeout=5.0).show_protocols()
    except BirdError as e:
        fail(f"Calico process is not running. ({e})")
    click.echo("Calico process is running.")
    peers = [row for row in (peer_row(p) for p in protocols) if row]
    for family in (4, 6):
        click.echo(f"\nIPv{family} BGP status")
        rows = [r[1:] for r in peers if r[0] == family]
        if not rows:
            click.echo(f"No IPv{family} peers found.")
            continue
        click.echo(boxtable.render(["PEER ADDRESS", "PEER TYPE", "STATE", "SINCE", "INFO"], rows,
                                   center_header=True), nl=False)
    click.echo("")


def peer_row(p) -> list | None:
    """(family, address, type, state, since, info) of a Calico-named BGP protocol
    (`Mesh_10_0_0_2`, `Global_fd00__1`, `Node_10_0_0_3_port_1790`), else None."""
    if p.proto.upper() != "BGP":
        return None
    m = _PEER_NAME.match(p.name)
    if m is None:
        return None
    kind, raw, port = m.groups()
    family, address = _peer_address(raw)
    if address is None:
        return None
    if port:
        address = f"{address}:{port}" if family == 4 else f"[{address}]:{port}"
    return [family, address, PEER_TYPES[kind], p.state, p.since, p.info]


def _peer_address(raw: str) -> tuple[int, str | None]:
    for family, sep in ((4, "."), (6, ":")):
        try:
            return family, str(ipaddress.ip_address(raw.replace("_", sep)))
        except ValueError:
            continue
    return 4, None


def _kernel_config(path: str | None) -> dict[str, str]:
    release = platform.release()
    candidates = [path] if path else ["/proc/config.gz", f"/boot/config-{release}",
                                      "/usr/src/linux/.config", f"/lib/modules/{release}/build/.config"]
    if path and not os.path.exists(path):
        fail(f"Failed to check the system: kernel config file does not exist: {path}")
    for c in candidates:
        if os.path.exists(c):
            opener = gzip.open if c.endswith(".gz") else open
            try:
                with opener(c, "rt") as f:
                    return dict(line.strip().split("=", 1) for line in f
                                if line.startswith("CONFIG_") and "=" in line)
            except (OSError, EOFError) as e:
                fail(f"Failed to check the system: cannot read kernel config {c}: {e}")
    return {}


def _read_lines(path: str) -> list[str]:
    try:
        with open(path) as f:
            return [line.strip() for line in f]
    except OSError:
        return []


def _module_present(module: str, config: dict[str, str]) -> str | None:
    """How the module is available: 'loaded', 'builtin', 'module file', 'kernel config',
    'iptables match', or None."""
    norm = module.replace("-", "_")
    if any(line.split()[0] == norm for line in _read_lines("/proc/modules") if line):
        return "loaded"
    release = platform.release()
    builtin = _read_lines(f"/lib/modules/{release}/modules.builtin")
    if any(os.path.basename(line).split(".")[0].replace("-", "_") == norm for line in builtin):
        return "builtin"
    if glob.glob(f"/lib/modules/{release}/**/{module}.ko*", recursive=True):
        return "module file"
    options = REQUIRED_MODULES.get(module, ())
    if any(config.get(opt) in ("y", "m") for opt in options):
        return "kernel config"
    matches = set(_read_lines(IPTABLES_MATCHES))
    if any(opt in matches for opt in options if not opt.startswith("CONFIG_")):
        return "iptables match"
    return None


def _result(value: str, result: str) -> str:
    return f"\t\t{value:<20}\t\t\t\t\t{result}"


def checksystem(kernel_config: str | None):
    """calicoctl's `node checksystem`: kernel version, kernel modules, and (ours) the
    tools calico-node-py runs. Exit 1 naming what is missing."""
    config = _kernel_config(kernel_config)
    click.echo("Checking kernel version...")
    release = platform.release()
    nums = tuple(int(x) for x in re.findall(r"\d+", release.split("-")[0])[:3])
    kernel_ok = nums >= MIN_KERNEL
    click.echo(_result(release, "OK" if kernel_ok else "FAIL"))
    if not kernel_ok:
        click.echo(f"Minimum kernel version to run Calico is 2.6.24. Detected kernel version: {release}")
    click.echo("Checking kernel modules...")
    missing = []
    for module in REQUIRED_MODULES:
        if _module_present(module, config):
            click.echo(_result(module, "OK"))
            continue
        optional = module in OPTIONAL_MODULES
        click.echo(f"WARNING: Unable to detect the {module} module as Loaded/Builtin module or lsmod"
                   + (" (optional feature, not required)" if optional else ""))
        click.echo(_result(module, "FAIL"))
        if not optional:
            missing.append(module)
    if missing == ["ip6_tables"]:
        click.echo("WARNING: IPv6 will be unavailable as ip6_tables kernel module is not found")
        missing = []
    click.echo("Checking tools...")
    missing_tools = [t for t in REQUIRED_TOOLS if not shutil.which(t)]
    for tool in REQUIRED_TOOLS:
        click.echo(_result(tool, "FAIL" if tool in missing_tools else "OK"))
    if kernel_ok and not missing and not missing_tools:
        click.echo("System meets minimum system requirements to run Calico!")
        return
    what = ", ".join((["kernel >= 2.6.24"] if not kernel_ok else []) + missing + missing_tools)
    fail(f"system doesn't meet one or more minimum systems requirements to run Calico; missing: {what}")
