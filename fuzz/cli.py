"""CLI fuzzer: seeded mutations of the repository's .mlir inputs and generated, semantically wrong
IR, each run through `xjit-opt`, `xjit-opt -p torch-to-loops` and `xjit-run`.

The tools run in this process (their `main()` with captured stdout/stderr, SystemExit caught)
under a SIGALRM time limit; every `--cross-check`-th input is also run as a real subprocess with a
timeout, and both runs must agree. The bar, per tool and input:

- no Python traceback, no hang, no catch-all "internal error";
- exit status 0 or 1;
- exit 1 prints a located diagnostic (`file:line:col`), a one-line `xjit-...: error: <what>` or
  `<file>: error: pass '<p>' failed: <what>`, and no Python repr;
- an input generated to be wrong (use-before-def, a wrong type, ...) is rejected (exit 1).

    python -m fuzz.cli --seed 0 --count 300 --timeout 10 --out fuzz-findings/cli
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fuzz.common import ROOT, Finding, Summary, Timeout, first_lines, time_limit

# -- the tools ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tool:
    name: str  # the category prefix, e.g. "opt-lower"
    module: str  # xjit.opt or xjit.run
    args: tuple[str, ...]  # between the module and the input path


TOOLS = (
    Tool("opt", "xjit.opt", ()),
    Tool("opt-lower", "xjit.opt", ("-p", "torch-to-loops")),
    Tool("run", "xjit.run", ()),
)


@dataclass
class Outcome:
    status: int | str  # exit status, "timeout" or "exception"
    out: str
    err: str


def run_in_process(module: str, argv: list[str], timeout: float) -> Outcome:
    """`module.main(argv)` with stdout/stderr captured; SystemExit gives the status."""
    import importlib

    main = importlib.import_module(module).main
    out, err = io.StringIO(), io.StringIO()
    status: int | str
    try:
        with (
            time_limit(timeout),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            try:
                status = main(argv)
            except SystemExit as e:
                status = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except Timeout:
        status = "timeout"
    except Exception as e:  # escaped main(): a traceback in a real run
        status = "exception"
        err.write(f"Traceback (escaped main()): {type(e).__name__}: {e}\n")
    return Outcome(status, out.getvalue(), err.getvalue())


def run_subprocess(module: str, argv: list[str], timeout: float) -> Outcome:
    try:
        r = subprocess.run(
            [sys.executable, "-m", module, *argv],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
    except subprocess.TimeoutExpired:
        return Outcome("timeout", "", "")
    return Outcome(r.returncode, r.stdout, r.stderr)


# -- judging an outcome ------------------------------------------------------------------------

LOCATED = re.compile(r"\S+:\d+:\d+")
INTERNAL = re.compile(r"internal error: (\w+)")
PYTHON_REPR = re.compile(r"<\w+\[.*name_hint|\bat 0x[0-9a-f]+>|<class '")
PASS_FAILED = re.compile(r"error: pass '[\w-]+' failed")
# A one-line error of the tool that needs no line:col (a missing entry function, inputs that do
# not match its signature, an unreadable file).
SPECIFIC = re.compile(r"^xjit-(run|opt): error: \S.*$")


def _gist(message: str) -> str:
    """The first words of a message without paths and numbers: what tells findings apart."""
    words = [w for w in message.split("\n")[0].split() if "/" not in w]
    letters = (re.sub(r"[^a-z]", "", w.lower()) for w in words)
    return "-".join([w for w in letters if w][:4]) or "no-message"


# Wrong only when run: the IR itself may verify (mlir-opt accepts out-of-bounds accesses too).
RUN_ONLY_WRONG = {"out-of-bounds-offset"}


def judge(tool: Tool, o: Outcome, wrong: str | None) -> str | None:
    """The finding category of one outcome, or None when it meets the bar."""
    if o.status == "timeout":
        return f"{tool.name}:hang"
    if "Traceback" in o.out + o.err:
        m = re.search(r"(\w+(Error|Exception|Exit))\b", o.err)
        return f"{tool.name}:traceback:{m.group(1) if m else '?'}"
    m = INTERNAL.search(o.err)
    if m:
        return f"{tool.name}:internal-error:{m.group(1)}:{_gist(o.err[m.end() :])}"
    if o.status not in (0, 1):
        return f"{tool.name}:exit-status:{o.status}"
    if o.status == 1:
        err = o.err.strip()
        if not err:
            return f"{tool.name}:silent-failure"
        if PYTHON_REPR.search(err):
            return f"{tool.name}:python-repr"
        if LOCATED.search(err):
            return None
        # "<file>: error: pass 'p' failed: <what>": specific, though not located (the passes
        # raise without the op); counted among the outcomes by `fuzz`
        if not (SPECIFIC.match(err) or PASS_FAILED.search(err)):
            return f"{tool.name}:unlocated:{_gist(err.split('error:', 1)[-1])}"
    if wrong in RUN_ONLY_WRONG and tool.module != "xjit.run":
        wrong = None
    if o.status == 0 and wrong is not None:
        return f"{tool.name}:accepted-wrong:{wrong}"
    return None


# Finding categories tolerated by `--allow-known` while their fix is pending: every issue-11
# category the first runs found is fixed (branch cli, merged) and each has a regression test, so
# none is tolerated now. Add an entry only with the issue that will remove it.
_KNOWN: list[str] = []
KNOWN_ISSUE_11 = frozenset(f"{t}:{k}" for t in ("opt", "opt-lower", "run") for k in _KNOWN)


# -- inputs: the corpus and its mutations --------------------------------------------------------


def corpus() -> list[tuple[str, str]]:
    """(name, text) of every IR input in the repository: lit_tests' .mlir files split at
    `// -----`, and the IR strings of tests/ir_programs.py."""
    seeds: list[tuple[str, str]] = []
    for path in sorted((ROOT / "lit_tests").rglob("*.mlir")):
        chunks = path.read_text().split("// -----")
        for i, chunk in enumerate(chunks):
            text = "\n".join(
                line for line in chunk.splitlines() if not line.lstrip().startswith("//")
            ).strip()
            if text:
                seeds.append((f"{path.relative_to(ROOT)}#{i}", text + "\n"))
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        import ir_programs
    finally:
        sys.path.remove(str(ROOT / "tests"))
    for name, value in sorted(vars(ir_programs).items()):
        if isinstance(value, str) and "func.func" in value:
            seeds.append((f"tests/ir_programs.py:{name}", value))
    return seeds


SSA = re.compile(r"%[\w.$-]+")
TYPES = ["f32", "f64", "i64", "i32", "i1", "si64", "index", "!torch.int", "!torch.bool"]
PUNCT = list("{}()[]<>,:=%@!#^*?-+") + ["->", "\n", " ", "0", "x"]


def _lines(text: str) -> list[str]:
    return text.splitlines()


def m_delete_line(rng: random.Random, text: str) -> str:
    lines = _lines(text)
    del lines[rng.randrange(len(lines))]
    return "\n".join(lines)


def m_duplicate_line(rng: random.Random, text: str) -> str:
    lines = _lines(text)
    i = rng.randrange(len(lines))
    lines.insert(rng.randrange(len(lines) + 1), lines[i])
    return "\n".join(lines)


def m_swap_lines(rng: random.Random, text: str) -> str:
    lines = _lines(text)
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


def m_delete_span(rng: random.Random, text: str) -> str:
    i = rng.randrange(len(text))
    return text[:i] + text[i + rng.randint(1, 12) :]


def m_insert_punct(rng: random.Random, text: str) -> str:
    i = rng.randrange(len(text) + 1)
    return text[:i] + rng.choice(PUNCT) + text[i:]


def m_truncate(rng: random.Random, text: str) -> str:
    return text[: rng.randrange(len(text))]


def m_swap_ssa(rng: random.Random, text: str) -> str:
    uses = list(SSA.finditer(text))
    if len(uses) < 2:
        return m_delete_span(rng, text)
    a = rng.choice(uses)
    b = rng.choice(uses).group()
    return text[: a.start()] + b + text[a.end() :]


def m_swap_type(rng: random.Random, text: str) -> str:
    found = [m for t in TYPES for m in re.finditer(re.escape(t) + r"\b", text)]
    if not found:
        return m_insert_punct(rng, text)
    a = rng.choice(found)
    return text[: a.start()] + rng.choice(TYPES) + text[a.end() :]


def m_change_number(rng: random.Random, text: str) -> str:
    nums = list(re.finditer(r"(?<![\w%.])\d+", text))
    if not nums:
        return m_insert_punct(rng, text)
    a = rng.choice(nums)
    new = rng.choice(
        ["0", "1", "-1", "7", "2147483648", "9223372036854775808", "1" * 40, "1e400", "0x10"]
    )
    return text[: a.start()] + new + text[a.end() :]


def m_op_name(rng: random.Random, text: str) -> str:
    ops = list(re.finditer(r"\b(torch|linalg|loop|arith|memref|tensor|scf|func)\.[\w.]+", text))
    if len(ops) < 2:
        return m_delete_line(rng, text)
    a = rng.choice(ops)
    new = rng.choice([rng.choice(ops).group(), a.group() + "x", "torch.aten.nope"])
    return text[: a.start()] + new + text[a.end() :]


MUTATIONS: list[Callable[[random.Random, str], str]] = [
    m_delete_line,
    m_duplicate_line,
    m_swap_lines,
    m_delete_span,
    m_insert_punct,
    m_truncate,
    m_swap_ssa,
    m_swap_type,
    m_change_number,
    m_op_name,
]

# An unterminated string literal followed by many characters on its line makes xDSL's lexer
# backtrack exponentially (issue 11, "CLI and IR" 1, the cli branch's fix). Until it lands,
# mutated lines keep at most this many characters after an unmatched quote.
SHORT_STRING_TAIL = 15


def shorten_unterminated_strings(text: str, tail: int = SHORT_STRING_TAIL) -> str:
    out = []
    for line in text.split("\n"):
        i, start = 0, None
        while i < len(line):
            c = line[i]
            if c == "\\" and start is not None:
                i += 2
                continue
            if c == '"':
                start = None if start is not None else i
            i += 1
        if start is not None and len(line) - start - 1 > tail:
            line = line[: start + 1 + tail]
        out.append(line)
    return "\n".join(out)


# -- inputs: semantically wrong programs (each must be rejected) -------------------------------

VT = "!torch.vtensor<[3,4],f32>"
BASE = f"""func.func @forward(%x: {VT}, %h: {VT}) -> {VT} {{
  %int1 = torch.constant.int 1
  %1 = torch.aten.add.Tensor %x, %h, %int1 : {VT}, {VT}, !torch.int -> {VT}
  %2 = torch.aten.tanh %1 : {VT} -> {VT}
  func.return %2 : {VT}
}}
"""
LOOPS_BASE = """func.func @forward(%A: memref<4xf32>) -> memref<4xf32> {
  %c4 = arith.constant 4 : index
  %out = memref.alloc() : memref<4xf32>
  loop.nest (%i) to (%c4) ["parallel"] {
    %a = loop.load %A[%i] affine_map<(d0) -> (d0)> : memref<4xf32>
    loop.store %a, %out[%i] affine_map<(d0) -> (d0)> : memref<4xf32>
  }
  func.return %out : memref<4xf32>
}
"""


def _sub(old: str, new: str, base: str = BASE) -> str:
    assert old in base, old
    return base.replace(old, new, 1)


def _nested(depth: int) -> str:
    return "builtin.module {\n" * depth + BASE + "}\n" * depth


def wrong_programs(rng: random.Random) -> list[tuple[str, str]]:
    """(name, text) of programs every tool must reject; the name is the finding's detail."""
    digits = rng.choice([25, 400, 5000])
    return [
        ("use-before-def", _sub("torch.aten.tanh %1", "torch.aten.tanh %3")),
        ("self-use", _sub("%2 = torch.aten.tanh %1", "%2 = torch.aten.tanh %2")),
        (
            "use-of-later-def",
            _sub("  %int1 = torch.constant.int 1\n", "").replace(
                "  %2 =", "  %int1 = torch.constant.int 1\n  %2 ="
            ),
        ),
        ("redefinition", _sub("%2 = torch.aten.tanh", "%1 = torch.aten.tanh")),
        (
            "wrong-operand-type",
            _sub(f"torch.aten.tanh %1 : {VT}", "torch.aten.tanh %1 : !torch.vtensor<[4,3],f32>"),
        ),
        ("wrong-return-type", _sub(f"func.return %2 : {VT}", "func.return %2 : !torch.int")),
        ("return-count", _sub(f"func.return %2 : {VT}", "func.return")),
        ("wrong-attribute-kind", _sub("torch.constant.int 1", 'torch.constant.int "one"')),
        ("float-for-int", _sub("torch.constant.int 1", "torch.constant.int 1.5")),
        ("huge-int", _sub("torch.constant.int 1", "torch.constant.int " + "9" * digits)),
        ("unknown-op", _sub("torch.aten.tanh", "torch.aten.tanhh")),
        ("missing-close-brace", BASE.rstrip().removesuffix("}")),
        ("extra-open-brace", _sub("func.return", "{ func.return")),
        ("unterminated-string", _sub("torch.constant.int 1", 'torch.constant.str "abc')),
        ("unterminated-attr-string", _sub("torch.constant.int 1", 'torch.constant.int 1 {a = "x')),
        ("deep-nesting", _nested(rng.choice([50, 300]))),
        (
            "undeclared-slot",
            _sub(
                "%int1 = torch.constant.int 1",
                f"%int1 = torch.constant.int 1\n  %s = torch.global_slot.get @nope : {VT}",
            ),
        ),
        (
            "where-non-bool-condition",
            _sub(
                "%2 = torch.aten.tanh %1 : " + VT + " -> " + VT,
                f"%2 = torch.aten.where.self %x, %1, %h : {VT}, {VT}, {VT} -> {VT}",
            ),
        ),
        ("call-undefined", _sub("%2 = torch.aten.tanh %1 :", "%2 = func.call @nope(%1) :")),
        (
            "reduction-without-store",
            _sub('["parallel"]', '["reduction"]', LOOPS_BASE).replace(
                "    loop.store %a, %out[%i] affine_map<(d0) -> (d0)> : memref<4xf32>\n", ""
            ),
        ),
        (
            "out-of-bounds-offset",
            _sub(
                "%A[%i] affine_map<(d0) -> (d0)>", "%A[%i] affine_map<(d0) -> (d0 + 9)>", LOOPS_BASE
            ),
        ),
    ]


