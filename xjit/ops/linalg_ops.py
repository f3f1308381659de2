"""Linear-algebra ops: matrix products, transposes and the layers built from them."""

from __future__ import annotations

from typing import Any

import numpy as np

from xjit.ops.opdef import register
from xjit.ops.types import ShapeError, TensorMeta, broadcast_shapes, from_numpy_dtype, promote


def _same_dtype(a: TensorMeta, b: TensorMeta, op: str) -> None:
    if a.dtype is not None and b.dtype is not None and a.dtype != b.dtype:
        raise ShapeError(
            f"{op}: expected both operands to have the same dtype, got {a.dtype} and {b.dtype}"
        )


def _dims_agree(a: int | None, b: int | None) -> bool:
    return a is None or b is None or a == b


def _checked(rule: Any, fn: Any) -> Any:
    """Eager semantics that reject what torch rejects (numpy's matmul/.T accept more: 1-D and
    N-D operands, mixed dtypes), by running the op's shape rule on the arrays first."""

    def eager(*args: Any) -> Any:
        rule(
            *(
                TensorMeta(a.shape, from_numpy_dtype(a.dtype)) if isinstance(a, np.ndarray) else a
                for a in args
            )
        )
        return fn(*args)

    return eager


def _mm_shape(a: TensorMeta, b: TensorMeta) -> TensorMeta:
    if a.shape is None or b.shape is None:
        return TensorMeta((None, None), a.dtype)
    if len(a.shape) != 2 or len(b.shape) != 2:
        raise ShapeError(
            f"mm: expected 2-D tensors, got shapes {list(a.shape)} and {list(b.shape)}"
        )
    if not _dims_agree(a.shape[1], b.shape[0]):
        raise ShapeError(
            f"mm: shapes {list(a.shape)} and {list(b.shape)} cannot be multiplied "
            f"({a.shape[1]} != {b.shape[0]})"
        )
    _same_dtype(a, b, "mm")
    return TensorMeta((a.shape[0], b.shape[1]), a.dtype)


register(
    "aten::mm(Tensor self, Tensor mat2) -> Tensor",
    _mm_shape,
    eager=_checked(_mm_shape, np.matmul),
    lower=lambda builder, a, b: builder.matmul(a, b),
)


def _t_shape(a: TensorMeta) -> TensorMeta:
    if a.shape is None:
        return a
    if len(a.shape) > 2:
        raise ShapeError(f"t: expected a tensor of at most 2 dims, got shape {list(a.shape)}")
    return TensorMeta(tuple(reversed(a.shape)), a.dtype)


register(
    "aten::t(Tensor self) -> Tensor",
    _t_shape,
    eager=_checked(_t_shape, lambda a: a.T),
    lower=lambda builder, a: builder.transpose(a, list(reversed(range(builder.rank(a))))),
    attrs={"involution": True},
)


def _linear_shape(x: TensorMeta, w: TensorMeta, b: TensorMeta | None) -> TensorMeta:
    if x.shape is None or w.shape is None:
        return TensorMeta(None, x.dtype)
    if len(w.shape) != 2:
        raise ShapeError(f"linear: weight must be 2-D, got shape {list(w.shape)}")
    if not x.shape or not _dims_agree(x.shape[-1], w.shape[1]):
        raise ShapeError(
            f"linear: input of shape {list(x.shape)} does not match weight of shape {list(w.shape)}"
        )
    _same_dtype(x, w, "linear")
    return TensorMeta((*x.shape[:-1], w.shape[0]), x.dtype)


def _linear_decompose(torch: Any, x: Any, w: Any, b: Any) -> Any:
    y = torch.mm(x, torch.t(w)) if x.dim() == 2 else torch.matmul(x, torch.t(w))
    return y if b is None else torch.add(y, b)


