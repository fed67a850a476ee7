"""Config batcher: the FelixConfiguration resources that concern this host, merged.

Calico's precedence among datastore sources: the per-host resource `node.<hostname>`
overrides the cluster-wide `default` field by field (environment variables and the
config file, which rank higher, are applied by `felixpy.config`, not here). The result
is a flat dict keyed by the v3 field name (`iptablesRefreshInterval`, `logSeverityScreen`,
...) with string values: strings as written, booleans `true`/`false`, numbers in decimal,
lists and objects as compact JSON.
"""
from __future__ import annotations

import json
from typing import Any

GLOBAL_NAME = "default"


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


class ConfigBatcher:
    def __init__(self, hostname: str, sequencer):
        self._host_name = f"node.{hostname}"
        self._seq = sequencer
        self._specs: dict[str, dict] = {}

    def on_update(self, name: str, spec: dict | None) -> None:
        if name not in (GLOBAL_NAME, self._host_name):
            return
        if spec is None:
            self._specs.pop(name, None)
        else:
            self._specs[name] = spec
        self._seq.on_config(self.merged())

    def merged(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for name in (GLOBAL_NAME, self._host_name):
            for key, value in (self._specs.get(name) or {}).items():
                out[key] = _as_text(value)
        return out
