"""InternalDataplane: the drivers and managers of one node, and the order they apply in.

Owns the four iptables Tables (one TableWriter shared by all), the IPSets and the RouteTable,
and the managers that turn messages into their desired state. `apply()` runs each manager's
`complete_deferred_work()` and then the drivers in the fixed, safe order (STYLE.md C3):
ipset creates/updates -> iptables filter, raw, mangle, nat -> routes -> ipset deletions.
A set is therefore always there before a rule references it and destroyed only after the
last rule using it is gone. The static chains and kernel hooks are programmed from the
renderer at construction, so the first apply installs the whole fail-closed skeleton (the
dispatch chains drop any `cali*` interface without an endpoint) in the same transaction as
the first policies.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from felixpy.dataplane.endpoint_manager import EndpointManager
from felixpy.dataplane.ipset_manager import IPSetManager
from felixpy.dataplane.masq_manager import MasqManager
from felixpy.dataplane.policy_manager import PolicyManager
from felixpy.ipsets.ipsets import IPSetError, IPSets
from felixpy.iptables.table import Table
from felixpy.iptables.writer import TableWriteError
from felixpy.routetable.route_table import RouteTable
from felixpy.rules import names
from felixpy.rules.renderer import RuleRenderer

log = logging.getLogger(__name__)

TABLE_ORDER = ("filter", "raw", "mangle", "nat")


@dataclass
class ApplyResult:
    seconds: float = 0.0
    tables_written: list[str] = field(default_factory=list)
    ipset_lines: int = 0
    route_errors: int = 0


def write_global_sysctls(proc_sys: str = "/proc/sys/net") -> None:
    """Felix's configureKernel: forwarding on (IPForwarding=Enabled is the default)."""
    with open(f"{proc_sys}/ipv4/ip_forward", "w") as fh:
        fh.write("1")


class InternalDataplane:
    def __init__(self, writer, rules_config, route_metric: int = 1024, route_grace_period: float = 10.0,
                 chain_insert_mode: str = "insert"):
        self.writer = writer
        self.chain_insert_mode = chain_insert_mode
        self.tables = {t: Table(t, writer) for t in TABLE_ORDER}
        self.ipsets = IPSets(4, name_of=lambda set_id: names.ipset_name(set_id, 4))
        self.routes = RouteTable(rules_config.interface_prefixes, metric=route_metric,
                                 grace_period=route_grace_period)
        self.renderer = RuleRenderer(rules_config)
        self.ipset_manager = IPSetManager(self.ipsets)
        self.policy_manager = PolicyManager(self.tables["filter"], self.renderer)
        self.endpoint_manager = EndpointManager(self.tables["filter"], self.routes, self.renderer)
        self.masq_manager = MasqManager(self.ipsets, self.tables["nat"], self.renderer)
        self.managers = (self.ipset_manager, self.policy_manager, self.endpoint_manager, self.masq_manager)
        self._program_static()

    def _program_static(self) -> None:
        for name, table in self.tables.items():
            for chain in self.renderer.static_chains(name):
                table.update_chain(chain)
            hooks = self.renderer.kernel_hooks(name)
            appended = self.renderer.kernel_hooks_append(name)
            if self.chain_insert_mode == "append":      # ChainInsertMode=append: all hooks go last
                appended = {kc: list(hooks.get(kc, [])) + list(appended.get(kc, []))
                            for kc in set(hooks) | set(appended)}
                hooks = {}
            for kc in set(hooks) | set(appended) | table.hook_chain_names():
                table.set_hook_rules(kc, hooks.get(kc, []))
                table.set_hook_rules(kc, appended.get(kc, []), append=True)

    def set_rules_config(self, rules_config) -> None:
        """Re-render everything with a new renderer configuration."""
        self.renderer = RuleRenderer(rules_config)
        self._program_static()
        for m in (self.policy_manager, self.endpoint_manager, self.masq_manager):
            m.set_renderer(self.renderer)
        log.info("rule configuration changed: re-rendering all chains")

    def on_update(self, msg) -> None:
        for m in self.managers:
            m.on_update(msg)

    @property
    def dirty(self) -> bool:
        return self.dirty_except_routes or self.routes.dirty

    @property
    def dirty_except_routes(self) -> bool:
        """Work other than routes waiting for an interface (those are retried on a slower timer)."""
        return (any(t.dirty for t in self.tables.values()) or self.ipsets.dirty
                or any(m.dirty for m in self.managers))

    def queue_iptables_resync(self) -> None:
        for t in self.tables.values():
            t.queue_resync()

    def queue_ipsets_resync(self) -> None:
        self.ipsets.queue_resync()

    def queue_routes_resync(self) -> None:
        self.routes.queue_resync()

    def apply(self) -> ApplyResult:
        """One pass over every driver in the safe order. Raises the first TableWriteError /
        IPSetError after still trying the other tables; route errors are per route (see
        `routes.errors`) and leave those routes pending."""
        start = time.monotonic()
        result = ApplyResult()
        for m in self.managers:
            m.complete_deferred_work()
        result.ipset_lines = self.ipsets.apply_updates()
        first_error: Exception | None = None
        stale = [t for t in self.tables.values() if t.needs_read]
        if len(stale) > 1:
            try:
                snapshot = self.writer.read_all()
                for t in stale:
                    t.load_saved(snapshot)
            except TableWriteError as exc:
                log.warning("%s; reading tables one by one", exc)
        for name in TABLE_ORDER:
            try:
                if not self.tables[name].apply().is_empty():
                    result.tables_written.append(name)
            except TableWriteError as exc:
                log.error("%s", exc)
                first_error = first_error or exc
        result.route_errors = len(self.routes.apply())
        if first_error is not None:
            raise first_error
        self.ipsets.apply_deletions()
        result.seconds = time.monotonic() - start
        return result


__all__ = ["InternalDataplane", "ApplyResult", "TableWriteError", "IPSetError", "write_global_sysctls"]
