"""Ops that model code needs and the compiler gets for free: elementwise entries whose scalar
body uses only the existing scalar vocabulary (activations, `clamp`, `masked_fill`), and
composite ops that decompose into ops that already lower (`tril`/`triu` as an index comparison
+ `where`, `flip`/`roll`/`repeat`/`cumsum` as slices + `cat`, `var`/`std` as sums).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from xjit.ops.elementwise_ops import check_condition, elementwise
from xjit.ops.opdef import UNKNOWN, register
from xjit.ops.reduction_ops import reduced_dims, reduced_shape
from xjit.ops.types import (
    DEFAULT_FLOAT,
    ShapeError,
    TensorMeta,
    bool_,
    dtype_arg,
    from_numpy_dtype,
    int64,
    normalize_dim,
)


def _meta(a: np.ndarray) -> TensorMeta:
    return TensorMeta(a.shape, from_numpy_dtype(a.dtype))


def _meta_of(x: Any) -> TensorMeta:
    """A decomposition's tensor (an eager Tensor or an IR value) as the shape rules see it."""
    return TensorMeta(tuple(x.shape), x.dtype)


def _sigmoid(o: Any, x: Any) -> Any:
    return o.div(1, o.add(o.exp(o.neg(x)), 1))


def _softplus(o: Any, x: Any, beta: Any = 1, threshold: Any = 20) -> Any:
    # log(1 + e^(βx))/β, linear above the threshold (torch's rule, and no overflow)
    bx = o.mul(x, beta)
    return o.select(o.gt(bx, threshold), x, o.div(o.log(o.add(o.exp(bx), 1)), beta))


# -- activations -----------------------------------------------------------------------------------
elementwise(
    "aten::silu(Tensor self) -> Tensor",
    lambda o, x: o.mul(x, _sigmoid(o, x)),
    dtype="float_input",
    py="torch.nn.functional.silu",
)
elementwise(
    "aten::leaky_relu(Tensor self, Scalar negative_slope=0.01) -> Tensor",
    lambda o, x, slope=0.01: o.select(o.gt(x, 0), x, o.mul(x, slope)),
    dtype="float_input",
    py="torch.nn.functional.leaky_relu",
)
elementwise(
    "aten::elu(Tensor self, Scalar alpha=1, Scalar scale=1, Scalar input_scale=1) -> Tensor",
    lambda o, x, alpha=1, scale=1, input_scale=1: o.select(
        o.gt(x, 0),
        o.mul(x, scale),
        o.mul(o.sub(o.exp(o.mul(x, input_scale)), 1), o.mul(alpha, scale)),
    ),
    dtype="float_input",
    py="torch.nn.functional.elu",
)


def _hardtanh_check(x: Any, lo: Any = -1, hi: Any = 1) -> None:
    if isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and lo > hi:
        raise ValueError("min_val cannot be greater than max_val")


elementwise(
    "aten::hardtanh(Tensor self, Scalar min_val=-1, Scalar max_val=1) -> Tensor",
    lambda o, x, lo=-1, hi=1: o.minimum(o.maximum(x, lo), hi),
    dtype="self",  # F.hardtanh's float bounds leave an int tensor's dtype alone, as in torch
    no_bool="Bool inputs not supported for hardtanh",
    check=_hardtanh_check,
    py="torch.nn.functional.hardtanh",
)
elementwise(
    "aten::softplus(Tensor self, Scalar beta=1, Scalar threshold=20) -> Tensor",
    _softplus,
    dtype="float_input",
    py="torch.nn.functional.softplus",
)
elementwise(
    "aten::mish(Tensor self) -> Tensor",
    lambda o, x: o.mul(x, o.tanh(_softplus(o, x))),
    dtype="float_input",
    py="torch.nn.functional.mish",
)


def _clamp(o: Any, x: Any, lo: Any = None, hi: Any = None) -> Any:
    if lo is not None:
        x = o.maximum(x, lo)
    if hi is not None:
        x = o.minimum(x, hi)
    return x


