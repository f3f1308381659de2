"""Class indices: `one_hot` (indices to a 0/1 int64 tensor) and `multinomial` (sampling
indices from probabilities; eager only, xjit's own random stream).

`one_hot(t, num_classes=-1)` takes its class count from the data (max + 1): eager only; a
trace or compile refuses it, since the result's shape would depend on the values. Compiled
`one_hot` checks at run time that every class index is in range (torch raises).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xjit.ops.opdef import UNKNOWN, register
from xjit.ops.rng import generator
from xjit.ops.types import ShapeError, TensorMeta, int64

_DATA_DEPENDENT = (
    "one_hot(num_classes=-1) takes the class count from the data, which a trace or compiled "
    "program cannot do: pass num_classes explicitly"
)


def _one_hot_shape(x: TensorMeta, num_classes: Any = -1) -> TensorMeta:
    if x.dtype is not None and x.dtype != int64:
        raise ShapeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes is UNKNOWN:
        return TensorMeta(None, int64)
    if num_classes == -1:
        raise ShapeError(_DATA_DEPENDENT)
    if num_classes < -1:
        raise ShapeError("num_classes should be positive")
    return TensorMeta(None if x.shape is None else (*x.shape, num_classes), int64)


def _one_hot_eager(a: np.ndarray, num_classes: int = -1) -> np.ndarray:
    if a.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if a.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(a.max()) + 1
    _one_hot_shape(TensorMeta(a.shape, int64), num_classes)
    if a.size and a.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if a.size and a.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return (a[..., None] == np.arange(num_classes)).astype(np.int64)


def _one_hot_lower(builder: Any, x: Any, num_classes: int = -1) -> Any:
    """out[..., c] = (x[...] == c), after a run-time check that 0 <= x < num_classes (a
    reduction to one bool and a `cf.assert`: compiled code never returns a row of zeros where
    torch raises)."""
    # lazy: xDSL loads only when a program is compiled, not with the op catalog
    from xdsl.dialects import arith
    from xdsl.dialects.builtin import i64
    from xdsl.dialects.linalg.ops import IndexOp
    from xdsl.ir.affine import AffineDimExpr, AffineMap

    rank = builder.rank(x)
    builder.assert_in_range(x, 0, num_classes, "one_hot: class values must be in [0, num_classes)")
    n = rank + 1
    in_map = AffineMap(n, 0, tuple(AffineDimExpr(d) for d in range(rank)))
    init = builder.empty(builder.result(), [(x, in_map)])

    def body(o: Any, a: Any, bb: Any) -> Any:
        c = bb.insert(arith.IndexCastOp(bb.insert(IndexOp(rank)).result, i64)).result
        return o.select(o.eq(a[0], c), 1, 0)

    return builder.generic([x], [in_map], init, AffineMap.identity(n), ["parallel"] * n, body)


register(
    "aten::one_hot(Tensor self, int num_classes=-1) -> Tensor",
    _one_hot_shape,
    eager=_one_hot_eager,
    lower=_one_hot_lower,
    py="torch.nn.functional.one_hot",
)


# -- multinomial -----------------------------------------------------------------------------------


def _multinomial_shape(p: TensorMeta, num_samples: Any, replacement: Any = False) -> TensorMeta:
    if p.shape is not None and len(p.shape) not in (1, 2):
        raise ShapeError("prob_dist must be 1 or 2 dim")
    if p.dtype is not None and not p.dtype.is_floating_point:
        raise ShapeError(
            f"multinomial only supports floating-point dtypes for input, got: {p.dtype.name}"
        )
    if p.shape is None or num_samples is UNKNOWN:
        return TensorMeta(None, int64)
    return TensorMeta((*p.shape[:-1], num_samples), int64)


def _multinomial_eager(p: np.ndarray, num_samples: int, replacement: bool = False) -> np.ndarray:
    _multinomial_shape(TensorMeta(p.shape, None), num_samples, replacement)
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    rows = np.atleast_2d(p).astype(np.float64)
    n = rows.shape[-1]
    if not replacement and num_samples > n:
        raise RuntimeError(
            "cannot sample n_sample > prob_dist.size(-1) samples without replacement"
        )
    if not np.all(np.isfinite(rows)) or np.any(rows < 0):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    sums = rows.sum(-1)
    if np.any(sums <= 0):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rng = generator()
    out = np.empty((rows.shape[0], num_samples), np.int64)
    for r, (row, s) in enumerate(zip(rows, sums, strict=True)):
        if replacement:
            out[r] = rng.choice(n, num_samples, replace=True, p=row / s)
        else:
            # without replacement, as torch: the exponential race (the largest p_i / E_i,
            # E_i ~ Exp(1), are an ordered sample without replacement); categories of zero
            # probability come last, in index order
            keys = row / rng.exponential(size=n)
            out[r] = np.argsort(-keys, kind="stable")[:num_samples]
    return out.reshape((*p.shape[:-1], num_samples))


def _no_rng(builder: Any, *args: Any) -> Any:
    # lazy: xDSL loads only when a program is compiled, not with the op catalog
    from xdsl.utils.exceptions import DiagnosticException

    raise DiagnosticException(
        "multinomial cannot be compiled: the linalg stage has no random number generator "
        "(sample eagerly, outside the traced function)"
    )


register(
    "aten::multinomial(Tensor self, int num_samples, bool replacement=False) -> Tensor",
    _multinomial_shape,
    eager=_multinomial_eager,
    lower=_no_rng,
    attrs={"impure": True},
)
