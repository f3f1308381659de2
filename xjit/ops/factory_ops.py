"""Issue 12's factories: `linspace`, `logspace`, `eye` (decomposed into `arange` and
elementwise ops, so they compile), and the random `randint`, `randperm`, `normal` (eager only:
compiled code has no random number generator, so lowering them fails loudly).

`linspace` follows torch's CPU kernel: the step is computed in the result dtype (double for
integer results, then truncated), the first half counts up from `start` and the second half
down from `end`, so both ends are exact.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xjit.ops.opdef import UNKNOWN, register
from xjit.ops.rng import generator
from xjit.ops.types import (
    DEFAULT_FLOAT,
    DType,
    ShapeError,
    TensorMeta,
    broadcast_shapes,
    dtype_arg,
    float64,
    int64,
)


def _steps_shape(steps: Any, dtype: Any) -> TensorMeta:
    dt = dtype_arg(dtype) or DEFAULT_FLOAT
    if steps is UNKNOWN:
        return TensorMeta((None,), dt)
    if steps < 0:
        raise ShapeError("number of steps must be non-negative")
    return TensorMeta((steps,), dt)


def _compute_dtype(dt: DType) -> DType:
    return dt if dt.is_floating_point else float64


def _step(start: Any, end: Any, steps: int, cdt: DType) -> float:
    s, e = cdt.np.type(start), cdt.np.type(end)
    return float((e - s) / cdt.np.type(steps - 1))


def _linspace_eager(start: Any, end: Any, steps: int, dtype: Any = None) -> np.ndarray:
    dt = _steps_shape(steps, dtype).dtype
    cdt = _compute_dtype(dt)
    if steps <= 1:
        return np.full(steps, start, cdt.np).astype(dt.np)
    step = cdt.np.type(_step(start, end, steps, cdt))
    idx = np.arange(steps, dtype=cdt.np)
    up = cdt.np.type(start) + step * idx
    down = cdt.np.type(end) - step * (cdt.np.type(steps - 1) - idx)
    return np.where(idx < steps // 2, up, down).astype(dt.np)


def _linspace_decompose(torch: Any, start: Any, end: Any, steps: int, dtype: Any = None) -> Any:
    dt = _steps_shape(steps, dtype).dtype
    cdt = _compute_dtype(dt)
    if steps == 0:
        return None
    if steps == 1:
        return torch.full([1], start, dtype=dt)
    step = _step(start, end, steps, cdt)
    idx = torch.arange(steps, dtype=cdt)
    up = torch.add(torch.mul(idx, step), float(start))
    down = torch.rsub(torch.mul(torch.rsub(idx, steps - 1), step), float(end))
    out = torch.where(torch.lt(idx, steps // 2), up, down)
    return out if cdt == dt else torch.to(out, dt)


register(
    "aten::linspace(Scalar start, Scalar end, int steps, *, ScalarType? dtype=None) -> Tensor",
    lambda start, end, steps, dtype=None: _steps_shape(steps, dtype),
    eager=_linspace_eager,
    decompose=_linspace_decompose,
)


def _logspace_eager(
    start: Any, end: Any, steps: int, base: float = 10.0, dtype: Any = None
) -> np.ndarray:
    dt = _steps_shape(steps, dtype).dtype
    cdt = _compute_dtype(dt)
    lin = _linspace_eager(start, end, steps, cdt)
    with np.errstate(all="ignore"):
        return np.power(cdt.np.type(base), lin).astype(dt.np)


def _logspace_decompose(
    torch: Any, start: Any, end: Any, steps: int, base: float = 10.0, dtype: Any = None
) -> Any:
    dt = _steps_shape(steps, dtype).dtype
    cdt = _compute_dtype(dt)
    lin = _linspace_decompose(torch, start, end, steps, cdt)
    if lin is None:
        return None
    out = torch.pow(float(base), lin)
    return out if cdt == dt else torch.to(out, dt)


register(
    "aten::logspace(Scalar start, Scalar end, int steps, float base=10.0, *, ScalarType? dtype=None) -> Tensor",
    lambda start, end, steps, base=10.0, dtype=None: _steps_shape(steps, dtype),
    eager=_logspace_eager,
    decompose=_logspace_decompose,
)


def _eye_shape(n: Any, m: Any = None, dtype: Any = None) -> TensorMeta:
    dt = dtype_arg(dtype) or DEFAULT_FLOAT
    m = n if m is None else m
    for v, what in ((n, "n"), (m, "m")):
        if v is not UNKNOWN and v < 0:
            raise ShapeError(f"{what} must be greater or equal to 0, got {v}")
    return TensorMeta(tuple(None if v is UNKNOWN else v for v in (n, m)), dt)


def _eye_decompose(torch: Any, n: int, m: Any = None, dtype: Any = None) -> Any:
    dt = _eye_shape(n, m, dtype).dtype
    m = n if m is None else m
    if n == 0 or m == 0:
        return None
    on = torch.eq(torch.unsqueeze(torch.arange(n), 1), torch.arange(m))
    return on if dt.kind == 0 else torch.to(on, dt)


register(
    "aten::eye(int n, *, ScalarType? dtype=None) -> Tensor",
    lambda n, dtype=None: _eye_shape(n, None, dtype),
    eager=lambda n, dtype=None: np.eye(n, dtype=_eye_shape(n, None, dtype).dtype.np),
    decompose=lambda torch, n, dtype=None: _eye_decompose(torch, n, None, dtype),
)
register(
    "aten::eye.m(int n, int m, *, ScalarType? dtype=None) -> Tensor",
    _eye_shape,
    eager=lambda n, m, dtype=None: np.eye(n, m, dtype=_eye_shape(n, m, dtype).dtype.np),
    decompose=_eye_decompose,
)


# -- random: eager only ---------------------------------------------------------------------------


def _no_rng(builder: Any, *args: Any) -> Any:
    raise NotImplementedError(
        "randint/randperm/normal cannot be compiled: compiled code has no random number "
        "generator (draw the random tensor eagerly, outside the traced or scripted code, and "
        "pass it in)"
    )


def _size(size: Any) -> tuple[int | None, ...] | None:
    if size is UNKNOWN:
        return None
    return tuple(None if d is UNKNOWN else d for d in size)


def _randint_shape(low: Any, high: Any, size: Any, dtype: Any = None) -> TensorMeta:
    if low is not UNKNOWN and high is not UNKNOWN and low >= high:
        raise ShapeError(
            f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}"
        )
    return TensorMeta(_size(size), dtype_arg(dtype) or int64)


def _randint_eager(low: int, high: int, size: list[int], dtype: Any = None) -> np.ndarray:
    m = _randint_shape(low, high, size, dtype)
    return generator().integers(low, high, m.shape).astype(m.dtype.np)


register(
    "aten::randint.low(int low, int high, int[] size, *, ScalarType? dtype=None) -> Tensor",
    _randint_shape,
    eager=_randint_eager,
    lower=_no_rng,
    attrs={"impure": True},
    py="torch.randint",
    overload_of=("randint",),
)
register(
    "aten::randint(int high, int[] size, *, ScalarType? dtype=None) -> Tensor",
    lambda high, size, dtype=None: _randint_shape(0, high, size, dtype),
    eager=lambda high, size, dtype=None: _randint_eager(0, high, size, dtype),
    lower=_no_rng,
    attrs={"impure": True},
)


def _randperm_shape(n: Any, dtype: Any = None) -> TensorMeta:
    if n is not UNKNOWN and n < 0:
        raise ShapeError(f"n must be non-negative, got{n}")
    return TensorMeta((None if n is UNKNOWN else n,), dtype_arg(dtype) or int64)


register(
    "aten::randperm(int n, *, ScalarType? dtype=None) -> Tensor",
    _randperm_shape,
    eager=lambda n, dtype=None: (
        generator().permutation(n).astype(_randperm_shape(n, dtype).dtype.np)
    ),
    lower=_no_rng,
    attrs={"impure": True},
)


def _std_check(std: Any) -> None:
    if isinstance(std, (int, float)) and std < 0:
        raise ShapeError(f"normal expects std >= 0.0, but found std {std}")


def _normal_ff_shape(mean: Any, std: Any, size: Any, dtype: Any = None) -> TensorMeta:
    _std_check(std)
    return TensorMeta(_size(size), dtype_arg(dtype) or DEFAULT_FLOAT)


def _normal_ff_eager(mean: float, std: float, size: list[int], dtype: Any = None) -> np.ndarray:
    m = _normal_ff_shape(mean, std, size, dtype)
    return generator().normal(mean, std, m.shape).astype(m.dtype.np)


def _normal_tensor_shape(mean: Any, std: Any) -> TensorMeta:
    if isinstance(std, TensorMeta) and isinstance(mean, TensorMeta):
        return TensorMeta(broadcast_shapes(mean.shape, std.shape), mean.dtype)
    if not isinstance(std, TensorMeta):
        _std_check(std)
    t = mean if isinstance(mean, TensorMeta) else std
    if t.dtype is not None and not t.dtype.is_floating_point:
        raise ShapeError(f"\"normal_kernel_cpu\" not implemented for '{t.dtype.name}'")
    return TensorMeta(t.shape, t.dtype)


def _normal_tensor_eager(mean: Any, std: Any) -> np.ndarray:
    if isinstance(std, np.ndarray) and np.any(std < 0):
        raise RuntimeError("normal expects all elements of std >= 0.0")
    t = mean if isinstance(mean, np.ndarray) else std
    shape = np.broadcast_shapes(np.shape(mean), np.shape(std))
    return generator().normal(mean, std, shape).astype(t.dtype)


register(
    "aten::normal.float_float(float mean, float std, int[] size, *, ScalarType? dtype=None) -> Tensor",
    _normal_ff_shape,
    eager=_normal_ff_eager,
    lower=_no_rng,
    attrs={"impure": True},
)
for _schema in (
    "aten::normal.Tensor_Tensor(Tensor mean, Tensor std) -> Tensor",
    "aten::normal.Tensor_float(Tensor mean, float std=1) -> Tensor",
    "aten::normal.float_Tensor(float mean, Tensor std) -> Tensor",
):
    register(
        _schema,
        _normal_tensor_shape,
        eager=_normal_tensor_eager,
        lower=_no_rng,
        attrs={"impure": True},
    )
