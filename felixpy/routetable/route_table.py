"""RouteTable: the desired -> diff -> apply driver for local workload routes (pyroute2 netlink).

For every local workload IP the endpoint manager asks for `<ip>/32 dev <cali iface> scope link`
(metric `ipv4NormalRoutePriority`, default 1024 as current Felix) and, when the endpoint's MAC is
known, a permanent ARP entry. The host side of each workload veth also gets the sysctls of
calico.md §6.4 (proxy_arp so the pod's 169.254.1.1 gateway resolves, forwarding, route_localnet,
proxy_delay 0).

Ownership: in the main table every route whose output interface starts with an interface prefix
(`cali`) is ours; routes we don't want there are deleted (Felix's RemoveExternalRoutes=true).

Problems handled:
- the CNI plugin adds a pod's route before Felix knows the endpoint; routes on an interface we
  have no desired state for are left alone for a grace period (10 s, as Felix) before cleanup;
- an interface that does not exist yet (or was recreated with a new index) makes only its own
  routes fail: errors are collected per interface, those stay dirty and are retried, the rest apply;
- read-back happens only on the first apply, after `queue_resync()` and after an error.
"""
from __future__ import annotations

import logging
import socket
import time
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

MAIN_TABLE = 254
SCOPE_LINK = 253
RT_SCOPE_NOWHERE = 255
RTPROT_BOOT = 3
NUD_PERMANENT = 0x80

IFACE_SYSCTLS_V4 = (("conf", "route_localnet", "1"), ("neigh", "proxy_delay", "0"),
                    ("conf", "proxy_arp", "1"), ("conf", "forwarding", "1"))


@dataclass
class RouteStats:
    routes_added: int = 0
    routes_deleted: int = 0
    reads: int = 0
    errors: int = 0


@dataclass
class RouteError:
    iface: str
    target: str
    reason: str


@dataclass
class _IfaceState:
    targets: dict[str, str | None] = field(default_factory=dict)   # cidr -> mac


def write_iface_sysctls(iface: str, proc_sys: str = "/proc/sys/net") -> None:
    """§6.4 sysctls on a workload's host-side interface (they follow the caller's netns)."""
    for family, key, value in IFACE_SYSCTLS_V4:
        with open(f"{proc_sys}/ipv4/{family}/{iface}/{key}", "w") as fh:
            fh.write(value)


