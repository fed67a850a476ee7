"""RulesConfig: Felix defaults, parsing of FelixConfiguration values, precise errors."""
from __future__ import annotations

import pytest

from felixpy.rules.defs import ProtoPort, RulesConfig, RulesConfigError


def test_defaults_match_felix():
    cfg = RulesConfig()
    assert (cfg.mark_accept, cfg.mark_pass, cfg.mark_drop, cfg.mark_scratch0, cfg.mark_scratch1) == \
        (0x10000, 0x20000, 0x40000, 0x80000, 0x100000)
    assert cfg.all_marks == 0x1F0000
    assert cfg.interface_prefixes == ("cali",)
    assert cfg.filter_deny_action == "DROP" and cfg.default_endpoint_to_host_action == "DROP"
    assert ProtoPort("tcp", 22) in cfg.failsafe_inbound and ProtoPort("udp", 53) in cfg.failsafe_outbound
    assert cfg.ip_version == 4 and cfg.for_ip_version(6).ip_version == 6
    assert RulesConfig.from_felix_config(None) == cfg
    assert RulesConfig.from_felix_config({"SomethingElse": "x"}) == cfg


def test_from_felix_config_env_and_camel_case():
    cfg = RulesConfig.from_felix_config({
        "defaultEndpointToHostAction": "Return",
        "IPTABLES_FILTER_DENY_ACTION": "reject",
        "InterfacePrefix": "cali, tap",
        "FailsafeInboundHostPorts": "tcp:22, udp:10.0.0.0/8:68, 179",
        "failsafeOutboundHostPorts": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 443,
                                                                       "net": "192.0.2.0/24"}],
        "IptablesMarkMask": "0xff000000",
        "LogPrefix": "calico-drop",
        "DisableConntrackInvalidCheck": "true",
        "NATOutgoingAddress": "192.0.2.1",
        "NATPortRange": "32768:65535",
    })
    assert cfg.default_endpoint_to_host_action == "RETURN"
    assert cfg.filter_deny_action == "REJECT"
    assert cfg.interface_prefixes == ("cali", "tap")
    assert cfg.failsafe_inbound == (ProtoPort("tcp", 22), ProtoPort("udp", 68, "10.0.0.0/8"), ProtoPort("tcp", 179))
    assert cfg.failsafe_outbound == (ProtoPort("udp", 53), ProtoPort("tcp", 443, "192.0.2.0/24"))
    assert (cfg.mark_accept, cfg.mark_pass, cfg.mark_drop, cfg.mark_scratch0, cfg.mark_scratch1) == \
        (0x1000000, 0x2000000, 0x4000000, 0x8000000, 0x10000000)
    assert cfg.log_prefix == "calico-drop"
    assert cfg.disable_conntrack_invalid_check is True
    assert cfg.nat_outgoing_address == "192.0.2.1" and cfg.nat_port_range == "32768-65535"


def test_failsafe_none():
    assert RulesConfig.from_felix_config({"FailsafeInboundHostPorts": "none"}).failsafe_inbound == ()


@pytest.mark.parametrize("key,value,fragment", [
    ("DefaultEndpointToHostAction", "Allow", "DefaultEndpointToHostAction: must be one of"),
    ("IptablesFilterDenyAction", "Log", "IptablesFilterDenyAction"),
    ("IptablesMarkMask", "0xf", "needs at least 5 bits"),
    ("IptablesMarkMask", "lots", "must be an integer"),
    ("FailsafeInboundHostPorts", "icmp:8", "protocol must be tcp, udp or sctp"),
    ("FailsafeInboundHostPorts", "tcp:99999", "port must be between"),
    ("FailsafeOutboundHostPorts", "tcp:10.0.0.300/8:22", "net must be a CIDR"),
    ("DisableConntrackInvalidCheck", "maybe", "must be true or false"),
    ("NATOutgoingAddress", "not-an-ip", "must be an IP address"),
    ("NATPortRange", "9:1", "port range"),
    ("InterfacePrefix", " , ", "at least one prefix"),
])
def test_bad_values_name_the_parameter(key, value, fragment):
    with pytest.raises(RulesConfigError) as err:
        RulesConfig.from_felix_config({key: value})
    assert fragment in str(err.value)
    assert err.value.param.startswith(key)


def test_overlapping_marks_are_rejected():
    with pytest.raises(RulesConfigError, match="overlaps"):
        RulesConfig(mark_pass=0x10000)
    with pytest.raises(RulesConfigError, match="single bit"):
        RulesConfig(mark_drop=0x30000)
