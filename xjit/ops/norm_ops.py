"""Vector norms: `torch.linalg.vector_norm` and the tensor method `norm` (torch.norm's aten
overloads). Each decomposes into reductions that already lower: sum(|x|^p)^(1/p), with the
special orders torch special-cases (2: sqrt of a sum of squares, 1: sum of |x|, inf/-inf:
amax/amin of |x|, 0: the count of nonzeros).

`torch.norm(x, p='fro')` and `F.normalize` are Python over these (xjit/_functional.py,
xjit/nn/normalize.py).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from xjit.ops.opdef import UNKNOWN, register
from xjit.ops.reduction_ops import reduced_dims, reduced_shape
from xjit.ops.types import ShapeError, TensorMeta, dtype_arg, from_numpy_dtype


def _norm_shape(
    x: TensorMeta, ord: Any = 2, dim: Any = None, keepdim: Any = False, dtype: Any = None
) -> TensorMeta:
    dt = dtype_arg(dtype) or x.dtype
    if x.dtype is not None and not x.dtype.is_floating_point:
        raise ShapeError(
            "linalg.vector_norm: Expected a floating point or complex tensor as input. "
            f"Got {x.dtype.name}"
        )
    if x.shape is None or dim is UNKNOWN or keepdim is UNKNOWN:
        return TensorMeta(None, dt)
    dims = reduced_dims(x, [] if dim is None else dim)
    if ord is not UNKNOWN and ord < 0 and any(x.shape[d] == 0 for d in dims):
        raise ShapeError(
            f"linalg.vector_norm cannot compute the {ord} norm on an empty tensor because the "
            "operation does not have an identity"
        )
    return TensorMeta(reduced_shape(x, dims, keepdim), dt)


def _norm_eager(
    a: np.ndarray, ord: Any = 2, dim: Any = None, keepdim: bool = False, dtype: Any = None
) -> np.ndarray:
    m = _norm_shape(TensorMeta(a.shape, from_numpy_dtype(a.dtype)), ord, dim, keepdim, dtype)
    axes = tuple(reduced_dims(TensorMeta(a.shape, None), [] if dim is None else dim))
    x = np.abs(a.astype(m.dtype.np))
    with np.errstate(all="ignore"):
        if ord == math.inf:
            out = np.max(x, axis=axes, keepdims=keepdim, initial=0)
        elif ord == -math.inf:
            out = np.min(x, axis=axes, keepdims=keepdim)
        elif ord == 0:
            out = np.sum(x != 0, axis=axes, keepdims=keepdim)
        elif ord == 1:
            out = np.sum(x, axis=axes, keepdims=keepdim)
        elif ord == 2:
            out = np.sqrt(np.sum(x * x, axis=axes, keepdims=keepdim))
        else:
            out = np.sum(x**ord, axis=axes, keepdims=keepdim) ** (1.0 / ord)
    return np.asarray(out, m.dtype.np)


def _norm_decompose(
    torch: Any, x: Any, ord: Any = 2, dim: Any = None, keepdim: bool = False, dtype: Any = None
) -> Any:
    m = _norm_shape(TensorMeta(tuple(x.shape), x.dtype), ord, dim, keepdim, dtype)
    dims = reduced_dims(TensorMeta(tuple(x.shape), None), [] if dim is None else dim)
    if x.dtype != m.dtype:
        x = torch.to(x, m.dtype)
    a = torch.abs(x)
    if ord == math.inf:
        if any(x.shape[d] == 0 for d in dims):
            return None  # torch: 0 for an empty inf-norm; amax has no identity
        return torch.amax(a, dims, keepdim)
    if ord == -math.inf:
        return torch.amin(a, dims, keepdim)
    if ord == 0:
        return torch.sum(torch.ne(a, 0), dims, keepdim, dtype=m.dtype)
    if ord == 1:
        return torch.sum(a, dims, keepdim)
    if ord == 2:
        return torch.sqrt(torch.sum(torch.mul(a, a), dims, keepdim))
    return torch.pow(torch.sum(torch.pow(a, ord), dims, keepdim), 1.0 / ord)


register(
    "aten::linalg_vector_norm(Tensor self, Scalar ord=2, int[]? dim=None, bool keepdim=False, *, ScalarType? dtype=None) -> Tensor",
    _norm_shape,
    eager=_norm_eager,
    decompose=_norm_decompose,
    py="torch.linalg.vector_norm",
)

# Tensor.norm / torch.norm's aten overloads (p=None is the 2-norm, as torch's 'fro').
register(
    "aten::norm.Scalar(Tensor self, Scalar p=2) -> Tensor",
    lambda x, p=2: _norm_shape(x, p),
    eager=lambda a, p=2: _norm_eager(a, p),
    decompose=lambda torch, x, p=2: _norm_decompose(torch, x, p),
)
register(
    "aten::norm.ScalarOpt_dim(Tensor self, Scalar? p, int[] dim, bool keepdim=False) -> Tensor",
    lambda x, p, dim, keepdim=False: _norm_shape(x, 2 if p is None else p, dim, keepdim),
    eager=lambda a, p, dim, keepdim=False: _norm_eager(a, 2 if p is None else p, dim, keepdim),
    decompose=lambda torch, x, p, dim, keepdim=False: _norm_decompose(
        torch, x, 2 if p is None else p, dim, keepdim
    ),
)
