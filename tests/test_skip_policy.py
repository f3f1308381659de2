"""tests/conftest.py's skip policy, run on a scratch test directory in a fresh pytest: an
undocumented skip fails the run, a documented optional dependency's skip does not."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

CONFTEST = Path(__file__).with_name("conftest.py")

ALLOWED = """
from conftest import optional_dependency_missing

def test_allowed():
    pytest.skip(optional_dependency_missing("dot", "not on PATH"))

@pytest.mark.xfail(strict=True, reason="known")
def test_strict_xfail():
    assert 0

def test_passes():
    pass
"""

UNEXPECTED = """
def test_plain_skip():
    pytest.skip("flaky here")

def test_importorskip():
    pytest.importorskip("xjit_no_such_module")

@pytest.mark.skipif(True, reason="later")
def test_skipif():
    pass

@pytest.mark.skip
def test_skip_mark():
    pass
"""


def _pytest(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    shutil.copy(CONFTEST, tmp_path / "conftest.py")
    (tmp_path / "test_scratch.py").write_text("import pytest\n" + body)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )


def test_documented_optional_dependency_skip_passes(tmp_path: Path) -> None:
    r = _pytest(tmp_path, ALLOWED)
    assert r.returncode == 0, r.stdout
    assert "1 passed, 1 skipped, 1 xfailed" in r.stdout and "unexpected skips" not in r.stdout


def test_undocumented_skips_fail_the_run(tmp_path: Path) -> None:
    r = _pytest(tmp_path, ALLOWED + UNEXPECTED)
    assert r.returncode == 1, r.stdout
    listed = r.stdout.split("unexpected skips")[1]
    for name in ("test_plain_skip", "test_importorskip", "test_skipif", "test_skip_mark"):
        assert f"test_scratch.py::{name}:" in listed, r.stdout
    assert "test_allowed" not in listed and "test_strict_xfail" not in listed
