"""`make demo`: a 3-node lab showing default-deny policy authoring changing real traffic.

Brings up the lab, creates two namespaces with pods spread over the nodes, prints the
all-open connectivity matrix, applies a namespace default-deny (examples/), shows the
namespace closed, applies an allow policy for one app and port, shows exactly that path
open, then shows `node status` on one node and the iptables chains programmed for one
pod. Tears down at the end unless --keep.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

LAB = "demo"
PORT = 8080
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB_BIN = os.path.join(os.path.dirname(sys.executable), "calico-lab")
PODS = [  # namespace/pod, node, labels
    ("prod/frontend", "node1", ["app=frontend"]),
    ("prod/backend", "node2", ["app=backend"]),
    ("prod/db", "node3", ["app=db"]),
    ("dev/tester", "node3", ["app=tester"]),
    ("dev/debug", "node1", ["app=debug"]),
]


def step(title: str) -> None:
    print(f"\n\033[1m== {title}\033[0m" if sys.stdout.isatty() else f"\n== {title}", flush=True)


def lab(*args: str, check: bool = True, quiet: bool = False) -> subprocess.CompletedProcess:
    p = subprocess.run([LAB_BIN, *args], capture_output=True, text=True)
    if not quiet:
        sys.stdout.write(p.stdout)
    sys.stderr.write(p.stderr)
    if check and p.returncode != 0:
        raise SystemExit(f"calico-lab {' '.join(args)} failed ({p.returncode})")
    return p


def show_matrix(expect_change_from: str | None = None, settle: float = 15.0) -> str:
    """Print the TCP matrix once it has changed from the previous one and reads the same
    twice in a row (a policy reaches the nodes one after another, and a half-applied
    matrix would mislead), or after `settle` seconds."""
    deadline = time.monotonic() + settle
    last = None
    while True:
        out = lab("matrix", "--name", LAB, "--port", str(PORT), "--protocol", "TCP", quiet=True).stdout
        changed = expect_change_from is None or out != expect_change_from
        if (changed and out == last) or expect_change_from is None or time.monotonic() > deadline:
            break
        last = out
        time.sleep(0.3)
    print(out, end="")
    return out


def chains_for_pod(pod: str) -> str:
    """The iptables rules felixpy programmed for one pod, from whichever backend it uses."""
    import json
    st = json.loads(lab("status", "--name", LAB, "-o", "json", quiet=True).stdout)
    node = st["pods"][pod]["node"]
    wep = json.loads(lab("ctl", "--name", LAB, "--", "get", "wep", "-n", pod.split("/")[0], "-o", "json",
                         quiet=True).stdout)
    iface = next(i["spec"]["interfaceName"] for i in wep["items"] if i["spec"].get("pod") == pod.split("/")[1])
    for save in ("iptables-nft-save", "iptables-legacy-save"):
        p = subprocess.run(["ip", "netns", "exec", f"{LAB}-{node}", save, "-t", "filter"],
                           capture_output=True, text=True)
        lines = [ln for ln in p.stdout.splitlines()
                 if f"cali-tw-{iface}" in ln or f"cali-fw-{iface}" in ln or ln.startswith("-A cali-pi-")
                 or ln.startswith("-A cali-po-")]
        if lines:
            return f"# {save} in {LAB}-{node}, interface {iface}\n" + "\n".join(lines)
    return f"(no chains found for {iface})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="leave the lab running")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("make demo must run as root (it creates network namespaces)", file=sys.stderr)
        return 1
    t0 = time.monotonic()
    lab("gc", quiet=True)
    lab("down", "--name", LAB, check=False, quiet=True)
    ok = False
    try:
        step("Bring up a 3-node cluster (etcd, felixpy, confdpy + BIRD, CNI) in network namespaces")
        lab("up", "--name", LAB, "--nodes", "3")
        step("Two namespaces, five pods spread over the nodes (created through the CNI plugin)")
        lab("namespace", "add", "--name", LAB, "prod", "--label", "env=prod")
        lab("namespace", "add", "--name", LAB, "dev", "--label", "env=dev")
        for key, node, labels in PODS:
            lab("pod", "add", "--name", LAB, key, "--node", node, *sum((["--label", x] for x in labels), []),
                "--port", f"http:TCP:{PORT}")
        step(f"Pods are open until a policy selects them: TCP/{PORT} matrix ('.' open, 'X' blocked)")
        before = show_matrix()
        step("Apply examples/namespace-default-deny.yaml: everything in prod is closed, both ways")
        subprocess.run([LAB_BIN, "ctl", "--name", LAB, "--", "apply", "-f", "-"], check=True,
                       stdin=open(os.path.join(ROOT, "examples", "namespace-default-deny.yaml")))
        closed = show_matrix(before)
        step("Apply examples/allow-frontend-to-backend.yaml: exactly prod/frontend -> prod/backend:8080 opens")
        subprocess.run([LAB_BIN, "ctl", "--name", LAB, "--", "apply", "-f", "-"], check=True,
                       stdin=open(os.path.join(ROOT, "examples", "allow-frontend-to-backend.yaml")))
        show_matrix(closed)
        step("calicoctl-py node status on node1 (BGP sessions read from its BIRD socket)")
        env_sock = os.path.join("/run/calico-lab", LAB, "node1", "run", "bird.ctl")
        p = subprocess.run(["ip", "netns", "exec", f"{LAB}-node1",
                            os.path.join(os.path.dirname(sys.executable), "calicoctl-py"), "node", "status",
                            "--bird-socket", env_sock], capture_output=True, text=True)
        print(p.stdout + p.stderr, end="")
        step("The chains felixpy programmed for prod/backend")
        print(chains_for_pod("prod/backend"))
        ok = True
    finally:
        print(f"\n(demo took {time.monotonic() - t0:.1f} s)")
        if args.keep and ok:
            print(f"\nThe lab is still running. Explore it with:\n"
                  f"  calico-lab status --name {LAB}\n"
                  f"  calico-lab matrix --name {LAB} --port {PORT}\n"
                  f"  calico-lab ctl --name {LAB} -- get networkpolicy -A -o wide\n"
                  f"  calico-lab exec --name {LAB} node1 -- iptables-save\n"
                  f"  calico-lab down --name {LAB}     # when done\n"
                  f"(the commands are in {os.path.dirname(sys.executable)})")
        else:
            lab("down", "--name", LAB, check=False)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
