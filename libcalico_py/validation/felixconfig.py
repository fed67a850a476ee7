"""FelixConfiguration checks: enumerations (case-insensitive where Felix's patterns are
`(?i)`), durations, port numbers, failsafe ports, mark masks, and the resource name
(`default` or `node.<name>`, any DNS subdomain accepted as Calico does)."""
from __future__ import annotations

from libcalico_py.validation.bgp import duration_reason
from libcalico_py.validation.collector import Collector, one_of
from libcalico_py.validation.net import cidr_reason

LOG_LEVELS = ("Debug", "Info", "Warning", "Error", "Fatal")
ENUMS: dict[str, tuple[tuple[str, ...], bool]] = {
    # json name: (allowed values, case-insensitive)
    "logSeverityScreen": (LOG_LEVELS, True),
    "logSeverityFile": (LOG_LEVELS, True),
    "logSeveritySys": (LOG_LEVELS + ("None",), True),
    "chainInsertMode": (("insert", "append"), True),
    "defaultEndpointToHostAction": (("Drop", "Accept", "Return"), True),
    "iptablesFilterAllowAction": (("Accept", "Return"), True),
    "iptablesMangleAllowAction": (("Accept", "Return"), True),
    "iptablesFilterDenyAction": (("Drop", "Reject"), True),
    "iptablesBackend": (("Auto", "Legacy", "NFT"), True),
    "nftablesMode": (("Auto", "Enabled", "Disabled"), False),
    "routeSource": (("WorkloadIPs", "CalicoIPAM"), True),
    "ipForwarding": (("Enabled", "Disabled"), False),
    "serviceLoopPrevention": (("Drop", "Reject", "Disabled"), True),
    "workloadSourceSpoofing": (("Disabled", "Any"), True),
    "bpfLogLevel": (("Off", "Info", "Debug"), True),
    "programClusterRoutes": (("Enabled", "Disabled", "EnabledNoEncapOnly", "EnabledIPIPOnly"),
                             False),
}
PORTS = ("healthPort", "prometheusMetricsPort", "metadataPort", "vxlanPort",
         "wireguardListeningPort", "wireguardListeningPortV6", "debugPort")
FAILSAFE_PROTOCOLS = ("tcp", "udp", "sctp")


def validate_felix_configuration(errs: Collector, res) -> None:
    spec = res.spec
    for f in spec.FIELDS:
        value = getattr(spec, f.name)
        if value is None or value == "":
            continue
        path = f"spec.{f.json}"
        if f.json in ENUMS:
            allowed, ignore_case = ENUMS[f.json]
            errs.check(path, one_of(value, allowed, ignore_case), value)
        elif f.json in PORTS:
            if not 0 <= value <= 65535:
                errs.add(path, "port must be between 0 and 65535", value)
        elif f.json.endswith(("Interval", "Timeout", "Delay", "Period", "After",
                              "KeepAlive")) and isinstance(value, str):
            errs.check(path, duration_reason(value), value)
        elif f.json in ("failsafeInboundHostPorts", "failsafeOutboundHostPorts"):
            for i, pp in enumerate(value):
                if pp is None:
                    continue
                errs.check(f"{path}[{i}].protocol",
                           one_of(pp.protocol or "", FAILSAFE_PROTOCOLS, ignore_case=True),
                           pp.protocol)
                if pp.port is None or not 0 <= pp.port <= 65535:
                    errs.add(f"{path}[{i}].port", "port must be between 0 and 65535", pp.port)
                if pp.net:
                    errs.check(f"{path}[{i}].net", cidr_reason(pp.net), pp.net)
        elif f.json in ("iptablesMarkMask", "nftablesMarkMask"):
            if not 0 <= value <= 0xFFFFFFFF:
                errs.add(path, "mark mask must be a 32-bit number", value)
        elif f.json == "vxlanVNI" and not 1 <= value <= 0xFFFFFF:
            errs.add(path, "VNI must be between 1 and 16777215", value)
        elif f.json in ("bpfDSROptoutCIDRs", "bpfExcludeCIDRsFromNAT", "externalNodesList"):
            errs.check_each(path, value, cidr_reason)
