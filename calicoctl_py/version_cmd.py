"""`version`: the client's version and, from ClusterInformation, the cluster's."""
from __future__ import annotations

import click

CLIENT_VERSION = "v3.30.0-py"   # the Calico release whose behaviour we follow
GIT_COMMIT = "calico-py"


def run(client_only: bool, config):
    click.echo(f"Client Version:    {CLIENT_VERSION}")
    click.echo(f"Git commit:        {GIT_COMMIT}")
    if client_only:
        return
    from calicoctl_py.client import datastore
    from libcalico_py.errors import NotFound
    ds = datastore(config)
    try:
        info = ds.get("ClusterInformation", "default").to_dict().get("spec", {})
    except NotFound:
        info = {}
    click.echo(f"Cluster Version:   {info.get('calicoVersion') or 'unknown'}")
    click.echo(f"Cluster Type:      {info.get('clusterType') or 'unknown'}")
