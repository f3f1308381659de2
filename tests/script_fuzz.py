"""Random TorchScript programs (issue 10): source text of small typed Python functions (and
modules) with tensors of three dtypes, int/float/bool scalars, branches on tensor and scalar
conditions, `for`/`while` loops with guarded `break`/`continue`, early returns, tuples, lists of
ints and of tensors, helper functions and `self.method` calls. Each program is scripted by
`xjit.jit.script` and by real `torch.jit.script` (the oracle) and both are called on the same
inputs; programs without data-dependent control flow are also traced by `xjit.jit.trace` and
compared with eager PyTorch.

The generator tracks each value's type: a tensor's dtype (f32, i64, bool) and symbolic shape over
the dims `a` and `b` of the first parameter `x` (full `(a, b)`, a column `(a, 1)`, a row `(b,)` or
`(1, b)`, a 0-d tensor), so that expressions broadcast; a branch or loop body reassigns only
variables of the enclosing scope with the same type. Concrete sizes include 0 and 1, so some
programs raise in PyTorch (an empty `amax`, `x[0]` of an empty tensor): xjit must raise too.

Outcomes of `check_script`/`check_trace` (see their docstrings): "ok", "torch-refused" (real
TorchScript does not compile the program: the generator's fault, ignored), "both-raised",
"gap: <kind>" (xjit refuses with a located FrontendError where torch compiles: counted, not a
failure); anything else raises AssertionError with the program's source.

The choices come from a `Chooser`: hypothesis draws (tests/conformance/test_script_fuzz.py) or a
seeded `random.Random` (`python tests/script_fuzz.py --count 2000`, a campaign that collects all
failures and gap counts instead of stopping at the first).
"""

from __future__ import annotations

import argparse
import itertools
import random
import re
import signal
import sys
import tempfile
import textwrap
import traceback
import types
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")

# -- choices ---------------------------------------------------------------------------------------


class Chooser:
    """Where the generator's decisions come from."""

    def choice(self, options: Sequence[T]) -> T:
        raise NotImplementedError

    def integer(self, lo: int, hi: int) -> int:
        raise NotImplementedError

    def chance(self, p: float) -> bool:
        return self.integer(0, 99) < int(p * 100)


class RandomChooser(Chooser):
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def choice(self, options: Sequence[T]) -> T:
        return options[self.rng.randrange(len(options))]

    def integer(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)


class DrawChooser(Chooser):
    """Hypothesis draws, so that a failing program shrinks."""

    def __init__(self, draw: Callable[[Any], Any]) -> None:
        self.draw = draw

    def choice(self, options: Sequence[T]) -> T:
        from hypothesis import strategies as st  # lazy: only the hypothesis test needs it

        return options[self.draw(st.integers(0, len(options) - 1))]

    def integer(self, lo: int, hi: int) -> int:
        from hypothesis import strategies as st  # lazy: only the hypothesis test needs it

        return self.draw(st.integers(lo, hi))


# -- types -----------------------------------------------------------------------------------------

Shape = tuple[Any, ...]  # dims: "a", "b" or 1
FULL: Shape = ("a", "b")
COL: Shape = ("a", 1)
ROW: Shape = ("b",)
ROW1: Shape = (1, "b")
SCAL: Shape = ()
SHAPES = [FULL, COL, ROW, ROW1, SCAL]
DTYPES = ["f", "i", "b"]
TORCH_DTYPE = {"f": "torch.float32", "i": "torch.int64", "b": "torch.bool"}
NP_DTYPE = {"f": np.float32, "i": np.int64, "b": np.bool_}


@dataclass(frozen=True)
class TT:
    """A tensor of dtype `dt` and symbolic shape `shape`."""

    dt: str
    shape: Shape


@dataclass(frozen=True)
class Tup:
    items: tuple[Any, ...]


@dataclass(frozen=True)
class LInt:
    nonempty: bool


@dataclass(frozen=True)
class LTen:
    elem: TT


Type = Any  # TT | Tup | LInt | LTen | "int" | "float" | "bool"


def broadcast(s1: Shape, s2: Shape) -> Shape | None:
    """Symbolic broadcast: dims `a` and `b` are different sizes, 1 broadcasts."""
    n = max(len(s1), len(s2))
    p1 = (1,) * (n - len(s1)) + s1
    p2 = (1,) * (n - len(s2)) + s2
    out = []
    for d1, d2 in zip(p1, p2, strict=True):
        if d1 == d2 or d2 == 1:
            out.append(d1)
        elif d1 == 1:
            out.append(d2)
        else:
            return None
    return tuple(out)


def annotation(t: Type) -> str:
    if isinstance(t, TT) or t == "W":
        return "torch.Tensor"
    if isinstance(t, Tup):
        return "Tuple[" + ", ".join(annotation(i) for i in t.items) + "]"
    if isinstance(t, LInt):
        return "List[int]"
    if isinstance(t, LTen):
        return "List[torch.Tensor]"
    return str(t)


# -- programs --------------------------------------------------------------------------------------


@dataclass
class Param:
    name: str
    type: Type


@dataclass
class Program:
    source: str
    params: list[Param]
    sizes: tuple[int, int]
    seed: int
    module: bool  # `M().forward` rather than function `f`
    traceable: bool  # no data-dependent control flow, tensor parameters, tensor results
    scalars: dict[str, Any] = field(default_factory=dict)
    ret: Type = None  # the declared result type

    def describe(self) -> str:
        args = ", ".join(f"{p.name}: {p.type}" for p in self.params)
        return (
            f"sizes a, b = {self.sizes}, seed {self.seed}, params ({args}), "
            f"scalars {self.scalars}\n{self.source}"
        )


