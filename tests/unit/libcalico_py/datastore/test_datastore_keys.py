"""Calico's etcd key layout: builders produce the exact strings Calico uses, parsers invert
them and reject look-alikes."""
import pytest

from libcalico_py.datastore import keys

R = "/calico/resources/v3/projectcalico.org/"


@pytest.mark.parametrize("kind,name,ns,expected", [
    ("NetworkPolicy", "allow-web", "prod", R + "networkpolicies/prod/allow-web"),
    ("GlobalNetworkPolicy", "default-deny", None, R + "globalnetworkpolicies/default-deny"),
    ("Profile", "kns.prod", None, R + "profiles/kns.prod"),
    ("WorkloadEndpoint", "node1-k8s-web--0-eth0", "prod",
     R + "workloadendpoints/prod/node1-k8s-web--0-eth0"),
    ("IPPool", "default-ipv4-ippool", None, R + "ippools/default-ipv4-ippool"),
    ("Node", "node1", None, R + "nodes/node1"),
    ("BGPConfiguration", "node.node1", None, R + "bgpconfigurations/node.node1"),
    ("FelixConfiguration", "default", None, R + "felixconfigurations/default"),
    ("ClusterInformation", "default", None, R + "clusterinformations/default"),
    ("NetworkSet", "ns1", "prod", R + "networksets/prod/ns1"),
    ("GlobalNetworkSet", "gns", None, R + "globalnetworksets/gns"),
    ("HostEndpoint", "h1", None, R + "hostendpoints/h1"),
    ("BGPPeer", "p1", None, R + "bgppeers/p1"),
    ("IPReservation", "r1", None, R + "ipreservations/r1"),
    ("KubernetesNetworkPolicy", "np", "prod", R + "kubernetesnetworkpolicies/prod/np"),
])
def test_resource_key_round_trip(kind, name, ns, expected):
    assert keys.resource_key(kind, name, ns) == expected
    assert keys.parse_resource_key(expected) == (kind, ns, name)
    assert keys.parse_resource_key(expected.encode()) == (kind, ns, name)
    assert expected.startswith(keys.resource_prefix(kind, ns))


def test_cluster_scoped_kind_ignores_namespace():
    assert keys.resource_key("IPPool", "p", "prod") == R + "ippools/p"


def test_namespaced_kind_requires_namespace():
    with pytest.raises(ValueError, match="namespace"):
        keys.resource_key("NetworkPolicy", "p")


def test_resource_prefixes():
    assert keys.resource_prefix("WorkloadEndpoint") == R + "workloadendpoints/"
    assert keys.resource_prefix("WorkloadEndpoint", "prod") == R + "workloadendpoints/prod/"
    assert keys.resource_prefix("IPPool", "prod") == R + "ippools/"


@pytest.mark.parametrize("bad", ["", "a/b"])
def test_resource_key_rejects_bad_names(bad):
    with pytest.raises(ValueError, match="name"):
        keys.resource_key("IPPool", bad)


def test_unknown_kind():
    with pytest.raises(ValueError, match="unknown resource kind 'Bogus'"):
        keys.resource_key("Bogus", "x")


@pytest.mark.parametrize("key", [
    "/calico/resources/v3/projectcalico.org/unknownplural/x",
    R + "networkpolicies/onlyname",          # namespaced kind without namespace
    R + "ippools/ns/name",                    # cluster-scoped kind with two segments
    R + "ippools/",
    R + "networkpolicies/prod/",
    "/calico/ipam/v2/handle/x",
    "/other/resources/v3/projectcalico.org/ippools/x",
])
def test_parse_resource_key_rejects(key):
    assert keys.parse_resource_key(key) is None


def test_block_keys():
    assert keys.block_key("10.65.0.0/26") == "/calico/ipam/v2/assignment/ipv4/block/10.65.0.0-26"
    assert keys.block_key("fd00:10::/122") == "/calico/ipam/v2/assignment/ipv6/block/fd00:10::-122"
    assert keys.parse_block_key("/calico/ipam/v2/assignment/ipv4/block/10.65.0.0-26") == "10.65.0.0/26"
    assert keys.parse_block_key(keys.block_key("fd00:10::/122")) == "fd00:10::/122"
    assert keys.block_key("10.65.0.0/26").startswith(keys.BLOCK_PREFIX)


