"""A client for BIRD's control socket (what `birdc` speaks), without shelling out.

Used by confdpy to ask a running BIRD to re-read its configuration and by
`calicoctl-py node status` to list BGP sessions.

The protocol is line based. On connect BIRD greets with ``0001 BIRD 2.0.12 ready.``.
Each command is one line; the reply is a run of lines, each either

* ``NNNN-text``: a line with reply code NNNN, more lines follow;
* `` text`` (leading space): a continuation of the previous code;
* ``NNNN text``: the last line of the reply (code followed by a space).

Codes 0xxx report success or state, 1xxx/2xxx carry table data and headers, 8xxx are
run-time errors and 9xxx parse errors of the command itself. `BirdClient` collects one
reply as a list of `(code, text)` pairs and raises `BirdError` when the final code is
an error (>= 8000). Each public call opens its own connection, so a client object is
cheap and safe to share between threads.
"""
from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass

from libcalico_py.errors import CalicoError

DEFAULT_SOCKET = "/var/run/calico/bird.ctl"
FALLBACK_SOCKET = "/var/run/bird/bird.ctl"

# Reply codes from BIRD's doc/reply_codes.
CODE_OK = 0
CODE_WELCOME = 1
CODE_READING_CONFIG = 2
CODE_RECONFIGURED = 3
CODE_RECONFIG_IN_PROGRESS = 4
CODE_RECONFIG_CONFIRMED = 18
CODE_NOTHING_TO_DO = 19
CODE_CONFIG_OK = 20
CODE_PROTOCOL_LIST = 1002
CODE_STATUS = 1000
CODE_ROUTER_ID = 1011
CODE_STATUS_END = 13
CODE_PROTOCOL_HEADER = 2002

# "Since" is a time ("05:35:00.026"), or a date and time ("2026-11-23 05:35:00"),
# depending on BIRD's `timeformat protocol` setting and the age of the state.
_PROTO_LINE = re.compile(
    r"^(?P<name>\S+)\s+(?P<proto>\S+)\s+(?P<table>\S+)\s+(?P<state>\S+)\s+"
    r"(?P<since>(?:\d{4}-\d\d-\d\d[ T])?\d\d:\d\d(?::\d\d(?:\.\d+)?)?|\d{4}-\d\d-\d\d|\S+)"
    r"\s*(?P<info>.*)$")


class BirdError(CalicoError):
    """BIRD refused a command or could not be reached; `code` is BIRD's reply code
    (None when the socket itself failed)."""

    def __init__(self, message: str, code: int | None = None, socket_path: str | None = None):
        self.code = code
        self.socket_path = socket_path
        super().__init__(message)


@dataclass(frozen=True)
class Protocol:
    """One row of `show protocols`: `Mesh_10_0_0_2 BGP --- up 05:35:00.026 Established`."""

    name: str
    proto: str
    table: str
    state: str
    since: str
    info: str


@dataclass(frozen=True)
class Status:
    """`show status`: version, router id and the daemon's state line."""

    version: str
    router_id: str | None
    server_time: str | None
    last_reboot: str | None
    last_reconfiguration: str | None
    message: str


@dataclass(frozen=True)
class ConfigureResult:
    """What BIRD said to `configure`: `reconfigured` is True once BIRD applied it
    (code 0003), or had nothing to change; `in_progress` when it is still
    shutting down protocols from the previous configuration (0004)."""

    code: int
    message: str
    reconfigured: bool
    in_progress: bool


@dataclass(frozen=True)
class PeerName:
    """What a Calico-style BGP protocol name says: `Mesh_10_0_0_2` ->
    ("node-to-node mesh", "10.0.0.2", None); `Node_fd00__3_port_1790` ->
    ("node specific", "fd00::3", 1790); `Global_10_0_0_9` -> ("global", ...)."""

    peer_type: str
    address: str
    port: int | None


PEER_TYPES = {"Mesh": "node-to-node mesh", "Node": "node specific", "Global": "global"}
_PEER_NAME = re.compile(r"^(Mesh|Node|Global)_([0-9A-Fa-f_]+?)(?:_port_(\d+))?$")


def peer_name(protocol_name: str) -> PeerName | None:
    """Decode a protocol name written by confdpy (and Calico's confd); None for any
    other protocol (device1, kernel_v4, a hand-written peer)."""
    m = _PEER_NAME.match(protocol_name)
    if m is None:
        return None
    raw = m.group(2)
    for candidate in (raw.replace("_", "."), raw.replace("_", ":")):
        try:
            address = str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
        return PeerName(PEER_TYPES[m.group(1)], address, int(m.group(3)) if m.group(3) else None)
    return None


