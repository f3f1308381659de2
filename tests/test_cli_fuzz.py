"""A bounded slice of tests/cli_fuzz.py (xjit-opt pass by pass on mutated lit inputs): a fixed
seed, so a failure reproduces with the command it prints (`FUZZ_SEED=n` tries another slice);
plus the lit inputs as they are through passes they were not written for, which is where the
first findings were (each now has its own lit test)."""

from __future__ import annotations

import os
import random
from pathlib import Path

import cli_fuzz

cli = cli_fuzz.cli  # fuzz/cli.py, which cli_fuzz builds on (it puts the checkout on sys.path)

SEED = int(os.environ.get("FUZZ_SEED", "0"))


def test_mutated_inputs_through_the_passes(tmp_path: Path) -> None:
    s = cli_fuzz.fuzz(SEED, 150, timeout=30, passes_per_case=3, budget=90)
    assert s.inputs >= 20  # the budget is generous: a slow machine still fuzzes something
    assert not s.findings, (
        s.report(tmp_path)
        + "\n".join(f"\n{f.name}\n{f.detail}" for f in s.findings[:5])
        + f"\nreproduce: python tests/cli_fuzz.py --seed {SEED} --count 150 --passes 3"
    )


def test_lit_inputs_through_other_passes(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    valid = cli_fuzz.valid_seeds(cli.corpus(), timeout=30)
    runs = {p: p for p in cli_fuzz.PASSES} | cli_fuzz._pipelines()
    s = cli_fuzz.PassSummary("lit inputs")
    for name, text in valid:
        chosen = rng.sample(sorted(runs), 3)
        case = cli_fuzz.Case(name, text)
        cli_fuzz.run_case(case, tmp_path / "in.mlir", {k: runs[k] for k in chosen}, 30, s)
    assert s.inputs == len(valid) > 40
    assert not s.findings, s.report(tmp_path) + "\n".join(
        f"\n{f.name}\n{f.detail}" for f in s.findings[:5]
    )


def test_the_judge_flags_what_it_must() -> None:
    # The bar itself, on outcomes as xjit-opt prints them (so a fuzz run cannot pass vacuously).
    ok = cli.Outcome(1, "", "in.mlir:3:5: error: 'torch.aten.tanh' op bad\n  %0 = ...\n  ^\n")
    assert cli_fuzz.judge("opt", ok) is None
    broke = cli.Outcome(1, "", "in.mlir:3:5: error: 'x.y' op bad (after pass 'bufferize')\n")
    assert cli_fuzz.judge("opt", broke) == "bufferize:broke-ir:xy-op-bad-after"
    crash = cli.Outcome(1, "", "in.mlir: error: pass 'cse' failed: IndexError: tuple index\n")
    assert cli_fuzz.judge("opt", crash) == "cse:crash:IndexError"
    internal = cli.Outcome(1, "", "xjit-opt: error: internal error: KeyError: 'x'\n")
    assert cli_fuzz.judge("opt", internal) is not None
    assert cli_fuzz.judge("opt", cli.Outcome("timeout", "", "")) == "opt:hang"
