"""Indexing by tensors: `index_select`, `gather`, `take_along_dim`, advanced indexing
(`x[idx]`, `x[i, :, j]`: `aten.index.Tensor_hacked_twin`, torch-mlir's form of `aten.index`
with every index given), and boolean masks (`nonzero`). The functional item assignment a
trace or script records for `x[idx] = v` (`index_put`) is in scatter_ops.py, the slice and
int forms in shape_ops.py.

Lowered, a gather is one `linalg.generic` over the result reading the index tensors through
their maps and the source with `tensor.extract` at the computed positions, which the numpy
backend turns into fancy indexing (`x[idx]`, `x[:, idx]`), not a Python loop.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xjit.ops.opdef import UNKNOWN, register
from xjit.ops.types import (
    ShapeError,
    TensorMeta,
    broadcast_shapes,
    from_numpy_dtype,
    int64,
    normalize_dim,
)


def _meta(a: np.ndarray) -> TensorMeta:
    return TensorMeta(a.shape, from_numpy_dtype(a.dtype))


def _int_index(what: str, idx: TensorMeta) -> None:
    if idx.dtype is not None and idx.dtype.kind != 1:
        raise ShapeError(f"{what}(): Expected dtype int64 for index, got {idx.dtype.name}")


def _in_range(what: str, idx: np.ndarray, n: int, negative: bool = False) -> None:
    """torch's bounds check (compiled code relies on numpy's for positive indices)."""
    if idx.size and (idx.max() >= n or idx.min() < (-n if negative else 0)):
        bad = idx.max() if idx.max() >= n else idx.min()
        raise IndexError(f"{what}(): index {bad} is out of bounds for dimension with size {n}")


def _dims(x: Any, n: int) -> list[tuple[Any, int] | None]:
    return [(x, k) for k in range(n)]


def _lazy_maps() -> Any:
    # lazy: xDSL loads when a graph is lowered, not with the eager ops
    from xdsl.ir.affine import AffineConstantExpr, AffineDimExpr, AffineMap

    return AffineMap, AffineDimExpr, AffineConstantExpr


# -- index_select ------------------------------------------------------------------------------


def _index_select_shape(x: TensorMeta, dim: Any, index: TensorMeta) -> TensorMeta:
    _int_index("index_select", index)
    if index.shape is not None and len(index.shape) > 1:
        raise ShapeError("index_select(): Index is supposed to be a vector")
    if x.shape is None or dim is UNKNOWN or index.shape is None:
        return TensorMeta(None, x.dtype)
    if not x.shape:
        return TensorMeta((), x.dtype)
    d = normalize_dim(dim, len(x.shape))
    n = index.shape[0] if index.shape else 1
    return TensorMeta(x.shape[:d] + (n,) + x.shape[d + 1 :], x.dtype)


def _index_select_eager(a: np.ndarray, dim: int, index: np.ndarray) -> np.ndarray:
    _index_select_shape(_meta(a), dim, _meta(index))
    if a.ndim == 0:
        _in_range("index_select", index, 1)
        return a.copy()
    d = normalize_dim(dim, a.ndim)
    _in_range("index_select", index, a.shape[d])
    return np.take(a, index.reshape(-1), axis=d)


def _index_select_lower(builder: Any, x: Any, dim: int, index: Any) -> Any:
    AffineMap, AffineDimExpr, _ = _lazy_maps()
    rank = builder.rank(x)
    d = normalize_dim(dim, rank)
    exprs = (AffineDimExpr(d),) if builder.rank(index) == 1 else ()
    axes = [(index, AffineMap(rank, 0, exprs)) if k == d else k for k in range(rank)]
    dims = [(index, 0) if k == d else (x, k) for k in range(rank)]
    builder.assert_in_range(index, 0, (x, d), "index_select(): index out of range in self")
    return builder.gather(x, axes, dims)


register(
    "aten::index_select(Tensor self, int dim, Tensor index) -> Tensor",
    _index_select_shape,
    eager=_index_select_eager,
    lower=_index_select_lower,
)


# -- gather / take_along_dim -------------------------------------------------------------------


def _gather_shape(x: TensorMeta, dim: Any, index: TensorMeta, sparse_grad: Any = False) -> Any:
    _int_index("gather", index)
    if x.shape is None or index.shape is None or dim is UNKNOWN:
        return TensorMeta(None, x.dtype)
    rank = max(len(x.shape), 1)
    if max(len(index.shape), 1) != rank:
        raise ShapeError(
            "gather(): Index tensor must have the same number of dimensions as input tensor"
        )
    d = normalize_dim(dim, rank)
    for k, (a, b) in enumerate(zip(x.shape, index.shape, strict=True)):
        if k != d and a is not None and b is not None and b > a:
            raise ShapeError(
                f"gather(): Size does not match at dimension {k} expected index "
                f"{list(index.shape)} to be no larger than self {list(x.shape)} apart from "
                f"dimension {d}"
            )
    return TensorMeta(index.shape, x.dtype)


def _gather_eager(a: np.ndarray, dim: int, index: np.ndarray, sparse_grad: bool = False) -> Any:
    m = _gather_shape(_meta(a), dim, _meta(index))
    if a.ndim == 0:
        _in_range("gather", index, 1)
        return a.reshape(m.shape).copy()
    d = normalize_dim(dim, a.ndim)
    _in_range("gather", index, a.shape[d])
    # `index` may be smaller than `a` off `dim`: take the leading part of those dims
    part = a[tuple(slice(None) if k == d else slice(0, n) for k, n in enumerate(index.shape))]
    return np.take_along_axis(part, index, axis=d)


def _gather_lower(builder: Any, x: Any, dim: int, index: Any, sparse_grad: bool = False) -> Any:
    AffineMap, _, _ = _lazy_maps()
    rank = builder.rank(x)
    d = normalize_dim(dim, rank)
    axes = [(index, AffineMap.identity(rank)) if k == d else k for k in range(rank)]
    builder.assert_in_range(index, 0, (x, d), f"gather(): index out of bounds for dimension {d}")
    return builder.gather(x, axes, _dims(index, rank))


register(
    "aten::gather(Tensor self, int dim, Tensor index, *, bool sparse_grad=False) -> Tensor",
    _gather_shape,
    eager=_gather_eager,
    lower=_gather_lower,
)


def _along_shapes(x: TensorMeta, idx: TensorMeta, dim: Any) -> tuple[Any, Any]:
    """take_along_dim's operands broadcast against each other off `dim`."""
    assert x.shape is not None and idx.shape is not None
    if len(x.shape) != len(idx.shape):
        raise ShapeError(
            "torch.take_along_dim(): input and indices should have the same number of "
            f"dimensions, but got {len(x.shape)} dimensions for input, and {len(idx.shape)} "
            "dimensions for indices"
        )
    d = normalize_dim(dim, len(x.shape))
    xs, ids = list(x.shape), list(idx.shape)
    xs[d] = ids[d] = 1
    b = broadcast_shapes(tuple(xs), tuple(ids))
    assert b is not None
    sx, si = list(b), list(b)
    sx[d], si[d] = x.shape[d], idx.shape[d]
    return sx, si


