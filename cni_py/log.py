"""Plugin logging as Calico's CNI configures it: `log_level` (error, warning, info, debug;
default info) and `log_file_path` (default: stderr only).

Deliberately not the `logging` package: one line per event, written straight to stderr
and/or appended to the file, costs nothing to import. stdout stays reserved for the
result or the error object (libcni shows stderr only when stdout is empty).
"""
from __future__ import annotations

import os
import sys
import time

LEVELS = {"panic": 0, "fatal": 0, "error": 1, "warning": 2, "warn": 2, "info": 3, "debug": 4}


class Log:
    def __init__(self, level: str = "info", path: str | None = None, context: str = ""):
        self.level = LEVELS.get(str(level).lower(), LEVELS["info"])
        self.path = path
        self.context = context

    def _write(self, level: str, msg: str) -> None:
        if LEVELS[level] > self.level:
            return
        line = (f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} [{level.upper()}] "
                f"{os.getpid()} {self.context}{msg}\n")
        sys.stderr.write(line)
        if self.path:
            try:
                os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
                with open(self.path, "a") as f:
                    f.write(line)
            except OSError:
                pass  # logging must never fail the CNI call

    def error(self, msg: str) -> None:
        self._write("error", msg)

    def info(self, msg: str) -> None:
        self._write("info", msg)

    def debug(self, msg: str) -> None:
        self._write("debug", msg)
