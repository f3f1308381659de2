"""Tensor creation as ops (`zeros`, `ones`, `full`, `*_like`, `arange`), so that `torch.zeros(3, 4)`
inside traced or scripted code is recorded as an op, not frozen into a constant.

`rand`/`randn` are ops too (eager only): the linalg stage has no random number generator, so
compiling code that calls them fails with a clear error rather than freezing one sample.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from xjit.ops.opdef import UNKNOWN, register
from xjit.ops.rng import generator
from xjit.ops.types import (
    DEFAULT_FLOAT,
    ShapeError,
    TensorMeta,
    bool_,
    dtype_arg,
    from_numpy_dtype,
    int64,
)


def _size(size: Any) -> tuple[int | None, ...] | None:
    if size is UNKNOWN:
        return None
    out = []
    for d in size:
        if d is UNKNOWN:
            out.append(None)
        elif not isinstance(d, int) or isinstance(d, bool) or d < 0:
            raise ShapeError(f"size must be a sequence of non-negative ints, got {list(size)}")
        else:
            out.append(d)
    return tuple(out)


def _scalar_dtype(v: Any) -> Any:
    if isinstance(v, bool):
        return bool_
    return int64 if isinstance(v, int) else DEFAULT_FLOAT


def _creation(name: str, value: Any) -> None:
    def shape(size: Any, dtype: Any = None) -> TensorMeta:
        return TensorMeta(_size(size), dtype_arg(dtype) or DEFAULT_FLOAT)

    def eager(size: list[int], dtype: Any = None) -> np.ndarray:
        m = shape(size, dtype)
        return np.full(m.shape, value, m.dtype.np)

    register(
        f"aten::{name}(int[] size, *, ScalarType? dtype=None) -> Tensor",
        shape,
        eager=eager,
        lower=lambda builder, size, dtype=None: builder.fill(value),
    )

    def like_shape(x: TensorMeta, dtype: Any = None) -> TensorMeta:
        return TensorMeta(x.shape, dtype_arg(dtype) or x.dtype)

    register(
        f"aten::{name}_like(Tensor self, *, ScalarType? dtype=None) -> Tensor",
        like_shape,
        eager=lambda a, dtype=None: np.full(a.shape, value, (dtype_arg(dtype) or _dt(a)).np),
        lower=lambda builder, x, dtype=None: builder.fill(
            value, [(x, d) for d in range(builder.rank(x))]
        ),
    )


def _dt(a: np.ndarray) -> Any:
    return from_numpy_dtype(a.dtype)


_creation("zeros", 0)
_creation("ones", 1)


def _full_shape(size: Any, fill_value: Any, dtype: Any = None) -> TensorMeta:
    dt = dtype_arg(dtype) or (
        _scalar_dtype(fill_value) if fill_value is not UNKNOWN else DEFAULT_FLOAT
    )
    return TensorMeta(_size(size), dt)


register(
    "aten::full(int[] size, Scalar fill_value, *, ScalarType? dtype=None) -> Tensor",
    _full_shape,
    eager=lambda size, v, dtype=None: np.full(size, v, _full_shape(size, v, dtype).dtype.np),
    lower=lambda builder, size, v, dtype=None: builder.fill(v),
)
register(
    "aten::full_like(Tensor self, Scalar fill_value, *, ScalarType? dtype=None) -> Tensor",
    lambda x, v, dtype=None: TensorMeta(x.shape, dtype_arg(dtype) or x.dtype),
    eager=lambda a, v, dtype=None: np.full(a.shape, v, (dtype_arg(dtype) or _dt(a)).np),
    lower=lambda builder, x, v, dtype=None: builder.fill(
        v, [(x, d) for d in range(builder.rank(x))]
    ),
)


def _arange_shape(start: Any, end: Any = None, step: Any = 1, dtype: Any = None) -> TensorMeta:
    vals = (start, end, step)
    dt = dtype_arg(dtype)
    if dt is None:
        known = [v for v in vals if v is not UNKNOWN]
        dt = DEFAULT_FLOAT if any(isinstance(v, float) for v in known) else int64
    if any(v is UNKNOWN for v in vals):
        return TensorMeta((None,), dt)
    if step == 0:
        raise ShapeError("arange: step must be nonzero")
    n = math.ceil((end - start) / step)
    if n < 0:
        raise ShapeError(
            f"arange: upper bound and lower bound inconsistent with step sign "
            f"(start={start}, end={end}, step={step})"
        )
    return TensorMeta((n,), dt)


def _arange_eager(start: Any, end: Any, step: Any = 1, dtype: Any = None) -> np.ndarray:
    m = _arange_shape(start, end, step, dtype)
    wide = np.float64 if m.dtype.is_floating_point else np.int64
    return (start + np.arange(m.shape[0], dtype=wide) * step).astype(m.dtype.np)


def _arange_lower(builder: Any, start: Any, end: Any, step: Any) -> Any:
    """arange as an index tensor; an end known only at run time (a tensor's size) is the
    result's size when start is 0 and step 1."""
    if isinstance(end, (int, float)):
        return builder.index_along(0, start, step)
    if (start, step) != (0, 1) or isinstance(start, bool) or isinstance(step, bool):
        raise NotImplementedError("arange with a run-time end needs start 0 and step 1")
    return builder.index_along(0, start, step, count=end)


register(
    "aten::arange(Scalar end, *, ScalarType? dtype=None) -> Tensor",
    lambda end, dtype=None: _arange_shape(0, end, 1, dtype),
    eager=lambda end, dtype=None: _arange_eager(0, end, 1, dtype),
    lower=lambda builder, end, dtype=None: _arange_lower(builder, 0, end, 1),
)
register(
    "aten::arange.start(Scalar start, Scalar end, *, ScalarType? dtype=None) -> Tensor",
    lambda start, end, dtype=None: _arange_shape(start, end, 1, dtype),
    eager=lambda start, end, dtype=None: _arange_eager(start, end, 1, dtype),
    lower=lambda builder, start, end, dtype=None: builder.index_along(0, start),
)
register(
    "aten::arange.start_step(Scalar start, Scalar end, Scalar step=1, *, ScalarType? dtype=None) -> Tensor",
    _arange_shape,
    eager=_arange_eager,
    lower=lambda builder, start, end, step=1, dtype=None: _arange_lower(builder, start, end, step),
)


def _no_rng(builder: Any, *args: Any) -> Any:
    from xdsl.utils.exceptions import DiagnosticException

    raise DiagnosticException(
        "rand/randn cannot be compiled: the linalg stage has no random number generator "
        "(create the random tensor outside the compiled code and pass it in)"
    )


def _random(name: str) -> None:
    def shape(size: Any, dtype: Any = None) -> TensorMeta:
        return TensorMeta(_size(size), dtype_arg(dtype) or DEFAULT_FLOAT)

    def eager(size: list[int], dtype: Any = None) -> np.ndarray:
        m = shape(size, dtype)
        rng = generator()
        sample = rng.random(m.shape) if name == "rand" else rng.standard_normal(m.shape)
        return sample.astype(m.dtype.np)

    register(
        f"aten::{name}(int[] size, *, ScalarType? dtype=None) -> Tensor",
        shape,
        eager=eager,
        lower=_no_rng,
        attrs={"impure": True},
    )


_random("rand")
_random("randn")
