"""Issue 12's selections: `masked_select` and `unique` (`_unique2`), whose result sizes depend
on the data (`masked_select` compiles: it decomposes into `nonzero`, whose result has a `?`
row count, and `index`; `unique` is eager only: a trace or a script refuses it at the user's
line, through the entry's `data_dependent` attr), and `median` (global, and along a dim with indices), which
compiles: it decomposes into `sort` and `select`.

`median` is the lower of the two middle values, as torch; a NaN makes it NaN. Along a dim,
the index of a tied median is implementation-defined in torch (its selection algorithm);
xjit returns the position of the median in a stable sort (tests use tie-free data).
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from xjit.ops.opdef import UNKNOWN, register
from xjit.ops.types import (
    ShapeError,
    TensorMeta,
    bool_,
    broadcast_shapes,
    from_numpy_dtype,
    int64,
    normalize_dim,
)

MedianResult = namedtuple("median", ["values", "indices"])  # noqa: PYI024  (torch.return_types)

DATA_DEPENDENT = (
    "{op} has a result size that depends on the data, which compiled code does not support "
    "(run it eagerly, outside the traced or scripted code)"
)


def data_dependent_lower(what: str) -> Any:
    """The entry's lowering: refuse (a trace or a script refuses earlier, at the user's line)."""

    def lower(builder: Any, *args: Any) -> Any:
        raise NotImplementedError(DATA_DEPENDENT.format(op=what))

    return lower


def _meta(a: np.ndarray) -> TensorMeta:
    return TensorMeta(a.shape, from_numpy_dtype(a.dtype))


# -- masked_select -----------------------------------------------------------------------------


def _masked_select_shape(x: TensorMeta, mask: TensorMeta) -> TensorMeta:
    if mask.dtype is not None and mask.dtype != bool_:
        raise ShapeError("masked_select: expected BoolTensor for mask")
    broadcast_shapes(x.shape, mask.shape)
    return TensorMeta((None,), x.dtype)


def _masked_select_eager(a: np.ndarray, mask: np.ndarray) -> np.ndarray:
    _masked_select_shape(_meta(a), _meta(mask))
    x, m = np.broadcast_arrays(a, mask)
    return x[m]


def _masked_select_decompose(torch: Any, x: Any, mask: Any) -> Any:
    """`x[mask]` after broadcasting both: the mask's `nonzero` rows (a `?` count) gather x."""
    if x.shape is None or mask.shape is None or None in (*x.shape, *mask.shape):
        return None
    shape = list(broadcast_shapes(x.shape, mask.shape)) or [1]  # 0-d: one element
    xb = torch.expand(torch.reshape(x, [1]) if not x.shape else x, shape)
    mb = torch.expand(torch.reshape(mask, [1]) if not mask.shape else mask, shape)
    nz = torch.nonzero(mb)
    return torch.index(xb, [torch.select(nz, 1, d) for d in range(len(shape))])


register(
    "aten::masked_select(Tensor self, Tensor mask) -> Tensor",
    _masked_select_shape,
    eager=_masked_select_eager,
    decompose=_masked_select_decompose,
    attrs={"data_sized": True},  # the count is the data's: a trace types it `?` (trace.py)
)


# -- unique --------------------------------------------------------------------------------------


