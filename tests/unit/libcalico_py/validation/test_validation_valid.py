"""Edge values Calico accepts must load; pool overlap; malformed input never crashes."""
import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from libcalico_py import model
from libcalico_py.errors import FieldError, ValidationError
from libcalico_py.validation import asnumber, names, ports
from tests.unit.libcalico_py.model import manifests as m


def _np(rule):
    return {"apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy",
            "metadata": {"name": "tier1.p", "namespace": "ns"}, "spec": {"ingress": [rule]}}


@pytest.mark.parametrize("rule", [
    {"action": "Allow", "protocol": "TCP", "destination": {"ports": [1, 65535, "1:65535"]}},
    {"action": "Allow", "destination": {"ports": ["http", "metrics-2"]}},
    {"action": "Log", "protocol": 6, "source": {"ports": [22]}},
    {"action": "Pass", "protocol": "SCTP", "destination": {"notPorts": ["1000:2000"]}},
    {"action": "Deny", "protocol": "ICMP", "icmp": {"type": 0, "code": 0}},
    {"action": "Deny", "protocol": "icmpv6", "ipVersion": 6, "icmp": {"type": 254, "code": 255}},
    {"action": "Allow", "protocol": 255},
    {"action": "Allow", "ipVersion": 6, "source": {"nets": ["fd00::/8", "fd01::1"]}},
    {"action": "Allow", "source": {"nets": ["10.0.0.1/8"], "notNets": ["10.1.0.0/16"]}},
    {"action": "Allow", "source": {"namespaceSelector": "global()"}},
    {"action": "Allow", "source": {"services": {"name": "kube-dns", "namespace": "kube-system"}}},
    {"action": "Allow", "protocol": "TCP", "http": {"methods": ["GET"],
                                                     "paths": [{"prefix": "/api"}]}},
])
def test_valid_rules_load(rule):
    model.load(_np(rule))


@pytest.mark.parametrize("name", ["knp.default.web-allow", "allow-all", "tier1.allow"])
def test_valid_policy_names(name):
    assert names.network_policy_name(name) is None


@pytest.mark.parametrize("value,expected", [
    (64512, 64512), ("64512", 64512), ("1.0", 65536), ("65535.65535", 4294967295),
    (4294967295, 4294967295),
])
def test_as_numbers(value, expected):
    assert asnumber.parse_as_number(value) == expected


@pytest.mark.parametrize("value,expected", [
    ("80", 80), (80, 80), ("80:80", 80), ("1000:2000", "1000:2000"), ("http", "http"),
])
def test_port_canonical_forms(value, expected):
    assert ports.parse_port(value) == expected


@pytest.mark.parametrize("peer_ip", ["10.0.0.1", "10.0.0.1:1179", "[fd00::1]:179", "fd00::1"])
def test_peer_ip_forms(peer_ip):
    model.load({**copy.deepcopy(m.BGP_PEER), "spec": {"peerIP": peer_ip, "asNumber": "1.1"}})


def test_block_size_edges():
    for size in (20, 32):
        model.make("IPPool", "p", spec={"cidr": "10.0.0.0/20", "blockSize": size})
    for size in (116, 128):
        model.make("IPPool", "p", spec={"cidr": "fd00::/112", "blockSize": size})


def _pool(name, cidr):
    return model.make("IPPool", name, spec={"cidr": cidr})


def test_pool_overlap():
    new = _pool("new", "10.1.0.0/16")
    others = [_pool("a", "10.0.0.0/8"), _pool("b", "192.168.0.0/16"), _pool("c", "fd00::/48"),
              _pool("new", "10.1.0.0/16")]
    errs = model.validate_pool_overlap(new, others)
    assert len(errs) == 1 and isinstance(errs[0], FieldError)
    assert errs[0].path == "spec.cidr" and "overlaps" in errs[0].reason and "a" in errs[0].reason
    assert model.validate_pool_overlap(_pool("d", "172.16.0.0/12"), others) == []
    assert model.validate_pool_overlap(_pool("e", "fd00:0:0:1::/64"), others)[0].path == "spec.cidr"


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 70000) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=3),
    max_leaves=6)


def _paths(doc, prefix=()):
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield prefix + (k,)
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield prefix + (i,)
            yield from _paths(v, prefix + (i,))


@settings(max_examples=120, deadline=None)
@given(st.sampled_from(sorted(m.ALL)), st.integers(0, 10_000), JSONISH)
def test_malformed_values_raise_validation_error_only(kind, pick, value):
    doc = copy.deepcopy(m.ALL[kind])
    paths = [p for p in _paths(doc) if p[0] in ("spec", "metadata")]
    target = paths[pick % len(paths)]
    node = doc
    for key in target[:-1]:
        node = node[key]
    node[target[-1]] = value
    try:
        res = model.load(doc)
    except ValidationError as exc:
        assert exc.errors and all(isinstance(e, FieldError) for e in exc.errors)
        return
    assert model.load(res.to_dict()).to_dict() == res.to_dict()
