"""Kernel drivers (Table, IPSets, RouteTable) against real iptables/ipset/netlink in a namespace.

Each driver gets Felix's two convergence checks: apply, then apply again (also after a forced
read-back) and assert nothing is written; break something of ours by hand and assert a refresh
repairs it while a foreign rule stays untouched. Table tests run for every backend/writer pair.
"""
from __future__ import annotations

import pytest

from felixpy.iptables.backend_detect import detect_backend, make_writer
from felixpy.iptables.chain import Chain, Rule, rule_hashes
from felixpy.iptables.save_reader import parse_save
from felixpy.iptables.table import Table
from felixpy.iptables.writer import TableWriteError
from felixpy.ipsets.ipsets import IPSets
from felixpy.routetable.route_table import RouteTable
from tests.dataplane.felixpy.nsutil import inside

WRITERS = [("nft", "restore"), ("legacy", "restore"), ("legacy", "iptc")]


def save(netns, ns, backend, table="filter"):
    return parse_save(netns.run(ns, f"iptables-{backend}-save", "-t", table).stdout, table)


def pol_chain(name, n=3):
    return Chain(name, tuple(Rule(match=f"-p tcp --dport {8000 + i}", action="-j ACCEPT",
                                  comment=f"rule {i}") for i in range(n)))


@pytest.fixture(params=WRITERS, ids=[f"{b}-{w}" for b, w in WRITERS])
def table_env(request, netns):
    backend, writer = request.param
    ns = netns("tbl")
    with inside(ns):
        yield ns, backend, Table("filter", make_writer(backend, writer))


def test_table_apply_converges_and_noop_writes_nothing(table_env, netns):
    ns, backend, _ = table_env
    # a foreign rule that must survive everything we do
    netns.run(ns, f"iptables-{backend}", "-A", "FORWARD", "-s", "10.9.9.9/32", "-j", "ACCEPT")
    table = Table("filter", make_writer(backend, table_env[2].writer.kind))
    table.update_chain(pol_chain("cali-pi-a"))
    table.update_chain(Chain("cali-FORWARD", (Rule(action="-j cali-pi-a"),)))
    table.set_hook_rules("FORWARD", [Rule(action="-j cali-FORWARD")])
    table.set_hook_rules("FORWARD", [Rule(match="-m mark --mark 0x10000/0x10000", action="-j ACCEPT")], append=True)
    table.apply()
    assert table.stats.writes == 1
    saved = save(netns, ns, backend)
    assert [r.hash for r in saved.chains["cali-pi-a"]] == rule_hashes("cali-pi-a", pol_chain("cali-pi-a").rules)
    fwd = saved.chains["FORWARD"]
    assert fwd[0].hash == rule_hashes("FORWARD", [Rule(action="-j cali-FORWARD")])[0]
    assert "10.9.9.9" in fwd[1].spec and fwd[1].hash is None
    assert fwd[2].hash and "mark" in fwd[2].spec

    table.apply()
    table.queue_resync()
    table.apply()
    assert table.stats.writes == 1 and table.stats.reads == 2

    # unchanged desired state set again: still nothing
    table.update_chain(pol_chain("cali-pi-a"))
    table.apply()
    assert table.stats.writes == 1


def test_table_refresh_repairs_drift_and_keeps_foreign_rules(table_env, netns):
    ns, backend, table = table_env
    table.update_chain(pol_chain("cali-pi-a", 4))
    table.set_hook_rules("FORWARD", [Rule(action="-j cali-pi-a")])
    table.apply()
    netns.run(ns, f"iptables-{backend}", "-I", "FORWARD", "1", "-s", "10.8.8.8/32", "-j", "DROP")
    netns.run(ns, f"iptables-{backend}", "-D", "cali-pi-a", "2")
    # a stale hook of an older version of us, and our hook pushed below a foreign rule
    netns.run(ns, f"iptables-{backend}", "-A", "INPUT", "-m", "comment", "--comment",
              "cali:AAAAAAAAAAAAAAAA", "-j", "ACCEPT")
    assert len(save(netns, ns, backend).chains["cali-pi-a"]) == 3
    table.queue_resync()
    table.apply()
    saved = save(netns, ns, backend)
    assert [r.hash for r in saved.chains["cali-pi-a"]] == rule_hashes("cali-pi-a", pol_chain("cali-pi-a", 4).rules)
    assert saved.chains["FORWARD"][0].hash is not None, "our hook goes back to the top"
    assert any("10.8.8.8" in r.spec for r in saved.chains["FORWARD"]), "foreign rule survives"
    assert saved.chains["INPUT"] == [], "stale cali: hook removed"
    writes = table.stats.writes
    table.queue_resync()
    table.apply()
    assert table.stats.writes == writes


