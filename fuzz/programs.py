"""Random-program differential fuzzer: small Python programs over registry ops, with
data-dependent branches (`if bool(v.sum() > 0):`) and loops carrying a tensor (`for i in
range(n):`), run by eager xjit, `xjit.jit.trace` and `xjit.jit.script`, each compared with
PyTorch eager (and PyTorch's own `torch.jit.script` as a check of the oracle).

A program is generated statement by statement against real PyTorch on the actual inputs, so every
statement is legal where it stands (dtypes, broadcasting, matmul sizes); a branch's or a loop
body's statements keep the carried value's shape and dtype, as TorchScript needs. Inputs are
f32/f64/i64/bool with sizes 0 to 5, sometimes with NaN and inf. Values must agree to rtol 1e-4,
atol 1e-5, with NaN and inf (and its sign) at the same positions; shapes and dtypes exactly.
The scripted program also runs on inputs that take the other branch.

    python -m fuzz.programs --seed 0 --count 200 --timeout 60 --out fuzz-findings/programs
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fuzz.common import Finding, Summary, Timeout, time_limit

RTOL, ATOL = 1e-4, 1e-5

# Expression templates over the carried value {v}, the inputs {y} (broadcasts against x) and {w}
# (a matrix), and inside a loop its index {i}. Whether one is legal is decided by running it.
EXPRS = [
    "torch.neg({v})",
    "torch.abs({v})",
    "torch.tanh({v})",
    "torch.sigmoid({v})",
    "torch.relu({v})",
    "torch.exp(torch.tanh({v}))",
    "torch.sin({v})",
    "torch.log({v})",  # NaN and -inf
    "torch.sqrt({v})",  # NaN
    "torch.logical_not({v})",
    "{v} > 0",
    "{v} + {y}",
    "{v} - {y}",
    "{v} * {y}",
    "{v} / {y}",  # inf
    "torch.maximum({v}, {y})",
    "torch.minimum({v}, {y})",
    "{y} + {v}",
    "{v} + 2",
    "{v} * 0.5",
    "1.5 - {v}",
    "torch.where({v} > 0, {v}, {y})",
    "{v}.sum()",
    "{v}.sum(0, keepdim=True)",
    "{v}.sum(-1)",
    "{v}.mean(-1, keepdim=True)",
    "{v}.amax(0)",
    "torch.matmul({v}, {w})",
    "{v}.t()",
    "{v}.unsqueeze(0)",
]
LOOP_EXPRS = ["{v} + {i}", "{v} * 0.5 + {i}", "torch.tanh({v} - {i})"]
BOOL_FORBIDDEN = ("torch.neg", "{v} - ", "- {v}", "torch.sqrt", "torch.log", "torch.relu")


def _bool_hazard(expr: str, env: dict[str, Any]) -> bool:
    """Ops whose bool (or int) semantics PyTorch itself rejects or keeps vague: skip them."""
    return env["v"].dtype.is_floating_point is False and any(b in expr for b in BOOL_FORBIDDEN)


@dataclass
class Program:
    lines: list[str] = field(default_factory=list)

    def source(self, torch_module: str) -> str:
        body = "\n".join("    " + line for line in self.lines)
        return f"import {torch_module} as torch\n\n\ndef prog(x, y, w):\n    v = x\n{body}\n    return v\n"

    def tie_checked_source(self) -> str:
        """The PyTorch program with each branch condition recording whether it sits on a
        rounding tie (`_TIES`): the oracle's run, never the compared ones."""
        return _TIE_CHECK + self.source("torch").replace("bool(v.sum() > 0)", "_cond(v)")


# A float sum within 1e-5 of its magnitude from 0 (not all zeros) is a tie: PyTorch's summation order and any
# other correct one may decide it differently (sums of ints are exact: never a tie).
_TIE_CHECK = """_TIES = []


def _cond(v):
    s = v.sum()
    scale = float(v.abs().sum()) if v.is_floating_point() else 0.0
    if scale > 0 and abs(float(s)) <= 1e-5 * scale:  # (all zeros: exactly 0 in any order)
        _TIES.append(float(s))
    return bool(s > 0)


"""


