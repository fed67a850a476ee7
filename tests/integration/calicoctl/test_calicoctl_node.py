"""`calicoctl-py node status` against a real BIRD 2 in a namespace (sessions to peers
nobody answers, so they sit in Active/Connect), and `node checksystem` on this machine."""
import gzip
import os
import subprocess
import time

import pytest

from tests.integration.calicoctl.cli_runner import calicoctl

BIRD_CONFIG = """router id 10.0.0.1;
protocol device { scan time 2; }
protocol bgp Mesh_10_0_0_2 { local 10.0.0.1 as 64512; neighbor 10.0.0.2 as 64512; ipv4 { import all; export none; }; }
protocol bgp Global_10_0_0_9 { local 10.0.0.1 as 64512; neighbor 10.0.0.9 as 65001; ipv4 { import all; export none; }; }
protocol bgp Node_fd00__2 { local fd00::1 as 64512; neighbor fd00::2 as 64512; ipv6 { import all; export none; }; }
protocol bgp upstream { local 10.0.0.1 as 64512; neighbor 10.0.0.7 as 65002; ipv4 { import all; export none; }; }
"""


def _wait(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def bird_socket(netns, tmp_path):
    ns = netns("ctlbird")
    subprocess.run(["ip", "-n", ns, "addr", "add", "10.0.0.1/24", "dev", "lo"], check=True)
    subprocess.run(["ip", "-n", ns, "addr", "add", "fd00::1/64", "dev", "lo"], check=True)
    cfg = tmp_path / "bird.cfg"
    cfg.write_text(BIRD_CONFIG)
    sock = str(tmp_path / "bird.ctl")
    netns.spawn(ns, ["bird", "-f", "-c", str(cfg), "-s", sock],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait(lambda: os.path.exists(sock), 10, "the BIRD control socket")
    return sock


def boxed_rows(text: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip("|").split("|")]
            for line in text.splitlines() if line.startswith("|")]


def test_node_status_shows_bgp_sessions_per_family(bird_socket):
    r = calicoctl("http://127.0.0.1:1", "node", "status", "--bird-socket", bird_socket).assert_ok()
    lines = r.out.splitlines()
    assert lines[0] == "Calico process is running."
    assert lines[1:3] == ["", "IPv4 BGP status"]
    v4, v6 = r.out.split("IPv6 BGP status")
    rows4, rows6 = boxed_rows(v4), boxed_rows(v6)
    assert rows4[0] == ["PEER ADDRESS", "PEER TYPE", "STATE", "SINCE", "INFO"]
    # The header is centred as calicoctl's table library does.
    assert "|     PEER TYPE     |" in v4
    by_addr = {row[0]: row for row in rows4[1:]}
    assert set(by_addr) == {"10.0.0.2", "10.0.0.9"}  # `upstream` is not a Calico peer name
    assert by_addr["10.0.0.2"][1] == "node-to-node mesh" and by_addr["10.0.0.9"][1] == "global"
    for row in rows4[1:] + rows6[1:]:
        assert row[2] == "start"
        assert row[4].split()[0] in ("Idle", "Connect", "Active"), row
        assert row[3], row  # since
    assert [row[:2] for row in rows6[1:]] == [["fd00::2", "node specific"]]
    assert r.out.endswith("+\n\n")


def test_node_status_without_bird(tmp_path):
    r = calicoctl("http://127.0.0.1:1", "node", "status", "--bird-socket", str(tmp_path / "none.ctl"))
    r.assert_error("Calico process is not running.")
    assert len(r.err.strip().splitlines()) == 1


def test_checksystem_passes_on_this_machine():
    r = calicoctl("http://127.0.0.1:1", "node", "checksystem").assert_ok()
    assert r.out.startswith("Checking kernel version...\n")
    assert r.out.rstrip().endswith("System meets minimum system requirements to run Calico!")
    results = {}
    for line in r.out.splitlines():
        if line.startswith("\t\t"):
            name, result = line.split()
            results[name] = result
    for module in ("ip_set", "ip_tables", "xt_set", "xt_conntrack", "xt_multiport", "xt_mark"):
        assert results[module] == "OK", module
    for tool in ("ip", "iptables", "ipset", "bird"):
        assert results[tool] == "OK", tool


def test_checksystem_names_what_a_kernel_config_lacks(tmp_path):
    with gzip.open("/proc/config.gz", "rt") as f:
        full = f.read()
    kept = "\n".join(line for line in full.splitlines()
                     if not line.startswith(("CONFIG_IP_SET=", "CONFIG_NETFILTER_XT_SET=")))
    cfg = tmp_path / "config"
    cfg.write_text(kept + "\n")
    r = calicoctl("http://127.0.0.1:1", "node", "checksystem", "--kernel-config", str(cfg))
    r.assert_error("system doesn't meet one or more minimum systems requirements to run Calico")
    assert "missing: ip_set, ipt_set, xt_set" in r.err
    assert "WARNING: Unable to detect the xt_set module" in r.out
    calicoctl("http://127.0.0.1:1", "node", "checksystem", "-f", str(tmp_path / "nope")).assert_error(
        "kernel config file does not exist")