def test_table_rewrites_only_changed_chains_and_deletes_removed(table_env, netns):
    ns, backend, table = table_env
    for name in ("cali-pi-a", "cali-pi-b", "cali-pi-c"):
        table.update_chain(pol_chain(name))
    table.update_chain(Chain("cali-FORWARD", tuple(Rule(action=f"-j cali-pi-{x}") for x in "abc")))
    table.set_hook_rules("FORWARD", [Rule(action="-j cali-FORWARD")])
    table.apply()
    table.update_chain(pol_chain("cali-pi-b", 5))
    delta = table.apply()
    assert list(delta.write_chains) == ["cali-pi-b"] and not delta.hook_inserts
    table.update_chain(Chain("cali-FORWARD", tuple(Rule(action=f"-j cali-pi-{x}") for x in "ab")))
    table.remove_chain("cali-pi-c")
    delta = table.apply()
    assert delta.delete_chains == ["cali-pi-c"]
    assert "cali-pi-c" not in save(netns, ns, backend).chains
    table.set_hook_rules("FORWARD", [])
    table.update_chain(Chain("cali-FORWARD", ()))
    table.apply()
    assert all(r.hash is None for r in save(netns, ns, backend).chains["FORWARD"])


def test_table_missing_referenced_chain_gets_drop_stub(table_env, netns):
    ns, backend, table = table_env
    table.update_chain(Chain("cali-fw-x", (Rule(action="-j cali-po-missing"),)))
    table.apply()
    stub = save(netns, ns, backend).chains["cali-po-missing"]
    assert len(stub) == 1 and "DROP" in stub[0].spec
    table.update_chain(pol_chain("cali-po-missing", 2))
    table.apply()
    assert len(save(netns, ns, backend).chains["cali-po-missing"]) == 2
    table.update_chain(Chain("cali-fw-x", ()))
    table.remove_chain("cali-po-missing")
    table.apply()
    assert "cali-po-missing" not in save(netns, ns, backend).chains


def test_table_write_error_is_typed_and_forces_readback(table_env, netns):
    ns, backend, table = table_env
    table.update_chain(Chain("cali-bad", (Rule(match="-m nosuchmatch --foo 1", action="-j ACCEPT"),)))
    with pytest.raises(TableWriteError) as err:
        table.apply()
    assert "filter" in str(err.value)
    assert table.dirty
    table.update_chain(pol_chain("cali-bad", 1))
    table.apply()
    assert len(save(netns, ns, backend).chains["cali-bad"]) == 1


def test_backend_detection_prefers_tables_holding_rules(netns):
    ns = netns("detect")
    with inside(ns):
        assert detect_backend("NFT") == "nft"
        assert detect_backend("Legacy") == "legacy"
        assert detect_backend("Auto") == "nft"
        netns.run(ns, "iptables-legacy", "-A", "INPUT", "-j", "ACCEPT")
        assert detect_backend("auto") == "legacy"
        with pytest.raises(ValueError):
            detect_backend("iptables")


# ------------------------------------------------------------------ ipsets


def ipset_members(netns, ns, name):
    out = netns.run(ns, "ipset", "list", name).stdout
    return set(out.split("Members:\n", 1)[1].split())


def test_ipsets_apply_noop_drift_and_delete(netns):
    ns = netns("ips")
    with inside(ns):
        sets = IPSets()
        sets.set_members("s:abc", "hash:net", ["10.0.0.1/32", "10.0.1.0/24"])
        sets.set_members("n:port", "hash:ip,port", ["10.0.0.1,tcp:80"])
        sets.apply_updates()
        assert ipset_members(netns, ns, "cali40s:abc") == {"10.0.0.1", "10.0.1.0/24"}
        assert ipset_members(netns, ns, "cali40n:port") == {"10.0.0.1,tcp:80"}
        writes = sets.stats.writes
        sets.queue_resync()
        sets.apply_updates()
        assert sets.stats.writes == writes, "no-op resync writes nothing"

        netns.run(ns, "ipset", "del", "cali40s:abc", "10.0.0.1")
        netns.run(ns, "ipset", "add", "cali40s:abc", "10.7.7.7")
        netns.run(ns, "ipset", "create", "foreign", "hash:ip")
        sets.queue_resync()
        sets.apply_updates()
        assert ipset_members(netns, ns, "cali40s:abc") == {"10.0.0.1", "10.0.1.0/24"}

        sets.add_members("s:abc", ["10.0.0.2/32"])
        sets.remove_members("s:abc", ["10.0.1.0/24"])
        sets.apply_updates()
        assert ipset_members(netns, ns, "cali40s:abc") == {"10.0.0.1", "10.0.0.2"}

        sets.set_members("s:abc", "hash:ip,port", ["10.0.0.3,udp:53"])   # type change: recreate
        sets.apply_updates()
        assert "hash:ip,port" in netns.run(ns, "ipset", "list", "cali40s:abc").stdout

        bigger = IPSets(maxelem=2048)                                        # size change: temp + swap
        bigger.set_members("s:abc", "hash:ip,port", ["10.0.0.3,udp:53"])
        bigger.apply_updates()
        out = netns.run(ns, "ipset", "list", "-n").stdout.split()
        assert "cali40s:abc" in out and not any(n.startswith("cali4t") for n in out)
        assert "maxelem 2048" in netns.run(ns, "ipset", "list", "cali40s:abc").stdout
        assert ipset_members(netns, ns, "cali40s:abc") == {"10.0.0.3,udp:53"}

        sets.remove_set("n:port")
        sets.apply_updates()
        assert "cali40n:port" in netns.run(ns, "ipset", "list", "-n").stdout, "deleted only after iptables"
        sets.apply_deletions()
        names = netns.run(ns, "ipset", "list", "-n").stdout.split()
        assert "cali40n:port" not in names and "foreign" in names


