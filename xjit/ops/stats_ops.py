"""Statistics model code calls beyond `var`/`median`: `std_mean`/`var_mean`, `aminmax`,
`nansum`/`nanmean`, `cummax`/`cummin`, `logcumsumexp` (these decompose, so they compile),
`round(decimals=)` (elementwise), and the eager-only `kthvalue`, `mode`, `quantile`/
`nanquantile` (refused, located, in a trace or a script).

Indices are torch's, ties included: `cummax`/`cummin` take the latest position of the running
extreme (torch's `>=`/`<=` update), and of the latest NaN once one is seen; `kthvalue` runs
torch's CPU quickselect (median of three, same swaps), so its index on ties is the one torch
returns; `mode` sorts the row with a port of libstdc++'s `std::sort`, as torch's kernel, and
takes the same element of the first longest run (xjit/ops/torch_kernels.py).
"""

from __future__ import annotations

import math
from collections import namedtuple
from typing import Any

import numpy as np

from xjit.ops.composite_ops import _var_decompose, _var_eager
from xjit.ops.elementwise_ops import elementwise
from xjit.ops.opdef import UNKNOWN, register
from xjit.ops.reduction_ops import reduced_dims, reduced_shape
from xjit.ops.torch_kernels import quickselect, std_sort
from xjit.ops.types import (
    ShapeError,
    TensorMeta,
    bool_,
    dtype_arg,
    float32,
    float64,
    from_numpy_dtype,
    int32,
    int64,
    normalize_dim,
)
from xjit.ops.uncompiled import eager_only

# torch.return_types
AminmaxResult = namedtuple("aminmax", ["min", "max"])  # noqa: PYI024
CummaxResult = namedtuple("cummax", ["values", "indices"])  # noqa: PYI024
CumminResult = namedtuple("cummin", ["values", "indices"])  # noqa: PYI024
KthvalueResult = namedtuple("kthvalue", ["values", "indices"])  # noqa: PYI024
ModeResult = namedtuple("mode", ["values", "indices"])  # noqa: PYI024

_KERNEL_NAME = {float32: "Float", float64: "Double", int64: "Long", int32: "Int", bool_: "Bool"}


def _meta(a: np.ndarray) -> TensorMeta:
    return TensorMeta(a.shape, from_numpy_dtype(a.dtype))


def _meta_of(x: Any) -> TensorMeta:
    return TensorMeta(tuple(x.shape), x.dtype)


def _static(x: Any) -> bool:
    return x.shape is not None and all(s is not None for s in x.shape)


# -- std_mean / var_mean ---------------------------------------------------------------------------


def _stat_mean_shape(name: str) -> Any:
    def shape(x: TensorMeta, dim: Any, correction: Any, keepdim: Any) -> tuple[TensorMeta, ...]:
        if x.dtype is not None and not x.dtype.is_floating_point:
            raise ShapeError(f"{name} only support floating point and complex dtypes")
        if x.shape is None or dim is UNKNOWN or keepdim is UNKNOWN:
            return TensorMeta(None, x.dtype), TensorMeta(None, x.dtype)
        m = TensorMeta(reduced_shape(x, reduced_dims(x, dim), keepdim), x.dtype)
        return m, m

    return shape


def _stat_mean_eager(name: str, sqrt: bool) -> Any:
    stat = _var_eager(sqrt)

    def eager(a: np.ndarray, dim: Any, correction: Any, keepdim: bool) -> tuple[Any, Any]:
        _stat_mean_shape(name)(_meta(a), dim, correction, keepdim)
        axes = tuple(reduced_dims(_meta(a), dim))
        with np.errstate(all="ignore"):
            mean = np.asarray(np.mean(a, axis=axes, keepdims=keepdim), a.dtype)
        return stat(a, dim, correction, keepdim), mean

    return eager


def _stat_mean_decompose(sqrt: bool) -> Any:
    stat = _var_decompose(sqrt)

    def decompose(torch: Any, x: Any, dim: Any, correction: Any, keepdim: bool) -> Any:
        s = stat(torch, x, dim, correction, keepdim)
        if s is None:
            return None
        return s, torch.mean(x, reduced_dims(_meta_of(x), dim), keepdim)

    return decompose


