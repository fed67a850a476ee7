"""Every module imports on its own (no hidden import-order dependencies, no import-time
side effects that fail), and every console script's --help exits 0."""
import configparser
import importlib
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).parents[1]
PACKAGES = ("libcalico_py", "felixpy", "confdpy", "calicoctl_py", "cni_py", "node_py", "lab_py")


def _modules():
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            yield ".".join(parts)


# One interpreter that has imported nothing of ours forks a child per module, so each
# module imports alone, at a few milliseconds per module instead of a new interpreter.
_FORK_IMPORTER = """
import importlib, os, sys, traceback
failed = []
for name in sys.argv[1:]:
    pid = os.fork()
    if pid == 0:
        try:
            importlib.import_module(name)
        except BaseException:
            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    if status:
        failed.append(name)
print("FAILED:" + ",".join(failed))
"""


@pytest.mark.unit
def test_every_module_imports_alone():
    modules = list(_modules())
    assert len(modules) > 50
    p = subprocess.run([sys.executable, "-c", _FORK_IMPORTER, *modules], capture_output=True, text=True,
                       cwd=ROOT, timeout=300)
    failed = p.stdout.strip().rsplit("FAILED:", 1)[-1]
    assert p.returncode == 0 and not failed, f"modules failing to import alone: {failed}\n{p.stderr}"


def _console_scripts():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    for line in cfg["options.entry_points"]["console_scripts"].strip().splitlines():
        yield line.split("=")[0].strip()


@pytest.mark.unit
@pytest.mark.parametrize("script", list(_console_scripts()))
def test_console_script_help(script):
    exe = os.path.join(os.path.dirname(sys.executable), script)
    if script in ("calico-py", "calico-ipam-py"):
        # CNI plugins have no --help: the spec's VERSION command is their self-description.
        p = subprocess.run([exe], input='{"cniVersion":"1.0.0"}', capture_output=True, text=True,
                           env={"CNI_COMMAND": "VERSION", "PATH": os.environ["PATH"]}, timeout=60)
        assert p.returncode == 0 and "supportedVersions" in p.stdout, p.stdout + p.stderr
        return
    p = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "usage" in p.stdout.lower()