# -- xjit-run's inputs, from the entry function's signature -------------------------------------

FUNC = re.compile(r"func\.func\s+(?:private\s+)?@([\w.$-]+)\s*\(([^)]*)\)")
ARG = re.compile(r"%[\w.$-]+\s*:\s*")
SHAPED = re.compile(r"(?:!torch\.vtensor<\[([^\]]*)\],\s*(\w+)>|(?:tensor|memref)<([^>]*)>)")
NP_DTYPES = {
    "f32": np.float32,
    "f64": np.float64,
    "i64": np.int64,
    "si64": np.int64,
    "i1": np.bool_,
}


def entry_inputs(text: str, rng: random.Random) -> tuple[str, list[np.ndarray]] | None:
    """The first function and random arrays for its arguments (None: no function, or an
    argument type this cannot make an array for)."""
    m = FUNC.search(text)
    if m is None:
        return None
    arrays = []
    for arg in ARG.finditer(m.group(2)):
        t = SHAPED.match(m.group(2), arg.end())
        if t is None:
            return None
        if t.group(1) is not None:
            dims, elem = t.group(1).split(",") if t.group(1) else [], t.group(2)
        else:
            *dims, elem = t.group(3).split("x")
        try:
            shape = tuple(2 if d.strip() in ("?", "-1") else int(d) for d in dims if d.strip())
        except ValueError:
            return None
        if elem not in NP_DTYPES or min(shape, default=0) < 0 or np.prod(shape) > 10_000:
            return None
        arrays.append(_array(rng, shape, NP_DTYPES[elem]))
    return m.group(1), arrays


