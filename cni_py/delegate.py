"""Running another CNI plugin as our IPAM (e.g. the reference `host-local`).

As libcni's `invoke.DelegateAdd/Del/Check` do: find the binary named by `ipam.type` in the
first `CNI_PATH` directory that has it, run it with our environment (CNI_COMMAND set to the
verb) and our stdin byte for byte, and return its result; its error object is raised as a
CNIError with the same code and message, so the runtime sees the IPAM's own diagnosis.
"""
from __future__ import annotations

import json
import os
import subprocess
from typing import Mapping

from cni_py.spec import GENERIC, CNIError


def find_plugin(name: str, path: list[str]) -> str:
    if not name or "/" in name:
        raise CNIError(GENERIC, f"invalid IPAM plugin type {name!r}")
    for d in path:
        candidate = os.path.join(d, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise CNIError(GENERIC, f"failed to find IPAM plugin {name!r} in CNI_PATH {':'.join(path) or '(empty)'}")


def delegate(name: str, command: str, stdin: bytes, path: list[str],
             environ: Mapping[str, str]) -> dict | None:
    binary = find_plugin(name, path)
    env = dict(environ)
    env["CNI_COMMAND"] = command
    p = subprocess.run([binary], input=stdin, env=env, capture_output=True)
    out = p.stdout.strip()
    if p.returncode != 0:
        try:
            err = json.loads(out)
            raise CNIError(int(err.get("code", GENERIC)), str(err.get("msg", "")),
                           str(err.get("details", "")))
        except (ValueError, AttributeError):
            raise CNIError(GENERIC, f"IPAM plugin {name} {command} failed: "
                           f"{(out or p.stderr.strip()).decode(errors='replace')}") from None
    if command != "ADD":
        return None
    try:
        return json.loads(out)
    except ValueError:
        raise CNIError(GENERIC, f"IPAM plugin {name} returned no valid result: {out[:200]!r}") from None