class Gen:
    """Builds one program's source, statement by statement, tracking types in scopes."""

    def __init__(self, ch: Chooser, trace_only: bool = False) -> None:
        self.ch = ch
        self.trace_only = trace_only  # no scalar params, no tensor -> Python scalar conversions
        self.scopes: list[dict[str, Type]] = [{}]
        self.lines: list[str] = []
        self.indent = 1
        self.names = itertools.count()
        self.loop_depth = 0
        self.data_dependent = False
        self.helpers: list[str] = []  # "h0" functions: (full f32 tensor, int) -> full f32 tensor
        self.methods: list[str] = []  # "self.m0" the same, in module mode
        self.ret: Type = None
        # tensors that only ever hold a `.clone()`: in-place targets that alias no argument
        # (in-place on arguments is mostly refused by xjit, which would hide everything else)
        self.owned: set[str] = set()

    # -- environment --
    def fresh(self, prefix: str) -> str:
        return f"{prefix}{next(self.names)}"

    def bind(self, name: str, t: Type) -> None:
        self.scopes[-1][name] = t

    def visible(self) -> dict[str, Type]:
        out: dict[str, Type] = {}
        for s in self.scopes:
            out.update(s)
        return out

    def vars_of(self, pred: Callable[[Type], bool]) -> list[str]:
        return [n for n, t in self.visible().items() if pred(t)]

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.indent + line)

    @contextmanager
    def block(self, header: str) -> Iterator[None]:
        self.emit(header)
        self.indent += 1
        self.scopes.append({})
        n = len(self.lines)
        try:
            yield
        finally:
            if len(self.lines) == n:
                self.emit("pass")
            self.scopes.pop()
            self.indent -= 1

    # -- tensor expressions --
    def leaf(self, t: TT) -> str:
        exact = self.vars_of(lambda u: u == t)
        exact += [
            f"{n}[{i}]"
            for n, u in self.visible().items()
            if isinstance(u, Tup)
            for i, it in enumerate(u.items)
            if it == t
        ]
        if exact and self.ch.chance(0.8):
            return self.ch.choice(exact)
        if t.shape == FULL:
            return {"f": "x", "i": "(x * 3).to(torch.int64)", "b": "(x > 0)"}[t.dt]
        if t.shape == COL:
            return (
                "(" + f"{self.leaf(TT(t.dt, FULL))}.sum(1, keepdim=True)" + self._retype(t.dt, "i")
            )
        if t.shape == ROW:
            return "(" + f"{self.leaf(TT(t.dt, FULL))}.sum(0)" + self._retype(t.dt, "i")
        if t.shape == ROW1:
            return (
                "(" + f"{self.leaf(TT(t.dt, FULL))}.sum(0, keepdim=True)" + self._retype(t.dt, "i")
            )
        return "(" + f"{self.leaf(TT(t.dt, FULL))}.sum()" + self._retype(t.dt, "i")

    @staticmethod
    def _retype(want: str, have: str) -> str:
        """A suffix turning a sum (i64 for i64 and bool inputs, f32 for f32) back into `want`."""
        return " > 0)" if want == "b" else ")"

    def tensor(self, t: TT, depth: int) -> str:
        if depth <= 0 or self.ch.chance(0.25):
            return self.leaf(t)
        makers = [self._unary, self._binary, self._binary, self._where, self._convert]
        if t.dt != "b":
            makers += [self._scalar_mix, self._masked_fill, self._reduce, self._like]
        if t.shape == FULL:
            makers += [self._views, self._cat_stack, self._helper_call]
            if t.dt == "f":
                makers.append(self._matmul)
        if t.shape in (ROW, COL, SCAL):
            makers.append(self._index)
        if any(isinstance(u, LTen) and u.elem.dt == t.dt for u in self.visible().values()):
            makers.append(self._from_list)
        out = self.ch.choice(makers)(t, depth - 1)
        return out if out is not None else self.leaf(t)

    def _unary(self, t: TT, d: int) -> str:
        e = self.tensor(t, d)
        ops = {
            "f": [
                "torch.tanh({})",
                "torch.sigmoid({})",
                "torch.relu({})",
                "torch.abs({})",
                "-{}",
                "torch.sin({})",
                "torch.exp(torch.tanh({}))",
                "torch.clamp({}, -1.0, 1.0)",
                "({}) ** 2",
                "({}).clamp(min=0.5)",
            ],
            "i": [
                "torch.abs({})",
                "-{}",
                "({}) // 2",
                "({}) % 3",
                "torch.clamp({}, min=-2, max=2)",
                "({}) * 2 - 1",
            ],
            "b": ["torch.logical_not({})", "~({})"],
        }[t.dt]
        return "(" + self.ch.choice(ops).format(e) + ")"

    def _pair_shapes(self, shape: Shape) -> tuple[Shape, Shape]:
        pairs = [(s1, s2) for s1 in SHAPES for s2 in SHAPES if broadcast(s1, s2) == shape]
        return self.ch.choice(pairs)

    def _binary(self, t: TT, d: int) -> str:
        s1, s2 = self._pair_shapes(t.shape)
        if t.dt == "b":
            if self.ch.chance(0.5):
                a, b = self.tensor(TT("b", s1), d), self.tensor(TT("b", s2), d)
                return f"({a} {self.ch.choice(['&', '|', '^'])} {b})"
            dt = self.ch.choice(["f", "i"])
            a, b = self.tensor(TT(dt, s1), d), self.tensor(TT(self.ch.choice(["f", "i"]), s2), d)
            return f"({a} {self.ch.choice(['>', '<', '>=', '<=', '==', '!='])} {b})"
        # f32 with i64 promotes to f32; i64 only with i64 (or bool)
        dt2 = self.ch.choice(["f", "i", "f"]) if t.dt == "f" else self.ch.choice(["i", "i", "b"])
        a, b = self.tensor(t if s1 == t.shape else TT(t.dt, s1), d), self.tensor(TT(dt2, s2), d)
        if self.ch.chance(0.5) and dt2 != "b":
            a, b = b, a
            if t.dt == "f" and dt2 == "i":  # keep one f32 operand first is not needed: promotion
                pass
        if dt2 == "b":
            return f"({a} + {b})"
        if t.dt == "f" and dt2 == "i" and self.ch.chance(0.2):
            return f"({a} / ({b}.abs() + 1))"
        op = self.ch.choice(["+", "-", "*", "max", "min"] + (["//"] if t.dt == "i" else []))
        if op == "max":
            return f"torch.maximum({a}, {b})"
        if op == "min":
            return f"torch.minimum({a}, {b})"
        if op == "//":
            return f"({a} // ({b}.abs() + 1))"
        return f"({a} {op} {b})"

    def _scalar_mix(self, t: TT, d: int) -> str:
        e = self.tensor(t, d)
        if t.dt == "f":
            s = self.scalar(self.ch.choice(["int", "float"]), d)
        else:
            s = self.scalar("int", d)
        op = self.ch.choice(["+", "-", "*"])
        return f"({e} {op} {s})" if self.ch.chance(0.5) else f"({s} {op} {e})"

    def _where(self, t: TT, d: int) -> str:
        sc, se = self._pair_shapes(t.shape)
        c = self.tensor(TT("b", sc), d)
        if t.dt == "f" and self.ch.chance(0.2):  # f32 and i64 branches promote to f32
            return f"torch.where({c}, {self.tensor(TT('f', se), d)}, {self.tensor(TT('i', se), d)})"
        return f"torch.where({c}, {self.tensor(TT(t.dt, se), d)}, {self.tensor(TT(t.dt, se), d)})"

    def _masked_fill(self, t: TT, d: int) -> str:
        masks = [s for s in SHAPES if broadcast(s, t.shape) == t.shape]
        m = self.tensor(TT("b", self.ch.choice(masks)), d)
        v = self.ch.choice(["0.5", "-2.0"]) if t.dt == "f" else self.ch.choice(["0", "3"])
        return f"{self.tensor(t, d)}.masked_fill({m}, {v})"

    def _convert(self, t: TT, d: int) -> str:
        src = self.ch.choice([x for x in DTYPES if x != t.dt])
        e = self.tensor(TT(src, t.shape), d)
        if t.dt == "f":
            return self.ch.choice([f"{e}.to(torch.float32)", f"{e}.float()"])
        if t.dt == "i":
            if src == "f":
                return self.ch.choice([f"({e} * 2).to(torch.int64)", f"({e} * 3).long()"])
            return f"{e}.long()"
        return self.ch.choice([f"{e}.to(torch.bool)", f"({e} != 0)"])

    def _reduce(self, t: TT, d: int) -> str | None:
        src_dt = t.dt if t.dt == "f" else self.ch.choice(["i", "b"])
        full = self.tensor(TT(src_dt, FULL), d)
        mean_ok = t.dt == "f"
        if t.shape == COL:
            opts = [f"{full}.sum(1, keepdim=True)", f"{full}.sum(-1).unsqueeze(-1)"]
            if mean_ok:
                opts += [f"{full}.mean(1, keepdim=True)", f"{full}.amax(1, keepdim=True)"]
        elif t.shape == ROW:
            opts = [f"{full}.sum(0)", f"torch.sum({full}, 0)"]
            if mean_ok:
                opts += [f"{full}.mean(0)", f"{full}.amin(0)"]
        elif t.shape == ROW1:
            opts = [f"{full}.sum(0, keepdim=True)", f"{full}.sum(0).unsqueeze(0)"]
            if mean_ok:
                opts.append(f"{full}.mean(dim=0, keepdim=True)")
        elif t.shape == SCAL:
            opts = [f"{full}.sum()", f"torch.sum({full})"]
            if mean_ok:
                opts += [f"{full}.mean()", f"{full}.max()"]
        else:
            return None
        return self.ch.choice(opts)

    def _like(self, t: TT, d: int) -> str:
        e = self.tensor(t, d)
        return self.ch.choice(
            [f"torch.zeros_like({e})", f"torch.ones_like({e})", f"torch.full_like({e}, 2)"]
        )

    def _views(self, t: TT, d: int) -> str:
        e = self.tensor(t, d)
        return self.ch.choice(
            [
                f"{e}.t().contiguous().t()",
                f"{e}.transpose(0, 1).reshape(x.size(1), x.size(0)).transpose(0, 1)",
                f"{e}.reshape(-1).view(x.shape)",
                f"{e}.unsqueeze(0).squeeze(0)",
                f"{e}.permute(1, 0).permute(1, 0)",
                f"{e}.reshape(x.size(0), x.size(1))",
                f"{e}.unsqueeze(-1).sum(-1)" if t.dt != "b" else f"{e}.unsqueeze(2).squeeze(2)",
                f"{e}[:, :]",
                f"{e}[0:x.size(0)]",
            ]
        )

    def _cat_stack(self, t: TT, d: int) -> str:
        e1, e2 = self.tensor(t, d), self.tensor(t, d)
        opts = [
            f"torch.cat([{e1}, {e2}], 0)[:x.size(0)]",
            f"torch.cat(({e1}, {e2}), 1)[:, x.size(1):]",
        ]
        if t.dt != "b":
            opts.append(f"torch.stack([{e1}, {e2}], 0).sum(0)")
        if t.dt == "f":
            opts.append(f"torch.stack([{e1}, {e2}], -1).mean(-1)")
        return self.ch.choice(opts)

    def _matmul(self, t: TT, d: int) -> str:
        e = self.tensor(t, d)
        if "w" in self.visible():
            return self.ch.choice([f"torch.matmul({e}, w)", f"({e} @ w)", f"torch.mm({e}, w)"])
        e2 = self.tensor(TT("f", FULL), d)
        return f"(torch.matmul({e}, {e2}.t()) @ {e2})"

    def _loop_vars(self) -> list[str]:
        return [n for n, u in self.visible().items() if u == "int" and n.startswith("i")]

    def _index(self, t: TT, d: int) -> str:
        e = self.tensor(TT(t.dt, FULL), d)
        if t.shape == ROW:
            loops = [f"{e}[{i}]" for i in self._loop_vars()] + [
                f"{e}[-1 - {i}]" for i in self._loop_vars()
            ]
            return self.ch.choice([f"{e}[0]", f"{e}[-1]", f"{e}[x.size(0) - 1]", *loops])
        if t.shape == COL:
            return self.ch.choice([f"{e}[:, 0:1]", f"{e}[:, -1:]", f"{e}[:, :1]"])
        return self.ch.choice([f"{e}[0, 0]", f"{e}[-1][0]"])

    def _from_list(self, t: TT, d: int) -> str | None:
        lists = [n for n, u in self.visible().items() if isinstance(u, LTen) and u.elem.dt == t.dt]
        n = self.ch.choice(lists)
        el = self.visible()[n].elem
        if el == t:
            return self.ch.choice([f"{n}[-1]", f"{n}[0]", f"{n}[len({n}) - 1]"])
        if broadcast(el.shape, t.shape) == t.shape and t.dt != "b":
            return f"torch.stack({n}, 0).sum(0)"
        if el.shape == FULL and t.shape == ROW1 and t.dt != "b":
            return f"torch.cat({n}, 0).sum(0, keepdim=True)"
        return None

    def _helper_call(self, t: TT, d: int) -> str | None:
        if t.dt != "f":
            return None
        callees = self.helpers + self.methods
        if not callees:
            return None
        return f"{self.ch.choice(callees)}({self.tensor(t, d)}, {self.scalar('int', d)})"

    # -- scalar expressions --
    def scalar(self, kind: str, depth: int) -> str:
        vs = self.vars_of(lambda u: u == kind)
        vs += [
            f"{n}[{i}]"
            for n, u in self.visible().items()
            if isinstance(u, Tup)
            for i, it in enumerate(u.items)
            if it == kind
        ]
        if depth <= 0 or self.ch.chance(0.3):
            if vs and self.ch.chance(0.7):
                return self.ch.choice(vs)
            return self._scalar_leaf(kind)
        return getattr(self, f"_{kind}_expr")(depth - 1)

    def _scalar_leaf(self, kind: str) -> str:
        if kind == "int":
            return self.ch.choice(["0", "1", "2", "3", "-1", "x.size(0)", "x.shape[1]"])
        if kind == "float":
            return self.ch.choice(["0.5", "-1.25", "2.0", "0.0"])
        return self.ch.choice(["True", "False", "x.size(0) > 1"])

    def _tensor_scalar_ok(self) -> bool:
        return not self.trace_only

    def _int_expr(self, d: int) -> str:
        a, b = self.scalar("int", d), self.scalar("int", d)
        opts = [
            f"({a} + {b})",
            f"({a} - {b})",
            f"({a} * {b})",
            f"({a} // (abs({b}) + 1))",
            f"({a} % (abs({b}) + 1))",
            f"min({a}, {b})",
            f"max({a}, {b})",
            f"abs({a})",
            f"int({self.scalar('float', d)})",
            f"({a} if {self.scalar('bool', d)} else {b})",
        ]
        lists = self.vars_of(lambda u: isinstance(u, LInt))
        if lists:
            n = self.ch.choice(lists)
            opts += [f"len({n})", f"sum({n})"]
            if self.visible()[n].nonempty:
                opts += [f"{n}[0]", f"{n}[-1]"]
        if any(isinstance(u, LTen) for u in self.visible().values()):
            opts.append(f"len({self.ch.choice(self.vars_of(lambda u: isinstance(u, LTen)))})")
        if self._tensor_scalar_ok():
            e = self.tensor(TT(self.ch.choice(["i", "b"]), SCAL), d)
            ef = self.tensor(TT("f", SCAL), d)
            opts += [f"int({e})", f"int({e}.item())", f"int({ef})"]
        return self.ch.choice(opts)

    def _float_expr(self, d: int) -> str:
        f, g = self.scalar("float", d), self.scalar("float", d)
        i = self.scalar("int", d)
        opts = [
            f"({f} + {g})",
            f"({f} - {i})",
            f"({i} * {f})",
            f"({f} * {g})",
            f"({i} / (abs({self.scalar('int', d)}) + 1))",
            f"min({f}, {g})",
            f"max({f}, {g})",
            f"abs({f})",
            f"float({i})",
            f"({f}) ** 2",
            f"({i}) ** 2",
            f"({f} // 1.5)",
        ]
        if self._tensor_scalar_ok():
            e = self.tensor(TT("f", SCAL), d)
            opts += [f"float({e})", f"float({e}.item())", f"{e}.item() * 1.0"]
        return self.ch.choice(opts)

    def _bool_expr(self, d: int) -> str:
        kind = self.ch.choice(["int", "float"])
        a, b = self.scalar(kind, d), self.scalar(kind, d)
        opts = [
            f"({a} {self.ch.choice(['<', '>', '==', '!=', '<=', '>='])} {b})",
            f"(not {self.scalar('bool', d)})",
            f"({self.scalar('bool', d)} and {self.scalar('bool', d)})",
            f"({self.scalar('bool', d)} or {self.scalar('bool', d)})",
        ]
        if self._tensor_scalar_ok():
            dt = self.ch.choice(["f", "i"])
            e = self.tensor(TT(dt, self.ch.choice(SHAPES)), d)
            opts += [f"bool({e}.sum() > 0)", f"bool(({e} > 0).any())"]
            opts.append(f"bool({self.tensor(TT('b', SCAL), d)})")
        return self.ch.choice(opts)

    def value(self, t: Type, depth: int) -> str:
        if isinstance(t, TT):
            return self.tensor(t, depth)
        if isinstance(t, Tup):
            items = [self.value(i, depth) for i in t.items]
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        if isinstance(t, LInt):
            if self.ch.chance(0.3):
                return f"[{self.scalar('int', depth)} * 2 for _ in range(3)]"
            return "[" + ", ".join(self.scalar("int", depth) for _ in range(2)) + "]"
        if isinstance(t, LTen):
            return "[" + ", ".join(self.tensor(t.elem, depth) for _ in range(2)) + "]"
        return self.scalar(t, depth)

    # -- statements --
    def random_type(self) -> Type:
        k = self.ch.choice(["T", "T", "T", "int", "float", "bool", "tup", "lint", "lten"])
        if k == "T":
            return TT(self.ch.choice(["f", "f", "i", "b"]), self.ch.choice(SHAPES))
        if k == "tup":
            return Tup((TT("f", self.ch.choice(SHAPES)), self.ch.choice(["int", "float"])))
        if k == "lint":
            return LInt(True)
        if k == "lten":
            return LTen(TT(self.ch.choice(["f", "i"]), self.ch.choice([FULL, ROW, SCAL])))
        return k

    def statements(self, n: int, depth: int) -> None:
        for _ in range(n):
            self.statement(depth)

    def statement(self, depth: int) -> None:
        kinds = ["assign", "assign", "reassign", "reassign", "augassign", "inplace"]
        if depth > 0:
            kinds += ["if", "if", "for", "while", "list"]
        if self.loop_depth:
            kinds += ["break", "continue"]
        kinds.append("return")
        kinds.append("itemset")
        kinds.append("unpack")
        getattr(self, f"_st_{self.ch.choice(kinds)}")(depth)

    def _st_assign(self, depth: int) -> None:
        t = self.random_type()
        name = self.fresh("v")
        ann = ""
        if isinstance(t, (LInt, LTen)) and self.ch.chance(0.5):
            ann = f": {annotation(t)}"
        value = self.value(t, 2)
        if isinstance(t, TT) and self.ch.chance(0.6):
            value += ".clone()"
            self.owned.add(name)
        self.emit(f"{name}{ann} = {value}")
        self.bind(name, t)

    def _st_reassign(self, depth: int) -> None:
        vs = [
            n
            for n, t in self.visible().items()
            if not isinstance(t, LInt) and t != "W" and not n.startswith(("i", "j"))
        ]
        if not vs:
            return self._st_assign(depth)
        n = self.ch.choice(vs)
        clone = ".clone()" if n in self.owned else ""
        self.emit(f"{n} = {self.value(self.visible()[n], 2)}{clone}")

    def _st_augassign(self, depth: int) -> None:
        vs = [n for n, t in self.visible().items() if t in ("int", "float") or isinstance(t, TT)]
        vs = [n for n in vs if not n.startswith(("i", "j")) and self._may_mutate(n)]
        if not vs:
            return self._st_assign(depth)
        n = self.ch.choice(vs)
        t = self.visible()[n]
        if isinstance(t, TT):
            if t.dt == "b":
                return self._st_assign(depth)
            small = [s for s in SHAPES if broadcast(s, t.shape) == t.shape]
            e = self.tensor(TT(t.dt, self.ch.choice(small)), 1)
        else:
            e = self.scalar(t, 1)
        op = self.ch.choice(["+=", "-=", "*="])
        self.emit(f"{n} {op} {e}")

    def _may_mutate(self, name: str) -> bool:
        return (
            not isinstance(self.visible()[name], TT) or name in self.owned or self.ch.chance(0.03)
        )

    def _st_inplace(self, depth: int) -> None:
        vs = self.vars_of(lambda u: isinstance(u, TT) and u.dt != "b")
        vs = [n for n in vs if self._may_mutate(n)]
        if not vs:
            return self._st_assign(depth)
        n = self.ch.choice(vs)
        t = self.visible()[n]
        small = [s for s in SHAPES if broadcast(s, t.shape) == t.shape]
        e = self.tensor(TT(t.dt, self.ch.choice(small)), 1)
        self.emit(self.ch.choice([f"{n}.add_({e})", f"{n}.mul_({e})", f"{n}.sub_({e})"]))

    def _st_itemset(self, depth: int) -> None:
        vs = self.vars_of(lambda u: isinstance(u, TT) and u.shape in (FULL, ROW) and u.dt != "b")
        vs = [n for n in vs if self._may_mutate(n)]
        if not vs:
            return self._st_inplace(depth)
        n = self.ch.choice(vs)
        t = self.visible()[n]
        v = self.scalar("float" if t.dt == "f" else "int", 1)
        loops = self._loop_vars()
        if loops and self.ch.chance(0.5):  # a run-time index (out of range: torch raises)
            i = self.ch.choice(loops)
            self.emit(f"{n}[{self.ch.choice([i, f'{i} - 1', f'-1 - {i}', f'{i} + 1'])}] = {v}")
        elif t.shape == FULL:
            self.emit(self.ch.choice([f"{n}[0] = {v}", f"{n}[:, 0] = {v}", f"{n}[-1, -1] = {v}"]))
        else:
            self.emit(self.ch.choice([f"{n}[0] = {v}", f"{n}[-1] = {v}"]))

    def _st_unpack(self, depth: int) -> None:
        tups = self.vars_of(lambda u: isinstance(u, Tup))
        if not tups:
            return self._st_assign(depth)
        n = self.ch.choice(tups)
        t = self.visible()[n]
        names = [self.fresh("u") for _ in t.items]
        self.emit(f"{', '.join(names)} = {n}")
        for m, it in zip(names, t.items, strict=True):
            self.bind(m, it)

    def condition(self, depth: int) -> str:
        c = self.scalar("bool", max(depth, 1))
        if "bool(" in c or ".item()" in c or "int(" in c or "float(" in c:
            self.data_dependent = True
        return c

    def _st_if(self, depth: int) -> None:
        with self.block(f"if {self.condition(2)}:"):
            self.statements(self.ch.integer(1, 3), depth - 1)
        if self.ch.chance(0.3):
            with self.block(f"elif {self.condition(2)}:"):
                self.statements(self.ch.integer(1, 2), depth - 1)
        if self.ch.chance(0.5):
            with self.block("else:"):
                self.statements(self.ch.integer(1, 2), depth - 1)

    def _loop_body(self, depth: int) -> None:
        self.loop_depth += 1
        self.statements(self.ch.integer(1, 3), depth - 1)
        self.loop_depth -= 1

    def _st_for(self, depth: int) -> None:
        i = self.fresh("i")
        bound = self.ch.choice(
            ["0", "1", "2", "3", "x.size(0)"] + (["n"] if "n" in self.visible() else [])
        )
        if self.ch.chance(0.2):
            lists = self.vars_of(lambda u: isinstance(u, LInt))
            if lists:
                with self.block(f"for {i} in {self.ch.choice(lists)}:"):
                    self.bind(i, "int")
                    self._loop_body(depth)
                return
        with self.block(f"for {i} in range({bound}):"):
            self.bind(i, "int")
            self._loop_body(depth)

    def _st_while(self, depth: int) -> None:
        j = self.fresh("j")
        self.emit(f"{j} = 0")
        bound = self.ch.choice(["2", "3", "x.size(1)"])
        with self.block(f"while {j} < {bound}:"):
            self.emit(f"{j} += 1")
            self._loop_body(depth)

    def _st_break(self, depth: int) -> None:
        with self.block(f"if {self.condition(1)}:"):
            self.emit(self.ch.choice(["break", "continue"]))

    _st_continue = _st_break

    def _st_return(self, depth: int) -> None:
        if len(self.scopes) == 1:  # an early return needs a branch around it
            return self._st_assign(depth)
        with self.block(f"if {self.condition(1)}:"):
            self.emit(f"return {self.value(self.ret, 2)}")

    def _st_list(self, depth: int) -> None:
        if self.ch.chance(0.5):
            elem = TT(self.ch.choice(["f", "i"]), self.ch.choice([FULL, ROW, SCAL]))
            n = self.fresh("ts")
            self.emit(f"{n}: List[torch.Tensor] = [{self.tensor(elem, 1)}]")
            self.bind(n, LTen(elem))
            what = self.tensor(elem, 1)
        else:
            n = self.fresh("ls")
            if self.ch.chance(0.5):
                self.emit(f"{n}: List[int] = []")
                self.bind(n, LInt(False))
            else:
                self.emit(f"{n} = [{self.scalar('int', 1)}]")
                self.bind(n, LInt(True))
            what = self.scalar("int", 1)
        i = self.fresh("i")
        with self.block(f"for {i} in range({self.ch.choice(['2', '3', 'x.size(0)'])}):"):
            self.bind(i, "int")
            self.loop_depth += 1
            if self.ch.chance(0.5):
                self.statement(0)
            self.emit(f"{n}.append({what})")
            self.loop_depth -= 1

    # -- whole programs --
    def function(self, name: str, params: list[Param], ret: Type, n: int, self_arg: bool) -> str:
        self.ret = ret
        self.scopes = [{p.name: p.type for p in params}]
        self.lines = []
        self.indent = 1
        self.statements(n, 2)
        self.emit(f"return {self.value(ret, 2)}")
        args = ", ".join((["self"] if self_arg else []) + [_param_text(p) for p in params])
        head = f"def {name}({args}) -> {annotation(ret)}:"
        return "\n".join([head, *self.lines])

    def helper(self, name: str, self_arg: bool) -> str:
        """A small helper of a full f32 tensor and an int, returning a full f32 tensor."""
        saved = (self.scopes, self.lines, self.indent, self.ret, self.loop_depth)
        self.loop_depth = 0
        src = self.function(
            name, [Param("x", TT("f", FULL)), Param("k", "int")], TT("f", FULL), 1, self_arg
        )
        self.scopes, self.lines, self.indent, self.ret, self.loop_depth = saved
        return src


