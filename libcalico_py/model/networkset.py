"""NetworkSet (namespaced) and GlobalNetworkSet specs: lists of CIDRs made selectable by
the set's metadata labels."""
from __future__ import annotations

from libcalico_py.model.schema import F, ListOf, Str, Struct


class NetworkSetSpec(Struct):
    FIELDS = (F("nets", ListOf(Str())),)


class GlobalNetworkSetSpec(Struct):
    FIELDS = (F("nets", ListOf(Str())),)
