"""Scalar `arith`/`math` ops as numpy expressions.

One table serves both the vectorized code (operands are arrays aligned to the iteration space)
and the scalar fallback loops (operands are numpy scalars): numpy ufuncs give the same
semantics (f32 stays f32, integers wrap) on both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.ir import Attribute, Operation

from xjit.backends.numpy.diagnostics import UnsupportedIRError
from xjit.backends.numpy.dtypes import dtype_src, is_bool, is_index, unsigned_src


@dataclass(frozen=True)
class Expr:
    """A generated expression; `ufunc` is set when it is a plain ufunc call (so `out=` works)."""

    text: str
    ufunc: str | None = None
    args: tuple[str, ...] = ()

    def render(self, out: str | None = None) -> str:
        if out is None:
            return self.text
        assert self.ufunc is not None
        if self.ufunc in _OUT_KEYWORD:
            return f"{self.ufunc}({', '.join(self.args)}, out={out})"
        # `out` passed positionally: the same as `out=` for a ufunc, and up to 2x cheaper to
        # call on small arrays (no keyword parsing).
        return f"{self.ufunc}({', '.join(self.args)}, {out})"


# numpy 2.4 deprecates a third positional argument of these two (it reads like a third input).
_OUT_KEYWORD = frozenset({"np.maximum", "np.minimum"})


def ufunc(name: str, *args: str) -> Expr:
    return Expr(f"{name}({', '.join(args)})", name, tuple(args))


def call(name: str, *args: str) -> Expr:
    return Expr(f"{name}({', '.join(args)})")


_BINARY_UFUNCS = {
    "arith.addf": "np.add",
    "arith.subf": "np.subtract",
    "arith.mulf": "np.multiply",
    "arith.divf": "np.divide",
    "arith.remf": "np.fmod",  # C fmod: sign of the dividend
    "arith.maximumf": "np.maximum",  # NaN-propagating, like maximumf
    "arith.minimumf": "np.minimum",
    "arith.maxnumf": "np.fmax",  # NaN-ignoring, like maxnumf
    "arith.minnumf": "np.fmin",
    "arith.addi": "np.add",
    "arith.subi": "np.subtract",
    "arith.muli": "np.multiply",
    "arith.andi": "np.bitwise_and",
    "arith.ori": "np.bitwise_or",
    "arith.xori": "np.bitwise_xor",
    "arith.maxsi": "np.maximum",
    "arith.minsi": "np.minimum",
    "arith.remsi": "np.fmod",  # truncated remainder (C), not np.remainder's floored one
    "arith.floordivsi": "np.floor_divide",
    "arith.shli": "np.left_shift",
    "arith.shrsi": "np.right_shift",
    "math.powf": "np.power",
    "math.ipowi": "np.power",
    "math.atan2": "np.arctan2",
    "math.copysign": "np.copysign",
}

# i1 is a 1-bit two's complement integer: + and - are xor, * is and, and true (-1) < false (0).
_BOOL_BINARY = {
    "arith.addi": "np.logical_xor",
    "arith.subi": "np.logical_xor",
    "arith.muli": "np.logical_and",
    "arith.maxsi": "np.logical_and",
    "arith.minsi": "np.logical_or",
    "arith.maxui": "np.logical_or",
    "arith.minui": "np.logical_and",
}

_RUNTIME_BINARY = {
    "arith.divsi": "rt.divsi",  # truncation toward zero, not numpy's floor
    "arith.ceildivsi": "rt.ceildivsi",
    "arith.divui": "rt.divui",
    "arith.remui": "rt.remui",
    "arith.ceildivui": "rt.ceildivui",
    "arith.maxui": "rt.maxui",
    "arith.minui": "rt.minui",
    "arith.shrui": "rt.shrui",
}

_UNARY_UFUNCS = {
    "arith.negf": "np.negative",
    "math.absf": "np.abs",
    "math.absi": "np.abs",
    "math.tanh": "np.tanh",
    "math.exp": "np.exp",
    "math.exp2": "np.exp2",
    "math.expm1": "np.expm1",
    "math.log": "np.log",
    "math.log2": "np.log2",
    "math.log10": "np.log10",
    "math.log1p": "np.log1p",
    "math.sqrt": "np.sqrt",
    "math.cbrt": "np.cbrt",
    "math.sin": "np.sin",
    "math.cos": "np.cos",
    "math.tan": "np.tan",
    "math.asin": "np.arcsin",
    "math.acos": "np.arccos",
    "math.atan": "np.arctan",
    "math.sinh": "np.sinh",
    "math.cosh": "np.cosh",
    "math.asinh": "np.arcsinh",
    "math.acosh": "np.arccosh",
    "math.atanh": "np.arctanh",
    "math.floor": "np.floor",
    "math.ceil": "np.ceil",
    "math.trunc": "np.trunc",
    "math.roundeven": "np.rint",  # rint rounds halves to even
    "math.ctpop": "np.bitwise_count",
}

_RUNTIME_UNARY = {"math.round": "rt.round_half_away", "math.erf": "rt.erf"}

# cmpf predicates, by number. Ordered predicates are false on NaN, which is what numpy's
# comparisons do; unordered ones are the negation of the opposite ordered comparison.
_CMPF = {
    1: ("np.equal", False),
    2: ("np.greater", False),
    3: ("np.greater_equal", False),
    4: ("np.less", False),
    5: ("np.less_equal", False),
    9: ("np.less_equal", True),  # ugt = not ole
    10: ("np.less", True),  # uge = not olt
    11: ("np.greater_equal", True),  # ult = not oge
    12: ("np.greater", True),  # ule = not ogt
    13: ("np.not_equal", False),  # une is true on NaN, like !=
}

_CMPI_SIGNED = {
    0: "np.equal",
    1: "np.not_equal",
    2: "np.less",
    3: "np.less_equal",
    4: "np.greater",
    5: "np.greater_equal",
}
_CMPI_UNSIGNED = {6: "np.less", 7: "np.less_equal", 8: "np.greater", 9: "np.greater_equal"}
# On i1, signed order is the reverse of unsigned order (true is -1).
_BOOL_SIGNED_FLIP = {2: "np.greater", 3: "np.greater_equal", 4: "np.less", 5: "np.less_equal"}


def _cmpf(pred: int, a: str, b: str) -> Expr:
    if pred in _CMPF:
        fn, negate = _CMPF[pred]
        return ufunc("np.logical_not", f"{fn}({a}, {b})") if negate else ufunc(fn, a, b)
    isnan = f"np.isnan({a}), np.isnan({b})"
    if pred == 0:  # false
        return call("np.zeros_like", f"np.equal({a}, {b})")
    if pred == 15:  # true
        return call("np.ones_like", f"np.equal({a}, {b})")
    if pred == 6:  # one: ordered and unequal
        return ufunc("np.logical_or", f"np.less({a}, {b})", f"np.greater({a}, {b})")
    if pred == 7:  # ord
        return ufunc("np.logical_not", f"np.logical_or({isnan})")
    if pred == 8:  # ueq
        return ufunc("np.logical_or", f"np.equal({a}, {b})", f"np.logical_or({isnan})")
    if pred == 14:  # uno
        return ufunc("np.logical_or", f"np.isnan({a})", f"np.isnan({b})")
    raise UnsupportedIRError(f"arith.cmpf predicate {pred}")


def _cmpi(pred: int, operand_type: Attribute, a: str, b: str) -> Expr:
    if is_bool(operand_type) and pred in _BOOL_SIGNED_FLIP:
        return ufunc(_BOOL_SIGNED_FLIP[pred], a, b)
    if pred in _CMPI_SIGNED:
        return ufunc(_CMPI_SIGNED[pred], a, b)
    if pred in _CMPI_UNSIGNED:
        if is_bool(operand_type) or is_index(operand_type):
            return ufunc(_CMPI_UNSIGNED[pred], a, b)
        return call("rt.cmpu", _CMPI_UNSIGNED[pred], a, b)
    raise UnsupportedIRError(f"arith.cmpi predicate {pred}")


def _cast(name: str, src: Attribute, dst: Attribute, x: str) -> Expr:
    d = dtype_src(dst)
    if is_index(src) or is_index(dst):
        # Index values may be Python ints (shapes, loop counters): the dtype's constructor
        # accepts ints, numpy scalars and arrays alike.
        return call(d, x)
    if name == "arith.bitcast":
        return Expr(f"{x}.view({d})")
    if name in ("arith.extui", "arith.uitofp") and not is_bool(src):
        return Expr(f"{x}.astype({unsigned_src(src)}).astype({d})")
    if name in ("arith.extsi", "arith.sitofp") and is_bool(src):
        return ufunc("np.negative", f"{x}.astype({d})")  # signed i1 true is -1
    if name == "arith.trunci" and is_bool(dst):
        return Expr(f"np.bitwise_and({x}, 1).astype(np.bool_)")  # keep the low bit only
    if name == "arith.fptoui":
        return Expr(f"{x}.astype({unsigned_src(dst)}).astype({d})")
    # extf/truncf/sitofp/fptosi (truncates toward zero)/extsi/extui of i1/trunci (wraps).
    return Expr(f"{x}.astype({d})")


_CASTS = {
    "arith.extf",
    "arith.truncf",
    "arith.sitofp",
    "arith.uitofp",
    "arith.fptosi",
    "arith.fptoui",
    "arith.extsi",
    "arith.extui",
    "arith.trunci",
    "arith.index_cast",
    "arith.index_castui",
    "arith.bitcast",
}


def op_expr(op: Operation, args: Sequence[str]) -> Expr:
    """The numpy expression computing `op`'s single result from its operands' expressions."""
    name = op.name
    if len(op.results) != 1:
        raise UnsupportedIRError(f"{name} with {len(op.results)} results")
    rtype = op.results[0].type
    otype = op.operands[0].type if op.operands else rtype
    if name in _CASTS:
        return _cast(name, otype, rtype, args[0])
    if name in ("arith.addi", "arith.subi", "arith.muli") and is_index(rtype):
        sym = {"arith.addi": "+", "arith.subi": "-", "arith.muli": "*"}[name]
        return Expr(f"({args[0]} {sym} {args[1]})")  # index arithmetic stays on Python ints
    if is_bool(otype) and name in _BOOL_BINARY:
        return ufunc(_BOOL_BINARY[name], *args)
    if name in _BINARY_UFUNCS:
        return ufunc(_BINARY_UFUNCS[name], *args)
    if name in _RUNTIME_BINARY:
        return call(_RUNTIME_BINARY[name], *args)
    if name in _UNARY_UFUNCS:
        return ufunc(_UNARY_UFUNCS[name], *args)
    if name in _RUNTIME_UNARY:
        return call(_RUNTIME_UNARY[name], *args)
    if name == "math.rsqrt":
        return ufunc("np.reciprocal", f"np.sqrt({args[0]})")
    if name == "math.fma":
        return ufunc("np.add", f"np.multiply({args[0]}, {args[1]})", args[2])
    if name == "arith.cmpf":
        return _cmpf(op.predicate.value.data, args[0], args[1])  # type: ignore[attr-defined]
    if name == "arith.cmpi":
        return _cmpi(op.predicate.value.data, otype, args[0], args[1])  # type: ignore[attr-defined]
    if name == "arith.select":
        return call("np.where", *args)
    raise UnsupportedIRError(f"the numpy backend does not support {name}")


def is_scalar_op(op: Operation) -> bool:
    """True for ops `op_expr` knows (constants are handled by the callers)."""
    name = op.name
    return (
        name in _CASTS
        or name in _BINARY_UFUNCS
        or name in _RUNTIME_BINARY
        or name in _UNARY_UFUNCS
        or name in _RUNTIME_UNARY
        or name in ("math.rsqrt", "math.fma", "arith.cmpf", "arith.cmpi", "arith.select")
    )
