"""Activation functions of torch.nn that are elementwise over the existing scalar vocabulary
(`selu`, `celu`, `hardswish`, `hardsigmoid`, `softsign`, `log_sigmoid`, `tanhshrink`,
`threshold`, `hardshrink`, `softshrink`): one registry entry each, so eager, trace, script and
the lowering all come from the body below. torch's formulas, written to avoid overflow where
torch's kernels do (log_sigmoid through log1p(exp(-|x|)))."""

from __future__ import annotations

from typing import Any

import numpy as np

from xjit.ops.elementwise_ops import elementwise
from xjit.ops.opdef import UNKNOWN, register
from xjit.ops.types import ShapeError, TensorMeta, from_numpy_dtype, normalize_dim

# torch.nn.SELU's constants (Klambauer et al. 2017), as aten::selu hard-codes them
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _relu6(o: Any, x: Any) -> Any:
    return o.minimum(o.maximum(x, 0), 6)


def _celu(o: Any, x: Any, alpha: Any = 1.0) -> Any:
    # max(0, x) + min(0, α (e^(x/α) − 1)); the select keeps e^(x/α) out of positive x's result
    return o.select(o.gt(x, 0), x, o.mul(o.expm1(o.div(x, alpha)), alpha))


elementwise(
    "aten::selu(Tensor self) -> Tensor",
    lambda o, x: o.mul(
        o.select(o.gt(x, 0), x, o.mul(o.expm1(x), _SELU_ALPHA)),
        _SELU_SCALE,
    ),
    dtype="float_input",
    py="torch.nn.functional.selu",
)


def _celu_check(x: Any, alpha: Any = 1.0) -> None:
    if isinstance(alpha, (int, float)) and alpha == 0:
        raise ZeroDivisionError("alpha cannot be 0 for CELU")


def _shrink_check(x: Any, lambd: Any = 0.5) -> None:
    if isinstance(lambd, (int, float)) and not lambd >= 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")


elementwise(
    "aten::celu(Tensor self, Scalar alpha=1.0) -> Tensor",
    _celu,
    check=_celu_check,
    dtype="float_input",
    py="torch.nn.functional.celu",
)
elementwise(
    "aten::hardswish(Tensor self) -> Tensor",
    lambda o, x: o.div(o.mul(x, _relu6(o, o.add(x, 3))), 6),
    dtype="float_input",
    py="torch.nn.functional.hardswish",
)
elementwise(
    "aten::hardsigmoid(Tensor self) -> Tensor",
    lambda o, x: o.div(_relu6(o, o.add(x, 3)), 6),
    dtype="float_input",
    py="torch.nn.functional.hardsigmoid",
)
elementwise(
    "aten::softsign(Tensor self) -> Tensor",
    lambda o, x: o.div(x, o.add(o.abs(x), 1)),
    dtype="float",
    no_bool_operand="\"abs_cpu\" not implemented for 'Bool'",
    py="torch.nn.functional.softsign",
)
elementwise(
    "aten::log_sigmoid(Tensor self) -> Tensor",
    # log σ(x) = min(x, 0) − log1p(e^−|x|): no overflow for large |x|
    lambda o, x: o.sub(o.minimum(x, 0), o.log1p(o.exp(o.neg(o.abs(x))))),
    dtype="float_input",
    py="torch.nn.functional.logsigmoid",
)
elementwise(
    "aten::tanhshrink(Tensor self) -> Tensor",
    lambda o, x: o.sub(x, o.tanh(x)),
    dtype="float",
    no_bool_operand="Subtraction, the `-` operator, with a bool tensor is not supported.",
    py="torch.nn.functional.tanhshrink",
)
elementwise(
    "aten::threshold(Tensor self, Scalar threshold, Scalar value) -> Tensor",
    # torch: x <= threshold ? value : x (a NaN x or threshold keeps x)
    lambda o, x, threshold, value: o.select(o.le(x, threshold), value, x),
    dtype="self",  # threshold(int tensor, 0.5, 1.0) stays an int tensor in torch
    no_bool="\"threshold_cpu\" not implemented for 'Bool'",
    py="torch.nn.functional.threshold",
)
elementwise(
    "aten::hardshrink(Tensor self, Scalar lambd=0.5) -> Tensor",
    # torch zeroes |x| <= lambd: NaN is kept
    lambda o, x, lambd=0.5: o.select(o.le(o.abs(x), lambd), 0, x),
    dtype="float_input",
    py="torch.nn.functional.hardshrink",
)
elementwise(
    "aten::softshrink(Tensor self, Scalar lambd=0.5) -> Tensor",
    # 0 where |x| <= lambd, else x -+ lambd: NaN stays NaN, as in torch
    lambda o, x, lambd=0.5: o.select(
        o.le(o.abs(x), lambd), 0, o.select(o.gt(x, 0), o.sub(x, lambd), o.add(x, lambd))
    ),
    dtype="float_input",
    check=_shrink_check,
    py="torch.nn.functional.softshrink",
)