elementwise(
    "aten::clamp(Tensor self, Scalar? min=None, Scalar? max=None) -> Tensor",
    _clamp,
    overload_of=("clamp", "clip"),
)
elementwise(
    "aten::clamp_min(Tensor self, Scalar min) -> Tensor",
    lambda o, x, lo: o.maximum(x, lo),
    no_bool="\"clamp_min_scalar_cpu\" not implemented for 'Bool'",
)
elementwise(
    "aten::clamp_max(Tensor self, Scalar max) -> Tensor",
    lambda o, x, hi: o.minimum(x, hi),
    no_bool="\"clamp_max_scalar_cpu\" not implemented for 'Bool'",
)
elementwise(
    "aten::sign(Tensor self) -> Tensor",
    lambda o, x: o.select(o.gt(x, 0), 1, o.select(o.lt(x, 0), -1, 0)),
)


# -- masked_fill / where with two scalars ------------------------------------------------------------
def _masked_check(x: TensorMeta, mask: TensorMeta, value: Any) -> None:
    """torch's rules: a bool mask and a 0-d value tensor (out of place, self and mask broadcast
    together, as in torch)."""
    if mask.dtype is not None and mask.dtype != bool_:
        raise ShapeError(
            f"masked_fill only supports boolean masks, but got mask with dtype {mask.dtype.name}"
        )
    if isinstance(value, TensorMeta) and value.shape is not None and len(value.shape) != 0:
        raise ShapeError(
            "masked_fill only supports a 0-dimensional value tensor, but got tensor with "
            f"{len(value.shape)} dimension(s)"
        )


_masked = {"keep": ("mask",), "dtype": "self", "check": _masked_check}
elementwise(
    "aten::masked_fill.Scalar(Tensor self, Tensor mask, Scalar value) -> Tensor",
    lambda o, x, mask, v: o.select(mask, v, x),
    **_masked,
)
elementwise(
    "aten::masked_fill.Tensor(Tensor self, Tensor mask, Tensor value) -> Tensor",
    lambda o, x, mask, v: o.select(mask, v, x),
    **_masked,
)


def _scalars_dtype(*vals: Any) -> Any:
    if any(isinstance(v, float) for v in vals):
        return DEFAULT_FLOAT
    if all(isinstance(v, bool) for v in vals):
        return bool_
    return int64


def _where_scalars_shape(c: TensorMeta, x: Any, y: Any) -> TensorMeta:
    check_condition(c)
    return TensorMeta(c.shape, _scalars_dtype(x, y))


register(
    "aten::where.Scalar(Tensor condition, Scalar self, Scalar other) -> Tensor",
    _where_scalars_shape,
    eager=lambda c, x, y: (
        _where_scalars_shape(TensorMeta(c.shape, from_numpy_dtype(c.dtype)), x, y),
        np.where(c, x, y).astype(_scalars_dtype(x, y).np),
    )[1],
    decompose=lambda torch, c, x, y: torch.where(
        c, torch.full_like(c, x, dtype=_scalars_dtype(x, y)), y
    ),
    py="torch.where",
)


# -- tril / triu ------------------------------------------------------------------------------------


def _tri_shape(x: TensorMeta, diagonal: Any = 0) -> TensorMeta:
    if x.shape is not None and len(x.shape) < 2:
        raise ShapeError("tril/triu: input tensor must have at least 2 dimensions")
    return x


def _tri_decompose(lower: bool) -> Any:
    def decompose(torch: Any, x: Any, k: Any = 0) -> Any:
        m, n = x.shape[-2:]
        if m is None or n is None:
            return None
        offset = torch.sub(
            torch.arange(n), torch.unsqueeze(torch.arange(m), 1)
        )  # [m, n]: column - row
        keep = torch.le(offset, k) if lower else torch.ge(offset, k)
        return torch.where(keep, x, torch.zeros_like(x))

    return decompose


for _name, _np, _lower in (("tril", np.tril, True), ("triu", np.triu, False)):
    register(
        f"aten::{_name}(Tensor self, int diagonal=0) -> Tensor",
        _tri_shape,
        eager=lambda a, k=0, _f=_np: (_tri_shape(_meta(a)), _f(a, k))[1],
        decompose=_tri_decompose(_lower),
    )


