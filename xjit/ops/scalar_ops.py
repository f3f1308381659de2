"""Scalar ops on `!torch.int` / `!torch.float` / `!torch.bool`, and the tensor→scalar bridges
(`aten.size.int`, `aten.dim`, `aten.Bool.Tensor`, ...): what scripted control flow computes with.

Names and schemas are TorchScript's (as torch-mlir's GeneratedTorchOps.td spells them):

    %2 = torch.aten.add.int %0, %1 : !torch.int, !torch.int -> !torch.int
    %3 = torch.aten.lt.int %2, %n : !torch.int, !torch.int -> !torch.bool
    %b = torch.aten.Bool.Tensor %t : !torch.vtensor<[],i1> -> !torch.bool

A scalar op's shape rule returns the Python type of its result (`int`, `float`, `bool`); its
`eager` is the Python semantics (TorchScript's: `//` and `%` floor, `/` is true division); `fold`
computes the result from constant operands (or static shapes, for `size.int`/`dim`) so
`canonicalize` can replace the op by a `torch.constant.*`.

These ops are not eager overloads of `torch.add` etc.: they are reached only from the scripting
frontend, under the private Python names `scalar.<name>`.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from xjit.ops.opdef import UNKNOWN, register
from xjit.ops.types import ShapeError, TensorMeta, normalize_dim


def _scalar(schema: str, result: type, fn: Callable[..., Any], **kw: Any) -> None:
    def shape(*args: Any) -> type:
        return result

    def fold(*args: Any) -> Any:
        if any(a is UNKNOWN or isinstance(a, TensorMeta) for a in args):
            return None
        try:
            return result(fn(*args))
        except (ZeroDivisionError, ValueError, OverflowError):
            return None  # leave the error to run time

    name = schema.split("::")[1].split("(")[0]
    register(
        schema,
        shape,
        eager=lambda *a: result(fn(*a)),
        fold=fold,
        overload_of=(f"scalar.{name}",),
        py=kw.pop("py", None),
        attrs={"scalar": True, **kw},
    )


def _floordiv(a: Any, b: Any) -> Any:
    if b == 0:
        raise ZeroDivisionError("integer division by zero")
    return a // b


def _remainder(a: Any, b: Any) -> Any:
    if b == 0:
        raise ZeroDivisionError("integer modulo by zero")
    return a % b


def _truediv(a: Any, b: Any) -> float:
    # C's division, as TorchScript's `1.0 / 0.0` (inf) and compiled code (arith.divf) give
    with np.errstate(all="ignore"):
        return float(np.float64(a) / np.float64(b))


_ARITH = {"add": operator.add, "sub": operator.sub, "mul": operator.mul}
_CMP = {
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
    "eq": operator.eq,
    "ne": operator.ne,
}
_PY_BINOP = {
    "add": "+",
    "sub": "-",
    "mul": "*",
    "floordiv": "//",
    "remainder": "%",
    "div": "/",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "eq": "==",
    "ne": "!=",
}

for _n, _f in _ARITH.items():
    _scalar(f"aten::{_n}.int(int a, int b) -> int", int, _f, binop=_PY_BINOP[_n])
    _scalar(f"aten::{_n}.float(float a, float b) -> float", float, _f, binop=_PY_BINOP[_n])
_scalar("aten::floordiv.int(int a, int b) -> int", int, _floordiv, binop="//")
_scalar("aten::remainder.int(int a, int b) -> int", int, _remainder, binop="%")
_scalar("aten::div.float(float a, float b) -> float", float, _truediv, binop="/")
_scalar("aten::neg.int(int a) -> int", int, operator.neg, unop="-")
_scalar("aten::neg.float(float a) -> float", float, operator.neg, unop="-")
for _n, _f in _CMP.items():
    _scalar(f"aten::{_n}.int(int a, int b) -> bool", bool, _f, binop=_PY_BINOP[_n])
    _scalar(f"aten::{_n}.float(float a, float b) -> bool", bool, _f, binop=_PY_BINOP[_n])
_scalar("aten::eq.bool(bool a, bool b) -> bool", bool, operator.eq, binop="==")
_scalar("aten::ne.bool(bool a, bool b) -> bool", bool, operator.ne, binop="!=")
_scalar("aten::__not__(bool self) -> bool", bool, operator.not_, unop="not ")
_scalar("aten::__and__.bool(bool a, bool b) -> bool", bool, operator.and_, binop="and")
_scalar("aten::__or__.bool(bool a, bool b) -> bool", bool, operator.or_, binop="or")
# Conversions (Python's int(), float(), bool() on scalars).
_scalar("aten::Float.int(int a) -> float", float, float, py="float")
_scalar("aten::Int.float(float a) -> int", int, math.trunc, py="int")
_scalar("aten::Int.bool(bool a) -> int", int, int, py="int")
_scalar("aten::Bool.int(int a) -> bool", bool, bool, py="bool")
_scalar("aten::Bool.float(float a) -> bool", bool, bool, py="bool")


# -- tensor -> scalar --------------------------------------------------------------------------


def _size_shape(t: TensorMeta, dim: Any) -> type:
    if t.shape is not None and dim is not UNKNOWN:
        normalize_dim(dim, len(t.shape))
    return int


def _size_fold(t: Any, dim: Any) -> int | None:
    if not isinstance(t, TensorMeta) or t.shape is None or dim is UNKNOWN:
        return None
    d = t.shape[normalize_dim(dim, len(t.shape))]
    return d


register(
    "aten::size.int(Tensor self, int dim) -> int",
    _size_shape,
    eager=lambda a, dim: int(a.shape[normalize_dim(dim, a.ndim)]),
    fold=_size_fold,
    overload_of=("scalar.size",),
    py="torch.size",
    attrs={"scalar": True},
)
register(
    "aten::dim(Tensor self) -> int",
    lambda t: int,
    eager=lambda a: int(a.ndim),
    fold=lambda t: t.rank if isinstance(t, TensorMeta) and t.shape is not None else None,
    overload_of=("scalar.dim",),
    py="torch.dim",
    attrs={"scalar": True},
)
register(
    "aten::numel(Tensor self) -> int",
    lambda t: int,
    eager=lambda a: int(a.size),
    fold=lambda t: (
        int(np.prod(t.shape))
        if isinstance(t, TensorMeta) and t.shape is not None and None not in t.shape
        else None
    ),
    overload_of=("scalar.numel",),
    py="torch.numel",
    attrs={"scalar": True},
)


def _one_element(result: type, what: str) -> Callable[[TensorMeta], type]:
    def rule(t: TensorMeta) -> type:
        if t.shape is not None and None not in t.shape and int(np.prod(t.shape)) != 1:
            raise ShapeError(
                f"{what} of a tensor with {int(np.prod(t.shape))} elements "
                f"(shape {list(t.shape)}): only one-element tensors convert"
            )
        return result

    return rule


def _item(conv: Callable[[Any], Any], what: str) -> Callable[[np.ndarray], Any]:
    def eager(a: np.ndarray) -> Any:
        if a.size != 1:
            raise RuntimeError(f"{what} of a tensor with {a.size} elements is ambiguous")
        return conv(a.reshape(()).item())

    return eager


register(
    "aten::Bool.Tensor(Tensor a) -> bool",
    _one_element(bool, "Boolean value"),
    eager=_item(bool, "Boolean value"),
    overload_of=("scalar.Bool",),
    py="bool",
    attrs={"scalar": True},
)
register(
    "aten::Int.Tensor(Tensor a) -> int",
    _one_element(int, "int()"),
    eager=_item(int, "int()"),
    overload_of=("scalar.Int",),
    py="int",
    attrs={"scalar": True},
)
register(
    "aten::Float.Tensor(Tensor a) -> float",
    _one_element(float, "float()"),
    eager=_item(float, "float()"),
    overload_of=("scalar.Float",),
    py="float",
    attrs={"scalar": True},
)


# -- math.* and float `%` / `//` / `**`, as TorchScript has them -------------------------------
# C's results (nan, inf), never a Python error: `math.sqrt(-1.0)` is nan, `math.log(0.0)` -inf,
# `1.0 // 0.0` inf. `%` on floats is `fmod(b + fmod(a, b), b)` (the divisor's sign) and `//` is
# `floor(a / b)`, TorchScript's formulas (Python's differ in rounding cases: `1.0 // 0.1`).


def _c(fn: Callable[..., Any]) -> Callable[..., float]:
    def f(*args: Any) -> float:
        with np.errstate(all="ignore"):
            return float(fn(*(np.float64(a) for a in args)))

    return f


def _pow(a: Any, b: Any) -> float:
    if a == 0 and b < 0:  # the frontend guards with TorchScript's error; folding must not
        raise ZeroDivisionError("0.0 cannot be raised to a negative power")
    return _c(np.power)(a, b)


MATH_UNARY = {
    "sqrt": np.sqrt,
    "exp": np.exp,
    "expm1": np.expm1,
    "log": np.log,
    "log10": np.log10,
    "log1p": np.log1p,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "asin": np.arcsin,
    "acos": np.arccos,
    "atan": np.arctan,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "tanh": np.tanh,
    "asinh": np.arcsinh,
    "acosh": np.arccosh,
    "atanh": np.arctanh,
    "fabs": np.abs,
}
for _n, _f in MATH_UNARY.items():
    _scalar(f"aten::{_n}.float(float a) -> float", float, _c(_f))
_scalar("aten::round.float(float a) -> float", float, _c(np.rint))  # halves to even
_scalar("aten::floor.float(float a) -> int", int, math.floor)
_scalar("aten::ceil.float(float a) -> int", int, math.ceil)
_scalar("aten::isnan.float(float a) -> bool", bool, math.isnan)
_scalar("aten::isinf.float(float a) -> bool", bool, math.isinf)
_scalar("aten::isfinite.float(float a) -> bool", bool, math.isfinite)
_scalar("aten::atan2.float(float a, float b) -> float", float, _c(np.arctan2))
_scalar("aten::copysign.float(float a, float b) -> float", float, _c(np.copysign))
_scalar("aten::fmod.float(float a, float b) -> float", float, _c(np.fmod))
_scalar("aten::pow.float(float a, float b) -> float", float, _pow, binop="**")
_scalar(
    "aten::remainder.float(float a, float b) -> float",
    float,
    _c(lambda a, b: np.fmod(b + np.fmod(a, b), b)),
)
_scalar("aten::floordiv.float(float a, float b) -> float", float, _c(lambda a, b: np.floor(a / b)))
