"""Typed errors raised by the library.

Front ends map them to user output once each: calicoctl_py (one line, exit code),
cni_py (CNI error JSON), felixpy/confdpy (log, readiness, retry). Nothing in the
library returns a bool for a failed write: it raises one of these.
"""
from __future__ import annotations

from dataclasses import dataclass


class CalicoError(Exception):
    """Base of every error the library raises on purpose."""


@dataclass(frozen=True)
class FieldError:
    """One problem with one field: `path` is a dotted/indexed field path such as
    `spec.ingress[0].destination.ports[1]`, `reason` says what is wrong."""

    path: str
    reason: str
    value: object = None

    def __str__(self) -> str:
        if self.value is None:
            return f"{self.path}: {self.reason}"
        return f"{self.path}: {self.reason} (got {self.value!r})"


class ValidationError(CalicoError, ValueError):
    """Every field error of one object, reported together."""

    def __init__(self, errors: list[FieldError], kind: str | None = None, name: str | None = None):
        self.errors = list(errors)
        self.kind = kind
        self.name = name
        super().__init__(self._message())

    def _message(self) -> str:
        what = " ".join(x for x in (self.kind, repr(self.name) if self.name else None) if x)
        head = f"invalid {what}: " if what else "invalid resource: "
        return head + "; ".join(str(e) for e in self.errors)


class NotFound(CalicoError, KeyError):
    def __init__(self, kind: str, name: str, namespace: str | None = None):
        self.kind, self.name, self.namespace = kind, name, namespace
        where = f"{namespace}/{name}" if namespace else name
        super().__init__(f"resource does not exist: {kind}({where})")

    def __str__(self) -> str:
        return self.args[0]


class AlreadyExists(CalicoError):
    def __init__(self, kind: str, name: str, namespace: str | None = None):
        self.kind, self.name, self.namespace = kind, name, namespace
        where = f"{namespace}/{name}" if namespace else name
        super().__init__(f"resource already exists: {kind}({where})")


class Conflict(CalicoError):
    """A compare-and-swap write lost: the stored revision is not the one given."""

    def __init__(self, key: str, expected: str | int | None, actual: str | int | None):
        self.key, self.expected, self.actual = key, expected, actual
        super().__init__(
            f"update conflict on {key}: resourceVersion {expected} is stale (stored: {actual})")


class DatastoreUnavailable(CalicoError):
    """etcd could not be reached; `endpoints` lists what was tried."""

    def __init__(self, endpoints: list[str] | tuple[str, ...], cause: str = ""):
        self.endpoints = list(endpoints)
        self.cause = cause
        msg = f"cannot connect to etcd at {', '.join(self.endpoints) or '(no endpoints)'}"
        super().__init__(f"{msg}: {cause}" if cause else msg)
