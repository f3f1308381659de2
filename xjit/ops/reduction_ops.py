"""Reductions (`sum`, `mean`, `amax`, `max`, `argmax`, ...) and the normalisations built on them
(`softmax`, `log_softmax`, `layer_norm`).

Direct reductions lower through `LinalgBuilder.reduce` (a `linalg.fill` of the combiner's
identity + a `linalg.generic` with "reduction" iterators). Everything else decomposes into
them, written against torch's Python API so the decompositions run eagerly in tests.
"""

from __future__ import annotations

import math
from collections import namedtuple
from typing import Any

import numpy as np

from xjit.ops.opdef import UNKNOWN, register
from xjit.ops.types import ShapeError, TensorMeta, dtype_arg, from_numpy_dtype, int64, normalize_dim


def reduced_dims(x: TensorMeta, dim: Any) -> list[int]:
    """The dims a `dim` argument names (None or [] = all), normalised, sorted, checked."""
    rank = x.rank
    if dim is None or (isinstance(dim, list) and not dim):
        return list(range(rank))
    dims = dim if isinstance(dim, (list, tuple)) else [dim]
    if rank == 0:
        # torch: dim 0 or -1 of a 0-d tensor names the tensor itself; reducing it is the identity
        for d in dims:
            if d not in (0, -1):
                raise ShapeError(f"dimension {d} out of range for a tensor of rank 0")
        return []
    out = sorted({normalize_dim(d, rank) for d in dims})
    if rank == 0:
        return []  # a 0-d tensor takes dim 0 / -1 and has nothing to reduce (torch's rule)
    if len(out) != len(dims):
        raise ShapeError(f"dim {list(dims)} appears multiple times in the list of dims")
    return out


def reduced_shape(x: TensorMeta, dims: list[int], keepdim: bool) -> tuple[int | None, ...]:
    assert x.shape is not None
    if keepdim:
        return tuple(1 if d in dims else s for d, s in enumerate(x.shape))
    return tuple(s for d, s in enumerate(x.shape) if d not in dims)


def _nonempty(x: TensorMeta, dims: list[int], op: str) -> None:
    assert x.shape is not None
    for d in dims:
        if x.shape[d] == 0:
            raise ShapeError(f"{op}(): expected reduction dim {d} to have non-zero size")
    if not dims and x.shape and 0 in x.shape:  # a full reduction of an empty tensor
        raise ShapeError(f"{op}(): cannot reduce an empty tensor (it has no identity)")


def _sum_dtype(x: TensorMeta, dtype: Any) -> Any:
    d = dtype_arg(dtype)
    if d is not None:
        return d
    return int64 if x.dtype is not None and not x.dtype.is_floating_point else x.dtype


def _unranked(x: TensorMeta, dtype: Any) -> TensorMeta | None:
    return TensorMeta(None, dtype) if x.shape is None or dtype is UNKNOWN else None


def _axes(a: np.ndarray, dim: Any) -> tuple[int, ...]:
    return tuple(reduced_dims(TensorMeta(a.shape, None), dim))


# -- sum / mean --------------------------------------------------------------------------------


def _sum_shape(
    x: TensorMeta, dim: Any = None, keepdim: bool = False, dtype: Any = None
) -> TensorMeta:
    dt = _sum_dtype(x, dtype)
    if (u := _unranked(x, dt)) is not None or dim is UNKNOWN or keepdim is UNKNOWN:
        return u or TensorMeta(None, dt)
    return TensorMeta(reduced_shape(x, reduced_dims(x, dim), keepdim), dt)


def _sum_eager(
    a: np.ndarray, dim: Any = None, keepdim: bool = False, dtype: Any = None
) -> np.ndarray:
    dt = _sum_shape(TensorMeta(a.shape, _meta_dtype(a)), dim, keepdim, dtype).dtype
    return np.asarray(np.sum(a.astype(dt.np, copy=False), axis=_axes(a, dim), keepdims=keepdim))


