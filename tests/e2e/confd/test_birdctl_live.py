"""BirdClient against a real BIRD 2 in a namespace: status, protocols, configure
(accepted, and rejected with the running config kept)."""
from __future__ import annotations

import os
import subprocess

import pytest

from libcalico_py.birdctl import BirdClient, BirdError
from tests.e2e.confd.bgp_lab import wait_for

CONFIG = """router id 10.0.0.1;
protocol device { scan time 2; }
protocol bgp Mesh_10_0_0_2 { local 10.0.0.1 as 64512; neighbor 10.0.0.2 as 64512; ipv4 { import all; export none; }; }
"""


@pytest.fixture
def bird(netns, tmp_path):
    ns = netns("bird")
    subprocess.run(["ip", "-n", ns, "addr", "add", "10.0.0.1/24", "dev", "lo"], check=True)
    cfg = tmp_path / "bird.cfg"
    cfg.write_text(CONFIG)
    sock = str(tmp_path / "bird.ctl")
    netns.spawn(ns, ["bird", "-f", "-c", str(cfg), "-s", sock], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)
    wait_for(lambda: os.path.exists(sock), 10, "BIRD socket")
    return BirdClient(sock), cfg


def test_status_and_protocols(bird):
    client, _ = bird
    status = client.show_status()
    assert status.version.startswith("BIRD 2.") and status.router_id == "10.0.0.1"
    assert status.message == "Daemon is up and running"
    protos = {p.name: p for p in client.show_protocols()}
    assert protos["device1"].proto == "Device" and protos["device1"].state == "up"
    mesh = protos["Mesh_10_0_0_2"]
    assert (mesh.proto, mesh.table, mesh.state) == ("BGP", "---", "start")
    assert mesh.info.split()[0] in ("Idle", "Connect", "Active")


def test_configure_accepted_and_rejected(bird, tmp_path):
    client, cfg = bird
    extra = tmp_path / "new.cfg"
    extra.write_text(CONFIG + 'protocol static s1 { ipv4; route 10.65.0.0/26 blackhole; }\n')
    result = client.configure(str(extra))
    assert result.reconfigured and result.code == 3
    assert "s1" in {p.name for p in client.show_protocols()}
    bad = tmp_path / "bad.cfg"
    bad.write_text("router id nonsense;\n")
    with pytest.raises(BirdError) as err:
        client.configure(str(bad))
    assert err.value.code == 8002 and "bad.cfg:1" in str(err.value)
    assert "s1" in {p.name for p in client.show_protocols()}    # still running the old one


def test_unreachable_socket(tmp_path):
    with pytest.raises(BirdError, match="cannot talk to BIRD"):
        BirdClient(str(tmp_path / "nothing.ctl")).show_status()