# -- flip / roll / repeat / cumsum: slices and cat ------------------------------------------------


def _dims(x: TensorMeta, dims: Any) -> list[int]:
    out = [normalize_dim(d, len(x.shape)) for d in dims]
    if len(set(out)) != len(out):
        raise ShapeError(f"dims {list(dims)} has duplicates")
    return out


def _flip_shape(x: TensorMeta, dims: Any) -> TensorMeta:
    if x.shape is not None and dims is not UNKNOWN:
        _dims(x, dims)
    return x


def _flip_decompose(torch: Any, x: Any, dims: list[int]) -> Any:
    for d in _dims(_meta_of(x), dims):
        n = x.shape[d]
        if n is None:
            return None
        if n > 1:
            x = torch.cat([torch.slice(x, d, i, i + 1) for i in reversed(range(n))], d)
    return x


register(
    "aten::flip(Tensor self, int[] dims) -> Tensor",
    _flip_shape,
    eager=lambda a, dims: np.flip(a, _dims(_meta(a), dims)).copy(),
    decompose=_flip_decompose,
)


def _roll_args(x: TensorMeta, shifts: Any, dims: Any) -> list[tuple[int, int]]:
    if not dims:
        if len(shifts) != 1:
            raise ShapeError("roll: shifts must have one element when dims is empty")
        return [(shifts[0], -1)]
    if len(shifts) != len(dims):
        raise ShapeError(f"roll: shifts and dims must align, got {len(shifts)} and {len(dims)}")
    return list(zip(shifts, _dims(x, dims), strict=True))


def _roll_decompose(torch: Any, x: Any, shifts: list[int], dims: list[int] = []) -> Any:  # noqa: B006
    if not dims:
        shape = list(x.shape)
        flat = _roll_decompose(torch, torch.reshape(x, [-1]), shifts, [0])
        return torch.reshape(flat, shape)
    for shift, d in _roll_args(_meta_of(x), shifts, dims):
        n = x.shape[d]
        if n is None:
            return None
        s = shift % n if n else 0
        if s:
            x = torch.cat([torch.slice(x, d, n - s, n), torch.slice(x, d, 0, n - s)], d)
    return x


register(
    "aten::roll(Tensor self, int[] shifts, int[] dims=[]) -> Tensor",
    lambda x, shifts, dims=[]: x,  # noqa: B006
    eager=lambda a, shifts, dims=[]: np.roll(  # noqa: B006
        a, shifts, None if not dims else [d for _, d in _roll_args(_meta(a), shifts, dims)]
    ),
    decompose=_roll_decompose,
)


def _repeat_shape(x: TensorMeta, repeats: Any) -> TensorMeta:
    if x.shape is None or repeats is UNKNOWN:
        return TensorMeta(None, x.dtype)
    if len(repeats) < len(x.shape):
        raise ShapeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions "
            "of tensor"
        )
    shape = (1,) * (len(repeats) - len(x.shape)) + tuple(x.shape)
    return TensorMeta(tuple(None if s is None else s * r for s, r in zip(shape, repeats)), x.dtype)


def _repeat_decompose(torch: Any, x: Any, repeats: list[int]) -> Any:
    lead = len(repeats) - x.dim()
    if lead:
        x = torch.reshape(x, [1] * lead + list(x.shape))
    for d, r in enumerate(repeats):
        if r == 0:
            return None  # an empty result: nothing to copy (not decomposed)
        if r > 1:
            x = torch.cat([x] * r, d)
    return x


register(
    "aten::repeat(Tensor self, int[] repeats) -> Tensor",
    _repeat_shape,
    eager=lambda a, repeats: (_repeat_shape(_meta(a), repeats), np.tile(a, repeats))[1],
    decompose=_repeat_decompose,
)


def _cumsum_shape(x: TensorMeta, dim: Any, dtype: Any = None) -> TensorMeta:
    dt = dtype_arg(dtype) or (x.dtype if x.dtype is None or x.dtype.kind == 2 else int64)
    if x.shape is not None and dim is not UNKNOWN:
        normalize_dim(dim, len(x.shape))
    return TensorMeta(x.shape, dt)