class BirdClient:
    """Talks to one BIRD over its unix control socket."""

    def __init__(self, socket_path: str = DEFAULT_SOCKET, timeout: float = 30.0):
        self.socket_path = socket_path
        self.timeout = timeout

    # -- raw protocol -------------------------------------------------------
    def command(self, line: str) -> list[tuple[int, str]]:
        """Send one command and return the reply as (code, text) pairs; continuation
        lines carry the code of the line they continue. Raises BirdError when BIRD
        answers with an error code or the socket fails."""
        if "\n" in line:
            raise ValueError("a BIRD command is one line")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
            reader = sock.makefile("rb")
            greeting = _read_reply(reader, self.socket_path)
            if not greeting or greeting[0][0] != CODE_WELCOME:
                raise BirdError(f"unexpected greeting from BIRD at {self.socket_path}: {greeting!r}",
                                socket_path=self.socket_path)
            sock.sendall(line.encode() + b"\n")
            reply = _read_reply(reader, self.socket_path)
        except OSError as e:
            raise BirdError(f"cannot talk to BIRD at {self.socket_path}: {e}",
                            socket_path=self.socket_path) from e
        finally:
            sock.close()
        code, text = reply[-1]
        if code >= 8000:
            raise BirdError(f"BIRD rejected {line.split()[0]!r}: {text} (code {code:04d})",
                            code=code, socket_path=self.socket_path)
        return reply

    # -- commands -----------------------------------------------------------
    def configure(self, path: str | None = None) -> ConfigureResult:
        """`configure ["path"]`: BIRD re-reads its configuration (from `path` if
        given, else from the file it was started with) and applies the difference.
        A config BIRD cannot parse raises BirdError and leaves the running one."""
        cmd = "configure" if path is None else f'configure "{_quote(path)}"'
        reply = self.command(cmd)
        code, text = reply[-1]
        return ConfigureResult(
            code=code, message=text,
            reconfigured=code in (CODE_RECONFIGURED, CODE_RECONFIG_CONFIRMED, CODE_NOTHING_TO_DO),
            in_progress=code == CODE_RECONFIG_IN_PROGRESS)

    def show_protocols(self) -> list[Protocol]:
        """`show protocols`: one Protocol per row (header skipped)."""
        rows = []
        for code, text in self.command("show protocols"):
            if code != CODE_PROTOCOL_LIST or not text.strip():
                continue
            m = _PROTO_LINE.match(text.strip())
            if m is None:
                continue
            rows.append(Protocol(m["name"], m["proto"], m["table"], m["state"], m["since"],
                                 m["info"].strip()))
        return rows

    def show_status(self) -> Status:
        """`show status`."""
        version = router_id = server_time = reboot = reconf = None
        message = ""
        for code, text in self.command("show status"):
            if code == CODE_STATUS:
                version = text.strip()
            elif text.startswith("Router ID is "):
                router_id = text[len("Router ID is "):].strip()
            elif text.startswith("Current server time is "):
                server_time = text[len("Current server time is "):].strip()
            elif text.startswith("Last reboot on "):
                reboot = text[len("Last reboot on "):].strip()
            elif text.startswith("Last reconfiguration on "):
                reconf = text[len("Last reconfiguration on "):].strip()
            elif code == CODE_STATUS_END:
                message = text.strip()
        return Status(version or "", router_id, server_time, reboot, reconf, message)


def _quote(path: str) -> str:
    if '"' in path:
        raise ValueError(f"BIRD cannot quote a path containing '\"': {path!r}")
    return path


def _read_reply(reader, socket_path: str) -> list[tuple[int, str]]:
    """Read lines up to and including the one whose code is followed by a space."""
    lines: list[tuple[int, str]] = []
    last_code = 0
    while True:
        raw = reader.readline()
        if not raw:
            raise BirdError(f"BIRD at {socket_path} closed the connection mid-reply",
                            socket_path=socket_path)
        text = raw.decode(errors="replace").rstrip("\n")
        if text.startswith(" ") or text.startswith("+"):
            lines.append((last_code, text[1:]))
            continue
        if len(text) >= 5 and text[:4].isdigit() and text[4] in " -":
            last_code = int(text[:4])
            lines.append((last_code, text[5:]))
            if text[4] == " ":
                return lines
            continue
        if len(text) == 4 and text.isdigit():
            lines.append((int(text), ""))
            return lines
        raise BirdError(f"unparseable line from BIRD at {socket_path}: {text!r}",
                        socket_path=socket_path)
