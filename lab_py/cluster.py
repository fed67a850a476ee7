"""Bringing a lab up and down: the fabric namespace with its bridge and etcd, one
namespace per node running calico-node-py, and the cleanup of all of it (`down`, `gc`)."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

from lab_py import netns, state
from lab_py.state import FABRIC_NET, Lab, Node

READY_TIMEOUT = 90.0
FELIX_HEALTH_PORT = 9099
SIGNATURE = "calico-lab:"   # alias of the fabric bridge: how gc recognises a lab it did not record


def owns_namespace(name: str, ns: str) -> bool:
    """True for the namespaces lab `name` creates: <name>-fabric, <name>-nodeN, <name>-p-<ns>-<pod>."""
    rest = ns[len(name) + 1:] if ns.startswith(f"{name}-") else None
    return rest is not None and (rest == "fabric" or (rest.startswith("node") and rest[4:].isdigit())
                                 or rest.startswith("p-"))


def is_lab_fabric(ns: str) -> str | None:
    """The lab name if `ns` is a fabric namespace made by calico-lab (its bridge carries our alias)."""
    if not ns.endswith("-fabric"):
        return None
    p = netns.sh("ip", "-n", ns, "-o", "link", "show", "br0", check=False)
    name = ns[:-len("-fabric")]
    return name if p.returncode == 0 and f"alias {SIGNATURE}{name}" in p.stdout else None


def _bin(name: str) -> str:
    return os.path.join(os.path.dirname(sys.executable), name)


def _wait(what: str, check, timeout: float, interval: float = 0.25) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def _start_fabric(lab: Lab) -> None:
    ns = lab.fabric_ns
    netns.add(ns)
    netns.sh("ip", "-n", ns, "link", "add", "br0", "type", "bridge")
    netns.sh("ip", "-n", ns, "addr", "add", f"{FABRIC_NET}.1/24", "dev", "br0")
    netns.sh("ip", "-n", ns, "link", "set", "br0", "up")
    netns.sh("ip", "-n", ns, "link", "set", "br0", "alias", f"{SIGNATURE}{lab.name}")
    data = os.path.join(lab.dir, "etcd")
    os.makedirs(data, exist_ok=True)
    client = f"http://{FABRIC_NET}.1:{state.ETCD_PORT}"
    lab.etcd_pid = netns.spawn(ns, [
        shutil.which("etcd") or "etcd", "--name", f"{lab.name}-etcd", "--data-dir", os.path.join(data, "data"),
        "--listen-client-urls", f"{client},http://127.0.0.1:{state.ETCD_PORT}",
        "--advertise-client-urls", client,
        "--listen-peer-urls", "http://127.0.0.1:2380", "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
        "--initial-cluster", f"{lab.name}-etcd=http://127.0.0.1:2380", "--logger", "zap",
        "--log-outputs", "stderr"], os.path.join(lab.dir, "etcd.log"))
    _wait("etcd", lambda: netns.in_ns(ns, "etcdctl", "--endpoints", client, "endpoint", "health",
                                      check=False, env=dict(os.environ, ETCDCTL_API="3")).returncode == 0,
          30)


def node_env(lab: Lab, node: Node) -> dict:
    d = node.run_dir
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ETCD_", "FELIX_", "CALICO_"))}
    env.update({
        "NODENAME": node.name, "IP": node.address, "ETCD_ENDPOINTS": lab.etcd_endpoint,
        "CALICO_IPV4POOL_CIDR": lab.pool, "CALICO_IPV4POOL_NAT_OUTGOING": "true",
        "CALICO_RUN_DIR": os.path.join(d, "run"), "CALICO_STATE_DIR": os.path.join(d, "state"),
        "CALICO_CONFD_DIR": os.path.join(d, "confd"), "CALICO_LOG_DIR": os.path.join(d, "log"),
        "CNI_BIN_DIR": os.path.join(d, "cni", "bin"), "CNI_CONF_DIR": os.path.join(d, "cni", "net.d"),
        "FELIX_HEALTHENABLED": "true", "FELIX_DEFAULTENDPOINTTOHOSTACTION": "ACCEPT",
        "FELIX_IPTABLESREFRESHINTERVAL": "30", "FELIX_LOGSEVERITYSCREEN": "Info",
    })
    return env


def _add_node(lab: Lab, index: int) -> Node:
    name = f"node{index}"
    ns = lab.node_ns(name)
    netns.add(ns)
    netns.veth(ns, "eth0", lab.fabric_ns, name)
    netns.sh("ip", "-n", lab.fabric_ns, "link", "set", name, "master", "br0")
    address = f"{FABRIC_NET}.{10 + index}/24"
    netns.sh("ip", "-n", ns, "addr", "add", address, "dev", "eth0")
    # A default route makes the kernel answer pods' proxy-ARP for 169.254.1.1.
    netns.sh("ip", "-n", ns, "route", "add", "default", "via", f"{FABRIC_NET}.1")
    netns.in_ns(ns, "sysctl", "-qw", "net.ipv4.ip_forward=1")
    node = Node(name, ns, address, os.path.join(lab.dir, name))
    for sub in ("run", "state", "confd", "log", "cni/bin", "cni/net.d"):
        os.makedirs(os.path.join(node.run_dir, sub), exist_ok=True)
    return node


def start_node(lab: Lab, node: Node) -> None:
    node.pid = netns.spawn(node.netns, [_bin("calico-node-py")],
                           os.path.join(node.run_dir, "log", "calico-node.log"), env=node_env(lab, node))


def node_ready(lab: Lab, node: Node) -> bool:
    """What `calico-node-py --check ready` checks (felixpy's /readiness answers 200 and
    BIRD answers on its socket), done in-process: polled often, a subprocess per node
    and poll would cost more CPU than the check itself."""
    import http.client
    import socket

    from libcalico_py.birdctl import BirdClient, BirdError

    from lab_py.probe import InNetns
    if not netns.alive(node.pid):
        return False
    try:
        with InNetns(node.netns):
            sock = socket.create_connection(("127.0.0.1", FELIX_HEALTH_PORT), timeout=2)
        conn = http.client.HTTPConnection("127.0.0.1", FELIX_HEALTH_PORT, timeout=2)
        conn.sock = sock
        try:
            conn.request("GET", "/readiness")
            if conn.getresponse().status != 200:
                return False
        finally:
            conn.close()
        BirdClient(os.path.join(node.run_dir, "run", "bird.ctl"), timeout=2).show_status()
        from node_py.supervisor import STATUS_FILE, supervised_problems
        return not supervised_problems(os.path.join(node.run_dir, "run", STATUS_FILE))
    except (OSError, http.client.HTTPException, BirdError):
        return False


def up(name: str, nodes: int, pool: str | None, progress) -> Lab:
    state.validate_name(name)
    if os.path.exists(state.state_path(name)) or netns.exists(f"{name}-fabric"):
        raise RuntimeError(f"lab {name!r} already exists (calico-lab down --name {name}, or gc)")
    lab = Lab(name, pool or state.DEFAULT_POOL)
    os.makedirs(lab.dir, exist_ok=True)
    try:
        t0 = time.monotonic()
        progress(f"[{name}] fabric namespace, bridge and etcd ...")
        _start_fabric(lab)
        state.save(lab)
        for i in range(1, nodes + 1):
            node = _add_node(lab, i)
            lab.nodes[node.name] = node
            start_node(lab, node)
            progress(f"[{name}] {node.name}: {node.address} calico-node-py started")
            state.save(lab)
        for node in lab.nodes.values():
            _wait(f"{node.name} to be ready (see {node.run_dir}/log)", lambda n=node: node_ready(lab, n),
                  READY_TIMEOUT, 0.5)
            progress(f"[{name}] {node.name} ready")
        lab.complete = True
        progress(f"[{name}] up: {nodes} node(s), pool {lab.pool}, etcd {lab.etcd_endpoint} "
                 f"in {time.monotonic() - t0:.1f} s")
        return lab
    except BaseException:
        state.save(lab)
        progress(f"[{name}] up failed; the half-built lab is left for inspection "
                 f"(logs in {lab.dir}); remove it with: calico-lab down --name {name}")
        raise


def _stop(pid: int | None, grace: float = 5.0) -> None:
    if not netns.alive(pid):
        return
    netns.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and netns.alive(pid):
        time.sleep(0.1)
    netns.kill(pid, signal.SIGKILL)


def down(name: str, progress=lambda m: None) -> None:
    """Remove everything the lab made. Works on a half-built or crashed lab too."""
    try:
        lab = state.load(name)
    except state.LabNotFound:
        lab = Lab(name)
    for pod in lab.pods.values():
        _stop(pod.server_pid, 0.5)
    for node in lab.nodes.values():
        _stop(node.pid)
    _stop(lab.etcd_pid, 2.0)
    for ns in netns.list_all():
        if owns_namespace(name, ns):
            netns.delete(ns)
    shutil.rmtree(os.path.join(state.LAB_ROOT, name), ignore_errors=True)
    progress(f"[{name}] down")


def crashed(lab: Lab) -> str | None:
    """Why the lab counts as crashed, or None when it is a working lab."""
    if not lab.complete:
        return "its `up` never finished"
    if not netns.alive(lab.etcd_pid):
        return "its etcd is not running"
    if lab.nodes and not any(netns.alive(n.pid) for n in lab.nodes.values()):
        return "none of its nodes is running"
    return None


def gc(progress=lambda m: None) -> list[str]:
    """Remove crashed labs (see `crashed`; a lab another calico-lab call is working on is
    left alone) and the namespaces of labs whose state is gone (recognised by the fabric
    bridge's alias, so nobody else's namespaces are touched)."""
    removed = []
    for name in state.known_labs():
        if state.in_use(name):
            continue
        try:
            why = crashed(state.load(name))
        except (state.LabNotFound, ValueError, KeyError, TypeError):
            why = "its state is missing or unreadable"
        if why:
            progress(f"[{name}] crashed: {why}")
            down(name, progress)
            removed.append(name)
    live = set(state.known_labs())
    for ns in netns.list_all():
        name = is_lab_fabric(ns)
        if name and name not in live:
            down(name, progress)
            removed.append(name)
    return removed


def status(name: str) -> dict:
    lab = state.load(name)
    return {
        "name": lab.name, "pool": lab.pool, "etcd": {"endpoint": lab.etcd_endpoint,
                                                     "running": netns.alive(lab.etcd_pid)},
        "nodes": {n.name: {"address": n.address, "netns": n.netns, "running": netns.alive(n.pid),
                           "ready": node_ready(lab, n)} for n in lab.nodes.values()},
        "namespaces": lab.namespaces,
        "pods": {p.key: {"node": p.node, "ip": p.ip, "labels": p.labels, "netns": p.netns}
                 for p in lab.pods.values()},
    }


def calicoctl(lab: Lab, args: list[str], input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """calicoctl-py run inside the fabric namespace, against the lab's etcd."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ETCD_", "CALICO_"))}
    env.update({"ETCD_ENDPOINTS": f"http://127.0.0.1:{state.ETCD_PORT}", "DATASTORE_TYPE": "etcdv3"})
    return netns.in_ns(lab.fabric_ns, _bin("calicoctl-py"), *args, input=input, check=check, env=env)
