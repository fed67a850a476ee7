"""The `calicoctl-py` command line: calicoctl's verbs and flags.

Examples:
  calicoctl-py apply -f policy.yaml
  calicoctl-py get networkpolicy -n prod -o wide
  calicoctl-py get gnp default-deny -o yaml | calicoctl-py apply -f -
  calicoctl-py delete ippool pool2 --skip-not-exists
  calicoctl-py node status
"""
from __future__ import annotations

import sys

import click

from calicoctl_py.exit import fail, handled
from calicoctl_py.options import (allow_version_mismatch_option, config_option, filename_option,
                                  namespace_option)

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT, help="""Manage Calico resources and inspect nodes and IPAM
(a calicoctl work-alike).

\b
Examples:
  calicoctl-py apply -f policy.yaml
  calicoctl-py get networkpolicy -n prod -o wide
  calicoctl-py ipam show --show-blocks
  eval "$(calicoctl-py completion bash)"
""")
@click.option("-l", "--log-level", default="panic", show_default=True,
              type=click.Choice(["panic", "fatal", "error", "warn", "warning", "info", "debug"],
                                case_sensitive=False), help="Log level for diagnostics on stderr.")
@allow_version_mismatch_option
def main(log_level):
    import logging
    level = {"panic": 100, "fatal": 50}.get(log_level.lower(), getattr(logging, log_level.upper(), 100))
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")


def _write_resources(action: str, filename, recursive, config, namespace, skip_exists=False,
                     skip_not_exists=False, skip_empty=False) -> None:
    """create/apply/replace/delete -f: validate every document first, then write them."""
    with handled():
        from calicoctl_py import manifests, resources
        from calicoctl_py.client import datastore
        docs = manifests.read(filename, recursive)
        if not docs:
            if skip_empty:
                return
            click.echo(f"No resources specified in file {filename}", err=True)
            sys.exit(1)
        loaded = resources.load_documents(docs, namespace, action)
        resources.write_all(datastore(config), loaded, action, skip_exists, skip_not_exists)


@main.command(context_settings=CONTEXT)
@filename_option(required=True)
@config_option
@namespace_option
@click.option("--skip-exists", is_flag=True, help="Do not fail if a resource already exists.")
@click.option("--skip-empty", is_flag=True, help="Do not fail if the file holds no resources.")
def create(filename, recursive, config, namespace, skip_exists, skip_empty):
    """Create resources from a file; fails for any that already exist.

    \b
    Examples:
      calicoctl-py create -f policy.yaml
      cat pools.yaml | calicoctl-py create -f - --skip-exists
    """
    _write_resources("create", filename, recursive, config, namespace, skip_exists=skip_exists,
                     skip_empty=skip_empty)


def _file_command(action: str, help_text: str) -> click.Command:
    """A `<action> -f FILE` command with no options of its own (apply, replace)."""
    @main.command(action, context_settings=CONTEXT, help=help_text)
    @filename_option(required=True)
    @config_option
    @namespace_option
    def command(filename, recursive, config, namespace):
        _write_resources(action, filename, recursive, config, namespace)
    return command


apply = _file_command("apply", """Create or update resources from a file.

    \b
    Examples:
      calicoctl-py apply -f examples/
      calicoctl-py get gnp -o yaml | calicoctl-py apply -f -
    """)

replace = _file_command("replace", """Replace existing resources with the ones in a file (they
    must exist).

    \b
    Example:
      calicoctl-py replace -f pool.yaml
    """)


