"""The TableWriter protocol: how one atomic change to one iptables table reaches the kernel.

The Table driver computes a `TableDelta` (which of our chains to (re)write or delete, which hook
rules to take out of and put into kernel chains) and hands it to a writer. Two writers exist:
`restore_writer.RestoreWriter` (one `iptables-{legacy,nft}-restore --noflush` payload) and
`iptc_writer.IptcWriter` (one python-iptables transaction, legacy tables only). Both also read the
table back as iptables-save text, the only form `save_reader` parses. Either the whole delta is
applied or none of it: both mechanisms commit a table at once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from libcalico_py.errors import CalicoError


class TableWriteError(CalicoError):
    """A table read or write failed; the driver keeps its changes pending and re-reads the table."""

    def __init__(self, table: str, operation: str, detail: str):
        self.table = table
        self.operation = operation
        self.detail = detail
        super().__init__(f"iptables {operation} of table {table} failed: {detail}")


@dataclass
class TableDelta:
    """One atomic change to one table, in the order it is applied.

    `write_chains` maps a chain we own to its full list of rule specs (created if missing,
    otherwise flushed and refilled). `hook_deletes` are (kernel chain, spec) pairs; `hook_inserts`
    are (kernel chain, specs to put at the top in this order); `hook_appends` likewise at the end.
    `delete_chains` are flushed first and removed last, after all references have gone.
    """

    write_chains: dict[str, list[str]] = field(default_factory=dict)
    hook_deletes: list[tuple[str, str]] = field(default_factory=list)
    hook_inserts: dict[str, list[str]] = field(default_factory=dict)
    hook_appends: dict[str, list[str]] = field(default_factory=dict)
    delete_chains: list[str] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not (self.write_chains or self.hook_deletes or self.hook_inserts
                    or self.hook_appends or self.delete_chains)

    def line_count(self) -> int:
        return (sum(len(r) + 1 for r in self.write_chains.values()) + len(self.hook_deletes)
                + sum(len(r) for r in self.hook_inserts.values())
                + sum(len(r) for r in self.hook_appends.values()) + 2 * len(self.delete_chains))

    def render_restore(self, table: str) -> str:
        """The delta as an iptables-restore --noflush payload."""
        lines = [f"*{table}"]
        for name in list(self.write_chains) + self.delete_chains:
            lines.append(f":{name} - [0:0]")
        for chain, spec in self.hook_deletes:
            lines.append(f"-D {chain} {spec}")
        for name, specs in self.write_chains.items():
            lines.extend(f"-A {name} {spec}" for spec in specs)
        for chain, specs in self.hook_inserts.items():
            lines.extend(f"-I {chain} {i} {spec}" for i, spec in enumerate(specs, 1))
        for chain, specs in self.hook_appends.items():
            lines.extend(f"-A {chain} {spec}" for spec in specs)
        for name in self.delete_chains:
            lines.append(f"-X {name}")
        lines.append("COMMIT")
        return "\n".join(lines) + "\n"


class TableWriter(Protocol):
    backend: str          # "legacy" | "nft": which kernel tables this writer drives
    kind: str             # "restore" | "iptc"

    def read(self, table: str) -> str:
        """The table as iptables-save text."""

    def read_all(self) -> str:
        """Every table as iptables-save text (one call)."""

    def write(self, table: str, delta: TableDelta) -> None:
        """Apply `delta` atomically or raise TableWriteError."""
