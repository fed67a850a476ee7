"""The declarative field-table engine behind every typed resource.

Each spec class lists its fields once (`F(json_name, type, ...)`); the generic `parse`
and `dump` here turn Calico's camelCase JSON into typed Python objects and back. The
tables mirror the Go structs' JSON tags, including what `omitempty` does:

* a non-pointer Go field tagged `omitempty` is dropped when it holds its zero value
  (``""``, ``0``, ``false``, empty list or map) -- `F(..., ptr=False)`, the default;
* a pointer field (`*bool`, `*int`, ...) is dropped only when unset, so an explicit
  ``false`` or ``0`` survives -- `F(..., ptr=True)`;
* a field without `omitempty` is always written -- `F(..., always=True)`; a nested
  struct value (Go never omits those) is written as ``{}`` when empty.

Parsing never stops at the first problem: type errors and unknown fields are appended to
the caller's error list with their path from the document root, so a whole object is
reported at once.
"""
from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass
from typing import Any, Callable, ClassVar

from libcalico_py.errors import FieldError

UNKNOWN_FIELD = "field in document is not recognized or is in the wrong location"

def join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


@functools.lru_cache(maxsize=None)
def snake(name: str) -> str:
    """camelCase JSON name -> snake_case attribute (`ipv4IPIPTunnelAddr` ->
    `ipv4_ipip_tunnel_addr`, `containerID` -> `container_id`)."""
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    return s.replace("-", "_").lower()


class Type:
    """How one JSON value is checked, converted and written back."""

    def parse(self, value: Any, path: str, errs: list[FieldError]) -> Any:
        raise NotImplementedError

    def dump(self, value: Any) -> Any:
        return value


class Str(Type):
    def parse(self, value, path, errs):
        if isinstance(value, str):
            return value
        errs.append(FieldError(path, "expected a string", value))
        return None


class Int(Type):
    def parse(self, value, path, errs):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
            errs.append(FieldError(path, "expected an integer", value))
            return None
        return int(value)


class Float(Type):
    def parse(self, value, path, errs):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errs.append(FieldError(path, "expected a number", value))
            return None
        return float(value)

    def dump(self, value):
        # Go marshals whole float64 values without a fraction ("order: 100").
        return int(value) if float(value).is_integer() else value


class Bool(Type):
    def parse(self, value, path, errs):
        if isinstance(value, bool):
            return value
        errs.append(FieldError(path, "expected a boolean", value))
        return None


class Raw(Type):
    """Free-form JSON kept as given (status blocks, opaque extension objects)."""

    def parse(self, value, path, errs):
        return copy.deepcopy(value)

    def dump(self, value):
        return copy.deepcopy(value)


class Converted(Type):
    """A scalar with its own conversion: `conv(value) -> canonical` raising ValueError
    with the reason (ports, protocols, AS numbers)."""

    def __init__(self, conv: Callable[[Any], Any]):
        self.conv = conv

    def parse(self, value, path, errs):
        try:
            return self.conv(value)
        except (ValueError, TypeError) as exc:
            errs.append(FieldError(path, str(exc), value))
            return None


class ListOf(Type):
    def __init__(self, item: Type):
        self.item = item

    def parse(self, value, path, errs):
        if not isinstance(value, list):
            errs.append(FieldError(path, "expected a list", value))
            return None
        item = self.item
        if type(item) is Str and all(type(v) is str for v in value):
            return list(value)
        parse = item.parse
        return [parse(v, f"{path}[{i}]", errs) for i, v in enumerate(value)]

    def dump(self, value):
        return [self.item.dump(v) if v is not None else None for v in value]


class MapOf(Type):
    def __init__(self, item: Type):
        self.item = item

    def parse(self, value, path, errs):
        if not isinstance(value, dict):
            errs.append(FieldError(path, "expected a map", value))
            return None
        if type(self.item) is Str and all(type(k) is str and type(v) is str
                                           for k, v in value.items()):
            return dict(value)
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                errs.append(FieldError(f"{path}[{k}]", "map keys must be strings", k))
                continue
            out[k] = self.item.parse(v, f"{path}[{k}]", errs)
        return out

    def dump(self, value):
        return {k: self.item.dump(v) if v is not None else None for k, v in value.items()}


class Obj(Type):
    def __init__(self, cls: type["Struct"]):
        self.cls = cls

    def parse(self, value, path, errs):
        return self.cls.parse(value, path, errs)

    def dump(self, value):
        return value.to_dict()


@dataclass(frozen=True)
class F:
    """One field of a struct: JSON name, type and Go omit behaviour. Checks beyond the
    type live in `libcalico_py.validation`, which sees whole objects (cross-field rules)."""

    json: str
    type: Type
    ptr: bool = False
    always: bool = False
    attr: str = ""

    @functools.cached_property
    def name(self) -> str:
        return self.attr or snake(self.json)


