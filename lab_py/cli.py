"""`calico-lab`: a multi-node Calico cluster in network namespaces on one machine.

Examples:
  calico-lab up --name demo --nodes 3
  calico-lab namespace add --name demo prod --label team=a
  calico-lab pod add --name demo prod/web --node node1 --label app=web --port http:TCP:80
  calico-lab matrix --name demo --port 80 --protocol TCP
  calico-lab ctl --name demo -- get wep -A
  calico-lab down --name demo
"""
from __future__ import annotations

import json
import os
import sys

import click

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _lab_option(f):
    return click.option("--name", "lab_name", required=True, help="The lab's name (prefixes everything it makes).")(f)


def _run(fn):
    """One clear line on stderr and exit 1 for every expected failure."""
    from lab_py import state
    from lab_py.labels import LabelError
    from lab_py.netns import CommandFailed
    from lab_py.endpoints import EndpointError
    from lab_py.pods import LabError
    try:
        return fn()
    except (state.LabNotFound, LabError, LabelError, EndpointError, CommandFailed, TimeoutError, RuntimeError,
            ValueError, OSError) as e:
        click.echo(f"calico-lab: {e}", err=True)
        sys.exit(1)


def _require_root():
    if os.geteuid() != 0:
        click.echo("calico-lab: must run as root (it creates network namespaces)", err=True)
        sys.exit(1)


@click.group(context_settings=CONTEXT, help=__doc__.split("\n\n")[0])
def main():
    _require_root()


@main.command(context_settings=CONTEXT)
@_lab_option
@click.option("--nodes", default=3, show_default=True, type=click.IntRange(1, 100), help="Number of nodes.")
@click.option("--pool", default=None, help="IPv4 pool CIDR for pods (default 10.244.0.0/16).")
def up(lab_name, nodes, pool):
    """Bring up a lab: fabric with etcd, then NODES nodes running calico-node-py."""
    from lab_py import cluster, state

    def go():
        state.validate_name(lab_name)
        with state.locked(lab_name, create=True):
            lab = cluster.up(lab_name, nodes, pool, click.echo)
            state.save(lab)
    _run(go)


@main.command(context_settings=CONTEXT)
@_lab_option
def down(lab_name):
    """Stop every process of the lab and remove its namespaces and files."""
    from lab_py import cluster, state
    _run(lambda: (state.validate_name(lab_name), cluster.down(lab_name, click.echo)))


@main.command(context_settings=CONTEXT)
def gc():
    """Remove what crashed labs left behind (labs whose etcd is no longer running)."""
    from lab_py import cluster
    removed = _run(lambda: cluster.gc(click.echo))
    click.echo(f"removed {len(removed)} lab(s)" + (f": {', '.join(removed)}" if removed else ""))


@main.command(context_settings=CONTEXT)
@_lab_option
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text")
def status(lab_name, output):
    """Show nodes (running, ready), namespaces and pods."""
    from lab_py import cluster
    st = _run(lambda: cluster.status(lab_name))
    if output == "json":
        click.echo(json.dumps(st, indent=2))
        return
    click.echo(f"lab {st['name']}: etcd {st['etcd']['endpoint']} "
               f"({'running' if st['etcd']['running'] else 'DOWN'}), pool {st['pool']}")
    for name, n in st["nodes"].items():
        click.echo(f"  {name:<8} {n['address']:<18} {'ready' if n['ready'] else 'NOT READY'}")
    for key, p in st["pods"].items():
        labels = ",".join(f"{k}={v}" for k, v in sorted(p["labels"].items()))
        click.echo(f"  pod {key:<20} {p['node']:<8} {p['ip']:<15} {labels}")


@main.group(context_settings=CONTEXT)
def namespace():
    """Namespaces (Calico profiles kns.<ns> carrying the namespace's labels)."""


