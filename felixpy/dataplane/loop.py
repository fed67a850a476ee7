"""DataplaneLoop: the agent's main loop (STYLE.md C3, last paragraph).

    syncer thread --(Update batches, status)--> queue.Queue --> main thread:
        drain everything queued -> CalcGraph.on_updates/on_status -> CalcGraph.flush()
        -> messages to the managers (no I/O) -> if in sync, dirty and allowed: apply()

Invariants:
- Nothing is programmed before the graph's InSync: until then no dataplane even exists and
  messages are buffered, so a restarted agent never programs a partial snapshot (the rules a
  previous run left in the kernel stay in force meanwhile, and are adopted, not flushed).
- The dataplane is built at InSync from the environment merged over the datastore's
  FelixConfiguration (the backend choice needs both); later rule-affecting config changes
  re-render everything.
- Draining the whole queue before applying batches bursts (Felix's batching); a minimum gap
  between applies throttles under load.
- A failed apply is retried with exponential backoff; after `MaxIptablesFailures` consecutive
  iptables failures the loop returns non-zero so the supervisor restarts the agent (running
  on with unknown rules could leave pods open).
- Refresh timers (iptablesRefreshInterval, ipsetsRefreshInterval, routeRefreshInterval) force
  a read-back so drift made by hand is repaired; 0 disables a timer. As Felix, the tables are
  also re-read once iptablesPostWriteCheckInterval (5 s) after a write, which catches another
  program rewriting a table right after us (e.g. a concurrent iptables-restore without --noflush).
"""
from __future__ import annotations

import logging
import queue
import threading
import time

from felixpy.calc.messages import ConfigUpdate, InSync
from felixpy.config import RESTART_PARAMS, ConfigError, FelixConfig
from felixpy.ipsets.ipsets import IPSetError
from felixpy.iptables.writer import TableWriteError

log = logging.getLogger(__name__)

_UPDATES, _STATUS, _WAKE = "updates", "status", "wake"
EXIT_TOO_MANY_FAILURES = 1


