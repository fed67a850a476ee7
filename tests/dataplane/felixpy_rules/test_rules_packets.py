"""Rendered chains, programmed by hand, police real packets between two pod namespaces.

A node namespace routes for two "pods" on veth pairs named like Calico's (`cali...`
on the node side, /32 routes, proxy ARP). The tables are exactly what RuleRenderer
produces for: pod A with profile kns.prod (allow all); pod B selected by
np/prod/allow-web (ingress: allow TCP 80 from the frontend selector set and the named
port "http" = 8080) plus the same profile. This checks the chain layout end to end,
for both iptables backends: policy order, selectors, named ports, the end-of-tier drop,
profiles, conntrack for replies, the raw-table RPF check, and fail-closed dispatch for
an unknown `cali*` interface.
"""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

from felixpy.calc.messages import ParsedRule, PolicyID, PolicyRules, TierInfo, WorkloadEndpoint
from felixpy.rules import names
from felixpy.rules.renderer import RuleRenderer
from tests.unit.felixpy.rules.save_format import restore_payload

FRONTEND = "s:frontend"
HTTP = "n:http"
WEB = PolicyID("np", "prod", "allow-web")
HOST_IP = "192.0.2.100"
PODS = {"a": ("caliaaaa", "10.65.0.1"), "b": ("calibbbb", "10.65.0.2"), "x": ("calixxxx", "10.65.0.9")}

SERVER = """
import selectors, socket, sys
sel = selectors.DefaultSelector()
for port in map(int, sys.argv[1:]):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(16); sel.register(s, selectors.EVENT_READ)
print("ready", flush=True)
while True:
    for key, _ in sel.select():
        conn, _ = key.fileobj.accept(); conn.sendall(b"ok"); conn.close()
"""
CLIENT = """
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3]))
    sys.exit(0 if c.recv(2) == b"ok" else 3)
except OSError:
    sys.exit(1)
"""


def _node_tables(renderer: RuleRenderer) -> dict[str, tuple]:
    policy = PolicyRules(inbound_rules=(
        ParsedRule(action="allow", protocol="tcp", src_ipset_ids=(FRONTEND,), dst_ports=("80",),
                   dst_named_port_ipset_ids=(HTTP,)),
    ))
    profile = PolicyRules(inbound_rules=(ParsedRule(action="allow"),), outbound_rules=(ParsedRule(action="allow"),))
    ep_a = WorkloadEndpoint(name=PODS["a"][0], ipv4_nets=(PODS["a"][1] + "/32",), profile_ids=("kns.prod",))
    ep_b = WorkloadEndpoint(name=PODS["b"][0], ipv4_nets=(PODS["b"][1] + "/32",), profile_ids=("kns.prod",),
                            tiers=(TierInfo("default", ingress_policies=(WEB,)),))
    filter_chains = (renderer.static_chains("filter") + renderer.policy_chains(WEB, policy)
                     + renderer.profile_chains("kns.prod", profile)
                     + renderer.endpoint_chains(ep_a) + renderer.endpoint_chains(ep_b)
                     + renderer.dispatch_chains([ep_a.name, ep_b.name]))
    out = {}
    for table in ("raw", "mangle", "filter", "nat"):
        chains = filter_chains if table == "filter" else renderer.static_chains(table)
        if table == "nat":
            chains = chains + renderer.nat_outgoing_chains()
        out[table] = (chains, renderer.kernel_hooks(table), renderer.kernel_hooks_append(table))
    return out


@pytest.fixture
def node(netns):
    node = netns("node")
    pods = {}
    netns.run(node, "sysctl", "-qw", "net.ipv4.ip_forward=1")
    netns.run(node, "ip", "addr", "add", f"{HOST_IP}/32", "dev", "lo")
    for key, (iface, ip) in PODS.items():
        pod = pods[key] = netns(f"pod{key}")
        netns.veth(node, iface, pod, "eth0")
        netns.run(pod, "ip", "addr", "add", f"{ip}/32", "dev", "eth0")
        # The node has no default route, so proxy ARP would not answer for the
        # gateway; a permanent neighbour entry stands in for it.
        mac = netns.run(node, "cat", f"/sys/class/net/{iface}/address").stdout.strip()
        netns.run(pod, "ip", "neigh", "add", "169.254.1.1", "lladdr", mac, "dev", "eth0", "nud", "permanent")
        netns.run(pod, "ip", "route", "add", "169.254.1.1", "dev", "eth0", "scope", "link")
        netns.run(pod, "ip", "route", "add", "default", "via", "169.254.1.1", "dev", "eth0")
        netns.run(node, "sysctl", "-qw", f"net.ipv4.conf.{iface}.proxy_arp=1")
        netns.run(node, "ip", "route", "add", f"{ip}/32", "dev", iface, "scope", "link")
    for set_id, set_type, members in ((FRONTEND, "hash:net", [PODS["a"][1] + "/32"]),
                                      (HTTP, "hash:ip,port", [PODS["b"][1] + ",tcp:8080"]),
                                      (names.MASQ_IPSET_ID, "hash:net", []),
                                      (names.ALL_POOLS_IPSET_ID, "hash:net", ["10.65.0.0/16"])):
        name = names.ipset_name(set_id)
        netns.run(node, "ipset", "create", name, set_type, "family", "inet")
        for member in members:
            netns.run(node, "ipset", "add", name, member)
    for ns, ports in ((pods["b"], ["80", "81", "8080"]), (node, ["9000"])):
        server = netns.spawn(ns, [sys.executable, "-c", SERVER, *ports], stdout=subprocess.PIPE, text=True)
        assert server.stdout.readline().strip() == "ready"
    return netns, node, pods


def _tcp(netns, pod: str, ip: str, port: int, timeout: float = 1.0) -> bool:
    return netns.run(pod, sys.executable, "-c", CLIENT, ip, str(port), str(timeout), check=False).returncode == 0


def _ping(netns, pod: str, ip: str) -> bool:
    return netns.run(pod, "ping", "-c1", "-W1", ip, check=False).returncode == 0


@pytest.mark.parametrize("backend", ["nft", "legacy"])
def test_rendered_policy_polices_packets(node, backend):
    netns, node_ns, pods = node
    b_ip, a_ip = PODS["b"][1], PODS["a"][1]
    # Before programming, everything flows (no policy at all).
    assert _tcp(netns, pods["a"], b_ip, 81)
    assert _tcp(netns, pods["a"], HOST_IP, 9000)

    for table, (chains, inserts, appends) in _node_tables(RuleRenderer()).items():
        result = netns.run(node_ns, f"iptables-{backend}-restore", "--noflush",
                           input=restore_payload(table, chains, inserts, appends), check=False)
        assert result.returncode == 0, result.stderr

    t0 = time.monotonic()
    assert _tcp(netns, pods["a"], b_ip, 80), "selector + port allow"
    assert _tcp(netns, pods["a"], b_ip, 8080), "named port allow"
    assert not _tcp(netns, pods["a"], b_ip, 81), "end-of-tier drop"
    assert not _ping(netns, pods["a"], b_ip), "ICMP not allowed by the policy"
    assert _ping(netns, pods["b"], a_ip), "profile allows into A; replies pass via conntrack"
    assert not _tcp(netns, pods["x"], b_ip, 80), "unknown cali interface is dropped by dispatch"
    assert not _ping(netns, pods["x"], a_ip)
    # Pod -> host is subject to DefaultEndpointToHostAction (DROP).
    assert not _tcp(netns, pods["a"], HOST_IP, 9000, timeout=0.5)
    assert time.monotonic() - t0 < 30
