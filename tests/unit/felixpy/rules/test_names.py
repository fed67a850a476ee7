"""Chain and IP set names: length limits and Felix's hashing rule (calico.md §5.6, §5.8)."""
from __future__ import annotations

import pytest

from felixpy.calc.messages import PolicyID
from felixpy.rules import defs, names


@pytest.mark.parametrize("prefix,suffix,limit,expected", [
    ("felix", "1234", 10, "felix1234"),          # short enough
    ("felix", "123456", 11, "felix123456"),      # exactly the limit, no "_"
    ("felix", "_2345", 10, "felix_kMQI"),        # exactly the limit but starts with "_": hashed
    ("felix", "12345678910", 13, "felix_Y2QCZIS"),  # too long: hashed
])
def test_length_limited_id_matches_felix(prefix, suffix, limit, expected):
    assert names.length_limited_id(prefix, suffix, limit) == expected


def test_policy_chain_names_use_policy_id_string():
    assert names.policy_chain_name(defs.POLICY_INBOUND_PREFIX, PolicyID("np", "prod", "allow-web")) \
        == "cali-pi-np/prod/allow-web"
    assert names.policy_chain_name(defs.POLICY_OUTBOUND_PREFIX, PolicyID("gnp", "", "deny")) == "cali-po-gnp/deny"
    assert names.policy_chain_name(defs.POLICY_INBOUND_PREFIX, PolicyID("knp", "a", "b")) == "cali-pi-knp/a/b"


@pytest.mark.parametrize("pid", [
    PolicyID("np", "production-namespace", "allow-web-frontend-to-backend"),
    PolicyID("gnp", "", "x" * 253),
    PolicyID("knp", "ns", "knp.default.allow-all-ingress"),
])
def test_long_policy_names_are_hashed_within_28(pid):
    for prefix in (defs.POLICY_INBOUND_PREFIX, defs.POLICY_OUTBOUND_PREFIX):
        name = names.policy_chain_name(prefix, pid)
        assert len(name) == defs.MAX_CHAIN_NAME_LENGTH
        assert name.startswith(prefix + "_")
    # inbound and outbound hash the same id: only the prefix differs
    assert names.policy_chain_name(defs.POLICY_INBOUND_PREFIX, pid)[8:] == \
        names.policy_chain_name(defs.POLICY_OUTBOUND_PREFIX, pid)[8:]


def test_distinct_long_ids_get_distinct_names():
    a = names.policy_chain_name(defs.POLICY_INBOUND_PREFIX, PolicyID("np", "ns", "policy-number-000001"))
    b = names.policy_chain_name(defs.POLICY_INBOUND_PREFIX, PolicyID("np", "ns", "policy-number-000002"))
    assert a != b


def test_exact_fit_is_kept_unless_it_starts_with_underscore():
    fits = "a" * (defs.MAX_CHAIN_NAME_LENGTH - len("cali-pri-"))
    assert names.profile_chain_name(defs.PROFILE_INBOUND_PREFIX, fits) == "cali-pri-" + fits
    tricky = "_" + fits[1:]
    hashed = names.profile_chain_name(defs.PROFILE_INBOUND_PREFIX, tricky)
    assert hashed != "cali-pri-" + tricky and len(hashed) == defs.MAX_CHAIN_NAME_LENGTH
    over = fits + "b"
    assert len(names.profile_chain_name(defs.PROFILE_INBOUND_PREFIX, over)) == defs.MAX_CHAIN_NAME_LENGTH


def test_endpoint_chain_names():
    assert names.endpoint_chain_name(defs.WORKLOAD_TO_ENDPOINT_PREFIX, "cali1a2b3c4d5e6") == "cali-tw-cali1a2b3c4d5e6"
    assert names.endpoint_chain_name(defs.WORKLOAD_FROM_ENDPOINT_PREFIX, "cali1a2b3c4d5e6") == "cali-fw-cali1a2b3c4d5e6"
    long_iface = "cali" + "f" * 30
    assert len(names.endpoint_chain_name(defs.WORKLOAD_TO_ENDPOINT_PREFIX, long_iface)) == 28


def test_ipset_names():
    assert names.ipset_name("s:abc") == "cali40s:abc"
    assert names.ipset_name("s:abc", 6) == "cali60s:abc"
    long_id = "s:qMt7iLlGDhvLnCjM0l9nzxbabcdefghijklmnop"
    assert names.ipset_name(long_id) == "cali40s:qMt7iLlGDhvLnCjM0l9nzxb"
    assert len(names.ipset_name(long_id)) == defs.MAX_IPSET_NAME_LENGTH
    assert names.ipset_name(names.MASQ_IPSET_ID) == "cali40masq-ipam-pools"
    assert names.ipset_name(names.ALL_POOLS_IPSET_ID) == "cali40network-ip-pools"
    with pytest.raises(ValueError):
        names.ipset_name("s:abc", 5)


def test_display_names():
    assert names.policy_display_name(PolicyID("np", "prod", "allow-web")) == "NetworkPolicy prod/allow-web"
    assert names.policy_display_name(PolicyID("gnp", "", "deny")) == "GlobalNetworkPolicy deny"
    assert names.policy_display_name(PolicyID("knp", "a", "knp.default.x")) == "KubernetesNetworkPolicy a/knp.default.x"