def _cumsum_decompose(torch: Any, x: Any, dim: int, dtype: Any = None) -> Any:
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
        acc = torch.add(acc, torch.slice(x, d, i, i + 1))
        parts.append(acc)
    return torch.cat(parts, d) if n > 1 else acc


def _cumsum_eager(a: np.ndarray, dim: int, dtype: Any = None) -> np.ndarray:
    dt = _cumsum_shape(_meta(a), dim, dtype).dtype
    if a.ndim == 0:
        return a.astype(dt.np)
    return np.cumsum(a.astype(dt.np), axis=normalize_dim(dim, a.ndim))


register(
    "aten::cumsum(Tensor self, int dim, *, ScalarType? dtype=None) -> Tensor",
    _cumsum_shape,
    eager=_cumsum_eager,
    decompose=_cumsum_decompose,
)


# -- var / std -------------------------------------------------------------------------------------


def _var_shape(x: TensorMeta, dim: Any, correction: Any, keepdim: Any) -> TensorMeta:
    if x.dtype is not None and not x.dtype.is_floating_point:
        raise ShapeError(f"var/std: expected a floating point tensor, got {x.dtype.name}")
    if x.shape is None or dim is UNKNOWN or keepdim is UNKNOWN:
        return TensorMeta(None, x.dtype)
    return TensorMeta(reduced_shape(x, reduced_dims(x, dim), keepdim), x.dtype)


def _var_decompose(sqrt: bool) -> Any:
    def decompose(torch: Any, x: Any, dim: Any, correction: Any, keepdim: bool) -> Any:
        dims = reduced_dims(_meta_of(x), dim)
        if any(x.shape[d] is None for d in dims):
            return None
        n = math.prod(x.shape[d] for d in dims)
        dev = torch.sub(x, torch.mean(x, dims, True))
        ss = torch.sum(torch.mul(dev, dev), dims, keepdim)
        out = torch.div(ss, max(n - (1 if correction is None else correction), 0))
        return torch.sqrt(out) if sqrt else out

    return decompose


def _var_eager(sqrt: bool) -> Any:
    def eager(a: np.ndarray, dim: Any, correction: Any, keepdim: bool) -> np.ndarray:
        m = _var_shape(_meta(a), dim, correction, keepdim)
        axes = tuple(reduced_dims(_meta(a), dim))
        ddof = 1 if correction is None else correction
        with np.errstate(all="ignore"):
            v = np.var(a, axis=axes, ddof=ddof, keepdims=keepdim)
        return np.asarray(np.sqrt(v) if sqrt else v, m.dtype.np)

    return eager


# torch's three Python spellings: x.var(), x.var(dim, unbiased, keepdim), x.var(dim, correction=)
for _name, _sqrt in (("var", False), ("std", True)):
    _eager, _dec = _var_eager(_sqrt), _var_decompose(_sqrt)
    register(
        f"aten::{_name}(Tensor self, bool unbiased=True) -> Tensor",
        lambda x, u=True: _var_shape(x, None, int(u), False),
        eager=lambda a, u=True, _e=_eager: _e(a, None, int(u), False),
        decompose=lambda torch, x, u=True, _d=_dec: _d(torch, x, None, int(u), False),
    )
    register(
        f"aten::{_name}.dim(Tensor self, int[]? dim, bool unbiased=True, bool keepdim=False) -> Tensor",
        lambda x, dim, u=True, keepdim=False: _var_shape(x, dim, int(u), keepdim),
        eager=lambda a, dim, u=True, keepdim=False, _e=_eager: _e(a, dim, int(u), keepdim),
        decompose=lambda torch, x, dim, u=True, keepdim=False, _d=_dec: _d(
            torch, x, dim, int(u), keepdim
        ),
    )
    register(
        f"aten::{_name}.correction(Tensor self, int[]? dim=None, *, Scalar? correction=None, bool keepdim=False) -> Tensor",
        _var_shape,
        eager=_eager,
        decompose=_dec,
    )
