"""The tracing frontend: run the model eagerly once and record every registry op it calls.

Tensors are identified by object identity while tracing. An input maps to a function argument,
a parameter or buffer of the traced module to a `torch.global_slot` read, and any other tensor
the model touches (a constant captured from outside) to a `torch.vtensor.literal`.

Sizes are traced too (as `torch.jit.trace` records `aten::size`): while tracing, `x.shape` and
`x.size(d)` of a traced tensor are `TracedInt`s, which record `torch.aten.size.int` and the int
arithmetic done on them, so `torch.arange(x.shape[0])` or `x[: x.size(0) - 1]` follow the input.

Where a trace freezes a value that depends on its inputs (a tensor or a traced size turned into
a Python bool/int/float, e.g. by Python control flow), it warns (`TracerWarning`, at the user's
line) and records a *guard* (`Guard`): the value that was seen and how to recompute it. A guard
on input sizes is a Python expression over the arguments' shapes, checked before a call; any
other guard is an extra (hidden) result of the traced function, checked after it. A call where
a guard does not hold raises `TraceGuardError` naming the source line (or falls back to eager).
"""

from __future__ import annotations

import math
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from xdsl.builder import InsertPoint
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    FileLineColLoc,
    IntAttr,
    ModuleOp,
    StringAttr,
    TensorType,
)
from xdsl.ir import Block, Region, SSAValue

from xjit import _dispatch, _versions
from xjit import _tensor as _tensor_mod
from xjit._tensor import Size, Tensor
from xjit.dialects import torch as td
from xjit.dialects.torch_types import dtype_attr
from xjit.errors import TracerWarning
from xjit.frontends.builder import TorchBuilder, result_type, vtensor_type
from xjit.frontends.script.module_compilation import ModuleCompilation
from xjit.frontends.signature import OutputSpec, meta_of
from xjit.ops.registry import OpDef, lookup
from xjit.ops.shape_ops import setitem
from xjit.ops.types import TensorMeta, normalize_dim


class TraceError(RuntimeError):
    pass


# -- guards ------------------------------------------------------------------------------------


@dataclass
class Guard:
    """A value the trace froze: `what` was `expected` at `file:line` for the example inputs."""

    what: str
    file: str
    line: int
    expected: Any
    # A Python expression over the arguments `a0, a1, ...` (input shapes only): checked before
    # the call. None: the value is a hidden extra result of the graph, checked after the call.
    expr: str | None = None
    kind: str = "bool"  # how a hidden result is read back: "bool" | "int" | "float" | "item"

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def source_line(self) -> str:
        import linecache

        return linecache.getline(self.file, self.line).strip()

    def read(self, v: Any) -> Any:
        """The value this call computed, from the hidden result `v` (an array or a scalar)."""
        if self.kind == "bool":
            return bool(v)
        if self.kind == "int":
            return int(v)
        if self.kind == "float":
            return float(v)
        if self.kind == "tolist":
            return np.asarray(v).tolist()
        if self.kind == "array":
            return np.asarray(v)
        return np.asarray(v).item()

    def holds(self, got: Any) -> bool:
        if self.kind == "array":
            e = self.expected
            if got.shape != e.shape or got.dtype != e.dtype:
                return False
            return bool(np.array_equal(got, e, equal_nan=e.dtype.kind in "fc"))
        if got == self.expected:
            return True
        both_nan = isinstance(got, float) and isinstance(self.expected, float)
        return both_nan and math.isnan(got) and math.isnan(self.expected)


_INSIDE: tuple[str, ...] = ()
_inside_cache: dict[str, bool] = {}  # co_filename -> inside xjit: abspath once per file


def _inside_xjit(filename: str) -> bool:
    global _INSIDE
    hit = _inside_cache.get(filename)
    if hit is None:
        if not _INSIDE:
            root = os.path.dirname(os.path.dirname(os.path.abspath(_tensor_mod.__file__)))
            _INSIDE = (
                os.path.join(root, "xjit") + os.sep,
                os.path.join(root, "frontends") + os.sep,
            )
        hit = _inside_cache[filename] = os.path.abspath(filename).startswith(_INSIDE)
    return hit


_PLUMBING = ("trace.py", "_dispatch.py")  # frames between a freeze and the code that asked


def _frozen_by_xjit() -> bool:
    """Whether the code that turned a traced size into an int is xjit's own library code (nn
    modules, split, norms), not the user's. Tensor's dunders (`len(x)`, `for row in x`) act
    for the user: their freezes warn."""
    frame: Any = sys._getframe(2)
    while frame is not None and os.path.basename(frame.f_code.co_filename) in _PLUMBING:
        frame = frame.f_back
    if frame is None:
        return False
    file = frame.f_code.co_filename
    return _inside_xjit(file) and os.path.basename(file) != "_tensor.py"


