"""TorchScript builtins over values the script frontend knows while compiling: str methods
(a str is a compile-time constant here, so `s.split(",")` is evaluated by Python, exactly), and
`sum`/`min`/`max`/`any`/`all`/`sorted` over lists and tuples (whose length is known while
compiling; their items may be run-time scalars, combined pairwise in the graph)."""

from __future__ import annotations

import ast
import itertools
from typing import Any

from xdsl.ir import SSAValue

from xjit.dialects import torch as td
from xjit.errors import script_str
from xjit.frontends.script.lists import const_of
from xjit.frontends.script.values import PyList, PyObj, PyTuple, describe
from xjit.ops.registry import UNKNOWN

# TorchScript's str methods (aten::format and the `str.*` builtins), all pure
STR_METHODS = frozenset(
    "format startswith endswith split rsplit splitlines join upper lower swapcase title "
    "capitalize casefold strip lstrip rstrip replace find rfind count index rindex partition "
    "rpartition isdigit isalpha isalnum isspace isupper islower istitle isdecimal isnumeric "
    "isidentifier isprintable zfill center ljust rjust expandtabs".split()
)

_SCALARS = (td.IntType, td.FloatType, td.BoolType)


def is_str_method(obj: Any) -> bool:
    """A bound method of a str constant (`"{}".format`, `s.split`)."""
    return isinstance(getattr(obj, "__self__", None), str) and (
        getattr(obj, "__name__", "") in STR_METHODS
    )