def _param_text(p: Param) -> str:
    return f"{p.name}: {annotation(p.type)}"


HEADER = "from typing import List, Tuple\nimport torch\n\n"


def generate(ch: Chooser) -> Program:
    trace = ch.chance(0.3)
    g = Gen(ch, trace_only=trace)
    a, b = ch.choice([1, 2, 3, 0, 4, 1, 2]), ch.choice([1, 2, 3, 0, 4, 2])
    params = [Param("x", TT("f", FULL))]
    if ch.chance(0.6):
        params.append(Param("y", TT(ch.choice(["f", "i", "b"]), ch.choice(SHAPES))))
    if ch.chance(0.4):
        params.append(Param("w", "W"))  # (b, b) f32, only ever the matmul operand
    scalars: dict[str, Any] = {}
    if not trace:
        for name, kind, pick in (
            ("n", "int", lambda: ch.integer(-1, 4)),
            ("s", "float", lambda: ch.choice([0.5, -1.5, 2.25])),
            ("flag", "bool", lambda: ch.chance(0.5)),
        ):
            if ch.chance(0.5):
                params.append(Param(name, kind))
                scalars[name] = pick()
    module = ch.chance(0.3)
    parts = []
    if ch.chance(0.3):
        parts.append(g.helper("h0", False))
        g.helpers.append("h0")
    if module and ch.chance(0.6):
        meth = g.helper("m0", True)
        g.methods.append("self.m0")
    if trace:
        ret = ch.choice([TT("f", FULL), Tup((TT("f", FULL), TT("i", SCAL))), TT("i", COL)])
    else:
        ret = ch.choice(
            [
                TT("f", FULL),
                TT(ch.choice(DTYPES), ch.choice(SHAPES)),
                Tup((TT("f", ch.choice(SHAPES)), "int")),
                Tup((TT("f", FULL), "float", "bool")),
                "int",
                "float",
                "bool",
                LInt(True),
                Tup((TT("i", FULL), TT("f", ROW))),
            ]
        )
    body = g.function("forward" if module else "f", params, ret, ch.integer(2, 6), module)
    if module:
        cls = ["class M(torch.nn.Module):"]
        if g.methods:
            cls.append(textwrap.indent(meth, "    "))
            cls.append("")
        cls.append(textwrap.indent(body, "    "))
        parts.append("\n".join(cls))
    else:
        parts.append(body)
    src = HEADER + "\n\n".join(parts) + "\n"
    return Program(
        source=src,
        params=params,
        sizes=(a, b),
        seed=ch.integer(0, 2**16),
        module=module,
        traceable=trace and not g.data_dependent,
        scalars=scalars,
        ret=ret,
    )


