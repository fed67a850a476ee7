"""`ipam show`, `ipam check` and `ipam release`: calicoctl's IPAM tools over
libcalico_py.ipam.

* `show`: per-pool use (`GROUPING | CIDR | IPS TOTAL | IPS IN USE | IPS FREE`), with
  `--show-blocks` every block under its pool; `--show-borrowed` the addresses a node took
  from a block affine to another node; `--show-configuration` the IPAM config;
  `--ip=ADDR` who holds one address (handle and the pod/namespace/node attributes the CNI
  plugin recorded).
* `configure`: sets StrictAffinity and MaxBlocksPerHost, leaving the rest as stored.
* `check`: reads blocks, affinities, handles, Nodes and WorkloadEndpoints once and reports
  leaks and inconsistencies (calicoctl_py.ipam_report); `-o FILE` writes the JSON report.
* `release`: `--ip` frees one address (refusing one a WorkloadEndpoint or Node still uses
  unless `--force`); `--from-report` frees what one or more reports all call leaked, but
  only addresses still held by the same handle at the same sequence number, and only
  handles whose revision has not changed, so nothing re-allocated since is touched.
"""
from __future__ import annotations

import ipaddress
import json

import click

from calicoctl_py import boxtable
from calicoctl_py.client import datastore
from calicoctl_py.exit import fail


def _ipam(config):
    from libcalico_py.ipam.allocator import IPAM
    ds = datastore(config)
    return ds, IPAM(ds)


