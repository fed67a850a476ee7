"""The datastore client built from calicoctl's configuration: `--config FILE` (a
CalicoAPIConfig; default /etc/calico/calicoctl.cfg if it exists), else the environment
(DATASTORE_TYPE, ETCD_ENDPOINTS, ETCD_CA_CERT_FILE, ETCD_CERT_FILE, ETCD_KEY_FILE)."""
from __future__ import annotations

import os

DEFAULT_CONFIG = "/etc/calico/calicoctl.cfg"


def load_config(config_path: str | None):
    from libcalico_py.datastore.config import DatastoreConfig
    if config_path and config_path != DEFAULT_CONFIG:
        if not os.path.exists(config_path):
            from calicoctl_py.exit import fail
            fail(f"Failed to load client config: file does not exist: {config_path}")
        return DatastoreConfig.from_file(config_path)
    if os.path.exists(DEFAULT_CONFIG):
        return DatastoreConfig.from_file(DEFAULT_CONFIG)
    return DatastoreConfig.from_env()


def datastore(config_path: str | None):
    from libcalico_py.datastore.etcd import EtcdDatastore
    return EtcdDatastore(load_config(config_path))
