"""What a CNI invocation is told: the `CNI_*` environment and the network config on stdin.

`CNIEnv.from_environ()` reads the CNI parameters (command, container ID, netns path, interface
name, `CNI_ARGS`, `CNI_PATH`) and checks the ones the command needs (code 4 when missing).
`CNI_ARGS` is `K=V;K=V`; real runtimes add `IgnoreUnknown=1` and keys such as
`K8S_POD_INFRA_CONTAINER_ID`; an unknown key without `IgnoreUnknown` is refused, as the
reference plugins do.

`NetConf.parse()` reads the network config with Calico's keys (reference §9.2):
`etcd_endpoints`, `etcd_key_file`/`etcd_cert_file`/`etcd_ca_cert_file`, `nodename`,
`log_level`, `mtu`, `ipam{type, ipv4_pools, ...}`, plus the conventional `args.cni.labels`
and `args.cni.ips` and a chained `prevResult`. Environment fallbacks: `NODENAME`,
`ETCD_ENDPOINTS`, `ETCD_KEY_FILE`, `ETCD_CERT_FILE`, `ETCD_CA_CERT_FILE`. Every problem is
a CNIError naming the key (code 7, or 6 when stdin is not JSON).
"""
from __future__ import annotations

import ipaddress
import json
import os
import socket
from dataclasses import dataclass, field
from typing import Mapping

from cni_py.spec import (DECODING_FAILURE, INVALID_ENVIRONMENT, INVALID_NETWORK_CONFIG, CNIError,
                         check_version)

DEFAULT_ETCD_ENDPOINT = "http://127.0.0.1:2379"
DEFAULT_MTU = 1500
NODENAME_FILE = "/var/lib/calico/nodename"
CALICO_IPAM_TYPES = ("calico-ipam", "calico-ipam-py")
COMMANDS = ("ADD", "DEL", "CHECK", "VERSION")
KNOWN_CNI_ARGS = ("IgnoreUnknown", "K8S_POD_NAMESPACE", "K8S_POD_NAME",
                  "K8S_POD_INFRA_CONTAINER_ID", "K8S_POD_UID", "IP", "MAC")


@dataclass
class CNIEnv:
    command: str
    container_id: str = ""
    netns: str = ""
    ifname: str = ""
    args: dict[str, str] = field(default_factory=dict)
    path: list[str] = field(default_factory=list)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None,
                     need_netns: bool = True) -> "CNIEnv":
        """`need_netns=False` for IPAM plugins, which never enter the pod's namespace."""
        env = os.environ if environ is None else environ
        command = env.get("CNI_COMMAND", "")
        if command not in COMMANDS:
            raise CNIError(INVALID_ENVIRONMENT,
                           f"CNI_COMMAND must be one of {', '.join(COMMANDS)} (got {command!r})")
        e = cls(command=command, container_id=env.get("CNI_CONTAINERID", ""),
                netns=env.get("CNI_NETNS", ""), ifname=env.get("CNI_IFNAME", ""),
                path=[p for p in env.get("CNI_PATH", "").split(os.pathsep) if p])
        if command == "VERSION":
            return e
        e.args = parse_cni_args(env.get("CNI_ARGS", ""))
        needed = ["CNI_CONTAINERID", "CNI_IFNAME"] + (["CNI_NETNS"] if need_netns and command in ("ADD", "CHECK") else [])
        missing = [n for n in needed if not env.get(n)]
        if missing:
            raise CNIError(INVALID_ENVIRONMENT, f"required environment variable {missing[0]} is not set",
                           ", ".join(missing))
        if len(e.ifname) > 15 or "/" in e.ifname or e.ifname in (".", ".."):
            raise CNIError(INVALID_ENVIRONMENT, f"CNI_IFNAME {e.ifname!r} is not a valid interface name")
        return e

    @property
    def pod_namespace(self) -> str:
        return self.args.get("K8S_POD_NAMESPACE", "")

    @property
    def pod_name(self) -> str:
        return self.args.get("K8S_POD_NAME", "")


