"""Mutation fuzzer of `xjit-opt` pass by pass: every lit_tests/**/*.mlir input (split at
`// -----`), mutated, is run through `xjit-opt -p <pass>` for each of xjit's passes, the upstream
passes the pipelines use, and the standard pipelines spelled out pass by pass, so that xjit-opt
verifies after each pass and names the one that broke the IR.

It builds on fuzz/cli.py (the corpus, its line/token/type/number/SSA mutations, the in-process
runner with a SIGALRM time limit, and `judge`: no traceback, no "internal error", no hang, exit
0 or 1 with a located or specific message) and adds:

- mutations of shapes and dims, attribute values and operand lists;
- every pass instead of only the whole pipeline, and a finding `<pass>:broke-ir` when a pass
  leaves IR that does not verify (`... (after pass 'p')`) from an input that did verify.

    python tests/cli_fuzz.py --seed 0 --count 200 --timeout 10 --out fuzz-findings/cli-passes
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # `fuzz` is a top-level package of the checkout, not installed

from fuzz import cli  # noqa: E402
from fuzz.common import Finding, Summary, first_lines  # noqa: E402

# -- what to run -------------------------------------------------------------------------------

# xjit's own passes (passes/__init__.py) and the upstream ones its pipelines use.
PASSES = (
    "inline",
    "torch-shape-refinement",
    "torch-decompose",
    "canonicalize",
    "torch-fold-constants",
    "cse",
    "dce",
    "convert-torch-to-linalg",
    "batch-loop-invariant",
    "linalg-fuse-elementwise",
    "bufferize",
    "convert-linalg-to-loop",
    "convert-loop-to-scf",
    "view-op-graph",
)


def _pipelines() -> dict[str, str]:
    """name -> `-p` argument: torch-to-loops (as one pass and spelled out, so each of its
    passes is verified), and torch-to-loops followed by convert-loop-to-scf."""
    from xjit.passes.pipelines import TORCH_TO_LOOPS_STAGES

    chain = [p for _, names in TORCH_TO_LOOPS_STAGES for p in names]
    return {
        "torch-to-loops": "torch-to-loops",
        "torch-to-loops-each": ",".join(chain),
        "torch-to-scf-each": ",".join([*chain, "convert-loop-to-scf"]),
    }


# -- more mutations --------------------------------------------------------------------------

SHAPE = re.compile(
    r"(?<=vtensor<\[)[^\]]*(?=\])|(?<=tensor<)[\d?x]+(?=x\w)|(?<=memref<)[\d?x]+(?=x\w)"
)
DIMS = ["0", "1", "2", "3", "5", "-1", "?", "4294967296", "9223372036854775807", "100000000"]


def m_shape(rng: random.Random, text: str) -> str:
    """Change one shape: a dim's size, a dim dropped or added, the element type."""
    found = list(SHAPE.finditer(text))
    if not found:
        return cli.m_change_number(rng, text)
    a = rng.choice(found)
    sep = "," if text[a.start() - 1] == "[" else "x"
    dims = [d for d in a.group().split(sep) if d]
    r = rng.random()
    if r < 0.5 and dims:
        dims[rng.randrange(len(dims))] = rng.choice(DIMS)
    elif r < 0.75 and dims:
        del dims[rng.randrange(len(dims))]
    else:
        dims.insert(rng.randrange(len(dims) + 1), rng.choice(DIMS))
    return text[: a.start()] + sep.join(dims) + text[a.end() :]


ELEMENT = re.compile(r"(?<=[,x])(f16|f32|f64|i1|i32|i64|si64|ui8|bf16|index)(?=>)")


def m_element_type(rng: random.Random, text: str) -> str:
    found = list(ELEMENT.finditer(text))
    if not found:
        return cli.m_swap_type(rng, text)
    a = rng.choice(found)
    new = rng.choice(
        ["f16", "f32", "f64", "i1", "i8", "i32", "i64", "si64", "ui8", "bf16", "index"]
    )
    return text[: a.start()] + new + text[a.end() :]


ATTR_VALUE = re.compile(
    r"(?<== )[^,}\n]+|(?<=constant\.\w{3} )[^\s:]+|(?<=constant\.\w{4} )[^\s:]+"
)
VALUES = [
    "0",
    "-1",
    "true",
    "false",
    '"x"',
    "[]",
    "[1, 2]",
    "1.5",
    "0x7FF0000000000000",
    "-9223372036854775808",
    "dense<1.0> : tensor<2xf32>",
    "unit",
    "@nope",
    "affine_map<(d0) -> (d0)>",
    "#torch.none",
]


