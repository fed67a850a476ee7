"""Port specs (NAME:PROTO:PORT), pod and namespace names, and the Calico profile a lab
namespace becomes."""
import pytest

from lab_py.pods import LabError, parse_port, profile_doc, validate_namespace_name, validate_pod_name


@pytest.mark.parametrize("spec, want", [
    ("serve-80-tcp:TCP:80", {"name": "serve-80-tcp", "protocol": "TCP", "port": 80}),
    ("dns:udp:53", {"name": "dns", "protocol": "UDP", "port": 53}),
    ("s:SCTP:9", {"name": "s", "protocol": "SCTP", "port": 9}),
    ("h:TCP:65535", {"name": "h", "protocol": "TCP", "port": 65535}),
])
def test_parse_port_ok(spec, want):
    assert parse_port(spec) == want


@pytest.mark.parametrize("spec, why", [
    ("http:TCP", "expected NAME:PROTO:PORT"),
    ("http:TCP:80:1", "expected NAME:PROTO:PORT"),
    ("http:TCP:eighty", "expected NAME:PROTO:PORT"),
    ("http:TCP:-1", "expected NAME:PROTO:PORT"),
    ("http:ICMP:80", "invalid protocol"),
    ("http:TCP:0", "1-65535"),
    ("http:TCP:65536", "1-65535"),
    ("HTTP:TCP:80", "invalid port name"),
    ("a-very-long-port-name:TCP:80", "invalid port name"),
    ("80:TCP:80", "invalid port name"),
    ("a--b:TCP:80", "invalid port name"),
    ("-ab:TCP:80", "invalid port name"),
    (":TCP:80", "invalid port name"),
])
def test_parse_port_bad(spec, why):
    with pytest.raises(LabError, match=why) as e:
        parse_port(spec)
    assert repr(spec) in str(e.value)


@pytest.mark.parametrize("name", ["x", "prod", "a-1", "9"])
def test_namespace_names_ok(name):
    validate_namespace_name(name)


@pytest.mark.parametrize("name", ["", "X", "a.b", "-a", "a-", "a_b", "a" * 64])
def test_namespace_names_bad(name):
    with pytest.raises(LabError, match="invalid namespace name"):
        validate_namespace_name(name)


@pytest.mark.parametrize("name", ["a", "web-1", "web.v2"])
def test_pod_names_ok(name):
    validate_pod_name(name)


@pytest.mark.parametrize("name", ["", "A", "a/b", "a..b", ".a", "a b", "a" * 151])
def test_pod_names_bad(name):
    with pytest.raises(LabError, match="invalid pod name"):
        validate_pod_name(name)


def test_profile_doc_carries_namespace_labels():
    doc = profile_doc("x", {"ns": "x", "kubernetes.io/metadata.name": "x"})
    assert doc["metadata"]["name"] == "kns.x"
    assert doc["spec"]["labelsToApply"] == {"pcns.ns": "x", "pcns.kubernetes.io/metadata.name": "x",
                                            "pcns.projectcalico.org/name": "x"}
    assert doc["spec"]["ingress"] == [{"action": "Allow"}] and doc["spec"]["egress"] == [{"action": "Allow"}]
