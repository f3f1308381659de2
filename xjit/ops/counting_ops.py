"""Counting and searching: `bincount` (its length is the data's largest value: eager only, a
trace or a script refuses it at the user's line), `histc`, `searchsorted`, `bucketize` (eager
only: a histogram is a scatter-add, a search a per-element binary search, neither in the
compiler's vocabulary), and `isin`, which decomposes into a broadcast `eq` + `any` and
compiles.

`histc` puts each element in its bin as torch's CPU kernel does: by linear interpolation
between the outer edges, in the input's dtype, without checking the bin's own edges (torch's
`histc`, unlike `histogram`); the maximum in the last bin; elements outside [min, max] (and
NaN) dropped.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xjit.ops.opdef import UNKNOWN, register
from xjit.ops.selection_ops import DATA_DEPENDENT, data_dependent_lower
from xjit.ops.types import (
    ShapeError,
    TensorMeta,
    bool_,
    float32,
    float64,
    from_numpy_dtype,
    int32,
    int64,
)
from xjit.ops.uncompiled import eager_only

_KERNEL_NAME = {float32: "Float", float64: "Double", int64: "Long", int32: "Int", bool_: "Bool"}


def _meta(a: np.ndarray) -> TensorMeta:
    return TensorMeta(a.shape, from_numpy_dtype(a.dtype))


# -- bincount --------------------------------------------------------------------------------------


def _bincount_shape(x: TensorMeta, weights: Any = None, minlength: Any = 0) -> TensorMeta:
    if x.dtype is not None and x.dtype.kind != 1:
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for '{_KERNEL_NAME[x.dtype]}'")
    if x.shape is not None and len(x.shape) != 1:
        raise ShapeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        dt = int64
    elif weights.dtype is not None and weights.dtype.is_floating_point:
        dt = weights.dtype
    else:
        dt = float64  # integer weights count in double, as torch
    return TensorMeta((None,), dt)


def _bincount_eager(a: np.ndarray, weights: Any = None, minlength: int = 0) -> np.ndarray:
    m = _bincount_shape(_meta(a), None if weights is None else _meta(weights), minlength)
    if minlength < 0:
        raise ShapeError("minlength should be >= 0")
    if a.size and a.min() < 0:
        raise ShapeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is not None and weights.shape != a.shape:
        raise ShapeError("weights should be 1-d and have the same length as input")
    w = None if weights is None else weights.astype(np.float64)
    return np.bincount(a, w, minlength).astype(m.dtype.np)


register(
    "aten::bincount(Tensor self, Tensor? weights=None, int minlength=0) -> Tensor",
    _bincount_shape,
    eager=_bincount_eager,
    lower=data_dependent_lower("bincount"),
    attrs={"data_dependent": DATA_DEPENDENT.format(op="bincount")},
)


# -- histc -----------------------------------------------------------------------------------------


def _histc_shape(x: TensorMeta, bins: Any = 100, lo: Any = 0, hi: Any = 0) -> TensorMeta:
    if x.dtype is not None and not x.dtype.is_floating_point:
        raise NotImplementedError(
            f"\"histogram_cpu\" not implemented for '{_KERNEL_NAME[x.dtype]}'"
        )
    if bins is not UNKNOWN and bins <= 0:
        raise ShapeError(f"torch.histc(): bins must be > 0, but got {bins} for dimension 0")
    return TensorMeta((None if bins is UNKNOWN else bins,), x.dtype)


def _histc_eager(a: np.ndarray, bins: int = 100, lo: Any = 0, hi: Any = 0) -> np.ndarray:
    _histc_shape(_meta(a), bins, lo, hi)
    dt = a.dtype.type
    flat = a.reshape(-1)
    lo, hi = float(lo), float(hi)  # torch picks the range in double
    if lo == hi and flat.size:  # the data's range (NaN in it: not finite)
        lo, hi = float(flat.min()), float(flat.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ShapeError(f"torch.histc: range of [{lo}, {hi}] is not finite")
    if lo > hi:
        raise ShapeError("torch.histc: max must be larger than min")
    edges = _linspace(dt(lo), dt(hi), bins + 1, dt)
    left, right = edges[0], edges[-1]
    with np.errstate(all="ignore"):
        x = flat[(flat >= left) & (flat <= right)]
        # torch's histc: the interpolated bin alone (no search against the edges), in x's dtype
        pos = ((x - left) * dt(bins) / (right - left)).astype(np.int64)
    pos = np.minimum(pos, bins - 1)  # the maximum: the last bin
    return np.bincount(pos, minlength=bins).astype(a.dtype)


def _linspace(lo: Any, hi: Any, n: int, dt: Any) -> np.ndarray:
    """torch.linspace's values in `dt`: from the start in the first half, from the end in the
    second (its CPU kernel's symmetric formula)."""
    step = (hi - lo) / dt(n - 1)
    i = np.arange(n)
    half = n // 2
    return np.where(i < half, lo + step * i.astype(dt), hi - step * (n - 1 - i).astype(dt)).astype(
        dt
    )


register(
    "aten::histc(Tensor self, int bins=100, Scalar min=0, Scalar max=0) -> Tensor",
    _histc_shape,
    eager=_histc_eager,
    **eager_only("histc"),
)


# -- searchsorted / bucketize ----------------------------------------------------------------------


def _search_dtype(out_int32: Any) -> Any:
    return int32 if out_int32 is True else int64


def _searchsorted_shape(
    seq: TensorMeta,
    x: Any,
    out_int32: Any = False,
    right: Any = False,
    side: Any = None,
    sorter: Any = None,
) -> TensorMeta:
    if side not in (None, "left", "right", UNKNOWN):
        raise ShapeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
    if side is not None and side is not UNKNOWN and right is True and side == "left":
        raise ShapeError(
            "torch.searchsorted(): side and right can't be set to opposites, got side of left "
            "while right was True"
        )
    shape = x.shape if isinstance(x, TensorMeta) else ()
    if isinstance(x, TensorMeta) and seq.shape is not None and x.shape is not None:
        if len(seq.shape) > 1 and seq.shape[:-1] != x.shape[:-1]:
            raise ShapeError(
                "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                "dimensions of boundaries tensor and input value tensor must match, but we got "
                f"boundaries tensor {list(seq.shape)} and input value tensor {list(x.shape)}"
            )
    return TensorMeta(shape, _search_dtype(out_int32))


def _searchsorted_eager(
    seq: np.ndarray,
    x: Any,
    out_int32: bool = False,
    right: bool = False,
    side: Any = None,
    sorter: Any = None,
) -> np.ndarray:
    xm = _meta(x) if isinstance(x, np.ndarray) else x
    m = _searchsorted_shape(_meta(seq), xm, out_int32, right, side, sorter)
    how = "right" if right or side == "right" else "left"
    if sorter is not None:
        seq = np.take_along_axis(seq, sorter, -1)
    vals = np.asarray(x)
    if seq.ndim <= 1:
        out = np.searchsorted(seq, vals, side=how)  # NaN sorts last, as torch
    else:
        rows_s = seq.reshape(-1, seq.shape[-1])
        rows_v = vals.reshape(rows_s.shape[0], -1)
        out = np.stack(
            [np.searchsorted(s, v, side=how) for s, v in zip(rows_s, rows_v, strict=True)]
        ).reshape(vals.shape)
    return np.asarray(out, m.dtype.np)


for _schema in (
    "aten::searchsorted.Tensor(Tensor sorted_sequence, Tensor self, *, bool out_int32=False, bool right=False, str? side=None, Tensor? sorter=None) -> Tensor",
    "aten::searchsorted.Scalar(Tensor sorted_sequence, Scalar self, *, bool out_int32=False, bool right=False, str? side=None, Tensor? sorter=None) -> Tensor",
):
    register(
        _schema,
        _searchsorted_shape,
        eager=_searchsorted_eager,
        **eager_only("searchsorted"),
    )


def _bucketize_shape(
    x: Any, boundaries: TensorMeta, out_int32: Any = False, right: Any = False
) -> TensorMeta:
    if boundaries.shape is not None and len(boundaries.shape) != 1:
        raise ShapeError(
            f"boundaries tensor must be 1 dimension, but got dim({len(boundaries.shape)})"
        )
    return TensorMeta(x.shape if isinstance(x, TensorMeta) else (), _search_dtype(out_int32))


def _bucketize_eager(
    x: Any, boundaries: np.ndarray, out_int32: bool = False, right: bool = False
) -> np.ndarray:
    xm = _meta(x) if isinstance(x, np.ndarray) else x
    m = _bucketize_shape(xm, _meta(boundaries), out_int32, right)
    out = np.searchsorted(boundaries, np.asarray(x), side="right" if right else "left")
    return np.asarray(out, m.dtype.np)


for _schema in (
    "aten::bucketize.Tensor(Tensor self, Tensor boundaries, *, bool out_int32=False, bool right=False) -> Tensor",
    "aten::bucketize.Scalar(Scalar self, Tensor boundaries, *, bool out_int32=False, bool right=False) -> Tensor",
):
    register(_schema, _bucketize_shape, eager=_bucketize_eager, **eager_only("bucketize"))


# -- isin ------------------------------------------------------------------------------------------


def _check_isin_types(e: Any, t: Any) -> None:
    """torch's isin has no bool kernel: a bool tensor or a Python bool on either side raises."""
    for v in (e, t):
        dt = v.dtype if isinstance(v, TensorMeta) else None
        if isinstance(v, np.ndarray):
            dt = from_numpy_dtype(v.dtype)
        if isinstance(v, (bool, np.bool_)) or dt is bool_:
            raise ShapeError("Unsupported input type encountered for isin(): Bool")


def _isin_shape(e: Any, t: Any, assume_unique: Any = False, invert: Any = False) -> TensorMeta:
    _check_isin_types(e, t)
    return TensorMeta(e.shape if isinstance(e, TensorMeta) else (), bool_)


def _isin_eager(e: Any, t: Any, assume_unique: bool = False, invert: bool = False) -> np.ndarray:
    _check_isin_types(e, t)
    found = np.isin(np.asarray(e), np.asarray(t), invert=invert)  # NaN is in nothing
    return np.asarray(found, np.bool_)


def _isin_decompose(
    torch: Any, e: Any, t: Any, assume_unique: bool = False, invert: bool = False
) -> Any:
    if not hasattr(e, "shape"):  # one Scalar element: is it anywhere in the tensor?
        found = torch.any(torch.eq(t, e))
        return torch.logical_not(found) if invert else found
    if not hasattr(t, "shape"):  # one Scalar test element
        found = torch.eq(e, t)
        return torch.logical_not(found) if invert else found
    if e.shape is None or t.shape is None or None in (*e.shape, *t.shape):
        return None
    n = 1
    for s in t.shape:
        n *= s
    if n == 0:
        return None
    flat = torch.reshape(t, [n])
    hit = torch.eq(torch.unsqueeze(e, -1), flat)  # every element against every test element
    found = torch.any(hit, -1, False)
    return torch.logical_not(found) if invert else found


def _isin_lower(builder: Any, *args: Any) -> Any:
    raise NotImplementedError(
        "isin is compiled for static sizes and a non-empty tensor of test elements only "
        "(aten::isin)"
    )


for _schema in (
    "aten::isin.Tensor_Tensor(Tensor elements, Tensor test_elements, *, bool assume_unique=False, bool invert=False) -> Tensor",
    "aten::isin.Tensor_Scalar(Tensor elements, Scalar test_element, *, bool assume_unique=False, bool invert=False) -> Tensor",
    "aten::isin.Scalar_Tensor(Scalar element, Tensor test_elements, *, bool assume_unique=False, bool invert=False) -> Tensor",
):
    register(_schema, _isin_shape, eager=_isin_eager, decompose=_isin_decompose, lower=_isin_lower)
