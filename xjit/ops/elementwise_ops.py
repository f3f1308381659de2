"""Elementwise ops: one scalar `body` per op gives eager semantics (run on numpy arrays) and the
`linalg.generic` body (run on `arith`/`math` scalars) alike.

A body receives an `ops` object (`NumpyOps` here, the linalg lowering's scalar builder when
compiling) and the op's arguments: tensors as arrays/scalars already cast to the compute dtype,
non-tensor arguments as Python numbers (or run-time scalars).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from xjit.ops.eager_kernels import ElementwiseSpec, scalar_as
from xjit.ops.erf import erf
from xjit.ops.opdef import OpDef, register
from xjit.ops.schema import parse_schema
from xjit.ops.types import (
    DEFAULT_FLOAT,
    DType,
    TensorMeta,
    bool_,
    broadcast_shapes,
    from_numpy_dtype,
    promote,
    promote_with_scalar,
)


class NumpyOps:
    """The scalar-op vocabulary of elementwise bodies, implemented with numpy ufuncs."""

    add = staticmethod(np.add)
    sub = staticmethod(np.subtract)
    mul = staticmethod(np.multiply)
    neg = staticmethod(np.negative)
    maximum = staticmethod(np.maximum)
    minimum = staticmethod(np.minimum)
    tanh = staticmethod(np.tanh)
    exp = staticmethod(np.exp)
    log = staticmethod(np.log)
    sqrt = staticmethod(np.sqrt)
    abs = staticmethod(np.abs)
    sin = staticmethod(np.sin)
    cos = staticmethod(np.cos)
    lt = staticmethod(np.less)
    le = staticmethod(np.less_equal)
    gt = staticmethod(np.greater)
    ge = staticmethod(np.greater_equal)
    eq = staticmethod(np.equal)
    ne = staticmethod(np.not_equal)
    select = staticmethod(np.where)

    @staticmethod
    def div(x: Any, y: Any) -> Any:
        return np.true_divide(x, y, dtype=np.result_type(x, y))

    @staticmethod
    def rsqrt(x: Any) -> Any:
        return np.reciprocal(np.sqrt(x))

    @staticmethod
    def pow(x: Any, y: Any) -> Any:
        _check_int_exponent(x, y)
        return np.power(x, y)

    logical_and = staticmethod(np.logical_and)
    logical_or = staticmethod(np.logical_or)
    logical_xor = staticmethod(np.logical_xor)
    logical_not = staticmethod(np.logical_not)

    @staticmethod
    def erf(x: Any) -> Any:
        return erf(x)

    @staticmethod
    def is_float(x: Any) -> bool:
        """Whether the body computes in floating point (bodies branch on it at build time)."""
        return bool(np.asarray(x).dtype.kind == "f")

    log1p = staticmethod(np.log1p)
    expm1 = staticmethod(np.expm1)
    copysign = staticmethod(np.copysign)
    # issue 12's math and bitwise ops (xjit/ops/math_ops.py)
    tan = staticmethod(np.tan)
    asin = staticmethod(np.arcsin)
    acos = staticmethod(np.arccos)
    atan = staticmethod(np.arctan)
    atan2 = staticmethod(np.arctan2)
    sinh = staticmethod(np.sinh)
    cosh = staticmethod(np.cosh)
    log2 = staticmethod(np.log2)
    log10 = staticmethod(np.log10)
    exp2 = staticmethod(np.exp2)
    bitwise_and = staticmethod(np.bitwise_and)
    bitwise_or = staticmethod(np.bitwise_or)
    bitwise_xor = staticmethod(np.bitwise_xor)
    shl = staticmethod(np.left_shift)
    shr = staticmethod(np.right_shift)  # arithmetic (sign-extending) on signed integers
    bitwise_not = staticmethod(np.invert)  # `not` on bools

    # Rounding leaves integers as they are (torch.floor of an int tensor is that tensor); numpy
    # would go through float64 and lose precision above 2**53.
    @staticmethod
    def floor(x: Any) -> Any:
        return x if np.asarray(x).dtype.kind != "f" else np.floor(x)

    @staticmethod
    def ceil(x: Any) -> Any:
        return x if np.asarray(x).dtype.kind != "f" else np.ceil(x)

    @staticmethod
    def trunc(x: Any) -> Any:
        return x if np.asarray(x).dtype.kind != "f" else np.trunc(x)

    @staticmethod
    def round(x: Any) -> Any:  # halves to even, as torch.round
        return x if np.asarray(x).dtype.kind != "f" else np.rint(x)

    @staticmethod
    def fmod(x: Any, y: Any) -> Any:
        """C fmod (the dividend's sign); integers divided by zero raise, as in torch."""
        _check_int_divisor(x, y)
        return np.fmod(x, y)

    @staticmethod
    def floordiv_int(x: Any, y: Any) -> Any:
        _check_int_divisor(x, y)
        return np.floor_divide(x, y)

    @staticmethod
    def truncdiv_int(x: Any, y: Any) -> Any:
        _check_int_divisor(x, y)
        return np.subtract(x, np.fmod(x, y)) // y


def _check_int_exponent(x: Any, y: Any) -> None:
    """torch refuses an integer tensor to a negative integer scalar power, even when empty."""
    if isinstance(y, (int, np.integer)) and y < 0 and np.asarray(x).dtype.kind in "iub":
        raise RuntimeError("Integers to negative integer powers are not allowed.")


def _check_int_divisor(x: Any, y: Any) -> None:
    if np.result_type(x, y).kind in "iub" and np.any(np.asarray(y) == 0):
        raise ZeroDivisionError("ZeroDivisionError (integer division by zero)")


NUMPY_OPS = NumpyOps()


def _promoted(*args: Any) -> DType:
    """torch's result_type over tensor metas and Python scalars: a 0-d tensor counts like a
    Python scalar (it changes the dtype only when its category -- bool, int, float -- is higher
    than the dimensioned tensors'), unless all tensors are 0-d."""
    metas = [m for m in args if isinstance(m, TensorMeta) and m.dtype is not None]
    if not metas:
        raise TypeError("elementwise op needs at least one tensor of known dtype")
    dims = [m.dtype for m in metas if m.shape is None or len(m.shape) > 0]
    zeros = [m.dtype for m in metas if m.shape is not None and len(m.shape) == 0]
    if not dims:
        dims, zeros = zeros, []
    dt = dims[0]
    for d in dims[1:]:
        dt = promote(dt, d)
    top = max((z.kind for z in zeros), default=-1)
    if top > dt.kind:
        dt = _highest_of_kind(zeros, top)
    for a in args:
        if isinstance(a, (bool, int, float)):
            dt = promote_with_scalar(dt, a)
    return dt


def _highest_of_kind(dtypes: list[DType], kind: int) -> DType:
    """The promotion of the dtypes of the highest category `kind` among `dtypes`."""
    of_kind = [d for d in dtypes if d.kind == kind]
    out = of_kind[0]
    for d in of_kind[1:]:
        out = promote(out, d)
    return out


def _to_float(dt: DType) -> DType:
    return dt if dt.is_floating_point else DEFAULT_FLOAT


def _float_input(*args: Any) -> DType:
    """Ops torch implements for floating point tensors only (elu, silu, softplus, ...): an
    integer or bool tensor is refused whatever the scalars (celu(int tensor, 1.5) too)."""
    d = _promoted(*(a for a in args if isinstance(a, TensorMeta)))
    if not d.is_floating_point:
        raise NotImplementedError(
            f"not implemented for '{d.name}': a floating point input is required"
        )
    return d


# compute dtype rule, result dtype rule
DTYPE_RULES: dict[str, tuple[Callable[..., DType], Callable[[DType], DType]]] = {
    "promote": (_promoted, lambda d: d),
    "float": (lambda *a: _to_float(_promoted(*a)), lambda d: d),
    "compare": (_promoted, lambda d: bool_),
    "logical": (lambda *a: bool_, lambda d: bool_),
    "float_input": (_float_input, lambda d: d),
    # div with rounding_mode 'trunc'/'floor' keeps integers; None is true division
    "div_mode": (
        lambda *a: (
            _promoted(*a)
            if any(m in ("trunc", "floor") for m in a if isinstance(m, str))
            else _to_float(_promoted(*a))
        ),
        lambda d: d,
    ),
    # `self`'s dtype whatever the other operands (masked_fill: the value is cast to it).
    "self": (lambda *a: next(m.dtype for m in a if isinstance(m, TensorMeta)), lambda d: d),
}


_NOT_PROMOTED = frozenset({"alpha"})


def _check_alpha(alpha: Any, d: DType) -> None:
    """torch's checks of add/sub's `alpha` (the eager fast path runs them once per signature:
    they depend only on alpha's Python type and the dtype)."""
    if isinstance(alpha, bool) and d is not bool_:
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    if isinstance(alpha, float) and not d.is_floating_point:
        raise RuntimeError(
            "For integral input tensors, argument alpha must not be a floating point number."
        )


def check_condition(c: Any) -> None:
    if isinstance(c, TensorMeta) and c.dtype is not None and c.dtype is not bool_:
        raise RuntimeError(
            "where expected condition to be a boolean tensor, but got a tensor with dtype "
            f"{c.dtype.name}"
        )


def _meta_of_value(v: Any) -> Any:
    if isinstance(v, (np.ndarray, np.generic)):
        return TensorMeta(v.shape, from_numpy_dtype(v.dtype))
    return v


def elementwise(
    schema: str,
    body: Callable[..., Any],
    *,
    dtype: str = "promote",
    py: str | None = None,
    overload_of: tuple[str, ...] | None = None,
    keep: tuple[str, ...] = (),
    check: Callable[..., None] | None = None,
    no_bool: str | None = None,
    no_bool_operand: str | None = None,
    **attrs: Any,
) -> OpDef:
    """Register an elementwise op. `attrs` feed generic canonicalizations: `identity=("other", 0)`
    (the op returns `self` when that argument is that constant), `involution=True` (f(f(x)) = x).
    `check(*metas)` raises ShapeError for arguments torch rejects beyond broadcasting;
    `no_bool` is torch's message where it refuses to compute in bool (`abs`, `relu`, bool **
    bool), `no_bool_operand` where it refuses any bool operand (`-`, a Python bool too): both
    checked in the dtype rule, which the eager fast path evaluates once per dtype signature."""
    promote_rule, result_rule = DTYPE_RULES[dtype]
    # Scaling factors (`alpha`) take no part in type promotion: in torch, bool + bool is bool
    # and int + int is int64 whatever alpha's Python type.
    # `keep` names tensor arguments that keep their own dtype (`where`'s condition): they take
    # no part in promotion and reach the body uncast.
    skip = {
        i
        for i, a in enumerate(parse_schema(schema).args)
        if a.name in _NOT_PROMOTED or a.name in keep
    }
    if keep:
        attrs["uncast"] = frozenset(
            i for i, a in enumerate(parse_schema(schema).args) if a.name in keep
        )

    names = [a.name for a in parse_schema(schema).args]
    alpha_at = names.index("alpha") if "alpha" in names else None
    cond_at = names.index("condition") if "condition" in names else None

    def compute_rule(*args: Any) -> DType:
        operands = [a for i, a in enumerate(args) if i not in skip]
        d = promote_rule(*operands)
        if alpha_at is not None and alpha_at < len(args):
            _check_alpha(args[alpha_at], d)
        if cond_at is not None and cond_at < len(args):
            check_condition(args[cond_at])
        if no_bool is not None and d is bool_:
            raise NotImplementedError(no_bool)
        if no_bool_operand is not None and any(
            isinstance(a, bool) or isinstance(a, TensorMeta) and a.dtype is bool_ for a in operands
        ):
            raise RuntimeError(no_bool_operand)
        return d

    def shape(*args: Any) -> TensorMeta:
        if check is not None:
            check(*args)
        tensors = [a for a in args if isinstance(a, TensorMeta)]
        return TensorMeta(
            broadcast_shapes(*(t.shape for t in tensors)), result_rule(compute_rule(*args))
        )

    op: OpDef | None = None
    dtype_memo: dict[tuple[Any, ...], tuple[DType, np.dtype]] = {}

    def eager(*args: Any) -> np.ndarray:
        assert op is not None
        if check is not None:
            check(*(_meta_of_value(a) for a in args))
        # The dtypes depend only on each argument's dtype and 0-d-ness (tensors) or type
        # (Python scalars): computed once per such signature (issue 14: eager fast path).
        key = tuple(
            (a.dtype, a.ndim == 0) if isinstance(a, (np.ndarray, np.generic)) else type(a)
            for a in args
        )
        dts = dtype_memo.get(key)
        if dts is None:
            cd = compute_rule(*(_meta_of_value(a) for a in args))
            dts = dtype_memo[key] = (cd, result_rule(cd).np)
        cd = dts[0]
        xs = [
            a.astype(cd.np, copy=False)
            if isinstance(a, (np.ndarray, np.generic)) and i not in skip
            # an integer/bool computation takes a number as that dtype (eager_kernels._cast)
            else scalar_as(a, cd.np)
            if isinstance(a, (bool, int, float)) and i not in skip and cd.np.kind in "iub"
            else a
            for i, a in enumerate(args)
        ]
        with np.errstate(all="ignore"):  # IEEE results (inf, nan) without warnings, as torch
            out = body(NUMPY_OPS, *xs)
        return np.asarray(out, dtype=dts[1])

    if check is None:  # the dispatcher's per-signature kernels (issue 14: eager fast path)
        attrs["eager_kernels"] = ElementwiseSpec(body, NUMPY_OPS, compute_rule, result_rule, skip)
    op = register(
        schema,
        shape,
        py=py,
        eager=eager,
        body=body,
        compute_dtype=compute_rule,
        overload_of=overload_of,
        attrs=attrs,
    )
    return op


def _unit(value: Any, unit: int) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == unit


def _add(o: Any, x: Any, y: Any, alpha: Any = 1) -> Any:
    return o.add(x, y if _unit(alpha, 1) else o.mul(y, alpha))


def _sub(o: Any, x: Any, y: Any, alpha: Any = 1) -> Any:
    return o.sub(x, y if _unit(alpha, 1) else o.mul(y, alpha))


# Unary
_MASK_HINT = "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."
elementwise(
    "aten::neg(Tensor self) -> Tensor",
    lambda o, x: o.neg(x),
    involution=True,
    no_bool_operand=f"Negation, the `-` operator, on a bool tensor is not supported. {_MASK_HINT}",
)
_SUB_BOOL = f"Subtraction, the `-` operator, with a bool tensor is not supported. {_MASK_HINT}"
elementwise("aten::tanh(Tensor self) -> Tensor", lambda o, x: o.tanh(x), dtype="float")
elementwise(
    "aten::relu(Tensor self) -> Tensor",
    lambda o, x: o.maximum(x, 0),
    no_bool="Boolean inputs not supported for relu",
)
elementwise(
    "aten::sigmoid(Tensor self) -> Tensor",
    lambda o, x: o.div(1, o.add(o.exp(o.neg(x)), 1)),
    dtype="float",
)
elementwise("aten::exp(Tensor self) -> Tensor", lambda o, x: o.exp(x), dtype="float")

# Binary, tensor-tensor and tensor-scalar overloads (torch resolves `x + 1` to add.Scalar).
elementwise("aten::add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor", _add)
elementwise(
    "aten::add.Scalar(Tensor self, Scalar other, Scalar alpha=1) -> Tensor",
    _add,
    identity=("other", 0),
)
elementwise(
    "aten::sub.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor",
    _sub,
    no_bool_operand=_SUB_BOOL,
)
elementwise(
    "aten::sub.Scalar(Tensor self, Scalar other, Scalar alpha=1) -> Tensor",
    _sub,
    no_bool_operand=_SUB_BOOL,
    identity=("other", 0),
)
elementwise(
    "aten::rsub.Scalar(Tensor self, Scalar other, Scalar alpha=1) -> Tensor",
    lambda o, x, y, alpha=1: _sub(o, y, x, alpha),
    no_bool_operand=_SUB_BOOL,
)
elementwise("aten::mul.Tensor(Tensor self, Tensor other) -> Tensor", lambda o, x, y: o.mul(x, y))
elementwise(
    "aten::mul.Scalar(Tensor self, Scalar other) -> Tensor",
    lambda o, x, y: o.mul(x, y),
    identity=("other", 1),
)
elementwise(
    "aten::div.Tensor(Tensor self, Tensor other) -> Tensor",
    lambda o, x, y: o.div(x, y),
    dtype="float",
)
elementwise(
    "aten::div.Scalar(Tensor self, Scalar other) -> Tensor",
    lambda o, x, y: o.div(x, y),
    dtype="float",
    identity=("other", 1),
)
elementwise("aten::reciprocal(Tensor self) -> Tensor", lambda o, x: o.div(1, x), dtype="float")
elementwise(
    "aten::abs(Tensor self) -> Tensor",
    lambda o, x: o.abs(x),
    no_bool="\"abs_cpu\" not implemented for 'Bool'",
)
elementwise("aten::log(Tensor self) -> Tensor", lambda o, x: o.log(x), dtype="float")
elementwise("aten::sqrt(Tensor self) -> Tensor", lambda o, x: o.sqrt(x), dtype="float")
elementwise("aten::rsqrt(Tensor self) -> Tensor", lambda o, x: o.rsqrt(x), dtype="float")
elementwise("aten::sin(Tensor self) -> Tensor", lambda o, x: o.sin(x), dtype="float")
elementwise("aten::cos(Tensor self) -> Tensor", lambda o, x: o.cos(x), dtype="float")
_SQRT1_2 = 0.7071067811865476
_SQRT_2_PI = 0.7978845608028654  # sqrt(2 / pi)


def _gelu(o: Any, x: Any, approximate: str = "none") -> Any:
    if approximate == "tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        inner = o.mul(o.add(x, o.mul(o.mul(o.mul(x, x), x), 0.044715)), _SQRT_2_PI)
        return o.mul(o.mul(x, 0.5), o.add(o.tanh(inner), 1))
    return o.mul(o.mul(x, 0.5), o.add(o.erf(o.mul(x, _SQRT1_2)), 1))


def _gelu_check(x: Any, approximate: Any = "none") -> None:
    if approximate not in ("none", "tanh"):
        raise ValueError(f"approximate argument must be either none or tanh, not {approximate!r}")


elementwise(
    # (torch's `approximate` is keyword-only; positional here so F.gelu's script mapping can pass it)
    "aten::gelu(Tensor self, str approximate='none') -> Tensor",
    _gelu,
    dtype="float_input",
    py="torch.nn.functional.gelu",
    check=_gelu_check,
)

# Powers: float ** anything is math.powf; int ** int is math.ipowi (numpy rejects negative
# integer exponents, as torch does).
_POW_BOOL = "\"pow\" not implemented for 'Bool'"  # bool ** bool (bool ** 2 is an int64)
elementwise(
    "aten::pow.Tensor_Tensor(Tensor self, Tensor exponent) -> Tensor",
    lambda o, x, y: o.pow(x, y),
    no_bool=_POW_BOOL,
)
elementwise(
    "aten::pow.Tensor_Scalar(Tensor self, Scalar exponent) -> Tensor",
    lambda o, x, y: o.pow(x, y),
    identity=("exponent", 1),
    no_bool=_POW_BOOL,
)
elementwise(
    "aten::pow.Scalar(Scalar self, Tensor exponent) -> Tensor",
    lambda o, x, y: o.pow(x, y),
    no_bool=_POW_BOOL,
)
elementwise("aten::maximum(Tensor self, Tensor other) -> Tensor", lambda o, x, y: o.maximum(x, y))
elementwise("aten::minimum(Tensor self, Tensor other) -> Tensor", lambda o, x, y: o.minimum(x, y))
elementwise(
    "aten::max.other(Tensor self, Tensor other) -> Tensor",
    lambda o, x, y: o.maximum(x, y),
    py="torch.max",
)
elementwise(
    "aten::min.other(Tensor self, Tensor other) -> Tensor",
    lambda o, x, y: o.minimum(x, y),
    py="torch.min",
)

# Comparisons: compute in the promoted dtype, produce bool.
for _cmp in ("lt", "le", "gt", "ge", "eq", "ne"):
    elementwise(
        f"aten::{_cmp}.Tensor(Tensor self, Tensor other) -> Tensor",
        lambda o, x, y, _c=_cmp: getattr(o, _c)(x, y),
        dtype="compare",
    )
    elementwise(
        f"aten::{_cmp}.Scalar(Tensor self, Scalar other) -> Tensor",
        lambda o, x, y, _c=_cmp: getattr(o, _c)(x, y),
        dtype="compare",
    )

# Logical ops: operands as bool (nonzero is true), bool results.
for _lg in ("logical_and", "logical_or", "logical_xor"):
    elementwise(
        f"aten::{_lg}(Tensor self, Tensor other) -> Tensor",
        lambda o, x, y, _l=_lg: getattr(o, _l)(x, y),
        dtype="logical",
    )
elementwise(
    "aten::logical_not(Tensor self) -> Tensor", lambda o, x: o.logical_not(x), dtype="logical"
)

# where: the condition keeps its dtype; self/other promote.
_where = {"keep": ("condition",), "py": "torch.where"}
elementwise(
    "aten::where.self(Tensor condition, Tensor self, Tensor other) -> Tensor",
    lambda o, c, x, y: o.select(c, x, y),
    **_where,
)
elementwise(
    "aten::where.ScalarOther(Tensor condition, Tensor self, Scalar other) -> Tensor",
    lambda o, c, x, y: o.select(c, x, y),
    **_where,
)
elementwise(
    "aten::where.ScalarSelf(Tensor condition, Scalar self, Tensor other) -> Tensor",
    lambda o, c, x, y: o.select(c, x, y),
    **_where,
)


# -- rounding, remainders and rounding divisions (torch's rules, including NaN/inf and signed
# zeros; integer tensors keep their dtype and raise ZeroDivisionError on a zero divisor) -------
for _r in ("floor", "ceil", "round", "trunc"):
    elementwise(
        f"aten::{_r}(Tensor self) -> Tensor",
        lambda o, x, _f=_r: getattr(o, _f)(x),
        no_bool=f"\"{_r}_vml_cpu\" not implemented for 'Bool'",
    )


def _float_only(name: str) -> Callable[..., None]:
    def check(x: Any, *rest: Any) -> None:
        if isinstance(x, TensorMeta) and x.dtype is not None and not x.dtype.is_floating_point:
            raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{x.dtype.name}'")

    return check


elementwise(
    "aten::frac(Tensor self) -> Tensor",
    lambda o, x: o.sub(x, o.trunc(x)),
    check=_float_only("frac"),
)
elementwise("aten::erf(Tensor self) -> Tensor", lambda o, x: o.erf(x), dtype="float")
elementwise("aten::log1p(Tensor self) -> Tensor", lambda o, x: o.log1p(x), dtype="float")
elementwise("aten::expm1(Tensor self) -> Tensor", lambda o, x: o.expm1(x), dtype="float")


def _no_bool(kernel: str) -> str:
    return f"\"{kernel}\" not implemented for 'Bool'"


def _remainder(o: Any, x: Any, y: Any) -> Any:
    """Python's `%` (the divisor's sign): C fmod, plus the divisor where the signs differ."""
    m = o.fmod(x, y)
    fix = o.logical_and(o.ne(m, 0), o.logical_xor(o.lt(y, 0), o.lt(m, 0)))
    return o.select(fix, o.add(m, y), m)


def _floor_divide(o: Any, x: Any, y: Any) -> Any:
    """torch's div_floor: on floats not floor(x / y) (inexact) but the fmod-corrected quotient,
    x / y where y == 0, and a zero quotient keeps the sign of x / y."""
    if not o.is_float(x):
        return o.floordiv_int(x, y)
    q = o.div(x, y)
    m = o.fmod(x, y)
    d = o.div(o.sub(x, m), y)
    d = o.select(o.logical_and(o.ne(m, 0), o.logical_xor(o.lt(y, 0), o.lt(m, 0))), o.sub(d, 1), d)
    f = o.floor(d)
    f = o.select(o.gt(o.sub(d, f), 0.5), o.add(f, 1), f)
    f = o.select(o.ne(d, 0), f, o.copysign(0, q))
    return o.select(o.eq(y, 0), q, f)


def _trunc_divide(o: Any, x: Any, y: Any) -> Any:
    return o.trunc(o.div(x, y)) if o.is_float(x) else o.truncdiv_int(x, y)


for _suffix, _other in (("Tensor", "Tensor other"), ("Scalar", "Scalar other")):
    # `int_divisor`: the operand an integer division divides by; compiled, a run-time one is
    # checked for zeros first (torch raises ZeroDivisionError), passes/convert_torch_to_linalg.py
    elementwise(
        f"aten::fmod.{_suffix}(Tensor self, {_other}) -> Tensor",
        lambda o, x, y: o.fmod(x, y),
        int_divisor=1,
        no_bool=_no_bool("fmod_cpu"),
    )
    elementwise(
        f"aten::remainder.{_suffix}(Tensor self, {_other}) -> Tensor",
        _remainder,
        int_divisor=1,
        no_bool=_no_bool("remainder_cpu"),
    )
    elementwise(
        f"aten::floor_divide{'' if _suffix == 'Tensor' else '.Scalar'}(Tensor self, {_other}) -> Tensor",
        _floor_divide,
        int_divisor=1,
        no_bool=_no_bool("div_floor_cpu"),
    )
elementwise(
    "aten::remainder.Scalar_Tensor(Scalar self, Tensor other) -> Tensor",
    _remainder,
    int_divisor=1,
    no_bool=_no_bool("remainder_cpu"),
)


def _div_mode(o: Any, x: Any, y: Any, rounding_mode: Any = None) -> Any:
    if rounding_mode == "trunc":
        return _trunc_divide(o, x, y)
    if rounding_mode == "floor":
        return _floor_divide(o, x, y)
    return o.div(x, y)


def _div_mode_check(x: Any, y: Any, rounding_mode: Any = None) -> None:
    if rounding_mode not in (None, "trunc", "floor"):
        raise ValueError(
            "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
            f"{rounding_mode!r}"
        )


for _schema in (
    "aten::div.Tensor_mode(Tensor self, Tensor other, *, str? rounding_mode) -> Tensor",
    "aten::div.Scalar_mode(Tensor self, Scalar other, *, str? rounding_mode) -> Tensor",
):
    elementwise(
        _schema,
        _div_mode,
        dtype="div_mode",
        check=_div_mode_check,
        int_divisor=1,
        no_bool=_no_bool("div_floor_cpu/div_trunc_cpu"),  # (true division of bools is float)
    )