# -- running ---------------------------------------------------------------------------------------

_counter = itertools.count()
_DIR: Path | None = None
RTOL, ATOL = 1e-4, 1e-5


class Hang(BaseException):
    """The alarm of `time_limit` (a BaseException, so no `except Exception` in xjit eats it)."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def _alarm(signum: int, frame: object) -> None:
        raise Hang(f"no result after {seconds} s")

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def load(src: str, torch_module: Any) -> dict[str, Any]:
    """Execute `src` from a real file (both scripters read source with `inspect`) with `torch`
    bound to `torch_module`."""
    global _DIR
    if _DIR is None:
        _DIR = Path(tempfile.mkdtemp(prefix="xjit_script_fuzz_"))
    path = _DIR / f"fuzz_{next(_counter)}.py"
    path.write_text(src)
    mod = types.ModuleType(path.stem)
    mod.__file__ = str(path)
    sys.modules[path.stem] = mod
    # same line numbers: both scripters read the function's lines from the file
    code = compile(src.replace("import torch\n", "\n"), str(path), "exec", dont_inherit=True)
    mod.torch = torch_module  # type: ignore[attr-defined]
    exec(code, mod.__dict__)  # noqa: S102 (generated source)
    return mod.__dict__


def arrays(prog: Program) -> list[Any]:
    """The arguments as numpy arrays and Python scalars (fresh copies per call)."""
    a, b = prog.sizes
    dims = {"a": a, "b": b, 1: 1}
    rng = np.random.default_rng(prog.seed)
    out: list[Any] = []
    for p in prog.params:
        if isinstance(p.type, TT):
            shape = tuple(dims[d] for d in p.type.shape)
            if p.type.dt == "f":
                out.append(rng.standard_normal(shape).astype(np.float32))
            elif p.type.dt == "i":
                out.append(rng.integers(-3, 4, shape).astype(np.int64))
            else:
                out.append(rng.random(shape) > 0.5)
        elif p.type == "W":
            out.append(rng.standard_normal((b, b)).astype(np.float32))
        else:
            out.append(prog.scalars[p.name])
    return out


def _to(values: list[Any], module: Any) -> list[Any]:
    return [module.from_numpy(np.array(v)) if isinstance(v, np.ndarray) else v for v in values]


def _located(e: BaseException) -> bool:
    from xjit.errors import FrontendError

    if isinstance(e, FrontendError):
        return e.loc is not None
    # a lowering's diagnostic at the user's line (`file.py:12:5: pass-name: ...`)
    return not isinstance(e, INTERNAL) and bool(_LOCATED.match(str(e)))


_LOCATED = re.compile(r"^\S+\.py:\d+(:\d+)?: ")


def gap_kind(e: BaseException) -> str:
    msg = getattr(e, "message", str(e)).splitlines()[0]
    msg = _LOCATED.sub("", msg)
    msg = re.sub(r"'[a-z]{1,4}\d*'|`[a-z]{1,4}\d*", "'…'", msg)  # variable names, not op names
    msg = re.sub(r"\d+", "N", msg)
    return msg[:90]


# Exceptions from inside xjit that are bugs however they arise (not a located refusal).
INTERNAL = (AssertionError, AttributeError, KeyError, NameError, RecursionError, UnboundLocalError)


def _internal_message(e: BaseException) -> bool:
    return "internal error" in str(e)


def _fail(prog: Program, what: str, exc: BaseException | None = None) -> AssertionError:
    tb = "".join(traceback.format_exception(exc)) if exc is not None else ""
    return AssertionError(f"{what}\n{prog.describe()}\n{tb}")


def compare(got: Any, want: Any, where: str) -> str | None:
    """None when xjit's `got` equals torch's `want`, else what differs."""
    import torch as real_torch

    import xjit

    if isinstance(want, real_torch.Tensor):
        if not isinstance(got, xjit.Tensor):
            return f"{where}: {type(got).__name__}, expected a Tensor"
        g, w = np.asarray(got.numpy()), want.detach().numpy()
        if g.dtype != w.dtype or g.shape != w.shape:
            return f"{where}: {g.dtype}{list(g.shape)} != {w.dtype}{list(w.shape)}"
        if w.dtype.kind == "f":
            ok = np.allclose(g, w, rtol=RTOL, atol=ATOL, equal_nan=True)
        else:
            ok = np.array_equal(g, w)
        return None if ok else f"{where}: values differ\n got {g!r}\nwant {w!r}"
    if isinstance(want, (tuple, list)):
        if type(got) is not type(want) or len(got) != len(want):
            return f"{where}: {type(got).__name__} {got!r} != {type(want).__name__} {want!r}"
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            if (d := compare(g, w, f"{where}[{i}]")) is not None:
                return d
        return None
    if type(got) is not type(want):
        return f"{where}: {type(got).__name__} {got!r} != {type(want).__name__} {want!r}"
    if isinstance(want, float):
        close = got == want or abs(got - want) <= RTOL * max(1.0, abs(want))
        if close or (np.isnan(got) and np.isnan(want)):
            return None
    elif got == want:
        return None
    return f"{where}: {got!r} != {want!r}"


def _entry(ns: dict[str, Any], prog: Program) -> Any:
    return ns["M"]() if prog.module else ns["f"]


def other_sizes(prog: Program) -> list[tuple[int, int]]:
    """Sizes of the later calls: two that differ from the first call's in every dim (the
    scripted function's variants turn such dims into `?`, docs/shapes.md), then the first again."""
    a, b = prog.sizes
    return [(a + 2, b + 1), (a + 3, b + 2), (a, b)]


