"""Smoke tests of the benchmark harness (bench/run.py): it runs, exits 0 and prints its tables.

Never a timing assertion: CI machines are noisy and the numbers are the benchmark's to report.
PyTorch is optional: its rows are not required here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--fail-on-mismatch", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
    )


def test_quick_a1_e_prints_the_table(tmp_path: Path) -> None:
    out_json = tmp_path / "bench.json"
    out_md = tmp_path / "bench.md"
    proc = _run("--only", "a1,e", "--json", str(out_json), "--md", str(out_md))
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = proc.stdout
    assert "| workload | implementation | median |" in text
    for row in (
        "| a1 | numpy naive |",
        "| a1 | numpy hand-opt |",
        "| a1 | xjit eager |",
        "| a1 | xjit compiled (trace) |",
        "| e | numpy naive |",
        "| e | numpy hand-opt |",
        "| e | xjit eager |",
        "| e | xjit compiled (trace) |",
    ):
        assert row in text, f"missing row {row!r} in:\n{text}"
    assert "## Targets (issue 6)" in text
    assert "| a1 | xjit compiled (trace) ≤ 1.2× naive numpy |" in text
    assert "| b1 |" not in text  # --only is respected
    assert out_md.read_text() == text
    data = json.loads(out_json.read_text())
    assert [w["id"] for w in data["workloads"]] == ["a1", "e"]
    # --fail-on-mismatch catches a wrong number; a row that failed to run is no better
    assert "setup_errors" not in data, data["setup_errors"]
    for wl in data["workloads"]:
        for impl in wl["impls"]:
            if impl["key"].startswith(("naive", "hand", "blocked", "xjit")):
                assert impl["status"] == "ok", (wl["id"], impl)
                assert impl["check"] in ("ok", "reference"), (wl["id"], impl)
    naive = data["workloads"][0]["impls"][0]
    assert naive["key"] == "naive" and naive["check"] == "reference" and naive["x_naive"] == 1.0


def test_quick_extras_run() -> None:
    proc = _run("--only", "compile,import,load,overhead")
    assert proc.returncode == 0, proc.stderr[-3000:]
    for heading in ("## Compile time", "## Fresh processes", "## Per-call overhead"):
        assert heading in proc.stdout, proc.stdout


def test_unknown_only_name_is_an_error() -> None:
    proc = _run("--only", "nope")
    assert proc.returncode == 2
    assert "unknown name" in proc.stderr
