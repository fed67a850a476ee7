"""Running the CNI plugins as a runtime does, and looking at etcd, for the CNI tests.

`run_plugin()` execs a plugin binary with `CNI_*` in the environment and the config on stdin
(optionally inside a namespace via `ip netns exec`, as a node-local runtime would be) and
returns the parsed stdout. `in_netns()` moves the calling thread into a namespace for a
moment, so a test can open an etcd connection to a server that listens on 127.0.0.1 inside a
node namespace and keep using it from the root namespace.
"""
from __future__ import annotations

import contextlib
import ctypes
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cni_py.etcd_gateway import EtcdGateway

VENV_BIN = Path(__file__).resolve().parents[3] / ".venv" / "bin"
CALICO = str(VENV_BIN / "calico-py")
CALICO_IPAM = str(VENV_BIN / "calico-ipam-py")
REF_CNI = "/usr/lib/cni"
CLONE_NEWNET = 0x40000000


@dataclass
class PluginResult:
    rc: int
    stdout: str
    stderr: str

    @property
    def json(self) -> dict:
        return json.loads(self.stdout) if self.stdout.strip() else {}

    def assert_ok(self) -> dict:
        assert self.rc == 0, f"plugin failed rc={self.rc}: {self.stdout} {self.stderr}"
        return self.json

    def assert_error(self, code: int, contains: str = "") -> dict:
        assert self.rc != 0, f"plugin unexpectedly succeeded: {self.stdout}"
        err = self.json
        assert err.get("code") == code, f"want code {code}, got {err} / {self.stderr}"
        assert contains.lower() in err.get("msg", "").lower(), f"{contains!r} not in {err}"
        return err


def run_plugin(binary: str, command: str, conf: dict | bytes, container_id: str = "",
               netns: str = "", ifname: str = "eth0", cni_args: str = "",
               path: list[str] | None = None, in_netns: str | None = None,
               env: dict | None = None, timeout: float = 60) -> PluginResult:
    environ = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
               "CNI_COMMAND": command, "CNI_CONTAINERID": container_id, "CNI_NETNS": netns,
               "CNI_IFNAME": ifname, "CNI_ARGS": cni_args,
               "CNI_PATH": ":".join(path or [str(VENV_BIN), REF_CNI])}
    environ.update(env or {})
    argv = [binary]
    if in_netns:
        argv = ["ip", "netns", "exec", in_netns, binary]
    data = conf if isinstance(conf, bytes) else json.dumps(conf).encode()
    p = subprocess.run(argv, input=data, env=environ, capture_output=True, timeout=timeout)
    return PluginResult(p.returncode, p.stdout.decode(), p.stderr.decode())


def spawn_plugin(binary: str, command: str, conf: dict, container_id: str, cni_args: str = "",
                 netns: str = "", ifname: str = "eth0", in_netns: str | None = None) -> subprocess.Popen:
    environ = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
               "CNI_COMMAND": command, "CNI_CONTAINERID": container_id, "CNI_NETNS": netns,
               "CNI_IFNAME": ifname, "CNI_ARGS": cni_args,
               "CNI_PATH": f"{VENV_BIN}:{REF_CNI}"}
    argv = [binary] if not in_netns else ["ip", "netns", "exec", in_netns, binary]
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=environ)
    p.stdin.write(json.dumps(conf).encode())
    p.stdin.close()
    return p


_libc = ctypes.CDLL(None, use_errno=True)


@contextlib.contextmanager
def in_netns(ns: str):
    """Run the body with this thread in namespace `ns` (sockets made here stay there)."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/var/run/netns/{ns}", os.O_RDONLY)
    try:
        if _libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns into {ns} failed")
        try:
            yield
        finally:
            if _libc.setns(own, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back failed")
    finally:
        os.close(own)
        os.close(target)


def gateway_in(ns: str | None, endpoint: str) -> EtcdGateway:
    """An etcd client connected (now) to `endpoint` as seen from namespace `ns`."""
    gw = EtcdGateway([endpoint])
    if ns is None:
        gw.get("/")
        return gw
    with in_netns(ns):
        gw.get("/")
    return gw


def put_pool(kv, name: str, cidr: str, block_size: int | None = None, **spec) -> None:
    s = {"cidr": cidr, "ipipMode": "Never", "vxlanMode": "Never", "natOutgoing": False,
         "nodeSelector": "all()"}
    if block_size:
        s["blockSize"] = block_size
    s.update(spec)
    doc = {"apiVersion": "projectcalico.org/v3", "kind": "IPPool", "metadata": {"name": name},
           "spec": s}
    kv.put(f"/calico/resources/v3/projectcalico.org/ippools/{name}", json.dumps(doc))


def put_node(kv, name: str, labels: dict | None = None) -> None:
    doc = {"apiVersion": "projectcalico.org/v3", "kind": "Node",
           "metadata": {"name": name, "labels": labels or {}}, "spec": {}}
    kv.put(f"/calico/resources/v3/projectcalico.org/nodes/{name}", json.dumps(doc))


def ipam_keys(kv) -> dict[str, list[str]]:
    out = {}
    for part in ("assignment", "handle", "host"):
        kvs, _ = kv.get_prefix(f"/calico/ipam/v2/{part}/")
        out[part] = [k.key for k in kvs]
    return out


def allocated(kv) -> list[tuple[str, str]]:
    """(ip, handle) of every allocation in every block."""
    from libcalico_py.ipam.block import Block
    kvs, _ = kv.get_prefix("/calico/ipam/v2/assignment/")
    out = []
    for k in kvs:
        out += [(str(ip), h) for ip, h in Block.from_json(k.value).allocated_ips()]
    return out
