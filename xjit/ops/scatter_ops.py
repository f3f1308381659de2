"""Writes at positions given by index tensors: `index_put` (what a trace or script records for
`x[idx] = v` and `x[idx] += v`), `scatter` / `scatter_add`, `index_add` / `index_copy` /
`index_fill`, and `masked_scatter` (also what `x[mask] = v` records for a tensor `v`).

`index_put` is the one primitive: it lowers (`LinalgBuilder.index_put`) to a
`scatter.index_put` on the leading dims, which the numpy backend writes as `out[i, j] = v` on a
copy of `self`, or `np.add.at(out, (i, j), v)` with `accumulate`. The others decompose into it:
`scatter` along `dim` indexes every dim (an `arange` grid off `dim`, `index` on it), the
`index_*` ops move `dim` to the front and index it alone.

Index checks follow torch: `index_put` and `index_fill` wrap negative indices, `scatter`,
`index_add` and `index_copy` refuse them; out of range raises (eagerly here, at run time in
compiled code). With duplicate indices and no accumulation torch's result is undefined (which
write wins); accumulation adds every duplicate.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from xjit.ops.index_ops import _index_shape, _int_index
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


def _same_dtype(what: str, x: TensorMeta, src: TensorMeta, role: str = "src") -> None:
    if x.dtype is not None and src.dtype is not None and x.dtype != src.dtype:
        raise ShapeError(
            f"{what}(): Expected self.dtype to be equal to {role}.dtype "
            f"(got {x.dtype.name} and {src.dtype.name})"
        )


def _check_range(what: str, idx: np.ndarray, n: int, dim: int, negative: bool) -> None:
    """torch's bounds check, with its message (numpy's would differ, or wrap silently)."""
    lo = -n if negative else 0
    if idx.size and (idx.max() >= n or idx.min() < lo):
        bad = idx.max() if idx.max() >= n else idx.min()
        raise IndexError(
            f"{what}(): index {bad} is out of bounds for dimension {dim} with size {n}"
        )


def _static(*shapes: Any) -> bool:
    return all(s is not None and all(n is not None and n >= 0 for n in s) for s in shapes)


def _sizes(t: Any) -> list[Any]:
    """A tensor's sizes as plain ints (an eager or traced tensor's array: a trace's sizes
    are fixed here, no size guard needed) or an IR value's (None where unknown)."""
    a = getattr(t, "_a", None)
    return list(np.shape(a)) if a is not None else list(t.shape)


def _refused(what: str) -> Any:
    def lower(builder: Any, *args: Any) -> Any:
        raise NotImplementedError(
            f"{what} is only compiled for tensors of rank >= 1 with sizes known at compile time"
        )

    return lower


# -- index_put: x[idx] = v -----------------------------------------------------------------------


def _index_put_shape(
    x: TensorMeta, indices: Any, values: TensorMeta, accumulate: Any = False
) -> TensorMeta:
    got = _index_shape(x, indices)
    if x.dtype is not None and values.dtype is not None and x.dtype != values.dtype:
        raise ShapeError(
            "Index put requires the source and destination dtypes match, got "
            f"{x.dtype.name} for the destination and {values.dtype.name} for the source."
        )
    if values.shape is not None and got.shape is not None:
        try:
            b = broadcast_shapes(values.shape, got.shape)
        except ShapeError:
            b = None
        fits = b is not None and len(b) == len(got.shape)
        if not fits or any(g is not None and d != g for d, g in zip(b, got.shape)):  # type: ignore[arg-type]
            if b is None and (None in values.shape or None in got.shape):
                return x  # (sizes known at run time only)
            raise ShapeError(
                f"shape mismatch: value tensor of shape {list(values.shape)} cannot be "
                f"broadcast to indexing result of shape {list(got.shape)}"
            )
    return x


def _index_put_eager(
    a: np.ndarray, indices: list[np.ndarray], values: np.ndarray, accumulate: bool = False
) -> np.ndarray:
    _index_put_shape(_meta(a), [_meta(i) for i in indices], _meta(values), accumulate)
    for k, i in enumerate(indices):
        _check_range("index_put", i, a.shape[k], k, negative=True)
    out = a.copy()
    key = tuple(indices)
    if accumulate:
        np.add.at(out, key, values)
    else:
        out[key] = values
    return out


def _index_put_lower(
    builder: Any, x: Any, indices: list[Any], values: Any, accumulate: bool = False
) -> Any:
    if accumulate and builder.result().element_type.name == "integer_type":
        if builder.result().element_type.width.data == 1:
            raise NotImplementedError("index_put with accumulate=True on bool tensors")
    return builder.index_put(x, indices, values, bool(accumulate))


