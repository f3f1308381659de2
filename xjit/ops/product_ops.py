"""Products and distances model code calls beyond `mm`/`matmul`: `mv`, `addmv`, `addr`,
`tensordot`, `kron`, `cdist`. Each decomposes into ops that lower (`mm`, `mul`, `sum`, ...),
so it compiles with static sizes; eager semantics are numpy with torch's checks, and the shape
rule runs them on zeros (`probe_rule`).

`cdist` with p=2 follows torch's choice of formula: the matrix-product expansion
`|x|^2 - 2 x.y + |y|^2` (clamped at 0) when either side has more than 25 rows (or
`compute_mode='use_mm_for_euclid_dist'`), the direct differences otherwise, so its rounding is
torch's kind of rounding.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from xjit.ops.opdef import register
from xjit.ops.types import (
    ShapeError,
    bool_,
    float32,
    float64,
    from_numpy_dtype,
    int32,
    int64,
    promote,
)
from xjit.ops.uncompiled import probe_rule, promoted_np, static_only

_KERNEL_NAME = {float32: "Float", float64: "Double", int64: "Long", int32: "Int", bool_: "Bool"}


def _name(a: np.ndarray) -> str:
    return _KERNEL_NAME[from_numpy_dtype(a.dtype)]


def _static(*xs: Any) -> bool:
    return all(x.shape is not None and None not in x.shape for x in xs)


def _scale(a: np.ndarray, s: Any, what: str) -> Any:
    """A Scalar factor (beta, alpha) in an integer result: torch refuses a float one."""
    if a.dtype.kind in "iu" and isinstance(s, float):
        raise RuntimeError(
            f"For integral input tensors, argument {what} must not be a floating point number."
        )
    return s


# -- mv / addmv ------------------------------------------------------------------------------------


def _addmv_check(s: np.ndarray, mat: np.ndarray, vec: np.ndarray) -> None:
    if mat.ndim != 2 or vec.ndim != 1 or s.ndim > 1:
        raise ShapeError(f"vector + matrix @ vector expected, got {s.ndim}, {mat.ndim}, {vec.ndim}")
    if mat.shape[1] != vec.shape[0] or (s.ndim == 1 and s.shape[0] not in (1, mat.shape[0])):
        raise ShapeError(
            f"size mismatch, got input ({s.shape[0] if s.ndim else 1}), "
            f"mat ({mat.shape[0]}x{mat.shape[1]}), vec ({vec.shape[0]})"
        )
    if not s.dtype == mat.dtype == vec.dtype:
        raise ShapeError(
            "addmv input tensors must have the same dtype, but got "
            f"{_name(s)}, {_name(mat)}, and {_name(vec)}"
        )
    if mat.dtype == np.bool_:
        raise NotImplementedError("\"addmv_impl_cpu\" not implemented for 'Bool'")


def _addmv_eager(
    s: np.ndarray, mat: np.ndarray, vec: np.ndarray, beta: Any = 1, alpha: Any = 1
) -> np.ndarray:
    _addmv_check(s, mat, vec)
    beta, alpha = _scale(s, beta, "beta"), _scale(s, alpha, "alpha")
    prod = np.matmul(mat, vec) * alpha
    out = prod if beta == 0 else prod + np.broadcast_to(s, prod.shape) * beta  # beta=0: ignore s
    return np.asarray(out, mat.dtype)


def _mv_eager(mat: np.ndarray, vec: np.ndarray) -> np.ndarray:
    _addmv_check(np.zeros(1, vec.dtype), mat, vec)  # torch checks mv as addmv into `vec`'s dtype
    return np.asarray(np.matmul(mat, vec), mat.dtype)


def _mv_decompose(torch: Any, mat: Any, vec: Any) -> Any:
    return torch.squeeze(torch.mm(mat, torch.unsqueeze(vec, 1)), 1)


def _addmv_decompose(torch: Any, s: Any, mat: Any, vec: Any, beta: Any = 1, alpha: Any = 1) -> Any:
    prod = _mv_decompose(torch, mat, vec)
    if alpha != 1:
        prod = torch.mul(prod, alpha)
    if beta == 0:
        return prod
    return torch.add(prod, s if beta == 1 else torch.mul(s, beta))


register(
    "aten::mv(Tensor self, Tensor vec) -> Tensor",
    probe_rule(_mv_eager),
    eager=_mv_eager,
    decompose=_mv_decompose,
)
register(
    "aten::addmv(Tensor self, Tensor mat, Tensor vec, *, Scalar beta=1, Scalar alpha=1) -> Tensor",
    probe_rule(_addmv_eager),
    eager=_addmv_eager,
    decompose=_addmv_decompose,
)


# -- addr ------------------------------------------------------------------------------------------


def _addr_eager(
    s: np.ndarray, v1: np.ndarray, v2: np.ndarray, beta: Any = 1, alpha: Any = 1
) -> np.ndarray:
    if v1.ndim != 1 or v2.ndim != 1:
        raise ShapeError(
            f"addr: Expected 1-D argument vec1, but got {v1.ndim}-D"
            if v1.ndim != 1
            else f"addr: Expected 1-D argument vec2, but got {v2.ndim}-D"
        )
    dt = promoted_np(s, v1, v2)
    outer = np.multiply.outer(v1.astype(dt), v2.astype(dt))
    base = np.broadcast_to(s, outer.shape).astype(dt)  # broadcast error: torch's RuntimeError
    if dt == np.bool_:  # torch: (beta && self) || (alpha && vec1 ⊗ vec2)
        return np.asarray((bool(beta) & base) | (bool(alpha) & outer))
    beta, alpha = _scale(outer, beta, "beta"), _scale(outer, alpha, "alpha")
    prod = outer * alpha
    return np.asarray(prod if beta == 0 else prod + base * beta, dt)


def _addr_decompose(torch: Any, s: Any, v1: Any, v2: Any, beta: Any = 1, alpha: Any = 1) -> Any:
    dt = promote(promote(s.dtype, v1.dtype), v2.dtype)
    v1, v2, s = (x if x.dtype == dt else torch.to(x, dt) for x in (v1, v2, s))
    outer = torch.outer(v1, v2)
    if dt == bool_:
        if not (beta and alpha):
            return None  # (a constant False factor: eager only)
        return torch.logical_or(outer, s)
    if alpha != 1:
        outer = torch.mul(outer, alpha)
    if beta == 0:  # torch ignores self then (NaN in it included)
        return outer
    return torch.add(outer, s if beta == 1 else torch.mul(s, beta))


register(
    "aten::addr(Tensor self, Tensor vec1, Tensor vec2, *, Scalar beta=1, Scalar alpha=1) -> Tensor",
    probe_rule(_addr_eager),
    eager=_addr_eager,
    decompose=_addr_decompose,
    lower=static_only("addr"),
)


# -- tensordot -------------------------------------------------------------------------------------


def _contracted(a: np.ndarray, b: np.ndarray, da: list[int], db: list[int]) -> tuple[list, list]:
    if len(da) != len(db):
        raise ShapeError("both dimension lists should have same length")
    if a.dtype != b.dtype:
        raise ShapeError("both inputs should have same dtype")
    da = [d % max(a.ndim, 1) for d in da]
    db = [d % max(b.ndim, 1) for d in db]
    for x, y in zip(da, db, strict=True):
        if a.shape[x] != b.shape[y]:
            raise ShapeError(
                f"contracted dimensions need to match, but first has size {a.shape[x]} in dim "
                f"{x} and second has size {b.shape[y]} in dim {y}"
            )
    return da, db


def _tensordot_eager(a: np.ndarray, b: np.ndarray, da: list[int], db: list[int]) -> np.ndarray:
    da, db = _contracted(a, b, da, db)
    return np.asarray(np.tensordot(a, b, (da, db)), a.dtype)


def _tensordot_decompose(torch: Any, a: Any, b: Any, da: list[int], db: list[int]) -> Any:
    if not _static(a, b):
        return None
    da = [d % max(a.dim(), 1) for d in da]
    db = [d % max(b.dim(), 1) for d in db]
    fa = [d for d in range(a.dim()) if d not in da]
    fb = [d for d in range(b.dim()) if d not in db]
    k = math.prod(a.shape[d] for d in da)
    am = torch.reshape(torch.permute(a, [*fa, *da]), [math.prod(a.shape[d] for d in fa), k])
    bm = torch.reshape(torch.permute(b, [*db, *fb]), [k, math.prod(b.shape[d] for d in fb)])
    out = [*(a.shape[d] for d in fa), *(b.shape[d] for d in fb)]
    return torch.reshape(torch.mm(am, bm), out)


register(
    "aten::tensordot(Tensor self, Tensor other, int[] dims_self, int[] dims_other) -> Tensor",
    probe_rule(_tensordot_eager),
    eager=_tensordot_eager,
    decompose=_tensordot_decompose,
    lower=static_only("tensordot"),
)


# -- kron ------------------------------------------------------------------------------------------


def _kron_eager(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    dt = promoted_np(a, b)
    if dt == np.bool_:
        return np.kron(a, b).astype(np.bool_)
    return np.asarray(np.kron(a.astype(dt), b.astype(dt)), dt)


def _kron_decompose(torch: Any, a: Any, b: Any) -> Any:
    # a[i] * b[j] at (i * |b| + j) per dim: interleave the two sets of dims and merge pairs
    if not _static(a, b):
        return None
    n = max(a.dim(), b.dim())
    sa = [1] * (n - a.dim()) + list(a.shape)
    sb = [1] * (n - b.dim()) + list(b.shape)
    ai = torch.reshape(a, [d for s in sa for d in (s, 1)])
    bi = torch.reshape(b, [d for s in sb for d in (1, s)])
    prod = torch.logical_and(ai, bi) if a.dtype == bool_ == b.dtype else torch.mul(ai, bi)
    return torch.reshape(prod, [x * y for x, y in zip(sa, sb, strict=True)])


register(
    "aten::kron(Tensor self, Tensor other) -> Tensor",
    probe_rule(_kron_eager),
    eager=_kron_eager,
    decompose=_kron_decompose,
    lower=static_only("kron"),
)


# -- cdist -----------------------------------------------------------------------------------------


def _uses_mm(r1: int, r2: int, p: float, mode: Any) -> bool:
    """torch's `cdist_impl`: the matrix-product expansion for p=2 with mode 1, or mode 0/None
    with more than 25 rows on either side."""
    return p == 2 and (mode == 1 or (mode in (None, 0) and (r1 > 25 or r2 > 25)))


def _cdist_check(x1: np.ndarray, x2: np.ndarray, p: float) -> None:
    for name, x in (("X1", x1), ("X2", x2)):
        if x.dtype.kind != "f":
            raise ShapeError(f"cdist only supports floating-point dtypes, {name} got: {_name(x)}")
    if x1.ndim < 2 or x2.ndim < 2:
        raise ShapeError(
            f"cdist only supports at least 2D tensors, X{1 if x1.ndim < 2 else 2} got: "
            f"{min(x1.ndim, x2.ndim)}D"
        )
    if x1.dtype != x2.dtype:
        raise ShapeError(f"expected scalar type {_name(x1)} but found {_name(x2)}")
    if x1.shape[-1] != x2.shape[-1]:
        raise ShapeError(
            f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}"
        )
    if p < 0:
        raise ShapeError("cdist only supports non-negative p values")


def _cdist_eager(x1: np.ndarray, x2: np.ndarray, p: float = 2.0, mode: Any = None) -> np.ndarray:
    _cdist_check(x1, x2, p)
    batch = np.broadcast_shapes(x1.shape[:-2], x2.shape[:-2])
    a = np.broadcast_to(x1, (*batch, *x1.shape[-2:]))
    b = np.broadcast_to(x2, (*batch, *x2.shape[-2:]))
    with np.errstate(all="ignore"):
        if _uses_mm(a.shape[-2], b.shape[-2], p, mode):
            an = np.sum(a * a, -1, keepdims=True)
            bn = np.sum(b * b, -1, keepdims=True)
            d2 = -2 * np.matmul(a, np.swapaxes(b, -1, -2)) + an + np.swapaxes(bn, -1, -2)
            return np.sqrt(np.maximum(d2, 0)).astype(x1.dtype)
        diff = np.abs(a[..., :, None, :] - b[..., None, :, :])
        if p == 0:
            out = np.sum(diff != 0, -1).astype(x1.dtype)
        elif p == math.inf:
            out = np.max(diff, -1, initial=0)
        else:
            out = np.sum(diff**p, -1) ** (1 / p)
    return np.asarray(out, x1.dtype)


def _cdist_decompose(torch: Any, x1: Any, x2: Any, p: float = 2.0, mode: Any = None) -> Any:
    if not _static(x1, x2) or x1.dim() != 2 or x2.dim() != 2 or 0 in (*x1.shape, *x2.shape):
        return None  # (batched and empty cases are eager only)
    if _uses_mm(x1.shape[0], x2.shape[0], p, mode):
        an = torch.sum(torch.mul(x1, x1), [-1], True)
        bn = torch.sum(torch.mul(x2, x2), [-1], True)
        d2 = torch.add(torch.mul(torch.mm(x1, torch.t(x2)), -2), an)
        return torch.sqrt(torch.clamp_min(torch.add(d2, torch.t(bn)), 0))
    diff = torch.abs(torch.sub(torch.unsqueeze(x1, 1), torch.unsqueeze(x2, 0)))
    if p == 0:
        return torch.sum(torch.to(torch.ne(diff, 0), x1.dtype), [-1], False)
    if p == math.inf:
        return torch.amax(diff, [-1], False)
    if p == 1:
        return torch.sum(diff, [-1], False)
    return torch.pow(torch.sum(torch.pow(diff, p), [-1], False), 1 / p)


register(
    "aten::cdist(Tensor x1, Tensor x2, float p=2.0, int? compute_mode=None) -> Tensor",
    probe_rule(_cdist_eager),
    eager=_cdist_eager,
    decompose=_cdist_decompose,
    lower=static_only("cdist"),
)
