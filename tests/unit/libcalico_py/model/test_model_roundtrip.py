"""load -> to_dict round-trips for every kind, typed attribute access, copy()."""
import copy
import json

import pytest

from libcalico_py import model
from libcalico_py.model import kinds
from libcalico_py.model.policy import Rule
from tests.unit.libcalico_py.model import manifests


@pytest.mark.parametrize("name", sorted(manifests.ALL))
def test_complete_manifest_dumps_unchanged(name):
    doc = manifests.ALL[name]
    res = model.load(copy.deepcopy(doc))
    assert res.to_dict() == doc


@pytest.mark.parametrize("name", sorted(manifests.ALL))
def test_round_trip_is_stable_and_json_serialisable(name):
    res = model.load(copy.deepcopy(manifests.ALL[name]))
    once = res.to_dict()
    assert model.load(json.loads(json.dumps(once))).to_dict() == once


def test_every_registered_kind_has_a_manifest():
    covered = {model.load(copy.deepcopy(d)).kind for d in manifests.ALL.values()}
    assert covered == set(kinds.all_kind_names())


def test_load_does_not_mutate_input():
    doc = {"apiVersion": "projectcalico.org/v3", "kind": "IPPool",
           "metadata": {"name": "p"}, "spec": {"cidr": "10.0.0.0/16"}}
    before = copy.deepcopy(doc)
    model.load(doc)
    assert doc == before


def test_typed_policy_attributes():
    res = model.load(copy.deepcopy(manifests.NETWORK_POLICY))
    assert res.kind == "NetworkPolicy" and res.api_version == "projectcalico.org/v3"
    assert res.metadata.name == "allow-tcp-6379" and res.metadata.namespace == "production"
    rule = res.spec.ingress[0]
    assert isinstance(rule, Rule)
    assert rule.action == "Allow" and rule.protocol == "TCP"
    assert rule.destination.ports == [6379, "7000:7010", "redis"]
    assert rule.source.selector == "role == 'frontend'"
    assert res.spec.order == 100.0 and res.spec.tier == "default"
    assert res.spec.ingress[1].icmp.type == 8 and res.spec.ingress[1].icmp.code == 0
    assert res.spec.ingress[1].source.not_nets == ["10.1.0.0/16"]


def test_typed_other_attributes():
    wep = model.load(copy.deepcopy(manifests.WORKLOAD_ENDPOINT))
    assert wep.spec.ip_networks == ["192.168.0.0/32"]
    assert wep.spec.container_id == "1337495556942031415"
    assert wep.spec.ports[1].host_port == 5353 and wep.spec.ports[1].host_ip == "10.0.0.1"
    assert wep.spec.ip_nats[0].external_ip == "172.16.0.5"
    node = model.load(copy.deepcopy(manifests.NODE))
    assert node.spec.bgp.ipv4_address == "10.244.0.1/24"
    assert node.spec.bgp.ipv4_ipip_tunnel_addr == "192.168.0.1"
    assert node.status == {"podCIDRs": ["192.168.0.0/24"]}
    pool = model.load(copy.deepcopy(manifests.IPPOOL))
    assert (pool.spec.cidr, pool.spec.block_size, pool.spec.ipip_mode) == (
        "192.168.0.0/16", 26, "CrossSubnet")
    assert pool.spec.nat_outgoing is True
    fc = model.load(copy.deepcopy(manifests.FELIX_CONFIGURATION))
    assert fc.spec.ipv6_support is False and fc.spec.health_port == 9099
    assert fc.spec.failsafe_inbound_host_ports[1].net == "10.0.0.0/8"
    knp = model.load(copy.deepcopy(manifests.K8S_NETWORK_POLICY))
    assert knp.kind == "KubernetesNetworkPolicy"
    assert knp.to_dict()["kind"] == "NetworkPolicy"
    assert knp.spec.ingress[0].from_[0].ip_block.except_ == ["172.17.1.0/24"]


def test_metadata_fields():
    res = model.load(copy.deepcopy(manifests.CLUSTER_INFORMATION))
    meta = res.metadata
    assert meta.resource_version == "123"
    assert meta.uid == "8cd5f7c6-1d0a-4e3b-9f3c-0d0f6b2b0c11"
    assert meta.creation_timestamp == "2026-11-24T05:00:00Z"
    assert meta.labels == {} and meta.annotations == {}
    assert res.spec.datastore_ready is False


def test_copy_is_deep():
    res = model.load(copy.deepcopy(manifests.NETWORK_POLICY))
    dup = res.copy()
    assert dup == res and dup is not res
    dup.spec.ingress[0].action = "Deny"
    dup.metadata.labels["x"] = "y"
    assert res.spec.ingress[0].action == "Allow"
    assert "x" not in res.metadata.labels


def test_explicit_false_kept_for_pointer_fields_and_dropped_for_plain_bools():
    fc = model.make("FelixConfiguration", "default", spec={"bpfEnabled": False})
    assert fc.to_dict()["spec"]["bpfEnabled"] is False
    pool = model.make("IPPool", "p", spec={"cidr": "10.0.0.0/16", "natOutgoing": False})
    assert "natOutgoing" not in pool.to_dict()["spec"]


def test_empty_k8s_selectors_survive_round_trip():
    doc = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
           "metadata": {"name": "x", "namespace": "ns"},
           "spec": {"podSelector": {}, "ingress": [{"from": [{"namespaceSelector": {}}]}, {}]}}
    out = model.load(copy.deepcopy(doc)).to_dict()
    assert out == doc


def test_make_builds_a_loaded_resource():
    res = model.make("NetworkSet", "ns1", namespace="dev", spec={"nets": ["10.0.0.0/8"]},
                     labels={"a": "b"})
    assert res.to_dict() == {"apiVersion": "projectcalico.org/v3", "kind": "NetworkSet",
                             "metadata": {"name": "ns1", "namespace": "dev", "labels": {"a": "b"}},
                             "spec": {"nets": ["10.0.0.0/8"]}}
