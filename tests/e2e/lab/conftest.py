"""The e2e lab: one real `calico-lab` cluster shared by the tests in this folder.

Everything goes through the `calico-lab` command line, as a user would drive it: `up` with
3 nodes (etcd, calico-node-py running felixpy, confdpy and BIRD), the Kubernetes e2e
model (namespaces x, y, z labelled ns=<name>; pods a, b, c in each labelled pod=<name>,
spread so every namespace and every pod name spans the 3 nodes; container ports
serve-80-tcp, serve-80-udp, serve-81-tcp, serve-81-udp, plus `alt-80-tcp` on the b pods
only, for named-port cases), `matrix -o json` for verdicts, `ctl` for policies, and
`down` at the end of the session even when a test failed. Set CALICO_LAB_KEEP=1 to keep
the lab up for inspection afterwards.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
import yaml

from tests.e2e.lab.reachability import Reachability, diff, render

LAB_BIN = os.path.join(os.path.dirname(sys.executable), "calico-lab")
NAMESPACES = ("x", "y", "z")
POD_NAMES = ("a", "b", "c")
# Every namespace and every pod name is spread over the three nodes.
PLACEMENT = {"x/a": "node1", "x/b": "node2", "x/c": "node3",
             "y/a": "node2", "y/b": "node3", "y/c": "node1",
             "z/a": "node3", "z/b": "node1", "z/c": "node2"}
PODS = sorted(PLACEMENT)
PORTS = ["serve-80-tcp:TCP:80", "serve-80-udp:UDP:80", "serve-81-tcp:TCP:81", "serve-81-udp:UDP:81"]
EXTRA_PORTS = {"b": ["alt-80-tcp:TCP:80"]}
CONVERGE_TIMEOUT = 20.0
SETTLE = 1.0


class LabHandle:
    """A running lab, driven through the calico-lab CLI."""

    def __init__(self, name: str):
        self.name = name
        self.ips: dict[str, str] = {}
        self.pool = ""

    def cli(self, *args: str, input: str | None = None, check: bool = True,
            timeout: float = 180) -> subprocess.CompletedProcess:
        p = subprocess.run([LAB_BIN, *args], capture_output=True, text=True, input=input, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError(f"calico-lab {' '.join(args)} exited {p.returncode}:\n{p.stdout}{p.stderr}")
        return p

    def ctl(self, *args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        return self.cli("ctl", "--name", self.name, "--", *args, input=input, check=check)

    def status(self) -> dict:
        return json.loads(self.cli("status", "--name", self.name, "-o", "json").stdout)

    def apply(self, docs: list[dict]) -> None:
        self.ctl("apply", "-f", "-", input=yaml.safe_dump_all(docs))

    def delete(self, docs: list[dict], check: bool = True) -> bool:
        return self.ctl("delete", "-f", "-", input=yaml.safe_dump_all(docs), check=check).returncode == 0

    def matrix(self, port: int, protocol: str) -> dict[str, dict[str, bool]]:
        return json.loads(self.cli("matrix", "--name", self.name, "--port", str(port),
                                   "--protocol", protocol, "-o", "json").stdout)

    def wait_matrix(self, expected: Reachability | dict, port: int, protocol: str,
                    timeout: float = CONVERGE_TIMEOUT, what: str = "") -> None:
        """Poll the real matrix until it equals `expected`; fail with the pairs that differ."""
        want = expected.table() if isinstance(expected, Reachability) else expected
        deadline = time.monotonic() + timeout
        while True:
            got = self.matrix(port, protocol)
            if got == want:
                return
            if time.monotonic() > deadline:
                lines = diff(want, got)
                raise AssertionError(
                    f"{what} {protocol}/{port}: {len(lines)} pair(s) differ after {timeout:.0f} s\n"
                    + "\n".join(lines) + "\n\nexpected ('.' open, 'X' blocked; lower case = observed "
                    "differently):\n" + render(want, got) + self.log_tails())
            time.sleep(0.3)

    def log_tails(self, lines: int = 8) -> str:
        """The last warnings/errors of every node's felixpy, for a failure message."""
        root = os.environ.get("CALICO_LAB_ROOT", "/run/calico-lab")
        out = []
        for node in sorted(set(PLACEMENT.values())):
            path = os.path.join(root, self.name, node, "log", "felix.log")
            try:
                with open(path, errors="replace") as f:
                    bad = [ln.rstrip() for ln in f if "[WARNING]" in ln or "[ERROR]" in ln]
            except OSError:
                continue
            if bad:
                out.append(f"\n{path} (last warnings/errors):\n" + "\n".join(bad[-lines:]))
        return "".join(out)

    def baseline(self) -> Reachability:
        return Reachability(PODS)

    def remaining_policies(self) -> list[tuple[str, str, str]]:
        """(kind alias, namespace, name) of every policy left in the datastore."""
        left = []
        for alias, namespaced in (("knp", True), ("networkpolicy", True), ("globalnetworkpolicy", False)):
            args = ["get", alias, "-o", "json"] + (["-A"] if namespaced else [])
            for item in json.loads(self.ctl(*args).stdout).get("items", []):
                left.append((alias, item["metadata"].get("namespace", ""), item["metadata"]["name"]))
        return left

    def remove_all_policies(self) -> None:
        for alias, ns, name in self.remaining_policies():
            self.ctl("delete", alias, name, *(["-n", ns] if ns else []))


def _lab_name() -> str:
    return "e" + str(os.getpid())[-7:]


def _build(lab: LabHandle) -> None:
    lab.cli("up", "--name", lab.name, "--nodes", "3")
    for ns in NAMESPACES:
        lab.cli("namespace", "add", "--name", lab.name, ns, "--label", f"ns={ns}")
    for key in PODS:
        pod = key.split("/")[1]
        ports = sum((["--port", p] for p in PORTS + EXTRA_PORTS.get(pod, [])), [])
        lab.cli("pod", "add", "--name", lab.name, key, "--node", PLACEMENT[key], "--label", f"pod={pod}", *ports)
    st = lab.status()
    lab.ips = {k: p["ip"] for k, p in st["pods"].items()}
    lab.pool = st["pool"]
    assert {k: p["node"] for k, p in st["pods"].items()} == PLACEMENT
    assert all(n["ready"] for n in st["nodes"].values()), st["nodes"]


@pytest.fixture(scope="session")
def lab():
    if os.geteuid() != 0:
        pytest.fail("the e2e lab needs root (network namespaces)")
    handle = LabHandle(_lab_name())
    subprocess.run([LAB_BIN, "down", "--name", handle.name], capture_output=True)
    try:
        _build(handle)
        yield handle
    finally:
        if os.environ.get("CALICO_LAB_KEEP") != "1":
            subprocess.run([LAB_BIN, "down", "--name", handle.name], capture_output=True, timeout=120)


@pytest.fixture
def clean_lab(lab):
    """The lab with no policy at all, and the baseline verified, before and after the test."""
    lab.remove_all_policies()
    yield lab
    lab.remove_all_policies()
    lab.wait_matrix(lab.baseline(), 80, "TCP", what="baseline after the test")
