"""Where BGP passwords come from: Calico's `password.secretKeyRef` without Kubernetes.

Calico reads `secretKeyRef {name, key}` from a Kubernetes Secret in calico-node's
namespace. We have no Kubernetes API, so a reference resolves, in this order, to:

1. the file `<secrets dir>/<name>/<key>` (the layout of a Secret mounted as a volume;
   the dir is `--secrets-dir`, env `CALICO_BGP_SECRETS_DIR`, default
   `/etc/calico/bgp-secrets`); one trailing newline is stripped;
2. the environment variable `CALICO_BGP_SECRET_<NAME>_<KEY>` (upper case, every
   character outside A-Z0-9 replaced by `_`).

A reference that resolves to neither is reported and the peering is not configured.
"""
from __future__ import annotations

import os
import re

DEFAULT_SECRETS_DIR = "/etc/calico/bgp-secrets"


def env_name(name: str, key: str) -> str:
    return "CALICO_BGP_SECRET_" + re.sub(r"[^A-Z0-9]", "_", f"{name}_{key}".upper())


class SecretStore:
    """Callable `(name, key) -> str | None`, as `processor.build_bird_config` expects."""

    def __init__(self, secrets_dir: str | None = None, environ: dict | None = None):
        self.environ = os.environ if environ is None else environ
        self.secrets_dir = secrets_dir or self.environ.get("CALICO_BGP_SECRETS_DIR") or DEFAULT_SECRETS_DIR

    def __call__(self, name: str, key: str) -> str | None:
        if name and key and "/" not in name and "/" not in key and name not in (".", ".."):
            path = os.path.join(self.secrets_dir, name, key)
            try:
                with open(path, encoding="utf-8") as f:
                    value = f.read()
                return value[:-1] if value.endswith("\n") else value
            except (FileNotFoundError, NotADirectoryError):
                pass
        return self.environ.get(env_name(name, key))