@pytest.mark.parametrize("key", [
    "/calico/ipam/v2/assignment/ipv6/block/10.65.0.0-26",   # family mismatch
    "/calico/ipam/v2/assignment/ipv4/block/10.65.0.1-26",   # host bits set
    "/calico/ipam/v2/assignment/ipv4/block/garbage",
    "/calico/ipam/v2/assignment/ipv4/blocks/10.65.0.0-26",
    "/calico/ipam/v2/assignment/ipv4/block/10.65.0.0-26/x",
])
def test_parse_block_key_rejects(key):
    assert keys.parse_block_key(key) is None


def test_block_key_rejects_misaligned_cidr():
    with pytest.raises(ValueError, match="10.65.0.1/26"):
        keys.block_key("10.65.0.1/26")


def test_affinity_keys():
    k = keys.affinity_key("node1", "10.65.0.64/26")
    assert k == "/calico/ipam/v2/host/node1/ipv4/block/10.65.0.64-26"
    assert keys.parse_affinity_key(k) == ("node1", "10.65.0.64/26")
    assert k.startswith(keys.affinity_prefix("node1"))
    assert not k.startswith(keys.affinity_prefix("node"))  # prefix ends with '/'
    assert k.startswith(keys.AFFINITY_PREFIX)
    v6 = keys.affinity_key("node1", "fd00::/122")
    assert keys.parse_affinity_key(v6) == ("node1", "fd00::/122")


def test_ipam_host_key_is_not_an_affinity():
    assert keys.ipam_host_key("node1") == "/calico/ipam/v2/host/node1"
    assert keys.parse_affinity_key("/calico/ipam/v2/host/node1") is None


def test_handle_and_config_keys():
    k = keys.handle_key("k8s-pod-network.abc123")
    assert k == "/calico/ipam/v2/handle/k8s-pod-network.abc123"
    assert keys.parse_handle_key(k) == "k8s-pod-network.abc123"
    assert keys.parse_handle_key("/calico/ipam/v2/handle/") is None
    assert keys.parse_handle_key("/calico/ipam/v2/config") is None
    assert keys.IPAM_CONFIG_KEY == "/calico/ipam/v2/config"
    assert keys.HANDLE_PREFIX == "/calico/ipam/v2/handle/"


def test_felix_status_keys():
    assert keys.felix_status_key("node1") == "/calico/felix/v2/no-region/host/node1/status"
    assert keys.felix_last_reported_key("node1", region="region-east") == \
        "/calico/felix/v2/region-east/host/node1/last_reported_status"
    assert keys.parse_felix_status_key("/calico/felix/v2/no-region/host/node1/status") == \
        ("no-region", "node1", "status")
    assert keys.parse_felix_status_key("/calico/felix/v2/no-region/host/node1/other") is None


def test_workload_endpoint_status_key_escapes_k8s_workload_id():
    k = keys.workload_endpoint_status_key("node1", "k8s", "prod/web-0", "eth0")
    assert k == "/calico/felix/v2/no-region/host/node1/workload/k8s/prod%2fweb-0/endpoint/eth0"
    assert keys.parse_workload_endpoint_status_key(k) == \
        ("no-region", "node1", "k8s", "prod/web-0", "eth0")
    assert k.startswith(keys.workload_endpoint_status_prefix("node1"))
    assert keys.parse_workload_endpoint_status_key(keys.felix_status_key("node1")) is None


def test_escape_round_trip():
    for name in ("a%b/c", "%2f", "plain"):
        assert keys.unescape_name(keys.escape_name(name)) == name
    assert "/" not in keys.escape_name("a/b/c")


def test_host_endpoint_status_key():
    k = keys.host_endpoint_status_key("node1", "eth0")
    assert k == "/calico/felix/v1/host/node1/endpoint/eth0"
    assert keys.parse_host_endpoint_status_key(k) == ("node1", "eth0")


def test_prefix_range_end():
    assert keys.prefix_range_end("/calico/") == b"/calico0"
    assert keys.prefix_range_end(b"a\xff") == b"b"
    assert keys.prefix_range_end(b"\xff") == b"\0"