def _user_frame() -> tuple[str, int, Any]:
    """The first frame outside xjit (the user's line), as (file, line, frame)."""
    frame: Any = sys._getframe(1)
    while frame is not None and _inside_xjit(frame.f_code.co_filename):
        frame = frame.f_back
    if frame is None:
        return "<unknown>", 0, None
    return frame.f_code.co_filename, frame.f_lineno, frame


_locs: dict[tuple[Any, int], FileLineColLoc] = {}


def _user_loc() -> FileLineColLoc | None:
    """The user's line as an op location (`loc("model.py":42:9)`), the same frame as the
    TracerWarning's; cached, since every recorded op asks."""
    file, line, frame = _user_frame()
    if frame is None:
        return None
    key = (frame.f_code, frame.f_lasti)
    loc = _locs.get(key)
    if loc is None:
        col = 1
        if frame.f_lasti >= 0:  # the column of the call itself (co_positions: 1 per 2 bytes)
            positions = list(frame.f_code.co_positions())
            col = (positions[frame.f_lasti // 2][2] or 0) + 1
        if len(_locs) > 4096:  # code objects of long-gone lambdas: keep the cache bounded
            _locs.clear()
        loc = _locs[key] = FileLineColLoc(StringAttr(file), IntAttr(line), IntAttr(col))
    return loc


def _warn_at(message: str, frame: Any) -> None:
    if frame is None:
        warnings.warn(message, TracerWarning, stacklevel=3)
        return
    warnings.warn_explicit(
        message,
        TracerWarning,
        frame.f_code.co_filename,
        frame.f_lineno,
        module=frame.f_globals.get("__name__"),
        registry=frame.f_globals.setdefault("__warningregistry__", {}),
    )


# -- traced sizes ------------------------------------------------------------------------------


def _scalar_op(name: str) -> OpDef:
    return lookup(f"torch.aten.{name}")


_BINOPS: dict[str, tuple[str, Callable[[int, int], Any]]] = {
    "add": ("+", lambda a, b: a + b),
    "sub": ("-", lambda a, b: a - b),
    "mul": ("*", lambda a, b: a * b),
    "floordiv": ("//", lambda a, b: a // b),
    "remainder": ("%", lambda a, b: a % b),
}
_CMPS: dict[str, tuple[str, Callable[[int, int], bool]]] = {
    "lt": ("<", lambda a, b: a < b),
    "le": ("<=", lambda a, b: a <= b),
    "gt": (">", lambda a, b: a > b),
    "ge": (">=", lambda a, b: a >= b),
    "eq": ("==", lambda a, b: a == b),
    "ne": ("!=", lambda a, b: a != b),
}


class TracedInt:
    """An int computed from traced sizes: `value` for the example inputs, recorded in the graph
    as `ssa` (a `!torch.int`). It passes for an int (`isinstance(v, int)`) so ops accept it as a
    size; arithmetic with ints stays traced; anything that needs a Python int (`range(n)`,
    `int(n)`, comparisons, numpy) freezes it, with a TracerWarning and a guard."""

    __slots__ = ("value", "rec", "_ssa", "_make", "expr", "desc", "nonneg")

    def __init__(
        self,
        value: int,
        rec: _Recorder,
        make: Callable[[], SSAValue],
        expr: str | None,
        desc: str,
    ) -> None:
        self.value = value
        self.rec = rec
        self._ssa: SSAValue | None = None
        self._make = make  # builds the IR on first use, so unused sizes leave no ops
        self.expr = expr  # Python over the arguments a0, a1, ... when only input sizes are used
        self.desc = desc  # how the user wrote it, for messages: "x.size(0) - 1"
        self.nonneg = False  # known >= 0 for every input (a size, sums and products of sizes)

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # isinstance(n, int): ops take a traced int wherever an int goes
        return int

    @property
    def ssa(self) -> SSAValue:
        if self._ssa is None:
            self._ssa = self._make()
        return self._ssa

    # -- traced arithmetic ---------------------------------------------------------------------
    def _binop(self, name: str, other: Any, reverse: bool = False) -> Any:
        if type(other) is bool or not isinstance(other, int):
            if isinstance(other, float):
                n = self._freeze("used in float arithmetic")  # no traced floats: frozen
                return _BINOPS[name][1](*((other, n) if reverse else (n, other)))
            return NotImplemented
        sym, fn = _BINOPS[name]
        a, b = (other, self) if reverse else (self, other)
        va, vb = _value(a), _value(b)
        if name in ("floordiv", "remainder") and vb == 0:
            raise ZeroDivisionError("integer division or modulo by zero")
        rec = self.rec
        op = _scalar_op(f"{name}.int")
        out = TracedInt(
            fn(va, vb),
            rec,
            lambda: rec.b.emit(op, [rec.int_value(a), rec.int_value(b)])[0],
            _join_expr(a, b, sym),
            f"{_desc(a)} {sym} {_desc(b)}",
        )
        out.nonneg = name != "sub" and _nonneg(a) and _nonneg(b) and (name != "remainder" or vb > 0)
        return out

    def __add__(self, o: Any) -> Any:
        return self._binop("add", o)

    def __radd__(self, o: Any) -> Any:
        return self._binop("add", o, True)

    def __sub__(self, o: Any) -> Any:
        return self._binop("sub", o)

    def __rsub__(self, o: Any) -> Any:
        return self._binop("sub", o, True)

    def __mul__(self, o: Any) -> Any:
        return self._binop("mul", o)

    def __rmul__(self, o: Any) -> Any:
        return self._binop("mul", o, True)

    def __floordiv__(self, o: Any) -> Any:
        return self._binop("floordiv", o)

    def __rfloordiv__(self, o: Any) -> Any:
        return self._binop("floordiv", o, True)

    def __mod__(self, o: Any) -> Any:
        return self._binop("remainder", o)

    def __divmod__(self, o: Any) -> tuple[Any, Any]:
        return self // o, self % o

    def __rdivmod__(self, o: Any) -> tuple[Any, Any]:
        return o // self, o % self

    def __rmod__(self, o: Any) -> Any:
        return self._binop("remainder", o, True)

    def __neg__(self) -> Any:
        return self._binop("sub", 0, True)

    def __pos__(self) -> TracedInt:
        return self

    def __abs__(self) -> Any:
        # a size (or sums/products of sizes) is its own abs; otherwise the value is frozen
        return self if self.nonneg else abs(self._freeze("abs()"))

    def __trunc__(self) -> TracedInt:  # round()/math.floor/... of an int: the int itself
        return self

    __floor__ = __ceil__ = __trunc__

    def __round__(self, ndigits: int | None = None) -> TracedInt:
        return self

    def __truediv__(self, o: Any) -> Any:
        return self._freeze("used in float arithmetic") / _plain(o)

    def __rtruediv__(self, o: Any) -> Any:
        return _plain(o) / self._freeze("used in float arithmetic")

    def __pow__(self, o: Any) -> Any:
        return self._freeze("used in float arithmetic") ** _plain(o)

    def __rpow__(self, o: Any) -> Any:
        return _plain(o) ** self._freeze("used as an exponent")

    # -- comparisons: a Python bool, guarded --------------------------------------------------
    def _cmp(self, name: str, other: Any) -> Any:
        if type(other) is bool or not isinstance(other, (int, float)):
            return NotImplemented
        sym, fn = _CMPS[name]
        if isinstance(other, float):
            return fn(self._freeze("compared with a float"), other)
        result = fn(self.value, _value(other))
        if self.nonneg and type(other) is not TracedInt and name not in ("eq", "ne"):
            # Decided for every n >= 0 (e.g. a size `< 0`, as size checks ask): no guard.
            if fn(0, other) == fn(2**62, other) == result:
                return result
        rec = self.rec
        op = _scalar_op(f"{name}.int")
        rec.guard(
            f"the size comparison `{_desc(self)} {sym} {_desc(other)}`",
            result,
            _join_expr(self, other, sym),
            lambda: rec.b.emit(op, [rec.int_value(self), rec.int_value(other)])[0],
            "bool",
            warn=None
            if _frozen_by_xjit()
            else f"A size comparison ({_desc(self)} {sym} {_desc(other)}: {result}) was decided "
            "in Python while tracing: the trace keeps this outcome (a guard checks it on every "
            "call)",
        )
        return result

    def __lt__(self, o: Any) -> Any:
        return self._cmp("lt", o)

    def __le__(self, o: Any) -> Any:
        return self._cmp("le", o)

    def __gt__(self, o: Any) -> Any:
        return self._cmp("gt", o)

    def __ge__(self, o: Any) -> Any:
        return self._cmp("ge", o)

    def __eq__(self, o: Any) -> Any:  # type: ignore[override]
        return self._cmp("eq", o)

    def __ne__(self, o: Any) -> Any:  # type: ignore[override]
        return self._cmp("ne", o)

    # -- conversions to a Python value: frozen, warned, guarded --------------------------------
    def _freeze(self, how: str) -> int:
        rec = self.rec
        rec.freeze_int(self, how)
        return self.value

    def __index__(self) -> int:
        return self._freeze("used as a Python int")

    def __int__(self) -> int:
        return self._freeze("int()")

    def __float__(self) -> float:
        return float(self._freeze("float()"))

    def __bool__(self) -> bool:
        return self._cmp("ne", 0)  # type: ignore[no-any-return]

    def __hash__(self) -> int:
        return hash(self._freeze("hashed"))

    def __repr__(self) -> str:
        return repr(self._freeze("printed"))

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return format(self._freeze("formatted"), spec)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.asarray(self._freeze("converted to a numpy array"), dtype)


_dispatch.traced_int = TracedInt


def _value(v: Any) -> int:
    return v.value if type(v) is TracedInt else int(v)


def _nonneg(v: Any) -> bool:
    return v.nonneg if type(v) is TracedInt else int(v) >= 0


def _plain(v: Any) -> Any:
    return v._freeze("used as a Python int") if type(v) is TracedInt else v


def _desc(v: Any) -> str:
    return v.desc if type(v) is TracedInt else repr(v)


def _join_expr(a: Any, b: Any, sym: str) -> str | None:
    ea = a.expr if type(a) is TracedInt else repr(int(a))
    eb = b.expr if type(b) is TracedInt else repr(int(b))
    if ea is None or eb is None:
        return None
    return f"({ea} {sym} {eb})"


# -- the recorder ------------------------------------------------------------------------------


class _Recorder:
    def __init__(self, block: Block, params: dict[int, tuple[str, Tensor]]) -> None:
        self.b = TorchBuilder(InsertPoint.at_end(block))
        self.values: dict[int, SSAValue] = {}
        self.keep: list[Any] = []  # keeps traced tensors alive so their ids stay unique
        self.params = params
        self.used_params: dict[str, Tensor] = {}
        self.modules: dict[int, str] = {}  # id(submodule) -> dotted path, for record_call
        self.mc: Any = None  # functions imported by record_call
        self.inputs: dict[int, tuple[int, str]] = {}  # id(input tensor) -> (position, name)
        self.sizes: dict[tuple[int, int], TracedInt] = {}
        self.guards: list[Guard] = []
        self.guard_values: list[SSAValue] = []  # hidden results, for guards with expr None
        self.guard_loc: tuple[str, int] | None = None  # overrides the user frame (record_call)
        self.pending_view: tuple[Tensor, str, str, int] | None = None  # see `mutate`

    def bind(self, t: Tensor, v: SSAValue) -> None:
        self.values[id(t)] = v
        self.keep.append(t)

    def is_traced(self, t: Tensor) -> bool:
        """Whether `t` depends on the inputs or parameters (a captured constant does not)."""
        return id(t) in self.values or id(t) in self.params

    def value_of(self, t: Tensor) -> SSAValue:
        v = self.values.get(id(t))
        if v is not None:
            return v
        if id(t) in self.params:
            name, p = self.params[id(t)]
            self.used_params[name] = p
            v = self.b.insert(td.GlobalSlotGetOp(name, vtensor_type(meta_of(t)))).results[0]
        else:
            a = t._a  # (not ascontiguousarray: it makes a 0-d array 1-d)
            meta = meta_of(t)
            ttype = TensorType(dtype_attr(meta.dtype), a.shape)  # type: ignore[arg-type]
            attr = DenseIntOrFPElementsAttr.from_list(ttype, a.reshape(-1).tolist())  # type: ignore[arg-type]
            v = self.b.insert(td.ValueTensorLiteralOp(attr, vtensor_type(meta))).results[0]
        self.bind(t, v)
        return v

    # -- sizes -------------------------------------------------------------------------------
    def size(self, t: Tensor, dim: int | None) -> Any:
        """`t.size(dim)` / `t.shape` while tracing: traced ints for traced tensors."""
        shape = t._a.shape
        if not self.is_traced(t) or (id(t) in self.params and id(t) not in self.inputs):
            # constants and parameters have fixed shapes (load_state_dict keeps them)
            return Size(shape) if dim is None else shape[normalize_dim(dim, len(shape))]
        if dim is None:
            return Size(self.traced_size(t, d) for d in range(len(shape)))
        return self.traced_size(t, normalize_dim(dim, len(shape)))

    def traced_size(self, t: Tensor, d: int) -> TracedInt:
        key = (id(t), d)
        ti = self.sizes.get(key)
        if ti is None:
            op = _scalar_op("size.int")
            inp = self.inputs.get(id(t))
            expr = f"a{inp[0]}.shape[{d}]" if inp is not None else None
            desc = f"{inp[1] if inp else 'tensor'}.size({d})"
            ti = TracedInt(
                t._a.shape[d], self, lambda: self.b.emit(op, [self.value_of(t), d])[0], expr, desc
            )
            ti.nonneg = True
            self.sizes[key] = ti
            self.keep.append(t)
        return ti

    def int_value(self, v: Any) -> SSAValue:
        return v.ssa if type(v) is TracedInt else self.b.constant(int(v))

    # -- guards ------------------------------------------------------------------------------
    def _loc(self) -> tuple[str, int, Any]:
        if self.guard_loc is not None:
            return (*self.guard_loc, None)
        return _user_frame()

    def guard(
        self,
        what: str,
        expected: Any,
        expr: str | None,
        make: Callable[[], SSAValue],
        kind: str,
        warn: str | None = None,
    ) -> None:
        if expr is not None and any(g.expr == expr and g.expected == expected for g in self.guards):
            return  # the same check already guards this call
        file, line, frame = self._loc()
        if warn is not None and self.guard_loc is None:
            _warn_at(warn, frame)
        self.guards.append(Guard(what, file, line, expected, expr, kind))
        if expr is None:
            self.guard_values.append(make())

    def freeze_int(self, ti: TracedInt, how: str) -> None:
        # Sizes that xjit's own Python (nn modules, split, norms) turns into ints are guarded
        # without a warning, as torch's kernels take them silently: the user cannot act on it,
        # and the guard still refuses a call the trace would get wrong, naming the user's line.
        self.guard(
            f"the size `{ti.desc}` ({how})",
            ti.value,
            ti.expr,
            lambda: ti.ssa,
            "int",
            warn=None
            if _frozen_by_xjit()
            else f"A size ({ti.desc} = {ti.value}) was {how} while tracing: the trace keeps the "
            "value it had for the example inputs (a guard checks it on every call)",
        )

    def freeze_tensor(self, t: Tensor, how: str, value: Any) -> None:
        """`bool(t)`, `t.item()`, `int(t)`, `float(t)` on a traced tensor: a hidden result."""
        if not self.is_traced(t):
            return
        kind = {
            "bool()": "bool",
            "int()": "int",
            "float()": "float",
            "tolist()": "tolist",
            "numpy()": "array",
        }.get(how, "item")
        if kind == "array":
            if any(g.kind == "array" and g.expected is value for g in self.guards):
                return  # the same array, taken out again
            value = value.copy()
        self.guard(
            f"`{how}` of a tensor",
            value,
            None,
            lambda: self.value_of(t),
            kind,
        )

    def mutate(self, t: Tensor, result: Tensor, how: str) -> None:
        """`t` updated in place to `result` (`x += y`, `x.add_(y)`): the trace records the
        out-of-place op, and from here on `t` stands for its result. That is only right where
        no other tensor can observe `t`'s memory, so anything else is refused, never frozen."""
        self.settle_view_update()
        if t._a.base is not None and id(t) in self.values and self.owner_of_view(t) is None:
            # `x[i] += v` is `tmp = x[i]; tmp += v; x[i] = tmp`: the update of the view is
            # right if the very next thing is assigning it back (setitem), else refused
            file, line, _ = self._loc()
            self.pending_view = (t, how, file, line)
            self.bind(t, self.value_of(result))
            return
        self.check_mutable(t, how)
        self.bind(t, self.value_of(result))

    def restride(self, t: Tensor, result: Tensor, how: str) -> None:
        """`t.t_()`, `t.unsqueeze_(0)`, ...: `t` becomes the view `result`. Its data and every
        other view of it are unchanged, so only a tensor the caller holds is refused (the
        compiled code would not reshape the caller's tensor)."""
        self.settle_view_update()
        if id(t) in self.inputs or id(t) in self.params or id(t) not in self.values:
            self.check_mutable(t, how)
        self.bind(t, self.value_of(result))

    def owner_of_view(self, t: Tensor) -> str | None:
        """Why updating `t` could not be traced whatever follows (an input or parameter)."""
        if id(t) in self.inputs:
            return "an input"
        if id(t) in self.params:
            return "a parameter"
        return None

    def settle_view_update(self, assigned: Any = None) -> None:
        """A view updated in place must be assigned back at once (`x[i] += v`)."""
        if self.pending_view is None:
            return
        t, how, file, line = self.pending_view
        self.pending_view = None
        if assigned is not t:
            raise TraceError(
                f"{file}:{line}: in-place `{how}` on a view is not supported (the trace would "
                "miss the update through its base): write `x[i] += v` or `x[i] = x[i] + v`"
            )

    def setitem(self, t: Tensor, index: Any, value: Any) -> None:
        """`t[index] = value`: recorded as functional ops (`slice_scatter`, `select_scatter`,
        `masked_fill`, `index_put`) computing the whole new value, which `t` then stands for
        (under `mutate`'s rule); `t`'s array is updated too, as eagerly."""
        self.settle_view_update(value)
        self.check_mutable(t, "x[...] =", value)
        work = Tensor(t._a.copy())  # its views are not views of t (they would block updates)
        self.bind(work, self.value_of(t))
        try:
            new = setitem(_dispatch.call, work, index, value)
        except NotImplementedError as e:
            file, line, _ = self._loc()
            raise TraceError(f"{file}:{line}: `x[...] = v`: {e}") from None
        self.bind(t, self.value_of(new))
        _versions.wrote(t._a)
        t._a[...] = new._a

    def check_mutable(self, t: Tensor, how: str, assigned: Any = None) -> None:
        """Refuse (TraceError at the user's line) an update of `t` some alias could miss;
        `assigned` (the value of `x[i] = v`) and views no one can read any more don't count."""
        whose = None
        if id(t) in self.inputs:
            whose = "an input of the trace (the compiled code would not update the caller's tensor)"
        elif id(t) in self.params:
            whose = "a parameter or buffer (the compiled code would not update the module)"
        elif id(t) not in self.values:
            whose = "a tensor made outside the trace (the compiled code would not update it)"
        elif t._a.base is not None or self.live_views(t, assigned):
            whose = "a view, or a tensor with views (the trace would miss the update through them)"
        if whose is not None:
            file, line, _ = self._loc()
            raise TraceError(f"{file}:{line}: in-place `{how}` on {whose} is not supported")

    def live_views(self, t: Tensor, assigned: Any) -> bool:
        """Whether a tensor sharing `t`'s memory may still be read: one held only by this
        recorder (`keep`, a temporary view like `x[1:]` in `x[1:, 2] += 1`) cannot be."""
        held: dict[int, int] = {}
        for k in self.keep:
            held[id(k)] = held.get(id(k), 0) + 1
        for k in self.keep:
            if k is t or k is assigned or not isinstance(k, Tensor):
                continue
            if np.may_share_memory(k._a, t._a) and sys.getrefcount(k) > 2 + held[id(k)]:
                return True  # (2: getrefcount's argument and the loop variable)
        return False

    # -- ops ---------------------------------------------------------------------------------
    def _operand(self, v: Any, arg_type: str) -> Any:
        if isinstance(v, Tensor):
            return self.value_of(v)
        if type(v) is TracedInt:
            if arg_type.startswith("float"):  # an int where a float goes: Float.int
                return self.b.emit(_scalar_op("Float.int"), [v.ssa])[0]
            return v.ssa
        if isinstance(v, (list, tuple)) and v:
            if isinstance(v[0], Tensor):
                return [self.value_of(x) for x in v]
            if any(type(x) is TracedInt for x in v):
                return self.b.constant([self.int_value(x) for x in v])
        return v

    def record(self, op: OpDef, args: list[Any], result: Any) -> None:
        self.b.loc = _user_loc()  # the op and the constants it needs carry the user's line
        self.settle_view_update()
        if (why := op.attrs.get("data_dependent")) is not None:  # masked_select, unique, ...
            file, line, _ = self._loc()
            raise TraceError(f"{file}:{line}: {why}")
        operands = [self._operand(v, a.type) for v, a in zip(args, op.schema.args, strict=True)]
        outs = result if isinstance(result, tuple) else (result,)
        if any(isinstance(x, SSAValue) for x in operands):
            # Traced sizes among the operands: the result types are the eager results' (what
            # the trace saw); shape refinement re-derives them for other input shapes.
            b = self.b
            ssa = [b.operand(a, v) for a, v in zip(op.schema.args, operands, strict=True)]
            types = [
                result_type(meta_of(t)) if isinstance(t, Tensor) else result_type(type(t))
                for t in outs
            ]
            types = _data_sized_types(op, ssa, outs, types)
            results = tuple(
                b.insert(td.aten_op_class(op.name).create(operands=ssa, result_types=types)).results
            )
        else:
            results = self.b.emit(op, operands)
        for t, r in zip(outs, results, strict=True):
            self.bind(t, r)

    def record_call(self, callee: Any, args: list[Any], result: Any) -> None:
        """A traced or scripted module or function called while tracing: a `func.call` of its
        graph (imported under its path), not a re-trace of its body, nor a constant."""
        if self.mc is None:
            self.mc = ModuleCompilation(None)
        self.b.loc = _user_loc()
        src = callee.graph_source(True) if hasattr(callee, "guards") else callee.graph_source()
        prefix = self.modules.get(id(callee)) or f"fn.{src['entry']}"
        if _has_optional(src["spec"]):  # its flat results are not the tensors it returned
            file, line, _ = _user_frame()
            raise TraceError(
                f"{file}:{line}: calling {prefix} while tracing: its result is an Optional "
                "(None or a value, decided at run time), which a trace cannot record; script "
                "the caller instead"
            )
        name = self.mc.import_graph(src["ir"], prefix, src["params"], src["spec"], src["entry"])
        f = self.mc.funcs[name]
        operands = []
        for a, t in zip(args, f.function_type.inputs.data, strict=True):
            if not isinstance(a, Tensor):
                raise TraceError(
                    f"calling {prefix} while tracing: only tensor arguments are supported"
                )
            v = self.value_of(a)
            if v.type != t:
                v = self.b.insert(td.TensorStaticInfoCastOp(v, t)).results[0]
            operands.append(v)
        call = self.b.insert(func.CallOp(name, operands, list(f.function_type.outputs.data)))
        flat, _ = flatten_outputs(result, strict=False)
        for t, r in zip(flat, call.results, strict=False):
            st = vtensor_type(meta_of(t))
            if r.type != st:
                r = self.b.insert(td.TensorStaticInfoCastOp(r, st)).results[0]
            self.bind(t, r)
        self._adopt_guards(callee, args, list(call.results[len(flat) :]))

    def _adopt_guards(self, callee: Any, args: list[Any], hidden: list[SSAValue]) -> None:
        """The callee's guards become this trace's: its hidden results are ours, its checks on
        argument sizes are re-evaluated on the traced sizes of the arguments we passed."""
        guards: list[Guard] = list(getattr(callee, "guards", ()) or ())
        post = [g for g in guards if g.expr is None]
        for g, v in zip(post, hidden, strict=True):
            self.guards.append(g)
            self.guard_values.append(v)
        for g in guards:
            if g.expr is None:
                continue
            env = {f"a{i}": _ShapeOf(self, a) for i, a in enumerate(args)}
            self.guard_loc = (g.file, g.line)
            try:
                got = eval(g.expr, {}, env)  # noqa: S307  (our own expression over sizes)
                if type(got) is TracedInt:
                    got = got == g.expected  # records the guard
            finally:
                self.guard_loc = None


class _ShapeOf:
    """`a.shape` of a callee's argument, seen from the caller's trace (traced sizes)."""

    def __init__(self, rec: _Recorder, t: Tensor) -> None:
        self.shape = rec.size(t, None)


# -- inputs and outputs ------------------------------------------------------------------------


def flatten_outputs(out: Any, strict: bool = True) -> tuple[list[Tensor], OutputSpec]:
    if isinstance(out, Tensor):
        return [out], OutputSpec("tensor")
    if isinstance(out, (tuple, list, dict)):
        if isinstance(out, dict) and strict:
            raise TraceError(
                "Encountering a dict at the output of the tracer might cause the trace to be "
                "incorrect: this is only valid if the container structure does not change with "
                "the inputs. Pass strict=False to trace it anyway."
            )
        items = list(out.values()) if isinstance(out, dict) else list(out)
        flat: list[Tensor] = []
        specs = []
        for o in items:
            f, s = flatten_outputs(o, strict)
            flat.extend(f)
            specs.append(s)
        if isinstance(out, dict):
            return flat, OutputSpec("dict", tuple(specs), tuple(out.keys()))
        if not isinstance(out, tuple):
            return flat, OutputSpec("list", tuple(specs))
        named = type(out) if hasattr(out, "_fields") else None  # sort's (values, indices)
        return flat, OutputSpec("tuple", tuple(specs), named=named)
    raise TraceError(
        "traced functions must return tensors or (nested) tuples/lists/dicts of tensors, "
        f"got {type(out).__name__}"
    )


@dataclass
class TraceResult:
    module: ModuleOp
    params: dict[str, Tensor]  # dotted name -> the live parameter tensor (bound by reference)
    input_metas: list[TensorMeta]
    output_spec: OutputSpec  # the user's results (the hidden guard results follow them)
    guards: list[Guard] = field(default_factory=list)


class _SizeHook:
    """Installed as `xjit._tensor._size_hook` while tracing: sizes of traced tensors are traced."""

    def __call__(self, t: Tensor, dim: int | None) -> Any:
        rec = _dispatch.current_recorder()
        if isinstance(rec, _Recorder):
            return rec.size(t, dim)
        shape = t._a.shape
        return Size(shape) if dim is None else shape[normalize_dim(dim, len(shape))]

    def frozen(self, t: Tensor, dim: int, how: str) -> int:
        """`t.size(dim)` as a Python int (`len(t)`): frozen, warned and guarded if traced."""
        n = self(t, dim)
        return n._freeze(how) if type(n) is TracedInt else n  # type: ignore[no-any-return]

    def freeze(self, t: Tensor, how: str, value: Any) -> None:
        rec = _dispatch.current_recorder()
        if isinstance(rec, _Recorder):
            rec.freeze_tensor(t, how, value)

    def mutate(self, t: Tensor, result: Tensor, how: str) -> None:
        rec = _dispatch.current_recorder()
        if isinstance(rec, _Recorder):
            rec.mutate(t, result, how)

    def restride(self, t: Tensor, result: Tensor, how: str) -> None:
        rec = _dispatch.current_recorder()
        if isinstance(rec, _Recorder):
            rec.restride(t, result, how)

    def setitem(self, t: Tensor, index: Any, value: Any) -> bool:
        """Whether the trace took `t[index] = value` (else it is done eagerly)."""
        rec = _dispatch.current_recorder()
        if isinstance(rec, _Recorder):
            rec.setitem(t, index, value)
            return True
        return False


_HOOK = _SizeHook()


def _has_data_size(m: Any) -> bool:
    """A meta (or list of them) with a `?` dim: a size only the data decides (`nonzero`)."""
    if isinstance(m, (list, tuple)):
        return any(_has_data_size(x) for x in m)
    return isinstance(m, TensorMeta) and m.shape is not None and None in m.shape


def _data_sized_types(
    op: OpDef, ssa: Sequence[Any], outs: Sequence[Any], types: list[Any]
) -> list[Any]:
    """The result types of an op whose size the data decides (`nonzero`) or that reads such a
    result (`x[mask] * 2`): the eager result's sizes except where the shape rule says `?`,
    so the count this trace saw is not frozen into the graph."""
    metas = [td._meta_or_const(v) for v in ssa]
    if not op.attrs.get("data_sized") and not _has_data_size(metas):
        return types
    rule = op.shape(*metas)
    rule = rule if isinstance(rule, tuple) else (rule,)
    out = []
    for t, ty, m in zip(outs, types, rule, strict=True):
        if (
            isinstance(t, Tensor)
            and isinstance(m, TensorMeta)
            and (m.shape is None or len(m.shape) == t.dim())
        ):
            eager = meta_of(t)
            dims = tuple(
                None if m.shape is None or m.shape[k] is None else d
                for k, d in enumerate(eager.shape)
            )
            ty = result_type(TensorMeta(dims, eager.dtype))
        out.append(ty)
    return out


def trace_function(
    fn: Callable[..., Any],
    example_inputs: Sequence[Tensor],
    named_tensors: dict[str, Tensor],
    func_name: str = "forward",
    modules: dict[int, str] | None = None,
    arg_names: Sequence[str] | None = None,
    call: Callable[[list[Tensor]], Any] | None = None,
    strict: bool = True,
) -> TraceResult:
    """Trace `fn` on the flat tensors `example_inputs` (`call(inputs)` calls `fn` with them in
    the user's structure; default `fn(*inputs)`)."""
    for i, x in enumerate(example_inputs):
        if not isinstance(x, Tensor):
            raise TraceError(f"example input {i} is a {type(x).__name__}; trace takes tensors")
    params = {id(t): (name, t) for name, t in named_tensors.items()}
    # An input that is also a parameter, or given twice, is still its own argument: trace a
    # copy, so that `self.p + y` traced on `y = self.p` does not become `y + y`.
    inputs: list[Tensor] = []
    seen: set[int] = set()
    for x in example_inputs:
        if id(x) in params or id(x) in seen:
            x = Tensor(x._a.copy())
        seen.add(id(x))
        inputs.append(x)
    metas = [meta_of(x) for x in inputs]
    block = Block(arg_types=[vtensor_type(m) for m in metas])
    rec = _Recorder(block, params)
    rec.modules = dict(modules or {})
    names = list(arg_names or [f"argument_{i}" for i in range(len(inputs))])
    for i, (x, arg) in enumerate(zip(inputs, block.args, strict=True)):
        rec.bind(x, arg)
        rec.inputs[id(x)] = (i, names[i] if i < len(names) else f"argument_{i}")
    _dispatch.push_recorder(rec)
    saved = _tensor_mod._size_hook
    _tensor_mod._size_hook = _HOOK
    try:
        out = call(inputs) if call is not None else fn(*inputs)
        rec.settle_view_update()
        flat, spec = flatten_outputs(out, strict)
        results = [rec.value_of(t) for t in flat]
    finally:
        _tensor_mod._size_hook = saved
        _dispatch.pop_recorder()
    results += rec.guard_values
    block.add_op(func.ReturnOp(*results))
    fop = func.FuncOp(
        func_name,
        ([a.type for a in block.args], [r.type for r in results]),
        Region(block),
    )
    slots = [td.GlobalSlotOp(name, vtensor_type(meta_of(t))) for name, t in rec.used_params.items()]
    extra: list[Any] = []
    if rec.mc is not None:  # graphs of compiled submodules called while tracing
        slots += [
            td.GlobalSlotOp(n, t) for n, t in rec.mc.slots.items() if n not in rec.used_params
        ]
        extra = list(rec.mc.funcs.values())
        rec.used_params.update(rec.mc.params)
    module = ModuleOp([*slots, fop, *extra])
    module.verify()
    return TraceResult(module, dict(rec.used_params), metas, spec, rec.guards)


def _has_optional(spec: Any) -> bool:
    """A scripted `-> Optional[T]` result somewhere in an output structure."""
    return spec.kind == "optional" or any(_has_optional(c) for c in spec.children)
