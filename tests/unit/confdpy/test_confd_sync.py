"""ConfigWriter without a BIRD socket: compare, `bird -p` check, atomic swap; a rejected
configuration leaves CONFDIR exactly as it was."""
from __future__ import annotations

import os

import pytest

from confdpy.sync import CheckFailed, ConfigWriter
from tests.unit.confdpy.case_loader import render_case


def snapshot_dir(path):
    return {n: (path / n).read_text() for n in sorted(os.listdir(path))}


def test_first_sync_writes_all_then_no_op_writes_nothing(tmp_path):
    writer = ConfigWriter(str(tmp_path))
    files = render_case("mesh-3")
    result = writer.sync(files)
    assert sorted(result.changed) == sorted(files) and not result.reloaded
    mtimes = {n: os.stat(tmp_path / n).st_mtime_ns for n in files}
    assert writer.sync(files).changed == ()
    assert {n: os.stat(tmp_path / n).st_mtime_ns for n in files} == mtimes
    assert snapshot_dir(tmp_path) == files          # no staging leftovers


def test_only_changed_files_are_replaced(tmp_path):
    writer = ConfigWriter(str(tmp_path))
    files = render_case("mesh-3")
    writer.sync(files)
    inode = os.stat(tmp_path / "bird_ipam.cfg").st_ino
    files["bird.cfg"] += "# one more line\n"
    result = writer.sync(files)
    assert result.changed == ("bird.cfg",)
    assert os.stat(tmp_path / "bird_ipam.cfg").st_ino == inode


def test_rejected_config_keeps_the_old_files(tmp_path):
    writer = ConfigWriter(str(tmp_path))
    good = render_case("mesh-3")
    writer.sync(good)
    bad = dict(good, **{"bird.cfg": good["bird.cfg"] + "\nprotocol bgp Broken { neighbor as; }\n"})
    with pytest.raises(CheckFailed, match="bird -p rejected.*bird.cfg:"):
        writer.sync(bad)
    assert snapshot_dir(tmp_path) == good


def test_rejected_first_config_writes_nothing(tmp_path):
    writer = ConfigWriter(str(tmp_path))
    with pytest.raises(CheckFailed):
        writer.sync({"bird_aggr.cfg": "", "bird_ipam.cfg": "", "bird.cfg": "router id nonsense;\n"})
    assert os.listdir(tmp_path) == []
