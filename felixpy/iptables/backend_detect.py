"""Choosing the iptables backend and writer, as Felix's `iptablesBackend: Auto|Legacy|NFT`.

Auto follows Felix's detection roughly: whichever kernel tables already hold rules wins (legacy
only if it holds more rules than nft), so we never split a host's rules over two backends;
with nothing anywhere, nft is chosen if its binary exists. The writer is a separate choice
(`restore` or python-iptables `iptc`); iptc can only drive legacy tables.
"""
from __future__ import annotations

import logging
import shutil
import subprocess

from felixpy.iptables.restore_writer import RestoreWriter

log = logging.getLogger(__name__)

TABLES = ("filter", "raw", "mangle", "nat")


class BackendError(ValueError):
    pass


def _rule_count(backend: str) -> int:
    binary = f"iptables-{backend}-save"
    if not shutil.which(binary):
        return -1
    res = subprocess.run([binary], capture_output=True, text=True)
    if res.returncode != 0:
        return -1
    return sum(1 for line in res.stdout.splitlines() if line.startswith("-A "))


def detect_backend(mode: str) -> str:
    """Resolve Auto|Legacy|NFT (case-insensitive) to "legacy" or "nft"."""
    m = (mode or "auto").lower()
    if m in ("legacy", "nft"):
        return m
    if m != "auto":
        raise BackendError(f"iptablesBackend: {mode!r} is not one of Auto, Legacy, NFT")
    legacy, nft = _rule_count("legacy"), _rule_count("nft")
    chosen = "legacy" if legacy > max(nft, 0) or nft < 0 else "nft"
    log.info("iptablesBackend Auto: legacy holds %d rules, nft holds %d -> %s", legacy, nft, chosen)
    return chosen


def make_writer(backend: str, writer: str = "restore"):
    """A TableWriter for `backend` ("legacy"|"nft") using `writer` ("restore"|"iptc")."""
    w = (writer or "restore").lower()
    if w in ("restore", "auto"):
        return RestoreWriter(backend)
    if w in ("iptc", "python-iptables", "pythoniptables"):
        if backend != "legacy":
            raise BackendError("python-iptables (iptc) drives only the legacy tables; use iptablesBackend Legacy")
        from felixpy.iptables.iptc_writer import IptcWriter
        return IptcWriter()
    raise BackendError(f"iptables writer {writer!r} is not one of restore, iptc")
