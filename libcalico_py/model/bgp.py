"""BGPConfiguration and BGPPeer specs (`api/pkg/apis/projectcalico/v3/bgpconfig.go`,
`bgppeer.go`). Calico's client fills no BGPConfiguration defaults on write; the runtime
defaults confd applies (mesh on, AS 64512, listen port 179) are exported as constants."""
from __future__ import annotations

from libcalico_py.model.node import ASNumber
from libcalico_py.model.schema import Bool, F, Int, ListOf, Obj, Str, Struct

DEFAULT_AS_NUMBER = 64512
DEFAULT_LISTEN_PORT = 179
DEFAULT_LOG_SEVERITY = "Info"


class SecretKeySelector(Struct):
    FIELDS = (F("name", Str()), F("key", Str(), always=True), F("optional", Bool(), ptr=True))


class BGPPassword(Struct):
    FIELDS = (F("secretKeyRef", Obj(SecretKeySelector)),)


class ServiceIPBlock(Struct):
    FIELDS = (F("cidr", Str()),)


class Community(Struct):
    FIELDS = (F("name", Str()), F("value", Str()))


class PrefixAdvertisement(Struct):
    FIELDS = (F("cidr", Str()), F("communities", ListOf(Str())))


class BGPConfigurationSpec(Struct):
    FIELDS = (
        F("logSeverityScreen", Str()),
        F("nodeToNodeMeshEnabled", Bool(), ptr=True),
        F("asNumber", ASNumber, ptr=True),
        F("serviceLoadBalancerIPs", ListOf(Obj(ServiceIPBlock)), attr="service_load_balancer_ips"),
        F("serviceExternalIPs", ListOf(Obj(ServiceIPBlock)), attr="service_external_ips"),
        F("serviceClusterIPs", ListOf(Obj(ServiceIPBlock)), attr="service_cluster_ips"),
        F("communities", ListOf(Obj(Community))),
        F("prefixAdvertisements", ListOf(Obj(PrefixAdvertisement))),
        F("listenPort", Int(), ptr=True),
        F("nodeMeshPassword", Obj(BGPPassword)),
        F("nodeMeshMaxRestartTime", Str()),
        F("bindMode", Str()),
        F("ignoredInterfaces", ListOf(Str())),
        F("localWorkloadPeeringIPV4", Str(), attr="local_workload_peering_ipv4"),
        F("localWorkloadPeeringIPV6", Str(), attr="local_workload_peering_ipv6"),
        F("serviceLoadBalancerAggregation", Str()),
        F("programClusterRoutes", Str()),
        F("ipv4NormalRoutePriority", Int(), ptr=True),
        F("ipv6NormalRoutePriority", Int(), ptr=True),
    )


class BGPPeerSpec(Struct):
    FIELDS = (
        F("node", Str()),
        F("peerIP", Str(), attr="peer_ip"),
        F("asNumber", ASNumber),
        F("nodeSelector", Str()),
        F("peerSelector", Str()),
        F("keepOriginalNextHop", Bool()),
        F("nextHopMode", Str(), ptr=True),
        F("password", Obj(BGPPassword)),
        F("sourceAddress", Str()),
        F("maxRestartTime", Str()),
        F("numAllowedLocalASNumbers", Int(), ptr=True, attr="num_allowed_local_as_numbers"),
        F("ttlSecurity", Int(), ptr=True),
        F("keepaliveTime", Str()),
        F("reachableBy", Str()),
        F("filters", ListOf(Str())),
        F("localWorkloadSelector", Str()),
        F("reversePeering", Str()),
        F("localASNumber", ASNumber, ptr=True, attr="local_as_number"),
    )
