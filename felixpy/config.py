"""Felix configuration: one declarative parameter table and Felix's precedence.

Each parameter has a Felix name (as in FelixConfiguration / `FELIX_<UPPERCASE>`), a type, a
default and whether it may only come from local sources. Precedence, lowest first (calico.md
§2.11): built-in default < FelixConfiguration `default` < FelixConfiguration `node.<host>`
< environment `FELIX_*`. The calculation graph merges the two datastore resources and sends
them in a ConfigUpdate; `FelixConfig.merge_datastore()` lays the environment on top.
Datastore connection parameters (and the host name) are local-only: a FelixConfiguration
cannot redirect the agent to another etcd.

Names are matched case-insensitively and without underscores, so `iptablesRefreshInterval`,
`IptablesRefreshInterval` and `FELIX_IPTABLESREFRESHINTERVAL` all address one parameter.
A bad value raises ConfigError naming the parameter and its source.

Deliberate differences from Felix: `endpointReportingEnabled` defaults to true (the
architecture wants realized state observable, e.g. for a CNI ADD that waits for its pod);
`iptablesWriter` (restore | iptc) and `maxIptablesFailures` are our own parameters.
"""
from __future__ import annotations

import json
import os
import re
import socket
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from libcalico_py.errors import CalicoError


class ConfigError(CalicoError, ValueError):
    def __init__(self, param: str, source: str, value: object, reason: str):
        self.param, self.source, self.value, self.reason = param, source, value, reason
        super().__init__(f"{param} (from {source}): {reason} (got {value!r})")


def _bool(v: str) -> bool:
    s = str(v).strip().lower()
    if s in ("true", "1", "yes", "on", "enabled"):
        return True
    if s in ("false", "0", "no", "off", "disabled", ""):
        return False
    raise ValueError("expected true or false")


_DUR = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")


def _duration(v: str) -> float:
    """Seconds as a number ("90", "0.5") or a Go duration ("90s", "1m30s", "500ms")."""
    s = str(v).strip()
    try:
        value = float(s)
    except ValueError:
        parts = _DUR.findall(s)
        if not parts or "".join(a + b for a, b in parts) != s:
            raise ValueError("expected seconds or a duration like 90s, 1m30s, 500ms") from None
        value = sum(float(a) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[b] for a, b in parts)
    if value < 0:
        raise ValueError("must not be negative")
    return value


def _int(v: str) -> int:
    return int(str(v).strip(), 0)


def _port(v: str) -> int:
    p = _int(v)
    if not 0 < p < 65536:
        raise ValueError("must be a port number 1-65535")
    return p


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(v: str) -> str:
        for c in choices:
            if str(v).strip().lower() == c.lower():
                return c
        raise ValueError(f"must be one of {', '.join(choices)}")
    return parse


