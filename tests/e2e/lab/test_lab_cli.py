"""calico-lab's own robustness: one clear line and exit 1 for bad input with nothing
changed, kubectl label semantics through the CLI, and cleanup of labs whose `up` was
killed half-way (`gc` and `down`), without touching a healthy lab."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.e2e.lab.conftest import LAB_BIN

LAB_ROOT = os.environ.get("CALICO_LAB_ROOT", "/run/calico-lab")


def _fails(lab, *args, match: str):
    p = lab.cli(*args, check=False)
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("calico-lab: "), p.stderr
    assert match in lines[0], lines[0]
    assert "Traceback" not in p.stdout + p.stderr


@pytest.mark.parametrize("args, match", [
    (["pod", "add", "--name", "{lab}", "x/new", "--node", "node9"], "node 'node9' is not in lab"),
    (["pod", "add", "--name", "{lab}", "x/a", "--node", "node1"], "pod x/a already exists"),
    (["pod", "add", "--name", "{lab}", "w/new", "--node", "node1"], "namespace 'w' does not exist"),
    (["pod", "add", "--name", "{lab}", "x/new", "--node", "node1", "--label", "bad key=v"], "invalid label 'bad key=v'"),
    (["pod", "add", "--name", "{lab}", "x/new", "--node", "node1", "--label", "novalue"], "expected key=value"),
    (["pod", "add", "--name", "{lab}", "x/new", "--node", "node1", "--port", "http:TCP:99999"], "1-65535"),
    (["pod", "add", "--name", "{lab}", "x/Bad", "--node", "node1"], "invalid pod name"),
    (["pod", "add", "--name", "{lab}", "xnew", "--node", "node1"], "expected NS/POD"),
    (["pod", "label", "--name", "{lab}", "x/a", "pod=zz"], "'pod' already has a value (a), and --overwrite is false"),
    (["pod", "label", "--name", "{lab}", "x/a", "pod=zz", "pod-"], "both modify and remove"),
    (["pod", "label", "--name", "{lab}", "x/nope", "k=v"], "pod x/nope does not exist"),
    (["pod", "del", "--name", "{lab}", "x/nope"], "pod x/nope does not exist"),
    (["namespace", "add", "--name", "{lab}", "x"], "namespace 'x' already exists"),
    (["namespace", "add", "--name", "{lab}", "Bad_ns"], "invalid namespace name"),
    (["namespace", "label", "--name", "{lab}", "y", "ns=q"], "'ns' already has a value (y)"),
    (["probe", "--name", "{lab}", "x/a", "x/nope", "--port", "80"], "pod x/nope does not exist"),
    (["exec", "--name", "{lab}", "node7", "--", "true"], "neither a node nor a pod"),
    (["status", "--name", "nolab0"], "no lab named 'nolab0'"),
    (["pod", "add", "--name", "nolab0", "x/a", "--node", "node1"], "no lab named 'nolab0'"),
    (["up", "--name", "Bad-Name"], "invalid lab name"),
    (["up", "--name", "{lab}"], "already exists"),
])
def test_lab_cli_bad_input_one_line_nothing_changed(lab, args, match):
    before = lab.status()
    _fails(lab, *[a.replace("{lab}", lab.name) for a in args], match=match)
    after = lab.status()
    assert after["pods"] == before["pods"] and after["namespaces"] == before["namespaces"]
    assert not os.path.exists(os.path.join(LAB_ROOT, "nolab0"))


def test_lab_cli_label_round_trip(lab):
    """kubectl semantics end to end: overwrite, removal of a missing key (a note, not an
    error), no-op, and the endpoint's labels in the datastore following."""
    name = lab.name
    assert "pod/z/c labeled" in lab.cli("pod", "label", "--name", name, "z/c", "tier=web").stdout
    assert "pod/z/c labeled" in lab.cli("pod", "label", "--name", name, "z/c", "tier=db", "--overwrite").stdout
    out = lab.cli("pod", "label", "--name", name, "z/c", "tier=db", "gone-").stdout
    assert 'label "gone" not found.' in out and "pod/z/c not labeled" in out
    weps = json.loads(lab.ctl("get", "wep", "-n", "z", "-o", "json").stdout)["items"]
    wep = next(w for w in weps if w["spec"]["pod"] == "c")
    assert wep["metadata"]["labels"]["tier"] == "db" and wep["metadata"]["labels"]["pod"] == "c"
    lab.cli("pod", "label", "--name", name, "z/c", "tier-")
    weps = json.loads(lab.ctl("get", "wep", "-n", "z", "-o", "json").stdout)["items"]
    wep = next(w for w in weps if w["spec"]["pod"] == "c")
    assert "tier" not in wep["metadata"]["labels"]
    assert lab.status()["pods"]["z/c"]["labels"] == {"pod": "c"}


