"""Reply parsing of the BIRD control protocol (the wire format, from BIRD 2.0.12 output).
The client against a real BIRD is covered in tests/e2e/confd/test_birdctl_live.py."""
from __future__ import annotations

import io

import pytest

from libcalico_py.birdctl import _PROTO_LINE, BirdError, _read_reply


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
