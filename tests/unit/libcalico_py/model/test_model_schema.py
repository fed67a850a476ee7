"""Parsing errors: unknown fields, wrong types, unsupported kinds, all errors together;
and Calico's workload endpoint naming."""
import pytest

from libcalico_py import model
from libcalico_py.errors import ValidationError
from libcalico_py.model.endpoint import parse_workload_endpoint_name, workload_endpoint_name
from libcalico_py.model.schema import UNKNOWN_FIELD, snake


def _errors(doc):
    with pytest.raises(ValidationError) as info:
        model.load(doc)
    return info.value


def test_unknown_fields_named_with_full_path():
    err = _errors({"apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy",
                   "metadata": {"name": "p", "namespace": "n", "lables": {}},
                   "spec": {"ingress": [{"action": "Allow", "destination": {"port": [80]}}],
                            "selectr": "all()"},
                   "extra": 1})
    paths = {e.path for e in err.errors if e.reason == UNKNOWN_FIELD}
    assert paths == {"metadata.lables", "spec.ingress[0].destination.port", "spec.selectr",
                     "extra"}
    assert "field in document is not recognized or is in the wrong location" in str(err)


def test_all_errors_reported_together():
    err = _errors({"apiVersion": "projectcalico.org/v3", "kind": "IPPool",
                   "metadata": {"name": "Bad_Name"},
                   "spec": {"cidr": "10.0.0.1/16", "blockSize": 40, "ipipMode": "Sometimes"}})
    assert {e.path for e in err.errors} >= {"metadata.name", "spec.cidr", "spec.blockSize",
                                            "spec.ipipMode"}
    assert err.kind == "IPPool" and err.name == "Bad_Name"


@pytest.mark.parametrize("spec,path,reason", [
    ({"order": "high"}, "spec.order", "expected a number"),
    ({"types": "Ingress"}, "spec.types", "expected a list"),
    ({"ingress": [{"action": "Allow", "ipVersion": "4"}]}, "spec.ingress[0].ipVersion",
     "expected an integer"),
    ({"ingress": [{"action": "Allow", "source": "x"}]}, "spec.ingress[0].source",
     "expected an object"),
    ({"ingress": [{"action": 1}]}, "spec.ingress[0].action", "expected a string"),
])
def test_type_errors(spec, path, reason):
    err = _errors({"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy",
                   "metadata": {"name": "p"}, "spec": spec})
    assert any(e.path == path and reason in e.reason for e in err.errors), err.errors


def test_missing_kind_and_unknown_kind():
    assert _errors({"metadata": {"name": "x"}}).errors[0].path == "kind"
    err = _errors({"apiVersion": "projectcalico.org/v3", "kind": "Gadget"})
    assert err.errors[0].path == "kind" and "not supported" in err.errors[0].reason
    err = _errors({"apiVersion": "example.com/v9", "kind": "IPPool"})
    assert err.errors[0].path == "apiVersion"


def test_document_must_be_a_mapping():
    assert _errors(["not", "a", "dict"]).errors[0].path == "(document)"


def test_status_only_where_calico_has_one():
    err = _errors({"apiVersion": "projectcalico.org/v3", "kind": "BGPPeer",
                   "metadata": {"name": "p"}, "spec": {"peerIP": "10.0.0.1"}, "status": {}})
    assert err.errors[0].path == "status"


@pytest.mark.parametrize("camel,snake_name", [
    ("ipv4IPIPTunnelAddr", "ipv4_ipip_tunnel_addr"), ("containerID", "container_id"),
    ("natOutgoing", "nat_outgoing"), ("ipNetworks", "ip_networks"),
    ("iptablesMarkMask", "iptables_mark_mask"), ("vxlanVNI", "vxlan_vni"),
])
def test_snake_case_attribute_names(camel, snake_name):
    assert snake(camel) == snake_name


@pytest.mark.parametrize("args,name", [
    (("node1", "k8s", "frontend-5gs43", "eth0"), "node1-k8s-frontend--5gs43-eth0"),
    (("my-node", "k8s", "my-pod", "eth0"), "my--node-k8s-my--pod-eth0"),
    (("n", "cni", "abc123", "eth0"), "n-cni-abc123-eth0"),
    (("n.example.com", "openstack", "vm-1", "tap-0"), "n.example.com-openstack-vm--1-tap--0"),
])
def test_workload_endpoint_name(args, name):
    assert workload_endpoint_name(*args) == name
    assert parse_workload_endpoint_name(name) == args


def test_parse_workload_endpoint_name_rejects_other_shapes():
    assert parse_workload_endpoint_name("a-b-c") is None
    assert parse_workload_endpoint_name("a-b-c-d-e") is None