def parse_cni_args(raw: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in raw.split(";"):
        if not item.strip():
            continue
        k, sep, v = item.partition("=")
        if not sep or not k:
            raise CNIError(INVALID_ENVIRONMENT, f"CNI_ARGS: invalid element {item!r} (want KEY=VALUE)")
        out[k.strip()] = v.strip()
    ignore = out.get("IgnoreUnknown", "").lower() in ("1", "true")
    if not ignore:
        unknown = [k for k in out if k not in KNOWN_CNI_ARGS]
        if unknown:
            raise CNIError(INVALID_ENVIRONMENT, f"CNI_ARGS: unknown key {unknown[0]!r} "
                           "(set IgnoreUnknown=1 to ignore unknown keys)")
    return out


@dataclass
class NetConf:
    raw: dict
    cni_version: str
    name: str
    type: str
    ipam: dict
    etcd_endpoints: list[str]
    etcd_key_file: str | None
    etcd_cert_file: str | None
    etcd_ca_cert_file: str | None
    nodename: str
    log_level: str
    mtu: int
    ipv4_pools: list[str]
    labels: dict[str, str]
    requested_ips: list[str]
    prev_result: dict | None
    stdin: bytes = b""

    @property
    def calico_ipam(self) -> bool:
        return self.ipam.get("type") in CALICO_IPAM_TYPES

    def handle_id(self, container_id: str) -> str:
        """Calico's IPAM handle for a container: `<network name>.<containerID>`."""
        return f"{self.name}.{container_id}"

    @classmethod
    def parse(cls, stdin: bytes | str, command: str = "",
              environ: Mapping[str, str] | None = None) -> "NetConf":
        env = os.environ if environ is None else environ
        try:
            d = json.loads(stdin or b"")
        except ValueError as e:
            raise CNIError(DECODING_FAILURE, f"network config on stdin is not valid JSON: {e}") from None
        if not isinstance(d, dict):
            raise CNIError(DECODING_FAILURE, "network config on stdin must be a JSON object")
        version = check_version(d.get("cniVersion"), command)
        name = d.get("name")
        if not name or not isinstance(name, str):
            raise CNIError(INVALID_NETWORK_CONFIG, "network config has no name")
        ipam = d.get("ipam") or {}
        if not isinstance(ipam, dict):
            raise CNIError(INVALID_NETWORK_CONFIG, "ipam must be an object")
        mtu = d.get("mtu") or DEFAULT_MTU
        if not isinstance(mtu, int) or isinstance(mtu, bool) or not 68 <= mtu <= 65535:
            raise CNIError(INVALID_NETWORK_CONFIG, f"mtu must be an integer 68-65535 (got {mtu!r})")
        pools = ipam.get("ipv4_pools") or []
        if not isinstance(pools, list) or not all(isinstance(p, str) for p in pools):
            raise CNIError(INVALID_NETWORK_CONFIG, "ipam.ipv4_pools must be a list of pool names or CIDRs")
        endpoints = d.get("etcd_endpoints") or env.get("ETCD_ENDPOINTS") or DEFAULT_ETCD_ENDPOINT
        if not isinstance(endpoints, str):
            raise CNIError(INVALID_NETWORK_CONFIG, "etcd_endpoints must be a comma-separated string")
        cni_args = ((d.get("args") or {}).get("cni") or {}) if isinstance(d.get("args"), dict) else {}
        return cls(raw=d, cni_version=version, name=name, type=str(d.get("type", "")), ipam=ipam,
                   etcd_endpoints=[e.strip() for e in endpoints.split(",") if e.strip()],
                   etcd_key_file=d.get("etcd_key_file") or env.get("ETCD_KEY_FILE") or None,
                   etcd_cert_file=d.get("etcd_cert_file") or env.get("ETCD_CERT_FILE") or None,
                   etcd_ca_cert_file=d.get("etcd_ca_cert_file") or env.get("ETCD_CA_CERT_FILE") or None,
                   nodename=resolve_nodename(d, env), log_level=str(d.get("log_level") or "info"),
                   mtu=mtu, ipv4_pools=pools, labels=_labels(cni_args.get("labels")),
                   requested_ips=_ips(cni_args.get("ips")),
                   prev_result=d.get("prevResult") if isinstance(d.get("prevResult"), dict) else None,
                   stdin=stdin if isinstance(stdin, bytes) else stdin.encode())

    def datastore(self):
        """The etcd client for this config (the light JSON-gateway one, see etcd_gateway)."""
        from cni_py.etcd_gateway import EtcdGateway
        return EtcdGateway(self.etcd_endpoints, ca_cert_file=self.etcd_ca_cert_file,
                           cert_file=self.etcd_cert_file, key_file=self.etcd_key_file)


def resolve_nodename(d: Mapping, env: Mapping[str, str]) -> str:
    """Calico's order: config `nodename`, then NODENAME, then the nodename file written by
    calico-node (unless `nodename_file` points elsewhere), then the host name."""
    if d.get("nodename"):
        return str(d["nodename"])
    if env.get("NODENAME"):
        return env["NODENAME"]
    path = d.get("nodename_file") or NODENAME_FILE
    try:
        with open(path) as f:
            name = f.read().strip()
        if name:
            return name
    except OSError:
        pass
    return socket.gethostname()


def _labels(raw) -> dict[str, str]:
    """`args.cni.labels` as the CNI conventions give it (`[{"key": k, "value": v}]`), or a
    plain mapping."""
    if not raw:
        return {}
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items()}
    if isinstance(raw, list):
        out = {}
        for i, item in enumerate(raw):
            if not isinstance(item, dict) or "key" not in item:
                raise CNIError(INVALID_NETWORK_CONFIG, f"args.cni.labels[{i}] must be {{key, value}}")
            out[str(item["key"])] = str(item.get("value", ""))
        return out
    raise CNIError(INVALID_NETWORK_CONFIG, "args.cni.labels must be a list of {key, value}")


def _ips(raw) -> list[str]:
    if not raw:
        return []
    if not isinstance(raw, list):
        raise CNIError(INVALID_NETWORK_CONFIG, "args.cni.ips must be a list of addresses")
    out = []
    for i, ip in enumerate(raw):
        try:
            out.append(str(ipaddress.ip_interface(str(ip)).ip))
        except ValueError:
            raise CNIError(INVALID_NETWORK_CONFIG, f"args.cni.ips[{i}]: {ip!r} is not an IP address") from None
    return out
