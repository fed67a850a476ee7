"""Running driver code inside a test namespace from the pytest process.

`inside(ns)` moves the calling thread into `ns` with pyroute2's pushns and back with popns;
subprocesses started meanwhile (iptables-restore, ipset) inherit it, and libiptc/netlink sockets
opened meanwhile belong to it. Nothing ever runs against the root namespace.
"""
from __future__ import annotations

import contextlib

from pyroute2 import netns as _netns


@contextlib.contextmanager
def inside(ns: str):
    _netns.pushns(ns)
    try:
        yield
    finally:
        _netns.popns()