def _take_along_shape(x: TensorMeta, idx: TensorMeta, dim: Any = None) -> TensorMeta:
    _int_index("take_along_dim", idx)
    if x.shape is None or idx.shape is None or dim is UNKNOWN:
        return TensorMeta(None, x.dtype)
    if dim is None:
        n = None if None in idx.shape else int(np.prod(idx.shape, dtype=np.int64))
        return TensorMeta((n,), x.dtype)
    return TensorMeta(tuple(_along_shapes(x, idx, dim)[1]), x.dtype)


def _take_along_eager(a: np.ndarray, idx: np.ndarray, dim: Any = None) -> np.ndarray:
    _take_along_shape(_meta(a), _meta(idx), dim)
    if dim is None:
        _in_range("take_along_dim", idx, a.size)
        return np.take(a.reshape(-1), idx.reshape(-1))
    d = normalize_dim(dim, a.ndim)
    _in_range("take_along_dim", idx, a.shape[d], negative=True)
    return np.take_along_axis(a, idx, axis=d)  # (wraps negative indices, as torch)


def _take_along_decompose(torch: Any, x: Any, idx: Any, dim: Any = None) -> Any:
    if dim is None:
        return torch.index_select(torch.reshape(x, [-1]), 0, torch.reshape(idx, [-1]))
    sx, si = _along_shapes(
        TensorMeta(tuple(x.shape), None), TensorMeta(tuple(idx.shape), None), dim
    )
    n = x.shape[normalize_dim(dim, len(x.shape))]
    idx = torch.where(torch.lt(idx, 0), torch.add(idx, n), idx)  # torch wraps them here
    return torch.gather(torch.expand(x, sx), dim, torch.expand(idx, si))


