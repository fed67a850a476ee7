"""Rendered text -> files BIRD reads -> BIRD reconfigured, never leaving a bad config live.

`ConfigWriter.sync(files)` does, in order:

1. **compare**: if every output equals what is in CONFDIR, stop (no write, no reload);
2. **stage**: write all outputs into a fresh directory inside CONFDIR (same filesystem,
   so the later rename is atomic; includes resolve inside the staging dir);
3. **check**: `bird -p -c <staged>/bird.cfg`; a rejection raises `CheckFailed` with
   BIRD's message and CONFDIR is untouched;
4. **swap**: `os.replace` each changed file into CONFDIR, includes before the entry file;
5. **reload**: `configure "<CONFDIR>/bird.cfg"` over BIRD's control socket (if one is
   given). If BIRD refuses the new files (it should not: they passed the check), the
   previous files are put back and `ReloadFailed` is raised. If BIRD cannot be reached
   the new files stay (BIRD reads them when it starts) and `ReloadFailed` says so; the
   next `sync` retries the reload even when nothing changed (`reload_pending`).
"""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

import birdconf
from libcalico_py.birdctl import BirdClient, BirdError
from libcalico_py.errors import CalicoError

log = logging.getLogger(__name__)


class SyncError(CalicoError):
    """The new configuration did not go live; the previous one is still in place."""


class CheckFailed(SyncError):
    """`bird -p` rejected the rendered configuration."""


class ReloadFailed(SyncError):
    """BIRD was not reconfigured (unreachable, or it refused the files)."""


@dataclass(frozen=True)
class SyncResult:
    changed: tuple[str, ...]     # files replaced in CONFDIR
    reloaded: bool               # BIRD acknowledged `configure`
    timings: dict = field(default_factory=dict, compare=False)  # step -> seconds


class ConfigWriter:
    """Owns the BIRD files in `confdir` and the reload of one BIRD."""

    def __init__(self, confdir: str, bird_socket: str | None = None, bird_bin: str = "bird",
                 client: BirdClient | None = None):
        self.confdir = confdir
        self.bird_bin = bird_bin
        self.client = client or (BirdClient(bird_socket) if bird_socket else None)
        self.reload_pending = False

    @property
    def entry_path(self) -> str:
        return os.path.join(self.confdir, birdconf.ENTRY_FILE)

    def current(self, name: str) -> str | None:
        try:
            with open(os.path.join(self.confdir, name), encoding="utf-8") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def sync(self, files: dict[str, str]) -> SyncResult:
        t0 = time.perf_counter()
        timings: dict[str, float] = {}
        os.makedirs(self.confdir, exist_ok=True)
        old = {name: self.current(name) for name in files}
        changed = tuple(name for name in files if old[name] != files[name])
        timings["compare"] = time.perf_counter() - t0
        if not changed:
            if self.reload_pending:
                self._reload(old_files=None)
                return SyncResult((), True, timings)
            return SyncResult((), False, timings)
        stage = tempfile.mkdtemp(prefix=".confdpy-stage-", dir=self.confdir)
        try:
            t = time.perf_counter()
            for name, text in files.items():
                _write(os.path.join(stage, name), text)
            timings["stage"] = time.perf_counter() - t
            t = time.perf_counter()
            self.check(os.path.join(stage, birdconf.ENTRY_FILE))
            timings["check"] = time.perf_counter() - t
            t = time.perf_counter()
            for name in files:            # OUTPUTS order: includes first, entry file last
                if name in changed:
                    os.replace(os.path.join(stage, name), os.path.join(self.confdir, name))
            timings["swap"] = time.perf_counter() - t
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        log.info("BIRD configuration updated: %s", ", ".join(changed))
        if self.client is None:
            return SyncResult(changed, False, timings)
        self.reload_pending = True
        t = time.perf_counter()
        self._reload(old_files={n: old[n] for n in changed})
        timings["reload"] = time.perf_counter() - t
        return SyncResult(changed, True, timings)

    def check(self, path: str) -> None:
        """`bird -p -c path`: parse only, BIRD's own verdict on the file."""
        proc = subprocess.run([self.bird_bin, "-p", "-c", path], capture_output=True, text=True)
        if proc.returncode != 0:
            msg = (proc.stderr or proc.stdout).strip() or f"exit code {proc.returncode}"
            raise CheckFailed(f"bird -p rejected the rendered configuration: {msg}")

    def _reload(self, old_files: dict[str, str | None] | None) -> None:
        try:
            result = self.client.configure(self.entry_path)
        except BirdError as e:
            if e.code is not None and old_files:
                self._restore(old_files)
                self.reload_pending = False
                raise ReloadFailed(f"BIRD refused the new configuration, previous files restored: {e}") from e
            raise ReloadFailed(f"BIRD not reconfigured (will retry): {e}") from e
        self.reload_pending = False
        log.info("BIRD reconfigured: %s", result.message)

    def _restore(self, old_files: dict[str, str | None]) -> None:
        for name, text in old_files.items():
            path = os.path.join(self.confdir, name)
            if text is None:
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass
            else:
                tmp = path + ".confdpy-restore"
                _write(tmp, text)
                os.replace(tmp, path)


def _write(path: str, text: str) -> None:
    # No fsync: readers only ever see a complete file (rename is atomic), and after a
    # crash confdpy renders every file again from etcd before BIRD needs them.
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
