"""Constants of Calico's iptables layout and the configuration the renderer needs.

Everything the kernel will show as ours is spelled here once: chain prefixes
(`cali-pi-`, `cali-tw-` ...), the fixed chain names, the IP set name prefixes and the
mark bits. felixpy.rules.names builds concrete names from these; the renderer modules
never write a `cali` literal of their own, so a restarted agent recognises every object
by the same prefixes (calico.md §5.1, §5.6-§5.8).

`RulesConfig` is the renderer's whole view of Felix configuration. It is built from
the merged FelixConfiguration strings by `RulesConfig.from_felix_config`, which rejects
bad values with one `RulesConfigError` naming the parameter.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace

from libcalico_py.errors import CalicoError

# ---------------------------------------------------------------- chain names

CHAIN_PREFIX = "cali-"
MAX_CHAIN_NAME_LENGTH = 28          # iptables' limit as Felix applies it
SHORTENED_MARKER = "_"              # a hashed suffix starts with this

POLICY_INBOUND_PREFIX = "cali-pi-"
POLICY_OUTBOUND_PREFIX = "cali-po-"
PROFILE_INBOUND_PREFIX = "cali-pri-"
PROFILE_OUTBOUND_PREFIX = "cali-pro-"
WORKLOAD_TO_ENDPOINT_PREFIX = "cali-tw-"      # ingress to the pod
WORKLOAD_FROM_ENDPOINT_PREFIX = "cali-fw-"    # egress from the pod

CHAIN_FROM_WORKLOAD_DISPATCH = "cali-from-wl-dispatch"
CHAIN_TO_WORKLOAD_DISPATCH = "cali-to-wl-dispatch"

CHAIN_FILTER_INPUT = "cali-INPUT"
CHAIN_FILTER_FORWARD = "cali-FORWARD"
CHAIN_FILTER_OUTPUT = "cali-OUTPUT"
CHAIN_WORKLOAD_TO_HOST = "cali-wl-to-host"
CHAIN_FAILSAFE_IN = "cali-failsafe-in"
CHAIN_FAILSAFE_OUT = "cali-failsafe-out"
CHAIN_RAW_PREROUTING = "cali-PREROUTING"
CHAIN_RAW_OUTPUT = "cali-OUTPUT"
CHAIN_MANGLE_PREROUTING = "cali-PREROUTING"
CHAIN_MANGLE_POSTROUTING = "cali-POSTROUTING"
CHAIN_NAT_PREROUTING = "cali-PREROUTING"
CHAIN_NAT_OUTPUT = "cali-OUTPUT"
CHAIN_NAT_POSTROUTING = "cali-POSTROUTING"
CHAIN_NAT_OUTGOING = "cali-nat-outgoing"
CHAIN_FIP_DNAT = "cali-fip-dnat"
CHAIN_FIP_SNAT = "cali-fip-snat"

TABLES = ("raw", "mangle", "filter", "nat")

# ---------------------------------------------------------------- IP sets

IPSET_PREFIX_V4 = "cali40"
IPSET_PREFIX_V6 = "cali60"
MAX_IPSET_NAME_LENGTH = 31
MASQ_IPSET_ID = "masq-ipam-pools"
ALL_POOLS_IPSET_ID = "network-ip-pools"

# ---------------------------------------------------------------- kinds

# Felix's short policy kinds (PolicyID.kind) and the names used in human comments.
POLICY_KIND_NAMES = {
    "np": "NetworkPolicy",
    "gnp": "GlobalNetworkPolicy",
    "knp": "KubernetesNetworkPolicy",
    "kcnp": "KubernetesClusterNetworkPolicy",
    "snp": "StagedNetworkPolicy",
    "sgnp": "StagedGlobalNetworkPolicy",
    "sknp": "StagedKubernetesNetworkPolicy",
}
STAGED_POLICY_KINDS = frozenset({"snp", "sgnp", "sknp"})
PROFILE_KIND = "pro"

# ---------------------------------------------------------------- defaults

DEFAULT_MARK_MASK = 0xFFFF0000
ENDPOINT_TO_HOST_ACTIONS = ("DROP", "ACCEPT", "RETURN")
DENY_ACTIONS = ("DROP", "REJECT")
MAX_LOG_PREFIX_LENGTH = 29          # kernel limit of LOG --log-prefix


@dataclass(frozen=True)
class ProtoPort:
    """One failsafe entry: protocol, port and an optional CIDR (Felix's ProtoPort)."""

    protocol: str
    port: int
    net: str = ""

    def ip_version(self) -> int | None:
        return ipaddress.ip_network(self.net, strict=False).version if self.net else None


DEFAULT_FAILSAFE_INBOUND = tuple(ProtoPort(p, n) for p, n in (
    ("tcp", 22), ("udp", 68), ("tcp", 179), ("tcp", 2379), ("tcp", 2380),
    ("tcp", 5473), ("tcp", 6443), ("tcp", 6666), ("tcp", 6667)))
DEFAULT_FAILSAFE_OUTBOUND = tuple(ProtoPort(p, n) for p, n in (
    ("udp", 53), ("udp", 67), ("tcp", 179), ("tcp", 2379), ("tcp", 2380),
    ("tcp", 5473), ("tcp", 6443), ("tcp", 6666), ("tcp", 6667)))


class RulesConfigError(CalicoError, ValueError):
    """A Felix parameter the renderer depends on has an unusable value."""

    def __init__(self, param: str, value: object, reason: str):
        self.param, self.value, self.reason = param, value, reason
        super().__init__(f"{param}: {reason} (got {value!r})")


@dataclass(frozen=True)
class RulesConfig:
    """What the renderer needs to know; all fields have Felix's defaults."""

    mark_accept: int = 0x10000
    mark_pass: int = 0x20000
    mark_drop: int = 0x40000
    mark_scratch0: int = 0x80000
    mark_scratch1: int = 0x100000
    interface_prefixes: tuple[str, ...] = ("cali",)
    filter_deny_action: str = "DROP"
    default_endpoint_to_host_action: str = "DROP"
    failsafe_inbound: tuple[ProtoPort, ...] = DEFAULT_FAILSAFE_INBOUND
    failsafe_outbound: tuple[ProtoPort, ...] = DEFAULT_FAILSAFE_OUTBOUND
    log_prefix: str = "calico-packet"
    ipv6: bool = False
    disable_conntrack_invalid_check: bool = False
    rpf_check: bool = True                 # raw-table strict RPF for workload traffic
    nat_outgoing_address: str = ""         # SNAT source instead of MASQUERADE when set
    nat_port_range: str = ""               # "lo:hi" for MASQUERADE/SNAT --to-ports
    nat_random_fully: bool = False
    allow_vxlan_from_workloads: bool = False
    allow_ipip_from_workloads: bool = False

    def __post_init__(self) -> None:
        marks = {"accept": self.mark_accept, "pass": self.mark_pass, "drop": self.mark_drop,
                 "scratch0": self.mark_scratch0, "scratch1": self.mark_scratch1}
        seen = 0
        for name, bit in marks.items():
            if bit <= 0 or bit & (bit - 1):
                raise RulesConfigError(f"mark_{name}", hex(bit), "must be a single bit")
            if seen & bit:
                raise RulesConfigError(f"mark_{name}", hex(bit), "overlaps another mark bit")
            seen |= bit
        if self.filter_deny_action not in DENY_ACTIONS:
            raise RulesConfigError("IptablesFilterDenyAction", self.filter_deny_action,
                                   f"must be one of {', '.join(DENY_ACTIONS)}")
        if self.default_endpoint_to_host_action not in ENDPOINT_TO_HOST_ACTIONS:
            raise RulesConfigError("DefaultEndpointToHostAction", self.default_endpoint_to_host_action,
                                   f"must be one of {', '.join(ENDPOINT_TO_HOST_ACTIONS)}")
        if not self.interface_prefixes or any(not p for p in self.interface_prefixes):
            raise RulesConfigError("InterfacePrefix", ",".join(self.interface_prefixes),
                                   "must name at least one non-empty prefix")

    @property
    def all_marks(self) -> int:
        """Every mark bit the policy chains use (Felix's allCalicoMarkBits)."""
        return self.mark_accept | self.mark_pass | self.mark_drop | self.mark_scratch0 | self.mark_scratch1

    @property
    def ip_version(self) -> int:
        return 6 if self.ipv6 else 4

    def for_ip_version(self, ip_version: int) -> "RulesConfig":
        """The same configuration rendering for the given family."""
        return replace(self, ipv6=(ip_version == 6))

    # ------------------------------------------------------------ parsing

    @classmethod
    def from_felix_config(cls, config: dict | None) -> "RulesConfig":
        """Build from Felix parameters. Keys may be Felix's env-style names
        ("DefaultEndpointToHostAction", "FELIX_DEFAULTENDPOINTTOHOSTACTION") or
        FelixConfiguration's camelCase ("defaultEndpointToHostAction"), case-insensitive; values are strings as
        ConfigUpdate carries them (lists from a spec are accepted too). Unknown
        keys are ignored; a bad value raises RulesConfigError naming the key."""
        raw = {}
        for k, v in (config or {}).items():
            if v is None:
                continue
            norm = str(k).lower().replace("_", "")
            raw[norm[len("felix"):] if norm.startswith("felix") else norm] = (k, v)
        kw: dict = {}

        def get(name: str):
            return raw.get(name.lower())

        if (hit := get("IptablesMarkMask")) is not None:
            kw.update(_marks_from_mask(*hit))
        if (hit := get("InterfacePrefix")) is not None:
            key, value = hit
            prefixes = tuple(p.strip() for p in str(value).split(",") if p.strip())
            if not prefixes:
                raise RulesConfigError(key, value, "must name at least one prefix")
            kw["interface_prefixes"] = prefixes
        if (hit := get("IptablesFilterDenyAction")) is not None:
            kw["filter_deny_action"] = _upper_choice(*hit, DENY_ACTIONS)
        if (hit := get("DefaultEndpointToHostAction")) is not None:
            kw["default_endpoint_to_host_action"] = _upper_choice(*hit, ENDPOINT_TO_HOST_ACTIONS)
        if (hit := get("FailsafeInboundHostPorts")) is not None:
            kw["failsafe_inbound"] = _proto_ports(*hit)
        if (hit := get("FailsafeOutboundHostPorts")) is not None:
            kw["failsafe_outbound"] = _proto_ports(*hit)
        if (hit := get("LogPrefix")) is not None:
            kw["log_prefix"] = str(hit[1])
        if (hit := get("Ipv6Support")) is not None:
            kw["ipv6"] = _bool(*hit)
        if (hit := get("DisableConntrackInvalidCheck")) is not None:
            kw["disable_conntrack_invalid_check"] = _bool(*hit)
        if (hit := get("NATOutgoingAddress")) is not None:
            key, value = hit
            if str(value):
                try:
                    ipaddress.ip_address(str(value))
                except ValueError:
                    raise RulesConfigError(key, value, "must be an IP address") from None
            kw["nat_outgoing_address"] = str(value)
        if (hit := get("NATPortRange")) is not None:
            kw["nat_port_range"] = _port_range(*hit)
        if (hit := get("AllowVXLANPacketsFromWorkloads")) is not None:
            kw["allow_vxlan_from_workloads"] = _bool(*hit)
        if (hit := get("AllowIPIPPacketsFromWorkloads")) is not None:
            kw["allow_ipip_from_workloads"] = _bool(*hit)
        return cls(**kw)


def _upper_choice(key: str, value: object, choices: tuple[str, ...]) -> str:
    text = str(value).strip().upper()
    if text not in choices:
        raise RulesConfigError(key, value, f"must be one of {', '.join(c.capitalize() for c in choices)}")
    return text


def _bool(key: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "y", "t", "on", "enabled"):
        return True
    if text in ("false", "0", "no", "n", "f", "off", "disabled", ""):
        return False
    raise RulesConfigError(key, value, "must be true or false")


def _marks_from_mask(key: str, value: object) -> dict:
    """Hand out accept, pass, drop, scratch0, scratch1 lowest-first from the mask."""
    try:
        mask = value if isinstance(value, int) else int(str(value), 0)
    except ValueError:
        raise RulesConfigError(key, value, "must be an integer such as 0xffff0000") from None
    bits = [1 << i for i in range(32) if mask & (1 << i)]
    if len(bits) < 5:
        raise RulesConfigError(key, value, "needs at least 5 bits (accept, pass, drop, scratch0, scratch1)")
    return dict(zip(("mark_accept", "mark_pass", "mark_drop", "mark_scratch0", "mark_scratch1"), bits))


def _proto_ports(key: str, value: object) -> tuple[ProtoPort, ...]:
    """"tcp:22,udp:68" (Felix env form), "none", or a FelixConfiguration list of
    {"protocol": "TCP", "port": 22, "net": "10.0.0.0/8"}."""
    entries: list[ProtoPort] = []
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            if not isinstance(item, dict) or "port" not in item:
                raise RulesConfigError(f"{key}[{i}]", item, "must have protocol and port")
            entries.append(_proto_port(f"{key}[{i}]", str(item.get("protocol", "tcp")),
                                       item["port"], str(item.get("net", "") or "")))
        return tuple(entries)
    text = str(value).strip()
    if text.lower() in ("", "none"):
        return ()
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        # "tcp:22", "22", "tcp:10.0.0.0/8:22", "udp:[fd00::/8]:53"
        net = ""
        if "[" in part:
            head, _, rest = part.partition("[")
            net, _, port_part = rest.partition("]")
            proto = head.rstrip(":") or "tcp"
            port = port_part.lstrip(":")
        else:
            pieces = part.split(":")
            if len(pieces) == 1:
                proto, port = "tcp", pieces[0]
            elif len(pieces) == 2:
                proto, port = pieces
            elif len(pieces) == 3:
                proto, net, port = pieces
            else:
                raise RulesConfigError(key, part, "entries look like tcp:22 or tcp:10.0.0.0/8:22")
        entries.append(_proto_port(key, proto, port, net))
    return tuple(entries)


def _proto_port(key: str, proto: str, port: object, net: str) -> ProtoPort:
    proto = proto.strip().lower()
    if proto not in ("tcp", "udp", "sctp"):
        raise RulesConfigError(key, proto, "protocol must be tcp, udp or sctp")
    try:
        number = int(port)
    except (TypeError, ValueError):
        raise RulesConfigError(key, port, "port must be a number") from None
    if not 0 < number < 65536:
        raise RulesConfigError(key, port, "port must be between 1 and 65535")
    if net:
        try:
            ipaddress.ip_network(net, strict=False)
        except ValueError:
            raise RulesConfigError(key, net, "net must be a CIDR") from None
    return ProtoPort(proto, number, net)


def _port_range(key: str, value: object) -> str:
    text = str(value).strip()
    if not text:
        return ""
    lo, _, hi = text.partition(":") if ":" in text else text.partition("-")
    try:
        lo_n, hi_n = int(lo), int(hi or lo)
    except ValueError:
        raise RulesConfigError(key, value, "must be a port range such as 32768:65535") from None
    if not (0 < lo_n <= hi_n < 65536):
        raise RulesConfigError(key, value, "must be a port range within 1-65535")
    return f"{lo_n}-{hi_n}" if lo_n != hi_n else str(lo_n)
