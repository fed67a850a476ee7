"""Reply parsing of the BIRD control protocol (the wire format, from BIRD 2.0.12 output).
The client against a real BIRD is covered in tests/e2e/confd/test_birdctl_live.py."""
from __future__ import annotations

import io

import pytest

from libcalico_py.birdctl import _PROTO_LINE, BirdError, _read_reply, peer_name


def reply(text: str):
    return _read_reply(io.BytesIO(text.encode()), "/test.ctl")


def test_multi_line_reply_with_continuations():
    lines = reply("1000-BIRD 2.0.12\n1011-Router ID is 10.0.0.1\n Hostname is vm\n"
                  "0013 Daemon is up and running\n2002-ignored-after\n")
    assert lines == [(1000, "BIRD 2.0.12"), (1011, "Router ID is 10.0.0.1"),
                     (1011, "Hostname is vm"), (13, "Daemon is up and running")]


def test_error_reply_and_truncated_reply():
    assert reply("8002 /x: No such file or directory\n") == [(8002, "/x: No such file or directory")]
    with pytest.raises(BirdError, match="closed the connection"):
        reply("0002-Reading configuration from /x\n")


@pytest.mark.parametrize("line,expected", [
    ("Mesh_10_0_0_2 BGP        ---        up     05:35:00.026  Established",
     ("Mesh_10_0_0_2", "BGP", "---", "up", "05:35:00.026", "Established")),
    ("Global_10_0_0_9 BGP        ---        start  2026-11-23 05:35:00  Active        Socket: Connection refused",
     ("Global_10_0_0_9", "BGP", "---", "start", "2026-11-23 05:35:00", "Active        Socket: Connection refused")),
    ("device1    Device     ---        up     05:35:00.026", ("device1", "Device", "---", "up", "05:35:00.026", "")),
])
def test_protocol_rows(line, expected):
    m = _PROTO_LINE.match(line)
    assert (m["name"], m["proto"], m["table"], m["state"], m["since"], m["info"].strip()) == expected


@pytest.mark.parametrize("name,expected", [
    ("Mesh_10_0_0_2", ("node-to-node mesh", "10.0.0.2", None)),
    ("Node_10_0_0_251_port_1791", ("node specific", "10.0.0.251", 1791)),
    ("Global_fd00__9", ("global", "fd00::9", None)),
    ("Mesh_fd00_0_0_0_0_0_0_2", ("node-to-node mesh", "fd00::2", None)),
])
def test_peer_name(name, expected):
    p = peer_name(name)
    assert (p.peer_type, p.address, p.port) == expected


@pytest.mark.parametrize("name", ["device1", "kernel_v4", "static_v4", "Mesh_zz", "upstream"])
def test_peer_name_other_protocols(name):
    assert peer_name(name) is None
