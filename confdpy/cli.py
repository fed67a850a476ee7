"""`confdpy`: render this node's BIRD configuration from etcd and keep BIRD in step.

Options mirror Calico's confd in calico/node; each option also reads the environment
variable Calico uses (`NODENAME`, `ETCD_ENDPOINTS` and the other `ETCD_*` /
`CALICO_ETCD_*` TLS variables as calicoctl reads them, `CALICO_ROUTER_ID`).

Exit codes: 0 success; 1 the configuration could not be produced or applied (message
on stderr, previous configuration left in place); 2 bad usage.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import sys

import click

DEFAULT_CONFDIR = "/etc/calico/confd/config"


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--onetime", is_flag=True, help="Render once, apply, and exit.")
@click.option("--node", envvar="NODENAME", default=None,
              help="This node's name [env NODENAME; default: hostname].")
@click.option("--etcd-endpoints", envvar="ETCD_ENDPOINTS", default=None,
              help="Comma-separated etcd endpoints [env ETCD_ENDPOINTS].")
@click.option("--confdir", default=DEFAULT_CONFDIR, show_default=True,
              help="Directory holding bird.cfg and its includes.")
@click.option("--bird-socket", default=None,
              help="BIRD control socket to reconfigure [default: /var/run/calico/bird.ctl "
                   "if it exists; with no socket the files are written without a reload].")
@click.option("--bird-bin", default="bird", show_default=True, help="BIRD binary used for `-p` checks.")
@click.option("--secrets-dir", default=None,
              help="Where secretKeyRef passwords are read (<dir>/<name>/<key>) "
                   "[env CALICO_BGP_SECRETS_DIR; default /etc/calico/bgp-secrets].")
@click.option("--router-id", envvar="CALICO_ROUTER_ID", default=None,
              help="Router id: an IPv4 address or 'hash' [env CALICO_ROUTER_ID].")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False))
def cli(onetime, node, etcd_endpoints, confdir, bird_socket, bird_bin, secrets_dir, router_id,
        log_level):
    """Render the BIRD 2 configuration of this node from the Calico datastore."""
    logging.basicConfig(level=log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s [%(levelname)s] confdpy %(name)s: %(message)s")
    from confdpy.passwords import SecretStore
    from confdpy.sync import ConfigWriter
    from confdpy.watcher import BgpWatcher, ConfdPipeline, load_snapshot
    from libcalico_py.birdctl import DEFAULT_SOCKET
    from libcalico_py.datastore.config import DatastoreConfig, parse_endpoints
    from libcalico_py.datastore.etcd import EtcdDatastore
    from libcalico_py.errors import CalicoError

    node = node or socket.gethostname()
    if bird_socket is None and os.path.exists(DEFAULT_SOCKET):
        bird_socket = DEFAULT_SOCKET
    try:
        config = DatastoreConfig.from_env()
        if etcd_endpoints:
            config.endpoints = parse_endpoints(etcd_endpoints, "--etcd-endpoints")
        ds = EtcdDatastore(config)
    except CalicoError as e:
        raise click.ClickException(str(e)) from None
    writer = ConfigWriter(confdir, bird_socket, bird_bin)
    pipeline = ConfdPipeline(node, writer, router_id, SecretStore(secrets_dir))
    try:
        if onetime:
            result = pipeline.run_once(load_snapshot(ds, node))
            click.echo(f"confdpy: {os.path.join(confdir, 'bird.cfg')}: "
                       f"{'updated ' + ', '.join(result.sync.changed) if result.sync.changed else 'unchanged'}"
                       f"{', BIRD reconfigured' if result.sync.reloaded else ''}", err=True)
            return
        watcher = BgpWatcher(ds, pipeline)
        signal.signal(signal.SIGTERM, lambda *_: watcher.stop())
        signal.signal(signal.SIGINT, lambda *_: watcher.stop())
        watcher.run()
    except CalicoError as e:
        raise click.ClickException(str(e)) from None
    finally:
        ds.close()


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="confdpy")