def _linear_eager(x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    y = np.matmul(x, w.T)
    return y if b is None else y + b


register(
    "aten::linear(Tensor input, Tensor weight, Tensor? bias=None) -> Tensor",
    _linear_shape,
    py="torch.nn.functional.linear",
    eager=_linear_eager,
    decompose=_linear_decompose,
)


def _addmm_shape(
    s: TensorMeta, a: TensorMeta, b: TensorMeta, beta: Any = 1, alpha: Any = 1
) -> TensorMeta:
    out = _mm_shape(a, b)

    if broadcast_shapes(s.shape, out.shape) != out.shape:
        raise ShapeError(
            f"addmm: self of shape {list(s.shape or [])} does not broadcast to {list(out.shape or [])}"
        )
    return TensorMeta(out.shape, promote(s.dtype, a.dtype) if s.dtype and a.dtype else a.dtype)


def _addmm_decompose(torch: Any, s: Any, a: Any, b: Any, beta: Any = 1, alpha: Any = 1) -> Any:
    prod = torch.mm(a, b)
    if alpha != 1:
        prod = torch.mul(prod, alpha)
    if beta != 1:
        s = torch.mul(s, beta)
    return torch.add(prod, s)


register(
    "aten::addmm(Tensor self, Tensor mat1, Tensor mat2, *, Scalar beta=1, Scalar alpha=1) -> Tensor",
    _addmm_shape,
    eager=_checked(
        _addmm_shape, lambda s, a, b, beta=1, alpha=1: beta * s + alpha * np.matmul(a, b)
    ),
    decompose=_addmm_decompose,
)


def _matmul_shape(a: TensorMeta, b: TensorMeta) -> TensorMeta:
    """numpy/torch matmul: 1-D operands gain (then lose) a dim, batch dims broadcast."""
    if a.shape is None or b.shape is None:
        return TensorMeta(None, a.dtype)
    if not a.shape or not b.shape:
        raise ShapeError(
            "both arguments to matmul need to be at least 1D, but they are "
            f"{len(a.shape)}D and {len(b.shape)}D"
        )
    _same_dtype(a, b, "matmul")
    sa = (1,) + a.shape if len(a.shape) == 1 else a.shape
    sb = b.shape + (1,) if len(b.shape) == 1 else b.shape
    if not _dims_agree(sa[-1], sb[-2]):
        raise ShapeError(
            f"matmul: shapes {list(a.shape)} and {list(b.shape)} cannot be multiplied "
            f"({sa[-1]} != {sb[-2]})"
        )

    batch = broadcast_shapes(sa[:-2], sb[:-2])
    assert batch is not None
    out = batch + ((sa[-2],) if len(a.shape) > 1 else ()) + ((sb[-1],) if len(b.shape) > 1 else ())
    return TensorMeta(out, a.dtype)


def _matmul_lower(builder: Any, a: Any, b: Any) -> Any:
    from xdsl.ir.affine import AffineConstantExpr, AffineDimExpr

    sa, sb = tuple(a.type.get_shape()), tuple(b.type.get_shape())
    ra, rb = len(sa), len(sb)
    out = tuple(builder.result().get_shape())
    n_out = len(out)
    nbatch = n_out - (ra > 1) - (rb > 1)
    k = AffineDimExpr(n_out)

    def batch(shape: tuple, nb: int) -> list:
        exprs = []
        for j in range(nb):
            loop = nbatch - nb + j
            size = shape[j]
            exprs.append(
                AffineConstantExpr(0) if size == 1 and out[loop] != 1 else AffineDimExpr(loop)
            )
        return exprs

    a_exprs = batch(sa, ra - 2) + [AffineDimExpr(nbatch), k] if ra > 1 else [k]
    n_dim = AffineDimExpr(nbatch + (ra > 1))
    b_exprs = batch(sb, rb - 2) + [k, n_dim] if rb > 1 else [k]
    return builder.contract(a, b, a_exprs, b_exprs)


register(
    "aten::matmul(Tensor self, Tensor other) -> Tensor",
    _matmul_shape,
    eager=_checked(_matmul_shape, np.matmul),
    # 2-D x 2-D is mm; every other rank combination is lowered directly (one contraction).
    decompose=lambda torch, a, b: torch.mm(a, b) if a.dim() == 2 and b.dim() == 2 else None,
    lower=_matmul_lower,
)


def _bmm_shape(a: TensorMeta, b: TensorMeta) -> TensorMeta:
    if a.shape is not None and b.shape is not None:
        if len(a.shape) != 3 or len(b.shape) != 3:
            raise ShapeError(
                f"bmm: expected 3-D tensors, got shapes {list(a.shape)} and {list(b.shape)}"
            )
        if not _dims_agree(a.shape[0], b.shape[0]) or not _dims_agree(a.shape[2], b.shape[1]):
            raise ShapeError(
                f"bmm: shapes {list(a.shape)} and {list(b.shape)} cannot be multiplied"
            )
    return _matmul_shape(a, b)


register(
    "aten::bmm(Tensor self, Tensor mat2) -> Tensor",
    _bmm_shape,
    eager=_checked(_bmm_shape, np.matmul),
    lower=_matmul_lower,
)
