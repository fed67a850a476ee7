"""Prometheus metrics in the text exposition format (version 0.0.4), without a client library.

A `Registry` holds counters, gauges and histograms created explicitly by the daemon (no
import-time registration); `MetricsServer` serves `/metrics` on :9091 when
prometheusMetricsEnabled. Names follow Felix's where Felix has one
(felix_int_dataplane_apply_time_seconds, felix_resyncs_started, felix_active_local_endpoints,
felix_active_local_policies, felix_ipsets_calico).
"""
from __future__ import annotations

import bisect
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

log = logging.getLogger(__name__)

DEFAULT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _fmt(v: float) -> str:
    f = float(v)
    if f == float("inf"):
        return "+Inf"
    return str(int(f)) if f.is_integer() else repr(f)


class _Metric:
    kind = ""

    def __init__(self, name: str, help_text: str):
        self.name = name
        self.help = help_text
        self._lock = threading.Lock()

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]


class Counter(_Metric):
    kind = "counter"

    def __init__(self, name, help_text):
        super().__init__(name, help_text)
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        with self._lock:
            self.value += amount

    def render(self) -> list[str]:
        return self.header() + [f"{self.name} {_fmt(self.value)}"]


class Gauge(_Metric):
    kind = "gauge"

    def __init__(self, name, help_text):
        super().__init__(name, help_text)
        self.value = 0.0

    def set(self, value: float) -> None:
        self.value = value

    def render(self) -> list[str]:
        return self.header() + [f"{self.name} {_fmt(self.value)}"]


class Histogram(_Metric):
    kind = "histogram"

    def __init__(self, name, help_text, buckets=DEFAULT_BUCKETS):
        super().__init__(name, help_text)
        self.buckets = tuple(sorted(buckets))
        self.counts = [0] * (len(self.buckets) + 1)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        with self._lock:
            self.counts[bisect.bisect_left(self.buckets, value)] += 1
            self.sum += value
            self.count += 1

    def render(self) -> list[str]:
        lines = self.header()
        cumulative = 0
        for bound, n in zip(self.buckets + (float("inf"),), self.counts):
            cumulative += n
            lines.append(f'{self.name}_bucket{{le="{_fmt(bound)}"}} {cumulative}')
        lines.append(f"{self.name}_sum {_fmt(self.sum)}")
        lines.append(f"{self.name}_count {self.count}")
        return lines


class Registry:
    def __init__(self):
        self._metrics: dict[str, _Metric] = {}

    def _add(self, metric):
        if metric.name in self._metrics:
            raise ValueError(f"metric {metric.name} registered twice")
        self._metrics[metric.name] = metric
        return metric

    def counter(self, name: str, help_text: str) -> Counter:
        return self._add(Counter(name, help_text))

    def gauge(self, name: str, help_text: str) -> Gauge:
        return self._add(Gauge(name, help_text))

    def histogram(self, name: str, help_text: str, buckets=DEFAULT_BUCKETS) -> Histogram:
        return self._add(Histogram(name, help_text, buckets))

    def render(self) -> str:
        lines: list[str] = []
        for m in self._metrics.values():
            lines.extend(m.render())
        return "\n".join(lines) + "\n"


class FelixMetrics:
    """The agent's metric set."""

    def __init__(self, registry: Registry | None = None):
        r = self.registry = registry or Registry()
        self.active_endpoints = r.gauge("felix_active_local_endpoints", "Number of active local workload endpoints.")
        self.active_policies = r.gauge("felix_active_local_policies", "Number of active policies on this host.")
        self.active_profiles = r.gauge("felix_active_local_profiles", "Number of active profiles on this host.")
        self.ipsets = r.gauge("felix_ipsets_calico", "Number of Calico IP sets.")
        self.ipset_members = r.gauge("felix_ipset_members", "Total members of Calico IP sets.")
        self.apply_time = r.histogram("felix_int_dataplane_apply_time_seconds",
                                      "Time taken to apply a batch of dataplane updates.")
        self.resyncs = r.counter("felix_resyncs_started", "Number of times a datastore resync started.")
        self.update_latency = r.histogram("felix_update_to_applied_latency_seconds",
                                          "Time from receiving a datastore update to it being in the kernel.")
        self.failures = r.counter("felix_int_dataplane_failures", "Number of failed dataplane applies.")
        self.initial_resync = r.gauge("felix_int_dataplane_initial_resync_time_seconds",
                                      "Time from start to the first complete dataplane programming.")
        self.iptables_writes = r.counter("felix_iptables_restore_calls", "Number of iptables table writes.")
        self.updates = r.counter("felix_datastore_updates", "Datastore updates fed to the calculation graph.")
        self.revision = r.gauge("felix_datastore_revision", "Highest etcd revision fed to the calculation graph.")


class MetricsServer:
    def __init__(self, registry: Registry, host: str, port: int):
        reg = registry

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                if self.path.split("?")[0] != "/metrics":
                    self.send_error(404)
                    return
                body = reg.render().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="metrics", daemon=True)

    def start(self) -> "MetricsServer":
        self.thread.start()
        log.info("Prometheus metrics on %s:%d/metrics", *self.httpd.server_address[:2])
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