def check_script(prog: Program, seconds: float = 180.0) -> str:
    """Script `prog` with both scripters; call both on the program's inputs, then on inputs of
    other sizes (`other_sizes`), comparing results and arguments after each call."""
    import torch as real_torch

    import xjit
    import xjit.frontends.script  # noqa: F401 (loaded before the clock starts: not a hang)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            theirs = real_torch.jit.script(_entry(load(prog.source, real_torch), prog))
        except Exception:
            return "torch-refused"
        try:
            with time_limit(seconds):
                ours = xjit.jit.script(_entry(load(prog.source, xjit), prog))
        except Hang as e:
            raise _fail(prog, "xjit hangs compiling", e) from None
        except Exception as e:
            if _located(e):
                return "gap: " + gap_kind(e)
            raise _fail(prog, f"xjit.jit.script raised {type(e).__name__}", e) from None
        sizes = [prog.sizes, *other_sizes(prog)]
        outcome = "ok"
        for k, size in enumerate(sizes):
            call = Program(**{**prog.__dict__, "sizes": size, "seed": prog.seed + k})
            o = _call_both(call, theirs, ours, seconds, f"call {k + 1} of {len(sizes)}")
            if o != "ok":
                if k == 0:  # the first call decides the outcome; later ones only can fail
                    return o
                continue
        return outcome


