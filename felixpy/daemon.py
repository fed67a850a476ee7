"""Wiring of the running agent: config -> datastore -> syncer -> graph -> dataplane loop.

`run(environ)` builds everything from the environment (FELIX_* variables), starts the health
and metrics servers if enabled, runs the loop in the foreground and returns the exit code.
Errors are mapped to one log line and an exit code here, once: bad configuration -> 2,
too many dataplane failures -> 1, SIGTERM/SIGINT -> 0. An unreachable etcd is not fatal:
the syncer keeps retrying, readiness says "datastore" is not ready, and whatever is already
programmed stays in force.
"""
from __future__ import annotations

import gc
import logging
import signal
import sys

from felixpy.config import ConfigError, FelixConfig

log = logging.getLogger("felixpy")

EXIT_CONFIG = 2
FELIX_PREFIXES = ("/calico/resources/v3/projectcalico.org/",)


def setup_logging(level: str) -> None:
    logging.basicConfig(stream=sys.stderr, level=level,
                        format="%(asctime)s.%(msecs)03d [%(levelname)s] %(name)s: %(message)s",
                        datefmt="%Y-%m-%d %H:%M:%S")
    logging.getLogger().setLevel(level)


def make_dataplane_factory():
    """The factory the loop calls at InSync with the effective configuration."""
    def build(config: FelixConfig):
        from felixpy.dataplane.internal_dataplane import InternalDataplane, write_global_sysctls
        from felixpy.iptables.backend_detect import detect_backend, make_writer
        from felixpy.rules.defs import RulesConfig
        backend = detect_backend(config.IptablesBackend)
        writer = make_writer(backend, config.IptablesWriter)
        log.info("iptables backend %s (iptablesBackend=%s from %s), writer %s", backend,
                 config.IptablesBackend, config.source("IptablesBackend"), writer.kind)
        write_global_sysctls()
        return InternalDataplane(writer, RulesConfig.from_felix_config(config.rules_dict()),
                                 route_metric=config.Ipv4NormalRoutePriority,
                                 chain_insert_mode=config.ChainInsertMode)
    return build


def run(environ=None) -> int:
    # The agent allocates many long-lived objects in bursts (a snapshot is one resource
    # object per key): with CPython's default gen-0 threshold the collector re-scans them
    # constantly. B1 measured 20-40 % off the snapshot with a higher threshold.
    gc.set_threshold(100_000, 50, 50)
    try:
        config = FelixConfig.from_env(environ)
    except ConfigError as exc:
        setup_logging("INFO")
        log.error("bad configuration: %s", exc)
        return EXIT_CONFIG
    setup_logging(config.LogSeverityScreen)
    from felixpy.rules.defs import RulesConfig, RulesConfigError
    try:
        RulesConfig.from_felix_config(config.rules_dict())
    except RulesConfigError as exc:
        log.error("bad configuration: %s", exc)
        return EXIT_CONFIG

    from felixpy.calc.graph import CalcGraph
    from felixpy.dataplane.loop import DataplaneLoop
    from felixpy.dataplane.status_reporter import FelixStatusReporter, StatusReporter
    from felixpy.health import Health, HealthServer
    from felixpy.metrics import FelixMetrics, MetricsServer
    from libcalico_py.datastore.config import DatastoreConfig
    from libcalico_py.datastore.etcd import EtcdDatastore
    from libcalico_py.datastore.syncer import Syncer

    log.info("felixpy starting: host %s (%s), etcd %s", config.hostname, config.source("FelixHostname"),
             ",".join(config.EtcdEndpoints))
    ds = EtcdDatastore(DatastoreConfig(endpoints=list(config.EtcdEndpoints), ca_cert_file=config.EtcdCaFile,
                                       cert_file=config.EtcdCertFile, key_file=config.EtcdKeyFile))
    health = Health()
    metrics = FelixMetrics()
    servers = []
    try:
        if config.HealthEnabled:
            servers.append(HealthServer(health, config.HealthHost, config.HealthPort).start())
        if config.PrometheusMetricsEnabled:
            servers.append(MetricsServer(metrics.registry, config.PrometheusMetricsHost,
                                         config.PrometheusMetricsPort).start())
    except OSError as exc:
        log.error("cannot listen for health/metrics: %s", exc)
        return EXIT_CONFIG
    reporter = StatusReporter(ds.kv, config.hostname).start() if config.EndpointReportingEnabled else None
    graph = CalcGraph(hostname=config.hostname, config=None)
    loop = DataplaneLoop(config, graph, make_dataplane_factory(), health=health, metrics=metrics,
                         status_reporter=reporter)
    syncer = Syncer(ds, list(FELIX_PREFIXES), loop.on_updates, loop.on_status)
    felix_status = FelixStatusReporter(ds.kv, config.hostname, config.ReportingInterval, config.ReportingTTL,
                                       loop.first_apply_done).start()

    def on_signal(signum, _frame):
        log.info("signal %d: shutting down (programmed state stays in the kernel)", signum)
        loop.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    syncer.start()
    try:
        code = loop.run()
    finally:
        syncer.stop(timeout=2)
        felix_status.stop()
        if reporter:
            reporter.stop()
        for s in servers:
            s.stop()
        ds.close()
    log.info("felixpy exiting with code %d", code)
    return code