@namespace.command("add", context_settings=CONTEXT)
@_lab_option
@click.argument("ns")
@click.option("--label", "labels", multiple=True, help="k=v (repeatable).")
def namespace_add(lab_name, ns, labels):
    """Create namespace NS with its labels."""
    from lab_py import labels as lbl, pods, state

    def go():
        with state.locked(lab_name):
            lab = state.load(lab_name)
            if ns in lab.namespaces:
                raise pods.LabError(f"namespace {ns!r} already exists")
            pods.set_namespace(lab, ns, lbl.parse_pairs(labels))
            state.save(lab)
        click.echo(f"namespace/{ns} created")
    _run(go)


@namespace.command("label", context_settings=CONTEXT)
@_lab_option
@click.argument("ns")
@click.argument("changes", nargs=-1, required=True)
@click.option("--overwrite", is_flag=True, help="Allow changing an existing label's value.")
def namespace_label(lab_name, ns, changes, overwrite):
    """Change a namespace's labels, with kubectl's semantics (k=v sets, k- removes)."""
    from lab_py import labels as lbl, pods, state

    def go():
        with state.locked(lab_name):
            lab = state.load(lab_name)
            if ns not in lab.namespaces:
                raise pods.LabError(f"namespace {ns!r} does not exist")
            current = {k: v for k, v in lab.namespaces[ns].items() if k != pods.NS_NAME_LABEL}
            new = lbl.apply_changes(current, changes, overwrite)
            for key in lbl.missing_removals(current, changes):
                click.echo(f'label "{key}" not found.')
            if new == current:
                click.echo(f"namespace/{ns} not labeled")
                return
            pods.set_namespace(lab, ns, new)
            state.save(lab)
        click.echo(f"namespace/{ns} labeled")
    _run(go)


@main.group(context_settings=CONTEXT)
def pod():
    """Pods: network namespaces wired by the real CNI plugin."""


@pod.command("add", context_settings=CONTEXT)
@_lab_option
@click.argument("target", metavar="NS/POD")
@click.option("--node", required=True, help="Node to run the pod on (node1 ... nodeN).")
@click.option("--label", "labels", multiple=True, help="k=v (repeatable).")
@click.option("--port", "ports", multiple=True, help="NAME:PROTO:PORT (repeatable), e.g. http:TCP:80.")
def pod_add(lab_name, target, node, labels, ports):
    """Create a pod through the CNI plugin and serve its TCP/UDP ports."""
    from lab_py import labels as lbl, pods, state

    def go():
        ns, _, name = target.partition("/")
        if not name:
            raise pods.LabError(f"expected NS/POD, got {target!r}")
        parsed_ports = [pods.parse_port(p) for p in ports]
        with state.locked(lab_name):
            lab = state.load(lab_name)
            p = pods.add_pod(lab, ns, name, node, lbl.parse_pairs(labels), parsed_ports)
            state.save(lab)
        click.echo(f"pod/{p.key} created on {p.node} with IP {p.ip}")
    _run(go)


@pod.command("label", context_settings=CONTEXT)
@_lab_option
@click.argument("target", metavar="NS/POD")
@click.argument("changes", nargs=-1, required=True)
@click.option("--overwrite", is_flag=True, help="Allow changing an existing label's value.")
def pod_label(lab_name, target, changes, overwrite):
    """Change a pod's labels, with kubectl's semantics (k=v sets, k- removes)."""
    from lab_py import labels as lbl, pods, state

    def go():
        with state.locked(lab_name):
            lab = state.load(lab_name)
            if target not in lab.pods:
                raise pods.LabError(f"pod {target} does not exist")
            current = lab.pods[target].labels
            new = lbl.apply_changes(current, changes, overwrite)
            for key in lbl.missing_removals(current, changes):
                click.echo(f'label "{key}" not found.')
            if new == current:
                click.echo(f"pod/{target} not labeled")
                return
            pods.set_pod_labels(lab, target, new)
            state.save(lab)
        click.echo(f"pod/{target} labeled")
    _run(go)