def _declared(v: Any, t: Type) -> Any:
    """Torch's result with ints where the declared type says float made floats: TorchScript's
    interpreter returns `int / int` (aten::div, a float) as an int when the quotient is whole,
    e.g. `-> float: return int(x.sum().item()) / 1` gives `3`, not `3.0`."""
    if t == "float" and type(v) is int:
        return float(v)
    if isinstance(t, Tup) and isinstance(v, tuple) and len(v) == len(t.items):
        return tuple(_declared(x, u) for x, u in zip(v, t.items, strict=True))
    return v


def _call_both(prog: Program, theirs: Any, ours: Any, seconds: float, what: str) -> str:
    import torch as real_torch

    import xjit

    args = arrays(prog)
    t_args = _to(args, real_torch)
    try:
        want: Any = theirs(*t_args)
        t_exc = None
    except Exception as e:
        want, t_exc = None, e
    x_args = _to(args, xjit)
    try:
        with time_limit(seconds):
            got = ours(*x_args)
    except Hang as e:
        raise _fail(prog, f"{what}: xjit hangs", e) from None
    except Exception as e:
        if t_exc is not None and not isinstance(e, INTERNAL) and not _internal_message(e):
            return "both-raised"
        if _located(e):
            return "gap: " + gap_kind(e)
        raise _fail(prog, f"{what}: xjit raised {type(e).__name__} (torch: {t_exc!r})", e) from None
    if t_exc is not None:
        raise _fail(prog, f"{what}: torch raised {t_exc!r}, xjit returned {got!r}")
    diff = compare(got, _declared(want, prog.ret), "result")
    for i, (g, w) in enumerate(zip(x_args, t_args, strict=True)):
        if diff is None and isinstance(w, real_torch.Tensor):
            diff = compare(g, w, f"argument {prog.params[i].name} after the call")
    if diff is not None:
        raise _fail(prog, f"script, {what}: {diff}")
    return "ok"


