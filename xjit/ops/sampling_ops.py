"""Random tensors shaped like another: `bernoulli` (draws 0/1 with the probabilities in `self`,
or one `p`) and `randint_like`. Eager only, as `randint`/`multinomial`: compiled code has no
random number generator (the entries' lowering refuses; `impure` keeps them out of constant
folding). The stream is xjit's (`xjit.manual_seed`): torch's distribution, not its numbers."""

from __future__ import annotations

from typing import Any

import numpy as np

from xjit.ops.opdef import UNKNOWN, register
from xjit.ops.rng import generator
from xjit.ops.types import (
    ShapeError,
    TensorMeta,
    bool_,
    dtype_arg,
    float32,
    float64,
    from_numpy_dtype,
    int32,
    int64,
)

_KERNEL_NAME = {float32: "Float", float64: "Double", int64: "Long", int32: "Int", bool_: "Bool"}


def _no_rng(builder: Any, *args: Any) -> Any:
    raise NotImplementedError(
        "bernoulli/randint_like cannot be compiled: compiled code has no random number "
        "generator (draw the random tensor eagerly, outside the traced or scripted code, and "
        "pass it in)"
    )


_RANDOM = {"lower": _no_rng, "attrs": {"impure": True}}


# -- bernoulli -------------------------------------------------------------------------------------


def _bernoulli_shape(x: TensorMeta, p: Any = None) -> TensorMeta:
    if p is None and x.dtype is not None and not x.dtype.is_floating_point:
        raise NotImplementedError(
            f"\"bernoulli_tensor_cpu_p_\" not implemented for '{_KERNEL_NAME[x.dtype]}'"
        )
    return x


def _check_p(p: Any) -> None:
    if np.any(~((p >= 0) & (p <= 1))):  # NaN fails too
        raise RuntimeError("bernoulli: expected all probabilities p to be in [0, 1]")


def _bernoulli_eager(a: np.ndarray, p: Any = None) -> np.ndarray:
    _bernoulli_shape(TensorMeta(a.shape, _dtype(a)), p)
    prob = np.broadcast_to(a if p is None else p, a.shape).astype(np.float64)
    _check_p(prob)
    return (generator().random(a.shape) < prob).astype(a.dtype)


def _dtype(a: np.ndarray) -> Any:
    return from_numpy_dtype(a.dtype)


register(
    "aten::bernoulli(Tensor self) -> Tensor",
    _bernoulli_shape,
    eager=_bernoulli_eager,
    **_RANDOM,
)
register(
    "aten::bernoulli.p(Tensor self, float p) -> Tensor",
    _bernoulli_shape,
    eager=_bernoulli_eager,
    **_RANDOM,
)


# -- randint_like ----------------------------------------------------------------------------------


def _randint_like_shape(x: TensorMeta, low: Any, high: Any = None, dtype: Any = None) -> TensorMeta:
    lo, hi = (0, low) if high is None else (low, high)
    if UNKNOWN not in (lo, hi) and lo >= hi:
        raise ShapeError(
            f"random_ expects 'from' to be less than 'to', but got from={lo} >= to={hi}"
        )
    return TensorMeta(x.shape, dtype_arg(dtype) or x.dtype)


def _randint_like_eager(a: np.ndarray, low: int, high: Any = None, dtype: Any = None) -> np.ndarray:
    m = _randint_like_shape(TensorMeta(a.shape, _dtype(a)), low, high, dtype)
    lo, hi = (0, low) if high is None else (low, high)
    return generator().integers(lo, hi, a.shape).astype(m.dtype.np)


register(
    "aten::randint_like(Tensor self, int high, *, ScalarType? dtype=None) -> Tensor",
    lambda x, high, dtype=None: _randint_like_shape(x, high, None, dtype),
    eager=lambda a, high, dtype=None: _randint_like_eager(a, high, None, dtype),
    **_RANDOM,
)
register(
    "aten::randint_like.low_dtype(Tensor self, int low, int high, *, ScalarType? dtype=None) -> Tensor",
    _randint_like_shape,
    eager=_randint_like_eager,
    **_RANDOM,
)