class Generator:
    """Draws statements that PyTorch accepts on the actual inputs (run as they are drawn)."""

    def __init__(self, rng: random.Random, inputs: dict[str, Any]):
        import torch

        self.torch = torch
        self.rng = rng
        self.inputs = inputs

    def _eval(self, expr: str, env: dict[str, Any]) -> Any:
        return eval(expr, {"torch": self.torch}, dict(env))  # noqa: S307 (our own templates)

    def step(self, env: dict[str, Any], keep: bool, loop_var: str | None) -> str | None:
        """`v = <expr>` legal for env's v (keeping its shape and dtype if `keep`), env updated."""
        pool = EXPRS + (LOOP_EXPRS if loop_var else [])
        for _ in range(30):
            template = self.rng.choice(pool)
            expr = template.format(v="v", y="y", w="w", i=loop_var or "0")
            if _bool_hazard(expr, env):
                continue
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    new = self._eval(expr, {**env, "i": 0} if loop_var else env)
            except Exception:  # noqa: BLE001  (not legal here: draw another)
                continue
            old = env["v"]
            if keep and (new.shape != old.shape or new.dtype != old.dtype):
                continue
            if new.numel() > 4096:
                continue
            env["v"] = new
            return f"v = {expr}"
        return None

    def block(
        self, env: dict[str, Any], n: int, depth: int, keep: bool, loop_var: str | None
    ) -> list[str]:
        lines: list[str] = []
        for _ in range(n):
            r = self.rng.random()
            if depth < 2 and r < 0.2:
                lines += self.if_stmt(env, depth, keep, loop_var)
            elif depth < 2 and r < 0.35 and loop_var is None:
                lines += self.for_stmt(env, depth)
            else:
                s = self.step(env, keep, loop_var)
                if s is not None:
                    lines.append(s)
        return lines

    def if_stmt(
        self, env: dict[str, Any], depth: int, keep: bool, loop_var: str | None
    ) -> list[str]:
        cond = "v.sum() > 0"
        then_env, else_env = dict(env), dict(env)
        then = self.block(then_env, self.rng.randint(1, 3), depth + 1, True, loop_var)
        other = self.block(else_env, self.rng.randint(0, 2), depth + 1, True, loop_var)
        if not then:
            return []
        taken = bool(self._eval(cond, env))
        env.update(then_env if taken else else_env)
        out = [f"if bool({cond}):", *("    " + s for s in then)]
        if other:
            out += ["else:", *("    " + s for s in other)]
        return out

    def for_stmt(self, env: dict[str, Any], depth: int) -> list[str]:
        n = self.rng.randint(0, 3)
        body_env = dict(env)
        body = self.block(body_env, self.rng.randint(1, 3), depth + 1, True, "i")
        if not body:
            return []
        lines = [f"for i in range({n}):", *("    " + s for s in body)]
        # run the loop for real: the body's legality was checked with i = 0 only
        code = "\n".join(["v = v", *lines])
        ns = {"torch": self.torch, **env}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                exec(code, ns)  # noqa: S102
        except Exception:  # noqa: BLE001
            return []
        env["v"] = ns["v"]
        return lines


# -- inputs ------------------------------------------------------------------------------------

DTYPES = ["float32", "float32", "float64", "int64", "bool"]