@main.command(context_settings=CONTEXT)
@click.argument("kind", required=False)
@click.argument("names", nargs=-1)
@click.option("-f", "--filename", default=None, metavar="FILE|DIR|-", help="Delete what a manifest names.")
@click.option("-R", "--recursive", is_flag=True, help="Process the directory given with -f recursively.")
@click.option("-s", "--skip-not-exists", is_flag=True, help="Do not fail if a resource does not exist.")
@config_option
@namespace_option
def delete(kind, names, filename, recursive, skip_not_exists, config, namespace):
    """Delete resources named on the command line or in a file.

    \b
    Examples:
      calicoctl-py delete networkpolicy allow-web -n prod
      calicoctl-py delete -f policy.yaml --skip-not-exists
    """
    with handled():
        from calicoctl_py import resources
        if filename:
            if kind:
                fail("Failed to execute command: give either -f FILE or KIND NAME, not both")
            _write_resources("delete", filename, recursive, config, namespace,
                             skip_not_exists=skip_not_exists)
            return
        if not kind or not names:
            fail("Failed to execute command: delete needs -f FILE or KIND NAME [NAME...]")
        spec = resources.resolve_kind(kind)
        from calicoctl_py.client import datastore
        from libcalico_py.errors import NotFound
        ds = datastore(config)
        ns = (namespace or "default") if spec.namespaced else None
        done = 0
        for name in names:
            try:
                ds.delete(spec.kind, name, ns)
            except NotFound as e:
                if not skip_not_exists:
                    fail(resources.failure_message("delete", [spec.doc_kind], len(names), done, e))
            done += 1
        click.echo(f"Successfully deleted {done} '{spec.doc_kind}' resource(s)")


@main.command(context_settings=CONTEXT)
@click.argument("kind", required=False)
@click.argument("names", nargs=-1)
@click.option("-f", "--filename", default=None, metavar="FILE|DIR|-", help="Get what a manifest names.")
@click.option("-o", "--output", default="ps", show_default=True,
              help="ps, wide, yaml, json, custom-columns=COL,... or go-template=...|go-template-file=...")
@click.option("-A", "--all-namespaces", "all_namespaces", is_flag=True,
              help="List namespaced resources across all namespaces.")
@click.option("-a", "all_namespaces_alias", is_flag=True, hidden=True)
@click.option("--export", is_flag=True, help="Strip cluster-specific metadata (resourceVersion, uid, ...).")
@config_option
@namespace_option
def get(kind, names, filename, output, all_namespaces, all_namespaces_alias, export, config, namespace):
    """Show resources as a table, YAML, JSON, custom columns or a template.

    \b
    Examples:
      calicoctl-py get nodes
      calicoctl-py get ippool -o wide
      calicoctl-py get wep -A
      calicoctl-py get policy -n prod allow-web -o yaml
      calicoctl-py get ippools -o custom-columns=NAME,CIDR,NAT
      calicoctl-py get gnp -o 'go-template={{range .items}}{{.metadata.name}}{{"\\n"}}{{end}}'
    """
    with handled():
        from calicoctl_py import get_cmd
        get_cmd.run(kind, names, filename, output, all_namespaces or all_namespaces_alias, export,
                    config, namespace)


@main.command(context_settings=CONTEXT)
@click.argument("kind")
@click.argument("name")
@click.option("-p", "--patch", "patch", required=True, help="The patch, as JSON or YAML.")
@click.option("-t", "--type", "patch_type", default="strategic", show_default=True,
              type=click.Choice(["strategic", "merge", "json"]), help="Patch type.")
@config_option
@namespace_option
def patch(kind, name, patch, patch_type, config, namespace):
    """Patch one resource in place.

    \b
    Examples:
      calicoctl-py patch ippool pool1 -p '{"spec":{"disabled":true}}'
      calicoctl-py patch gnp deny -t json -p '[{"op":"replace","path":"/spec/order","value":5}]'
    """
    with handled():
        from calicoctl_py import patch_cmd
        patch_cmd.run(kind, name, patch, patch_type, config, namespace)


@main.command(context_settings=CONTEXT)
@click.argument("kind")
@click.argument("name")
@click.argument("label")
@click.option("--overwrite", is_flag=True, help="Replace the value of an existing label.")
@click.option("--remove", is_flag=True, help="Remove the label (LABEL is then just the key).")
@config_option
@namespace_option
def label(kind, name, label, overwrite, remove, config, namespace):
    """Add, change or remove a label on one resource.

    \b
    Examples:
      calicoctl-py label nodes node1 rack=r1
      calicoctl-py label nodes node1 rack=r2 --overwrite
      calicoctl-py label nodes node1 rack --remove
    """
    with handled():
        from calicoctl_py import patch_cmd
        patch_cmd.label(kind, name, label, overwrite, remove, config, namespace)