def _meta_dtype(a: np.ndarray) -> Any:
    return from_numpy_dtype(a.dtype)


register(
    "aten::sum(Tensor self, *, ScalarType? dtype=None) -> Tensor",
    lambda x, dtype=None: _sum_shape(x, None, False, dtype),
    eager=lambda a, dtype=None: _sum_eager(a, None, False, dtype),
    lower=lambda builder, x, dtype=None: builder.reduce(x, range(builder.rank(x)), False, "add"),
)
register(
    "aten::sum.dim_IntList(Tensor self, int[]? dim, bool keepdim=False, *, ScalarType? dtype=None) -> Tensor",
    _sum_shape,
    eager=_sum_eager,
    lower=lambda builder, x, dim, keepdim=False, dtype=None: builder.reduce(
        x, reduced_dims(TensorMeta(tuple(x.type.get_shape()), None), dim), keepdim, "add"
    ),
)


def _mean_shape(
    x: TensorMeta, dim: Any = None, keepdim: bool = False, dtype: Any = None
) -> TensorMeta:
    dt = dtype_arg(dtype) or x.dtype
    if dt is not None and not dt.is_floating_point:
        raise ShapeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {dt.name}"
        )
    return _sum_shape(x, dim, keepdim, dt)


def _count(x: Any, dims: list[int]) -> int:
    shape = x.shape
    sizes = [shape[d] for d in dims]
    if any(s is None for s in sizes):
        raise NotImplementedError("mean over a dimension of unknown size")
    return math.prod(sizes)


def _mean_decompose(
    torch: Any, x: Any, dim: Any = None, keepdim: bool = False, dtype: Any = None
) -> Any:
    dims = reduced_dims(TensorMeta(tuple(x.shape), None), dim)
    s = (
        torch.sum(x, dims, keepdim, dtype=dtype)
        if dtype is not None
        else torch.sum(x, dims, keepdim)
    )
    if any(x.shape[d] is None for d in dims):  # a count known only at run time
        return torch.div(s, _run_time_count(torch, x, dims, keepdim))
    return torch.div(s, _count(x, dims))


def _run_time_count(torch: Any, x: Any, dims: list[int], keepdim: bool) -> Any:
    """The element count of the reduced dims, as the sum of ones shaped like x over them
    (exact; its sizes are read off x). A mask sliced to size 1 along the other dims would be
    cheaper, but a slice of a `?` dim is a `?` dim, which does not broadcast as a 1."""
    return torch.sum(torch.full_like(x, 1.0), dims, keepdim)


def _mean_eager(
    a: np.ndarray, dim: Any = None, keepdim: bool = False, dtype: Any = None
) -> np.ndarray:
    dt = _mean_shape(TensorMeta(a.shape, _meta_dtype(a)), dim, keepdim, dtype).dtype
    with np.errstate(all="ignore"):  # the mean of nothing is nan, silently, as in torch
        return np.asarray(
            np.mean(a.astype(dt.np, copy=False), axis=_axes(a, dim), keepdims=keepdim)
        )


register(
    "aten::mean(Tensor self, *, ScalarType? dtype=None) -> Tensor",
    lambda x, dtype=None: _mean_shape(x, None, False, dtype),
    eager=lambda a, dtype=None: _mean_eager(a, None, False, dtype),
    decompose=lambda torch, x, dtype=None: _mean_decompose(torch, x, None, False, dtype),
)
register(
    "aten::mean.dim(Tensor self, int[]? dim, bool keepdim=False, *, ScalarType? dtype=None) -> Tensor",
    _mean_shape,
    eager=_mean_eager,
    decompose=_mean_decompose,
)


# -- max / min -----------------------------------------------------------------------------------


