"""`calico-ipam-py`: Calico IPAM as a standalone CNI IPAM plugin, for any main plugin.

A main plugin (ours, or the reference `bridge`) execs it with its own environment and its
whole network config on stdin; it runs in the caller's netns and never touches the kernel.

* ADD: one IPv4 address for handle `<network name>.<CNI_CONTAINERID>` (Calico's handle ID),
  from `ipam.ipv4_pools` if given, `args.cni.ips` if requested; the result carries the
  address with its block's prefix length, as calico-ipam's does (routes and BGP are per
  block; our main plugin narrows it to /32).
* DEL: release by handle; an unknown handle is success.
* CHECK: the addresses in `prevResult` must still belong to the handle.
* VERSION: answered before anything else is read.
"""
from __future__ import annotations

import ipaddress
import os
import sys
import time
from typing import Mapping

from cni_py.config import CNIEnv, NetConf
from cni_py.spec import (GENERIC, CNIError, emit, emit_error, error_version, format_result,
                         from_exception, normalise_result, version_answer)


def main() -> None:
    sys.exit(run(os.environ, sys.stdin.buffer.read()))


def run(environ: Mapping[str, str], stdin: bytes) -> int:
    version = None
    try:
        env = CNIEnv.from_environ(environ, need_netns=False)
        if env.command == "VERSION":
            emit(version_answer(stdin))
            return 0
        conf = NetConf.parse(stdin, env.command, environ)
        version = conf.cni_version
        from libcalico_py.ipam.allocator import IPAM
        ipam = IPAM(conf.datastore())
        handle = conf.handle_id(env.container_id)
        if env.command == "ADD":
            emit(format_result(add(ipam, conf, env, handle), version))
        elif env.command == "DEL":
            ipam.release_by_handle(handle)
        else:
            check(ipam, conf, handle)
        return 0
    except Exception as e:  # every failure becomes one CNI error object on stdout
        return emit_error(from_exception(e), version or error_version(stdin))


def allocation_attributes(conf: NetConf, env: CNIEnv) -> dict[str, str]:
    """The attributes Calico's CNI stores with each address (node, pod, time)."""
    attrs = {"node": conf.nodename,
             "timestamp": time.strftime("%Y-%m-%d %H:%M:%S +0000 UTC", time.gmtime())}
    if env.pod_name:
        attrs.update(namespace=env.pod_namespace or "default", pod=env.pod_name)
    return attrs


def allocate(ipam, conf: NetConf, env: CNIEnv, handle: str) -> list:
    """The addresses of `handle`: those it already holds (a repeated ADD keeps them), else
    the requested ones (`args.cni.ips`) or one auto-assigned from `ipv4_pools`. Also used
    in-process by `calico-py`. On failure nothing stays allocated to the handle."""
    ips = ipam.ips_by_handle(handle)
    if ips:
        return ips
    attrs = allocation_attributes(conf, env)
    try:
        if conf.requested_ips:
            return [ipam.assign(ip, handle, conf.nodename, attrs) for ip in conf.requested_ips]
        return ipam.auto_assign(handle, conf.nodename, 1, pools=conf.ipv4_pools, attrs=attrs)
    except Exception:
        ipam.release_by_handle(handle)
        raise


def unowned(ipam, addresses: list[str], handle: str) -> list[str]:
    """A problem line for each of `addresses` that is not allocated to `handle`."""
    problems = []
    for addr in addresses:
        info = ipam.ip_info(addr)
        if info is None or info.get("handle_id") != handle:
            problems.append(f"address {addr} is not allocated to handle {handle}")
    return problems


def add(ipam, conf: NetConf, env: CNIEnv, handle: str) -> dict:
    ips = allocate(ipam, conf, env, handle)
    pools = ipam.pools()
    out = []
    for ip in ips:
        prefix = next((p.block_size for p in pools if ip in p.cidr), ip.max_prefixlen)
        out.append({"address": str(ipaddress.ip_interface((ip, prefix)))})
    return {"ips": out, "dns": {}}


def check(ipam, conf: NetConf, handle: str) -> None:
    prev = normalise_result(conf.prev_result)
    problems = unowned(ipam, [str(ipaddress.ip_interface(ip["address"]).ip)
                              for ip in prev.get("ips", [])], handle)
    if problems:
        raise CNIError(GENERIC, "CHECK failed: " + "; ".join(problems))
