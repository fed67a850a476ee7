"""`calico-py`: the CNI plugin that gives a pod its interface, address and endpoint.

Verbs (reference §9.3/9.4, cni.md):

* ADD: addresses from Calico IPAM in-process (`ipam.type` `calico-ipam`/`calico-ipam-py`,
  honouring `ipv4_pools` and `args.cni.ips`) or from a delegated IPAM binary; then the veth,
  routes and proxy ARP (`dataplane`); then the WorkloadEndpoint (`workload`). Any failure
  undoes the steps already done in reverse, so a failed ADD leaves no interface, no address
  held and no endpoint.
* DEL: remove the veth, release the handle `<network>.<containerID>`, delete the endpoint if
  it is this container's. Every step treats "already gone" as done, so DEL works for unknown
  containers, half-done ADDs and an empty or vanished CNI_NETNS.
* CHECK: Calico's own CHECK prints OK and checks nothing; ours verifies interface, address,
  routes, proxy ARP, endpoint and allocation, and names every missing piece.
* VERSION: answered before anything else is read.

Import graph kept small on purpose (a fresh interpreter per pod): no click, jinja2, grpc,
pyroute2 or felixpy; etcd is reached through the JSON gateway (`etcd_gateway`).
"""
from __future__ import annotations

import ipaddress
import os
import sys
from typing import Mapping

from cni_py import dataplane, workload
from cni_py.config import CNIEnv, NetConf
from cni_py.log import Log
from cni_py.spec import (GENERIC, CNIError, emit, emit_error, error_version, format_result,
                         from_exception, normalise_result, version_answer)

PLUGIN_VERSION = "calico-py 0.1.0"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in ("-v", "--version"):
        print(PLUGIN_VERSION)
        sys.exit(0)
    sys.exit(run(os.environ, sys.stdin.buffer.read()))


def run(environ: Mapping[str, str], stdin: bytes) -> int:
    version = None
    log = None
    try:
        env = CNIEnv.from_environ(environ)
        if env.command == "VERSION":
            emit(version_answer(stdin))
            return 0
        conf = NetConf.parse(stdin, env.command, environ)
        version = conf.cni_version
        log = Log(conf.log_level, conf.raw.get("log_file_path"),
                  f"{env.command} {env.container_id} ({env.pod_namespace}/{env.pod_name}): ")
        handler = {"ADD": cmd_add, "DEL": cmd_del, "CHECK": cmd_check}[env.command]
        result = handler(conf, env, environ)
        if result is not None:
            log.info(f"done: {[ip['address'] for ip in result.get('ips', [])]} on "
                     f"{result['interfaces'][0]['name']}")
            emit(format_result(result, version))
        else:
            log.debug("done")
        return 0
    except Exception as e:  # every failure becomes one CNI error object on stdout
        err = from_exception(e)
        if log is not None:
            log.error(f"failed (code {err.code}): {err.msg}")
        return emit_error(err, version or error_version(stdin))


def _host_ifname(env: CNIEnv) -> str:
    return dataplane.veth_name(env.pod_namespace or "default", env.pod_name, env.container_id)


class _Addresses:
    """Addresses obtained for this ADD and how to give them back."""

    def __init__(self, conf: NetConf, env: CNIEnv, environ: Mapping[str, str], ds):
        self.conf, self.env, self.environ, self.ds = conf, env, environ, ds
        self.ips: list = []

    def acquire(self) -> list:
        conf, env = self.conf, self.env
        if conf.calico_ipam:
            from cni_py.ipam_plugin import allocate
            from libcalico_py.ipam.allocator import IPAM
            got = allocate(IPAM(self.ds), conf, env, conf.handle_id(env.container_id))
            self.ips = [ipaddress.ip_interface(f"{ip}/{ip.max_prefixlen}") for ip in got]
        else:
            from cni_py.delegate import delegate
            result = normalise_result(delegate(conf.ipam.get("type", ""), "ADD", conf.stdin,
                                               env.path, self.environ))
            ips = [ipaddress.ip_interface(ip["address"]) for ip in result.get("ips", [])]
            if not ips:
                self.release()
                raise CNIError(GENERIC, f"IPAM plugin {conf.ipam.get('type')} returned no addresses")
            self.ips = [ipaddress.ip_interface(f"{i.ip}/{i.max_prefixlen}") for i in ips]
        return self.ips

    def release(self) -> None:
        conf, env = self.conf, self.env
        if conf.calico_ipam:
            from libcalico_py.ipam.allocator import IPAM
            IPAM(self.ds).release_by_handle(conf.handle_id(env.container_id))
        else:
            from cni_py.delegate import delegate
            delegate(conf.ipam.get("type", ""), "DEL", conf.stdin, env.path, self.environ)


