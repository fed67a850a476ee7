"""Boxed ASCII tables as calicoctl prints them (`node status`, `ipam show`):

    +--------------+-------------------+-------+
    | PEER ADDRESS |     PEER TYPE     | STATE |
    +--------------+-------------------+-------+
    | 10.0.0.2     | node-to-node mesh | start |
    +--------------+-------------------+-------+

calicoctl uses two Go table libraries: `node status` centres the header (tablewriter),
`ipam show` left-aligns it and right-aligns the number columns (go-pretty). Both shapes
come from `render()`; `get` uses the plain column layout in output.py instead.
"""
from __future__ import annotations

from typing import Sequence


def render(header: Sequence[str], rows: Sequence[Sequence[object]], *,
           right: Sequence[int] = (), center_header: bool = False) -> str:
    """The table as text ending in a newline; `right` lists columns aligned right."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max([len(header[i])] + [len(r[i]) for r in cells]) for i in range(len(header))]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def line(values, is_header):
        out = []
        for i, (v, w) in enumerate(zip(values, widths)):
            if is_header and center_header:
                out.append(v.center(w))
            elif i in right and not is_header:
                out.append(v.rjust(w))
            else:
                out.append(v.ljust(w))
        return "| " + " | ".join(out) + " |"

    lines = [rule, line(list(header), True), rule, *(line(r, False) for r in cells), rule]
    return "\n".join(lines) + "\n"
