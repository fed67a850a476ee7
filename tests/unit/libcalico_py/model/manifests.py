"""Realistic manifests, one or more per kind, shared by the model tests."""

CALICO = "projectcalico.org/v3"

NETWORK_POLICY = {
    "apiVersion": CALICO, "kind": "NetworkPolicy",
    "metadata": {"name": "allow-tcp-6379", "namespace": "production",
                 "labels": {"projectcalico.org/tier": "default"}},
    "spec": {
        "tier": "default", "order": 100, "selector": "role == 'database'",
        "types": ["Ingress", "Egress"],
        "ingress": [{
            "action": "Allow", "protocol": "TCP",
            "metadata": {"annotations": {"from": "frontend", "to": "database"}},
            "source": {"selector": "role == 'frontend'"},
            "destination": {"ports": [6379, "7000:7010", "redis"]},
        }, {
            "action": "Deny", "protocol": "ICMP", "ipVersion": 4,
            "icmp": {"type": 8, "code": 0},
            "source": {"nets": ["10.0.0.0/8"], "notNets": ["10.1.0.0/16"]},
            "destination": {},
        }],
        "egress": [{"action": "Allow", "source": {}, "destination": {}}],
    },
}

GLOBAL_NETWORK_POLICY = {
    "apiVersion": CALICO, "kind": "GlobalNetworkPolicy",
    "metadata": {"name": "allow-ping", "labels": {"projectcalico.org/tier": "default"}},
    "spec": {
        "tier": "default", "order": 200.5, "selector": "all()",
        "namespaceSelector": "team == 'ops'", "types": ["Ingress"],
        "ingress": [{"action": "Allow", "protocol": "ICMPv6", "ipVersion": 6,
                     "notICMP": {"type": 128},
                     "source": {"namespaceSelector": "global()"}, "destination": {}},
                    {"action": "Pass", "protocol": 17, "source": {},
                     "destination": {"notPorts": [53]}}],
        "doNotTrack": True, "applyOnForward": True,
    },
}

PROFILE = {
    "apiVersion": CALICO, "kind": "Profile",
    "metadata": {"name": "kns.default"},
    "spec": {
        "ingress": [{"action": "Allow", "source": {}, "destination": {}}],
        "egress": [{"action": "Allow", "source": {}, "destination": {}}],
        "labelsToApply": {"pcns.projectcalico.org/name": "default"},
    },
}

WORKLOAD_ENDPOINT = {
    "apiVersion": CALICO, "kind": "WorkloadEndpoint",
    "metadata": {"name": "node1-k8s-frontend--5gs43-eth0", "namespace": "default",
                 "labels": {"app": "frontend", "projectcalico.org/namespace": "default",
                            "projectcalico.org/orchestrator": "k8s"}},
    "spec": {
        "orchestrator": "k8s", "node": "node1", "pod": "frontend-5gs43",
        "containerID": "1337495556942031415", "endpoint": "eth0",
        "interfaceName": "cali0ef24ba", "mac": "ca:fe:1d:52:bb:e9",
        "ipNetworks": ["192.168.0.0/32"], "profiles": ["kns.default"],
        "ipNATs": [{"internalIP": "192.168.0.0", "externalIP": "172.16.0.5"}],
        "ports": [{"name": "http", "protocol": "TCP", "port": 80},
                  {"name": "dns", "protocol": "UDP", "port": 53, "hostPort": 5353,
                   "hostIP": "10.0.0.1"}],
        "serviceAccountName": "default",
    },
}

HOST_ENDPOINT = {
    "apiVersion": CALICO, "kind": "HostEndpoint",
    "metadata": {"name": "node1-eth0", "labels": {"environment": "production"}},
    "spec": {"node": "node1", "interfaceName": "eth0", "expectedIPs": ["192.168.0.1"],
             "profiles": ["profile1"],
             "ports": [{"name": "https", "protocol": "TCP", "port": 443}]},
}

IPPOOL = {
    "apiVersion": CALICO, "kind": "IPPool",
    "metadata": {"name": "default-ipv4-ippool"},
    "spec": {"cidr": "192.168.0.0/16", "blockSize": 26, "ipipMode": "CrossSubnet",
             "vxlanMode": "Never", "natOutgoing": True, "nodeSelector": "all()",
             "allowedUses": ["Workload", "Tunnel"], "assignmentMode": "Automatic"},
}

IPPOOL_V6 = {
    "apiVersion": CALICO, "kind": "IPPool",
    "metadata": {"name": "pool6"},
    "spec": {"cidr": "fd00:1::/48", "blockSize": 122, "ipipMode": "Never",
             "vxlanMode": "Always", "disabled": True, "disableBGPExport": True,
             "nodeSelector": "zone == 'a'", "namespaceSelector": "all()",
             "allowedUses": ["Workload"], "assignmentMode": "Manual"},
}

IPRESERVATION = {
    "apiVersion": CALICO, "kind": "IPReservation",
    "metadata": {"name": "my-ipreservation"},
    "spec": {"reservedCIDRs": ["192.168.2.3", "10.0.2.3/32", "cafe:f00d::/123"]},
}

NODE = {
    "apiVersion": CALICO, "kind": "Node",
    "metadata": {"name": "node1", "labels": {"kubernetes.io/hostname": "node1"}},
    "spec": {
        "bgp": {"asNumber": 64513, "ipv4Address": "10.244.0.1/24",
                "ipv4IPIPTunnelAddr": "192.168.0.1", "routeReflectorClusterID": "224.0.0.1"},
        "ipv4VXLANTunnelAddr": "192.168.0.2", "vxlanTunnelMACAddr": "66:a0:4c:1d:2e:3f",
        "orchRefs": [{"nodeName": "node1", "orchestrator": "k8s"}],
        "addresses": [{"address": "10.244.0.1/24", "type": "CalicoNodeIP"}],
    },
    "status": {"podCIDRs": ["192.168.0.0/24"]},
}