def _extreme_shape(op: str) -> Any:
    def shape(x: TensorMeta, dim: Any = None, keepdim: bool = False) -> TensorMeta:
        if x.shape is None or dim is UNKNOWN or keepdim is UNKNOWN:
            return TensorMeta(None, x.dtype)
        dims = reduced_dims(x, dim)
        _nonempty(x, dims if dims else [], op)
        return TensorMeta(reduced_shape(x, dims, keepdim), x.dtype)

    return shape


def _extreme_eager(fn: Any, op: str) -> Any:
    shape = _extreme_shape(op)

    def eager(a: np.ndarray, dim: Any = None, keepdim: bool = False) -> np.ndarray:
        shape(TensorMeta(a.shape, _meta_dtype(a)), dim, keepdim)
        return np.asarray(fn(a, axis=_axes(a, dim), keepdims=keepdim))

    return eager


def _lower_extreme(kind: str) -> Any:
    def lower(builder: Any, x: Any, dim: Any = None, keepdim: bool = False) -> Any:
        dims = reduced_dims(TensorMeta(tuple(x.type.get_shape()), None), dim)
        return builder.reduce(x, dims, keepdim, kind)

    return lower


for _name, _fn, _kind in (("amax", np.max, "max"), ("amin", np.min, "min")):
    register(
        f"aten::{_name}(Tensor self, int[] dim=[], bool keepdim=False) -> Tensor",
        _extreme_shape(_name),
        eager=_extreme_eager(_fn, _name),
        lower=_lower_extreme(_kind),
    )
    register(
        f"aten::{_name[1:]}(Tensor self) -> Tensor",
        lambda x, _n=_name: _extreme_shape(_n[1:])(x),
        eager=lambda a, _f=_fn, _n=_name: _extreme_eager(_f, _n[1:])(a),
        lower=_lower_extreme(_kind),
    )


def _arg_shape(op: str) -> Any:
    def shape(x: TensorMeta, dim: Any = None, keepdim: bool = False) -> TensorMeta:
        if x.dtype is not None and x.dtype.name == "bool":
            raise ShapeError(f"{op}(): does not support bool input")
        if x.shape is None or dim is UNKNOWN or keepdim is UNKNOWN:
            return TensorMeta(None, int64)
        if dim is None:
            _nonempty(x, [], op)
            return TensorMeta((1,) * len(x.shape) if keepdim else (), int64)
        dims = reduced_dims(x, dim)
        _nonempty(x, dims, op)
        return TensorMeta(reduced_shape(x, dims, keepdim), int64)

    return shape


def _arg_eager(fn: Any, op: str) -> Any:
    shape = _arg_shape(op)

    def eager(a: np.ndarray, dim: Any = None, keepdim: bool = False) -> np.ndarray:
        out = shape(TensorMeta(a.shape, _meta_dtype(a)), dim, keepdim)
        if dim is None:
            return np.asarray(fn(a), dtype=np.int64).reshape(out.shape)
        r = fn(a, axis=normalize_dim(dim, a.ndim), keepdims=keepdim)
        return np.asarray(r, dtype=np.int64)

    return eager


def _index_grid(torch: Any, shape: tuple[int, ...], dim: int) -> Any:
    """An int64 tensor broadcastable to `shape` holding each element's index along `dim`."""
    view = [1] * len(shape)
    view[dim] = shape[dim]
    return torch.reshape(torch.arange(shape[dim]), view)


