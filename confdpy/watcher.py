"""The confdpy loop: datastore -> snapshot -> model -> text -> files -> BIRD.

`ConfdPipeline.run_once(snapshot)` does one pass and raises on failure (used by
`--onetime`). `BgpWatcher` keeps a `BgpSnapshot` up to date from a
`libcalico_py.datastore.syncer.Syncer` over the BGP prefixes (Calico's BGP syncer set:
nodes, BGP configurations, BGP peers, IP pools, this node's block affinities) and runs
the pipeline on the main thread:

* nothing is rendered before the syncer's first "in-sync" (a half-listed datastore
  would render a config missing peers and blocks);
* the syncer thread only applies updates to the snapshot and sets a dirty flag; the
  main thread drains whatever arrived, so a burst of updates costs one render;
* the model is built under the snapshot lock (it is pure and fast), rendering and the
  file/BIRD work happen outside it;
* a failed pass (node missing, check rejected, BIRD unreachable) is logged, the old
  configuration stays live, and the pass is retried after `retry_interval` even without
  new updates.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from confdpy.processor import SecretResolver, build_bird_config
from confdpy.render import Renderer
from confdpy.snapshot import BgpSnapshot, watched_prefixes
from confdpy.sync import ConfigWriter, SyncResult
from libcalico_py.errors import CalicoError

log = logging.getLogger(__name__)


@dataclass
class PassResult:
    sync: SyncResult
    render_seconds: float        # model + templates
    total_seconds: float         # model + templates + compare/stage/check/swap/reload


class ConfdPipeline:
    """One node's model -> render -> check -> swap -> reload chain."""

    def __init__(self, node_name: str, writer: ConfigWriter, router_id_setting: str | None = None,
                 secrets: SecretResolver | None = None):
        self.node_name = node_name
        self.writer = writer
        self.router_id_setting = router_id_setting
        self.secrets = secrets
        self.renderer = Renderer()

    def render(self, snapshot: BgpSnapshot) -> dict[str, str]:
        cfg = build_bird_config(snapshot, self.node_name, self.router_id_setting, self.secrets)
        return self.renderer.render(cfg)

    def run_once(self, snapshot: BgpSnapshot) -> PassResult:
        start = time.perf_counter()
        files = self.render(snapshot)
        rendered = time.perf_counter()
        result = self.writer.sync(files)
        return PassResult(result, rendered - start, time.perf_counter() - start)


def load_snapshot(ds, node_name: str) -> BgpSnapshot:
    """List the watched prefixes once (for `--onetime`)."""
    snap = BgpSnapshot()
    for prefix in watched_prefixes(node_name):
        kvs, _rev = ds.kv.get_prefix(prefix)
        for kv in kvs:
            snap.apply_kv(kv.key, kv.value, node_name)
    return snap


class BgpWatcher:
    """Syncer-fed snapshot plus the render loop; `run()` blocks until `stop()`."""

    def __init__(self, ds, pipeline: ConfdPipeline, retry_interval: float = 2.0, on_pass=None):
        """`on_pass(result_or_error)` is called on the main thread after every pass
        (a PassResult, or the CalicoError that stopped it)."""
        self.ds = ds
        self.on_pass = on_pass
        self.pipeline = pipeline
        self.node_name = pipeline.node_name
        self.retry_interval = retry_interval
        self.snapshot = BgpSnapshot()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._in_sync = False
        self._dirty = False
        self.passes = 0          # completed passes (successful or not), for tests and benches
        self.last_error: str | None = None
        self.last_result: PassResult | None = None
        self._syncer = None

    # -- syncer callbacks (syncer thread) -----------------------------------
    def on_updates(self, updates) -> None:
        changed = False
        with self._lock:
            for u in updates:
                changed |= self.snapshot.apply_kv(u.key, u.value, self.node_name)
            if changed:
                self._dirty = True
        if changed:
            self._wake.set()

    def on_status(self, status: str) -> None:
        log.info("datastore syncer: %s", status)
        if status == "in-sync":
            with self._lock:
                self._in_sync = True
                self._dirty = True
            self._wake.set()

    # -- main loop ----------------------------------------------------------
    def start_syncer(self) -> None:
        from libcalico_py.datastore.syncer import Syncer
        self._syncer = Syncer(self.ds, watched_prefixes(self.node_name), self.on_updates,
                              self.on_status, name="confdpy-syncer")
        self._syncer.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def run(self) -> None:
        self.start_syncer()
        retry_due: float | None = None
        try:
            while not self._stop.is_set():
                timeout = None if retry_due is None else max(0.0, retry_due - time.monotonic())
                self._wake.wait(timeout)
                self._wake.clear()
                if self._stop.is_set():
                    break
                retry = retry_due is not None and time.monotonic() >= retry_due
                with self._lock:
                    if not self._in_sync or not (self._dirty or retry):
                        continue
                    self._dirty = False
                    start = time.perf_counter()
                    try:
                        cfg = build_bird_config(self.snapshot, self.node_name,
                                                self.pipeline.router_id_setting, self.pipeline.secrets)
                    except CalicoError as e:
                        cfg = None
                        error = e
                if cfg is None:
                    self._failed(error)
                    retry_due = time.monotonic() + self.retry_interval
                    continue
                try:
                    files = self.pipeline.renderer.render(cfg)
                    rendered = time.perf_counter()
                    result = self.pipeline.writer.sync(files)
                except CalicoError as e:
                    self._failed(e)
                    retry_due = time.monotonic() + self.retry_interval
                    continue
                self.last_result = PassResult(result, rendered - start, time.perf_counter() - start)
                self.last_error = None
                self.passes += 1
                if self.on_pass is not None:
                    self.on_pass(self.last_result)
                retry_due = None
                if result.changed:
                    log.info("rendered in %.1f ms, pass took %.1f ms (changed: %s, reloaded: %s)",
                             (rendered - start) * 1e3, (time.perf_counter() - start) * 1e3,
                             ", ".join(result.changed), result.reloaded)
        finally:
            if self._syncer is not None:
                self._syncer.stop()

    def _failed(self, error: Exception) -> None:
        self.last_error = str(error)
        self.passes += 1
        log.error("BIRD configuration not updated, previous one stays in place: %s", error)
        if self.on_pass is not None:
            self.on_pass(error)
