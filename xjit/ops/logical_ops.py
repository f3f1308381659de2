"""Issue 12's reductions and tests: `all`, `any`, `count_nonzero`, `prod`, `cumprod`, `isclose`.

`all`/`any` decompose into `amin`/`amax` of `x != 0` (on bools, `and`/`or`), `count_nonzero`
into a `sum` of it; `prod` lowers directly as a multiplicative reduction; `cumprod` is
`cumsum`'s slices with products; `isclose` is elementwise.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from xjit.ops.composite_ops import _cumsum_shape
from xjit.ops.elementwise_ops import DTYPE_RULES, _promoted, elementwise
from xjit.ops.opdef import UNKNOWN, register
from xjit.ops.reduction_ops import _sum_shape, reduced_dims, reduced_shape
from xjit.ops.types import (
    ShapeError,
    TensorMeta,
    bool_,
    float64,
    from_numpy_dtype,
    normalize_dim,
)


def _meta(a: np.ndarray) -> TensorMeta:
    return TensorMeta(a.shape, from_numpy_dtype(a.dtype))


def _meta_of(x: Any) -> TensorMeta:
    return TensorMeta(tuple(x.shape), x.dtype)


# -- all / any ------------------------------------------------------------------------------------


def _bool_reduce_shape(x: TensorMeta, dim: Any = None, keepdim: Any = False) -> TensorMeta:
    if x.shape is None or dim is UNKNOWN or keepdim is UNKNOWN:
        return TensorMeta(None, bool_)
    return TensorMeta(reduced_shape(x, reduced_dims(x, dim), keepdim), bool_)


def _bool_reduce(is_all: bool) -> tuple[Any, Any]:
    def eager(a: np.ndarray, dim: Any = None, keepdim: bool = False) -> np.ndarray:
        m = _bool_reduce_shape(_meta(a), dim, keepdim)
        axes = tuple(reduced_dims(_meta(a), dim))
        fn = np.all if is_all else np.any
        return np.asarray(fn(a != 0, axis=axes, keepdims=keepdim), m.dtype.np)

    def decompose(torch: Any, x: Any, dim: Any = None, keepdim: bool = False) -> Any:
        dims = reduced_dims(_meta_of(x), dim)
        if any(x.shape[d] is None or x.shape[d] == 0 for d in dims) or (
            not dims and x.dim() and 0 in x.shape
        ):
            return None  # an empty reduction: amin/amax refuse it (not decomposed)
        b = x if x.dtype == bool_ else torch.ne(x, 0)
        if not dims:  # a 0-d tensor: the test itself
            return b if keepdim or x.dim() == 0 else torch.reshape(b, [])
        return (torch.amin if is_all else torch.amax)(b, dims, keepdim)

    return eager, decompose


for _name, _is_all in (("all", True), ("any", False)):
    _eager, _dec = _bool_reduce(_is_all)
    register(
        f"aten::{_name}(Tensor self) -> Tensor",
        lambda x: _bool_reduce_shape(x),
        eager=lambda a, _e=_eager: _e(a),
        decompose=lambda torch, x, _d=_dec: _d(torch, x),
    )
    register(
        f"aten::{_name}.dim(Tensor self, int dim, bool keepdim=False) -> Tensor",
        _bool_reduce_shape,
        eager=_eager,
        decompose=_dec,
    )
    register(
        f"aten::{_name}.dims(Tensor self, int[]? dim=None, bool keepdim=False) -> Tensor",
        _bool_reduce_shape,
        eager=_eager,
        decompose=_dec,
    )


# -- count_nonzero ---------------------------------------------------------------------------------


def _count_shape(x: TensorMeta, dim: Any = None) -> TensorMeta:
    return _sum_shape(TensorMeta(x.shape, bool_), dim, False)


def _count_eager(a: np.ndarray, dim: Any = None) -> np.ndarray:
    axes = tuple(reduced_dims(_meta(a), dim))
    return np.asarray(np.count_nonzero(a, axis=axes), np.int64)


def _count_decompose(torch: Any, x: Any, dim: Any = None) -> Any:
    return torch.sum(torch.ne(x, 0), reduced_dims(_meta_of(x), dim), False)


register(
    "aten::count_nonzero(Tensor self, int? dim=None) -> Tensor",
    _count_shape,
    eager=_count_eager,
    decompose=_count_decompose,
)
register(
    "aten::count_nonzero.dim_IntList(Tensor self, int[] dim) -> Tensor",
    _count_shape,
    eager=_count_eager,
    decompose=_count_decompose,
)


# -- prod / cumprod -------------------------------------------------------------------------------


def _prod_eager(a: np.ndarray, dim: Any, keepdim: bool, dtype: Any) -> np.ndarray:
    dt = _sum_shape(_meta(a), dim, keepdim, dtype).dtype
    axes = tuple(reduced_dims(_meta(a), dim))
    with np.errstate(all="ignore"):  # overflow to inf (floats) or wrap (ints), as torch
        return np.asarray(np.prod(a.astype(dt.np, copy=False), axis=axes, keepdims=keepdim))


def _prod_lower(builder: Any, x: Any, dim: Any, keepdim: bool) -> Any:
    dims = reduced_dims(TensorMeta(tuple(x.type.get_shape()), None), dim)
    return builder.reduce(x, dims, keepdim, "mul")


register(
    "aten::prod(Tensor self, *, ScalarType? dtype=None) -> Tensor",
    lambda x, dtype=None: _sum_shape(x, None, False, dtype),
    eager=lambda a, dtype=None: _prod_eager(a, None, False, dtype),
    lower=lambda builder, x, dtype=None: _prod_lower(builder, x, None, False),
)
register(
    "aten::prod.dim_int(Tensor self, int dim, bool keepdim=False, *, ScalarType? dtype=None) -> Tensor",
    lambda x, dim, keepdim=False, dtype=None: _sum_shape(x, dim, keepdim, dtype),
    eager=lambda a, dim, keepdim=False, dtype=None: _prod_eager(a, dim, keepdim, dtype),
    lower=lambda builder, x, dim, keepdim=False, dtype=None: _prod_lower(builder, x, dim, keepdim),
)


def _cumprod_eager(a: np.ndarray, dim: int, dtype: Any = None) -> np.ndarray:
    dt = _cumsum_shape(_meta(a), dim, dtype).dtype
    if a.ndim == 0:
        return a.astype(dt.np)
    with np.errstate(all="ignore"):
        return np.cumprod(a.astype(dt.np), axis=normalize_dim(dim, a.ndim))


def _cumprod_decompose(torch: Any, x: Any, dim: int, dtype: Any = None) -> Any:
    dt = _cumsum_shape(_meta_of(x), dim, dtype).dtype
    if x.dim() == 0:
        return torch.to(x, dt)
    d = normalize_dim(dim, x.dim())
    n = x.shape[d]
    if n is None or n == 0:
        return None
    if x.dtype != dt:
        x = torch.to(x, dt)
    acc = torch.slice(x, d, 0, 1)
    parts = [acc]
    for i in range(1, n):
        acc = torch.mul(acc, torch.slice(x, d, i, i + 1))
        parts.append(acc)
    return torch.cat(parts, d) if n > 1 else acc


register(
    "aten::cumprod(Tensor self, int dim, *, ScalarType? dtype=None) -> Tensor",
    _cumsum_shape,
    eager=_cumprod_eager,
    decompose=_cumprod_decompose,
)


# -- isclose ----------------------------------------------------------------------------------
# Integers and bools compare in float64 (exact below 2**53), as |x - y| <= atol + rtol |y|.
DTYPE_RULES["isclose"] = (
    lambda *a: (lambda d: d if d.is_floating_point else float64)(
        _promoted(*(m for m in a if isinstance(m, TensorMeta)))  # tolerances do not promote
    ),
    lambda d: bool_,
)


def _isclose(
    o: Any, x: Any, y: Any, rtol: Any = 1e-05, atol: Any = 1e-08, equal_nan: Any = False
) -> Any:
    close = o.le(o.abs(o.sub(x, y)), o.add(o.mul(o.abs(y), rtol), atol))
    close = o.logical_or(o.eq(x, y), close)  # equal infinities
    if equal_nan:
        close = o.logical_or(close, o.logical_and(o.ne(x, x), o.ne(y, y)))
    return close


def _isclose_check(
    x: Any, y: Any, rtol: Any = 1e-05, atol: Any = 1e-08, equal_nan: Any = False
) -> None:
    if isinstance(x, TensorMeta) and isinstance(y, TensorMeta) and None not in (x.dtype, y.dtype):
        if x.dtype != y.dtype:
            raise RuntimeError(
                f"{_TORCH_NAME[x.dtype.name]} did not match {_TORCH_NAME[y.dtype.name]}"
            )
    for name, v in (("rtol", rtol), ("atol", atol)):
        if isinstance(v, (int, float)) and v < 0:
            raise ShapeError(f"{name} must be greater than or equal to zero, but got {v}")
    if isinstance(atol, float) and math.isnan(atol):
        raise ShapeError("atol must not be NaN")


_TORCH_NAME = {
    "float32": "Float",
    "float64": "Double",
    "int64": "Long",
    "int32": "Int",
    "bool": "Bool",
}

elementwise(
    "aten::isclose(Tensor self, Tensor other, float rtol=1e-05, float atol=1e-08, bool equal_nan=False) -> Tensor",
    _isclose,
    dtype="isclose",
    check=_isclose_check,
)
