"""Tensor creation: `zeros`, `rand`, `tensor`, ... (float32 by default, as in torch)."""

from __future__ import annotations

from typing import Any

import numpy as np

from xjit._device import check_device
from xjit._dispatch import call
from xjit._tensor import (
    Tensor,
    alias,
    check_factory_kwargs,
    factory_size,
    from_data,
    legacy_data,
)
from xjit.ops import types as _t
from xjit.ops.rng import generator as generator  # re-exported: nn initialisation
from xjit.ops.rng import manual_seed as manual_seed  # re-exported: xjit.manual_seed


def _dt(dtype: _t.DType | None) -> np.dtype:
    return (dtype or _t.DEFAULT_FLOAT).np


def _op(name: str, *args: Any, **kwargs: Any) -> Tensor:
    # Through the registry, so tracing records the op (`torch.zeros(3, 4)` in traced code is
    # an op, not a frozen constant).
    return call(name, *args, **kwargs)


def zeros(*size: Any, dtype: _t.DType | None = None, **kw: Any) -> Tensor:
    check_factory_kwargs(**kw)
    return _op("zeros", list(factory_size(size)), dtype=dtype)


def ones(*size: Any, dtype: _t.DType | None = None, **kw: Any) -> Tensor:
    check_factory_kwargs(**kw)
    return _op("ones", list(factory_size(size)), dtype=dtype)


def empty(*size: Any, dtype: _t.DType | None = None, **kw: Any) -> Tensor:
    """Zero-filled: xjit has no uninitialised memory to hand out."""
    kw.pop("memory_format", None)
    return zeros(*size, dtype=dtype, **kw)


def full(size: Any, fill_value: float, dtype: _t.DType | None = None, **kw: Any) -> Tensor:
    check_factory_kwargs(**kw)
    return _op("full", list(factory_size((size,))), fill_value, dtype=dtype)


def rand(*size: Any, dtype: _t.DType | None = None, **kw: Any) -> Tensor:
    kw.pop("generator", None)
    check_factory_kwargs(**kw)
    return _op("rand", list(factory_size(size)), dtype=dtype)


def randn(*size: Any, dtype: _t.DType | None = None, **kw: Any) -> Tensor:
    kw.pop("generator", None)
    check_factory_kwargs(**kw)
    return _op("randn", list(factory_size(size)), dtype=dtype)


def arange(
    start: Any, end: Any = None, step: Any = 1, dtype: _t.DType | None = None, **kw: Any
) -> Tensor:
    check_factory_kwargs(**kw)
    if end is None:
        return _op("arange", start, dtype=dtype)
    return _op("arange", start, end, step, dtype=dtype)


def _like(kind: str, x: Tensor, dtype: _t.DType | None, kw: dict[str, Any], *extra: Any) -> Tensor:
    kw.pop("memory_format", None)
    check_factory_kwargs(**kw)
    return _op(f"{kind}_like", x, *extra, dtype=dtype)


def zeros_like(input: Tensor, dtype: _t.DType | None = None, **kw: Any) -> Tensor:
    return _like("zeros", input, dtype, kw)


def ones_like(input: Tensor, dtype: _t.DType | None = None, **kw: Any) -> Tensor:
    return _like("ones", input, dtype, kw)


def empty_like(input: Tensor, dtype: _t.DType | None = None, **kw: Any) -> Tensor:
    return _like("zeros", input, dtype, kw)


def full_like(input: Tensor, fill_value: Any, dtype: _t.DType | None = None, **kw: Any) -> Tensor:
    return _like("full", input, dtype, kw, fill_value)


def rand_like(input: Tensor, dtype: _t.DType | None = None, **kw: Any) -> Tensor:
    return rand(*input.shape, dtype=dtype or input.dtype, **kw)


def randn_like(input: Tensor, dtype: _t.DType | None = None, **kw: Any) -> Tensor:
    return randn(*input.shape, dtype=dtype or input.dtype, **kw)


def tensor(data: Any, dtype: _t.DType | None = None, **kw: Any) -> Tensor:
    """Copies `data`; Python floats become float32, ints int64, bools bool (torch's inference)."""
    check_factory_kwargs(**kw)
    return from_data(data, dtype)