def _unique_eager(
    a: np.ndarray, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # always sorted: torch's CPU kernel sorts whatever `sorted` says
    values, inverse, counts = np.unique(a.reshape(-1), return_inverse=True, return_counts=True)
    inv = inverse.reshape(a.shape).astype(np.int64) if return_inverse else np.zeros(0, np.int64)
    cnt = counts.astype(np.int64) if return_counts else np.zeros(0, np.int64)
    return values.astype(a.dtype), inv, cnt


register(
    "aten::_unique2(Tensor self, bool sorted=True, bool return_inverse=False, bool return_counts=False) -> (Tensor, Tensor, Tensor)",
    lambda x, s=True, ri=False, rc=False: (
        TensorMeta((None,), x.dtype),
        TensorMeta(x.shape if ri else (0,), int64),
        TensorMeta((None,) if rc else (0,), int64),
    ),
    eager=_unique_eager,
    lower=data_dependent_lower("unique"),
    overload_of=("_unique2", "unique"),  # x.unique() in script: this op, refused there
    attrs={"data_dependent": DATA_DEPENDENT.format(op="unique")},
)


# -- median --------------------------------------------------------------------------------------


def _median_check(x: TensorMeta) -> None:
    if x.dtype == bool_:
        raise NotImplementedError("\"median_cpu\" not implemented for 'Bool'")


def _median_shape(x: TensorMeta) -> TensorMeta:
    _median_check(x)
    return TensorMeta((), x.dtype)


def _median_eager(a: np.ndarray) -> np.ndarray:
    _median_shape(_meta(a))
    flat = np.sort(a.reshape(-1), kind="stable")
    if flat.size == 0:
        return np.asarray(np.nan, a.dtype)
    if a.dtype.kind == "f" and np.isnan(flat).any():
        return np.asarray(np.nan, a.dtype)
    return np.asarray(flat[(flat.size - 1) // 2])


def _median_decompose(torch: Any, x: Any) -> Any:
    if any(s is None for s in x.shape):
        return None
    n = int(np.prod(x.shape)) if x.dim() else 1
    if n == 0:
        return None
    flat = torch.reshape(x, [-1])
    v = torch.select(torch.sort(flat, 0)[0], 0, (n - 1) // 2)
    if x.dtype.is_floating_point:  # one NaN makes the median NaN
        v = torch.where(torch.any(torch.isnan(flat)), float("nan"), v)
    return v


register(
    "aten::median(Tensor self) -> Tensor",
    _median_shape,
    eager=_median_eager,
    decompose=_median_decompose,
)


def _median_dim_shape(x: TensorMeta, dim: Any, keepdim: Any = False) -> tuple[TensorMeta, ...]:
    _median_check(x)
    if x.shape is None or dim is UNKNOWN or keepdim is UNKNOWN:
        return TensorMeta(None, x.dtype), TensorMeta(None, int64)
    if not x.shape:
        normalize_dim(dim, 0)
        return TensorMeta((), x.dtype), TensorMeta((), int64)
    d = normalize_dim(dim, len(x.shape))
    if x.shape[d] == 0:
        raise ShapeError(f"median(): Expected reduction dim {d} to have non-zero size.")
    shape = (
        tuple(1 if i == d else s for i, s in enumerate(x.shape))
        if keepdim
        else tuple(s for i, s in enumerate(x.shape) if i != d)
    )
    return TensorMeta(shape, x.dtype), TensorMeta(shape, int64)


def _median_dim_eager(a: np.ndarray, dim: int, keepdim: bool = False) -> MedianResult:
    _median_dim_shape(_meta(a), dim, keepdim)
    if a.ndim == 0:
        return MedianResult(a.copy(), np.asarray(0, np.int64))
    d = normalize_dim(dim, a.ndim)
    order = np.argsort(a, axis=d, kind="stable")  # NaN last
    mid = (a.shape[d] - 1) // 2
    idx = np.take(order, [mid], axis=d)
    if a.dtype.kind == "f":
        nan = np.isnan(a)
        first_nan = np.argmax(nan, axis=d)[(slice(None),) * d + (None,)]
        idx = np.where(nan.any(axis=d, keepdims=True), first_nan, idx)
    vals = np.take_along_axis(a, idx, axis=d)
    if not keepdim:
        vals, idx = np.squeeze(vals, d), np.squeeze(idx, d)
    return MedianResult(vals, idx.astype(np.int64))


def _median_dim_decompose(torch: Any, x: Any, dim: int, keepdim: bool = False) -> Any:
    if x.dim() == 0:
        return None
    d = normalize_dim(dim, x.dim())
    n = x.shape[d]
    if n is None or any(s is None for s in x.shape):
        return None
    values, indices = torch.sort(x, d)
    mid = (n - 1) // 2
    v = torch.slice(values, d, mid, mid + 1)
    i = torch.slice(indices, d, mid, mid + 1)
    if x.dtype.is_floating_point:  # a NaN in the row: NaN, at the first NaN's index
        nan = torch.isnan(x)
        has = torch.amax(nan, [d], True)
        first = torch.argmax(torch.to(nan, int64), d, True)
        v = torch.where(has, float("nan"), v)
        i = torch.where(has, first, i)
    if not keepdim:
        v, i = torch.squeeze(v, d), torch.squeeze(i, d)
    return v, i


register(
    "aten::median.dim(Tensor self, int dim, bool keepdim=False) -> (Tensor, Tensor)",
    _median_dim_shape,
    eager=_median_dim_eager,
    decompose=_median_dim_decompose,
)