class DataplaneLoop:
    def __init__(self, config: FelixConfig, graph, dataplane_factory, *, health=None, metrics=None,
                 status_reporter=None, min_apply_interval: float = 0.02, max_backoff: float = 5.0,
                 clock=time.monotonic):
        self.env_config = config
        self.config = config
        self.graph = graph
        self.dataplane_factory = dataplane_factory
        self.health = health
        self.metrics = metrics
        self.status_reporter = status_reporter
        self.min_apply_interval = min_apply_interval
        self.max_backoff = max_backoff
        self.clock = clock
        self.queue: queue.Queue = queue.Queue()
        self.dataplane = None
        self.in_sync = False
        self._buffer: list = []
        self._stop = threading.Event()
        self._start = clock()
        self._next_apply = 0.0
        self._route_retry_at = 0.0
        self._failures = 0
        self._iptables_failures = 0
        self._pending_since: float | None = None
        self._timers: dict[str, float] = {}
        self.applies = 0
        self.first_apply_done = threading.Event()

    # ------------------------------------------------------------- syncer side (other thread)

    def on_updates(self, updates) -> None:
        self.queue.put((_UPDATES, updates, self.clock()))

    def on_status(self, status: str) -> None:
        self.queue.put((_STATUS, status, self.clock()))

    def stop(self) -> None:
        self._stop.set()
        self.queue.put((_WAKE, None, 0.0))

    # ------------------------------------------------------------- main thread

    def run(self) -> int:
        while not self._stop.is_set():
            self._wait_and_process(self._timeout())
            if self._stop.is_set():
                break
            self._fire_timers()
            code = self._maybe_apply()
            if code is not None:
                return code
            if self.health:
                self.health.heartbeat()
        return 0

    def _timeout(self) -> float:
        now = self.clock()
        deadlines = list(self._timers.values())
        if self.dataplane is not None and self.dataplane.dirty_except_routes:
            deadlines.append(self._next_apply)
        elif self.dataplane is not None and self.dataplane.dirty:
            deadlines.append(max(self._next_apply, self._route_retry_at))
        t = min(deadlines, default=now + 1.0) - now
        return max(0.0, min(t, 1.0))

    def _wait_and_process(self, timeout: float) -> None:
        try:
            items = [self.queue.get(timeout=timeout)]
        except queue.Empty:
            return
        while True:
            try:
                items.append(self.queue.get_nowait())
            except queue.Empty:
                break
        for kind, payload, t in items:
            if kind == _UPDATES:
                self.graph.on_updates(payload)
                if self._pending_since is None and payload:
                    self._pending_since = t
                if self.metrics and payload:
                    self.metrics.updates.inc(len(payload))
                    self.metrics.revision.set(max(u.revision for u in payload))
            elif kind == _STATUS:
                self._on_syncer_status(payload)
                self.graph.on_status(payload)
        for msg in self.graph.flush():
            self._on_message(msg)

    def _on_syncer_status(self, status: str) -> None:
        log.info("datastore syncer status: %s", status)
        if self.health:
            self.health.set_ready("datastore", status == "in-sync", f"syncer {status}")
        if status == "resync" and self.metrics:
            self.metrics.resyncs.inc()

    def _on_message(self, msg) -> None:
        if isinstance(msg, InSync):
            if not self.in_sync:
                log.info("datastore in sync after %.3fs: building dataplane and programming %d buffered "
                         "update(s)", self.clock() - self._start, len(self._buffer))
                self.in_sync = True
                self._build_dataplane()
            return
        if isinstance(msg, ConfigUpdate):
            self._on_config(msg.config)
            return
        if self.dataplane is None:
            self._buffer.append(msg)
        else:
            self.dataplane.on_update(msg)

    def _on_config(self, merged: dict) -> None:
        from felixpy.rules.defs import RulesConfig, RulesConfigError
        try:
            new = self.env_config.merge_datastore(merged)
            RulesConfig.from_felix_config(new.rules_dict())
        except (ConfigError, RulesConfigError) as exc:
            log.error("ignoring FelixConfiguration update, keeping the previous configuration: %s", exc)
            return
        changed = self.config.changed(new)
        self.config = new
        if not changed:
            return
        log.info("configuration changed: %s", ", ".join(f"{k}={new.get(k)!r} ({new.source(k)})"
                                                      for k in sorted(changed)))
        logging.getLogger().setLevel(new.LogSeverityScreen)
        if self.dataplane is None:
            return
        for name in changed & RESTART_PARAMS:
            log.warning("%s changed to %r: takes effect when the agent restarts", name, new.get(name))
        from felixpy.config import PARAMS
        if changed & {p.name for p in PARAMS if p.rules}:
            self.dataplane.set_rules_config(RulesConfig.from_felix_config(new.rules_dict()))
        self._arm_timers(reset=False)

    def _build_dataplane(self) -> None:
        self.dataplane = self.dataplane_factory(self.config)
        for msg in self._buffer:
            self.dataplane.on_update(msg)
        self._buffer.clear()
        self._arm_timers(reset=True)

    def _arm_timers(self, reset: bool) -> None:
        now = self.clock()
        for name, param in (("iptables", "IptablesRefreshInterval"), ("ipsets", "IpsetsRefreshInterval"),
                            ("routes", "RouteRefreshInterval")):
            interval = self.config.get(param)
            if not interval:
                self._timers.pop(name, None)
            elif reset or name not in self._timers or self._timers[name] > now + interval:
                self._timers[name] = now + interval

    def _fire_timers(self) -> None:
        if self.dataplane is None:
            return
        now = self.clock()
        post = self._timers.pop("post-write", None)
        if post is not None:
            if post <= now:
                log.debug("post-write check: reading the iptables tables back")
                self.dataplane.queue_iptables_resync()
            else:
                self._timers["post-write"] = post
        for name, due in list(self._timers.items()):
            if name == "post-write":
                continue
            if due > now:
                continue
            log.debug("%s refresh timer fired: reading back the kernel", name)
            getattr(self.dataplane, f"queue_{name}_resync")()
            param = {"iptables": "IptablesRefreshInterval", "ipsets": "IpsetsRefreshInterval",
                     "routes": "RouteRefreshInterval"}[name]
            self._timers[name] = now + self.config.get(param)

    def _maybe_apply(self) -> int | None:
        dp = self.dataplane
        if dp is None or not self.in_sync:
            return None
        if not dp.dirty:
            self._pending_since = None
            return None
        now = self.clock()
        if now < self._next_apply:
            return None
        if not dp.dirty_except_routes and now < self._route_retry_at:
            return None             # only routes waiting for their interface: retry on their own timer
        try:
            result = dp.apply()
        except (TableWriteError, IPSetError) as exc:
            self._failures += 1
            if isinstance(exc, TableWriteError):
                self._iptables_failures += 1
            if self.metrics:
                self.metrics.failures.inc()
            if self.health:
                self.health.set_ready("dataplane", False, str(exc))
            max_failures = self.config.MaxIptablesFailures
            if self._iptables_failures >= max_failures:
                log.critical("%d consecutive iptables failures (last: %s): exiting so the agent is "
                             "restarted", self._iptables_failures, exc)
                return EXIT_TOO_MANY_FAILURES
            backoff = min(0.1 * 2 ** (self._failures - 1), self.max_backoff)
            log.error("dataplane apply failed (%s); retry %d in %.2fs", exc, self._failures, backoff)
            self._next_apply = now + backoff
            return None
        self._failures = self._iptables_failures = 0
        done = self.clock()
        self._next_apply = done + self.min_apply_interval
        if dp.routes.dirty:
            self._route_retry_at = done + 1.0
        self.applies += 1
        if not self.first_apply_done.is_set():
            self.first_apply_done.set()
            log.info("first complete dataplane programming done %.3fs after start", done - self._start)
            if self.metrics:
                self.metrics.initial_resync.set(done - self._start)
            if self.health:
                self.health.set_ready("in-sync-applied", True, "first apply done")
        if self.health:
            self.health.set_ready("dataplane", True, "last apply succeeded")
        if self.metrics:
            self._update_metrics(result, done)
        if self._pending_since is not None:
            latency = done - self._pending_since
            if self.metrics:
                self.metrics.update_latency.observe(latency)
            self._pending_since = None
        if self.status_reporter is not None:
            self.status_reporter.report(dp.endpoint_manager.statuses())
        if result.tables_written and self.config.IptablesPostWriteCheckInterval and "post-write" not in self._timers:
            self._timers["post-write"] = done + self.config.IptablesPostWriteCheckInterval
        if result.tables_written or result.ipset_lines:
            log.info("dataplane applied in %.3fs: tables %s, %d ipset line(s)", result.seconds,
                     result.tables_written, result.ipset_lines)
        return None

    def _update_metrics(self, result, done: float) -> None:
        m, dp = self.metrics, self.dataplane
        m.apply_time.observe(result.seconds)
        m.active_endpoints.set(dp.endpoint_manager.endpoint_count)
        m.active_policies.set(dp.policy_manager.policy_count)
        m.active_profiles.set(dp.policy_manager.profile_count)
        m.ipsets.set(dp.ipset_manager.set_count)
        m.ipset_members.set(dp.ipsets.total_members())
        m.iptables_writes.inc(len(result.tables_written))