BGP_PEER = {
    "apiVersion": CALICO, "kind": "BGPPeer",
    "metadata": {"name": "rack1-tor"},
    "spec": {"peerIP": "192.20.30.40", "asNumber": 64567, "nodeSelector": "rack == 'rack-1'",
             "keepaliveTime": "30s", "maxRestartTime": "2m", "sourceAddress": "UseNodeIP",
             "password": {"secretKeyRef": {"name": "bgp-secrets", "key": "rr-password"}},
             "filters": ["export-only"]},
}

BGP_PEER_SELECTOR = {
    "apiVersion": CALICO, "kind": "BGPPeer",
    "metadata": {"name": "peer-with-rr"},
    "spec": {"nodeSelector": "!has(route-reflector)", "peerSelector": "has(route-reflector)"},
}

BGP_CONFIGURATION = {
    "apiVersion": CALICO, "kind": "BGPConfiguration",
    "metadata": {"name": "default"},
    "spec": {"logSeverityScreen": "Info", "nodeToNodeMeshEnabled": False, "asNumber": 63400,
             "listenPort": 178, "bindMode": "NodeIP",
             "serviceClusterIPs": [{"cidr": "10.96.0.0/12"}],
             "serviceExternalIPs": [{"cidr": "104.244.42.129/32"}],
             "communities": [{"name": "bgp-large-community", "value": "63400:300:100"}],
             "prefixAdvertisements": [{"cidr": "172.218.4.0/26",
                                       "communities": ["bgp-large-community", "63400:120"]}],
             "ignoredInterfaces": ["iface-1"]},
}

FELIX_CONFIGURATION = {
    "apiVersion": CALICO, "kind": "FelixConfiguration",
    "metadata": {"name": "default"},
    "spec": {"ipv6Support": False, "logSeverityScreen": "Info", "reportingInterval": "0s",
             "iptablesRefreshInterval": "60s", "healthEnabled": True, "healthPort": 9099,
             "prometheusMetricsEnabled": False, "chainInsertMode": "insert",
             "defaultEndpointToHostAction": "Return", "iptablesBackend": "Auto",
             "failsafeInboundHostPorts": [{"protocol": "tcp", "port": 22, "net": ""},
                                          {"protocol": "udp", "port": 68, "net": "10.0.0.0/8"}],
             "kubeNodePortRanges": ["30000:32767"], "bpfLogLevel": "",
             "vxlanVNI": 4096, "iptablesMarkMask": 4294901760},
}

NETWORK_SET = {
    "apiVersion": CALICO, "kind": "NetworkSet",
    "metadata": {"name": "external-database", "namespace": "staging",
                 "labels": {"role": "db"}},
    "spec": {"nets": ["198.51.100.0/28", "203.0.113.0/24"]},
}

GLOBAL_NETWORK_SET = {
    "apiVersion": CALICO, "kind": "GlobalNetworkSet",
    "metadata": {"name": "a-name-for-the-set", "labels": {"role": "external-database"}},
    "spec": {"nets": ["198.51.100.0/28", "2001:db8::/32"]},
}

CLUSTER_INFORMATION = {
    "apiVersion": CALICO, "kind": "ClusterInformation",
    "metadata": {"name": "default", "resourceVersion": "123",
                 "uid": "8cd5f7c6-1d0a-4e3b-9f3c-0d0f6b2b0c11",
                 "creationTimestamp": "2026-11-24T05:00:00Z"},
    "spec": {"clusterGUID": "d0f5b1c0b5a64ac2a7ef3e6b7d0b0b11", "clusterType": "k8s,bgp",
             "calicoVersion": "v3.29.0", "datastoreReady": False},
}

K8S_NETWORK_POLICY = {
    "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
    "metadata": {"name": "test-network-policy", "namespace": "default"},
    "spec": {
        "podSelector": {"matchLabels": {"role": "db"}},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": [{"ipBlock": {"cidr": "172.17.0.0/16", "except": ["172.17.1.0/24"]}},
                              {"namespaceSelector": {"matchLabels": {"project": "myproject"}}},
                              {"podSelector": {"matchLabels": {"role": "frontend"}}}],
                     "ports": [{"protocol": "TCP", "port": 6379}]}],
        "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/24"}}],
                    "ports": [{"protocol": "TCP", "port": 32000, "endPort": 32768}]}],
    },
}

ALL = {
    "NetworkPolicy": NETWORK_POLICY, "GlobalNetworkPolicy": GLOBAL_NETWORK_POLICY,
    "Profile": PROFILE, "WorkloadEndpoint": WORKLOAD_ENDPOINT, "HostEndpoint": HOST_ENDPOINT,
    "IPPool": IPPOOL, "IPPoolV6": IPPOOL_V6, "IPReservation": IPRESERVATION, "Node": NODE,
    "BGPPeer": BGP_PEER, "BGPPeerSelector": BGP_PEER_SELECTOR,
    "BGPConfiguration": BGP_CONFIGURATION, "FelixConfiguration": FELIX_CONFIGURATION,
    "NetworkSet": NETWORK_SET, "GlobalNetworkSet": GLOBAL_NETWORK_SET,
    "ClusterInformation": CLUSTER_INFORMATION, "KubernetesNetworkPolicy": K8S_NETWORK_POLICY,
}