def _str(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return ",".join(str(x) for x in v)
    return str(v).strip()


def _raw(v: Any) -> Any:
    """Passed on for the renderer to validate (failsafe port lists). The calculation graph
    sends FelixConfiguration lists as compact JSON text; those are decoded here."""
    if isinstance(v, str) and v.strip()[:1] in ("[", "{"):
        try:
            return json.loads(v)
        except ValueError:
            raise ValueError("not valid JSON") from None
    return v


def _endpoints(v: str) -> list[str]:
    eps = [e.strip() for e in str(v).split(",") if e.strip()]
    for e in eps:
        if not re.match(r"^https?://[^/\s]+$", e.rstrip("/")):
            raise ValueError(f"endpoint {e!r} is not http(s)://host:port")
    if not eps:
        raise ValueError("at least one endpoint is required")
    return eps


def _severity(v: str) -> str:
    s = str(v).strip().upper()
    s = {"WARN": "WARNING", "FATAL": "CRITICAL", "PANIC": "CRITICAL", "NONE": "CRITICAL"}.get(s, s)
    if s not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ValueError("must be one of Debug, Info, Warning, Error, Fatal")
    return s


@dataclass(frozen=True)
class Param:
    name: str
    parse: Callable[[Any], Any]
    default: Any
    local_only: bool = False
    rules: bool = False          # passed to the rule renderer (RulesConfig.from_felix_config)


PARAMS: tuple[Param, ...] = (
    # datastore connection and identity: local sources only
    Param("DatastoreType", _choice("etcdv3"), "etcdv3", local_only=True),
    Param("EtcdEndpoints", _endpoints, ["http://127.0.0.1:2379"], local_only=True),
    Param("EtcdCaFile", _str, None, local_only=True),
    Param("EtcdCertFile", _str, None, local_only=True),
    Param("EtcdKeyFile", _str, None, local_only=True),
    Param("FelixHostname", _str, None, local_only=True),
    # dataplane
    Param("IptablesBackend", _choice("Auto", "Legacy", "NFT"), "Auto"),
    Param("IptablesWriter", _choice("restore", "iptc"), "restore"),
    Param("IptablesRefreshInterval", _duration, 180.0),
    Param("RouteRefreshInterval", _duration, 90.0),
    Param("IpsetsRefreshInterval", _duration, 90.0),
    Param("IptablesPostWriteCheckInterval", _duration, 5.0),
    Param("MaxIptablesFailures", _int, 10),
    Param("Ipv4NormalRoutePriority", _int, 1024),
    Param("ChainInsertMode", _choice("insert", "append"), "insert"),
    Param("InterfacePrefix", _str, "cali", rules=True),
    Param("DefaultEndpointToHostAction", _choice("DROP", "ACCEPT", "RETURN"), "DROP", rules=True),
    Param("IptablesFilterDenyAction", _choice("DROP", "REJECT"), "DROP", rules=True),
    Param("IptablesMarkMask", _str, "0xffff0000", rules=True),
    Param("FailsafeInboundHostPorts", _raw, None, rules=True),
    Param("FailsafeOutboundHostPorts", _raw, None, rules=True),
    Param("LogPrefix", _str, "calico-packet", rules=True),
    Param("DisableConntrackInvalidCheck", _bool, False, rules=True),
    Param("NatOutgoingAddress", _str, None, rules=True),
    Param("NatPortRange", _str, None, rules=True),
    # operations
    Param("LogSeverityScreen", _severity, "INFO"),
    Param("HealthEnabled", _bool, False),
    Param("HealthHost", _str, "localhost"),
    Param("HealthPort", _port, 9099),
    Param("PrometheusMetricsEnabled", _bool, False),
    Param("PrometheusMetricsHost", _str, ""),
    Param("PrometheusMetricsPort", _port, 9091),
    Param("EndpointReportingEnabled", _bool, True),
    Param("ReportingInterval", _duration, 30.0),
    Param("ReportingTTL", _duration, 90.0),
)

_BY_KEY = {p.name.lower(): p for p in PARAMS}
RESTART_PARAMS = {"IptablesBackend", "IptablesWriter", "ChainInsertMode", "EndpointReportingEnabled",
                  "ReportingInterval", "ReportingTTL", "HealthEnabled", "HealthHost", "HealthPort",
                  "PrometheusMetricsEnabled", "PrometheusMetricsHost", "PrometheusMetricsPort"}


def _key(name: str) -> str:
    return str(name).replace("_", "").lower()


class FelixConfig:
    """Effective values plus where each came from. Attribute access by Felix name:
    `cfg.IptablesRefreshInterval`, or `cfg.get("iptablesRefreshInterval")`."""

    def __init__(self, env_values: dict[str, Any] | None = None, datastore: dict[str, Any] | None = None,
                 sources: dict[str, str] | None = None, env_raw: dict[str, str] | None = None):
        self._env = dict(env_values or {})
        self._env_raw = dict(env_raw or {})
        self._ds: dict[str, Any] = dict(datastore or {})
        self._sources = dict(sources or {})

    # ---------------------------------------------------------------- construction

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "FelixConfig":
        env = os.environ if environ is None else environ
        values, sources, raw = {}, {}, {}
        for var, value in env.items():
            if not var.startswith("FELIX_") or value == "":
                continue
            p = _BY_KEY.get(_key(var[6:]))
            if p is None:
                continue
            values[p.name] = _parse(p, value, f"environment {var}")
            sources[p.name] = f"environment {var}"
            raw[p.name] = value
        if "FelixHostname" not in values:
            host = env.get("NODENAME") or socket.gethostname()
            values["FelixHostname"] = host
            sources["FelixHostname"] = "environment NODENAME" if env.get("NODENAME") else "hostname"
        return cls(values, None, sources, raw)

    def merge_datastore(self, merged: Mapping[str, Any] | None) -> "FelixConfig":
        """A new FelixConfig with the datastore's (already merged) FelixConfiguration under the env."""
        ds, sources = {}, {k: v for k, v in self._sources.items() if v.startswith(("environment", "hostname"))}
        for name, value in (merged or {}).items():
            p = _BY_KEY.get(_key(name))
            if p is None or p.local_only or value is None or p.name in self._env:
                continue
            ds[p.name] = _parse(p, value, f"FelixConfiguration {name}")
            sources[p.name] = "FelixConfiguration"
        return FelixConfig(self._env, ds, sources, self._env_raw)

    # ---------------------------------------------------------------- access

    def get(self, name: str) -> Any:
        p = _BY_KEY.get(_key(name))
        if p is None:
            raise KeyError(name)
        if p.name in self._env:
            return self._env[p.name]
        if p.name in self._ds:
            return self._ds[p.name]
        return p.default

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self.get(name)
        except KeyError:
            raise AttributeError(name) from None

    def source(self, name: str) -> str:
        return self._sources.get(_BY_KEY[_key(name)].name, "default")

    @property
    def hostname(self) -> str:
        return self.FelixHostname

    def rules_dict(self) -> dict[str, str]:
        """The renderer's parameters as strings (what RulesConfig.from_felix_config reads)."""
        out = {}
        for p in PARAMS:
            if p.rules:
                v = self.get(p.name)
                if v is not None:
                    out[p.name] = str(v).lower() if isinstance(v, bool) else v
        return out

    def values(self) -> dict[str, Any]:
        return {p.name: self.get(p.name) for p in PARAMS}

    def changed(self, other: "FelixConfig") -> set[str]:
        a, b = self.values(), other.values()
        return {k for k in a if a[k] != b[k]}


def _parse(p: Param, value: Any, source: str) -> Any:
    try:
        return p.parse(value)
    except (ValueError, TypeError) as exc:
        raise ConfigError(p.name, source, value, str(exc)) from None
