"""BGP AS numbers: a plain number or the dotted `a.b` form (a, b 16-bit), stored as the
32-bit number Calico's numorstring.ASNumber holds; 0 is not a valid AS."""
from __future__ import annotations

import re

MAX_AS = 2**32 - 1


def parse_as_number(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError("expected an AS number")
    if isinstance(value, str):
        m = re.fullmatch(r"(\d+)\.(\d+)", value)
        if m:
            hi, lo = int(m.group(1)), int(m.group(2))
            if hi > 0xFFFF or lo > 0xFFFF:
                raise ValueError(f"dotted AS number {value!r} has a part above 65535")
            value = hi * 65536 + lo
        elif re.fullmatch(r"\d+", value):
            value = int(value)
        else:
            raise ValueError(f"{value!r} is not a valid AS number")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        raise ValueError("expected an AS number")
    if not 0 < value <= MAX_AS:
        raise ValueError(f"AS number {value} is out of range 1-{MAX_AS}")
    return value