register(
    "aten::index_put.hacked_twin(Tensor self, Tensor[] indices, Tensor values, bool accumulate=False) -> Tensor",
    _index_put_shape,
    eager=_index_put_eager,
    lower=_index_put_lower,
    py="torch.index_put",
    overload_of=("index_put",),
)


# -- scatter / scatter_add along a dim -------------------------------------------------------------


def _scatter_shape(
    x: TensorMeta, dim: Any, index: TensorMeta, src: TensorMeta | None, what: str = "scatter"
) -> TensorMeta:
    _int_index(what, index)
    if src is not None:
        _same_dtype(what, x, src)
    if x.shape is None or index.shape is None or dim is UNKNOWN:
        return x
    rank = max(len(x.shape), 1)
    if max(len(index.shape), 1) != rank or (
        src is not None and src.shape is not None and max(len(src.shape), 1) != rank
    ):
        raise ShapeError(
            f"{what}(): Index tensor must have the same number of dimensions as self tensor"
        )
    d = normalize_dim(dim, rank)
    for k, n in enumerate(index.shape):
        bigger_x = k != d and x.shape[k] is not None and n is not None and n > x.shape[k]
        bigger_s = (
            src is not None
            and src.shape is not None
            and src.shape[k] is not None
            and n is not None
            and n > src.shape[k]
        )
        if bigger_x or bigger_s:
            raise ShapeError(
                f"{what}(): Expected index {list(index.shape)} to be smaller than self "
                f"{list(x.shape)} apart from dimension {d}"
                + (f" and to be smaller size than src {list(src.shape)}" if src else "")  # type: ignore[union-attr]
            )
    return x


def _scatter_key(index: np.ndarray, d: int) -> tuple[np.ndarray, ...]:
    grid = list(np.indices(index.shape, sparse=True))
    grid[d] = index
    return tuple(grid)


def _scatter_eager_impl(
    what: str, a: np.ndarray, dim: int, index: np.ndarray, src: Any, accumulate: bool
) -> np.ndarray:
    out = a.copy()
    if index.size == 0:
        return out
    if a.ndim == 0:
        _check_range(what, index, 1, 0, negative=False)
        return (out + src if accumulate else np.asarray(src, a.dtype)).reshape(()).copy()
    d = normalize_dim(dim, a.ndim)
    _check_range(what, index, a.shape[d], d, negative=False)
    key = _scatter_key(index, d)
    if isinstance(src, np.ndarray) and src.ndim:
        src = src[tuple(slice(0, n) for n in index.shape)]
    if accumulate:
        np.add.at(out, key, src)
    else:
        out[key] = src
    return out


def _scatter_decompose(torch: Any, x: Any, dim: int, index: Any, src: Any, accumulate: bool) -> Any:
    """index_put on every dim: `index` on `dim`, an arange grid on the others (numpy's
    `np.indices`), `src` cut to index's shape."""
    shape = list(index.shape)
    rank = len(shape)
    if rank == 0 or not _static(shape, x.shape, getattr(src, "shape", ())):
        return None
    d = normalize_dim(dim, rank)
    # torch refuses a negative index here (index_put would wrap it): push it out of range
    idx = torch.masked_fill(index, torch.lt(index, 0), x.shape[d])
    keys = []
    for k in range(rank):
        if k == d:
            keys.append(idx)
            continue
        sizes = [shape[k] if j == k else 1 for j in range(rank)]
        keys.append(torch.reshape(torch.arange(shape[k]), sizes))
    if isinstance(src, (int, float, bool)):
        src = torch.full([], src, dtype=x.dtype)
    else:
        for k in range(rank):
            if src.shape[k] != shape[k]:
                src = torch.slice(src, k, 0, shape[k], 1)
    return torch.index_put(x, keys, src, accumulate)


register(
    "aten::scatter.src(Tensor self, int dim, Tensor index, Tensor src) -> Tensor",
    lambda x, dim, index, src: _scatter_shape(x, dim, index, src),
    eager=lambda a, dim, index, src: _scatter_eager_impl(
        "scatter", a, dim, *_checked(a, dim, index, src), False
    ),
    decompose=lambda T, x, dim, index, src: _scatter_decompose(T, x, dim, index, src, False),
    lower=_refused("scatter"),
)


def _checked(a: np.ndarray, dim: int, index: np.ndarray, src: Any) -> tuple[np.ndarray, Any]:
    s = _meta(src) if isinstance(src, np.ndarray) else None
    _scatter_shape(_meta(a), dim, _meta(index), s)
    return index, src