def _kill_up_midway(name: str) -> None:
    """Start `up`, SIGKILL it once node1's calico-node-py is started (etcd and node running)."""
    p = subprocess.Popen([LAB_BIN, "up", "--name", name, "--nodes", "2"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    try:
        for line in p.stdout:
            if "node1:" in line and "started" in line:
                break
    finally:
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        p.stdout.close()


def _leftovers(name: str) -> list[str]:
    ns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split()
    left = [n for n in ns if n.startswith(f"{name}-")]
    if os.path.exists(os.path.join(LAB_ROOT, name)):
        left.append(os.path.join(LAB_ROOT, name))
    return left


def _pids(name: str) -> list[int]:
    with open(os.path.join(LAB_ROOT, name, "state.json")) as f:
        st = json.load(f)
    return [pid for pid in [st["etcd_pid"], *(n["pid"] for n in st["nodes"].values())] if pid]


def _dead(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] == "Z"
    except OSError:
        return True


@pytest.mark.parametrize("how", ["gc", "down"])
def test_lab_cleanup_of_half_built_lab(lab, how):
    name = ("g" if how == "gc" else "h") + str(os.getpid())[-7:]
    subprocess.run([LAB_BIN, "down", "--name", name], capture_output=True)
    _kill_up_midway(name)
    pids = _pids(name)
    assert pids and not any(_dead(p) for p in pids)
    assert f"{name}-fabric" in _leftovers(name)
    args = ["gc"] if how == "gc" else ["down", "--name", name]
    p = subprocess.run([LAB_BIN, *args], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    if how == "gc":
        assert f"[{name}] crashed: its `up` never finished" in p.stdout and name in p.stdout.splitlines()[-1]
        assert lab.name not in p.stdout.splitlines()[-1]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not all(_dead(p) for p in pids):
        time.sleep(0.1)
    assert all(_dead(p) for p in pids)
    assert _leftovers(name) == []
    assert all(n["ready"] for n in lab.status()["nodes"].values())     # the healthy lab was left alone


def test_lab_gc_leaves_foreign_namespaces_alone(lab):
    """A namespace that merely looks like a lab's (`*-fabric`, no calico-lab bridge) survives gc."""
    ns = "q" + str(os.getpid())[-7:] + "-fabric"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run([LAB_BIN, "gc"], capture_output=True, check=True, timeout=60)
        assert os.path.exists(f"/var/run/netns/{ns}")
    finally:
        subprocess.run(["ip", "netns", "del", ns])


def test_lab_cli_python_for_console_scripts():
    assert os.path.exists(LAB_BIN) and os.path.dirname(LAB_BIN) == os.path.dirname(sys.executable)


def test_lab_cli_probe_and_text_matrix(lab):
    """`probe` exits 0 when connected and 1 when not (port 82 is served by nobody);
    the text matrix is a header plus one row per pod."""
    ok = lab.cli("probe", "--name", lab.name, "x/a", "z/c", "--port", "80", "--protocol", "UDP", check=False)
    assert ok.returncode == 0 and "x/a -> z/c UDP/80: connected" in ok.stdout
    no = lab.cli("probe", "--name", lab.name, "x/a", "z/c", "--port", "82", check=False)
    assert no.returncode == 1 and "x/a -> z/c TCP/82: blocked" in no.stdout
    text = lab.cli("matrix", "--name", lab.name, "--port", "81").stdout.splitlines()
    assert text[0] == "TCP/81 (rows: from, columns: to)" and len(text) == 11
    assert all(row.split()[1:10] == ["."] * 9 for row in text[2:])
