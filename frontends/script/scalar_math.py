"""`math.*`, `round` and float `%` / `//` / `**` on Python scalars, as TorchScript has them: the
scalar ops of xjit/ops/scalar_ops.py (`aten.sqrt.float`, `aten.floor.float`, ...), ints promoted
to float where TorchScript's overloads take floats. Where TorchScript raises at run time
(`0.0 ** -1`, `math.floor(inf)`) a `prim.RaiseException` guard does the same (raising.py)."""

from __future__ import annotations

import ast
import math
from typing import Any

from xdsl.ir import SSAValue

from xjit.dialects import torch as td
from xjit.frontends.script import int_math
from xjit.frontends.script.values import PyTuple, describe
from xjit.ops.registry import UNKNOWN
from xjit.ops.scalar_ops import MATH_UNARY

_UNARY = {getattr(math, n): n for n in MATH_UNARY}
_BINARY = {math.atan2: "atan2", math.copysign: "copysign", math.fmod: "fmod", math.pow: "pow"}
_PREDICATES = {math.isnan: "isnan", math.isinf: "isinf", math.isfinite: "isfinite"}
_INT_LOOPS = {math.factorial: int_math.factorial, math.gcd: int_math.gcd}
_SCALE = {math.degrees: 180.0 / math.pi, math.radians: math.pi / 180.0}


def is_math_function(obj: Any) -> bool:
    """A `math` module function or `round` (the others of `math` are refused by name)."""
    return obj is round or getattr(obj, "__module__", None) == "math"


class ScalarMath:
    """FunctionCompiler's scalar math (compiler.py holds the state)."""

    def math_call(self, fn: Any, args: list[Any], kwargs: dict[str, Any], e: ast.AST) -> Any:
        name = getattr(fn, "__name__", repr(fn))
        if fn in _INT_LOOPS and not kwargs:  # compiled as a call of its loop (int_math.py)
            if not all(isinstance(a, SSAValue) and isinstance(a.type, td.IntType) for a in args):
                raise self.error(e, f"unsupported: math.{name} of non-int arguments here")
            return self.call_python(_INT_LOOPS[fn], args, {}, e)  # type: ignore[attr-defined]
        known = (*_UNARY, *_BINARY, *_PREDICATES, *_SCALE, math.floor, math.ceil, round)
        if fn not in known:
            raise self.error(e, f"unsupported: math.{name} (not in TorchScript's scalar math here)")
        if kwargs or not all(
            isinstance(a, SSAValue) and isinstance(a.type, (td.IntType, td.FloatType)) for a in args
        ):
            raise self.error(
                e,
                f"unsupported: {name}() of ({', '.join(describe(a) for a in args)}) "
                "(supported: int and float scalars)",
            )
        arity = 2 if fn in _BINARY or (fn is math.log and len(args) == 2) else 1
        if len(args) != arity:
            raise self.error(e, f"unsupported: {name}() with {len(args)} arguments here")
        if fn in _UNARY:
            if fn is math.log and len(args) == 2:  # math.log(x, base)
                lx, lb = (self.scalar_op("aten.log.float", [self.to_float(a, e)], e) for a in args)
                return self.scalar_op("aten.div.float", [lx, lb], e)
            return self.scalar_op(f"aten.{_UNARY[fn]}.float", [self.to_float(args[0], e)], e)
        if fn in _BINARY:
            a, b = (self.to_float(x, e) for x in args)
            if fn is math.pow:
                return self.float_pow(a, b, e)
            return self.scalar_op(f"aten.{_BINARY[fn]}.float", [a, b], e)
        if fn in _PREDICATES:
            return self.scalar_op(f"aten.{_PREDICATES[fn]}.float", [self.to_float(args[0], e)], e)
        if fn in _SCALE:
            k = self.b.constant(_SCALE[fn])
            return self.scalar_op("aten.mul.float", [self.to_float(args[0], e), k], e)
        (a,) = args
        if fn in (math.floor, math.ceil):
            if isinstance(a.type, td.IntType):
                return a
            self.finite_guard(a, e)
            return self.scalar_op(f"aten.{fn.__name__}.float", [a], e)
        # round: TorchScript's gives a float, halves to even
        return self.scalar_op("aten.round.float", [self.to_float(a, e)], e)

    def float_pow(self, a: SSAValue, b: SSAValue, e: ast.AST) -> SSAValue:
        """`a ** b` on floats (`aten::pow`): TorchScript raises on 0.0 to a negative power."""
        ka, kb = td._meta_or_const(a), td._meta_or_const(b)
        safe = (isinstance(kb, float) and kb >= 0) or (isinstance(ka, float) and ka != 0)
        if not safe:
            zero = self.b.constant(0.0)
            bad = self.scalar_op(
                "aten.__and__.bool",
                [
                    self.scalar_op("aten.eq.float", [a, zero], e),
                    self.scalar_op("aten.lt.float", [b, zero], e),
                ],
                e,
            )
            self.guard(
                self.scalar_op("aten.__not__", [bad], e),
                "0.0 cannot be raised to a negative power",
                [],
                e,
            )
        return self.scalar_op("aten.pow.float", [a, b], e)

    def float_divmod(self, a: SSAValue, b: SSAValue, e: ast.AST) -> PyTuple:
        """`divmod(a, b)` of floats as TorchScript computes it: `mod = fmod(a, b)`, moved to
        the divisor's sign, and `((a - mod) / b, mod)`; it differs from `(a // b, a % b)` in
        rounding cases (`divmod(1.0, 0.1)` is `(9.0, 0.1)`, `1.0 // 0.1` is 10.0)."""

        def op(name: str, *args: SSAValue) -> SSAValue:
            return self.scalar_op(f"aten.{name}", list(args), e)

        zero = self.b.constant(0.0)
        self.guard(op("ne.float", b, zero), "ZeroDivisionError: float divmod()", [], e)
        mod = op("fmod.float", a, b)
        signs = op("ne.bool", op("lt.float", b, zero), op("lt.float", mod, zero))
        adjust = op("__and__.bool", op("ne.float", mod, zero), signs)
        mod = self.select_scalar(adjust, op("add.float", mod, b), mod, e)
        return PyTuple([op("div.float", op("sub.float", a, mod), b), mod])

    def finite_guard(self, a: SSAValue, e: ast.AST) -> None:
        """A float converted to int must be in int64's range (finite): TorchScript raises for
        math.floor/ceil (and gives INT64_MIN for int(inf), which xjit raises for rather than
        return); a cast out of range gives garbage."""
        ok = self.scalar_op(
            "aten.__and__.bool",
            [
                self.scalar_op("aten.ge.float", [a, self.b.constant(-(2.0**63))], e),
                self.scalar_op("aten.lt.float", [a, self.b.constant(2.0**63)], e),
            ],
            e,
        )
        self.guard(ok, "Cannot convert float {} to integer", [a], e)

    def guard(self, ok: SSAValue, template: str, values: list[SSAValue], e: ast.AST) -> None:
        """Raise TorchScript's RuntimeError(template) unless `ok` (a `!torch.bool`)."""
        k = td._meta_or_const(ok)
        if k is True:
            return
        if k is not UNKNOWN and k is False:
            self.emit_raise(template, None, values)
            return
        blk, _, _ = self.region(lambda: self.emit_raise(template, None, values))
        self.raise_guard(ok, blk, raise_if=False)
