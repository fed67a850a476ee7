"""Every golden case renders to its expected files, and BIRD itself accepts them.

Regenerate after a reviewed change with `UPDATE_GOLDEN=1 pytest tests/unit/confdpy`.
"""
from __future__ import annotations

import subprocess

import pytest

from tests.unit.confdpy.case_loader import CASES_DIR, UPDATE_GOLDEN, case_names, render_case


@pytest.mark.parametrize("case", case_names())
def test_golden(case):
    files = render_case(case)
    expected_dir = CASES_DIR / case / "expected"
    if UPDATE_GOLDEN:
        expected_dir.mkdir(exist_ok=True)
        for name, text in files.items():
            (expected_dir / name).write_text(text)
    for name, text in files.items():
        assert (expected_dir / name).read_text() == text, f"{case}/{name} differs from golden"
    assert sorted(p.name for p in expected_dir.iterdir()) == sorted(files)


@pytest.mark.parametrize("case", case_names())
def test_bird_parses(case, tmp_path):
    for name, text in render_case(case).items():
        (tmp_path / name).write_text(text)
    proc = subprocess.run(["bird", "-p", "-c", str(tmp_path / "bird.cfg")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