def _arg_decompose(largest: bool) -> Any:
    """argmax as reductions: the first index where x equals its max (NaN counts as the max, as
    in torch): min over dims of where(x == max | isnan(x), index, numel)."""

    def decompose(torch: Any, x: Any, dim: Any = None, keepdim: bool = False) -> Any:
        shape = tuple(x.shape)
        if any(s is None for s in shape):
            raise NotImplementedError("argmax/argmin over dimensions of unknown size")
        dims = list(range(len(shape))) if dim is None else [normalize_dim(dim, len(shape))]
        best = torch.amax(x, dims, True) if largest else torch.amin(x, dims, True)
        hit = torch.eq(x, best)
        if x.dtype.is_floating_point:
            hit = torch.logical_or(hit, torch.ne(x, x))
        if dim is None:  # flat index: sum of per-dim index grids times strides
            idx, stride = None, 1
            for d in reversed(range(len(shape))):
                g = _index_grid(torch, shape, d)
                g = g if stride == 1 else torch.mul(g, stride)
                idx = g if idx is None else torch.add(idx, g)
                stride *= shape[d]
            numel = stride
            if idx is None:  # 0-d input
                idx = torch.zeros([], dtype=int64)
        else:
            idx, numel = _index_grid(torch, shape, dims[0]), shape[dims[0]]
        cand = torch.where(hit, idx, numel)
        return torch.amin(cand, dims, keepdim)

    return decompose


for _name, _fn, _largest in (("argmax", np.argmax, True), ("argmin", np.argmin, False)):
    register(
        f"aten::{_name}(Tensor self, int? dim=None, bool keepdim=False) -> Tensor",
        _arg_shape(_name),
        eager=_arg_eager(_fn, _name),
        decompose=_arg_decompose(_largest),
    )


def _max_dim_shape(op: str) -> Any:
    def shape(x: TensorMeta, dim: int, keepdim: bool = False) -> tuple[TensorMeta, TensorMeta]:
        v = _extreme_shape(op)(x, dim, keepdim)
        return v, TensorMeta(v.shape, int64)

    return shape


# torch.return_types.max / min: tuples whose fields are also `.values` and `.indices`
MaxResult = namedtuple("max", ["values", "indices"])  # noqa: PYI024
MinResult = namedtuple("min", ["values", "indices"])  # noqa: PYI024

for _name, _fn, _arg, _largest, _result in (
    ("max", np.max, np.argmax, True, MaxResult),
    ("min", np.min, np.argmin, False, MinResult),
):
    register(
        f"aten::{_name}.dim(Tensor self, int dim, bool keepdim=False) -> (Tensor, Tensor)",
        _max_dim_shape(_name),
        eager=lambda a, dim, keepdim=False, _f=_fn, _a=_arg, _n=_name, _r=_result: _r(
            _extreme_eager(_f, _n)(a, dim, keepdim),
            _arg_eager(_a, _n)(a, dim, keepdim),
        ),
        decompose=lambda torch, x, dim, keepdim=False, _l=_largest: (
            (torch.amax if _l else torch.amin)(x, [dim], keepdim),
            _arg_decompose(_l)(torch, x, dim, keepdim),
        ),
        py=f"torch.{_name}",
    )


# -- softmax / log_softmax / layer_norm ------------------------------------------------------------


def _softmax_shape(x: TensorMeta, dim: Any, dtype: Any = None) -> TensorMeta:
    dt = dtype_arg(dtype) or x.dtype
    if dt is not None and not dt.is_floating_point:
        raise ShapeError(f"softmax: expected a floating point tensor, got {dt.name}")
    if x.shape is not None and dim is not UNKNOWN:
        normalize_dim(dim, len(x.shape))
    return TensorMeta(x.shape, dt)


def _softmax_eager(log: bool) -> Any:
    def eager(a: np.ndarray, dim: int, dtype: Any = None) -> np.ndarray:
        dt = _softmax_shape(TensorMeta(a.shape, _meta_dtype(a)), dim, dtype).dtype
        a = a.astype(dt.np, copy=False)
        d = normalize_dim(dim, a.ndim) if a.ndim else None
        with np.errstate(all="ignore"):
            z = a - np.max(a, axis=d, keepdims=True) if a.size else a
            if log:
                return np.asarray(z - np.log(np.sum(np.exp(z), axis=d, keepdims=True)), dt.np)
            e = np.exp(z)
            return np.asarray(e / np.sum(e, axis=d, keepdims=True), dt.np)

    return eager


