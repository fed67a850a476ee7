"""A node whose felixpy and BIRD are killed (-9) is healed by calico-node-py's supervisor:
both come back (new PIDs in RUN_DIR/node-status.json), BGP sessions are Established
again, the restarted felixpy enforces a policy written while it was dead, and the pods
on that node are reachable again exactly as the policy says."""
import json
import os
import signal
import subprocess
import sys
import time

from tests.e2e.lab.conftest import PLACEMENT
from tests.e2e.lab.reachability import Reachability, from_, in_ns, named

NODE = "node2"
CALICOCTL = os.path.join(os.path.dirname(sys.executable), "calicoctl-py")
LAB_ROOT = os.environ.get("CALICO_LAB_ROOT", "/run/calico-lab")


def _status(lab) -> dict:
    with open(os.path.join(LAB_ROOT, lab.name, NODE, "run", "node-status.json")) as f:
        return json.load(f)


def _wait(what: str, check, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


def _bgp_established(lab) -> int:
    sock = os.path.join(LAB_ROOT, lab.name, NODE, "run", "bird.ctl")
    p = lab.cli("exec", "--name", lab.name, NODE, "--", CALICOCTL, "node", "status", "--bird-socket", sock,
                check=False)
    return p.stdout.count("Established") if p.returncode == 0 else 0


def test_lab_node_processes_killed_are_restarted(clean_lab):
    lab = clean_lab
    assert "x/b" in [k for k, n in PLACEMENT.items() if n == NODE]
    assert _bgp_established(lab) == 2
    before = _status(lab)
    victims = {name: before[name]["pid"] for name in ("felixpy", "bird")}
    assert all(before[n]["running"] for n in victims), before
    for pid in victims.values():
        os.kill(pid, signal.SIGKILL)
    # Written while felixpy on node2 is down: x/b only accepts its own namespace.
    lab.apply([{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": "b-from-x", "namespace": "x"},
                "spec": {"podSelector": {"matchLabels": {"pod": "b"}},
                         "ingress": [{"from": [{"podSelector": {}}]}]}}])

    def restarted():
        st = _status(lab)
        return all(st[n]["running"] and st[n]["pid"] != victims[n] and st[n]["restarts"] > before[n]["restarts"]
                   for n in victims) and st
    after = _wait("felixpy and bird to be restarted", restarted, 30)
    assert after["confdpy"]["pid"] == before["confdpy"]["pid"]
    _wait("BGP sessions of node2 Established again", lambda: _bgp_established(lab) == 2, 60)
    expected = Reachability(sorted(lab.ips)).ingress(named("x/b"), from_(in_ns("x")))
    lab.wait_matrix(expected, 80, "TCP", timeout=40, what="after node2 restart")
    lab.wait_matrix(expected, 81, "UDP", timeout=20, what="after node2 restart")
    ready = subprocess.run([os.path.join(os.path.dirname(sys.executable), "calico-lab"), "status", "--name",
                            lab.name, "-o", "json"], capture_output=True, text=True)
    assert json.loads(ready.stdout)["nodes"][NODE]["ready"]
