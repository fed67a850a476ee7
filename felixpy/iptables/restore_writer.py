"""TableWriter over `iptables-{legacy,nft}-save` and `iptables-{legacy,nft}-restore --noflush`.

One restore run per table apply: the payload declares (and so flushes) every chain it rewrites,
so a chain is never half-written, and `COMMIT` swaps the table in one step. The legacy binary
takes the xtables lock (`--wait`), the nft one needs no lock.
"""
from __future__ import annotations

import logging
import subprocess

from felixpy.iptables.writer import TableDelta, TableWriteError

log = logging.getLogger(__name__)

BACKENDS = ("legacy", "nft")


class RestoreWriter:
    kind = "restore"

    def __init__(self, backend: str, timeout: float = 30.0):
        if backend not in BACKENDS:
            raise ValueError(f"unknown iptables backend {backend!r} (expected legacy or nft)")
        self.backend = backend
        self.timeout = timeout
        self.bytes_written = 0

    def _run(self, table: str, operation: str, argv: list[str], payload: str | None = None) -> str:
        try:
            res = subprocess.run(argv, input=payload, capture_output=True, text=True, timeout=self.timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise TableWriteError(table, operation, str(exc)) from exc
        if res.returncode != 0:
            raise TableWriteError(table, operation, (res.stderr or res.stdout).strip() or f"exit {res.returncode}")
        return res.stdout

    def read(self, table: str) -> str:
        return self._run(table, "save", [f"iptables-{self.backend}-save", "-t", table])

    def read_all(self) -> str:
        return self._run("*", "save", [f"iptables-{self.backend}-save"])

    def write(self, table: str, delta: TableDelta) -> None:
        payload = delta.render_restore(table)
        argv = [f"iptables-{self.backend}-restore", "--noflush"]
        if self.backend == "legacy":
            argv += ["--wait", "10"]
        log.debug("iptables-%s-restore payload for %s:\n%s", self.backend, table, payload)
        self._run(table, "restore", argv, payload)
        self.bytes_written += len(payload)
