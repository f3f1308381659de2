"""`logsumexp` and the evaluation losses `nll_loss` / `cross_entropy`'s core, as decompositions
into ops that already lower (reductions, `where`, an index comparison against `arange`), with
numpy eager semantics. `F.nll_loss/cross_entropy` map their `reduction=` strings to torch's
`Reduction` enum (0 none, 1 mean, 2 sum) on these entries (xjit/nn/functional.py)."""

from __future__ import annotations

from typing import Any

import numpy as np

from xjit.ops.opdef import UNKNOWN, register
from xjit.ops.reduction_ops import reduced_dims, reduced_shape
from xjit.ops.types import ShapeError, TensorMeta, from_numpy_dtype


def _meta(a: np.ndarray) -> TensorMeta:
    return TensorMeta(a.shape, from_numpy_dtype(a.dtype))


# -- logsumexp ----------------------------------------------------------------------------------
def _lse_shape(x: TensorMeta, dim: Any, keepdim: Any = False) -> TensorMeta:
    if x.dtype is not None and not x.dtype.is_floating_point:
        raise ShapeError(f"logsumexp: expected a floating point tensor, got {x.dtype.name}")
    if x.shape is None or dim is UNKNOWN or keepdim is UNKNOWN:
        return TensorMeta(None, x.dtype)
    return TensorMeta(reduced_shape(x, reduced_dims(x, dim), keepdim), x.dtype)


def _lse_eager(a: np.ndarray, dim: Any, keepdim: bool = False) -> np.ndarray:
    m = _lse_shape(_meta(a), dim, keepdim)
    axes = tuple(reduced_dims(_meta(a), dim))
    with np.errstate(all="ignore"):
        mx = np.amax(a, axis=axes, keepdims=True) if a.size else np.zeros((1,) * a.ndim, a.dtype)
        mx = np.where(np.isinf(mx), 0, mx)  # all -inf (or an inf): no shift, as torch
        r = np.log(np.sum(np.exp(a - mx), axis=axes, keepdims=True)) + mx
    return np.asarray(r if keepdim else np.squeeze(r, axis=axes), m.dtype.np)


def _lse_decompose(torch: Any, x: Any, dim: Any, keepdim: bool = False) -> Any:
    dims = reduced_dims(TensorMeta(tuple(x.shape), x.dtype), dim)
    mx = torch.amax(x, dims, True)
    mx = torch.where(torch.eq(torch.abs(mx), float("inf")), 0.0, mx)
    s = torch.sum(torch.exp(torch.sub(x, mx)), dims, True)
    r = torch.add(torch.log(s), mx)
    return (
        r
        if keepdim
        else torch.squeeze(r, dims[0])
        if len(dims) == 1
        else _squeeze_all(torch, r, dims)
    )


def _squeeze_all(torch: Any, r: Any, dims: list[int]) -> Any:
    for d in sorted(dims, reverse=True):
        r = torch.squeeze(r, d)
    return r


register(
    "aten::logsumexp(Tensor self, int[] dim, bool keepdim=False) -> Tensor",
    _lse_shape,
    eager=_lse_eager,
    decompose=_lse_decompose,
)


# -- nll_loss (2-D input, class indices, no class weights) ----------------------------------------
_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _nll_shape(
    x: TensorMeta, target: TensorMeta, weight: Any = None, reduction: Any = 1, ignore: Any = -100
) -> TensorMeta:
    if weight is not None:
        raise NotImplementedError("nll_loss: class weights are not supported yet")
    if x.shape is not None and len(x.shape) != 2:
        raise NotImplementedError(
            f"nll_loss: only (N, C) inputs are supported, got {len(x.shape)} dimension(s)"
        )
    if target.dtype is not None and target.dtype.is_floating_point:
        raise NotImplementedError("nll_loss: class probabilities as targets are not supported")
    if reduction not in _REDUCTIONS:
        raise ShapeError(f"nll_loss: {reduction} is not a valid value for reduction")
    if x.shape is not None and target.shape is not None and target.shape != x.shape[:1]:
        raise ShapeError(
            f"Expected input batch_size ({x.shape[0]}) to match target batch_size "
            f"({target.shape[0] if target.shape else 0})."
        )
    shape = (x.shape[0],) if reduction == 0 and x.shape is not None else ()
    return TensorMeta(shape if reduction == 0 else (), x.dtype)


def _nll_eager(
    a: np.ndarray, t: np.ndarray, weight: Any = None, reduction: int = 1, ignore: int = -100
) -> np.ndarray:
    m = _nll_shape(_meta(a), _meta(t), weight, reduction, ignore)
    valid = t != ignore
    if np.any(valid & ((t < 0) | (t >= a.shape[1]))):
        raise IndexError(f"Target {t[valid & ((t < 0) | (t >= a.shape[1]))][0]} is out of bounds.")
    picked = np.where(valid, -a[np.arange(a.shape[0]), np.where(valid, t, 0)], 0).astype(a.dtype)
    with np.errstate(all="ignore"):
        if reduction == 0:
            return picked
        total = picked.sum(dtype=a.dtype)
        out = total if reduction == 2 else total / a.dtype.type(valid.sum())
    return np.asarray(out, m.dtype.np)


def _nll_decompose(
    torch: Any, x: Any, t: Any, weight: Any = None, reduction: int = 1, ignore: int = -100
) -> Any:
    # torch raises on an out-of-range class index; compiled code has no run-time error path, so
    # such a row's loss is NaN (it poisons mean and sum) rather than a plausible 0.
    valid = torch.ne(t, ignore)  # an ignored row picks nothing (its target may be a class)
    hit = torch.logical_and(
        torch.eq(torch.unsqueeze(t, 1), torch.arange(x.shape[1])), torch.unsqueeze(valid, 1)
    )
    loss = torch.sum(torch.where(hit, torch.neg(x), 0.0), [1])
    missed = torch.logical_and(valid, torch.eq(torch.sum(torch.where(hit, 1.0, 0.0), [1]), 0.0))
    loss = torch.where(missed, float("nan"), loss)
    if reduction == 0:
        return loss
    total = torch.sum(loss)
    if reduction == 2:
        return total
    return torch.div(total, torch.sum(valid, dtype=x.dtype))


register(
    "aten::nll_loss(Tensor self, Tensor target, Tensor? weight=None, int reduction=1, int ignore_index=-100) -> Tensor",  # noqa: E501
    _nll_shape,
    eager=_nll_eager,
    decompose=_nll_decompose,
    py="torch.nn.functional.nll_loss",
)
