"""Everything calico-node-py reads from its environment, with Calico's variable names and
defaults, gathered once so the rest of the package takes a plain value object."""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


@dataclass
class NodeSettings:
    nodename: str
    ip: str                          # "autodetect", "none" or an address (optionally with /prefix)
    autodetection_method: str
    as_number: str | None
    pool_cidr: str
    pool_block_size: int
    pool_nat_outgoing: bool
    no_default_pools: bool
    networking_backend: str          # bird | none
    cluster_type: str
    etcd_endpoints: str
    etcd_ca_cert_file: str | None
    etcd_cert_file: str | None
    etcd_key_file: str | None
    cni_bin_dir: str
    cni_conf_dir: str
    cni_conf_name: str
    cni_mtu: int
    state_dir: str                   # /var/lib/calico (nodename file)
    run_dir: str                     # /var/run/calico (bird socket, pid files)
    confd_dir: str                   # where confdpy writes bird.cfg
    log_dir: str
    felix_env: dict = field(default_factory=dict)

    @property
    def bird_socket(self) -> str:
        return os.path.join(self.run_dir, "bird.ctl")

    @classmethod
    def from_env(cls, environ=None) -> "NodeSettings":
        env = os.environ if environ is None else environ
        run_dir = env.get("CALICO_RUN_DIR", "/var/run/calico")
        return cls(
            nodename=env.get("NODENAME") or env.get("HOSTNAME") or socket.gethostname(),
            ip=env.get("IP", "autodetect") or "autodetect",
            autodetection_method=env.get("IP_AUTODETECTION_METHOD", "first-found"),
            as_number=env.get("AS") or None,
            pool_cidr=env.get("CALICO_IPV4POOL_CIDR", "192.168.0.0/16"),
            pool_block_size=int(env.get("CALICO_IPV4POOL_BLOCK_SIZE", "26")),
            pool_nat_outgoing=_bool(env.get("CALICO_IPV4POOL_NAT_OUTGOING"), True),
            no_default_pools=_bool(env.get("NO_DEFAULT_POOLS"), False),
            networking_backend=env.get("CALICO_NETWORKING_BACKEND", "bird"),
            cluster_type=env.get("CLUSTER_TYPE", "k8s,bgp"),
            etcd_endpoints=env.get("ETCD_ENDPOINTS", "http://127.0.0.1:2379"),
            etcd_ca_cert_file=env.get("ETCD_CA_CERT_FILE") or None,
            etcd_cert_file=env.get("ETCD_CERT_FILE") or None,
            etcd_key_file=env.get("ETCD_KEY_FILE") or None,
            cni_bin_dir=env.get("CNI_BIN_DIR", "/opt/cni/bin"),
            cni_conf_dir=env.get("CNI_CONF_DIR", "/etc/cni/net.d"),
            cni_conf_name=env.get("CNI_CONF_NAME", "10-calico-py.conflist"),
            cni_mtu=int(env.get("CNI_MTU", "1500")),
            state_dir=env.get("CALICO_STATE_DIR", "/var/lib/calico"),
            run_dir=run_dir,
            confd_dir=env.get("CALICO_CONFD_DIR", os.path.join(run_dir, "confd")),
            log_dir=env.get("CALICO_LOG_DIR", "/var/log/calico"),
            felix_env={k: v for k, v in env.items() if k.startswith("FELIX_")},
        )