# torch's three spellings, as var/std: f(x), f(x, dim, unbiased, keepdim), f(x, dim, correction=)
for _name, _sqrt in (("std_mean", True), ("var_mean", False)):
    _shape, _eager = _stat_mean_shape(_name), _stat_mean_eager(_name, _sqrt)
    _dec = _stat_mean_decompose(_sqrt)
    register(
        f"aten::{_name}(Tensor self, bool unbiased=True) -> (Tensor, Tensor)",
        lambda x, u=True, _s=_shape: _s(x, None, int(u), False),
        eager=lambda a, u=True, _e=_eager: _e(a, None, int(u), False),
        decompose=lambda torch, x, u=True, _d=_dec: _d(torch, x, None, int(u), False),
    )
    register(
        f"aten::{_name}.dim(Tensor self, int[]? dim, bool unbiased=True, bool keepdim=False) -> (Tensor, Tensor)",
        lambda x, dim, u=True, keepdim=False, _s=_shape: _s(x, dim, int(u), keepdim),
        eager=lambda a, dim, u=True, keepdim=False, _e=_eager: _e(a, dim, int(u), keepdim),
        decompose=lambda torch, x, dim, u=True, keepdim=False, _d=_dec: _d(
            torch, x, dim, int(u), keepdim
        ),
    )
    register(
        f"aten::{_name}.correction(Tensor self, int[]? dim=None, *, Scalar? correction=None, bool keepdim=False) -> (Tensor, Tensor)",
        _shape,
        eager=_eager,
        decompose=_dec,
    )


# -- aminmax ---------------------------------------------------------------------------------------


def _aminmax_dims(x: TensorMeta, dim: Any) -> list[int]:
    return reduced_dims(x, None if dim is None else [dim])


def _aminmax_shape(x: TensorMeta, dim: Any = None, keepdim: Any = False) -> tuple[TensorMeta, ...]:
    if x.shape is None or dim is UNKNOWN or keepdim is UNKNOWN:
        return TensorMeta(None, x.dtype), TensorMeta(None, x.dtype)
    dims = _aminmax_dims(x, dim)
    if dim is None and 0 in x.shape:
        raise ShapeError(
            "aminmax(): cannot compute aminmax over an empty dimension as the operation has "
            "no identity."
        )
    for d in dims:
        if x.shape[d] == 0:
            raise ShapeError(f"aminmax(): Expected reduction dim {d} to have non-zero size.")
    m = TensorMeta(reduced_shape(x, dims, keepdim), x.dtype)
    return m, m


def _aminmax_eager(a: np.ndarray, dim: Any = None, keepdim: bool = False) -> AminmaxResult:
    _aminmax_shape(_meta(a), dim, keepdim)
    axes = tuple(_aminmax_dims(_meta(a), dim))
    lo = np.asarray(np.min(a, axis=axes, keepdims=keepdim), a.dtype)  # NaN propagates, as torch
    hi = np.asarray(np.max(a, axis=axes, keepdims=keepdim), a.dtype)
    return AminmaxResult(lo, hi)


def _aminmax_decompose(torch: Any, x: Any, dim: Any = None, keepdim: bool = False) -> Any:
    dims = _aminmax_dims(_meta_of(x), dim)
    return torch.amin(x, dims, keepdim), torch.amax(x, dims, keepdim)


register(
    "aten::aminmax(Tensor self, *, int? dim=None, bool keepdim=False) -> (Tensor, Tensor)",
    _aminmax_shape,
    eager=_aminmax_eager,
    decompose=_aminmax_decompose,
)


# -- nansum / nanmean ------------------------------------------------------------------------------