def _array(rng: random.Random, shape: tuple[int, ...], dt: type) -> np.ndarray:
    g = np.random.default_rng(rng.randrange(2**32))
    if dt is np.bool_:
        return g.random(shape) > 0.5
    return np.asarray(g.standard_normal(shape) * 3, dtype=dt)


# -- the loop ----------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    text: str
    wrong: str | None  # the name of the wrong-program template, None for a mutation


def cases(seed: int, count: int, long_strings: bool) -> list[Case]:
    rng = random.Random(seed)
    seeds = corpus()
    out: list[Case] = []
    while len(out) < count:
        if rng.random() < 0.25:
            name, text = rng.choice(wrong_programs(rng))
            # deep nesting is valid IR: it only must not crash
            out.append(Case(f"wrong:{name}", text, None if name == "deep-nesting" else name))
            continue
        seed_name, text = rng.choice(seeds)
        applied = []
        for _ in range(rng.choice([0, 1, 1, 1, 2, 3])):  # 0: the seed as it is
            mut = rng.choice(MUTATIONS)
            text = mut(rng, text) if text else text
            applied.append(mut.__name__.removeprefix("m_"))
        if not long_strings:
            text = shorten_unterminated_strings(text)
        out.append(Case(f"{seed_name} +{'+'.join(applied)}", text, None))
    return out


