"""IPReservation spec: CIDRs that Calico IPAM must never hand out."""
from __future__ import annotations

from libcalico_py.model.schema import F, ListOf, Str, Struct


class IPReservationSpec(Struct):
    FIELDS = (F("reservedCIDRs", ListOf(Str()), attr="reserved_cidrs"),)