# -- glu / prelu: not elementwise over one tensor, so entries with their own shape rules ----------
def _glu_shape(x: TensorMeta, dim: Any = -1) -> TensorMeta:
    if x.shape is None or dim is UNKNOWN:
        return TensorMeta(None, x.dtype)
    if x.dtype is not None and not x.dtype.is_floating_point:
        raise ShapeError(f"\"glu\" not implemented for '{x.dtype.name.capitalize()}'")
    if len(x.shape) == 0:
        raise ShapeError("glu does not support scalars because halving size must be even")
    d = normalize_dim(dim, len(x.shape))
    n = x.shape[d]
    if n is not None and n % 2:
        raise ShapeError(f"Halving dimension must be even, but dimension {d} is size {n}")
    half = None if n is None else n // 2
    return TensorMeta(x.shape[:d] + (half,) + x.shape[d + 1 :], x.dtype)


def _glu_eager(a: np.ndarray, dim: int = -1) -> np.ndarray:
    m = _glu_shape(TensorMeta(a.shape, from_numpy_dtype(a.dtype)), dim)
    first, second = np.split(a, 2, axis=normalize_dim(dim, a.ndim))
    with np.errstate(over="ignore"):
        return np.asarray(first / (1 + np.exp(-second)), m.dtype.np)


def _glu_decompose(torch: Any, x: Any, dim: int = -1) -> Any:
    d = normalize_dim(dim, len(x.shape))
    half = x.shape[d] // 2
    a = torch.slice(x, d, 0, half, 1)
    b = torch.slice(x, d, half, 2 * half, 1)
    return torch.mul(a, torch.sigmoid(b))


register(
    "aten::glu(Tensor self, int dim=-1) -> Tensor",
    _glu_shape,
    eager=_glu_eager,
    decompose=_glu_decompose,
    py="torch.nn.functional.glu",
)


def _prelu_weight_shape(x: TensorMeta, w: TensorMeta) -> tuple[int, ...]:
    """The weight as it broadcasts against `x`: one value, or one per channel (dim 1)."""
    n = 1 if w.shape is None else int(np.prod(w.shape, dtype=np.int64))
    if n == 1 or x.shape is None or len(x.shape) < 2:
        return (n,) if x.shape is None or len(x.shape) else ()
    if x.shape[1] is not None and x.shape[1] != n:
        raise ShapeError(
            f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
            f"{n} and channel size = {x.shape[1]}."
        )
    return (n,) + (1,) * (len(x.shape) - 2)


def _prelu_shape(x: TensorMeta, w: TensorMeta) -> TensorMeta:
    if x.shape is None:
        return TensorMeta(None, x.dtype)
    _prelu_weight_shape(x, w)
    return TensorMeta(x.shape, x.dtype)


def _prelu_eager(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    m = _prelu_shape(TensorMeta(a.shape, from_numpy_dtype(a.dtype)), _meta_np(w))
    wb = w.reshape(_prelu_weight_shape(TensorMeta(a.shape, m.dtype), _meta_np(w)))
    return np.asarray(np.where(a > 0, a, a * wb), m.dtype.np)


def _meta_np(a: np.ndarray) -> TensorMeta:
    return TensorMeta(a.shape, from_numpy_dtype(a.dtype))


def _prelu_decompose(torch: Any, x: Any, w: Any) -> Any:
    shape = _prelu_weight_shape(
        TensorMeta(tuple(x.shape), x.dtype), TensorMeta(tuple(w.shape), w.dtype)
    )
    wb = torch.reshape(w, list(shape))
    return torch.where(torch.gt(x, 0), x, torch.mul(x, wb))


register(
    "aten::prelu(Tensor self, Tensor weight) -> Tensor",
    _prelu_shape,
    eager=_prelu_eager,
    decompose=_prelu_decompose,
    py="torch.nn.functional.prelu",
)