register(
    "aten::take_along_dim(Tensor self, Tensor indices, int? dim=None) -> Tensor",
    _take_along_shape,
    eager=_take_along_eager,
    decompose=_take_along_decompose,
)


# -- advanced indexing: x[i0, i1, ...] on the leading dims ---------------------------------------


def _index_shape(x: TensorMeta, indices: Any) -> TensorMeta:
    for i in indices:
        _int_index("index", i)
    if x.shape is None or any(i.shape is None for i in indices):
        return TensorMeta(None, x.dtype)
    if len(indices) > len(x.shape):
        raise IndexError(
            f"too many indices for tensor of dimension {len(x.shape)} (got {len(indices)})"
        )
    try:
        b = broadcast_shapes(*(i.shape for i in indices))
    except ShapeError:
        shapes = ", ".join(str(list(i.shape)) for i in indices)
        raise IndexError(
            f"shape mismatch: indexing tensors could not be broadcast together with shapes {shapes}"
        ) from None
    if b is None:
        return TensorMeta(None, x.dtype)
    return TensorMeta(tuple(b) + x.shape[len(indices) :], x.dtype)


def _index_eager(a: np.ndarray, indices: list[np.ndarray]) -> np.ndarray:
    _index_shape(_meta(a), [_meta(i) for i in indices])
    for k, i in enumerate(indices):
        if i.size and (i.max() >= a.shape[k] or i.min() < -a.shape[k]):
            bad = i.max() if i.max() >= a.shape[k] else i.min()
            raise IndexError(
                f"index {bad} is out of bounds for dimension {k} with size {a.shape[k]}"
            )
    return a[tuple(indices)]  # numpy's advanced indexing on leading dims is torch's


def _index_lower(builder: Any, x: Any, indices: list[Any]) -> Any:
    from xjit.ops.indexing_maps import broadcast_map  # lazy: imports xDSL

    rt = builder.result().get_shape()
    k = len(indices)
    nb = len(rt) - (builder.rank(x) - k)
    bshape = list(rt[:nb])
    axes: list[Any] = []
    for i in indices:
        m = broadcast_map(list(i.type.get_shape()), bshape)
        AffineMap, _, _ = _lazy_maps()
        axes.append((i, AffineMap(len(rt), 0, m.results)))
    axes += [nb + j for j in range(builder.rank(x) - k)]
    dims: list[Any] = []
    for d in range(nb):  # a broadcast dim: read off an index with that dim, right-aligned
        src = None
        for i in indices:
            s = list(i.type.get_shape())
            j = d - (nb - len(s))
            if j >= 0 and s[j] != 1:
                src = (i, j)
        dims.append(src)
    dims += [(x, k + j) for j in range(builder.rank(x) - k)]
    return builder.gather(x, axes, dims)


register(
    "aten::index.Tensor_hacked_twin(Tensor self, Tensor[] indices) -> Tensor",
    _index_shape,
    eager=_index_eager,
    lower=_index_lower,
    py="torch.index",  # (torch spells it torch.ops.aten.index)
    overload_of=("index",),
)


# -- nonzero: a data-dependent size ------------------------------------------------------------


def _nonzero_shape(x: TensorMeta) -> TensorMeta:
    return TensorMeta(None if x.shape is None else (None, len(x.shape)), int64)


def _nonzero_lower(builder: Any, x: Any) -> Any:
    return builder.nonzero(x)


register(
    "aten::nonzero(Tensor self) -> Tensor",
    _nonzero_shape,
    eager=lambda a: np.argwhere(a).astype(np.int64),
    lower=_nonzero_lower,
    attrs={"data_sized": True},  # the count is the data's: a trace types it `?` (trace.py)
)