def _is_zero(value: Any) -> bool:
    if isinstance(value, Struct):
        return False
    return value in ("", 0, False) or (isinstance(value, (list, dict)) and not value)


def _dump_is_identity(t: Type) -> bool:
    return type(t).dump is Type.dump


# Marks a field that is left out of `to_dict` when unset; `_EMPTY_OBJ` one written as {}.
_OMIT = object()
_EMPTY_OBJ = object()
# Types whose zero value is exactly their falsy value (what `_is_zero` tests).
_PLAIN_TYPES = frozenset({str, int, bool, float, list, dict})
# Field type -> the Python type whose values it keeps unchanged (parse skips the call).
_FAST_PARSE: dict[type, type] = {Str: str, Int: int, Bool: bool, Float: float}


class Struct:
    """Base of every typed object. Subclasses set `FIELDS`; attributes are the snake_case
    names of the fields, None when absent (a class-level None: only set fields live in
    the instance)."""

    FIELDS: ClassVar[tuple[F, ...]] = ()
    # Computed once per class: JSON name -> field; attribute names; parse and dump plans.
    _by_json: ClassVar[dict[str, F]] = {}
    _names: ClassVar[frozenset[str]] = frozenset()
    _parse_plan: ClassVar[dict[str, tuple]] = {}
    _dump_plan: ClassVar[tuple[tuple, ...]] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        fields = cls.FIELDS
        cls._by_json = {f.json: f for f in fields}
        cls._names = frozenset(f.name for f in fields)
        for f in fields:
            if getattr(cls, f.name, None) is not None:
                raise TypeError(f"{cls.__name__}: field {f.name!r} clashes with a class attribute")
            setattr(cls, f.name, None)
        cls._parse_plan = {f.json: (f.name, _FAST_PARSE.get(type(f.type)), f.type)
                           for f in fields}
        plan = []
        for f in fields:
            if f.always:
                missing = _EMPTY_OBJ if isinstance(f.type, Obj) else _zero_of(f.type)
            else:
                missing = _OMIT
            if _dump_is_identity(f.type):
                dump = None
            elif isinstance(f.type, ListOf) and _dump_is_identity(f.type.item):
                dump = list
            elif isinstance(f.type, MapOf) and _dump_is_identity(f.type.item):
                dump = dict
            else:
                dump = f.type.dump
            plan.append((f.name, f.json, not f.ptr and not f.always, dump, missing))
        cls._dump_plan = tuple(plan)

    def __init__(self, **values: Any):
        if values:
            unknown = values.keys() - self._names
            if unknown:
                raise TypeError(f"{type(self).__name__} has no field(s) {sorted(unknown)}")
            self.__dict__.update(values)
        self._fill_missing()

    def _fill_missing(self) -> None:
        """Give unset fields their non-None defaults (subclasses that have any)."""

    @classmethod
    def parse(cls, data: Any, path: str, errs: list[FieldError]) -> "Struct | None":
        if data is None:
            data = {}
        if not isinstance(data, dict):
            errs.append(FieldError(path or "(document)", "expected an object", data))
            return None
        plan = cls._parse_plan
        obj = cls.__new__(cls)
        attrs = obj.__dict__
        for key, value in data.items():
            entry = plan.get(key)
            if entry is None:
                errs.append(FieldError(join(path, str(key)), UNKNOWN_FIELD))
                continue
            if value is None:
                continue
            name, fast, ftype = entry
            if type(value) is fast:
                attrs[name] = value
            else:
                attrs[name] = ftype.parse(value, f"{path}.{key}" if path else key, errs)
        obj._fill_missing()
        return obj

    def to_dict(self) -> dict:
        out: dict[str, Any] = {}
        attrs = self.__dict__
        for name, json_name, omit_zero, dump, missing in self._dump_plan:
            value = attrs.get(name)
            if value is None:
                if missing is not _OMIT:
                    out[json_name] = {} if missing is _EMPTY_OBJ else missing
                continue
            if omit_zero:
                if type(value) in _PLAIN_TYPES:
                    if not value:
                        continue
                elif _is_zero(value):
                    continue
            out[json_name] = value if dump is None else dump(value)
        return out

    def copy(self):
        return copy.deepcopy(self)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in self.FIELDS
                          if getattr(self, f.name) is not None)
        return f"{type(self).__name__}({shown})"


def _zero_of(t: Type) -> Any:
    if isinstance(t, Str):
        return ""
    if isinstance(t, (Int, Float)):
        return 0
    if isinstance(t, Bool):
        return False
    return None
