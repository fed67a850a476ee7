"""A BGP lab in namespaces for confdpy: fabric bridge + etcd, nodes with BIRD and confdpy.

```
 netns fabric: bridge br0 10.0.0.100/24, etcd on 10.0.0.100
   ├── veth eth0 ── netns nodeN: 10.0.0.N/24, default via 10.0.0.100, bird -f, confdpy
   │                  └── veth calipodN ── netns podN: eth0 = pod IP /32, default via 169.254.1.1
   └── veth eth0 ── netns upstream: 10.0.0.200/24, a hand-configured BIRD (eBGP AS 65000)
```

The test process reaches etcd through `NetnsTcpProxy`: a listening socket on
127.0.0.1 whose outbound connections are opened by a thread that entered the fabric
namespace (a socket belongs to the namespace of the thread that created it), so nothing
is added to the root namespace's interfaces or routes.
"""
from __future__ import annotations

import ctypes
import os
import socket
import subprocess
import sys
import threading
import time

from libcalico_py.birdctl import BirdClient, BirdError

CLONE_NEWNET = 0x40000000
BRIDGE_IP = "10.0.0.100"
UPSTREAM_IP = "10.0.0.200"
UPSTREAM_AS = 65000
VENV_BIN = os.path.dirname(sys.executable)


