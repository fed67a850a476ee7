"""Calico's etcd key layout, built and parsed in one place.

Two families of keys live in etcd (reference §1.1-1.3):

* v3 resources, as JSON, at `/calico/resources/v3/projectcalico.org/<plural>/<name>`
  (cluster-scoped kinds) or `.../<plural>/<namespace>/<name>` (namespaced kinds). The
  plural comes from the kind registry (`libcalico_py.model.kinds`). v3 names are DNS-1123
  labels/subdomains, so they are used as-is.
* Non-resource keys: IPAM blocks, block affinities, handles and config under
  `/calico/ipam/v2/`, and Felix status reports under `/calico/felix/v2/<region>/` (and the
  older `/calico/felix/v1/host/<h>/endpoint/<ep>` for host endpoints). Name segments in the
  status keys are escaped as libcalico-go's `escapeName` does (`%` -> `%25`, `/` -> `%2f`),
  because Kubernetes workload ids contain a slash (`<namespace>/<pod>`).

Builders return `str`; parsers take `str` (or UTF-8 `bytes`) and return a tuple, or None when
the key is not of that shape, so a watcher can route any key it sees. Everything here is
pure: no I/O, no etcd client.
"""
from __future__ import annotations

import ipaddress
from typing import NamedTuple

from libcalico_py.model import kinds

RESOURCE_PREFIX = "/calico/resources/v3/projectcalico.org/"

IPAM_PREFIX = "/calico/ipam/v2/"
BLOCK_PREFIX = "/calico/ipam/v2/assignment/"
AFFINITY_PREFIX = "/calico/ipam/v2/host/"
HANDLE_PREFIX = "/calico/ipam/v2/handle/"
IPAM_CONFIG_KEY = "/calico/ipam/v2/config"

FELIX_STATUS_PREFIX = "/calico/felix/v2/"
HOST_ENDPOINT_STATUS_PREFIX = "/calico/felix/v1/host/"
DEFAULT_REGION = "no-region"


class ResourceKey(NamedTuple):
    kind: str
    namespace: str | None
    name: str


class AffinityKey(NamedTuple):
    host: str
    cidr: str


class FelixStatusKey(NamedTuple):
    region: str
    host: str
    report: str  # "status" (lease-bound liveness) or "last_reported_status"


class WorkloadEndpointStatusKey(NamedTuple):
    region: str
    host: str
    orchestrator: str
    workload: str
    endpoint: str


class HostEndpointStatusKey(NamedTuple):
    host: str
    endpoint: str


def _text(key: str | bytes) -> str:
    return key.decode() if isinstance(key, bytes) else key


def _segments(key: str | bytes, prefix: str) -> list[str] | None:
    """The '/'-separated parts of `key` after `prefix`, or None if it lacks the prefix."""
    key = _text(key)
    if not key.startswith(prefix):
        return None
    return key[len(prefix):].split("/")


def _spec(kind: str) -> kinds.KindSpec:
    try:
        return kinds.by_kind(kind)
    except KeyError:
        raise ValueError(f"unknown resource kind {kind!r}") from None


def _check_segment(what: str, value: str) -> None:
    if not value or "/" in value:
        raise ValueError(f"{what} must be a non-empty string without '/' (got {value!r})")


# --- v3 resources -----------------------------------------------------------------------

def resource_key(kind: str, name: str, namespace: str | None = None) -> str:
    """The key of one resource. A namespace is required for namespaced kinds and ignored
    for cluster-scoped ones (as calicoctl ignores `-n` for them)."""
    spec = _spec(kind)
    _check_segment("name", name)
    if spec.namespaced:
        if namespace is None:
            raise ValueError(f"{kind} is namespaced: a namespace is required")
        _check_segment("namespace", namespace)
        return f"{RESOURCE_PREFIX}{spec.plural}/{namespace}/{name}"
    return f"{RESOURCE_PREFIX}{spec.plural}/{name}"