class BuiltinFolds:
    """Mixin of the script FunctionCompiler (uses its builder, `arith`, `scalar_builtin`,
    `new_list`, `bool_and`/`bool_or`, `to_bool`, `error`)."""

    def compile_time_value(self, v: Any, e: ast.AST, what: str) -> Any:
        """The Python value of `v` (a scalar or str constant, or a list/tuple of them); a
        located refusal naming `what` if it is known only at run time."""
        if isinstance(v, (PyList, PyTuple)):
            items = [self.compile_time_value(x, e, what) for x in v.items]
            return items if isinstance(v, PyList) else tuple(items)
        self.defer_to_int_values(v, e, f"{what} of a run-time int")  # type: ignore[attr-defined]
        c = const_of(v)
        if c is UNKNOWN:
            raise self.error(  # type: ignore[attr-defined]
                e,
                f"unsupported: {what} of a run-time {describe(v)} (a str is known while "
                "compiling here, so its arguments must be too)",
            )
        return c

    def from_python(self, v: Any) -> Any:
        """A Python result as a compile-time value of the frontend."""
        if isinstance(v, str):
            return PyObj(v)
        if isinstance(v, list):
            return self.new_list([self.from_python(x) for x in v])  # type: ignore[attr-defined]
        if isinstance(v, tuple):
            return PyTuple([self.from_python(x) for x in v])
        return self.b.constant(v)  # type: ignore[attr-defined]

    def str_method(self, obj: Any, args: list[Any], kwargs: dict[str, Any], e: ast.AST) -> Any:
        """`s.method(...)` of a str constant, evaluated while compiling."""
        what = f"str.{obj.__name__}"
        py_args = [self.compile_time_value(a, e, what) for a in args]
        if obj.__name__ == "format":
            if kwargs or any(isinstance(a, (list, tuple)) for a in py_args):
                raise self.error(  # type: ignore[attr-defined]
                    e, "unsupported: str.format of a list or tuple, or with keywords"
                )
            return PyObj(self.script_format(obj.__self__, py_args, e))
        py_kwargs = {k: self.compile_time_value(v, e, what) for k, v in kwargs.items()}
        try:
            return self.from_python(obj(*py_args, **py_kwargs))
        except (ValueError, TypeError, IndexError, KeyError) as err:
            # (TorchScript raises these when the program runs: here it is known earlier)
            raise self.error(e, f"{what}: {err}") from None  # type: ignore[attr-defined]

    def script_format(self, fmt: str, args: list[Any], e: ast.AST) -> str:
        """TorchScript's `aten::format`: each `{}` in turn replaced by the next argument as
        `str()` spells it; any other brace is text (`"{:.2f}"` stays as written)."""
        out, begin = [], 0
        for k in itertools.count():
            loc = fmt.find("{}", begin)
            if loc < 0:
                break
            if k >= len(args):
                raise self.error(e, f"Too few arguments for format string: {fmt}")  # type: ignore[attr-defined]
            out += [fmt[begin:loc], script_str(args[k])]
            begin = loc + 2
        return "".join([*out, fmt[begin:]])

    def scalar_items(self, fn: str, seq: Any, e: ast.AST) -> list[SSAValue]:
        if not isinstance(seq, (PyList, PyTuple)):
            raise self.error(  # type: ignore[attr-defined]
                e, f"unsupported: {fn}() of a {describe(seq)} (supported: lists and tuples)"
            )
        items = []
        for x in seq.items:
            if isinstance(x, PyObj) and isinstance(x.obj, (bool, int, float)):
                x = self.b.constant(x.obj)  # type: ignore[attr-defined]
            if not (isinstance(x, SSAValue) and isinstance(x.type, _SCALARS)):
                raise self.error(  # type: ignore[attr-defined]
                    e, f"unsupported: {fn}() of a {describe(seq)} (supported: int, float, bool)"
                )
            items.append(x)
        return items

    def reduce_sequence(self, fn: Any, seq: Any, e: ast.AST) -> Any:
        """sum/min/max/any/all of one list or tuple: the items combined pairwise."""
        name = fn.__name__
        if isinstance(seq, (PyList, PyTuple)) and all(
            isinstance(const_of(x), str) for x in seq.items
        ):
            if name in ("min", "max") and seq.items:
                return PyObj(fn(const_of(x) for x in seq.items))
        items = self.scalar_items(name, seq, e)
        if name in ("any", "all"):
            acc: Any = PyObj(name == "all")
            for x in items:
                b = self.to_bool(x, e)  # type: ignore[attr-defined]
                step = self.bool_and if name == "all" else self.bool_or  # type: ignore[attr-defined]
                acc = step(acc, lambda b=b: b, e)
            return self.b.constant(acc.obj) if isinstance(acc, PyObj) else acc  # type: ignore[attr-defined]
        if name == "sum":
            total: Any = self.b.constant(0)  # type: ignore[attr-defined]
            for x in items:
                total = self.arith("add", total, x, e)  # type: ignore[attr-defined]
            return total
        if not items:
            raise self.error(e, f"{name}() arg is an empty sequence")  # type: ignore[attr-defined]
        return self.reduce_scalars(fn, items, e)

    def reduce_scalars(self, fn: Any, items: list[SSAValue], e: ast.AST) -> SSAValue:
        """min/max of several scalars, pairwise from the left (as Python compares)."""
        acc = items[0]
        for x in items[1:]:
            acc = self.scalar_builtin(fn, [acc, x], {}, e)  # type: ignore[attr-defined]
        return acc

    def sorted_items(self, items: list[Any], reverse: bool, e: ast.AST) -> list[Any]:
        """The items of a list sorted: by Python when all are constants, else by a sorting
        network of pairwise min/max (the length is known while compiling)."""
        consts = [const_of(x) for x in items]
        if UNKNOWN not in consts:
            return [self.from_python(c) for c in sorted(consts, reverse=reverse)]
        vals = self.scalar_items("sorted", PyList(items), e)
        if len({type(v.type) for v in vals}) != 1:
            raise self.error(e, "unsupported: sorting a list of mixed types")  # type: ignore[attr-defined]
        lo, hi = (max, min) if reverse else (min, max)
        n = len(vals)
        for i in range(n):  # odd-even transposition sort: n rounds sort n items
            for j in range(i % 2, n - 1, 2):
                a, b = vals[j], vals[j + 1]
                vals[j] = self.scalar_builtin(lo, [a, b], {}, e)  # type: ignore[attr-defined]
                vals[j + 1] = self.scalar_builtin(hi, [a, b], {}, e)  # type: ignore[attr-defined]
        return vals

    def sorted_call(self, args: list[Any], kwargs: dict[str, Any], e: ast.AST) -> Any:
        reverse = self.sort_reverse(kwargs, e)
        if len(args) != 1 or not isinstance(args[0], (PyList, PyTuple)):
            raise self.error(  # type: ignore[attr-defined]
                e, "unsupported: sorted() of anything but one list or tuple"
            )
        return self.new_list(self.sorted_items(list(args[0].items), reverse, e))  # type: ignore[attr-defined]

    def sort_reverse(self, kwargs: dict[str, Any], e: ast.AST) -> bool:
        if set(kwargs) - {"reverse"}:
            raise self.error(e, "unsupported: sorting with a key")  # type: ignore[attr-defined]
        rev = const_of(kwargs["reverse"]) if "reverse" in kwargs else False
        if not isinstance(rev, bool):
            raise self.error(e, "unsupported: a run-time reverse= flag")  # type: ignore[attr-defined]
        return rev

    def count_in(self, items: list[Any], v: Any, e: ast.AST) -> Any:
        """list.count(v): the number of items equal to v."""
        total: Any = self.b.constant(0)  # type: ignore[attr-defined]
        for x in items:
            a, b = const_of(x), const_of(v)
            if a is not UNKNOWN and b is not UNKNOWN:
                eq: Any = self.b.constant(int(a == b))  # type: ignore[attr-defined]
            else:
                c = self.arith("eq", x, v, e)  # type: ignore[attr-defined]
                if not (isinstance(c, SSAValue) and isinstance(c.type, td.BoolType)):
                    raise self.error(e, f"unsupported: list.count on a {describe(x)}")  # type: ignore[attr-defined]
                eq = self.scalar_op("aten.Int.bool", [c], e)  # type: ignore[attr-defined]
            total = self.arith("add", total, eq, e)  # type: ignore[attr-defined]
        return total
