"""EndpointManager: local WorkloadEndpoints -> per-endpoint chains, dispatch chains and routes.

For each local endpoint: cali-tw-<iface> / cali-fw-<iface> (rendered by the RuleRenderer from
the endpoint's ordered tiers and profiles), a /32 route (+ permanent ARP entry) to its
interface, and the host-side sysctls (done by the RouteTable). Whenever the set of local
interfaces changes, the dispatch chains are re-rendered; an interface we don't know is
dropped by their final rule, so a pod whose endpoint has not arrived yet is fail-closed.

After each apply `statuses()` reports "up" for endpoints whose interface exists and whose
routes are programmed, "down" otherwise (the status reporter writes these to etcd).
"""
from __future__ import annotations

import logging

from felixpy.calc.messages import WorkloadEndpointRemove, WorkloadEndpointUpdate
from felixpy.iptables.table import Table
from felixpy.routetable.route_table import RouteTable

log = logging.getLogger(__name__)


class EndpointManager:
    def __init__(self, filter_table: Table, route_table: RouteTable, renderer):
        self.table = filter_table
        self.routes = route_table
        self.renderer = renderer
        self._endpoints: dict = {}                   # WorkloadEndpointID -> WorkloadEndpoint
        self._chains: dict = {}                      # WorkloadEndpointID -> chain names
        self._dirty: set = set()
        self._dispatch_names: set[str] = set()
        self._dispatch_dirty = True

    def on_update(self, msg) -> None:
        if isinstance(msg, WorkloadEndpointUpdate):
            old = self._endpoints.get(msg.endpoint_id)
            if old == msg.endpoint:
                return
            if old is not None and old.name != msg.endpoint.name:
                self.routes.remove_iface(old.name)
                self._dispatch_dirty = True
            elif old is None:
                self._dispatch_dirty = True
            self._endpoints[msg.endpoint_id] = msg.endpoint
            self._dirty.add(msg.endpoint_id)
            log.info("endpoint %s/%s on %s: ips=%s policies=%s profiles=%s", msg.endpoint_id.namespace,
                     msg.endpoint_id.name, msg.endpoint.name, ",".join(msg.endpoint.ipv4_nets),
                     [str(p) for t in msg.endpoint.tiers for p in t.ingress_policies + t.egress_policies],
                     list(msg.endpoint.profile_ids))
        elif isinstance(msg, WorkloadEndpointRemove):
            ep = self._endpoints.pop(msg.endpoint_id, None)
            if ep is not None:
                self.routes.remove_iface(ep.name)
                self._dirty.add(msg.endpoint_id)
                self._dispatch_dirty = True
                log.info("endpoint %s/%s on %s removed", msg.endpoint_id.namespace, msg.endpoint_id.name, ep.name)

    def set_renderer(self, renderer) -> None:
        self.renderer = renderer
        self._dirty |= set(self._endpoints)
        self._dispatch_dirty = True

    @property
    def dirty(self) -> bool:
        return bool(self._dirty) or self._dispatch_dirty

    def complete_deferred_work(self) -> None:
        for eid in self._dirty:
            ep = self._endpoints.get(eid)
            chains = self.renderer.endpoint_chains(ep) if ep is not None else []
            names = {c.name for c in chains}
            for c in chains:
                self.table.update_chain(c)
            for name in self._chains.get(eid, set()) - names:
                self.table.remove_chain(name)
            if ep is not None:
                self._chains[eid] = names
                self.routes.set_routes(ep.name, [(net, ep.mac) for net in ep.ipv4_nets])
            else:
                self._chains.pop(eid, None)
        self._dirty.clear()
        if self._dispatch_dirty:
            ifaces = sorted({ep.name for ep in self._endpoints.values()})
            chains = self.renderer.dispatch_chains(ifaces)
            names = {c.name for c in chains}
            for c in chains:
                self.table.update_chain(c)
            for name in self._dispatch_names - names:
                self.table.remove_chain(name)
            self._dispatch_names = names
            self._dispatch_dirty = False

    def statuses(self) -> dict:
        """WorkloadEndpointID -> "up" | "down" as of the last route apply."""
        failed = {e.iface for e in self.routes.errors}
        return {eid: ("up" if ep.state == "active" and ep.name not in failed else "down")
                for eid, ep in self._endpoints.items()}

    @property
    def endpoint_count(self) -> int:
        return len(self._endpoints)