register(
    "aten::scatter.value(Tensor self, int dim, Tensor index, Scalar value) -> Tensor",
    lambda x, dim, index, value: _scatter_shape(x, dim, index, None),
    eager=lambda a, dim, index, value: _scatter_eager_impl(
        "scatter", a, dim, *_checked(a, dim, index, value), False
    ),
    decompose=lambda T, x, dim, index, value: _scatter_decompose(T, x, dim, index, value, False),
    lower=_refused("scatter"),
)

register(
    "aten::scatter_add(Tensor self, int dim, Tensor index, Tensor src) -> Tensor",
    lambda x, dim, index, src: _scatter_shape(x, dim, index, src, "scatter_add"),
    eager=lambda a, dim, index, src: _scatter_eager_impl(
        "scatter_add", a, dim, *_checked(a, dim, index, src), True
    ),
    decompose=lambda T, x, dim, index, src: _scatter_decompose(T, x, dim, index, src, True),
    lower=_refused("scatter_add"),
)


# -- index_add / index_copy / index_fill along a dim -----------------------------------------------


def _index_dim_shape(
    what: str, x: TensorMeta, dim: Any, index: TensorMeta, source: TensorMeta | None
) -> TensorMeta:
    _int_index(what, index)
    if index.shape is not None and len(index.shape) > 1:
        raise ShapeError(f"{what}(): Index is supposed to be a vector")
    if source is not None:
        _same_dtype(what, x, source, "source")
    if x.shape is None or dim is UNKNOWN or source is None or source.shape is None:
        return x
    if index.shape is None:
        return x
    d = normalize_dim(dim, max(len(x.shape), 1))
    n = index.shape[0] if index.shape else 1
    want = list(x.shape) if x.shape else [1]
    want[d] = n
    got = list(source.shape) if source.shape else [1]
    if len(got) != len(want) or any(
        a is not None and b is not None and a != b for a, b in zip(got, want, strict=True)
    ):
        raise ShapeError(
            f"{what}(): source {list(source.shape)} does not match self {list(x.shape)} with "
            f"dimension {d} of size {n} (the number of indices)"
        )
    return x


def _index_dim_eager(
    what: str,
    a: np.ndarray,
    dim: int,
    index: np.ndarray,
    source: Any,
    accumulate: bool,
    negative: bool = False,
) -> np.ndarray:
    out = a.copy()
    view = out.reshape(1) if a.ndim == 0 else out
    d = normalize_dim(dim, view.ndim)
    idx = index.reshape(-1)
    _check_range(what, idx, view.shape[d], d, negative)
    key = (slice(None),) * d + (idx,)
    if isinstance(source, np.ndarray):
        source = source.reshape(view[key].shape)
    if accumulate:
        np.add.at(view, key, source)
    else:
        view[key] = source
    return out


def _index_dim_decompose(
    torch: Any,
    x: Any,
    dim: int,
    index: Any,
    source: Any,
    accumulate: bool,
    negative: bool = False,
) -> Any:
    """`dim` moved to the front (a permute), one index_put on it, moved back."""
    rank = len(x.shape)
    if rank == 0 or not _static(x.shape):
        return None
    d = normalize_dim(dim, rank)
    idx = torch.reshape(index, [-1])
    if not negative:  # torch refuses a negative index here (index_put would wrap it)
        idx = torch.masked_fill(idx, torch.lt(idx, 0), x.shape[d])
    perm = [d] + [k for k in range(rank) if k != d]
    xp = torch.permute(x, perm) if d else x
    if isinstance(source, (int, float, bool)):
        values = torch.full([], source, dtype=x.dtype)
    else:
        values = torch.permute(source, perm) if d else source
    out = torch.index_put(xp, [idx], values, accumulate)
    return torch.permute(out, [perm.index(k) for k in range(rank)]) if d else out


def _index_add_shape(
    x: TensorMeta, dim: Any, index: TensorMeta, source: TensorMeta, alpha: Any = 1
) -> TensorMeta:
    return _index_dim_shape("index_add", x, dim, index, source)


def _index_add_eager(
    a: np.ndarray, dim: int, index: np.ndarray, source: np.ndarray, alpha: Any = 1
) -> np.ndarray:
    _index_add_shape(_meta(a), dim, _meta(index), _meta(source), alpha)
    scaled = source if alpha == 1 else (source * alpha).astype(a.dtype)
    return _index_dim_eager("index_add", a, dim, index, scaled, True)


def _index_add_decompose(
    torch: Any, x: Any, dim: int, index: Any, source: Any, alpha: Any = 1
) -> Any:
    if alpha != 1:
        source = torch.mul(source, alpha)
    return _index_dim_decompose(torch, x, dim, index, source, True)


