"""Table of invalid inputs across the kinds: each must be refused with an error at the
right field path whose reason says what is wrong."""
import copy

import pytest

from libcalico_py import model
from libcalico_py.errors import ValidationError
from tests.unit.libcalico_py.model import manifests as m


def _with(base: dict, **changes) -> dict:
    """A copy of `base` with dotted-path changes (`spec__cidr="x"` sets spec.cidr)."""
    doc = copy.deepcopy(base)
    for key, value in changes.items():
        *parents, leaf = key.split("__")
        node = doc
        for p in parents:
            node = node[int(p)] if p.isdigit() else node.setdefault(p, {})
        if value is _DELETE:
            del node[leaf]
        else:
            node[leaf] = value
    return doc


_DELETE = object()


def _rule(**fields):
    return {"action": "Allow", **fields}


def _np(*rules, direction="ingress", **spec):
    return {"apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy",
            "metadata": {"name": "p", "namespace": "ns"}, "spec": {direction: list(rules), **spec}}


def _gnp(**spec):
    return {"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy",
            "metadata": {"name": "g"}, "spec": spec}


TCP = {"protocol": "TCP"}
CASES = [
    # --- metadata ---
    ("name-uppercase", _with(m.IPPOOL, metadata__name="Pool_1"), "metadata.name", "lower case"),
    ("name-missing", _with(m.IPPOOL, metadata__name=_DELETE), "metadata.name", "required"),
    ("name-too-long", _with(m.GLOBAL_NETWORK_SET, metadata__name="a" * 254), "metadata.name",
     "253"),
    ("np-name-two-dots", _with(m.NETWORK_POLICY, metadata__name="a.b.c"), "metadata.name",
     "DNS label"),
    ("gnp-name-knp-prefix", _with(m.GLOBAL_NETWORK_POLICY, metadata__name="knp.default.x.y"),
     "metadata.name", "DNS label"),
    ("namespace-invalid", _with(m.NETWORK_SET, metadata__namespace="Dev_1"),
     "metadata.namespace", "lower case"),
    ("label-key-invalid", _with(m.HOST_ENDPOINT, metadata__labels={"-bad": "x"}),
     "metadata.labels[-bad]", "label key"),
    ("label-key-prefix", _with(m.HOST_ENDPOINT, metadata__labels={"Bad_Prefix/x": "y"}),
     "metadata.labels[Bad_Prefix/x]", "prefix"),
    ("label-value-invalid", _with(m.HOST_ENDPOINT, metadata__labels={"env": "prod!"}),
     "metadata.labels[env]", "label value"),
    ("label-value-too-long", _with(m.HOST_ENDPOINT, metadata__labels={"env": "x" * 64}),
     "metadata.labels[env]", "63"),
    ("netset-reserved-label",
     _with(m.NETWORK_SET, metadata__labels={"projectcalico.org/namespace": "x"}),
     "metadata.labels[projectcalico.org/namespace]", "reserved"),
    # --- rules: action, protocol, ports ---
    ("action-missing", _np({"protocol": "TCP"}), "spec.ingress[0].action", "required"),
    ("action-unknown", _np(_rule(action="Accept")), "spec.ingress[0].action", "Allow, Deny"),
    ("action-lowercase", _np(_rule(action="allow")), "spec.ingress[0].action", "Allow, Deny"),
    ("protocol-unknown", _np(_rule(protocol="GRE")), "spec.ingress[0].protocol",
     "not a valid protocol"),
    ("protocol-zero", _np(_rule(protocol=0)), "spec.ingress[0].protocol", "1-255"),
    ("protocol-256", _np(_rule(protocol=256)), "spec.ingress[0].protocol", "1-255"),
    ("not-protocol-bad", _np(_rule(notProtocol="tcpx")), "spec.ingress[0].notProtocol",
     "not a valid protocol"),
    ("port-zero", _np(_rule(destination={"ports": [0]}, **TCP)),
     "spec.ingress[0].destination.ports[0]", "out of range"),
    ("port-too-big", _np(_rule(destination={"ports": [80, 65536]}, **TCP)),
     "spec.ingress[0].destination.ports[1]", "out of range"),
    ("port-range-reversed", _np(_rule(destination={"ports": ["2000:1000"]}, **TCP)),
     "spec.ingress[0].destination.ports[0]", "min > max"),
    ("port-range-too-big", _np(_rule(destination={"ports": ["1000:70000"]}, **TCP)),
     "spec.ingress[0].destination.ports[0]", "out of range"),
    ("port-range-malformed", _np(_rule(destination={"ports": ["1:2:3"]}, **TCP)),
     "spec.ingress[0].destination.ports[0]", "port range"),
    ("port-name-invalid", _np(_rule(source={"ports": ["Web_Port"]}, **TCP)),
     "spec.ingress[0].source.ports[0]", "port name"),
    ("port-name-too-long", _np(_rule(destination={"ports": ["averyveryverylongname"]}, **TCP)),
     "spec.ingress[0].destination.ports[0]", "15 characters"),
    ("port-bool", _np(_rule(destination={"ports": [True]}, **TCP)),
     "spec.ingress[0].destination.ports[0]", "expected a port"),
    ("numeric-port-no-protocol", _np(_rule(destination={"ports": [80]})),
     "spec.ingress[0].destination.ports[0]", "require protocol"),
    ("ports-with-icmp", _np(_rule(protocol="ICMP", destination={"ports": [80]})),
     "spec.ingress[0].destination.ports[0]", "does not support ports"),
    ("named-port-with-udplite", _np(_rule(protocol="UDPLite", destination={"notPorts": ["dns"]})),
     "spec.ingress[0].destination.notPorts[0]", "does not support ports"),
    ("too-many-ports", _np(_rule(destination={"ports": list(range(1, 52))}, **TCP)),
     "spec.ingress[0].destination.ports", "at most 50"),
    # --- ICMP ---
    ("icmp-type-255", _np(_rule(protocol="ICMP", icmp={"type": 255})),
     "spec.ingress[0].icmp.type", "0 and 254"),
    ("icmp-code-256", _np(_rule(protocol="ICMP", icmp={"type": 3, "code": 256})),
     "spec.ingress[0].icmp.code", "0 and 255"),
    ("icmp-code-without-type", _np(_rule(protocol="ICMP", icmp={"code": 1})),
     "spec.ingress[0].icmp.code", "requires an ICMP type"),
    ("icmp-without-protocol", _np(_rule(icmp={"type": 8})), "spec.ingress[0].icmp",
     "protocol ICMP or ICMPv6"),
    ("icmp-with-tcp", _np(_rule(protocol="TCP", notICMP={"type": 8})), "spec.ingress[0].notICMP",
     "protocol ICMP or ICMPv6"),
    ("icmp-v4-with-ipversion-6", _np(_rule(protocol="ICMP", ipVersion=6, icmp={"type": 8})),
     "spec.ingress[0].protocol", "ipVersion 4"),
    ("icmpv6-with-ipversion-4", _np(_rule(protocol="ICMPv6", ipVersion=4, icmp={"type": 128})),
     "spec.ingress[0].protocol", "ipVersion 6"),
    # --- nets, selectors, ip versions ---
    ("ipversion-5", _np(_rule(ipVersion=5)), "spec.ingress[0].ipVersion", "4 or 6"),
    ("net-invalid", _np(_rule(source={"nets": ["10.0.0.0/33"]})),
     "spec.ingress[0].source.nets[0]", "not a valid CIDR"),
    ("net-garbage", _np(_rule(destination={"nets": ["10.0.0.0/8", "bogus"]}), direction="egress"),
     "spec.egress[0].destination.nets[1]", "not a valid CIDR"),
    ("notnets-matches-nothing", _np(_rule(source={"notNets": ["0.0.0.0/0"]})),
     "spec.ingress[0].source.notNets[0]", "matches no traffic"),
    ("net-version-mismatch", _np(_rule(ipVersion=4, source={"nets": ["fd00::/64"]})),
     "spec.ingress[0].source.nets[0]", "ipVersion 4"),
    ("net-mixed-families", _np(_rule(source={"nets": ["10.0.0.0/8"]},
                                     destination={"nets": ["fd00::/64"]})),
     "spec.ingress[0].destination.nets[0]", "mix IPv4 and IPv6"),
    ("selector-syntax", _np(_rule(source={"selector": "role == "})),
     "spec.ingress[0].source.selector", "invalid selector"),
    ("policy-selector-syntax", _np(selector="a === 'b'"), "spec.selector", "invalid selector"),
    ("policy-selector-global", _np(selector="global()"), "spec.selector", "global()"),
    ("ns-selector-global-combined", _np(_rule(source={"namespaceSelector": "global() && a == 'b'"})),
     "spec.ingress[0].source.namespaceSelector", "cannot be combined"),
    ("selector-too-long", _np(selector="a == '" + "x" * 1030 + "'"), "spec.selector", "1024"),
    ("sa-selector-bad", _np(_rule(source={"serviceAccounts": {"selector": "x =="}})),
     "spec.ingress[0].source.serviceAccounts.selector", "invalid selector"),
    ("services-in-ingress-destination", _np(_rule(destination={"services": {"name": "s"}})),
     "spec.ingress[0].destination.services", "source of ingress"),
    ("services-with-selector", _np(_rule(source={"services": {"name": "s"}, "selector": "a == 'b'"})),
     "spec.ingress[0].source.selector", "cannot be combined with services"),
    ("http-on-deny", _np(_rule(action="Deny", http={"methods": ["GET"]})),
     "spec.ingress[0].http", "only allowed on Allow"),
    ("http-in-egress", _np(_rule(http={"methods": ["GET"]}), direction="egress"),
     "spec.egress[0].http", "not allowed in egress"),
    # --- policy specs ---
    ("types-unknown", _np(types=["Inbound"]), "spec.types[0]", "Ingress, Egress"),
    ("types-duplicate", _np(types=["Ingress", "Ingress"]), "spec.types", "duplicates"),
    ("tier-invalid", _np(tier="Tier.One"), "spec.tier", "lower case"),
    ("gnp-predNAT-and-dnt", _gnp(preDNAT=True, doNotTrack=True, applyOnForward=True),
     "spec.preDNAT", "cannot both be true"),
    ("gnp-predNAT-egress", _gnp(preDNAT=True, applyOnForward=True, egress=[_rule()]),
     "spec.egress", "preDNAT"),
    ("gnp-dnt-without-aof", _gnp(doNotTrack=True), "spec.applyOnForward", "must be true"),
    ("gnp-ns-selector-bad", _gnp(namespaceSelector="a in {"), "spec.namespaceSelector",
     "invalid selector"),
    ("perf-hint-unknown", _np(performanceHints=["GoFast"]), "spec.performanceHints[0]",
     "AssumeNeededOnEveryNode"),
    ("profile-rule-bad", _with(m.PROFILE, spec__ingress=[{"action": "Drop"}]),
     "spec.ingress[0].action", "Allow, Deny"),
    ("profile-labels-to-apply-bad", _with(m.PROFILE, spec__labelsToApply={"a": "b c"}),
     "spec.labelsToApply[a]", "label value"),
    # --- IPPool ---
    ("pool-cidr-missing", _with(m.IPPOOL, spec__cidr=_DELETE), "spec.cidr", "required"),
    ("pool-cidr-not-masked", _with(m.IPPOOL, spec__cidr="192.168.1.0/16"), "spec.cidr",
     "strictly masked"),
    ("pool-cidr-garbage", _with(m.IPPOOL, spec__cidr="192.168.0.0/40"), "spec.cidr",
     "not a valid CIDR"),
    ("pool-cidr-bare-ip", _with(m.IPPOOL, spec__cidr="192.168.0.0"), "spec.cidr",
     "prefix length missing"),
    ("pool-link-local", _with(m.IPPOOL, spec__cidr="169.254.0.0/16"), "spec.cidr", "link-local"),
    ("pool-link-local-v6", _with(m.IPPOOL_V6, spec__cidr="fe80::/64"), "spec.cidr", "link-local"),
    ("pool-block-too-small", _with(m.IPPOOL, spec__blockSize=33), "spec.blockSize", "20 and 32"),
    ("pool-block-too-big", _with(m.IPPOOL, spec__blockSize=19), "spec.blockSize", "20 and 32"),
    ("pool-block-v6", _with(m.IPPOOL_V6, spec__blockSize=64), "spec.blockSize", "116 and 128"),
    ("pool-prefix-longer-than-block",
     _with(m.IPPOOL, spec__cidr="192.168.0.0/28", spec__blockSize=26),
     "spec.blockSize", "must not be longer"),
    ("pool-ipip-mode-bad", _with(m.IPPOOL, spec__ipipMode="Sometimes"), "spec.ipipMode",
     "Never, Always, CrossSubnet"),
    ("pool-vxlan-mode-bad", _with(m.IPPOOL, spec__vxlanMode="always"), "spec.vxlanMode",
     "Never, Always, CrossSubnet"),
    ("pool-ipip-and-vxlan", _with(m.IPPOOL, spec__ipipMode="Always", spec__vxlanMode="Always"),
     "spec.vxlanMode", "cannot both be enabled"),
    ("pool-ipip-on-v6", _with(m.IPPOOL_V6, spec__ipipMode="Always", spec__vxlanMode="Never"),
     "spec.ipipMode", "IPv6"),
    ("pool-node-selector-bad", _with(m.IPPOOL, spec__nodeSelector="all("), "spec.nodeSelector",
     "invalid selector"),
    ("pool-node-selector-global", _with(m.IPPOOL, spec__nodeSelector="global()"),
     "spec.nodeSelector", "global()"),
    ("pool-allowed-use-bad", _with(m.IPPOOL, spec__allowedUses=["Workload", "Pods"]),
     "spec.allowedUses[1]", "Workload, Tunnel, LoadBalancer"),
    ("pool-lb-with-workload", _with(m.IPPOOL, spec__ipipMode="Never",
                                    spec__allowedUses=["LoadBalancer", "Workload"]),
     "spec.allowedUses", "LoadBalancer cannot be combined"),
    ("pool-assignment-mode-bad", _with(m.IPPOOL, spec__assignmentMode="Auto"),
     "spec.assignmentMode", "Automatic, Manual"),
    ("pool-nat-not-bool", _with(m.IPPOOL, spec__natOutgoing="yes"), "spec.natOutgoing",
     "expected a boolean"),
    ("ipreservation-bad-cidr", _with(m.IPRESERVATION, spec__reservedCIDRs=["10.0.0.0/8", "x"]),
     "spec.reservedCIDRs[1]", "not a valid CIDR"),
    # --- endpoints ---
    ("wep-ipnetwork-not-host", _with(m.WORKLOAD_ENDPOINT, spec__ipNetworks=["10.0.0.0/24"]),
     "spec.ipNetworks[0]", "/32"),
    ("wep-ipnetwork-garbage", _with(m.WORKLOAD_ENDPOINT, spec__ipNetworks=["10.0.0.300/32"]),
     "spec.ipNetworks[0]", "not a valid CIDR"),
    ("wep-nat-internal-not-own", _with(m.WORKLOAD_ENDPOINT,
                                       spec__ipNATs=[{"internalIP": "10.9.9.9",
                                                      "externalIP": "172.16.0.5"}]),
     "spec.ipNATs[0].internalIP", "one of the ipNetworks"),
    ("wep-nat-external-bad", _with(m.WORKLOAD_ENDPOINT,
                                   spec__ipNATs=[{"internalIP": "192.168.0.0",
                                                  "externalIP": "nope"}]),
     "spec.ipNATs[0].externalIP", "not a valid IP"),
    ("wep-mac-bad", _with(m.WORKLOAD_ENDPOINT, spec__mac="ca:fe:1d:52:bb"), "spec.mac", "MAC"),
    ("wep-gateway-wrong-family", _with(m.WORKLOAD_ENDPOINT, spec__ipv4Gateway="fd00::1"),
     "spec.ipv4Gateway", "IPv4"),
    ("wep-interface-too-long", _with(m.WORKLOAD_ENDPOINT, spec__interfaceName="cali0123456789abc"),
     "spec.interfaceName", "interface name"),
    ("wep-port-zero", _with(m.WORKLOAD_ENDPOINT, spec__ports=[{"name": "http", "protocol": "TCP",
                                                               "port": 0}]),
     "spec.ports[0].port", "between 1 and 65535"),
    ("wep-port-name-bad", _with(m.WORKLOAD_ENDPOINT, spec__ports=[{"name": "HTTP", "protocol": "TCP",
                                                                   "port": 80}]),
     "spec.ports[0].name", "port name"),
    ("wep-port-protocol-bad", _with(m.WORKLOAD_ENDPOINT, spec__ports=[{"name": "x", "protocol": "IP",
                                                                       "port": 80}]),
     "spec.ports[0].protocol", "not a valid protocol"),
    ("wep-profile-bad", _with(m.WORKLOAD_ENDPOINT, spec__profiles=["Bad Profile"]),
     "spec.profiles[0]", "lower case"),
    ("wep-node-bad", _with(m.WORKLOAD_ENDPOINT, spec__node="Node_1"), "spec.node", "lower case"),
    ("hep-node-missing", _with(m.HOST_ENDPOINT, spec__node=_DELETE), "spec.node", "required"),
    ("hep-needs-iface-or-ips", _with(m.HOST_ENDPOINT, spec__interfaceName=_DELETE,
                                     spec__expectedIPs=_DELETE),
     "spec.interfaceName", "interfaceName or expectedIPs"),
    ("hep-expected-ip-bad", _with(m.HOST_ENDPOINT, spec__expectedIPs=["10.0.0.1/24"]),
     "spec.expectedIPs[0]", "not a valid IP"),
    # --- Node ---
    ("node-empty-bgp", _with(m.NODE, spec__bgp={}), "spec.bgp", "must not be empty"),
    ("node-bgp-v4-is-v6", _with(m.NODE, spec__bgp__ipv4Address="fd00::1/64"),
     "spec.bgp.ipv4Address", "IPv4"),
    ("node-bgp-as-zero", _with(m.NODE, spec__bgp__asNumber=0), "spec.bgp.asNumber", "out of range"),
    ("node-rr-cluster-id", _with(m.NODE, spec__bgp__routeReflectorClusterID="not-an-ip"),
     "spec.bgp.routeReflectorClusterID", "not a valid IP"),
    ("node-vxlan-mac-bad", _with(m.NODE, spec__vxlanTunnelMACAddr="zz:zz"),
     "spec.vxlanTunnelMACAddr", "MAC"),
    ("node-bgp-unknown-field", _with(m.NODE, spec__bgp__asn=64512), "spec.bgp.asn",
     "not recognized"),
    # --- BGP ---
    ("peer-node-and-selector", _with(m.BGP_PEER, spec__node="node1"), "spec.nodeSelector",
     "cannot both be set"),
    ("peer-ip-and-selector", _with(m.BGP_PEER, spec__peerSelector="all()"), "spec.peerSelector",
     "cannot both be set"),
    ("peer-selector-with-as", _with(m.BGP_PEER_SELECTOR, spec__asNumber=64512), "spec.asNumber",
     "peerSelector"),
    ("peer-ip-bad", _with(m.BGP_PEER, spec__peerIP="300.1.1.1"), "spec.peerIP", "not a valid IP"),
    ("peer-ip-port-bad", _with(m.BGP_PEER, spec__peerIP="10.0.0.1:99999"), "spec.peerIP",
     "invalid port"),
    ("peer-as-too-big", _with(m.BGP_PEER, spec__asNumber=4294967296), "spec.asNumber",
     "out of range"),
    ("peer-as-dotted-bad", _with(m.BGP_PEER, spec__asNumber="70000.1"), "spec.asNumber",
     "above 65535"),
    ("peer-as-garbage", _with(m.BGP_PEER, spec__asNumber="AS64512"), "spec.asNumber",
     "not a valid AS number"),
    ("peer-keepalive-bad", _with(m.BGP_PEER, spec__keepaliveTime="30 seconds"),
     "spec.keepaliveTime", "duration"),
    ("peer-next-hop-conflict", _with(m.BGP_PEER, spec__keepOriginalNextHop=True,
                                     spec__nextHopMode="Self"),
     "spec.nextHopMode", "cannot both be set"),
    ("peer-source-address-bad", _with(m.BGP_PEER, spec__sourceAddress="NodeIP"),
     "spec.sourceAddress", "UseNodeIP, None"),
    ("bgpconfig-log-bad", _with(m.BGP_CONFIGURATION, spec__logSeverityScreen="Verbose"),
     "spec.logSeverityScreen", "Debug, Info"),
    ("bgpconfig-cluster-ip-bad", _with(m.BGP_CONFIGURATION, spec__serviceClusterIPs=[{"cidr": "x"}]),
     "spec.serviceClusterIPs[0].cidr", "not a valid CIDR"),
    ("bgpconfig-listen-port", _with(m.BGP_CONFIGURATION, spec__listenPort=70000),
     "spec.listenPort", "between 1 and 65535"),
    ("bgpconfig-community-bad", _with(m.BGP_CONFIGURATION,
                                      spec__communities=[{"name": "c", "value": "70000:1"}],
                                      spec__prefixAdvertisements=_DELETE),
     "spec.communities[0].value", "16-bit"),
    ("bgpconfig-prefix-unknown-community",
     _with(m.BGP_CONFIGURATION, spec__prefixAdvertisements=[{"cidr": "10.0.0.0/24",
                                                             "communities": ["nope"]}]),
     "spec.prefixAdvertisements[0].communities[0]", "community"),
    ("bgpconfig-mesh-password-without-mesh",
     _with(m.BGP_CONFIGURATION, spec__nodeMeshPassword={"secretKeyRef": {"name": "s", "key": "k"}}),
     "spec.nodeMeshPassword", "nodeToNodeMeshEnabled"),
    ("bgpconfig-bind-mode", _with(m.BGP_CONFIGURATION, spec__bindMode="All"), "spec.bindMode",
     "None, NodeIP"),
    # --- FelixConfiguration ---
    ("felix-log-level", _with(m.FELIX_CONFIGURATION, spec__logSeverityScreen="Loud"),
     "spec.logSeverityScreen", "Debug, Info"),
    ("felix-duration", _with(m.FELIX_CONFIGURATION, spec__iptablesRefreshInterval="90"),
     "spec.iptablesRefreshInterval", "duration"),
    ("felix-backend", _with(m.FELIX_CONFIGURATION, spec__iptablesBackend="Fast"),
     "spec.iptablesBackend", "Auto, Legacy, NFT"),
    ("felix-health-port", _with(m.FELIX_CONFIGURATION, spec__healthPort=70000), "spec.healthPort",
     "between 0 and 65535"),
    ("felix-failsafe-protocol", _with(m.FELIX_CONFIGURATION,
                                      spec__failsafeInboundHostPorts=[{"protocol": "icmp", "port": 1}]),
     "spec.failsafeInboundHostPorts[0].protocol", "tcp, udp, sctp"),
    ("felix-unknown-field", _with(m.FELIX_CONFIGURATION, spec__ipv6support=True),
     "spec.ipv6support", "not recognized"),
    ("felix-bool-type", _with(m.FELIX_CONFIGURATION, spec__bpfEnabled="true"), "spec.bpfEnabled",
     "expected a boolean"),
    # --- network sets ---
    ("netset-bad-cidr", _with(m.NETWORK_SET, spec__nets=["198.51.100.0/28", "198.51.100.0/99"]),
     "spec.nets[1]", "not a valid CIDR"),
    ("gnetset-bad-cidr", _with(m.GLOBAL_NETWORK_SET, spec__nets=["nope"]), "spec.nets[0]",
     "not a valid CIDR"),
    # --- Kubernetes NetworkPolicy ---
    ("knp-operator-bad", _with(m.K8S_NETWORK_POLICY, spec__podSelector={
        "matchExpressions": [{"key": "a", "operator": "Equals", "values": ["b"]}]}),
     "spec.podSelector.matchExpressions[0].operator", "In, NotIn"),
    ("knp-in-without-values", _with(m.K8S_NETWORK_POLICY, spec__podSelector={
        "matchExpressions": [{"key": "a", "operator": "In"}]}),
     "spec.podSelector.matchExpressions[0].values", "non-empty"),
    ("knp-exists-with-values", _with(m.K8S_NETWORK_POLICY, spec__podSelector={
        "matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}),
     "spec.podSelector.matchExpressions[0].values", "must be empty"),
    ("knp-ipblock-bad", _with(m.K8S_NETWORK_POLICY, spec__ingress__0__from=[
        {"ipBlock": {"cidr": "172.17.0.0/99"}}]),
     "spec.ingress[0].from[0].ipBlock.cidr", "not a valid CIDR"),
    ("knp-except-outside", _with(m.K8S_NETWORK_POLICY, spec__ingress__0__from=[
        {"ipBlock": {"cidr": "172.17.0.0/16", "except": ["10.0.0.0/8"]}}]),
     "spec.ingress[0].from[0].ipBlock.except[0]", "within"),
    ("knp-ipblock-with-selector", _with(m.K8S_NETWORK_POLICY, spec__ingress__0__from=[
        {"ipBlock": {"cidr": "172.17.0.0/16"}, "podSelector": {}}]),
     "spec.ingress[0].from[0].ipBlock", "cannot be combined"),
    ("knp-port-protocol", _with(m.K8S_NETWORK_POLICY, spec__ingress__0__ports=[
        {"protocol": "ICMP", "port": 1}]),
     "spec.ingress[0].ports[0].protocol", "TCP, UDP, SCTP"),
    ("knp-endport-below-port", _with(m.K8S_NETWORK_POLICY, spec__egress__0__ports=[
        {"port": 32000, "endPort": 31000}]),
     "spec.egress[0].ports[0].endPort", "between port and 65535"),
    ("knp-endport-named", _with(m.K8S_NETWORK_POLICY, spec__egress__0__ports=[
        {"port": "http", "endPort": 90}]),
     "spec.egress[0].ports[0].endPort", "numeric port"),
    ("knp-policy-type-bad", _with(m.K8S_NETWORK_POLICY, spec__policyTypes=["ingress"]),
     "spec.policyTypes[0]", "Ingress, Egress"),
    ("knp-match-label-bad", _with(m.K8S_NETWORK_POLICY, spec__podSelector={
        "matchLabels": {"role": "a b"}}),
     "spec.podSelector.matchLabels[role]", "label value"),
    ("knp-unknown-field", _with(m.K8S_NETWORK_POLICY, spec__ingress__0__form=[]),
     "spec.ingress[0].form", "not recognized"),
]


def test_table_is_large_enough():
    assert len(CASES) >= 60
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("doc,path,fragment", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_invalid_input_names_the_field(doc, path, fragment):
    with pytest.raises(ValidationError) as info:
        model.load(doc)
    matches = [e for e in info.value.errors if e.path == path]
    assert matches, f"no error at {path}: {[str(e) for e in info.value.errors]}"
    assert any(fragment in e.reason for e in matches), [str(e) for e in matches]
    assert path in str(info.value)


def test_namespace_refused_on_cluster_scoped_kind():
    doc = _with(m.GLOBAL_NETWORK_SET, metadata__namespace="default")
    with pytest.raises(ValidationError) as info:
        model.load(doc)
    assert info.value.errors[0].path == "metadata.namespace"
    assert "cluster-scoped" in info.value.errors[0].reason
