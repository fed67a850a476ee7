"""A one-node "cluster" in namespaces for felixpy packet tests.

    netns <run>-node:  etcd (127.0.0.1, its own), felixpy, uplink veth up0/up1 with a default
                       route (the kernel only proxy-ARPs for 169.254.1.1 when it would route it
                       out of another interface, cni.md "Pod wiring")
       ├── veth cali<hash> ── netns <run>-<pod>: eth0 <ip>/32, default via 169.254.1.1,
       └── ...                                   pod_agent.py (servers + probe loop)

etcd runs inside the node namespace because a process in another namespace cannot reach the
root namespace's loopback; the test process writes to it with `etcdctl` through
`ip netns exec`. Resources are built with libcalico_py.model (validated, Calico JSON) and
stored under libcalico_py.datastore.keys paths, exactly what calicoctl would write.
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from libcalico_py import model
from libcalico_py.datastore.keys import resource_key
from tests.fixtures.etcd import EtcdServer

VENV_BIN = os.path.dirname(sys.executable)
AGENT = os.path.join(os.path.dirname(__file__), "pod_agent.py")
BACKENDS = {"nft": ("NFT", "restore"), "legacy": ("Legacy", "restore"), "legacy-iptc": ("Legacy", "iptc")}


class EtcdCtl:
    def __init__(self, ns: str, endpoint: str, tls: dict | None = None):
        self.ns, self.endpoint = ns, endpoint
        self.tls_args = ([f"--cacert={tls['ca.pem']}", f"--cert={tls['client.pem']}", f"--key={tls['client.key']}"]
                         if tls else [])

    def _run(self, *args: str, stdin: str | None = None, check: bool = True, retry_for: float = 10.0) -> str:
        """etcdctl through `ip netns exec`; retried while a cluster elects a new leader."""
        deadline = time.monotonic() + retry_for
        while True:
            res = subprocess.run(["ip", "netns", "exec", self.ns, "etcdctl", "--endpoints", self.endpoint,
                                  "--command-timeout=3s", *self.tls_args, *args], input=stdin, capture_output=True, text=True,
                                 env={**os.environ, "ETCDCTL_API": "3"})
            if res.returncode == 0 or not check:
                return res.stdout
            if time.monotonic() > deadline:
                raise RuntimeError(f"etcdctl {args[0]} failed: {res.stderr}")
            time.sleep(0.2)

    def put(self, key: str, value: str) -> None:
        self._run("put", key, stdin=value)

    def delete(self, key: str) -> None:
        self._run("del", key)

    def get(self, key: str) -> str | None:
        out = self._run("get", key, "--print-value-only")
        return out.rstrip("\n") if out else None

    def keys(self, prefix: str) -> list[str]:
        return self._run("get", prefix, "--prefix", "--keys-only").split()

    def apply(self, doc: dict) -> str:
        r = model.load(doc)
        key = resource_key(r.kind, r.metadata.name, r.metadata.namespace)
        self.put(key, json.dumps(r.to_dict()))
        return key

    def remove(self, kind: str, name: str, namespace: str | None = None) -> None:
        self.delete(resource_key(kind, name, namespace))


class Pod:
    def __init__(self, node: "FelixNode", name: str, ip: str, namespace: str, labels: dict,
                 ports: list, profiles: list, tcp_ports: str, udp_ports: str):
        self.node, self.name, self.ip, self.namespace = node, name, ip, namespace
        self.labels, self.ports, self.profiles = dict(labels), list(ports), list(profiles)
        self.iface = "cali" + hashlib.sha1(f"{namespace}.{name}".encode()).hexdigest()[:11]
        self.ns = node.factory(name)
        f = node.factory
        f.veth(node.ns, self.iface, self.ns, "eth0")
        f.run(node.ns, "ip", "link", "set", self.iface, "address", "ee:ee:ee:ee:ee:ee")
        f.run(self.ns, "ip", "addr", "add", f"{ip}/32", "dev", "eth0")
        f.run(self.ns, "ip", "route", "add", "169.254.1.1", "dev", "eth0", "scope", "link")
        f.run(self.ns, "ip", "route", "add", "default", "via", "169.254.1.1", "dev", "eth0")
        self.agent = f.spawn(self.ns, [sys.executable, AGENT, "--tcp", tcp_ports, "--udp", udp_ports],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        assert self.agent.stdout.readline().strip() == "ready"

    @property
    def wep_name(self) -> str:
        return f"{self.node.hostname}-k8s-{self.name.replace('-', '--')}-eth0"

    def wep_doc(self) -> dict:
        return {"apiVersion": "projectcalico.org/v3", "kind": "WorkloadEndpoint",
                "metadata": {"name": self.wep_name, "namespace": self.namespace, "labels": self.labels},
                "spec": {"orchestrator": "k8s", "node": self.node.hostname, "pod": self.name,
                         "endpoint": "eth0", "containerID": hashlib.sha1(self.name.encode()).hexdigest()[:12],
                         "interfaceName": self.iface, "ipNetworks": [f"{self.ip}/32"],
                         "profiles": self.profiles, "ports": self.ports}}

    def publish(self) -> None:
        self.node.etcdctl.apply(self.wep_doc())

    def set_labels(self, labels: dict) -> None:
        self.labels = dict(labels)
        self.publish()

    def cmd(self, line: str) -> str:
        self.agent.stdin.write(line + "\n")
        return self.agent.stdout.readline().strip()

    def can(self, proto: str, dst, port: int | None = None, timeout: float = 0.4) -> bool:
        ip = dst.ip if isinstance(dst, Pod) else dst
        if proto == "icmp":
            return self.cmd(f"icmp {ip} {timeout}") == "1"
        return self.cmd(f"{proto} {ip} {port} {timeout}") == "1"


class Outside:
    """The host beyond the node's uplink: a probe agent with servers, no Calico."""

    def __init__(self, factory, ns: str):
        self.name, self.ns, self.ip = "outside", ns, "10.255.0.2"
        self.agent = factory.spawn(ns, [sys.executable, AGENT, "--tcp", "8080", "--udp", "5353"],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        assert self.agent.stdout.readline().strip() == "ready"

    cmd = Pod.cmd


class FelixNode:
    def __init__(self, factory, hostname: str = "node1", backend: str = "nft", env: dict | None = None,
                 etcd_members: int = 1, external: bool = False, tls: dict | None = None):
        self.factory, self.hostname, self.backend = factory, hostname, backend
        self.ns = factory("node")
        self.external: Pod | None = None
        if external:                    # the uplink leads to an "outside" namespace at 10.255.0.2
            ext_ns = factory("ext")
            factory.veth(self.ns, "up0", ext_ns, "eth0")
            factory.run(ext_ns, "ip", "addr", "add", "10.255.0.2/30", "dev", "eth0")
        else:
            factory.veth(self.ns, "up0", self.ns, "up1")
        factory.run(self.ns, "ip", "addr", "add", "10.255.0.1/30", "dev", "up0")
        factory.run(self.ns, "ip", "route", "add", "default", "via", "10.255.0.2", "dev", "up0")
        self.tls = tls
        tls_args = ["--cert-file", tls["server.pem"], "--key-file", tls["server.key"],
                    "--trusted-ca-file", tls["ca.pem"], "--client-cert-auth"] if tls else []
        self.etcd_members = [EtcdServer(name=f"m{i}", netns=self.ns, scheme="https" if tls else "http",
                                        extra_args=list(tls_args)) for i in range(etcd_members)]
        cluster = ",".join(f"{m.name}={m.peer_url}" for m in self.etcd_members)
        for m in self.etcd_members:
            m.initial_cluster, m.cluster_token = cluster, self.etcd_members[0].cluster_token
            m.start(wait=False)
        for m in self.etcd_members:
            m.wait_healthy()
        self.etcd = self.etcd_members[0]                       # the agent's first endpoint
        self.etcdctl = EtcdCtl(self.ns, self.etcd_members[-1].endpoint, tls)
        self.pods: dict[str, Pod] = {}
        self.felix: subprocess.Popen | None = None
        self.logdir = tempfile.mkdtemp(prefix="felixpy-test-")
        self.log_path = os.path.join(self.logdir, "felix.log")
        self.extra_env = dict(env or {})
        self.health_port = 19099
        self.metrics_port = 19091
        if external:
            self.external = Outside(factory, ext_ns)

    # ------------------------------------------------------------- the agent

    def env(self) -> dict:
        be, writer = BACKENDS[self.backend]
        return {**os.environ, "PYTHONUNBUFFERED": "1", "FELIX_DATASTORETYPE": "etcdv3",
                "FELIX_ETCDENDPOINTS": ",".join(m.endpoint for m in self.etcd_members), "FELIX_FELIXHOSTNAME": self.hostname,
                "FELIX_LOGSEVERITYSCREEN": "DEBUG" if os.environ.get("FELIXPY_TEST_DEBUG") else "INFO",
                "FELIX_IPTABLESBACKEND": be, "FELIX_IPTABLESWRITER": writer,
                "FELIX_HEALTHENABLED": "true", "FELIX_HEALTHHOST": "127.0.0.1",
                "FELIX_HEALTHPORT": str(self.health_port), "FELIX_PROMETHEUSMETRICSENABLED": "true",
                "FELIX_PROMETHEUSMETRICSHOST": "127.0.0.1", "FELIX_PROMETHEUSMETRICSPORT": str(self.metrics_port),
                **({"FELIX_ETCDCAFILE": self.tls["ca.pem"], "FELIX_ETCDCERTFILE": self.tls["client.pem"],
                    "FELIX_ETCDKEYFILE": self.tls["client.key"]} if self.tls else {}),
                **self.extra_env}

    def start_felix(self) -> subprocess.Popen:
        log = open(self.log_path, "ab")
        self.felix = self.factory.spawn(self.ns, [os.path.join(VENV_BIN, "felixpy")], env=self.env(),
                                        stdout=log, stderr=subprocess.STDOUT)
        log.close()
        return self.felix

    def close(self) -> None:
        self.kill_felix()
        for m in self.etcd_members:
            m.stop()
            m.cleanup()

    def kill_felix(self, sig: int = signal.SIGKILL) -> None:
        if self.felix and self.felix.poll() is None:
            os.killpg(self.felix.pid, sig)
            self.felix.wait(10)

    def log_tail(self, lines: int = 40) -> str:
        try:
            with open(self.log_path, errors="replace") as fh:
                return "".join(fh.readlines()[-lines:])
        except OSError:
            return "(no felix log)"

    def http(self, port: int, path: str) -> tuple[int, str]:
        res = subprocess.run(["ip", "netns", "exec", self.ns, "curl", "-s", "-m", "2", "-o", "-", "-w",
                              "\n%{http_code}", f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True)
        body, _, code = res.stdout.rpartition("\n")
        return int(code or 0), body

    def wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.http(self.health_port, "/readiness")[0] == 200:
                return
            if self.felix and self.felix.poll() is not None:
                raise AssertionError(f"felixpy exited with {self.felix.returncode}\n{self.log_tail()}")
            time.sleep(0.1)
        raise AssertionError(f"felixpy not ready within {timeout}s\n{self.log_tail()}")

    # ------------------------------------------------------------- kernel views

    def iptables_save(self, table: str = "filter") -> str:
        binary = "iptables-nft-save" if self.backend == "nft" else "iptables-legacy-save"
        return self.factory.run(self.ns, binary, "-t", table).stdout

    def iptables(self, *args: str, check: bool = True):
        binary = "iptables-nft" if self.backend == "nft" else "iptables-legacy"
        return self.factory.run(self.ns, binary, *args, check=check)

    # ------------------------------------------------------------- pods

    def add_pod(self, name: str, ip: str, labels: dict | None = None, namespace: str = "default",
                ports: list | None = None, profiles: list | None = None, tcp: str = "8080,9050,7070",
                udp: str = "5353") -> Pod:
        pod = Pod(self, name, ip, namespace, labels or {}, ports or [],
                  profiles if profiles is not None else [f"kns.{namespace}"], tcp, udp)
        self.pods[name] = pod
        pod.publish()
        return pod

    def allow_all_profile(self, namespace: str = "default") -> None:
        self.etcdctl.apply({"apiVersion": "projectcalico.org/v3", "kind": "Profile",
                            "metadata": {"name": f"kns.{namespace}"},
                            "spec": {"ingress": [{"action": "Allow"}], "egress": [{"action": "Allow"}],
                                     "labelsToApply": {"pcns.projectcalico.org/name": namespace}}})

    def expect(self, src: Pod, dst, proto: str, port: int | None, allowed: bool, timeout: float = 10.0) -> float:
        """Wait until src->dst gives the expected verdict; returns how long it took."""
        start = time.monotonic()
        while True:
            got = src.can(proto, dst, port)
            if got == allowed:
                return time.monotonic() - start
            if time.monotonic() - start > timeout:
                name = dst.name if isinstance(dst, Pod) else dst
                raise AssertionError(f"{src.name} -> {name} {proto}/{port}: expected "
                                     f"{'allowed' if allowed else 'denied'} within {timeout}s\n"
                                     f"--- felix log ---\n{self.log_tail()}\n--- filter ---\n"
                                     f"{self.iptables_save()[-4000:]}")
            time.sleep(0.05)