def _softmax_decompose(log: bool) -> Any:
    def decompose(torch: Any, x: Any, dim: int, dtype: Any = None) -> Any:
        if dtype is not None and dtype_arg(dtype) != x.dtype:
            x = torch.to(x, dtype_arg(dtype))
        dims = [normalize_dim(dim, x.dim())] if x.dim() else []
        if any(x.shape[d] == 0 for d in dims):
            return torch.exp(x)  # an empty result: nothing to normalise (amax would reject it)
        z = torch.sub(x, torch.amax(x, dims, True))
        if log:
            return torch.sub(z, torch.log(torch.sum(torch.exp(z), dims, True)))
        e = torch.exp(z)
        return torch.div(e, torch.sum(e, dims, True))

    return decompose


for _name, _log in (("softmax", False), ("log_softmax", True)):
    register(
        f"aten::{_name}.int(Tensor self, int dim, ScalarType? dtype=None) -> Tensor",
        _softmax_shape,
        eager=_softmax_eager(_log),
        decompose=_softmax_decompose(_log),
        py=f"torch.{_name}",
    )


def _layer_norm_shape(
    x: TensorMeta,
    ns: Any,
    w: TensorMeta | None = None,
    b: TensorMeta | None = None,
    eps: Any = 1e-5,
    cudnn: Any = True,
) -> TensorMeta:
    if x.dtype is not None and not x.dtype.is_floating_point:
        raise ShapeError(f"layer_norm: expected a floating point input, got {x.dtype.name}")
    if x.shape is not None and ns is not UNKNOWN:
        n = len(ns)
        if (
            n == 0
            or n > len(x.shape)
            or any(s is not None and s != e for s, e in zip(x.shape[len(x.shape) - n :], ns))
        ):
            raise ShapeError(
                f"layer_norm: input of shape {list(x.shape)} does not end in the normalized "
                f"shape {list(ns)}"
            )
        for name, p in (("weight", w), ("bias", b)):
            if p is not None and p.shape is not None and list(p.shape) != list(ns):
                raise ShapeError(
                    f"layer_norm: {name} of shape {list(p.shape)}, expected {list(ns)}"
                )
    return TensorMeta(x.shape, x.dtype)


def _layer_norm_eager(
    x: np.ndarray,
    ns: list[int],
    w: np.ndarray | None = None,
    b: np.ndarray | None = None,
    eps: float = 1e-5,
    cudnn: bool = True,
) -> np.ndarray:
    _layer_norm_shape(TensorMeta(x.shape, _meta_dtype(x)), ns, None, None)
    axes = tuple(range(x.ndim - len(ns), x.ndim))
    with np.errstate(all="ignore"):
        mu = np.mean(x, axis=axes, keepdims=True)
        xc = x - mu
        var = np.mean(xc * xc, axis=axes, keepdims=True)
        y = xc / np.sqrt(var + x.dtype.type(eps))
        if w is not None:
            y = y * w
        if b is not None:
            y = y + b
    return np.asarray(y, x.dtype)


def _layer_norm_decompose(
    torch: Any,
    x: Any,
    ns: list[int],
    w: Any = None,
    b: Any = None,
    eps: float = 1e-5,
    cudnn: bool = True,
) -> Any:
    dims = list(range(x.dim() - len(ns), x.dim()))
    xc = torch.sub(x, torch.mean(x, dims, True))
    var = torch.mean(torch.mul(xc, xc), dims, True)
    y = torch.mul(xc, torch.rsqrt(torch.add(var, eps)))
    if w is not None:
        y = torch.mul(y, w)
    if b is not None:
        y = torch.add(y, b)
    return y


register(
    "aten::layer_norm(Tensor input, int[] normalized_shape, Tensor? weight=None, Tensor? bias=None, float eps=1e-05, bool cudnn_enable=True) -> Tensor",
    _layer_norm_shape,
    eager=_layer_norm_eager,
    decompose=_layer_norm_decompose,
    py="torch.nn.functional.layer_norm",
)
