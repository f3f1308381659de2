"""Issue 12's elementwise math and bitwise ops: trigonometric and logarithmic functions, `&`,
`|`, `^`, `~`, `<<`, `>>`, the tests (`isnan`, `isinf`, `isfinite`, `signbit`), and the
composites model code writes (`lerp`, `addcmul`, `addcdiv`, `logaddexp`, `logit`, `xlogy`,
`hypot`, `square`, ...), each one `elementwise` entry whose scalar body is both the eager
semantics and the lowering. `nan_to_num` decomposes into `where`s.

torch's dtype rules are kept, and so are its refusals (bitwise ops on floats, `hypot`/`lerp`/
`logaddexp` on integers, `+`/`-` on bools), with torch's messages.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from xjit.ops.elementwise_ops import DTYPE_RULES, _promoted, elementwise
from xjit.ops.opdef import UNKNOWN, register
from xjit.ops.types import (
    DType,
    ShapeError,
    TensorMeta,
    bool_,
    broadcast_shapes,
    float32,
    float64,
    from_numpy_dtype,
    int32,
    int64,
)

# torch's names for dtypes in its kernels' "not implemented for" messages, and in its C++ ones
_KERNEL_NAME = {float32: "Float", float64: "Double", int64: "Long", int32: "Int", bool_: "Bool"}
_CPP_NAME = {float32: "float", float64: "double", int64: "long int", int32: "int", bool_: "bool"}

# square(bool) is int64 in torch (it is pow(x, 2)); signbit compares integers, never bools
DTYPE_RULES["bool_to_long"] = (
    lambda *a: (lambda d: int64 if d is bool_ else d)(_promoted(*a)),
    lambda d: d,
)
DTYPE_RULES["signbit"] = (
    lambda *a: (lambda d: int64 if d is bool_ else d)(_promoted(*a)),
    lambda d: bool_,
)


# addcmul/addcdiv: `value` takes no part in promotion (an integer result truncates it, as torch)
DTYPE_RULES["tensors"] = (
    lambda *a: _promoted(*(m for m in a if isinstance(m, TensorMeta))),
    lambda d: d,
)


def _value(o: Any, like: Any, value: Any) -> Any:
    return value if o.is_float(like) or isinstance(value, bool) else int(value)


def _m(a: np.ndarray) -> TensorMeta:
    return TensorMeta(a.shape, from_numpy_dtype(a.dtype))


def _refuse_kinds(
    kernel: str, kinds: tuple[int, ...], tensors_only: bool = False
) -> Callable[..., None]:
    """torch's NotImplementedError when the promoted dtype (of the tensors alone with
    `tensors_only`: addcmul's `value`) is of a category in `kinds` (0 bool, 1 integer, 2
    float)."""

    def check(*args: Any) -> None:
        metas = [a for a in args if isinstance(a, TensorMeta)]
        broadcast_shapes(*(m.shape for m in metas))  # shapes first, as torch checks them
        if any(m.dtype is None for m in metas):
            return
        operands = metas if tensors_only else args
        d = _promoted(*[a for a in operands if a is not UNKNOWN and not isinstance(a, str)])
        if d.kind in kinds:
            raise NotImplementedError(f"\"{kernel}\" not implemented for '{_KERNEL_NAME[d]}'")

    return check


# -- unary float functions ------------------------------------------------------------------------
for _name in ("tan", "asin", "acos", "atan", "sinh", "cosh", "log2", "log10", "exp2"):
    elementwise(
        f"aten::{_name}(Tensor self) -> Tensor",
        lambda o, x, _n=_name: getattr(o, _n)(x),
        dtype="float",
    )
elementwise(
    "aten::atan2(Tensor self, Tensor other) -> Tensor",
    lambda o, x, y: o.atan2(x, y),
    dtype="float",
)


def _hypot(o: Any, x: Any, y: Any) -> Any:
    # scaled by the larger magnitude (no overflow of x*x); an infinite side wins over NaN, as C
    ax, ay = o.abs(x), o.abs(y)
    m = o.maximum(ax, ay)
    safe = o.select(o.eq(m, 0), 1, m)
    qx, qy = o.div(ax, safe), o.div(ay, safe)
    r = o.mul(m, o.sqrt(o.add(o.mul(qx, qx), o.mul(qy, qy))))
    inf = o.logical_or(o.eq(ax, math.inf), o.eq(ay, math.inf))
    return o.select(inf, math.inf, r)


elementwise(
    "aten::hypot(Tensor self, Tensor other) -> Tensor",
    _hypot,
    check=_refuse_kinds("hypot_cpu", (0, 1)),
)
elementwise("aten::square(Tensor self) -> Tensor", lambda o, x: o.mul(x, x), dtype="bool_to_long")
for _schema in (
    "aten::true_divide.Tensor(Tensor self, Tensor other) -> Tensor",
    "aten::true_divide.Scalar(Tensor self, Scalar other) -> Tensor",
):
    elementwise(_schema, lambda o, x, y: o.div(x, y), dtype="float")

# -- sign-like and identity-like ------------------------------------------------------------------
elementwise(
    "aten::sgn(Tensor self) -> Tensor",
    lambda o, x: o.select(o.gt(x, 0), 1, o.select(o.lt(x, 0), -1, 0)),
)
elementwise(
    "aten::signbit(Tensor self) -> Tensor",
    # copysign sees the sign of -0.0 and of a negative NaN, as torch's signbit
    lambda o, x: o.lt(o.copysign(1, x), 0) if o.is_float(x) else o.lt(x, 0),
    dtype="signbit",
)


def _positive_shape(x: TensorMeta) -> TensorMeta:
    if x.dtype is bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return x


register(  # torch returns `self` itself (an alias: an update through it shows in both)
    "aten::positive(Tensor self) -> Tensor",
    _positive_shape,
    eager=lambda a: (_positive_shape(_m(a)), a)[1],
    decompose=lambda torch, x: x,
)
elementwise(
    "aten::negative(Tensor self) -> Tensor",
    lambda o, x: o.neg(x),
    no_bool_operand=(
        "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
        "invert a mask, use the `~` or `logical_not()` operator instead."
    ),
)
elementwise(
    "aten::absolute(Tensor self) -> Tensor",
    lambda o, x: o.abs(x),
    no_bool="\"abs_cpu\" not implemented for 'Bool'",
)

# -- floating-point tests: bool results; integers are never NaN or infinite ---------------------
elementwise("aten::isnan(Tensor self) -> Tensor", lambda o, x: o.ne(x, x), dtype="compare")
elementwise(
    "aten::isinf(Tensor self) -> Tensor",
    lambda o, x: o.eq(o.abs(x), math.inf) if o.is_float(x) else o.ne(x, x),
    dtype="compare",
)
elementwise(
    "aten::isfinite(Tensor self) -> Tensor",
    lambda o, x: o.lt(o.abs(x), math.inf) if o.is_float(x) else o.eq(x, x),
    dtype="compare",
)

# -- bitwise ops and shifts: integers and bools only ----------------------------------------------
for _op, _schemas in (
    (
        "and",
        (
            "aten::bitwise_and.Tensor(Tensor self, Tensor other) -> Tensor",
            "aten::bitwise_and.Scalar(Tensor self, Scalar other) -> Tensor",
            "aten::bitwise_and.Scalar_Tensor(Scalar self, Tensor other) -> Tensor",
        ),
    ),
    (
        "or",
        (
            "aten::bitwise_or.Tensor(Tensor self, Tensor other) -> Tensor",
            "aten::bitwise_or.Scalar(Tensor self, Scalar other) -> Tensor",
            "aten::bitwise_or.Scalar_Tensor(Scalar self, Tensor other) -> Tensor",
        ),
    ),
    (
        "xor",
        (
            "aten::bitwise_xor.Tensor(Tensor self, Tensor other) -> Tensor",
            "aten::bitwise_xor.Scalar(Tensor self, Scalar other) -> Tensor",
            "aten::bitwise_xor.Scalar_Tensor(Scalar self, Tensor other) -> Tensor",
        ),
    ),
):
    for _schema in _schemas:
        elementwise(
            _schema,
            lambda o, x, y, _n=f"bitwise_{_op}": getattr(o, _n)(x, y),
            check=_refuse_kinds(f"bitwise_{_op}_cpu", (2,)),
        )
elementwise(
    "aten::bitwise_not(Tensor self) -> Tensor",
    lambda o, x: o.bitwise_not(x),
    check=_refuse_kinds("bitwise_not_cpu", (2,)),
)
for _dir, _schemas in (
    (
        "left",
        (
            "aten::bitwise_left_shift.Tensor(Tensor self, Tensor other) -> Tensor",
            "aten::bitwise_left_shift.Tensor_Scalar(Tensor self, Scalar other) -> Tensor",
            "aten::bitwise_left_shift.Scalar_Tensor(Scalar self, Tensor other) -> Tensor",
        ),
    ),
    (
        "right",
        (
            "aten::bitwise_right_shift.Tensor(Tensor self, Tensor other) -> Tensor",
            "aten::bitwise_right_shift.Tensor_Scalar(Tensor self, Scalar other) -> Tensor",
            "aten::bitwise_right_shift.Scalar_Tensor(Scalar self, Tensor other) -> Tensor",
        ),
    ),
):
    for _schema in _schemas:
        elementwise(
            _schema,
            lambda o, x, y, _d=_dir: o.shl(x, y) if _d == "left" else o.shr(x, y),
            check=_refuse_kinds("lshift_cpu" if _dir == "left" else "rshift_cpu", (0, 2)),
        )


# -- composites ----------------------------------------------------------------------------------
def _lerp(o: Any, x: Any, end: Any, w: Any) -> Any:
    # torch's two-sided formula: exact at both ends (w = 0 gives x, w = 1 gives end)
    d = o.sub(end, x)
    return o.select(o.lt(o.abs(w), 0.5), o.add(x, o.mul(w, d)), o.sub(end, o.mul(d, o.sub(1, w))))


def _lerp_check(x: Any, end: Any, weight: Any) -> None:
    if not isinstance(x, TensorMeta) or x.dtype is None:
        return
    if not x.dtype.is_floating_point:
        raise NotImplementedError(
            f"\"lerp_kernel_scalar\" not implemented for '{_KERNEL_NAME[x.dtype]}'"
        )
    for name, t in (("end", end), ("weight", weight)):
        if isinstance(t, TensorMeta) and t.dtype is not None and t.dtype != x.dtype:
            raise RuntimeError(
                f"expected dtype {_CPP_NAME[x.dtype]} for `{name}` but got dtype "
                f"{_CPP_NAME[t.dtype]}"
            )


elementwise(
    "aten::lerp.Scalar(Tensor self, Tensor end, Scalar weight) -> Tensor",
    _lerp,
    check=_lerp_check,
)
elementwise(
    "aten::lerp.Tensor(Tensor self, Tensor end, Tensor weight) -> Tensor",
    _lerp,
    check=_lerp_check,
)
elementwise(
    "aten::addcmul(Tensor self, Tensor tensor1, Tensor tensor2, *, Scalar value=1) -> Tensor",
    lambda o, x, a, b, value=1: o.add(x, o.mul(o.mul(a, b), _value(o, x, value))),
    dtype="tensors",
    check=_refuse_kinds("addcmul_cpu_out", (0,), tensors_only=True),
)

_ADDCDIV_INT = (
    "Integer division with addcdiv is no longer supported, and in a future  release addcdiv "
    "will perform a true division of tensor1 and tensor2. The historic addcdiv behavior can be "
    "implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for "
    "integer inputs and as (input + value * tensor1 / tensor2) for float inputs. The future "
    "addcdiv behavior is just the latter implementation: (input + value * tensor1 / tensor2), "
    "for all dtypes."
)


def _addcdiv_check(x: Any, a: Any, b: Any, value: Any = 1) -> None:
    if all(isinstance(t, TensorMeta) and t.dtype is not None for t in (a, b)) and not (
        a.dtype.is_floating_point or b.dtype.is_floating_point
    ):
        raise RuntimeError(_ADDCDIV_INT)


elementwise(
    "aten::addcdiv(Tensor self, Tensor tensor1, Tensor tensor2, *, Scalar value=1) -> Tensor",
    lambda o, x, a, b, value=1: o.add(x, o.mul(o.div(a, b), value)),
    dtype="tensors",
    check=_addcdiv_check,
)


def _logaddexp(o: Any, x: Any, y: Any) -> Any:
    # max + log1p(exp(-|x - y|)); equal arguments (both infinities among them) give x + log 2
    m = o.maximum(x, y)
    r = o.add(m, o.log1p(o.exp(o.neg(o.abs(o.sub(x, y))))))
    return o.select(o.eq(x, y), o.add(x, math.log(2.0)), r)


elementwise(
    "aten::logaddexp(Tensor self, Tensor other) -> Tensor",
    _logaddexp,
    check=_refuse_kinds("logaddexp_cpu", (0, 1)),
)


def _logit(o: Any, x: Any, eps: Any = None) -> Any:
    # torch's x < eps ? eps : (x > 1 - eps ? 1 - eps : x): eps > 0.5 is not a clamp to 1 - eps
    z = x if eps is None else o.select(o.lt(x, eps), eps, o.select(o.gt(x, 1 - eps), 1 - eps, x))
    return o.log(o.div(z, o.sub(1, z)))


elementwise("aten::logit(Tensor self, float? eps=None) -> Tensor", _logit, dtype="float")


def _xlogy(o: Any, x: Any, y: Any) -> Any:
    # 0 where x == 0 (even for y == 0), unless y is NaN
    r = o.select(o.eq(x, 0), 0, o.mul(x, o.log(y)))
    return o.select(o.ne(y, y), y, r)


for _schema in (
    "aten::xlogy.Tensor(Tensor self, Tensor other) -> Tensor",
    "aten::xlogy.Scalar_Other(Tensor self, Scalar other) -> Tensor",
    "aten::xlogy.Scalar_Self(Scalar self, Tensor other) -> Tensor",
):
    elementwise(_schema, _xlogy, dtype="float")


# -- nan_to_num: where over the tests above ------------------------------------------------------
def _finfo_max(dt: DType) -> float:
    return float(np.finfo(dt.np).max)


def _nan_to_num_values(dt: DType, nan: Any, posinf: Any, neginf: Any) -> tuple[float, ...]:
    top = _finfo_max(dt)
    return (
        0.0 if nan is None else nan,
        top if posinf is None else posinf,
        -top if neginf is None else neginf,
    )


def _nan_to_num_eager(
    a: np.ndarray, nan: Any = None, posinf: Any = None, neginf: Any = None
) -> Any:
    if a.dtype.kind != "f":
        return a.copy()
    n, p, m = _nan_to_num_values(from_numpy_dtype(a.dtype), nan, posinf, neginf)
    return np.nan_to_num(a, nan=n, posinf=p, neginf=m)


def _nan_to_num_decompose(
    torch: Any, x: Any, nan: Any = None, posinf: Any = None, neginf: Any = None
) -> Any:
    if not x.dtype.is_floating_point:
        return torch.clone(x)
    n, p, m = _nan_to_num_values(x.dtype, nan, posinf, neginf)
    x = torch.where(torch.isnan(x), n, x)
    x = torch.where(torch.eq(x, math.inf), p, x)
    return torch.where(torch.eq(x, -math.inf), m, x)


register(
    "aten::nan_to_num(Tensor self, float? nan=None, float? posinf=None, float? neginf=None) -> Tensor",
    lambda x, nan=None, posinf=None, neginf=None: x,
    eager=_nan_to_num_eager,
    decompose=_nan_to_num_decompose,
)


# -- products: outer, dot, baddbmm ------------------------------------------------------------
def _outer_shape(x: TensorMeta, v: TensorMeta) -> TensorMeta:
    for t in (x, v):
        if t.shape is not None and len(t.shape) != 1:
            raise ShapeError(f"outer: expected 1D tensors, but got {len(t.shape)}D")
    dt = _promoted(x, v)
    return TensorMeta(None if x.shape is None or v.shape is None else x.shape + v.shape, dt)


register(
    "aten::outer(Tensor self, Tensor vec2) -> Tensor",
    _outer_shape,
    eager=lambda a, b: (_outer_shape(_m(a), _m(b)), np.multiply.outer(a, b))[1].astype(
        _outer_shape(_m(a), _m(b)).dtype.np
    ),
    decompose=lambda torch, a, b: torch.mul(torch.unsqueeze(a, 1), torch.unsqueeze(b, 0)),
    overload_of=("outer", "ger"),
)


def _dot_shape(x: TensorMeta, y: TensorMeta) -> TensorMeta:
    for t in (x, y):
        if t.shape is not None and len(t.shape) != 1:
            raise ShapeError(
                f"1D tensors expected, but got {len(x.shape or ())}D and "
                f"{len(y.shape or ())}D tensors"
            )
    if x.dtype is not None and y.dtype is not None and x.dtype != y.dtype:
        raise ShapeError(
            "dot : expected both vectors to have same dtype, but found "
            f"{_KERNEL_NAME[x.dtype]} and {_KERNEL_NAME[y.dtype]}"
        )
    if x.shape and y.shape and None not in (x.shape[0], y.shape[0]) and x.shape != y.shape:
        raise ShapeError(
            f"inconsistent tensor size, expected tensor [{x.shape[0]}] and src [{y.shape[0]}] to have the same "
            f"number of elements, but got {x.shape[0]} and {y.shape[0]} elements respectively"
        )
    if x.dtype is bool_:
        raise NotImplementedError("\"dot\" not implemented for 'Bool'")
    return TensorMeta((), x.dtype)


def _dot_eager(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    m = _dot_shape(_m(a), _m(b))
    return np.asarray(np.dot(a, b), m.dtype.np)


register(
    "aten::dot(Tensor self, Tensor tensor) -> Tensor",
    _dot_shape,
    eager=_dot_eager,
    decompose=lambda torch, a, b: torch.sum(torch.mul(a, b), dtype=a.dtype),
)


def _baddbmm_shape(
    x: TensorMeta, b1: TensorMeta, b2: TensorMeta, beta: Any = 1, alpha: Any = 1
) -> TensorMeta:
    for t in (b1, b2):
        if t.shape is not None and len(t.shape) != 3:
            raise ShapeError("batch1 must be a 3D tensor")
    if b1.shape is None or b2.shape is None:
        return TensorMeta(None, x.dtype)
    if None not in (b1.shape[2], b2.shape[1]) and b1.shape[2] != b2.shape[1]:
        raise ShapeError(
            f"Expected size for first two dimensions of batch2 tensor to be: "
            f"[{b1.shape[0]}, {b1.shape[2]}] but got: [{b2.shape[0]}, {b2.shape[1]}]."
        )
    out = (b1.shape[0], b1.shape[1], b2.shape[2])
    if x.shape is not None and broadcast_shapes(x.shape, out) != out:
        raise ShapeError(f"expand: the shape {list(x.shape)} does not broadcast to {list(out)}")
    for t in (b1, b2):
        if None not in (t.dtype, x.dtype) and t.dtype != x.dtype:
            raise ShapeError("expected scalar type of all operands to be the same")
    return TensorMeta(out, x.dtype)


def _baddbmm_eager(
    a: np.ndarray, b1: np.ndarray, b2: np.ndarray, beta: Any = 1, alpha: Any = 1
) -> np.ndarray:
    m = _baddbmm_shape(_m(a), _m(b1), _m(b2), beta, alpha)
    prod = np.matmul(b1, b2) * alpha
    return np.asarray(prod if beta == 0 else prod + a * beta, m.dtype.np)


def _baddbmm_decompose(torch: Any, x: Any, b1: Any, b2: Any, beta: Any = 1, alpha: Any = 1) -> Any:
    prod = torch.bmm(b1, b2)
    if alpha != 1:
        prod = torch.mul(prod, alpha)
    if beta == 0:  # torch ignores self then (NaN in it included)
        return prod
    return torch.add(prod, x if beta == 1 else torch.mul(x, beta))


register(
    "aten::baddbmm(Tensor self, Tensor batch1, Tensor batch2, *, Scalar beta=1, Scalar alpha=1) -> Tensor",
    _baddbmm_shape,
    eager=_baddbmm_eager,
    decompose=_baddbmm_decompose,
)