def m_attr_value(rng: random.Random, text: str) -> str:
    """Replace an attribute's value (`{dim = 1}`, `torch.constant.int 3`) with another kind."""
    found = list(ATTR_VALUE.finditer(text))
    if not found:
        return cli.m_change_number(rng, text)
    a = rng.choice(found)
    return text[: a.start()] + rng.choice(VALUES) + text[a.end() :]


TOKEN = re.compile(r"[^\s,()<>\[\]{}:]+")


def m_delete_token(rng: random.Random, text: str) -> str:
    found = list(TOKEN.finditer(text))
    if not found:
        return cli.m_truncate(rng, text)
    a = rng.choice(found)
    return text[: a.start()] + text[a.end() :]


OPERANDS = re.compile(r"(%[\w.$-]+)(, %[\w.$-]+)+")


def m_operands(rng: random.Random, text: str) -> str:
    """Drop, duplicate or reverse one operand list."""
    found = list(OPERANDS.finditer(text))
    if not found:
        return cli.m_swap_ssa(rng, text)
    a = rng.choice(found)
    ops = a.group().split(", ")
    r = rng.random()
    if r < 0.4:
        del ops[rng.randrange(len(ops))]
    elif r < 0.7:
        ops.append(rng.choice(ops))
    else:
        ops.reverse()
    return text[: a.start()] + ", ".join(ops) + text[a.end() :]


MUTATIONS: list[Callable[[random.Random, str], str]] = [
    *cli.MUTATIONS,
    m_shape,
    m_shape,
    m_element_type,
    m_attr_value,
    m_attr_value,
    m_delete_token,
    m_operands,
]


# Mutations that often keep the IR parseable, so that the passes see inputs that verify but
# are unusual (other shapes, dtypes, attribute values, operands): half the cases use one.
GENTLE: list[Callable[[random.Random, str], str]] = [
    m_shape,
    m_element_type,
    m_attr_value,
    m_operands,
    cli.m_swap_ssa,
    cli.m_swap_type,
    cli.m_change_number,
    cli.m_duplicate_line,
]


@dataclass
class Case:
    name: str
    text: str


def mutate(
    rng: random.Random, text: str, n: int, pool: list[Callable[[random.Random, str], str]]
) -> tuple[str, list[str]]:
    applied = []
    for _ in range(n):
        mut = rng.choice(pool)
        text = mut(rng, text) if text else text
        applied.append(mut.__name__.removeprefix("m_"))
    return cli.shorten_unterminated_strings(text), applied


def valid_seeds(seeds: list[tuple[str, str]], timeout: float) -> list[tuple[str, str]]:
    """The seeds xjit-opt accepts as they are (not the lit tests of invalid IR): the gentle
    mutations start from these, so that their mutants often verify and reach the passes."""
    with tempfile.TemporaryDirectory(prefix="xjit-cli-fuzz-") as d:
        path = Path(d) / "seed.mlir"
        out = []
        for name, text in seeds:
            path.write_text(text)
            if cli.run_in_process("xjit.opt", [str(path)], timeout).status == 0:
                out.append((name, text))
    return out


def cases(seed: int, count: int, timeout: float = 10.0) -> list[Case]:
    rng = random.Random(seed)
    seeds = cli.corpus()
    valid = valid_seeds(seeds, timeout)
    out = []
    while len(out) < count:
        if rng.random() < 0.5:
            seed_name, text = rng.choice(valid)
            text, applied = mutate(rng, text, 1, GENTLE)
        else:
            seed_name, text = rng.choice(seeds)
            text, applied = mutate(rng, text, rng.choice([1, 1, 1, 2, 3]), MUTATIONS)
        out.append(Case(f"{seed_name} +{'+'.join(applied)}", text))
    return out


# -- judging ---------------------------------------------------------------------------------


@dataclass
class PassSummary(Summary):
    # "pass 'p' failed: <what>" with no line:col: specific, not a finding, but listed
    unlocated: list[str] = field(default_factory=list)