@main.command(context_settings=CONTEXT)
@filename_option(required=True)
@namespace_option
@allow_version_mismatch_option
def validate(filename, recursive, namespace):
    """Validate manifests without writing anything.

    \b
    Example:
      calicoctl-py validate -f policy.yaml
    """
    with handled():
        from calicoctl_py import manifests, resources
        docs = manifests.read(filename, recursive)
        loaded = resources.load_documents(docs, namespace, "validate")
        click.echo(f"Successfully validated {len(loaded)} resource(s)")


@main.command(context_settings=CONTEXT)
@click.option("--client", "client_only", is_flag=True, help="Only print the client version.")
@config_option
def version(client_only, config):
    """Print the client version and the cluster's (from ClusterInformation).

    \b
    Example:
      calicoctl-py version
    """
    with handled():
        from calicoctl_py import version_cmd
        version_cmd.run(client_only, config)


@main.group(context_settings=CONTEXT)
def node():
    """Inspect the Calico node this command runs on.

    \b
    Examples:
      calicoctl-py node status
      calicoctl-py node checksystem
    """


@node.command("status", context_settings=CONTEXT)
@click.option("--bird-socket", default=None, envvar="CALICO_BIRD_SOCKET",
              help="BIRD control socket (default /var/run/calico/bird.ctl).")
@allow_version_mismatch_option
def node_status(bird_socket):
    """Show whether BIRD runs and the state of each BGP session.

    \b
    Example:
      calicoctl-py node status
    """
    with handled():
        from calicoctl_py import node_cmd
        node_cmd.status(bird_socket)


@node.command("checksystem", context_settings=CONTEXT)
@click.option("-f", "--kernel-config", default=None, help="Kernel config file to check modules against.")
@allow_version_mismatch_option
def node_checksystem(kernel_config):
    """Check that the kernel features and tools a node needs are present.

    \b
    Example:
      calicoctl-py node checksystem
    """
    with handled():
        from calicoctl_py import node_cmd
        node_cmd.checksystem(kernel_config)


@main.group(context_settings=CONTEXT)
def ipam():
    """Show, check and release IP address allocations.

    \b
    Examples:
      calicoctl-py ipam show --show-blocks
      calicoctl-py ipam check -o report.json
      calicoctl-py ipam release --ip=10.65.0.3
    """


@ipam.command("show", context_settings=CONTEXT)
@click.option("--ip", "ip", default=None, help="Say who holds this address.")
@click.option("--show-blocks", is_flag=True, help="Also show every block.")
@click.option("--show-borrowed", is_flag=True, help="Show addresses borrowed from other nodes' blocks.")
@click.option("--show-configuration", is_flag=True, help="Show the IPAM configuration.")
@config_option
def ipam_show(ip, show_blocks, show_borrowed, show_configuration, config):
    """Show pool and block usage, or who holds one address.

    \b
    Examples:
      calicoctl-py ipam show
      calicoctl-py ipam show --show-blocks
      calicoctl-py ipam show --ip=10.65.0.3
    """
    with handled():
        from calicoctl_py import ipam_cmd
        ipam_cmd.show(ip, show_blocks, show_borrowed, show_configuration, config)


@ipam.command("check", context_settings=CONTEXT)
@click.option("--show-all-ips", is_flag=True, help="List every allocated address.")
@click.option("--show-problem-ips", is_flag=True, help="List addresses with problems.")
@click.option("-o", "--output", "report", default=None, help="Write a JSON report to this file.")
@config_option
def ipam_check(show_all_ips, show_problem_ips, report, config):
    """Check IPAM data for leaks and inconsistencies.

    \b
    Example:
      calicoctl-py ipam check -o report.json
    """
    with handled():
        from calicoctl_py import ipam_cmd
        ipam_cmd.check(show_all_ips, show_problem_ips, report, config)


@ipam.command("release", context_settings=CONTEXT)
@click.option("--ip", "ip", default=None, help="Release this address.")
@click.option("--from-report", "from_report", multiple=True, metavar="FILE",
              help="Release what an 'ipam check -o FILE' report calls leaked; repeat to release only "
                   "what every report agrees on.")
