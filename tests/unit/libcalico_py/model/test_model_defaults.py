"""Defaults filled as Calico fills them, and nothing more."""
import pytest

from libcalico_py import model


def _policy(kind="NetworkPolicy", **spec):
    return model.make(kind, "p", namespace="ns" if kind == "NetworkPolicy" else None, spec=spec)


ALLOW = {"action": "Allow"}


@pytest.mark.parametrize("ingress,egress,expected", [
    (None, None, ["Ingress"]),
    ([ALLOW], None, ["Ingress"]),
    (None, [ALLOW], ["Egress"]),
    ([ALLOW], [ALLOW], ["Ingress", "Egress"]),
])
@pytest.mark.parametrize("kind", ["NetworkPolicy", "GlobalNetworkPolicy"])
def test_policy_types_defaulting(kind, ingress, egress, expected):
    spec = {}
    if ingress:
        spec["ingress"] = ingress
    if egress:
        spec["egress"] = egress
    assert _policy(kind, **spec).spec.types == expected


def test_explicit_types_kept():
    assert _policy(types=["Egress"], ingress=[ALLOW]).spec.types == ["Egress"]


def test_policy_tier_and_tier_label():
    res = _policy()
    assert res.spec.tier == "default"
    assert res.metadata.labels["projectcalico.org/tier"] == "default"
    out = res.to_dict()
    assert out["spec"] == {"tier": "default", "types": ["Ingress"]}


def test_order_absent_stays_absent_and_zero_kept():
    assert "order" not in _policy().to_dict()["spec"]
    assert _policy(order=0).to_dict()["spec"]["order"] == 0


def test_rule_source_destination_always_written_and_protocol_canonical():
    res = _policy(ingress=[{"action": "Allow", "protocol": "udplite"},
                           {"action": "Allow", "protocol": "icmpv6"},
                           {"action": "Allow", "protocol": "tcp",
                            "destination": {"ports": ["80", "443:443", "8000:8080"]}}])
    rules = res.to_dict()["spec"]["ingress"]
    assert rules[0] == {"action": "Allow", "protocol": "UDPLite", "source": {}, "destination": {}}
    assert rules[1]["protocol"] == "ICMPv6"
    assert rules[2]["destination"]["ports"] == [80, 443, "8000:8080"]


def test_ippool_defaults_v4():
    res = model.make("IPPool", "p", spec={"cidr": "10.10.0.0/16"})
    assert res.to_dict()["spec"] == {
        "cidr": "10.10.0.0/16", "blockSize": 26, "ipipMode": "Never", "vxlanMode": "Never",
        "nodeSelector": "all()", "allowedUses": ["Workload", "Tunnel"],
        "assignmentMode": "Automatic"}


def test_ippool_defaults_v6_and_canonical_cidr():
    res = model.make("IPPool", "p", spec={"cidr": "FD00:0:0:1::/64"})
    assert res.spec.cidr == "fd00:0:0:1::/64"
    assert res.spec.block_size == 122


def test_ippool_explicit_values_kept():
    res = model.make("IPPool", "p", spec={"cidr": "10.0.0.0/16", "blockSize": 24,
                                          "vxlanMode": "Always", "nodeSelector": "a == 'b'"})
    assert (res.spec.block_size, res.spec.vxlan_mode, res.spec.node_selector) == (
        24, "Always", "a == 'b'")


def test_no_defaults_for_bgp_configuration_or_felix():
    assert model.make("BGPConfiguration", "default").to_dict()["spec"] == {}
    assert model.make("FelixConfiguration", "default").to_dict()["spec"] == {"bpfLogLevel": ""}


def test_as_number_dotted_form_stored_as_number():
    res = model.make("BGPConfiguration", "default", spec={"asNumber": "1.10"})
    assert res.spec.as_number == 65546
    assert res.to_dict()["spec"]["asNumber"] == 65546


def test_k8s_policy_kept_in_kubernetes_form():
    doc = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
           "metadata": {"name": "x", "namespace": "ns"},
           "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": 80}]}]}}
    assert model.load(doc).to_dict()["spec"] == doc["spec"]


def test_defaulting_is_idempotent():
    res = model.make("IPPool", "p", spec={"cidr": "10.0.0.0/16"})
    assert model.load(res.to_dict()).to_dict() == res.to_dict()


def test_tier_label_follows_tier():
    res = model.load({"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy",
                      "metadata": {"name": "security.p",
                                   "labels": {"projectcalico.org/tier": "stale"}},
                      "spec": {"tier": "security"}})
    assert res.metadata.labels["projectcalico.org/tier"] == "security"


def test_parse_fills_no_defaults_and_validate_reports_later_changes():
    doc = {"apiVersion": "projectcalico.org/v3", "kind": "IPPool", "metadata": {"name": "p"},
           "spec": {"cidr": "10.0.0.0/16"}}
    raw = model.parse(doc)
    assert raw.spec.block_size is None and raw.to_dict()["spec"] == {"cidr": "10.0.0.0/16"}
    loaded = model.load(doc)
    assert model.validate(loaded) == []
    loaded.spec.block_size = 40
    assert [e.path for e in model.validate(loaded)] == ["spec.blockSize"]