def resource_prefix(kind: str, namespace: str | None = None) -> str:
    """The prefix (ending in '/') under which every resource of `kind` lives; for a
    namespaced kind with `namespace` given, only that namespace."""
    spec = _spec(kind)
    if spec.namespaced and namespace is not None:
        _check_segment("namespace", namespace)
        return f"{RESOURCE_PREFIX}{spec.plural}/{namespace}/"
    return f"{RESOURCE_PREFIX}{spec.plural}/"


def parse_resource_key(key: str | bytes) -> ResourceKey | None:
    """`(kind, namespace|None, name)` for a v3 resource key of a known kind, else None."""
    parts = _segments(key, RESOURCE_PREFIX)
    if parts is None:
        return None
    spec = kinds.by_plural(parts[0])
    if spec is None or not all(parts[1:]):
        return None
    if spec.namespaced and len(parts) == 3:
        return ResourceKey(spec.kind, parts[1], parts[2])
    if not spec.namespaced and len(parts) == 2:
        return ResourceKey(spec.kind, None, parts[1])
    return None


# --- IPAM -------------------------------------------------------------------------------

def _cidr_segment(cidr: str) -> tuple[str, str]:
    """('ipv4'|'ipv6', '10.65.0.0-26') for a network CIDR; host bits must be zero."""
    try:
        net = ipaddress.ip_network(cidr, strict=True)
    except ValueError as e:
        raise ValueError(f"invalid block CIDR {cidr!r}: {e}") from None
    return f"ipv{net.version}", str(net).replace("/", "-", 1)


def _parse_cidr_segment(family: str, segment: str) -> str | None:
    addr, sep, plen = segment.rpartition("-")
    if not sep:
        return None
    try:
        net = ipaddress.ip_network(f"{addr}/{plen}", strict=True)
    except ValueError:
        return None
    if family != f"ipv{net.version}":
        return None
    return str(net)


def block_key(cidr: str) -> str:
    """`/calico/ipam/v2/assignment/ipv4/block/10.65.0.0-26` for `10.65.0.0/26`."""
    family, seg = _cidr_segment(cidr)
    return f"{BLOCK_PREFIX}{family}/block/{seg}"


def parse_block_key(key: str | bytes) -> str | None:
    """The block CIDR (`10.65.0.0/26`) of a block key, else None."""
    parts = _segments(key, BLOCK_PREFIX)
    if parts is None:
        return None
    if len(parts) != 3 or parts[1] != "block":
        return None
    return _parse_cidr_segment(parts[0], parts[2])


def affinity_key(host: str, cidr: str) -> str:
    """`/calico/ipam/v2/host/<host>/ipv4/block/10.65.0.0-26`: host `host` has affinity
    for block `cidr`."""
    _check_segment("host", host)
    family, seg = _cidr_segment(cidr)
    return f"{AFFINITY_PREFIX}{host}/{family}/block/{seg}"


def affinity_prefix(host: str) -> str:
    """Prefix of every affinity of one host (both families)."""
    _check_segment("host", host)
    return f"{AFFINITY_PREFIX}{host}/"


def parse_affinity_key(key: str | bytes) -> AffinityKey | None:
    """`(host, cidr)` of a block-affinity key, else None (also for the bare IPAM host key
    `/calico/ipam/v2/host/<host>`)."""
    parts = _segments(key, AFFINITY_PREFIX)
    if parts is None:
        return None
    if len(parts) != 4 or not parts[0] or parts[2] != "block":
        return None
    cidr = _parse_cidr_segment(parts[1], parts[3])
    return AffinityKey(parts[0], cidr) if cidr else None


def ipam_host_key(host: str) -> str:
    """The legacy per-host IPAM object `/calico/ipam/v2/host/<host>`."""
    _check_segment("host", host)
    return f"{AFFINITY_PREFIX}{host}"


def handle_key(handle_id: str) -> str:
    """`/calico/ipam/v2/handle/<handle_id>`."""
    _check_segment("handle id", handle_id)
    return f"{HANDLE_PREFIX}{handle_id}"


def parse_handle_key(key: str | bytes) -> str | None:
    """The handle id of a handle key, else None."""
    key = _text(key)
    if not key.startswith(HANDLE_PREFIX):
        return None
    rest = key[len(HANDLE_PREFIX):]
    return rest if rest and "/" not in rest else None


# --- Felix status -----------------------------------------------------------------------