def _valid_ip(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        fail(f"Error executing command: invalid IP address specified: {text}")


# --- show -----------------------------------------------------------------------------

def show(ip, show_blocks, show_borrowed, show_configuration, config):
    if ip is not None:
        ip = _valid_ip(ip)
    _ds, ipam = _ipam(config)
    if ip is not None:
        click.echo(_describe_ip(ipam, ip), nl=False)
    elif show_configuration:
        click.echo(_configuration(ipam), nl=False)
    elif show_borrowed:
        click.echo(_borrowed(ipam), nl=False)
    else:
        click.echo(_utilisation(ipam, show_blocks), nl=False)


def _describe_ip(ipam, ip: str) -> str:
    info = ipam.ip_info(ip)
    if info is None:
        return f"{ip} is not assigned\n"
    lines = [f"IP {ip} is in use", f"Handle ID: {info['handle_id'] or '<none>'}"]
    attrs = info.get("attributes") or {}
    if attrs:
        lines.append("Active Owner Attributes:")
        lines += [f"  {k}: {attrs[k]}" for k in sorted(attrs)]
    else:
        lines.append("No Active Owner attributes defined")
    owner = (info.get("affinity") or "").removeprefix("host:") or "<none>"
    lines.append(f"Block: {info['block']} (affine to {owner})")
    return "\n".join(lines) + "\n"


def _count(n: int, capacity: int) -> str:
    pct = 100 * n / capacity if capacity else 0
    return f"{_g(n)} ({pct:.0f}%)"


def _g(n: int) -> str:
    """Go's %.5g, which calicoctl uses for address counts (1048576 -> 1.0486e+06)."""
    return f"{float(n):.5g}"


def _utilisation(ipam, show_blocks: bool) -> str:
    usage = ipam.usage()
    pools = [(ipaddress.ip_network(p["cidr"]), p) for p in usage["pools"]]
    orphans = []
    per_pool: dict[str, list[dict]] = {p["cidr"]: [] for _, p in pools}
    for b in usage["blocks"]:
        net = ipaddress.ip_network(b["cidr"])
        home = next((p["cidr"] for pnet, p in pools
                     if pnet.version == net.version and net.subnet_of(pnet)), None)
        (per_pool[home] if home else orphans).append(b)
    rows = []
    for _, p in pools:
        rows.append(["IP Pool", p["cidr"], _g(p["total"]), _count(p["in_use"], p["total"]),
                     _count(p["free"], p["total"])])
        if show_blocks:
            rows += [_block_row(b) for b in per_pool[p["cidr"]]]
    if show_blocks:
        rows += [_block_row(b) for b in orphans]
    return boxtable.render(["GROUPING", "CIDR", "IPS TOTAL", "IPS IN USE", "IPS FREE"], rows,
                           right=(2, 3, 4))


def _block_row(b: dict) -> list[str]:
    return ["Block", b["cidr"], _g(b["total"]), _count(b["in_use"], b["total"]),
            _count(b["free"], b["total"])]


def _borrowed(ipam) -> str:
    rows, unclassified = [], 0
    for b in sorted(ipam.blocks(), key=lambda b: (b.cidr.version, int(b.cidr.network_address))):
        owner = b.host or (b.affinity or "")
        for ip, _handle in b.allocated_ips():
            secondary = (b.attributes_of(ip) or {}).get("secondary") or {}
            node = secondary.get("node")
            if not node:
                unclassified += 1
                continue
            if node == owner:
                continue
            ns, pod, kind = secondary.get("namespace", ""), secondary.get("pod"), secondary.get("type", "")
            to = f"{ns}/{pod}" if pod else ""
            rows.append([str(ip), node, str(b.cidr), owner, "pod" if pod else kind, to])
    text = boxtable.render(["IP", "BORROWING-NODE", "BLOCK", "BLOCK OWNER", "TYPE", "ALLOCATED-TO"],
                           rows)
    if unclassified:
        text += (f"\nNote: found {unclassified} IP allocations without an explicit node "
                 f"association. Unable to determine if they are borrowed.\n")
    return text


def _configuration(ipam) -> str:
    cfg = ipam.config()
    rows = [["StrictAffinity", _go(cfg.strict_affinity)],
            ["AutoAllocateBlocks", _go(cfg.auto_allocate_blocks)],
            ["MaxBlocksPerHost", _go(cfg.max_blocks_per_host)]]
    return boxtable.render(["PROPERTY", "VALUE"], rows)


def _go(v) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


# --- configure ------------------------------------------------------------------------

def configure(strict_affinity: str | None, max_blocks: str | None, config):
    """calicoctl's `ipam configure`: change only the settings given."""
    import dataclasses
    strict = None
    if strict_affinity is not None:
        strict = {"true": True, "1": True, "t": True, "false": False, "0": False, "f": False}.get(
            strict_affinity.strip().lower())
        if strict is None:
            fail("invalid value. Use true or false to set strictaffinity")
    blocks = None
    if max_blocks is not None:
        try:
            blocks = int(max_blocks)
        except ValueError:
            blocks = -1
        if blocks < 0:
            fail("invalid value for maxblockhost. Use a valid number")
    if strict is None and blocks is None:
        fail("at least one configuration option must be specified")
    _ds, ipam = _ipam(config)
    cfg = ipam.config()
    changes = {}
    if strict is not None:
        changes["strict_affinity"] = strict
    if blocks is not None:
        changes["max_blocks_per_host"] = blocks
    ipam.set_config(dataclasses.replace(cfg, **changes))
    if strict is not None:
        click.echo(f"Successfully set StrictAffinity to: {_go(strict)}")
    if blocks is not None:
        click.echo(f"Successfully set MaxBlocksPerHost to: {blocks}")


# --- check ----------------------------------------------------------------------------

def _snapshot(ds):
    from calicoctl_py.ipam_report import Snapshot
    from libcalico_py.datastore import keys
    from libcalico_py.errors import NotFound

    def raw(prefix):
        kvs, _ = ds.kv.get_prefix(prefix)
        return kvs

    try:
        ci = ds.get("ClusterInformation", "default")
        cluster_info, ci_rev = ci.to_dict(), ci.metadata.resource_version or ""
    except NotFound:
        cluster_info, ci_rev = None, ""
    return Snapshot(
        blocks={kv.key: kv.value for kv in raw(keys.BLOCK_PREFIX)},
        affinities={kv.key: kv.value for kv in raw(keys.AFFINITY_PREFIX)},
        handles={kv.key: (kv.value, kv.mod_revision) for kv in raw(keys.HANDLE_PREFIX)},
        nodes=[r.to_dict() for r in ds.list("Node")[0]],
        workload_endpoints=[r.to_dict() for r in ds.list("WorkloadEndpoint")[0]],
        pools=[r.to_dict() for r in ds.list("IPPool")[0]],
        cluster_info=cluster_info, cluster_info_revision=ci_rev)


def check(show_all_ips, show_problem_ips, report, config):
    from calicoctl_py.ipam_report import analyse
    from calicoctl_py.version_cmd import CLIENT_VERSION
    ds = datastore(config)
    result = analyse(_snapshot(ds), show_all_ips, show_problem_ips, CLIENT_VERSION)
    click.echo("\n".join(result.lines))
    if report:
        try:
            with open(report, "w", encoding="utf-8") as f:
                json.dump(result.report, f, indent=2)
                f.write("\n")
        except OSError as e:
            fail(f"Failed to write report {report}: {e.strerror}")


# --- release --------------------------------------------------------------------------

def release(ip, from_report, force, config):
    reports = list(from_report or ())
    if not ip and not reports:
        fail("Failed to execute command: give --ip=ADDR or --from-report=FILE")
    if ip and reports:
        fail("Failed to execute command: give either --ip or --from-report, not both")
    if ip:
        _release_ip(_valid_ip(ip), force, config)
    else:
        _release_from_reports(reports, force, config)


def _users_of(ds, ip: str) -> list[str]:
    from calicoctl_py.ipam_report import node_ips, workload_ips
    users = []
    for n in ds.list("Node")[0]:
        if ip in node_ips(n.to_dict()):
            users.append(f"Node({n.metadata.name})")
    for w in ds.list("WorkloadEndpoint")[0]:
        if ip in workload_ips(w.to_dict()):
            users.append(f"Workload({w.metadata.namespace}/{w.metadata.name})")
    return users


def _release_ip(ip: str, force: bool, config):
    ds, ipam = _ipam(config)
    users = _users_of(ds, ip)
    if users and not force:
        fail(f"IP address {ip} is in use by {', '.join(users)}; releasing it would let IPAM hand "
             f"it out twice. Use --force to release it anyway")
    if not ipam.release_ips([ip]):
        fail(f"IP address {ip} is not assigned")
    click.echo(f"Successfully released IP address {ip}")


def _load_report(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as e:
        fail(f"Failed to read report {path}: {e.strerror}")
    except ValueError as e:
        fail(f"Failed to read report {path}: not a JSON ipam check report ({e})")
    if not isinstance(data, dict) or "allocations" not in data:
        fail(f"Failed to read report {path}: not an 'ipam check -o' report (no 'allocations')")
    return data


def _release_from_reports(paths: list[str], force: bool, config):
    from calicoctl_py.ipam_report import merge_reports
    from calicoctl_py.version_cmd import CLIENT_VERSION
    from libcalico_py.errors import NotFound
    reports = [(p, _load_report(p)) for p in paths]
    ds, ipam = _ipam(config)
    try:
        ci = ds.get("ClusterInformation", "default")
        guid = (ci.to_dict().get("spec") or {}).get("clusterGUID", "")
        ready = (ci.to_dict().get("spec") or {}).get("datastoreReady")
        revision = ci.metadata.resource_version or ""
    except NotFound:
        guid, ready, revision = "", None, ""
    current = False
    for path, r in reports:
        if r.get("clusterGUID", "") != guid:
            fail(f"cluster does not match the provided report ({path}): mismatched cluster GUID. "
                 f"Refusing to release")
        if r.get("version") != CLIENT_VERSION:
            if not force:
                fail(f"the provided report ({path}) was produced using a different version "
                     f"({r.get('version')}) of calicoctl-py. Refusing to release")
            click.echo("WARNING: Report was produced using a different version of calicoctl-py. "
                       "Ignoring due to --force option")
        current |= r.get("clusterInformationRevision", "") == revision
    if not current:
        fail("the provided reports are all stale - at least one should be up-to-date. Please "
             "generate a new report while the data store is locked and try again")
    if ready is not False:
        if not force:
            fail("data store is not locked. Either lock the data store, or re-run with --force")
        click.echo("WARNING: Data store is not locked. Ignoring due to --force option")
    plan = merge_reports([r for _, r in reports])
    if plan.ips:
        _release_planned_ips(ipam, plan.ips)
    else:
        click.echo("Report didn't contain any leaked IPs to clean up.")
    if plan.handles:
        _release_planned_handles(ds, plan.handles)
    else:
        click.echo("Report didn't contain any handles to clean up.")
    if ready is False:
        click.echo("You may now unlock the data store.")


def _still_leaked(ipam, planned: dict) -> tuple[list[str], int]:
    """Addresses whose allocation is the one the report saw (same handle, same sequence
    number); the others were released or re-allocated since and are left alone."""
    by_cidr = {b.cidr: b for b in ipam.blocks()}
    prefixes = sorted({(c.version, c.prefixlen) for c in by_cidr})
    same, changed = [], 0
    for ip, (handle, seq) in planned.items():
        addr = ipaddress.ip_address(ip)
        b = next((by_cidr[net] for net in (ipaddress.ip_network((addr, plen), strict=False)
                                           for v, plen in prefixes if v == addr.version)
                  if net in by_cidr), None)
        if b is None or b.attributes_of(addr) is None:
            changed += 1
            continue
        now_seq = b.seq_for_allocation.get(str(b.ordinal(addr)), 0)
        if b.handle_of(addr) != handle or (seq is not None and now_seq != seq):
            changed += 1
            continue
        same.append(ip)
    return same, changed


def _release_planned_ips(ipam, planned: dict):
    same, changed = _still_leaked(ipam, planned)
    click.echo(f"Releasing {len(same)} old IPs...")
    released = ipam.release_ips(same) if same else []
    click.echo(f"Released {len(released)} IPs successfully")
    gone = changed + len(same) - len(released)
    if gone:
        click.echo(f"{gone} addresses marked as leaked in the report had already been cleaned up "
                   f"or re-allocated.")


def _release_planned_handles(ds, handles: dict[str, str]):
    from libcalico_py.datastore import keys
    click.echo(f"Deleting {len(handles)} handles...")
    done = skipped = 0
    for hid, revision in sorted(handles.items()):
        key = keys.handle_key(hid)
        kv = ds.kv.get(key)
        if kv is None or str(kv.mod_revision) != str(revision):
            skipped += 1
            continue
        if ds.kv.txn(compare=[("mod", key, kv.mod_revision)], success=[("delete", key)]):
            done += 1
        else:
            skipped += 1
    click.echo(f"Released {done} handles; {skipped} skipped; 0 errors.")
