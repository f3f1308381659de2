"""Tensor creation: `zeros`, `rand`, `tensor`, ... (float32 by default, as in torch)."""

from __future__ import annotations

from typing import Any

import numpy as np

from xjit._tensor import Tensor
from xjit.ops import types as _t

_rng = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Seed the generator behind `rand`/`randn` and parameter initialisation."""
    global _rng
    _rng = np.random.default_rng(seed)


def generator() -> np.random.Generator:
    return _rng


def _size(size: tuple[Any, ...]) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for d in size:
        if not isinstance(d, (int, np.integer)) or isinstance(d, bool) or d < 0:
            raise TypeError(f"size must be a sequence of non-negative ints, got {size!r}")
    return tuple(d if isinstance(d, int) else int(d) for d in size)  # keeps traced sizes


def _dt(dtype: _t.DType | None) -> np.dtype:
    return (dtype or _t.DEFAULT_FLOAT).np


def _op(name: str, *args: Any, **kwargs: Any) -> Tensor:
    # Through the registry, so tracing records the op (`torch.zeros(3, 4)` in traced code is
    # an op, not a frozen constant).
    from xjit._dispatch import call

    return call(name, *args, **kwargs)


def zeros(*size: Any, dtype: _t.DType | None = None) -> Tensor:
    return _op("zeros", list(_size(size)), dtype=dtype)


def ones(*size: Any, dtype: _t.DType | None = None) -> Tensor:
    return _op("ones", list(_size(size)), dtype=dtype)


def full(size: Any, fill_value: float, dtype: _t.DType | None = None) -> Tensor:
    return _op("full", list(_size((size,))), fill_value, dtype=dtype)


def rand(*size: Any, dtype: _t.DType | None = None) -> Tensor:
    return _op("rand", list(_size(size)), dtype=dtype)


def randn(*size: Any, dtype: _t.DType | None = None) -> Tensor:
    return _op("randn", list(_size(size)), dtype=dtype)


def arange(start: Any, end: Any = None, step: Any = 1, dtype: _t.DType | None = None) -> Tensor:
    if end is None:
        return _op("arange", start, dtype=dtype)
    return _op("arange", start, end, step, dtype=dtype)


def tensor(data: Any, dtype: _t.DType | None = None) -> Tensor:
    """Copies `data`; Python floats become float32, ints int64, bools bool (torch's inference)."""
    if isinstance(data, Tensor):
        data = data.numpy()
    a = np.array(data)
    if dtype is not None:
        a = a.astype(dtype.np)
    elif a.dtype.kind == "f":
        a = a.astype(np.float32) if not isinstance(data, np.ndarray) else a
    elif a.dtype.kind in "iu":
        a = a.astype(np.int64) if not isinstance(data, np.ndarray) else a
    _t.from_numpy_dtype(a.dtype)  # rejects dtypes xjit does not support
    return Tensor(a)


def from_numpy(a: np.ndarray) -> Tensor:
    """Shares memory with `a`, as torch.from_numpy does."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(a).__name__})")
    _t.from_numpy_dtype(a.dtype)
    return Tensor(a)
