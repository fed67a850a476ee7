"""Installing the CNI plugins and the conflist, as calico-node's install step does:
plugins copied into CNI_BIN_DIR, `CNI_CONF_DIR/CNI_CONF_NAME` naming the node and etcd.
Files are written to a temp name and renamed, so a runtime never reads half a file."""
from __future__ import annotations

import json
import os
import shutil
import sys

from node_py.settings import NodeSettings

PLUGINS = ("calico-py", "calico-ipam-py")


def conflist(settings: NodeSettings) -> dict:
    calico = {"type": "calico-py", "log_level": "info", "nodename": settings.nodename,
              "etcd_endpoints": settings.etcd_endpoints, "mtu": settings.cni_mtu,
              "ipam": {"type": "calico-ipam-py"}, "policy": {"type": "k8s"}}
    for key, value in (("etcd_ca_cert_file", settings.etcd_ca_cert_file),
                       ("etcd_cert_file", settings.etcd_cert_file),
                       ("etcd_key_file", settings.etcd_key_file)):
        if value:
            calico[key] = value
    return {"name": "k8s-pod-network", "cniVersion": "1.0.0",
            "plugins": [calico, {"type": "portmap", "snat": True, "capabilities": {"portMappings": True}}]}


def _atomic_write(path: str, data: bytes, mode: int = 0o644) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def install(settings: NodeSettings, bin_source: str | None = None) -> list[str]:
    """Copy the plugins next to the running interpreter's scripts into CNI_BIN_DIR and write
    the conflist. Returns the paths written."""
    source = bin_source or os.path.dirname(sys.executable)
    os.makedirs(settings.cni_bin_dir, exist_ok=True)
    os.makedirs(settings.cni_conf_dir, exist_ok=True)
    written = []
    for plugin in PLUGINS:
        src = shutil.which(plugin, path=source) or os.path.join(source, plugin)
        if not os.path.exists(src):
            raise FileNotFoundError(f"CNI plugin {plugin} not found in {source}")
        dst = os.path.join(settings.cni_bin_dir, plugin)
        with open(src, "rb") as f:
            _atomic_write(dst, f.read(), 0o755)
        written.append(dst)
    conf = os.path.join(settings.cni_conf_dir, settings.cni_conf_name)
    _atomic_write(conf, (json.dumps(conflist(settings), indent=2) + "\n").encode())
    written.append(conf)
    return written
