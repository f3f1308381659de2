"""Sorting: `sort`, `argsort`, `topk` (values and int64 indices along one dim).

Eager they are numpy's stable sort. Compiled they decompose into ops that already lower, by
counting: element i's place along the dim is the number of elements that sort before it (a
strict comparison, or an equal one at a smaller index: a stable sort), and output slot k picks
the element whose place is k with a `where` and an `amax` reduction (exact: one element is
picked, so -0.0, inf and NaN come through unchanged). That compares every pair along the dim,
so compiled sorting is quadratic in the dim's size, and refused above `MAX_COMPILED_SORT`.

Order as torch: NaN is larger than every number (last ascending, first descending); -0.0 and
0.0 are equal. Ties keep their input order (stable), which torch guarantees for `stable=True`
and, on CPU, also gives for `topk` and the default `sort` on the sizes tests use; tests of
`topk` use tie-free data.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from xjit.ops.opdef import UNKNOWN, register
from xjit.ops.types import ShapeError, TensorMeta, from_numpy_dtype, int64, normalize_dim

# torch.return_types.sort / topk: tuples whose fields are also `.values` and `.indices`.
SortResult = namedtuple("sort", ["values", "indices"])  # noqa: PYI024
TopkResult = namedtuple("topk", ["values", "indices"])  # noqa: PYI024

# Compiled sorting compares every pair along the dim (see the module docstring): refuse dims
# where that is unreasonable rather than exhaust memory.
MAX_COMPILED_SORT = 4096


def _meta(a: np.ndarray) -> TensorMeta:
    return TensorMeta(a.shape, from_numpy_dtype(a.dtype))


# -- eager -------------------------------------------------------------------------------------


def _stable_order(a: np.ndarray, dim: int, descending: bool) -> np.ndarray:
    """Indices that sort `a` along `dim` stably (NaN largest, as torch)."""
    if a.ndim == 0:
        return np.zeros((), np.int64)
    if not descending:
        return np.argsort(a, axis=dim, kind="stable").astype(np.int64)
    # Descending and stable: the reversal of an ascending stable sort of the reversed input
    # (numpy puts NaN last ascending, so first here, as torch does).
    n = a.shape[dim]
    rev = np.argsort(np.flip(a, dim), axis=dim, kind="stable")
    return (n - 1 - np.flip(rev, dim)).astype(np.int64)


def _take(a: np.ndarray, idx: np.ndarray, dim: int) -> np.ndarray:
    return a.copy() if a.ndim == 0 else np.take_along_axis(a, idx, axis=dim)


def _sort_eager(a: np.ndarray, dim: int = -1, descending: bool = False) -> SortResult:
    d = normalize_dim(dim, a.ndim)
    idx = _stable_order(a, d, descending)
    return SortResult(_take(a, idx, d), idx)


def _topk_check(x: TensorMeta, k: Any, dim: Any) -> None:
    if x.dtype is not None and x.dtype.name == "bool":
        raise ShapeError("topk does not support bool dtypes on CPU")
    if x.shape is None or k is UNKNOWN or dim is UNKNOWN:
        return
    d = normalize_dim(dim, len(x.shape))
    n = x.shape[d] if x.shape else 1
    if n is not None and not 0 <= k <= n:
        raise ShapeError("selected index k out of range")


def _topk_eager(
    a: np.ndarray, k: int, dim: int = -1, largest: bool = True, sorted: bool = True
) -> TopkResult:
    _topk_check(_meta(a), k, dim)
    d = normalize_dim(dim, a.ndim)
    idx = _stable_order(a, d, largest)
    if a.ndim:
        idx = np.take(idx, np.arange(k), axis=d)
    return TopkResult(_take(a, idx, d), idx)


# -- shape rules -------------------------------------------------------------------------------


def _sort_shape(x: TensorMeta, dim: Any = -1, descending: Any = False) -> tuple[TensorMeta, ...]:
    if x.shape is not None and dim is not UNKNOWN:
        normalize_dim(dim, len(x.shape))
    return x, TensorMeta(x.shape, int64)


def _topk_shape(
    x: TensorMeta, k: Any, dim: Any = -1, largest: Any = True, sorted: Any = True
) -> tuple[TensorMeta, ...]:
    _topk_check(x, k, dim)
    if x.shape is None or dim is UNKNOWN or not x.shape:
        shape = x.shape
    else:
        d = normalize_dim(dim, len(x.shape))
        shape = tuple(None if k is UNKNOWN else k if i == d else s for i, s in enumerate(x.shape))
    return TensorMeta(shape, x.dtype), TensorMeta(shape, int64)


# -- the counting decomposition ---------------------------------------------------------------


def _before(torch: Any, a: Any, b: Any, descending: bool) -> Any:
    """a sorts strictly before b (NaN largest)."""
    first = torch.gt(a, b) if descending else torch.lt(a, b)
    if a.dtype.is_floating_point:
        nan_a, nan_b = torch.ne(a, a), torch.ne(b, b)
        # a NaN is after every number ascending, before every number descending
        nan_rule = (
            torch.logical_and(nan_a, torch.logical_not(nan_b))
            if descending
            else torch.logical_and(nan_b, torch.logical_not(nan_a))
        )
        first = torch.logical_or(first, nan_rule)
    return first


def _same(torch: Any, a: Any, b: Any) -> Any:
    eq = torch.eq(a, b)
    if a.dtype.is_floating_point:
        eq = torch.logical_or(eq, torch.logical_and(torch.ne(a, a), torch.ne(b, b)))
    return eq


def _index_along(torch: Any, n: int, at: int, rank: int) -> Any:
    """arange(n) shaped to broadcast along dim `at` of a rank-`rank` tensor."""
    view = [1] * rank
    view[at] = n
    return torch.reshape(torch.arange(n), view)


def _counting_sort(torch: Any, x: Any, dim: int, descending: bool, k: int | None) -> Any:
    """(values, indices) of the first `k` (default all) places of a stable sort of x along dim,
    or None (not decomposed) for sizes only known at run time."""
    if x.dim() == 0:  # one element: itself, at index 0
        return x, torch.zeros([], dtype=int64)
    d = normalize_dim(dim, x.dim())
    n = x.shape[d]
    if n is None or any(s is None for s in x.shape):
        return None
    if n > MAX_COMPILED_SORT:
        raise NotImplementedError(
            f"sort/topk along a dim of {n} elements does not compile: compiled sorting compares "
            f"every pair along the dim (limit {MAX_COMPILED_SORT}); sort eagerly instead"
        )
    src = x
    if x.dtype.kind == 0:  # bools sort as 0/1 (where/amax below need numbers)
        src = torch.to(x, int64)
    rank = src.dim() + 1
    xi = torch.unsqueeze(src, d + 1)  # element i along d, j along d + 1
    xj = torch.unsqueeze(src, d)
    earlier = torch.lt(_index_along(torch, n, d + 1, rank), _index_along(torch, n, d, rank))
    ahead = torch.logical_or(
        _before(torch, xj, xi, descending),
        torch.logical_and(_same(torch, xj, xi), earlier),
    )
    place = torch.sum(ahead, [d + 1], False, dtype=int64)  # each element's place along d
    m = n if k is None else k
    hit = torch.eq(torch.unsqueeze(place, d), _index_along(torch, m, d, rank))  # slot d, i d+1
    low = -np.inf if src.dtype.is_floating_point else np.iinfo(src.dtype.np).min
    values = torch.amax(torch.where(hit, xj, float(low) if low == -np.inf else int(low)), [d + 1])
    indices = torch.amax(torch.where(hit, _index_along(torch, n, d + 1, rank), -1), [d + 1])
    if src is not x:
        values = torch.to(values, x.dtype)
    return values, indices


# -- entries -------------------------------------------------------------------------------------

register(
    "aten::sort(Tensor self, int dim=-1, bool descending=False) -> (Tensor, Tensor)",
    _sort_shape,
    eager=_sort_eager,
    decompose=lambda torch, x, dim=-1, descending=False: _counting_sort(
        torch, x, dim, descending, None
    ),
)
# `stable=True` is what xjit always does; `stable=False` leaves the order of ties free in torch.
register(
    "aten::sort.stable(Tensor self, *, bool? stable, int dim=-1, bool descending=False) -> (Tensor, Tensor)",
    lambda x, stable, dim=-1, descending=False: _sort_shape(x, dim, descending),
    eager=lambda a, stable, dim=-1, descending=False: _sort_eager(a, dim, descending),
    decompose=lambda torch, x, stable, dim=-1, descending=False: _counting_sort(
        torch, x, dim, descending, None
    ),
    py="torch.sort",
    overload_of=("sort",),
)


def _argsort_decompose(torch: Any, x: Any, dim: int = -1, descending: bool = False) -> Any:
    out = _counting_sort(torch, x, dim, descending, None)
    return None if out is None else out[1]


register(
    "aten::argsort(Tensor self, int dim=-1, bool descending=False) -> Tensor",
    lambda x, dim=-1, descending=False: _sort_shape(x, dim, descending)[1],
    eager=lambda a, dim=-1, descending=False: _sort_eager(a, dim, descending).indices,
    decompose=_argsort_decompose,
)
register(
    "aten::argsort.stable(Tensor self, *, bool stable, int dim=-1, bool descending=False) -> Tensor",
    lambda x, stable, dim=-1, descending=False: _sort_shape(x, dim, descending)[1],
    eager=lambda a, stable, dim=-1, descending=False: _sort_eager(a, dim, descending).indices,
    decompose=lambda torch, x, stable, dim=-1, descending=False: _argsort_decompose(
        torch, x, dim, descending
    ),
    py="torch.argsort",
    overload_of=("argsort",),
)


def _topk_decompose(
    torch: Any, x: Any, k: int, dim: int = -1, largest: bool = True, sorted: bool = True
) -> Any:
    _topk_check(TensorMeta(tuple(x.shape), x.dtype), k, dim)
    return _counting_sort(torch, x, dim, largest, k)


register(
    "aten::topk(Tensor self, int k, int dim=-1, bool largest=True, bool sorted=True) -> (Tensor, Tensor)",
    _topk_shape,
    eager=_topk_eager,
    decompose=_topk_decompose,
)
