"""Status written back to etcd: per-endpoint status, so realized state is observable, and
Felix's own periodic liveness report.

After each successful apply the loop hands over {WorkloadEndpointID: "up"|"down"}; this
reporter writes `/calico/felix/v2/no-region/host/<host>/workload/<orch>/<workload>/endpoint/<ep>`
= {"status": ...} for changed ones and deletes the keys of endpoints that went away. Writes run
on their own thread so an etcd outage never blocks programming; failed writes stay pending and
are retried with backoff, so after an outage the stored statuses converge.

The key's orchestrator / workload / endpoint come from the WorkloadEndpoint name, which Calico
builds as `<node>-<orchestrator>-<workload or pod>-<endpoint>` with every `-` inside a part
doubled; for k8s the workload is `<namespace>/<pod>`.
"""
from __future__ import annotations

import datetime
import json
import logging
import re
import threading
import time

from libcalico_py.errors import CalicoError

log = logging.getLogger(__name__)

STATUS_PREFIX = "/calico/felix/v2/no-region/host/"


def split_wep_name(name: str) -> list[str]:
    """Split a WEP name on single dashes, turning `--` back into `-`."""
    parts = re.split(r"(?<!-)-(?!-)", name)
    return [p.replace("--", "-") for p in parts]


def status_key(hostname: str, namespace: str, wep_name: str) -> str:
    parts = split_wep_name(wep_name)
    if len(parts) == 4:
        _, orch, workload, endpoint = parts
    else:
        orch, workload, endpoint = "unknown", wep_name, "eth0"
    if orch == "k8s" and namespace:
        workload = f"{namespace}/{workload}"
    return f"{STATUS_PREFIX}{hostname}/workload/{orch}/{workload}/endpoint/{endpoint}"


class StatusReporter:
    def __init__(self, kv, hostname: str, min_backoff: float = 0.2, max_backoff: float = 5.0):
        self.kv = kv
        self.hostname = hostname
        self._lock = threading.Condition()
        self._wanted: dict[str, str | None] = {}      # key -> status (None = delete)
        self._written: dict[str, str | None] = {}
        self._stop = False
        self._min, self._max = min_backoff, max_backoff
        self._thread = threading.Thread(target=self._run, name="status-reporter", daemon=True)
        self.errors = 0

    def start(self) -> "StatusReporter":
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            self._stop = True
            self._lock.notify()
        self._thread.join(5)

    def report(self, statuses: dict) -> None:
        """The complete current set: WorkloadEndpointID -> "up" | "down"."""
        want = {status_key(self.hostname, eid.namespace, eid.name): st for eid, st in statuses.items()}
        with self._lock:
            for key in list(self._wanted):
                if key not in want:
                    self._wanted[key] = None
            self._wanted.update(want)
            self._lock.notify()

    def pending(self) -> dict:
        with self._lock:
            return {k: v for k, v in self._wanted.items() if self._written.get(k, "absent") != v}

    def _run(self) -> None:
        backoff = self._min
        while True:
            with self._lock:
                while not self._stop and not self.pending():
                    self._lock.wait()
                if self._stop:
                    return
                todo = self.pending()
            try:
                for key, status in todo.items():
                    if status is None:
                        self.kv.delete(key)
                    else:
                        self.kv.put(key, json.dumps({"status": status}))
                    with self._lock:
                        self._written[key] = status
                        if status is None and self._wanted.get(key, "x") is None:
                            del self._wanted[key]
                            self._written.pop(key, None)
                    log.debug("endpoint status %s -> %s", key, status)
                backoff = self._min
            except CalicoError as exc:   # datastore unavailable or failed: keep pending, retry later
                self.errors += 1
                log.warning("writing endpoint status failed (%s); retrying in %.1fs", exc, backoff)
                with self._lock:
                    self._lock.wait(backoff)
                backoff = min(backoff * 2, self._max)


class FelixStatusReporter:
    """Felix's liveness report (calico.md §1.3): every `interval` seconds, once the first
    complete programming is done, write `/calico/felix/v2/no-region/host/<host>/status` with an
    etcd lease of `ttl` seconds and `.../last_reported_status` without one, both
    {"time": RFC3339, "uptime": seconds, "first_update": true only in the first report}.
    An interval of 0 disables it (what calico-node configures by default)."""

    def __init__(self, kv, hostname: str, interval: float, ttl: float, ready_event: threading.Event):
        self.kv, self.hostname, self.interval, self.ttl = kv, hostname, interval, ttl
        self.ready_event = ready_event
        self._stop = threading.Event()
        self._start = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="felix-status", daemon=True)
        self.reports = 0

    def start(self) -> "FelixStatusReporter":
        if self.interval > 0:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def _run(self) -> None:
        while not self.ready_event.wait(0.5):
            if self._stop.is_set():
                return
        base = f"{STATUS_PREFIX}{self.hostname}"
        while not self._stop.is_set():
            value = json.dumps({"time": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                                "uptime": round(time.monotonic() - self._start, 3),
                                "first_update": self.reports == 0})
            try:
                self.kv.put(f"{base}/status", value, lease_ttl=max(1, int(self.ttl)))
                self.kv.put(f"{base}/last_reported_status", value)
                self.reports += 1
            except CalicoError as exc:
                log.warning("felix status report failed (%s); next attempt in %.0fs", exc, self.interval)
            self._stop.wait(self.interval)
