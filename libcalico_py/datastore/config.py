"""How a component finds etcd: calicoctl's connection config (reference §8.2).

Sources, in calicoctl's order: a `CalicoAPIConfig` YAML file if one is given (or the default
`/etc/calico/calicoctl.cfg` exists), otherwise the environment. Each environment variable may
be given with or without the `CALICO_` prefix; the prefixed one wins, as envconfig does in
libcalico-go. Only the etcdv3 datastore exists here; `kubernetes` is refused with a message.

Every problem raises ConfigError naming the variable or file field at fault. File paths for
certificates are checked for readability at load time, so a typo surfaces before any
connection attempt.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping
from urllib.parse import urlsplit

from libcalico_py.errors import CalicoError

DEFAULT_ENDPOINT = "http://127.0.0.1:2379"
DEFAULT_CONFIG_PATH = "/etc/calico/calicoctl.cfg"
API_VERSION = "projectcalico.org/v3"
CONFIG_KIND = "CalicoAPIConfig"

# spec field -> (environment variable, DatastoreConfig attribute)
_FIELDS = {
    "datastoreType": ("DATASTORE_TYPE", None),
    "etcdEndpoints": ("ETCD_ENDPOINTS", "endpoints"),
    "etcdDiscoverySrv": ("ETCD_DISCOVERY_SRV", None),
    "etcdCACertFile": ("ETCD_CA_CERT_FILE", "ca_cert_file"),
    "etcdCertFile": ("ETCD_CERT_FILE", "cert_file"),
    "etcdKeyFile": ("ETCD_KEY_FILE", "key_file"),
    "etcdUsername": ("ETCD_USERNAME", "username"),
    "etcdPassword": ("ETCD_PASSWORD", "password"),
    "etcdCACert": (None, "ca_cert"),
    "etcdCert": (None, "cert"),
    "etcdKey": (None, "key"),
}
# Kubernetes-datastore fields a shared config file may carry; irrelevant with etcdv3.
_IGNORED_SPEC_FIELDS = {"kubeconfig", "k8sAPIEndpoint", "k8sCertFile", "k8sKeyFile", "k8sCAFile",
                        "k8sAPIToken", "k8sInsecureSkipTLSVerify", "k8sDisableNodePoll",
                        "k8sClientQPS"}


class ConfigError(CalicoError):
    """The datastore configuration is unusable; the message names the field."""


@dataclass
class DatastoreConfig:
    """Where etcd is and how to authenticate. `ca_cert`/`cert`/`key` hold inline PEM (the
    file-only `etcdCACert`/`etcdCert`/`etcdKey` fields); they exclude the *_file forms.
    `request_timeout` bounds one etcd call; `retry_timeout` bounds the failover loop of one
    operation across all endpoints."""

    endpoints: list[str] = field(default_factory=lambda: [DEFAULT_ENDPOINT])
    ca_cert_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    username: str | None = None
    password: str | None = None
    ca_cert: str | None = None
    cert: str | None = None
    key: str | None = None
    request_timeout: float = 5.0
    retry_timeout: float = 10.0

    def __post_init__(self) -> None:
        if isinstance(self.endpoints, str):  # "http://a:2379,http://b:2379"
            self.endpoints = parse_endpoints(self.endpoints)

    # --- sources ------------------------------------------------------------------------

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "DatastoreConfig":
        env = os.environ if environ is None else environ
        values: dict[str, str] = {}
        for spec_field, (var, _attr) in _FIELDS.items():
            if var is None:
                continue
            for name in ("CALICO_" + var, var):
                if env.get(name, "") != "":
                    values[spec_field] = (env[name], name)
                    break
        return cls._build(values)

    @classmethod
    def from_file(cls, path: str) -> "DatastoreConfig":
        import yaml  # only calicoctl-style users pay for it

        try:
            with open(path, encoding="utf-8") as f:
                doc = yaml.safe_load(f)
        except OSError as e:
            raise ConfigError(f"cannot read config file {path}: {e.strerror or e}") from None
        except yaml.YAMLError as e:
            raise ConfigError(f"config file {path} is not valid YAML: {e}") from None
        if not isinstance(doc, dict):
            raise ConfigError(f"config file {path}: expected a CalicoAPIConfig document")
        if doc.get("apiVersion") != API_VERSION:
            raise ConfigError(f"config file {path}: apiVersion must be {API_VERSION} "
                              f"(got {doc.get('apiVersion')!r})")
        if doc.get("kind") != CONFIG_KIND:
            raise ConfigError(f"config file {path}: kind must be {CONFIG_KIND} "
                              f"(got {doc.get('kind')!r})")
        spec = doc.get("spec") or {}
        if not isinstance(spec, dict):
            raise ConfigError(f"config file {path}: spec must be a mapping")
        values: dict[str, tuple[str, str]] = {}
        for key, value in spec.items():
            if key in _IGNORED_SPEC_FIELDS:
                continue
            if key not in _FIELDS:
                raise ConfigError(f"config file {path}: unknown field spec.{key}")
            if value is None or value == "":
                continue
            if isinstance(value, list) and key == "etcdEndpoints":
                value = ",".join(str(v) for v in value)
            if not isinstance(value, str):
                raise ConfigError(f"config file {path}: spec.{key} must be a string "
                                  f"(got {value!r})")
            values[key] = (value, f"spec.{key} in {path}")
        return cls._build(values)

    @classmethod
    def load(cls, path: str | None = None,
             environ: Mapping[str, str] | None = None) -> "DatastoreConfig":
        """calicoctl's rule: an explicitly given file must exist; without one, the default
        file is used if present, else the environment."""
        if path is not None:
            if not os.path.exists(path):
                raise ConfigError(f"config file {path} does not exist")
            return cls.from_file(path)
        if os.path.exists(DEFAULT_CONFIG_PATH):
            return cls.from_file(DEFAULT_CONFIG_PATH)
        return cls.from_env(environ)

    # --- validation ---------------------------------------------------------------------

    @classmethod
    def _build(cls, values: dict[str, tuple[str, str]]) -> "DatastoreConfig":
        """`values` maps spec field -> (raw value, where it came from, for messages)."""
        if "datastoreType" in values:
            dtype, where = values["datastoreType"]
            if dtype != "etcdv3":
                raise ConfigError(f"{where}: datastore type {dtype!r} is not supported; "
                                  f"only etcdv3 is supported")
        if "etcdDiscoverySrv" in values:
            raise ConfigError(f"{values['etcdDiscoverySrv'][1]}: DNS SRV discovery is not "
                              f"supported; list the endpoints in ETCD_ENDPOINTS instead")
        kwargs: dict[str, object] = {}
        for spec_field, (raw, where) in values.items():
            attr = _FIELDS[spec_field][1]
            if attr == "endpoints":
                kwargs[attr] = parse_endpoints(raw, where)
            elif attr is not None:
                kwargs[attr] = raw
        cfg = cls(**kwargs)  # type: ignore[arg-type]
        cfg.validate({_FIELDS[k][1]: w for k, (_raw, w) in values.items() if _FIELDS[k][1]})
        return cfg

    def validate(self, where: Mapping[str, str] | None = None) -> None:
        """Raise ConfigError for an unusable combination. `where` maps attribute names to
        the variable/field they came from, for messages."""
        names = {"endpoints": "ETCD_ENDPOINTS", "ca_cert_file": "ETCD_CA_CERT_FILE",
                 "cert_file": "ETCD_CERT_FILE", "key_file": "ETCD_KEY_FILE",
                 "username": "ETCD_USERNAME", "password": "ETCD_PASSWORD",
                 "ca_cert": "etcdCACert", "cert": "etcdCert", "key": "etcdKey"}
        names.update(where or {})
        if not self.endpoints:
            raise ConfigError(f"{names['endpoints']}: no etcd endpoint given")
        for ep in self.endpoints:
            parse_endpoints(ep, names["endpoints"])
        for attr in ("ca_cert_file", "cert_file", "key_file"):
            path = getattr(self, attr)
            if path is None:
                continue
            inline = attr.replace("_file", "")
            if getattr(self, inline) is not None:
                raise ConfigError(f"{names[attr]} and {names[inline]}: give a certificate file "
                                  f"or inline PEM, not both")
            try:
                with open(path, "rb"):
                    pass
            except OSError as e:
                raise ConfigError(f"{names[attr]}: cannot read {path}: "
                                  f"{e.strerror or e}") from None
        has_cert = self.cert_file is not None or self.cert is not None
        has_key = self.key_file is not None or self.key is not None
        if has_cert != has_key:
            missing = "key_file" if has_cert else "cert_file"
            raise ConfigError(f"{names[missing]}: a client certificate and its key must be "
                              f"given together")
        if (self.username is None) != (self.password is None):
            missing = "password" if self.password is None else "username"
            raise ConfigError(f"{names[missing]}: etcd username and password must be given "
                              f"together")

    @property
    def uses_tls(self) -> bool:
        return any(urlsplit(ep).scheme == "https" for ep in self.endpoints)


def parse_endpoints(raw: str, where: str = "ETCD_ENDPOINTS") -> list[str]:
    """Split a comma list of etcd URLs, checking each is `http(s)://host[:port]`."""
    out = []
    for item in raw.split(","):
        ep = item.strip()
        if not ep:
            continue
        u = urlsplit(ep)
        try:
            port = u.port
        except ValueError:
            port = -1
        if u.scheme not in ("http", "https") or not u.hostname or port == -1 \
                or u.path not in ("", "/") or u.query:
            raise ConfigError(f"{where}: invalid etcd endpoint {ep!r} "
                              f"(expected http://host:port or https://host:port)")
        out.append(ep.rstrip("/"))
    if not out:
        raise ConfigError(f"{where}: no etcd endpoint given")
    return out


def endpoint_target(endpoint: str) -> str:
    """The gRPC target (`host:port`) of an endpoint URL; port 2379 if none."""
    u = urlsplit(endpoint)
    host = u.hostname or "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{u.port or 2379}"
