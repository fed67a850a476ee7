"""The CNI protocol surface: versions, results, error objects and exit codes.

Everything a runtime sees from our plugins goes through here, so the rules of the CNI spec
(containernetworking/cni SPEC.md) live in one place:

* Versions: we accept configs of 0.3.0, 0.3.1, 0.4.0 and 1.0.0 and print results in the
  config's version (libcni does not convert: a runtime gets exactly what we print). 0.1.0 and
  0.2.0 (the old `ip4` result) and anything above 1.0.0 are refused with code 1. CHECK needs
  0.4.0 or later.
* Results are built once in the 1.0.0 shape and down-converted: before 1.0.0 every IP carries
  `"version": "4"|"6"`.
* Errors are `{"cniVersion", "code", "msg", "details"}` on **stdout** with exit status 1
  (libcni reads stderr only when stdout is empty). Codes: 1 incompatible version, 2
  unsupported field, 3 unknown container, 4 invalid/missing CNI_* environment, 5 I/O
  failure, 6 undecodable config, 7 invalid network config, 11 try again later (e.g. etcd
  unreachable: the runtime may retry), 999 anything else.
* VERSION is answered without validating anything else (podman sends it with dummy values).
"""
from __future__ import annotations

import json
import sys
from typing import Any

SUPPORTED_VERSIONS = ("0.3.0", "0.3.1", "0.4.0", "1.0.0")
LATEST = "1.0.0"

INCOMPATIBLE_VERSION = 1
UNSUPPORTED_FIELD = 2
UNKNOWN_CONTAINER = 3
INVALID_ENVIRONMENT = 4
IO_FAILURE = 5
DECODING_FAILURE = 6
INVALID_NETWORK_CONFIG = 7
TRY_AGAIN_LATER = 11
GENERIC = 999


class CNIError(Exception):
    """An error the plugin reports to the runtime as a CNI error object."""

    def __init__(self, code: int, msg: str, details: str = ""):
        super().__init__(msg)
        self.code, self.msg, self.details = code, msg, details

    def to_dict(self, cni_version: str | None = None) -> dict:
        d: dict[str, Any] = {"cniVersion": cni_version or LATEST, "code": self.code, "msg": self.msg}
        if self.details:
            d["details"] = self.details
        return d


def version_tuple(v: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in v.split("."))
    except ValueError:
        raise CNIError(INCOMPATIBLE_VERSION, f"invalid cniVersion {v!r}") from None


def check_version(v: Any, command: str = "") -> str:
    """The config's version if we can serve it, else CNIError(1)."""
    if v is None or v == "":
        raise CNIError(INVALID_NETWORK_CONFIG, "network config has no cniVersion")
    if not isinstance(v, str):
        raise CNIError(INVALID_NETWORK_CONFIG, f"cniVersion must be a string (got {v!r})")
    if v not in SUPPORTED_VERSIONS:
        raise CNIError(INCOMPATIBLE_VERSION,
                       f"incompatible CNI versions: config is {v!r}, plugin supports "
                       f"{', '.join(SUPPORTED_VERSIONS)}")
    if command == "CHECK" and version_tuple(v) < (0, 4, 0):
        raise CNIError(INCOMPATIBLE_VERSION, f"config version {v} does not allow CHECK")
    return v


def version_answer(stdin: bytes) -> dict:
    """The VERSION reply; the config's cniVersion is echoed when it is one we know."""
    v = LATEST
    try:
        d = json.loads(stdin or b"{}")
        if isinstance(d, dict) and d.get("cniVersion") in SUPPORTED_VERSIONS:
            v = d["cniVersion"]
    except ValueError:
        pass
    return {"cniVersion": v, "supportedVersions": list(SUPPORTED_VERSIONS)}


def format_result(result: dict, version: str) -> dict:
    """Render a 1.0.0-shaped result for `version`."""
    out = {"cniVersion": version}
    for k in ("interfaces", "ips", "routes", "dns"):
        if k in result and result[k] is not None:
            out[k] = result[k]
    if version_tuple(version) < (1, 0, 0):
        ips = []
        for ip in out.get("ips", []):
            ip = dict(ip)
            ip["version"] = "6" if ":" in ip["address"] else "4"
            ips.append(ip)
        if "ips" in out:
            out["ips"] = ips
    else:
        out["ips"] = [{k: v for k, v in ip.items() if k != "version"} for ip in out.get("ips", [])]
    out.setdefault("dns", {})
    return out


def normalise_result(result: dict | None) -> dict:
    """Any 0.3.x/0.4.0/1.0.0 result (e.g. a delegated IPAM's or a prevResult) in 1.0.0 shape."""
    if not result:
        return {}
    out = {k: result[k] for k in ("interfaces", "ips", "routes", "dns") if k in result}
    out["ips"] = [{k: v for k, v in ip.items() if k != "version"} for ip in result.get("ips") or []]
    return out


def emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj))
    sys.stdout.write("\n")
    sys.stdout.flush()


def emit_error(err: CNIError, cni_version: str | None = None) -> int:
    """Print the error object and return the exit status for it."""
    emit(err.to_dict(cni_version))
    return 1


def from_exception(exc: BaseException) -> CNIError:
    """The one place that maps library errors to CNI codes."""
    if isinstance(exc, CNIError):
        return exc
    from libcalico_py import errors
    name = type(exc).__name__
    if isinstance(exc, errors.DatastoreUnavailable):
        return CNIError(TRY_AGAIN_LATER, f"datastore unavailable: {exc}")
    if name == "TooManyRetries":
        return CNIError(TRY_AGAIN_LATER, str(exc))
    if name in ("InvalidPoolRequest", "AddressNotInPool"):
        return CNIError(INVALID_NETWORK_CONFIG, str(exc))
    if isinstance(exc, errors.ValidationError):
        return CNIError(INVALID_NETWORK_CONFIG, str(exc))
    if name == "PoolExhausted":
        return CNIError(GENERIC, f"IP address exhausted: {exc}")
    if isinstance(exc, errors.CalicoError):
        return CNIError(GENERIC, str(exc))
    if isinstance(exc, OSError):
        return CNIError(IO_FAILURE, f"{name}: {exc}")
    return CNIError(GENERIC, f"internal error: {name}: {exc}")


def error_version(stdin: bytes) -> str:
    """The cniVersion to stamp on an error when the config could not be fully parsed."""
    try:
        v = json.loads(stdin or b"{}").get("cniVersion")
    except (ValueError, AttributeError):
        return LATEST
    return v if v in SUPPORTED_VERSIONS else LATEST
