"""Health reporting: /liveness and /readiness over HTTP (Felix's :9099 endpoints).

Components report into one `Health` object: the main loop heartbeats (liveness: the loop has
turned within `live_timeout`), and readiness is the AND of named conditions the loop sets —
"in-sync-applied" (the first complete snapshot is programmed), "datastore" (the syncer is
connected; false while etcd is unreachable), "dataplane" (the last apply succeeded).
Answers 200 or 503 with a small JSON body naming each condition.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

log = logging.getLogger(__name__)


class Health:
    def __init__(self, live_timeout: float = 30.0, conditions=("in-sync-applied", "datastore", "dataplane")):
        self.live_timeout = live_timeout
        self._lock = threading.Lock()
        self._last_beat = time.monotonic()
        self._ready = {c: False for c in conditions}
        self._reasons: dict[str, str] = {c: "not reported yet" for c in conditions}

    def heartbeat(self) -> None:
        self._last_beat = time.monotonic()

    def set_ready(self, condition: str, ready: bool, reason: str = "") -> None:
        with self._lock:
            if self._ready.get(condition) != ready:
                log.info("readiness %s: %s%s", condition, "ready" if ready else "NOT ready",
                         f" ({reason})" if reason else "")
            self._ready[condition] = ready
            self._reasons[condition] = reason

    @property
    def live(self) -> bool:
        return time.monotonic() - self._last_beat < self.live_timeout

    @property
    def ready(self) -> bool:
        with self._lock:
            return self.live and all(self._ready.values())

    def report(self) -> dict:
        with self._lock:
            return {"live": self.live, "ready": self.live and all(self._ready.values()),
                    "conditions": {c: {"ready": r, "reason": self._reasons.get(c, "")}
                                   for c, r in self._ready.items()}}


class HealthServer:
    """Serves `health` on host:port in a daemon thread."""

    def __init__(self, health: Health, host: str, port: int):
        self.health = health
        handler = self._handler()
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="health", daemon=True)

    def _handler(self):
        health = self.health

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server naming)
                path = self.path.split("?")[0]
                if path == "/liveness":
                    ok = health.live
                elif path == "/readiness":
                    ok = health.ready
                else:
                    self.send_error(404)
                    return
                body = json.dumps(health.report()).encode()
                self.send_response(200 if ok else 503)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        return Handler

    def start(self) -> "HealthServer":
        self.thread.start()
        log.info("health endpoints on %s:%d (/liveness, /readiness)", *self.httpd.server_address[:2])
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