def check_trace(prog: Program, seconds: float = 180.0) -> str:
    """Trace `prog` (no data-dependent control flow) with xjit, compare with eager PyTorch on the
    example inputs and on other values of the same shapes."""
    import torch as real_torch

    import xjit

    assert prog.traceable
    args = arrays(prog)
    theirs = _entry(load(prog.source, real_torch), prog)
    try:
        want = theirs(*_to(args, real_torch))
    except Exception:
        return "torch-refused"
    other = arrays(Program(**{**prog.__dict__, "seed": prog.seed + 1}))
    try:
        want2 = theirs(*_to(other, real_torch))
    except Exception:
        return "torch-refused"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with time_limit(seconds):
                ours = xjit.jit.trace(_entry(load(prog.source, xjit), prog), tuple(_to(args, xjit)))
                got = ours(*_to(args, xjit))
                got2 = ours(*_to(other, xjit))
        except Hang as e:
            raise _fail(prog, "xjit trace hangs", e) from None
        except Exception as e:
            if _located(e) or type(e).__name__ == "TraceError":
                return "gap: trace: " + gap_kind(e)
            raise _fail(prog, f"xjit trace raised {type(e).__name__}", e) from None
    for g, w, what in ((got, want, "trace"), (got2, want2, "trace, other values")):
        if isinstance(w, tuple) and isinstance(g, list):
            g = tuple(g)
        if (d := compare(g, w, what)) is not None:
            raise _fail(prog, d)
    return "ok"