def _nan_shape(name: str) -> Any:
    def shape(x: TensorMeta, dim: Any = None, keepdim: Any = False, dtype: Any = None) -> Any:
        d = dtype_arg(dtype) if dtype is not UNKNOWN else None
        if name == "nanmean" and x.dtype is not None and not x.dtype.is_floating_point:
            raise ShapeError(
                "nanmean(): expected input to have floating point or complex dtype but got "
                f"{_KERNEL_NAME[x.dtype]}"
            )
        if d is None and x.dtype is not None:  # nansum of integers: int64, as sum
            d = x.dtype if x.dtype.is_floating_point else int64
        if x.shape is None or dim is UNKNOWN or keepdim is UNKNOWN:
            return TensorMeta(None, d)
        return TensorMeta(reduced_shape(x, reduced_dims(x, dim), keepdim), d)

    return shape


def _nan_eager(name: str) -> Any:
    shape = _nan_shape(name)

    def eager(a: np.ndarray, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Any:
        m = shape(_meta(a), dim, keepdim, dtype)
        axes = tuple(reduced_dims(_meta(a), dim))
        b = a.astype(m.dtype.np, copy=False)
        with np.errstate(all="ignore"):
            if name == "nansum":
                return np.asarray(np.nansum(b, axis=axes, keepdims=keepdim), m.dtype.np)
            kept = ~np.isnan(b)
            s = np.sum(np.where(kept, b, 0), axis=axes, keepdims=keepdim)
            return np.asarray(s / np.sum(kept, axis=axes, keepdims=keepdim), m.dtype.np)

    return eager


def _nan_decompose(name: str) -> Any:
    def decompose(
        torch: Any, x: Any, dim: Any = None, keepdim: bool = False, dtype: Any = None
    ) -> Any:
        dt = _nan_shape(name)(_meta_of(x), dim, keepdim, dtype).dtype
        dims = reduced_dims(_meta_of(x), dim)
        y = torch.to(x, dt) if dt != x.dtype else x
        if not dt.is_floating_point:  # integers have no NaN
            return torch.sum(y, dims, keepdim)
        nan = torch.isnan(y)
        total = torch.sum(torch.where(nan, 0.0, y), dims, keepdim)
        if name == "nansum":
            return total
        count = torch.sum(torch.logical_not(nan), dims, keepdim)
        return torch.div(total, count)

    return decompose


for _name in ("nansum", "nanmean"):
    register(
        f"aten::{_name}(Tensor self, int[]? dim=None, bool keepdim=False, *, ScalarType? dtype=None) -> Tensor",
        _nan_shape(_name),
        eager=_nan_eager(_name),
        decompose=_nan_decompose(_name),
    )


# -- cummax / cummin and logcumsumexp: prefix reductions ------------------------------------------


def _cum_shape(x: TensorMeta, dim: Any) -> tuple[TensorMeta, ...]:
    if x.shape is not None and dim is not UNKNOWN:
        normalize_dim(dim, len(x.shape))
    return TensorMeta(x.shape, x.dtype), TensorMeta(x.shape, int64)


def _cum_extreme_eager(largest: bool) -> Any:
    result = CummaxResult if largest else CumminResult

    def eager(a: np.ndarray, dim: int) -> Any:
        _cum_shape(_meta(a), dim)
        if a.ndim == 0:
            return result(a.copy(), np.zeros((), np.int64))
        d = normalize_dim(dim, a.ndim)
        x = np.moveaxis(a, d, -1)
        vals, idx = np.empty_like(x), np.zeros(x.shape, np.int64)
        if x.shape[-1]:
            cur, ci = x[..., 0].copy(), np.zeros(x.shape[:-1], np.int64)
            for i in range(x.shape[-1]):
                v = x[..., i]
                better = v >= cur if largest else v <= cur
                if a.dtype.kind == "f":  # torch: `isnan(x) || (!isnan(out) && x >= out)`
                    better = np.isnan(v) | (~np.isnan(cur) & better)
                cur = np.where(better, v, cur)
                ci = np.where(better, i, ci)
                vals[..., i], idx[..., i] = cur, ci
        return result(np.moveaxis(vals, -1, d), np.moveaxis(idx, -1, d))

    return eager


def _prefix(torch: Any, x: Any, d: int, fill: Any) -> Any:
    """x with its dim `d` moved last and a new last dim: [..., i, j] = x[..., j] for j <= i,
    `fill` elsewhere (a prefix reduction is then a reduction over the last dim)."""
    n = x.shape[d]
    xm = torch.movedim(x, d, -1)
    xb = torch.expand(torch.unsqueeze(xm, -2), [*xm.shape[:-1], n, n])
    tri = torch.tril(torch.ones([n, n], dtype=bool_), 0)
    return torch.where(tri, xb, fill), tri


def _fill_low(dt: Any, largest: bool) -> Any:
    """The value that never wins a max (or min) over `dt`."""
    if dt == bool_:
        return not largest
    if dt.is_floating_point:
        return -math.inf if largest else math.inf
    info = np.iinfo(dt.np)
    return int(info.min) if largest else int(info.max)


def _cum_extreme_decompose(largest: bool) -> Any:
    def decompose(torch: Any, x: Any, dim: int) -> Any:
        if not _static(x) or x.dim() == 0 or 0 in x.shape:
            return None
        d = normalize_dim(dim, x.dim())
        n = x.shape[d]
        pre, tri = _prefix(torch, x, d, _fill_low(x.dtype, largest))
        ext = torch.amax(pre, [-1], False) if largest else torch.amin(pre, [-1], False)
        hit = torch.eq(pre, torch.unsqueeze(ext, -1))
        if x.dtype.is_floating_point:  # NaN: the running value is NaN, at the latest NaN
            hit = torch.logical_or(
                hit, torch.logical_and(torch.isnan(pre), torch.unsqueeze(torch.isnan(ext), -1))
            )
        # the latest position j <= i holding the running extreme (torch's `>=` update)
        pos = torch.arange(0, n, 1, dtype=int64)
        idx = torch.amax(torch.where(torch.logical_and(hit, tri), pos, -1), [-1], False)
        return torch.movedim(ext, -1, d), torch.movedim(idx, -1, d)

    return decompose


for _name, _largest in (("cummax", True), ("cummin", False)):
    register(
        f"aten::{_name}(Tensor self, int dim) -> (Tensor, Tensor)",
        _cum_shape,
        eager=_cum_extreme_eager(_largest),
        decompose=_cum_extreme_decompose(_largest),
    )


def _logcumsumexp_shape(x: TensorMeta, dim: Any) -> TensorMeta:
    if x.dtype is not None and not x.dtype.is_floating_point:
        raise NotImplementedError(
            f"\"logcumsumexp_out_cpu\" not implemented for '{_KERNEL_NAME[x.dtype]}'"
        )
    return _cum_shape(x, dim)[0]


def _logcumsumexp_eager(a: np.ndarray, dim: int) -> np.ndarray:
    _logcumsumexp_shape(_meta(a), dim)
    if a.ndim == 0:
        return a.copy()
    with np.errstate(all="ignore"):
        return np.logaddexp.accumulate(a, axis=normalize_dim(dim, a.ndim))


def _logcumsumexp_decompose(torch: Any, x: Any, dim: int) -> Any:
    # each prefix's own logsumexp (shifted by that prefix's max): no underflow of small terms
    # against a later large one, as a shift by the global max would have
    if not _static(x) or x.dim() == 0 or 0 in x.shape:
        return None
    d = normalize_dim(dim, x.dim())
    pre, _ = _prefix(torch, x, d, -math.inf)
    return torch.movedim(torch.logsumexp(pre, [-1], False), -1, d)


register(
    "aten::logcumsumexp(Tensor self, int dim) -> Tensor",
    _logcumsumexp_shape,
    eager=_logcumsumexp_eager,
    decompose=_logcumsumexp_decompose,
)


# -- round(decimals=) ------------------------------------------------------------------------------


def _round_decimals(o: Any, x: Any, decimals: int) -> Any:
    # torch: nearbyint(x * 10^d) / 10^d, or nearbyint(x / 10^-d) * 10^-d for d <= 0
    if decimals > 0:
        p = 10.0**decimals
        return o.div(o.round(o.mul(x, p)), p)
    p = 10.0**-decimals
    return o.mul(o.round(o.div(x, p)), p)


def _round_decimals_check(x: Any, decimals: Any) -> None:
    if isinstance(x, TensorMeta) and x.dtype is not None and not x.dtype.is_floating_point:
        raise NotImplementedError(f"\"round_cpu\" not implemented for '{_KERNEL_NAME[x.dtype]}'")


elementwise(
    "aten::round.decimals(Tensor self, *, int decimals) -> Tensor",
    _round_decimals,
    check=_round_decimals_check,
)


# -- kthvalue / mode: eager only (their tie-breaking is torch's kernels', not a sort's) -----------


def _kth_shape(x: TensorMeta, k: Any, dim: Any = -1, keepdim: Any = False) -> Any:
    if x.shape is None or dim is UNKNOWN or keepdim is UNKNOWN:
        return TensorMeta(None, x.dtype), TensorMeta(None, int64)
    if not x.shape:
        normalize_dim(dim, 0)
        if k is not UNKNOWN and k != 1:
            raise ShapeError(f"kthvalue(): selected number k out of range for dimension {dim}")
        return TensorMeta((), x.dtype), TensorMeta((), int64)
    d = normalize_dim(dim, len(x.shape))
    n = x.shape[d]
    if k is not UNKNOWN and n is not None and not 1 <= k <= n:
        raise ShapeError(f"kthvalue(): selected number k out of range for dimension {dim}")
    shape = reduced_shape(x, [d], keepdim)
    return TensorMeta(shape, x.dtype), TensorMeta(shape, int64)


def _gt_or_nan(x: Any, y: Any) -> bool:
    # NaN sorts last, as torch's kthvalue comparator
    return bool((x != x and y == y) or x > y)


def _per_row(a: np.ndarray, dim: int, keepdim: bool, fn: Any) -> tuple[np.ndarray, np.ndarray]:
    """`fn(row) -> (value, index)` over the rows of `a` along `dim`."""
    d = normalize_dim(dim, a.ndim)
    x = np.moveaxis(a, d, -1)
    rows = x.reshape(-1, x.shape[-1])
    vals = np.empty(rows.shape[0], a.dtype)
    idx = np.empty(rows.shape[0], np.int64)
    for r, row in enumerate(rows):
        vals[r], idx[r] = fn(row)
    vals, idx = vals.reshape(x.shape[:-1]), idx.reshape(x.shape[:-1])
    if keepdim:
        vals, idx = np.expand_dims(vals, d), np.expand_dims(idx, d)
    return vals, idx


def _kthvalue_eager(a: np.ndarray, k: int, dim: int = -1, keepdim: bool = False) -> Any:
    _kth_shape(_meta(a), k, dim, keepdim)
    if a.ndim == 0:
        return KthvalueResult(a.copy(), np.zeros((), np.int64))

    def select(row: np.ndarray) -> tuple[Any, int]:
        vals, idx = row.tolist(), list(range(len(row)))
        quickselect(vals, idx, k - 1, _gt_or_nan)
        return vals[k - 1], idx[k - 1]

    return KthvalueResult(*_per_row(a, dim, keepdim, select))


register(
    "aten::kthvalue(Tensor self, int k, int dim=-1, bool keepdim=False) -> (Tensor, Tensor)",
    _kth_shape,
    eager=_kthvalue_eager,
    **eager_only("kthvalue"),
)


def _mode_shape(x: TensorMeta, dim: Any = -1, keepdim: Any = False) -> Any:
    if x.shape is None or dim is UNKNOWN or keepdim is UNKNOWN:
        return TensorMeta(None, x.dtype), TensorMeta(None, int64)
    if not x.shape:
        normalize_dim(dim, 0)
        return TensorMeta((), x.dtype), TensorMeta((), int64)
    d = normalize_dim(dim, len(x.shape))
    if x.shape[d] == 0:
        raise ShapeError(f"mode(): Expected reduction dim {d} to have non-zero size.")
    shape = reduced_shape(x, [d], keepdim)
    return TensorMeta(shape, x.dtype), TensorMeta(shape, int64)


def _mode_row(row: np.ndarray) -> tuple[Any, int]:
    # torch's loop over the sorted row: the first longest run (NaN != NaN: runs of one), at the
    # index its last element came from
    v, ix = row.tolist(), list(range(len(row)))
    std_sort(v, ix)
    best, run, longest = 0, 0, 0
    for i in range(len(v)):
        run += 1
        if i == len(v) - 1 or v[i] != v[i + 1]:
            if run > longest:
                best, longest = i, run
            run = 0
    return v[best], ix[best]


def _mode_eager(a: np.ndarray, dim: int = -1, keepdim: bool = False) -> Any:
    _mode_shape(_meta(a), dim, keepdim)
    if a.ndim == 0:
        return ModeResult(a.copy(), np.zeros((), np.int64))
    return ModeResult(*_per_row(a, dim, keepdim, _mode_row))


register(
    "aten::mode(Tensor self, int dim=-1, bool keepdim=False) -> (Tensor, Tensor)",
    _mode_shape,
    eager=_mode_eager,
    **eager_only("mode"),
)


# -- quantile / nanquantile: eager only ------------------------------------------------------------

_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile_shape(name: str) -> Any:
    def shape(
        x: TensorMeta, q: Any, dim: Any = None, keepdim: Any = False, interpolation: Any = "linear"
    ) -> TensorMeta:
        if x.dtype is not None and not x.dtype.is_floating_point:
            raise ShapeError(f"{name}() input tensor must be either float or double dtype")
        if isinstance(q, TensorMeta):
            if q.dtype is not None and x.dtype is not None and q.dtype != x.dtype:
                raise ShapeError(f"{name}() q tensor must be same dtype as the input tensor")
            if q.shape is not None and len(q.shape) > 1:
                raise ShapeError(f"{name}() q must be a scalar or 1D tensor")
        if interpolation not in (*_METHODS, UNKNOWN):
            raise ShapeError(
                f"{name}() interpolation must be one of linear, lower, higher, midpoint or "
                f"nearest. Got {interpolation}"
            )
        if x.shape is None or dim is UNKNOWN or keepdim is UNKNOWN:
            return TensorMeta(None, x.dtype)
        if dim is None:
            out = (1,) * len(x.shape) if keepdim else ()
        else:
            out = reduced_shape(x, [normalize_dim(dim, len(x.shape))], keepdim)
        if isinstance(q, TensorMeta):
            if q.shape is None:
                return TensorMeta(None, x.dtype)
            out = (*q.shape, *out)
        return TensorMeta(out, x.dtype)

    return shape


def _quantile_eager(name: str) -> Any:
    shape = _quantile_shape(name)

    def eager(
        a: np.ndarray, q: Any, dim: Any = None, keepdim: bool = False, interpolation: str = "linear"
    ) -> np.ndarray:
        m = shape(
            _meta(a), _meta(q) if isinstance(q, np.ndarray) else q, dim, keepdim, interpolation
        )
        qs = np.asarray(q, np.float64)
        if np.any((qs < 0) | (qs > 1)):
            raise ShapeError(f"{name}() q values must be in the range [0, 1]")
        if a.size == 0:
            return np.full(m.shape, np.nan, a.dtype)
        x = a.reshape(-1) if dim is None else a
        axis = 0 if dim is None else normalize_dim(dim, a.ndim)
        fn = np.nanquantile if name == "nanquantile" else np.quantile
        with np.errstate(all="ignore"):
            r = fn(x, qs, axis=axis, method=interpolation, keepdims=keepdim and dim is not None)
        return np.asarray(r, a.dtype).reshape(m.shape)

    return eager


for _name in ("quantile", "nanquantile"):
    register(
        f"aten::{_name}(Tensor self, Tensor q, int? dim=None, bool keepdim=False, *, str interpolation='linear') -> Tensor",
        _quantile_shape(_name),
        eager=_quantile_eager(_name),
        **eager_only(_name),
    )
    register(
        f"aten::{_name}.scalar(Tensor self, float q, int? dim=None, bool keepdim=False, *, str interpolation='linear') -> Tensor",
        _quantile_shape(_name),
        eager=_quantile_eager(_name),
        **eager_only(_name),
    )