def _enter_netns(ns: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/var/run/netns/{ns}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns({ns}): {os.strerror(err)}")
    finally:
        os.close(fd)


class NetnsTcpProxy:
    """127.0.0.1:<port> in our namespace -> host:port inside `ns`."""

    def __init__(self, ns: str, host: str, port: int):
        self.ns, self.host, self.port = ns, host, port
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.local_port = self.listener.getsockname()[1]
        self._closed = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.local_port}"

    def _serve(self) -> None:
        _enter_netns(self.ns)  # this thread only; its outbound sockets live in `ns`
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection((self.host, self.port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self._closed = True
        self.listener.close()


def run(ns: str, *argv: str) -> str:
    return subprocess.run(["ip", "netns", "exec", ns, *argv], check=True, capture_output=True,
                          text=True).stdout


class Node:
    """One node namespace: address, BIRD and confdpy."""

    def __init__(self, lab: "BgpLab", index: int):
        self.lab = lab
        self.index = index
        self.name = f"node{index}"
        self.ip = f"10.0.0.{index}"
        self.ns = lab.netns(self.name)
        self.dir = os.path.join(lab.tmp, self.name)
        self.confdir = os.path.join(self.dir, "confd")
        self.socket = os.path.join(self.dir, "bird.ctl")
        os.makedirs(self.confdir)
        lab.netns.veth(self.ns, "eth0", lab.fabric, f"fab{index}")
        run(lab.fabric, "ip", "link", "set", f"fab{index}", "master", "br0")
        run(self.ns, "ip", "addr", "add", f"{self.ip}/24", "dev", "eth0")
        run(self.ns, "ip", "route", "add", "default", "via", BRIDGE_IP)
        run(self.ns, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        self.bird = None
        self.confd = None

    @property
    def client(self) -> BirdClient:
        return BirdClient(self.socket, timeout=10)

    def confd_argv(self, *extra: str) -> list[str]:
        return [os.path.join(VENV_BIN, "confdpy"), "--node", self.name,
                "--etcd-endpoints", self.lab.etcd_endpoint_in_lab, "--confdir", self.confdir,
                *extra]

    def start(self) -> None:
        """Calico's order: render once, start BIRD on the result, then keep confd running."""
        subprocess.run(["ip", "netns", "exec", self.ns, *self.confd_argv("--onetime")],
                       check=True, capture_output=True, text=True, timeout=60)
        self.bird = self.lab.netns.spawn(self.ns, [
            "bird", "-f", "-c", os.path.join(self.confdir, "bird.cfg"), "-s", self.socket,
            "-P", os.path.join(self.dir, "bird.pid")],
            stdout=open(os.path.join(self.dir, "bird.log"), "ab"), stderr=subprocess.STDOUT)
        wait_for(lambda: os.path.exists(self.socket), 10, f"{self.name}: BIRD socket")
        self.confd = self.lab.netns.spawn(self.ns, self.confd_argv("--bird-socket", self.socket),
                                          stdout=open(os.path.join(self.dir, "confd.log"), "ab"),
                                          stderr=subprocess.STDOUT)

    def protocols(self) -> dict[str, tuple[str, str]]:
        """BGP protocols: name -> (state, info)."""
        try:
            return {p.name: (p.state, p.info) for p in self.client.show_protocols() if p.proto == "BGP"}
        except BirdError:
            return {}

    def established(self) -> set[str]:
        return {n for n, (state, info) in self.protocols().items()
                if state == "up" and info.startswith("Established")}

    def kernel_routes(self) -> dict[str, str]:
        """prefix -> route line, for BIRD-programmed routes (`proto bird`)."""
        out = run(self.ns, "ip", "-4", "route", "show", "proto", "bird")
        return {line.split()[0] if not line.startswith("blackhole") else line.split()[1]: line
                for line in out.splitlines() if line.strip()}

    def log_tail(self) -> str:
        parts = []
        for name in ("confd.log", "bird.log"):
            try:
                with open(os.path.join(self.dir, name), "rb") as f:
                    parts.append(f"--- {self.name} {name}\n" + f.read()[-3000:].decode(errors="replace"))
            except OSError:
                pass
        return "\n".join(parts)


class BgpLab:
    def __init__(self, netns, tmp: str):
        self.netns = netns
        self.tmp = tmp
        self.fabric = netns("fabric")
        run(self.fabric, "ip", "link", "add", "br0", "type", "bridge")
        run(self.fabric, "ip", "addr", "add", f"{BRIDGE_IP}/24", "dev", "br0")
        run(self.fabric, "ip", "link", "set", "br0", "up")
        self.nodes: list[Node] = []
        self.etcd = None
        self.proxy = None
        self.etcd_endpoint_in_lab = None

    def start_etcd(self):
        from tests.fixtures.etcd import EtcdServer
        self.etcd = EtcdServer(netns=self.fabric, host=BRIDGE_IP).start()
        self.etcd_endpoint_in_lab = self.etcd.endpoint
        self.proxy = NetnsTcpProxy(self.fabric, BRIDGE_IP, self.etcd.client_port)
        return self.proxy.endpoint

    def add_node(self, index: int) -> Node:
        node = Node(self, index)
        self.nodes.append(node)
        return node

    def add_pod(self, node: Node, pod_ip: str) -> str:
        """A pod namespace wired as Calico's CNI does: /32 on eth0, default via
        169.254.1.1 answered by proxy ARP on the host-side veth, /32 route on the node."""
        ns = self.netns(f"pod{node.index}")
        host_if = f"calipod{node.index}"
        self.netns.veth(ns, "eth0", node.ns, host_if)
        run(ns, "ip", "addr", "add", f"{pod_ip}/32", "dev", "eth0")
        run(ns, "ip", "route", "add", "169.254.1.1", "dev", "eth0", "scope", "link")
        run(ns, "ip", "route", "add", "default", "via", "169.254.1.1", "dev", "eth0")
        run(node.ns, "sysctl", "-qw", f"net.ipv4.conf.{host_if}.proxy_arp=1",
            f"net.ipv4.neigh.{host_if}.proxy_delay=0")
        run(node.ns, "ip", "route", "add", f"{pod_ip}/32", "dev", host_if)
        return ns

    def start_upstream(self, nodes: list[Node]) -> "Upstream":
        return Upstream(self, nodes)

    def close(self) -> None:
        if self.proxy:
            self.proxy.close()
        if self.etcd:
            self.etcd.cleanup()

    def diagnostics(self) -> str:
        return "\n".join(n.log_tail() for n in self.nodes)


class Upstream:
    """An external router: its own namespace, BIRD configured by hand, eBGP AS 65000,
    importing everything the nodes send and exporting nothing."""

    def __init__(self, lab: BgpLab, nodes: list[Node]):
        self.ns = lab.netns("upstream")
        self.dir = os.path.join(lab.tmp, "upstream")
        os.makedirs(self.dir)
        lab.netns.veth(self.ns, "eth0", lab.fabric, "fabup")
        run(lab.fabric, "ip", "link", "set", "fabup", "master", "br0")
        run(self.ns, "ip", "addr", "add", f"{UPSTREAM_IP}/24", "dev", "eth0")
        self.socket = os.path.join(self.dir, "bird.ctl")
        cfg = [f"router id {UPSTREAM_IP};", "protocol device { scan time 2; }"]
        for n in nodes:
            cfg.append(f"protocol bgp {n.name} {{ local {UPSTREAM_IP} as {UPSTREAM_AS}; "
                       f"neighbor {n.ip} as 64512; connect retry time 2; "
                       f"ipv4 {{ import all; export none; }}; }}")
        path = os.path.join(self.dir, "bird.cfg")
        with open(path, "w") as f:
            f.write("\n".join(cfg) + "\n")
        lab.netns.spawn(self.ns, ["bird", "-f", "-c", path, "-s", self.socket],
                        stdout=open(os.path.join(self.dir, "bird.log"), "ab"), stderr=subprocess.STDOUT)
        wait_for(lambda: os.path.exists(self.socket), 10, "upstream BIRD socket")
        self.client = BirdClient(self.socket, timeout=10)

    def prefixes(self) -> set[str]:
        try:
            reply = self.client.command("show route")
        except BirdError:
            return set()
        out = set()
        for _code, text in reply:
            first = text.split()[0] if text.strip() else ""
            if "/" in first:
                out.add(first)
        return out

    def established(self) -> set[str]:
        return {p.name for p in self.client.show_protocols()
                if p.proto == "BGP" and p.info.startswith("Established")}


def since_seconds(since: str) -> float:
    """BIRD's `since` column ("06:02:00.847" or "2026-11-24 06:02:00") as seconds of day."""
    clock = since.split()[-1]
    h, m, sec = clock.split(":")
    return int(h) * 3600 + int(m) * 60 + float(sec)


def restarted(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Protocols whose state-change time moved. BIRD keeps these times on a monotonic
    clock and converts them to wall time when displaying, so the same instant can print
    a millisecond or so apart; a restart caused by a change happens after the change was
    written, well over 50 ms after `before` was read. (If the wall clock is stepped,
    every protocol, `device1` included, moves together: that is not a restart.)"""
    return sorted(name for name, t in before.items()
                  if name in after and abs(since_seconds(after[name]) - since_seconds(t)) > 0.05)


def wait_for(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
