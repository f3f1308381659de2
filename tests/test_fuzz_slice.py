"""CI's bounded slice of both fuzzers (docs/fuzzing.md): a fixed seed, so a failure reproduces
with the command it prints; `FUZZ_SEED=n pytest tests/test_fuzz_slice.py` tries another slice.
About 30 s together alone on two cores; the long run is `python -m fuzz.cli` / `fuzz.programs`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # `fuzz` is a top-level package of the checkout, not installed

from fuzz import cli, programs  # noqa: E402

SEED = int(os.environ.get("FUZZ_SEED", "0"))


def test_cli_fuzz_slice(tmp_path: Path) -> None:
    # No finding is tolerated: KNOWN_ISSUE_11 is empty since the issue-11 fixes landed.
    assert not cli.KNOWN_ISSUE_11
    s = cli.fuzz(SEED, 100, timeout=20, cross_check=50)
    assert s.inputs == 100
    assert s.exit_status == 0, (
        s.report(tmp_path) + f"\nreproduce: python -m fuzz.cli --seed {SEED} --count 100"
    )


def test_program_fuzz_slice(tmp_path: Path) -> None:
    s = programs.fuzz(SEED, 30, timeout=60)
    assert s.inputs == 30
    # the oracle ran: every program compared eager, trace and script with PyTorch at least once
    assert s.outcomes["eager ok"] >= 30 and s.outcomes["trace ok"] + s.outcomes["script ok"] >= 30
    assert s.exit_status == 0, (
        s.report(tmp_path) + f"\nreproduce: python -m fuzz.programs --seed {SEED} --count 30"
    )


# -- the fuzzers' own parts: each judge must be able to fail -------------------------------------


def test_time_limit_interrupts_a_backtracking_regex() -> None:
    import re
    import time

    from fuzz.common import Timeout, time_limit

    t0 = time.perf_counter()
    try:
        with time_limit(0.5):
            re.match(r"(a+)+$", "a" * 40 + "b")  # exponential: decades without the alarm
        raise AssertionError("not interrupted")
    except Timeout:
        pass
    assert time.perf_counter() - t0 < 5


def test_cli_judge() -> None:
    opt = cli.TOOLS[0]
    out = cli.Outcome
    assert cli.judge(opt, out(0, "module", ""), None) is None
    assert cli.judge(opt, out(1, "", "in.mlir:3:5: error: expected ')'\n"), "x") is None
    assert cli.judge(opt, out(1, "", "xjit-opt: error: 'in.mlir' not found\n"), None) is None
    assert cli.judge(opt, out("timeout", "", ""), None) == "opt:hang"
    tb = "Traceback (most recent call last):\n  ...\nKeyError: 'x'\n"
    assert cli.judge(opt, out(1, "", tb), None) == "opt:traceback:KeyError"
    internal = "xjit-opt: error: internal error: ValueError: Exceeds the limit (4300 digits) ..."
    assert cli.judge(opt, out(1, "", internal), None) == (
        "opt:internal-error:ValueError:exceeds-the-limit-digits"
    )
    assert cli.judge(opt, out(2, "", "in.mlir:1:1: error: x"), None) == "opt:exit-status:2"
    assert cli.judge(opt, out(1, "", ""), None) == "opt:silent-failure"
    assert (
        cli.judge(opt, out(1, "", "something went wrong\n"), None)
        == "opt:unlocated:something-went-wrong"
    )
    repr_ = "in.mlir: error: pass 'p' failed: value <OpResult[f32] name_hint: None> has no lowering"
    assert cli.judge(opt, out(1, "", repr_), None) == "opt:python-repr"
    assert cli.judge(opt, out(0, "module", ""), "self-use") == "opt:accepted-wrong:self-use"
    # out of bounds is wrong only when run
    assert cli.judge(opt, out(0, "module", ""), "out-of-bounds-offset") is None
    assert cli.judge(cli.TOOLS[2], out(0, "1.0", ""), "out-of-bounds-offset") is not None


def test_unterminated_strings_are_kept_short() -> None:
    long = '  %0 = torch.constant.str "' + "a" * 40 + "\n" + '"done" "ok"'
    short = cli.shorten_unterminated_strings(long)
    assert short.splitlines()[0] == '  %0 = torch.constant.str "' + "a" * cli.SHORT_STRING_TAIL
    assert short.splitlines()[1] == '"done" "ok"'


def test_program_compare_checks_nan_inf_dtype_and_values() -> None:
    import numpy as np

    a = np.array([1.0, np.nan, np.inf], np.float32)
    assert programs.compare(a, a.copy()) is None
    assert programs.compare(a, np.array([1.0, 2.0, np.inf], np.float32)) == "NaN positions differ"
    assert programs.compare(a, np.array([1.0, np.nan, -np.inf], np.float32)) == (
        "inf positions differ"
    )
    assert programs.compare(a, a.astype(np.float64)).startswith("dtype")
    assert programs.compare(a + 1e-3, a).startswith("values differ")
    assert programs.compare(np.array([True]), np.array([False])) == "values differ"