def test_ipset_in_use_is_retried(netns):
    ns = netns("ips2")
    with inside(ns):
        sets = IPSets()
        sets.set_members("s:used", "hash:net", ["10.0.0.1/32"])
        sets.apply_updates()
        netns.run(ns, "iptables-legacy", "-A", "INPUT", "-m", "set", "--match-set", "cali40s:used", "src",
                  "-j", "ACCEPT")
        sets.remove_set("s:used")
        sets.apply_updates()
        assert sets.apply_deletions() == 0 and sets.dirty
        netns.run(ns, "iptables-legacy", "-F", "INPUT")
        assert sets.apply_deletions() == 1


# ------------------------------------------------------------------ routes


def routes(netns, ns):
    return netns.run(ns, "ip", "route", "show").stdout


def test_route_table_program_noop_repair_and_cleanup(netns):
    ns = netns("rt")
    pod = netns("rtpod")
    netns.veth(ns, "cali1", pod, "eth0")
    netns.veth(ns, "cali2", pod, "eth1")
    netns.veth(ns, "eth9", pod, "eth9")
    with inside(ns):
        rt = RouteTable(grace_period=0.0)
        rt.set_routes("cali1", [("10.65.0.1", "aa:bb:cc:dd:ee:01")])
        rt.set_routes("cali2", ["10.65.0.2/32"])
        rt.set_routes("calimissing", ["10.65.0.9/32"])
        errors = rt.apply()
        assert [e.iface for e in errors] == ["calimissing"]
        out = routes(netns, ns)
        assert "10.65.0.1 dev cali1 scope link metric 1024" in out
        assert "10.65.0.2 dev cali2 scope link metric 1024" in out
        assert "PERMANENT" in netns.run(ns, "ip", "neigh", "show", "dev", "cali1").stdout
        assert open("/proc/sys/net/ipv4/conf/cali1/proxy_arp").read().strip() == "1"

        rt.remove_iface("calimissing")
        rt.apply()
        added = rt.stats.routes_added
        rt.queue_resync()
        rt.apply()
        assert rt.stats.routes_added == added, "no-op resync writes nothing"

        netns.run(ns, "ip", "route", "del", "10.65.0.2/32", "dev", "cali2")
        netns.run(ns, "ip", "route", "add", "10.65.0.77/32", "dev", "cali2")     # stale/external on our iface
        netns.run(ns, "ip", "route", "add", "10.66.0.0/24", "dev", "eth9")       # foreign
        rt.queue_resync()
        rt.apply()
        out = routes(netns, ns)
        assert "10.65.0.2 dev cali2" in out and "10.65.0.77" not in out and "10.66.0.0/24 dev eth9" in out

        rt.remove_iface("cali1")
        rt.apply()
        assert "10.65.0.1 " not in routes(netns, ns)


def test_route_table_grace_period_for_unknown_interface(netns):
    ns = netns("rtg")
    pod = netns("rtgpod")
    netns.veth(ns, "cali3", pod, "eth0")
    netns.run(ns, "ip", "route", "add", "10.65.0.3/32", "dev", "cali3")          # the CNI's route
    with inside(ns):
        rt = RouteTable(grace_period=30.0)
        rt.apply()
        assert "10.65.0.3 dev cali3" in routes(netns, ns)
        rt.grace_period = 0.0
        rt.queue_resync()
        rt.apply()
        assert "10.65.0.3" not in routes(netns, ns)