def _argv(tool: Tool, path: Path, case: Case, rng: random.Random, tmp: Path) -> list[str]:
    if tool.module != "xjit.run":
        return [*tool.args, str(path)]
    entry = entry_inputs(case.text, rng)
    if entry is None:
        return [str(path)]
    name, arrays = entry
    arrays = _perturb_inputs(rng, arrays)
    argv = [str(path), "--entry", name]
    for i, a in enumerate(arrays):
        p = tmp / f"in{i}.npy"
        np.save(p, a)
        argv += ["--input", str(p)]
    return argv


def _perturb_inputs(rng: random.Random, arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Mostly the arrays the signature asks for; sometimes one too few or too many, another
    dtype (float16 included) or another shape."""
    r = rng.random()
    if r > 0.2 or not arrays:
        return arrays
    i = rng.randrange(len(arrays))
    a = arrays[i]
    if r < 0.05:
        return arrays[:-1]
    if r < 0.08:
        return [*arrays, a]
    if r < 0.14:
        return [
            *arrays[:i],
            a.astype(rng.choice(["float16", "float64", "int32", "bool"])),
            *arrays[i + 1 :],
        ]
    return [*arrays[:i], np.ones((*a.shape, 2), a.dtype), *arrays[i + 1 :]]


def _agree(a: Outcome, b: Outcome) -> bool:
    first = lambda o: o.err.strip().splitlines()[:1]  # noqa: E731
    return a.status == b.status and first(a) == first(b)


def fuzz(
    seed: int,
    count: int,
    timeout: float,
    cross_check: int = 10,
    allowed: frozenset[str] = frozenset(),
    long_strings: bool = False,
    tools: tuple[Tool, ...] = TOOLS,
    verbose: bool = False,
    budget: float | None = None,
) -> Summary:
    start = time.perf_counter()
    summary = Summary("fuzz.cli", allowed)
    rng = random.Random(seed + 1)
    with tempfile.TemporaryDirectory(prefix="xjit-fuzz-") as d:
        tmp = Path(d)
        path = tmp / "input.mlir"
        for n, case in enumerate(cases(seed, count, long_strings)):
            if budget is not None and time.perf_counter() - start > budget:
                break  # out of time: report what ran
            path.write_text(case.text)
            summary.inputs += 1
            for tool in tools:
                argv = _argv(tool, path, case, rng, tmp)
                o = run_in_process(tool.module, argv, timeout)
                summary.outcomes[f"{tool.name} exit {o.status}"] += 1
                if o.status == 1 and PASS_FAILED.search(o.err) and not LOCATED.search(o.err):
                    summary.outcomes[f"{tool.name} pass failure without line:col"] += 1
                cat = judge(tool, o, case.wrong)
                if cat is None and cross_check and n % cross_check == 0:
                    sub = run_subprocess(tool.module, argv, timeout + 30)
                    if not _agree(o, sub):
                        cat = f"{tool.name}:cross-check"
                        o = Outcome(
                            o.status, o.out, f"{o.err}\n--- subprocess ({sub.status}):\n{sub.err}"
                        )
                if cat is not None:
                    detail = (
                        f"{tool.module} {' '.join(argv)}\nexit {o.status}\n{first_lines(o.err, 8)}"
                    )
                    summary.add(Finding(cat, case.name, detail, case.text))
                    if verbose:
                        print(f"[{n}] {cat}: {case.name}: {first_lines(o.err, 1)}", flush=True)
    return summary


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m fuzz.cli", description=__doc__.split("\n\n")[0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--count", type=int, default=100, help="inputs (each runs through 3 tools)")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per tool and input")
    p.add_argument(
        "--cross-check",
        type=int,
        default=10,
        metavar="K",
        help="also run every K-th input as a subprocess (0: never)",
    )
    p.add_argument(
        "--out", type=Path, default=Path("fuzz-findings/cli"), help="directory for failing inputs"
    )
    p.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="CATEGORY",
        help="a known finding category not to fail on (exact)",
    )
    p.add_argument(
        "--allow-known",
        action="store_true",
        help="do not fail on the known findings of issue 11 (KNOWN_ISSUE_11)",
    )
    p.add_argument(
        "--long-strings",
        action="store_true",
        help="keep long unterminated strings (hang xDSL's lexer before the fix)",
    )
    p.add_argument(
        "--budget", type=float, metavar="SECONDS", help="stop starting inputs after this"
    )
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    s = fuzz(
        args.seed,
        args.count,
        args.timeout,
        args.cross_check,
        frozenset(args.allow) | (KNOWN_ISSUE_11 if args.allow_known else frozenset()),
        args.long_strings,
        verbose=args.verbose,
        budget=args.budget,
    )
    print(s.report(args.out))
    print(f"  {time.perf_counter() - t0:.1f} s")
    return s.exit_status


if __name__ == "__main__":
    sys.exit(main())