@pod.command("del", context_settings=CONTEXT)
@_lab_option
@click.argument("target", metavar="NS/POD")
def pod_del(lab_name, target):
    """Delete a pod (CNI DEL, then its namespace)."""
    from lab_py import pods, state

    def go():
        with state.locked(lab_name):
            lab = state.load(lab_name)
            pods.del_pod(lab, target)
            state.save(lab)
        click.echo(f"pod/{target} deleted")
    _run(go)


@main.command(context_settings={**CONTEXT, "ignore_unknown_options": True})
@_lab_option
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def ctl(lab_name, args):
    """Run calicoctl-py ARGS against the lab's etcd (put ARGS after --)."""
    from lab_py import cluster, state
    lab = _run(lambda: state.load(lab_name))
    p = cluster.calicoctl(lab, list(args), input=None if sys.stdin.isatty() else sys.stdin.read(), check=False)
    click.echo(p.stdout, nl=False)
    click.echo(p.stderr, nl=False, err=True)
    sys.exit(p.returncode)


@main.command("exec", context_settings={**CONTEXT, "ignore_unknown_options": True})
@_lab_option
@click.argument("where", metavar="NODE|NS/POD")
@click.argument("cmd", nargs=-1, required=True, type=click.UNPROCESSED)
def exec_(lab_name, where, cmd):
    """Run CMD inside a node's or a pod's network namespace."""
    from lab_py import pods, state

    def target():
        lab = state.load(lab_name)
        if where in lab.nodes:
            return lab.nodes[where].netns
        if where in lab.pods:
            return lab.pods[where].netns
        raise pods.LabError(f"{where!r} is neither a node nor a pod of lab {lab_name!r}")
    ns = _run(target)
    os.execvp("ip", ["ip", "netns", "exec", ns, *cmd])


def _pods_or_fail(lab, *keys):
    from lab_py.pods import LabError
    for k in keys:
        if k not in lab.pods:
            raise LabError(f"pod {k} does not exist in lab {lab.name!r}")


@main.command(context_settings=CONTEXT)
@_lab_option
@click.argument("src", metavar="FROM")
@click.argument("dst", metavar="TO")
@click.option("--port", required=True, type=int)
@click.option("--protocol", type=click.Choice(["TCP", "UDP"], case_sensitive=False), default="TCP")
@click.option("--timeout", type=float, default=1.0, show_default=True)
def probe(lab_name, src, dst, port, protocol, timeout):
    """One real connection attempt from pod FROM to pod TO; exit 0 if it got through."""
    from lab_py import state
    from lab_py.probe import probe_many
    lab = _run(lambda: state.load(lab_name))
    _run(lambda: _pods_or_fail(lab, src, dst))
    ok = _run(lambda: probe_many([(lab.pods[src].netns, lab.pods[dst].ip, port, protocol)], timeout)[0])
    click.echo(f"{src} -> {dst} {protocol.upper()}/{port}: {'connected' if ok else 'blocked'}")
    sys.exit(0 if ok else 1)


@main.command(context_settings=CONTEXT)
@_lab_option
@click.option("--port", required=True, type=int)
@click.option("--protocol", type=click.Choice(["TCP", "UDP"], case_sensitive=False), default="TCP")
@click.option("--timeout", type=float, default=1.0, show_default=True)
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text")
def matrix(lab_name, port, protocol, timeout, output):
    """Probe every pod pair; print a grid ('.' open, 'X' blocked) or JSON."""
    from lab_py import matrix as mx, state
    lab = _run(lambda: state.load(lab_name))
    m = _run(lambda: mx.matrix(lab, port, protocol, timeout))
    if output == "json":
        click.echo(json.dumps(m, indent=1))
    else:
        click.echo(f"{protocol.upper()}/{port} (rows: from, columns: to)")
        click.echo(mx.render(m, sys.stdout.isatty()))


if __name__ == "__main__":
    main()