BROKE = re.compile(r"\(after pass '([^']+)'\)")
# A pass that failed with a Python exception of a bug (xjit-opt prints "<Type>: <message>" for
# an exception that is not a diagnostic): an internal error behind the pass's name.
CRASH = re.compile(
    r"pass '([^']+)' failed: (IndexError|KeyError|AttributeError|TypeError|AssertionError|"
    r"ZeroDivisionError|RecursionError|UnboundLocalError|NameError|StopIteration|"
    r"OverflowError|ValueError|RuntimeError)\b"
)


def judge(name: str, o: cli.Outcome) -> str | None:
    """The finding category (None: the bar is met). On top of fuzz.cli's bar: a verifier error
    after a pass means the pass broke IR that verified before it."""
    cat = cli.judge(cli.Tool(name, "xjit.opt", ()), o, None)
    if cat is not None:
        return cat
    m = CRASH.search(o.err)
    if o.status == 1 and m:
        return f"{m.group(1)}:crash:{m.group(2)}"
    m = BROKE.search(o.err)
    if o.status == 1 and m:
        return f"{m.group(1)}:broke-ir:{cli._gist(o.err.split('error:', 1)[-1])}"
    return None


def run_case(
    case: Case, path: Path, runs: dict[str, str], timeout: float, summary: PassSummary
) -> None:
    path.write_text(case.text)
    summary.inputs += 1
    # Parse and verify once without passes: a pass runs only on input that verifies.
    base = cli.run_in_process("xjit.opt", [str(path)], timeout)
    cat = judge("opt", base)
    if cat is not None:
        summary.add(Finding(cat, case.name, _detail([str(path)], base), case.text))
    if base.status != 0:
        summary.outcomes["rejected before passes"] += 1
        return
    for name, pipeline in runs.items():
        argv = ["-p", pipeline, str(path)]
        o = cli.run_in_process("xjit.opt", argv, timeout)
        summary.outcomes[f"exit {o.status}"] += 1
        if o.status == 1 and cli.PASS_FAILED.search(o.err) and not cli.LOCATED.search(o.err):
            summary.outcomes["pass failure without line:col"] += 1
            summary.unlocated.append(f"{case.name} -p {name}: {first_lines(o.err, 1)}")
        cat = judge(f"opt-{name}", o)
        if cat is not None:
            summary.add(Finding(cat, f"{case.name} -p {name}", _detail(argv, o), case.text))


def _detail(argv: list[str], o: cli.Outcome) -> str:
    return f"xjit-opt {' '.join(argv)}\nexit {o.status}\n{first_lines(o.err, 8)}"


def fuzz(
    seed: int,
    count: int,
    timeout: float = 10.0,
    passes_per_case: int | None = None,
    budget: float | None = None,
    verbose: bool = False,
) -> PassSummary:
    """`count` mutated inputs, each through `passes_per_case` randomly chosen passes/pipelines
    (None: all of them)."""
    start = time.perf_counter()
    summary = PassSummary("tests/cli_fuzz.py")
    rng = random.Random(seed + 7)
    every = {p: p for p in PASSES} | _pipelines()
    with tempfile.TemporaryDirectory(prefix="xjit-cli-fuzz-") as d:
        path = Path(d) / "input.mlir"
        for n, case in enumerate(cases(seed, count, timeout)):
            if budget is not None and time.perf_counter() - start > budget:
                break
            names = list(every)
            if passes_per_case is not None:
                names = rng.sample(names, passes_per_case)
            before = len(summary.findings)
            run_case(case, path, {k: every[k] for k in names}, timeout, summary)
            if verbose:
                for f in summary.findings[before:]:
                    print(f"[{n}] {f.category}: {f.name}", flush=True)
    return summary


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python tests/cli_fuzz.py", description=__doc__.split("\n")[0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per xjit-opt run")
    p.add_argument("--passes", type=int, default=None, help="passes per input (default: all)")
    p.add_argument("--budget", type=float, default=None, metavar="SECONDS")
    p.add_argument("--out", type=Path, default=Path("fuzz-findings/cli-passes"))
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    s = fuzz(args.seed, args.count, args.timeout, args.passes, args.budget, args.verbose)
    print(s.report(args.out))
    for line in s.unlocated:
        print(f"  unlocated: {line}")
    print(f"  {time.perf_counter() - t0:.1f} s")
    return s.exit_status


if __name__ == "__main__":
    sys.exit(main())
