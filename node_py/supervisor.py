"""Running felixpy, confdpy and BIRD, restarting whichever exits.

Restart backoff doubles from 1 s to 30 s and resets once a process has stayed up for a
minute, so a crash loop does not spin. SIGTERM/SIGINT stop all children (TERM, then KILL
after a grace period) and exit 0. The supervisor's view (pid, restarts, state) is written
to RUN_DIR/node-status.json for `calico-node-py --check` and for the lab.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

log = logging.getLogger("calico-node-py")
BACKOFF_MIN, BACKOFF_MAX, STABLE_AFTER, GRACE = 1.0, 30.0, 60.0, 5.0
STATUS_FILE = "node-status.json"


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict
    proc: subprocess.Popen | None = None
    restarts: int = 0
    backoff: float = BACKOFF_MIN
    started_at: float = 0.0
    next_start: float = 0.0
    log_path: str | None = None
    exits: list = field(default_factory=list)

    def start(self) -> None:
        out = open(self.log_path, "ab") if self.log_path else None
        try:
            self.proc = subprocess.Popen(self.argv, env=self.env, stdout=out or None,
                                         stderr=subprocess.STDOUT if out else None)
        finally:
            if out:
                out.close()
        self.started_at = time.monotonic()
        log.info("started %s (pid %d)", self.name, self.proc.pid)

    def poll(self, now: float) -> None:
        if self.proc is None:
            if now >= self.next_start:
                self.start()
            return
        code = self.proc.poll()
        if code is None:
            if now - self.started_at > STABLE_AFTER:
                self.backoff = BACKOFF_MIN
            return
        self.exits.append(code)
        log.warning("%s exited with %s; restarting in %.0f s", self.name, code, self.backoff)
        self.proc = None
        self.restarts += 1
        self.next_start = now + self.backoff
        self.backoff = min(self.backoff * 2, BACKOFF_MAX)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()

    def kill_if_alive(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Supervisor:
    def __init__(self, children: list[Child], status_path: str):
        self.children = children
        self.status_path = status_path
        self._stopping = False

    def _on_signal(self, signum, _frame) -> None:
        log.info("signal %d: shutting down", signum)
        self._stopping = True

    def write_status(self) -> None:
        state = {c.name: {"pid": c.proc.pid if c.proc else None,
                          "running": bool(c.proc and c.proc.poll() is None),
                          "restarts": c.restarts} for c in self.children}
        tmp = self.status_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(state, f)
        os.replace(tmp, self.status_path)

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        while not self._stopping:
            now = time.monotonic()
            for c in self.children:
                c.poll(now)
            self.write_status()
            time.sleep(0.2)
        for c in self.children:
            c.stop()
        deadline = time.monotonic() + GRACE
        while time.monotonic() < deadline and any(c.proc and c.proc.poll() is None for c in self.children):
            time.sleep(0.1)
        for c in self.children:
            c.kill_if_alive()
        self.write_status()
        return 0


def supervised_problems(status_path: str) -> list[str]:
    """Children the supervisor reports as not running (confdpy has no health endpoint of
    its own: the supervisor's view is what says it is up)."""
    try:
        with open(status_path) as f:
            children = json.load(f)
    except (OSError, ValueError) as e:
        return [f"supervisor status {status_path}: {e}"]
    return [f"{name} is not running (restarts: {c.get('restarts', 0)})"
            for name, c in sorted(children.items()) if not c.get("running")]


def bin_path(name: str) -> str:
    """Our console scripts live beside the interpreter running us."""
    local = os.path.join(os.path.dirname(sys.executable), name)
    return local if os.path.exists(local) else name