register(
    "aten::index_add(Tensor self, int dim, Tensor index, Tensor source, *, Scalar alpha=1) -> Tensor",
    _index_add_shape,
    eager=_index_add_eager,
    decompose=_index_add_decompose,
    lower=_refused("index_add"),
)


def _index_copy_eager(a: np.ndarray, dim: int, index: np.ndarray, source: np.ndarray) -> np.ndarray:
    _index_dim_shape("index_copy", _meta(a), dim, _meta(index), _meta(source))
    return _index_dim_eager("index_copy", a, dim, index, source, False)


register(
    "aten::index_copy(Tensor self, int dim, Tensor index, Tensor source) -> Tensor",
    lambda x, dim, index, source: _index_dim_shape("index_copy", x, dim, index, source),
    eager=_index_copy_eager,
    decompose=lambda T, x, dim, index, source: _index_dim_decompose(
        T, x, dim, index, source, False
    ),
    lower=_refused("index_copy"),
)


def _index_fill_eager(a: np.ndarray, dim: int, index: np.ndarray, value: Any) -> np.ndarray:
    _index_dim_shape("index_fill", _meta(a), dim, _meta(index), None)
    return _index_dim_eager("index_fill", a, dim, index, value, False, negative=True)


register(
    "aten::index_fill.int_Scalar(Tensor self, int dim, Tensor index, Scalar value) -> Tensor",
    lambda x, dim, index, value: _index_dim_shape("index_fill", x, dim, index, None),
    eager=_index_fill_eager,
    decompose=lambda T, x, dim, index, value: _index_dim_decompose(
        T, x, dim, index, value, False, negative=True
    ),
    lower=_refused("index_fill"),
    overload_of=("index_fill",),
)


# -- masked_scatter: x[mask] = the next source element, in order -----------------------------------


def _masked_scatter_shape(x: TensorMeta, mask: TensorMeta, source: TensorMeta) -> TensorMeta:
    if mask.dtype is not None and mask.dtype.kind != 0:
        raise ShapeError(f"masked_scatter_: expected BoolTensor for mask, got {mask.dtype.name}")
    _same_dtype("masked_scatter", x, source, "source")
    if x.shape is not None and mask.shape is not None:
        b = broadcast_shapes(x.shape, mask.shape)
        if b is not None and tuple(b) != tuple(x.shape):
            raise ShapeError(
                f"masked_scatter: mask of shape {list(mask.shape)} does not broadcast to self "
                f"{list(x.shape)}"
            )
    return x


def _masked_scatter_eager(a: np.ndarray, mask: np.ndarray, source: np.ndarray) -> np.ndarray:
    _masked_scatter_shape(_meta(a), _meta(mask), _meta(source))
    m = np.broadcast_to(mask, a.shape)
    count = int(m.sum())
    if count > source.size:
        raise RuntimeError(
            "masked_scatter: expected source to have at least as many elements as ones in mask"
        )
    out = a.copy()
    out[m] = source.reshape(-1)[:count]
    return out


def masked_scatter_ops(torch: Any, x: Any, mask: Any, source: Any, exact: bool = False) -> Any:
    """`where(mask, source.flatten()[position among the trues], x)`: the positions an inclusive
    prefix sum of the mask (log2(n) shifted adds, all vectorised), read with `index_select`,
    whose run-time bounds check raises when the mask holds more trues than `source` has
    elements. With `exact` (`x[mask] = v`) fewer raise too: every index is shifted out of range
    by `(numel - count) * numel` unless the counts agree. None for sizes not known here."""
    shape, sshape, mshape = _sizes(x), _sizes(source), _sizes(mask)
    if not _static(shape, sshape, mshape):
        return None
    n, ns = math.prod(shape), math.prod(sshape)
    if n == 0 or ns == 0:
        return None
    m = torch.expand(mask, shape) if mshape != shape else mask
    flat = torch.reshape(m, [n])
    c = torch.to(flat, int64)
    step = 1
    while step < n:  # Hillis-Steele scan
        pad = torch.full([step], 0, dtype=int64)
        c = torch.add(c, torch.cat([pad, torch.slice(c, 0, 0, n - step, 1)], 0))
        step *= 2
    idx = torch.clamp(torch.sub(c, 1), 0, n)
    if exact:
        count = torch.slice(c, 0, n - 1, n, 1)
        idx = torch.add(idx, torch.mul(torch.sub(count, ns), -ns))
    picked = torch.index_select(torch.reshape(source, [ns]), 0, idx)
    return torch.where(m, torch.reshape(picked, shape), x)


register(
    "aten::masked_scatter(Tensor self, Tensor mask, Tensor source) -> Tensor",
    _masked_scatter_shape,
    eager=_masked_scatter_eager,
    decompose=masked_scatter_ops,
    lower=_refused("masked_scatter"),
)
