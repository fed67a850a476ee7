"""Real connection attempts between lab pods, many at once.

The calling thread enters each source pod's network namespace just long enough to open
its sockets (a socket stays in the namespace it was created in), returns, and then waits
for every attempt together. TCP: open when the connect completes. UDP: open when the pod
server's echo comes back. A dropped packet shows as a timeout, so every probe has a short
deadline and a matrix costs about one timeout per protocol, not one per pair.
"""
from __future__ import annotations

import ctypes
import errno
import os
import select
import socket
import threading
import time

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def _setns(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise FileNotFoundError(f"network namespace {os.path.basename(path)} is gone "
                                f"(a crashed pod or node? see calico-lab status)") from None
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, f"setns({path}): {os.strerror(e)}")
    finally:
        os.close(fd)


class InNetns:
    """Run a block with the calling thread inside network namespace `ns`."""

    def __init__(self, ns: str):
        self.path = f"/var/run/netns/{ns}"

    def __enter__(self):
        self.home = os.open(f"/proc/self/task/{threading.get_native_id()}/ns/net", os.O_RDONLY)
        try:
            _setns(self.path)
        except OSError:
            os.close(self.home)
            raise

    def __exit__(self, *exc):
        try:
            if _libc.setns(self.home, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back to the original namespace failed")
        finally:
            os.close(self.home)


def probe_many(attempts: list[tuple[str, str, int, str]], timeout: float = 1.0) -> list[bool]:
    """attempts: (source netns, destination IP, port, "TCP"|"UDP") -> reachable flags."""
    socks: list[socket.socket | None] = []
    try:
        for src_ns, dst, port, proto in attempts:
            with InNetns(src_ns):
                if proto.upper() == "TCP":
                    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    s.setblocking(False)
                    err = s.connect_ex((dst, port))
                    if err not in (0, errno.EINPROGRESS):
                        s.close()
                        s = None
                else:
                    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    s.setblocking(False)
                    try:
                        s.connect((dst, port))
                        s.send(b"probe")
                    except OSError:
                        s.close()
                        s = None
            socks.append(s)
        result = [False] * len(attempts)
        pending = {s.fileno(): i for i, s in enumerate(socks) if s is not None}
        poller = select.poll()
        for fd, i in pending.items():
            poller.register(fd, select.POLLOUT if attempts[i][3].upper() == "TCP" else select.POLLIN)
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            for fd, ev in poller.poll(max(1, int((deadline - time.monotonic()) * 1000))):
                i = pending.pop(fd, None)
                if i is None:
                    continue
                poller.unregister(fd)
                s = socks[i]
                if attempts[i][3].upper() == "TCP":
                    result[i] = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
                else:
                    try:
                        result[i] = s.recv(64) == b"probe"
                    except OSError:
                        result[i] = False
    finally:
        for s in socks:
            if s is not None:
                s.close()
    return result