def as_tensor(data: Any, dtype: _t.DType | None = None, device: Any = None) -> Tensor:
    """Shares memory with a Tensor or numpy array of the right dtype, as torch does."""
    check_device(device)
    if isinstance(data, Tensor) and (dtype is None or data.dtype == dtype):
        return data
    if isinstance(data, np.ndarray) and (dtype is None or data.dtype == dtype.np):
        return from_numpy(data)
    return tensor(data, dtype=dtype)


def from_numpy(a: np.ndarray) -> Tensor:
    """Shares memory with `a`, as torch.from_numpy does."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(a).__name__})")
    _t.from_numpy_dtype(a.dtype)
    return Tensor(a)


# -- issue 12's factories (xjit/ops/factory_ops.py, layout_ops.py): the op, plus torch's
# device/requires_grad keywords (and `generator=`, which xjit's own stream ignores)
def linspace(start: Any, end: Any, steps: int, dtype: _t.DType | None = None, **kw: Any) -> Tensor:
    check_factory_kwargs(**kw)
    return _op("linspace", start, end, steps, dtype=dtype)


def logspace(
    start: Any, end: Any, steps: int, base: float = 10.0, dtype: _t.DType | None = None, **kw: Any
) -> Tensor:
    check_factory_kwargs(**kw)
    return _op("logspace", start, end, steps, base, dtype=dtype)


def eye(n: int, m: int | None = None, dtype: _t.DType | None = None, **kw: Any) -> Tensor:
    check_factory_kwargs(**kw)
    return _op("eye", n, dtype=dtype) if m is None else _op("eye", n, m, dtype=dtype)


def randint(*args: Any, size: Any = None, dtype: _t.DType | None = None, **kw: Any) -> Tensor:
    """randint(high, size) or randint(low, high, size)."""
    kw.pop("generator", None)
    check_factory_kwargs(**kw)
    rest = list(args)
    if size is None:
        if not rest:
            raise TypeError("randint() missing required argument 'size'")
        size = rest.pop()
    if len(rest) not in (1, 2):
        raise TypeError(f"randint() takes (high, size) or (low, high, size), got {args!r}")
    low, high = (0, rest[0]) if len(rest) == 1 else rest
    return _op("randint", low, high, list(factory_size((size,))), dtype=dtype)


def randperm(n: int, dtype: _t.DType | None = None, **kw: Any) -> Tensor:
    kw.pop("generator", None)
    check_factory_kwargs(**kw)
    return _op("randperm", n, dtype=dtype)


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, **kw: Any) -> Tensor:
    """normal(mean, std) with tensors or numbers (one of them a tensor), or with `size`."""
    kw.pop("generator", None)
    dtype = kw.pop("dtype", None)
    check_factory_kwargs(**kw)
    if size is not None:
        return _op("normal", float(mean), float(std), list(factory_size((size,))), dtype=dtype)
    return _op("normal", mean, std)


def tril_indices(
    row: int, col: int, offset: int = 0, dtype: _t.DType | None = None, **kw: Any
) -> Tensor:
    check_factory_kwargs(**kw)
    return _op("tril_indices", row, col, offset, dtype=dtype or _t.int64)


def triu_indices(
    row: int, col: int, offset: int = 0, dtype: _t.DType | None = None, **kw: Any
) -> Tensor:
    check_factory_kwargs(**kw)
    return _op("triu_indices", row, col, offset, dtype=dtype or _t.int64)


class _LegacyConstructor:
    """`torch.FloatTensor(2, 3)`, `torch.LongTensor([1, 2])`, ...: torch's typed legacy
    constructors, still common in older model code (`nn.Parameter(torch.FloatTensor(o, i))`
    then an init function). `x.type(torch.LongTensor)` converts."""

    def __init__(self, name: str, dtype: _t.DType) -> None:
        self.__name__ = self.__qualname__ = name
        self.dtype = dtype

    def __call__(self, *args: Any) -> Tensor:
        # fresh, or a tensor's own array (never a numpy user's): nothing to mark exposed
        return alias(legacy_data(self.dtype.np, args[0] if args else (), args[1:]))

    def __repr__(self) -> str:
        return f"<class 'xjit.{self.__name__}'>"


FloatTensor = _LegacyConstructor("FloatTensor", _t.float32)
DoubleTensor = _LegacyConstructor("DoubleTensor", _t.float64)
LongTensor = _LegacyConstructor("LongTensor", _t.int64)
IntTensor = _LegacyConstructor("IntTensor", _t.int32)
BoolTensor = _LegacyConstructor("BoolTensor", _t.bool_)