@click.option("--force", is_flag=True,
              help="Release an address a workload or node still uses; with --from-report, accept an "
                   "unlocked datastore or a report from another version.")
@config_option
def ipam_release(ip, from_report, force, config):
    """Release addresses that are allocated but no longer used.

    \b
    Examples:
      calicoctl-py ipam release --ip=10.65.0.3
      calicoctl-py ipam check -o report.json
      calicoctl-py ipam release --from-report report.json --force
    """
    with handled():
        from calicoctl_py import ipam_cmd
        ipam_cmd.release(ip, from_report, force, config)


@ipam.command("configure", context_settings=CONTEXT)
@click.option("--strictaffinity", "strict_affinity", default=None, metavar="true|false",
              help="When true, a node never borrows addresses from another node's block.")
@click.option("--max-blocks-per-host", "max_blocks", default=None, metavar="N",
              help="The most blocks one node may claim (0: no explicit limit).")
@config_option
def ipam_configure(strict_affinity, max_blocks, config):
    """Change the IPAM configuration.

    \b
    Examples:
      calicoctl-py ipam configure --strictaffinity=true
      calicoctl-py ipam configure --max-blocks-per-host=4
    """
    with handled():
        from calicoctl_py import ipam_cmd
        ipam_cmd.configure(strict_affinity, max_blocks, config)


@main.group(context_settings=CONTEXT)
def datastore():
    """Back up and restore the Calico datastore.

    \b
    Examples:
      calicoctl-py datastore migrate export > backup.yaml
      calicoctl-py datastore migrate import -f backup.yaml
    """


@datastore.group("migrate", context_settings=CONTEXT)
def migrate():
    """Export all Calico data as one YAML stream, or import it.

    \b
    Examples:
      calicoctl-py datastore migrate export > backup.yaml
      calicoctl-py datastore migrate import -f backup.yaml
    """


@migrate.command("export", context_settings=CONTEXT)
@config_option
def migrate_export(config):
    """Print every Calico resource and the IPAM data as one YAML stream.

    \b
    Example:
      calicoctl-py datastore migrate export > backup.yaml
    """
    with handled():
        from calicoctl_py import migrate_cmd
        migrate_cmd.export(config)


@migrate.command("import", context_settings=CONTEXT)
@click.option("-f", "--filename", required=True, metavar="FILE|-", help="An export made by 'migrate export'.")
@config_option
def migrate_import(filename, config):
    """Restore an export into an empty datastore.

    \b
    Example:
      calicoctl-py datastore migrate import -f backup.yaml
    """
    with handled():
        from calicoctl_py import migrate_cmd
        migrate_cmd.import_(filename, config)


@migrate.command("lock", context_settings=CONTEXT)
@config_option
def migrate_lock(config):
    """Mark the datastore not ready (ClusterInformation datastoreReady=false), so that
    nothing allocates while you export or release leaked addresses.

    \b
    Example:
      calicoctl-py datastore migrate lock
      calicoctl-py ipam check -o report.json
      calicoctl-py ipam release --from-report report.json
      calicoctl-py datastore migrate unlock
    """
    with handled():
        from calicoctl_py import migrate_cmd
        migrate_cmd.set_ready(False, config)


@migrate.command("unlock", context_settings=CONTEXT)
@config_option
def migrate_unlock(config):
    """Mark the datastore ready again (ClusterInformation datastoreReady=true).

    \b
    Example:
      calicoctl-py datastore migrate unlock
    """
    with handled():
        from calicoctl_py import migrate_cmd
        migrate_cmd.set_ready(True, config)


@main.command(context_settings=CONTEXT)
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell):
    """Print a shell completion script.

    \b
    Example:
      eval "$(calicoctl-py completion bash)"
    """
    from click.shell_completion import get_completion_class
    script = get_completion_class(shell)(main, {}, "calicoctl-py", "_CALICOCTL_PY_COMPLETE").source()
    click.echo(script)


if __name__ == "__main__":
    main()
