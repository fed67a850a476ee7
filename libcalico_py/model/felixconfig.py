"""FelixConfiguration spec (`api/pkg/apis/projectcalico/v3/felixconfig.go`).

Almost every field is a pointer in Go (unset = Felix's built-in default), so explicit
`false`/`0` values are kept. The table below is compact on purpose: one line per field
with a type code. Felix's own defaults are not filled in here (Calico does not write them
into the resource); `felixpy.config` applies them at run time.
"""
from __future__ import annotations

from libcalico_py.model.schema import (Bool, Converted, F, Int, ListOf, MapOf, Obj, Str,
                                        Struct)
from libcalico_py.validation.ports import parse_port


class ProtoPort(Struct):
    """A failsafe port: protocol, port and optional CIDR (`net` has no omitempty in Go)."""
    FIELDS = (F("protocol", Str(), always=True), F("port", Int(), always=True),
              F("net", Str(), always=True))


class HealthTimeoutOverride(Struct):
    FIELDS = (F("name", Str(), always=True), F("timeout", Str(), always=True))


class RouteTableRange(Struct):
    FIELDS = (F("min", Int(), always=True), F("max", Int(), always=True))


_TYPES = {
    "b": lambda n: F(n, Bool(), ptr=True),
    "i": lambda n: F(n, Int(), ptr=True),
    "s": lambda n: F(n, Str()),
    "sp": lambda n: F(n, Str(), ptr=True),
    "s!": lambda n: F(n, Str(), always=True),
    "d": lambda n: F(n, Str(), ptr=True),          # metav1.Duration as text, e.g. "90s"
    "p": lambda n: F(n, Converted(parse_port), ptr=True),
    "lp": lambda n: F(n, ListOf(Converted(parse_port)), ptr=True),
    "ls": lambda n: F(n, ListOf(Str()), ptr=True),
    "pp": lambda n: F(n, ListOf(Obj(ProtoPort)), ptr=True),
    "ms": lambda n: F(n, MapOf(Str()), ptr=True),
}

_TABLE = """
useInternalDataplaneDriver b  dataplaneDriver s  dataplaneWatchdogTimeout d  ipv6Support b
routeRefreshInterval d  interfaceRefreshInterval d  iptablesRefreshInterval d
iptablesPostWriteCheckInterval d  iptablesLockFilePath s  iptablesLockTimeout d
iptablesLockProbeInterval d  featureDetectOverride s  featureGates s  ipsetsRefreshInterval d
maxIpsetSize i  iptablesBackend sp  xdpRefreshInterval d  netlinkTimeout d  metadataAddr s
metadataPort i  openstackRegion s  interfacePrefix s  interfaceExclude s  chainInsertMode s
defaultEndpointToHostAction s  iptablesFilterAllowAction s  iptablesMangleAllowAction s
iptablesFilterDenyAction s  logPrefix s  logFilePath s  logSeverityFile s  logSeverityScreen s
logSeveritySys s  logDebugFilenameRegex s  ipipEnabled b  ipipMTU i  vxlanEnabled b  vxlanMTU i
vxlanMTUV6 i  vxlanPort i  vxlanVNI i  allowVXLANPacketsFromWorkloads b
allowIPIPPacketsFromWorkloads b  reportingInterval d  reportingTTL d  endpointReportingEnabled b
endpointReportingDelay d  endpointStatusPathPrefix s  iptablesMarkMask i
disableConntrackInvalidCheck b  healthEnabled b  healthHost sp  healthPort i
prometheusMetricsEnabled b  prometheusMetricsHost s  prometheusMetricsPort i
prometheusGoMetricsEnabled b  prometheusProcessMetricsEnabled b
prometheusWireGuardMetricsEnabled b  failsafeInboundHostPorts pp  failsafeOutboundHostPorts pp
kubeNodePortRanges lp  policySyncPathPrefix s  usageReportingEnabled b
usageReportingInitialDelay d  usageReportingInterval d  natPortRange p  natOutgoingAddress s
deviceRouteSourceAddress s  deviceRouteSourceAddressIPv6 s  deviceRouteProtocol i
removeExternalRoutes b  ipForwarding s  externalNodesList ls  debugMemoryProfilePath s
debugDisableLogDropping b  debugSimulateCalcGraphHangAfter d  debugSimulateDataplaneHangAfter d
debugSimulateDataplaneApplyDelay d  debugHost sp  debugPort i
iptablesNATOutgoingInterfaceFilter s  sidecarAccelerationEnabled b  xdpEnabled b
genericXDPEnabled b  nftablesMode sp  nftablesRefreshInterval d  nftablesFilterAllowAction s
nftablesMangleAllowAction s  nftablesFilterDenyAction s  nftablesMarkMask i  bpfEnabled b
bpfDisableUnprivileged b  bpfLogLevel s!  bpfLogFilters ms  bpfCTLBLogFilter s
bpfDataIfacePattern s  bpfL3IfacePattern s  bpfConnectTimeLoadBalancingEnabled b
bpfConnectTimeLoadBalancing sp  bpfHostNetworkedNATWithoutCTLB sp  bpfExternalServiceMode s
bpfDSROptoutCIDRs ls  bpfExtToServiceConnmark i  bpfKubeProxyIptablesCleanupEnabled b
bpfKubeProxyMinSyncPeriod d  bpfKubeProxyEndpointSlicesEnabled b  bpfPSNATPorts p
bpfMapSizeNATFrontend i  bpfMapSizeNATBackend i  bpfMapSizeNATAffinity i  bpfMapSizeRoute i
bpfMapSizeConntrack i  bpfMapSizeIPSets i  bpfMapSizeIfState i  bpfHostConntrackBypass b
bpfEnforceRPF s  bpfPolicyDebugEnabled b  bpfForceTrackPacketsFromIfaces ls
bpfDisableGROForIfaces s  bpfExcludeCIDRsFromNAT ls  bpfRedirectToPeer s  bpfProfiling s
routeSource s  routeSyncDisabled b  wireguardEnabled b  wireguardEnabledV6 b
wireguardThreadingEnabled b  wireguardListeningPort i  wireguardListeningPortV6 i
wireguardRoutingRulePriority i  wireguardInterfaceName s  wireguardInterfaceNameV6 s
wireguardMTU i  wireguardMTUV6 i  wireguardHostEncryptionEnabled b  wireguardKeepAlive d
awsSrcDstCheck sp  serviceLoopPrevention s  workloadSourceSpoofing s  mtuIfacePattern s
floatingIPs sp  windowsManageFirewallRules sp  goGCThreshold i  goMemoryLimitMB i  goMaxProcs i
programClusterRoutes s  ipv4NormalRoutePriority i  ipv6NormalRoutePriority i
"""


def _fields() -> tuple[F, ...]:
    words = _TABLE.split()
    out = [_TYPES[code](name) for name, code in zip(words[::2], words[1::2])]
    out.append(F("healthTimeoutOverrides", ListOf(Obj(HealthTimeoutOverride))))
    out.append(F("routeTableRange", Obj(RouteTableRange)))
    out.append(F("routeTableRanges", ListOf(Obj(RouteTableRange)), ptr=True))
    return tuple(out)


class FelixConfigurationSpec(Struct):
    FIELDS = _fields()
