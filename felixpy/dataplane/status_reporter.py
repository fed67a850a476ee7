"""Endpoint status written back to etcd, so realized state is observable.

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

import json
import logging
import re
import threading

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