class RouteTable:
    def __init__(self, iface_prefixes=("cali",), metric: int = 1024, protocol: int = RTPROT_BOOT,
                 grace_period: float = 10.0, configure_sysctls: bool = True):
        self.iface_prefixes = tuple(iface_prefixes)
        self.metric = metric
        self.protocol = protocol
        self.grace_period = grace_period
        self.configure_sysctls = configure_sysctls
        self._desired: dict[str, _IfaceState] = {}
        self._dp: dict[str, set[tuple[str, int]]] = {}     # iface -> {(cidr, metric)}
        self._dirty: set[str] = set()
        self._configured: set[tuple[str, int]] = set()     # (iface, ifindex) with sysctls done
        self._first_seen: dict[str, float] = {}
        self._resync = True
        self.stats = RouteStats()
        self.errors: list[RouteError] = []

    # ------------------------------------------------------------- desired state

    def set_routes(self, iface: str, targets) -> None:
        """`targets`: iterable of CIDRs, or of (cidr, mac) pairs."""
        want = {}
        for t in targets:
            cidr, mac = (t, None) if isinstance(t, str) else t
            want[cidr if "/" in cidr else f"{cidr}/32"] = mac
        cur = self._desired.get(iface)
        if cur is not None and cur.targets == want:
            return
        if want:
            self._desired[iface] = _IfaceState(want)
        else:
            self._desired.pop(iface, None)
        self._dirty.add(iface)

    def remove_iface(self, iface: str) -> None:
        self.set_routes(iface, ())

    def queue_resync(self) -> None:
        self._resync = True

    @property
    def dirty(self) -> bool:
        return self._resync or bool(self._dirty)

    def _ours(self, ifname: str | None) -> bool:
        return bool(ifname) and ifname.startswith(self.iface_prefixes)

    # ------------------------------------------------------------- kernel

    @staticmethod
    def _links() -> dict[str, int]:
        """name -> ifindex of this namespace's interfaces (libc if_nameindex: far cheaper than
        parsing every link's full netlink attributes)."""
        return {name: idx for idx, name in socket.if_nameindex()}

    def _load_dataplane(self, ipr) -> dict[str, int]:
        links = self._links()
        names = {idx: name for name, idx in links.items()}
        dp: dict[str, set[tuple[str, int]]] = {}
        for r in ipr.get_routes(family=socket.AF_INET, table=MAIN_TABLE):
            ifname = names.get(r.get("oif"))
            if not self._ours(ifname) or r.get("dst") is None:
                continue
            dp.setdefault(ifname, set()).add((f"{r.get('dst')}/{r['dst_len']}", r.get("priority") or 0))
        now = time.monotonic()
        for name in links:
            if self._ours(name):
                self._first_seen.setdefault(name, now)
        for name in list(self._first_seen):
            if name not in links:
                del self._first_seen[name]
        self._dp = dp
        self._dirty |= set(dp) | set(self._desired)
        self._resync = False
        self.stats.reads += 1
        return links

    def apply(self, ipr=None) -> list[RouteError]:
        """Program pending routes; returns the per-route errors of this apply (also kept in .errors)."""
        if not self.dirty:
            return []
        own = ipr is None
        if own:
            from pyroute2 import IPRoute
            ipr = IPRoute()
        try:
            return self._apply(ipr)
        finally:
            if own:
                ipr.close()

    def _apply(self, ipr) -> list[RouteError]:
        from pyroute2.netlink.exceptions import NetlinkError
        was_resync = self._resync
        links = self._load_dataplane(ipr) if self._resync else self._links()
        now = time.monotonic()
        errors: list[RouteError] = []
        still_dirty: set[str] = set()
        for iface in sorted(self._dirty):
            state = self._desired.get(iface)
            have = self._dp.get(iface, set())
            if state is None and iface in links and now - self._first_seen.get(iface, now) < self.grace_period \
                    and have:
                still_dirty.add(iface)      # unknown new interface: leave the CNI's routes alone for now
                continue
            want = {(cidr, self.metric) for cidr in (state.targets if state else {})}
            idx = links.get(iface)
            if idx is None:
                self._dp.pop(iface, None)           # its routes went with the interface
                if want:
                    errors.append(RouteError(iface, ",".join(sorted(c for c, _ in want)),
                                             "interface does not exist"))
                    still_dirty.add(iface)
                continue
            if want and self.configure_sysctls and (iface, idx) not in self._configured:
                try:
                    write_iface_sysctls(iface)
                    self._configured.add((iface, idx))
                except OSError as exc:
                    errors.append(RouteError(iface, "sysctl", str(exc)))
            failed = False
            for cidr, metric in sorted(have - want):
                try:
                    ipr.route("del", dst=cidr, oif=idx, priority=metric, table=MAIN_TABLE,
                              scope=RT_SCOPE_NOWHERE)   # "any scope" for deletes
                    self.stats.routes_deleted += 1
                    log.info("routes: removed stale route %s dev %s metric %d", cidr, iface, metric)
                except NetlinkError as exc:
                    if exc.code != 3:       # ESRCH: already gone
                        errors.append(RouteError(iface, cidr, str(exc)))
                        failed = True
            for cidr, metric in sorted(want - have):
                try:
                    ipr.route("replace", dst=cidr, oif=idx, scope=SCOPE_LINK, priority=metric,
                              proto=self.protocol, table=MAIN_TABLE)
                    self.stats.routes_added += 1
                    log.info("routes: added %s dev %s (workload)", cidr, iface)
                except NetlinkError as exc:
                    errors.append(RouteError(iface, cidr, str(exc)))
                    failed = True
            for cidr, mac in (state.targets.items() if state else ()):
                if mac:
                    try:
                        ipr.neigh("replace", dst=cidr.split("/")[0], lladdr=mac, ifindex=idx, state=NUD_PERMANENT)
                    except NetlinkError as exc:
                        errors.append(RouteError(iface, f"arp {cidr}", str(exc)))
            if failed:
                still_dirty.add(iface)
                self._resync = True
            else:
                self._dp[iface] = want
                if not want:
                    self._dp.pop(iface, None)
        self._dirty = still_dirty
        self.errors = errors
        self.stats.errors += len(errors)
        if errors:
            log.warning("routes: %d error(s): %s", len(errors), "; ".join(f"{e.iface} {e.target}: {e.reason}"
                                                                          for e in errors[:5]))
        elif was_resync:
            log.debug("routes: resync done, %d interfaces", len(self._dp))
        return errors