def cmd_add(conf: NetConf, env: CNIEnv, environ: Mapping[str, str]) -> dict:
    ds = conf.datastore()
    host_if = _host_ifname(env)
    addrs = _Addresses(conf, env, environ, ds)
    ips = addrs.acquire()
    wired = False
    try:
        wiring = dataplane.set_up(env.netns, env.ifname, host_if, ips, conf.mtu)
        wired = True
        doc = workload.build(conf.nodename, env.pod_namespace, env.pod_name, env.container_id,
                             env.ifname, conf.name, host_if, wiring.pod_mac,
                             [str(i) for i in ips], conf.labels)
        workload.write(ds, doc)
    except BaseException as exc:
        # Undo in reverse; every step is attempted even if an earlier one fails.
        steps = ([lambda: dataplane.tear_down(env.netns, env.ifname, host_if)] if wired else [])
        for step in steps + [addrs.release]:
            try:
                step()
            except Exception as cleanup_error:  # reported with the original error
                exc.add_note(f"cleanup after failed ADD also failed: {cleanup_error}")
        raise
    return {"interfaces": [{"name": host_if, "mac": dataplane.HOST_MAC},
                           {"name": env.ifname, "mac": wiring.pod_mac, "sandbox": env.netns}],
            "ips": [{"address": str(i), "interface": 1} for i in ips],
            "dns": {}}


def cmd_del(conf: NetConf, env: CNIEnv, environ: Mapping[str, str]) -> None:
    dataplane.tear_down(env.netns, env.ifname, _host_ifname(env))
    ds = conf.datastore()
    _Addresses(conf, env, environ, ds).release()
    name, ns, *_ = workload.identity(conf.nodename, env.pod_namespace, env.pod_name,
                                     env.container_id, env.ifname, conf.name)
    workload.delete(ds, name, ns, env.container_id)
    return None


def cmd_check(conf: NetConf, env: CNIEnv, environ: Mapping[str, str]) -> None:
    ds = conf.datastore()
    host_if = _host_ifname(env)
    problems: list[str] = []
    name, ns, *_ = workload.identity(conf.nodename, env.pod_namespace, env.pod_name,
                                     env.container_id, env.ifname, conf.name)
    wep = workload.read(ds, name, ns)
    prev = normalise_result(conf.prev_result)
    if prev.get("ips"):
        ips = [ipaddress.ip_interface(ip["address"]) for ip in prev["ips"]]
    elif wep:
        ips = [ipaddress.ip_interface(n) for n in wep["spec"].get("ipNetworks", [])]
    else:
        ips = []
    ips = [ipaddress.ip_interface(f"{i.ip}/{i.max_prefixlen}") for i in ips]
    if not ips:
        problems.append("no addresses known for this container (no prevResult, no endpoint)")
    problems += dataplane.check(env.netns, env.ifname, host_if, ips)
    if wep is None:
        problems.append(f"WorkloadEndpoint {ns}/{name} missing")
    else:
        spec = wep.get("spec") or {}
        if spec.get("containerID") != env.container_id:
            problems.append(f"WorkloadEndpoint {ns}/{name} belongs to container {spec.get('containerID')!r}")
        if sorted(spec.get("ipNetworks", [])) != sorted(str(i) for i in ips):
            problems.append(f"WorkloadEndpoint {ns}/{name} has ipNetworks {spec.get('ipNetworks')}, "
                            f"expected {[str(i) for i in ips]}")
        if spec.get("interfaceName") != host_if:
            problems.append(f"WorkloadEndpoint {ns}/{name} names interface {spec.get('interfaceName')!r}")
    if conf.calico_ipam:
        from cni_py.ipam_plugin import unowned
        from libcalico_py.ipam.allocator import IPAM
        problems += unowned(IPAM(ds), [str(i.ip) for i in ips], conf.handle_id(env.container_id))
    else:
        from cni_py.delegate import delegate
        try:
            delegate(conf.ipam.get("type", ""), "CHECK", conf.stdin, env.path, environ)
        except CNIError as e:
            problems.append(f"IPAM {conf.ipam.get('type')}: {e.msg}")
    if problems:
        raise CNIError(GENERIC, "CHECK failed: " + "; ".join(problems))
    return None
