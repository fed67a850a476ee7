"""Option decorators shared by the commands, so every command spells a flag the same way."""
from __future__ import annotations

import click

from calicoctl_py.client import DEFAULT_CONFIG


def allow_version_mismatch_option(f):
    """Accepted for scripts written for calicoctl; there is no client/cluster version
    check to skip."""
    return click.option("--allow-version-mismatch", is_flag=True, expose_value=False,
                        help="Accepted for calicoctl compatibility (no version check is made).")(f)


def config_option(f):
    f = allow_version_mismatch_option(f)
    return click.option("-c", "--config", "config", default=DEFAULT_CONFIG, show_default=True,
                        envvar="CALICOCTL_CONFIG",
                        help="Path to the CalicoAPIConfig file (else ETCD_* environment variables).")(f)


def namespace_option(f):
    return click.option("-n", "--namespace", "namespace", default=None,
                        help="Namespace of namespaced resources (default: 'default').")(f)


def filename_option(required: bool):
    def deco(f):
        f = click.option("-R", "--recursive", is_flag=True,
                         help="Process the directory given with -f recursively.")(f)
        return click.option("-f", "--filename", "filename", required=required, metavar="FILE|DIR|-",
                            help="Manifest file, directory, or '-' for stdin (YAML or JSON).")(f)
    return deco