def escape_name(name: str) -> str:
    """libcalico-go's escapeName: make a name safe as one key segment."""
    return name.replace("%", "%25").replace("/", "%2f")


def unescape_name(segment: str) -> str:
    return segment.replace("%2f", "/").replace("%2F", "/").replace("%25", "%")


def felix_status_key(host: str, region: str = DEFAULT_REGION) -> str:
    """Felix's liveness report (written with a lease):
    `/calico/felix/v2/no-region/host/<host>/status`."""
    return f"{FELIX_STATUS_PREFIX}{region}/host/{escape_name(host)}/status"


def felix_last_reported_key(host: str, region: str = DEFAULT_REGION) -> str:
    """Felix's last report without TTL: `.../host/<host>/last_reported_status`."""
    return f"{FELIX_STATUS_PREFIX}{region}/host/{escape_name(host)}/last_reported_status"


def parse_felix_status_key(key: str | bytes) -> FelixStatusKey | None:
    parts = _segments(key, FELIX_STATUS_PREFIX)
    if parts is None:
        return None
    if (len(parts) == 4 and parts[0] and parts[1] == "host" and parts[2]
            and parts[3] in ("status", "last_reported_status")):
        return FelixStatusKey(parts[0], unescape_name(parts[2]), parts[3])
    return None


def workload_endpoint_status_key(host: str, orchestrator: str, workload: str, endpoint: str,
                                 region: str = DEFAULT_REGION) -> str:
    """`/calico/felix/v2/<region>/host/<h>/workload/<orch>/<workload>/endpoint/<ep>`, each
    name segment escaped (a Kubernetes workload id is `<namespace>/<pod>`)."""
    for what, value in (("host", host), ("orchestrator", orchestrator),
                        ("workload", workload), ("endpoint", endpoint)):
        if not value:
            raise ValueError(f"{what} must not be empty")
    return (f"{FELIX_STATUS_PREFIX}{region}/host/{escape_name(host)}/workload/"
            f"{escape_name(orchestrator)}/{escape_name(workload)}/endpoint/{escape_name(endpoint)}")


def workload_endpoint_status_prefix(host: str, region: str = DEFAULT_REGION) -> str:
    """Prefix of every workload endpoint status one host's Felix writes."""
    return f"{FELIX_STATUS_PREFIX}{region}/host/{escape_name(host)}/workload/"


def parse_workload_endpoint_status_key(key: str | bytes) -> WorkloadEndpointStatusKey | None:
    parts = _segments(key, FELIX_STATUS_PREFIX)
    if parts is None:
        return None
    if (len(parts) == 8 and parts[1] == "host" and parts[3] == "workload"
            and parts[6] == "endpoint" and all(parts)):
        return WorkloadEndpointStatusKey(parts[0], unescape_name(parts[2]), unescape_name(parts[4]),
                                         unescape_name(parts[5]), unescape_name(parts[7]))
    return None


def host_endpoint_status_key(host: str, endpoint: str) -> str:
    """`/calico/felix/v1/host/<h>/endpoint/<ep>` (host endpoint status stays on v1)."""
    if not host or not endpoint:
        raise ValueError("host and endpoint must not be empty")
    return f"{HOST_ENDPOINT_STATUS_PREFIX}{escape_name(host)}/endpoint/{escape_name(endpoint)}"


def parse_host_endpoint_status_key(key: str | bytes) -> HostEndpointStatusKey | None:
    parts = _segments(key, HOST_ENDPOINT_STATUS_PREFIX)
    if parts is None:
        return None
    if len(parts) == 3 and parts[1] == "endpoint" and parts[0] and parts[2]:
        return HostEndpointStatusKey(unescape_name(parts[0]), unescape_name(parts[2]))
    return None


def prefix_range_end(prefix: str | bytes) -> bytes:
    """The exclusive end of the etcd range holding every key that starts with `prefix`."""
    b = bytearray(prefix.encode() if isinstance(prefix, str) else prefix)
    while b:
        if b[-1] < 0xFF:
            b[-1] += 1
            return bytes(b)
        b.pop()
    return b"\0"  # etcd: "all keys >= key"