def check(prog: Program) -> list[str]:
    out = [check_script(prog)]
    if prog.traceable:
        out.append(check_trace(prog))
    return out


def campaign(seed: int, count: int, show: int) -> int:
    """Run `count` programs from seeds `seed`.., print failures (first line and the program) and
    the outcome counts; returns the number of failures."""
    outcomes: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    for s in range(seed, seed + count):
        if (s - seed) % 250 == 0 and s != seed:  # a summary now and then: long runs get killed
            print(f"after {s - seed} programs: {dict(outcomes.most_common(4))}", flush=True)
        prog = generate(RandomChooser(s))
        try:
            for o in check(prog):
                outcomes[o] += 1
        except AssertionError as e:
            head = str(e).splitlines()[0][:120]
            failures[head] += 1
            if failures[head] <= show:
                print(f"=== FAIL seed {s}: {e}\n", flush=True)
    print(f"outcomes of {count} programs:")
    for k, v in outcomes.most_common():
        print(f"  {v:5d}  {k}")
    print(f"failures: {sum(failures.values())}")
    for k, v in failures.most_common():
        print(f"  {v:5d}  {k}")
    return sum(failures.values())


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--show", type=int, default=1, help="programs shown per failure kind")
    ns = ap.parse_args()
    sys.exit(1 if campaign(ns.seed, ns.count, ns.show) else 0)
