"""Thin wrappers over `ip netns` and friends. Everything happens inside namespaces the lab
created; veth pairs are created directly inside their namespaces so no interface ever
appears in the root namespace."""
from __future__ import annotations

import os
import signal
import subprocess


class CommandFailed(Exception):
    pass


def sh(*argv: str, check: bool = True, input: str | None = None, env=None) -> subprocess.CompletedProcess:
    p = subprocess.run(argv, capture_output=True, text=True, input=input, env=env)
    if check and p.returncode != 0:
        raise CommandFailed(f"{' '.join(argv)}: {(p.stderr or p.stdout).strip()}")
    return p


def in_ns(ns: str, *argv: str, **kw) -> subprocess.CompletedProcess:
    return sh("ip", "netns", "exec", ns, *argv, **kw)


def exists(ns: str) -> bool:
    return os.path.exists(f"/var/run/netns/{ns}")


def add(ns: str) -> None:
    sh("ip", "netns", "add", ns)
    sh("ip", "-n", ns, "link", "set", "lo", "up")


def delete(ns: str) -> None:
    """Kill what runs in the namespace (by PID), then remove it."""
    if not exists(ns):
        return
    pids = sh("ip", "netns", "pids", ns, check=False).stdout.split()
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass
    sh("ip", "netns", "del", ns, check=False)


def veth(ns_a: str, if_a: str, ns_b: str, if_b: str) -> None:
    sh("ip", "-n", ns_a, "link", "add", if_a, "type", "veth", "peer", "name", if_b, "netns", ns_b)
    sh("ip", "-n", ns_a, "link", "set", if_a, "up")
    sh("ip", "-n", ns_b, "link", "set", if_b, "up")


def list_all() -> list[str]:
    out = sh("ip", "netns", "list", check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def spawn(ns: str, argv: list[str], log_path: str, env=None) -> int:
    """Start a long-running process in `ns`, detached from us; returns its PID."""
    with open(log_path, "ab") as log:
        p = subprocess.Popen(["ip", "netns", "exec", ns, *argv], stdout=log, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True, env=env)
    return p.pid


def kill(pid: int | None, sig: int = signal.SIGTERM) -> None:
    if not pid:
        return
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0): look at its state.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False