def _array(rng: random.Random, shape: tuple[int, ...], dtype: str, special: bool) -> np.ndarray:
    g = np.random.default_rng(rng.randrange(2**32))
    if dtype == "bool":
        return np.asarray(g.random(shape) > 0.5)
    if dtype == "int64":
        return np.asarray(g.integers(-3, 4, shape), dtype=np.int64)
    a = np.asarray(g.standard_normal(shape), dtype=dtype)
    if special and a.size:
        flat = a.reshape(-1)
        for _ in range(max(1, a.size // 4)):
            flat[g.integers(a.size)] = g.choice([np.nan, np.inf, -np.inf, 0.0])
    return a


def draw_inputs(rng: random.Random) -> dict[str, np.ndarray]:
    a, b, k = (rng.choice([0, 1, 2, 3, 5]) for _ in range(3))
    dx, dy = rng.choice(DTYPES), rng.choice(DTYPES[1:])
    yshape = rng.choice([(a, b), (1, b), (b,), (a, 1), ()])
    dw = dx if dx.startswith("float") else "float32"
    special = rng.random() < 0.2
    return {
        "x": _array(rng, (a, b), dx, special),
        "y": _array(rng, yshape, dy, special),
        "w": _array(rng, (b, k), dw, False),
    }


def flipped(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Inputs that take the other side of `v.sum() > 0` more often: x negated (not for bool)."""
    x = arrays["x"]
    return {**arrays, "x": (~x if x.dtype == np.bool_ else -x)}


# -- comparing ---------------------------------------------------------------------------------


def compare(got: np.ndarray, want: np.ndarray) -> str | None:
    """None if equal under the fuzzer's rule, else what differs."""
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        return f"shape {got.shape} != {want.shape}"
    if got.dtype != want.dtype:
        return f"dtype {got.dtype} != {want.dtype}"
    if want.dtype.kind != "f":
        return None if np.array_equal(got, want) else "values differ"
    if not np.array_equal(np.isnan(got), np.isnan(want)):
        return "NaN positions differ"
    if not np.array_equal(np.isposinf(got), np.isposinf(want)) or not np.array_equal(
        np.isneginf(got), np.isneginf(want)
    ):
        return "inf positions differ"
    fin = np.isfinite(want)
    if not np.allclose(got[fin], want[fin], rtol=RTOL, atol=ATOL):
        err = np.max(np.abs(got[fin].astype(np.float64) - want[fin]))
        return f"values differ (max abs error {err:.3g})"
    return None


# -- running one program -----------------------------------------------------------------------


def _load(path: Path, name: str) -> Callable[..., Any]:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.prog


def repro(prog: Program, arrays: dict[str, np.ndarray], category: str) -> str:
    """A runnable file: the program and its inputs."""
    np.set_printoptions(threshold=10_000)
    args = "\n".join(
        f"{k} = torch.from_numpy(np.array({a.tolist()!r}, dtype=np.{a.dtype}).reshape({a.shape}))"
        for k, a in arrays.items()
    )
    return (
        f"# fuzz.programs finding: {category}\n"
        + prog.source("xjit")
        + f"\n\nimport numpy as np\n\n{args}\nprint(prog(x, y, w))\n"
    )


def check_program(
    prog: Program, arrays: dict[str, np.ndarray], tmp: Path, n: int, timeout: float
) -> tuple[list[tuple[str, str]], list[str]]:
    """([(category, detail)], outcomes) of one program on its inputs."""
    import torch

    import xjit

    src_x, src_t = tmp / f"p{n}_xjit.py", tmp / f"p{n}_torch.py"
    src_x.write_text(prog.source("xjit"))
    src_t.write_text(prog.source("torch"))
    fx, ft = _load(src_x, f"fuzz_p{n}_xjit"), _load(src_t, f"fuzz_p{n}_torch")
    src_c = tmp / f"p{n}_ties.py"
    src_c.write_text(prog.tie_checked_source())
    fc = _load(src_c, f"fuzz_p{n}_ties")
    findings: list[tuple[str, str]] = []
    outcomes: list[str] = []
    sets = {"inputs": arrays, "flipped": flipped(arrays)}

    def t_args(a: dict[str, np.ndarray]) -> list[Any]:
        return [torch.from_numpy(a[k].copy()) for k in ("x", "y", "w")]

    def x_args(a: dict[str, np.ndarray]) -> list[Any]:
        return [xjit.from_numpy(a[k].copy()) for k in ("x", "y", "w")]

    want: dict[str, np.ndarray] = {}
    for key, a in sets.items():
        try:
            want[key] = ft(*t_args(a)).numpy()
            ties = fc.__globals__["_TIES"]
            ties.clear()
            fc(*t_args(a))
            if ties:
                # A branch sits on a rounding tie (a sum that is 0 in exact arithmetic): any
                # summation order may go either way, so PyTorch is no oracle for this input.
                outcomes.append("branch on a rounding tie (skipped)")
                del want[key]
        except Exception as e:  # noqa: BLE001  (PyTorch rejects it: xjit eager must too)
            outcomes.append("torch rejects")
            try:
                fx(*x_args(a))
                findings.append((f"accepted:{key}", f"PyTorch raised {type(e).__name__}: {e}"))
            except Exception:  # noqa: BLE001
                pass
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch 2.13 deprecates torch.jit.script
            ts = torch.jit.script(ft)
        for key in want:
            if compare(ts(*t_args(sets[key])).numpy(), want[key]) is not None:
                outcomes.append("torch.jit.script disagrees with torch eager (oracle skipped)")
    except Exception:  # noqa: BLE001
        outcomes.append("torch.jit.script rejects")

    def stage(name: str, run: Callable[[], Any], key: str) -> None:
        if key not in want:
            return
        try:
            with time_limit(timeout), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                got = run()
        except Timeout:
            findings.append((f"hang:{name}", f"no result after {timeout} s"))
            return
        except Exception as e:  # noqa: BLE001
            msg = str(e).splitlines()[0] if str(e) else ""
            findings.append((f"error:{name}:{type(e).__name__}", msg[:300]))
            return
        diff = compare(got.numpy(), want[key])
        outcomes.append(f"{name} ok" if diff is None else f"{name} mismatch")
        if diff is not None:
            findings.append((f"mismatch:{name}", f"{key}: {diff}"))

    for key in sets:
        stage("eager", lambda k=key: fx(*x_args(sets[k])), key)
    traced: list[Any] = []

    def trace_and_run() -> Any:
        traced.append(xjit.jit.trace(fx, tuple(x_args(arrays))))
        return traced[0](*x_args(arrays))

    stage("trace", trace_and_run, "inputs")
    scripted: list[Any] = []

    def script_and_run(key: str) -> Any:
        if not scripted:
            scripted.append(xjit.jit.script(fx))
        return scripted[0](*x_args(sets[key]))

    for key in sets:
        stage("script", lambda k=key: script_and_run(k), key)
    return findings, outcomes


def fuzz(
    seed: int,
    count: int,
    timeout: float,
    allowed: frozenset[str] = frozenset(),
    verbose: bool = False,
    budget: float | None = None,
) -> Summary:
    start = time.perf_counter()
    summary = Summary("fuzz.programs", allowed)
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="xjit-fuzz-programs-") as d:
        for n in range(count):
            if budget is not None and time.perf_counter() - start > budget:
                break  # out of time: report what ran
            arrays = draw_inputs(rng)
            prog = generate(rng, arrays)
            summary.inputs += 1
            findings, outcomes = check_program(prog, arrays, Path(d), n, timeout)
            for o in outcomes:
                summary.outcomes[o] += 1
            for cat, detail in findings:
                text = repro(prog, arrays, cat)
                summary.add(Finding(cat, f"seed {seed} program {n}", detail, text, ".py"))
                if verbose:
                    print(f"[{n}] {cat}: {detail}", flush=True)
    return summary


def generate(rng: random.Random, arrays: dict[str, np.ndarray]) -> Program:
    import torch

    env = {k: torch.from_numpy(a.copy()) for k, a in arrays.items()}
    env["v"] = env["x"]
    gen = Generator(rng, env)
    return Program(gen.block(env, rng.randint(1, 6), 0, False, None))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m fuzz.programs", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--count", type=int, default=50, help="programs")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per stage and program")
    p.add_argument("--out", type=Path, default=Path("fuzz-findings/programs"))
    p.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="CATEGORY",
        help="a known finding category not to fail on (exact)",
    )
    p.add_argument(
        "--budget", type=float, metavar="SECONDS", help="stop starting inputs after this"
    )
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    s = fuzz(args.seed, args.count, args.timeout, frozenset(args.allow), args.verbose, args.budget)
    print(s.report(args.out))
    print(f"  {time.perf_counter() - t0:.1f} s")
    return s.exit_status


if __name__ == "__main__":
    sys.exit(main())
