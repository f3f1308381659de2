"""Rearrangements and finite differences model code calls: `rot90`, `diff`, `trapezoid`,
`block_diag`, `cartesian_prod`, `combinations`, `Tensor.unfold` (a view, as torch's). Each decomposes into ops that lower (`flip`,
`transpose`, `slice`, `sub`, `cat`, `constant_pad_nd`, `stack`, ...), with static sizes;
eager semantics are numpy with torch's checks, and the shape rule runs them on zeros.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from xjit.ops.elementwise_ops import _promoted
from xjit.ops.opdef import register
from xjit.ops.types import (
    ShapeError,
    TensorMeta,
    bool_,
    float32,
    from_numpy_dtype,
    normalize_dim,
    promote,
)
from xjit.ops.uncompiled import probe_rule, promoted_np, static_only


def _meta(a: np.ndarray) -> TensorMeta:
    return TensorMeta(a.shape, from_numpy_dtype(a.dtype))


def _static(*xs: Any) -> bool:
    return all(x.shape is not None and None not in x.shape for x in xs)


# -- rot90 -----------------------------------------------------------------------------------------


def _rot90_dims(rank: int, dims: list[int]) -> tuple[int, int]:
    if len(dims) != 2:
        raise ShapeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if rank < 2:
        raise ShapeError(f"expected total dims >= 2, but got total dims = {rank}")
    d0, d1 = normalize_dim(dims[0], rank), normalize_dim(dims[1], rank)
    if d0 == d1:
        raise ShapeError(
            f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}"
        )
    return d0, d1


def _rot90_eager(a: np.ndarray, k: int = 1, dims: Any = (0, 1)) -> np.ndarray:
    d0, d1 = _rot90_dims(a.ndim, list(dims))
    return np.ascontiguousarray(np.rot90(a, k, axes=(d0, d1)))  # torch's definition, a copy


def _rot90_decompose(torch: Any, x: Any, k: int = 1, dims: Any = (0, 1)) -> Any:
    d0, d1 = _rot90_dims(x.dim(), list(dims))
    k %= 4
    if k == 1:
        return torch.transpose(torch.flip(x, [d1]), d0, d1)
    if k == 2:
        return torch.flip(x, [d0, d1])
    if k == 3:
        return torch.flip(torch.transpose(x, d0, d1), [d1])
    return torch.clone(x)


register(
    "aten::rot90(Tensor self, int k=1, int[] dims=[0, 1]) -> Tensor",
    probe_rule(_rot90_eager),
    eager=_rot90_eager,
    decompose=_rot90_decompose,
)


# -- diff ------------------------------------------------------------------------------------------


def _diff_eager(
    a: np.ndarray, n: int = 1, dim: int = -1, prepend: Any = None, append: Any = None
) -> np.ndarray:
    if a.ndim == 0:
        raise ShapeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise ShapeError(f"order must be non-negative but got {n}")
    d = normalize_dim(dim, a.ndim)
    parts = [p for p in (prepend, a, append) if p is not None]
    for p in parts:
        if p.ndim != a.ndim:
            raise ShapeError("diff expects prepend or append to be the same dimension as input")
    dt = promoted_np(*parts)
    x = np.concatenate([p.astype(dt) for p in parts], axis=d) if len(parts) > 1 else a
    for _ in range(n):
        if x.shape[d] == 0:
            break
        hi = np.take(x, range(1, x.shape[d]), axis=d)
        lo = np.take(x, range(x.shape[d] - 1), axis=d)
        x = hi != lo if x.dtype == np.bool_ else hi - lo  # torch: logical_xor for bools
    return np.ascontiguousarray(x, dt)


def _diff_decompose(
    torch: Any, x: Any, n: int = 1, dim: int = -1, prepend: Any = None, append: Any = None
) -> Any:
    parts = [p for p in (prepend, x, append) if p is not None]
    if not _static(*parts) or x.dim() == 0:
        return None
    d = normalize_dim(dim, x.dim())
    if len(parts) > 1:
        x = torch.cat(parts, d)
    for _ in range(n):
        size = x.shape[d]
        if size == 0:
            break
        hi, lo = torch.slice(x, d, 1, size, 1), torch.slice(x, d, 0, size - 1, 1)
        x = torch.ne(hi, lo) if x.dtype == bool_ else torch.sub(hi, lo)
    return x if n else torch.clone(x)


register(
    "aten::diff(Tensor self, int n=1, int dim=-1, Tensor? prepend=None, Tensor? append=None) -> Tensor",
    probe_rule(_diff_eager),
    eager=_diff_eager,
    decompose=_diff_decompose,
    lower=static_only("diff"),
)


# -- trapezoid -------------------------------------------------------------------------------------


def _trapezoid_check(y: np.ndarray) -> None:
    if y.dtype == np.bool_:
        raise ShapeError("trapezoid: received a bool input for `y`, but bool is not supported")


def _float(a: np.ndarray) -> np.ndarray:
    return a if a.dtype.kind == "f" else a.astype(np.float32)


def _trapezoid_dx_eager(y: np.ndarray, dx: Any = 1, dim: int = -1) -> np.ndarray:
    # torch: (sum(y) - (y[0] + y[-1]) / 2) * dx, in y's float dtype
    _trapezoid_check(y)
    d = normalize_dim(dim, y.ndim)
    f = _float(y)
    if y.shape[d] == 0:
        return np.zeros(np.delete(np.array(y.shape), d), f.dtype)
    ends = np.take(f, 0, axis=d) + np.take(f, -1, axis=d)
    return np.asarray((np.sum(f, axis=d) - ends * 0.5) * dx, f.dtype)


def _trapezoid_x_eager(y: np.ndarray, x: np.ndarray, dim: int = -1) -> np.ndarray:
    # torch: sum(diff(x) * (y[1:] + y[:-1])) / 2, diff(x) broadcast against y along `dim`
    _trapezoid_check(y)
    d = normalize_dim(dim, y.ndim)
    n = y.shape[d]
    dt = promoted_np(_float(y), x)
    if x.ndim == 1:
        if x.shape[0] != n:
            raise ShapeError("trapezoid: There must be one `x` value for each sample point")
        dx = np.diff(x).astype(dt).reshape([-1 if i == d else 1 for i in range(y.ndim)])
    else:
        dx = np.diff(x, axis=normalize_dim(dim, x.ndim)).astype(dt)
    if n == 0:
        return np.zeros(np.delete(np.array(y.shape), d), dt)
    yf = y.astype(dt)
    mids = np.take(yf, range(1, n), axis=d) + np.take(yf, range(n - 1), axis=d)
    return np.asarray(np.sum(dx * mids, axis=d) / 2, dt)


def _trapezoid_dx_decompose(torch: Any, y: Any, dx: Any = 1, dim: int = -1) -> Any:
    if not _static(y) or y.dtype == bool_:
        return None
    d = normalize_dim(dim, y.dim())
    if y.shape[d] == 0:
        return None
    f = y if y.dtype.is_floating_point else torch.to(y, float32)
    ends = torch.add(torch.select(f, d, 0), torch.select(f, d, -1))
    return torch.mul(torch.sub(torch.sum(f, [d], False), torch.mul(ends, 0.5)), dx)


def _trapezoid_x_decompose(torch: Any, y: Any, x: Any, dim: int = -1) -> Any:
    if not _static(y, x) or y.dtype == bool_ or x.dim() != 1:
        return None
    d = normalize_dim(dim, y.dim())
    n = y.shape[d]
    if n < 2:
        return None
    dt = promote(y.dtype if y.dtype.is_floating_point else float32, x.dtype)
    yf, xf = (t if t.dtype == dt else torch.to(t, dt) for t in (y, x))
    dx = torch.sub(torch.slice(xf, 0, 1, n, 1), torch.slice(xf, 0, 0, n - 1, 1))
    dx = torch.reshape(dx, [-1 if i == d else 1 for i in range(y.dim())])
    mids = torch.add(torch.slice(yf, d, 1, n, 1), torch.slice(yf, d, 0, n - 1, 1))
    return torch.div(torch.sum(torch.mul(dx, mids), [d], False), 2)


register(
    "aten::trapezoid.x(Tensor y, Tensor x, *, int dim=-1) -> Tensor",
    probe_rule(_trapezoid_x_eager),
    eager=_trapezoid_x_eager,
    decompose=_trapezoid_x_decompose,
    lower=static_only("trapezoid"),
    overload_of=("trapezoid",),
)
register(
    "aten::trapezoid.dx(Tensor y, *, Scalar dx=1, int dim=-1) -> Tensor",
    probe_rule(_trapezoid_dx_eager),
    eager=_trapezoid_dx_eager,
    decompose=_trapezoid_dx_decompose,
    lower=static_only("trapezoid"),
    overload_of=("trapezoid",),
)


# -- block_diag ------------------------------------------------------------------------------------


def _as_2d(shape: tuple[int, ...]) -> tuple[int, int]:
    return (1, 1) if len(shape) == 0 else (1, shape[0]) if len(shape) == 1 else shape  # type: ignore[return-value]


def _block_diag_eager(tensors: list[np.ndarray]) -> np.ndarray:
    for i, t in enumerate(tensors):
        if t.ndim > 2:
            raise ShapeError(
                "torch.block_diag: Input tensors must have 2 or fewer dimensions. "
                f"Input {i} has {t.ndim} dimensions"
            )
    # torch's result_type: a 0-d block counts only when of a higher category
    dt = _promoted(*(_meta(t) for t in tensors)).np if tensors else np.float32
    blocks = [t.reshape(_as_2d(t.shape)) for t in tensors]
    out = np.zeros((sum(b.shape[0] for b in blocks), sum(b.shape[1] for b in blocks)), dt)
    r = c = 0
    for b in blocks:
        out[r : r + b.shape[0], c : c + b.shape[1]] = b
        r, c = r + b.shape[0], c + b.shape[1]
    return out


def _block_diag_decompose(torch: Any, tensors: list[Any]) -> Any:
    if not tensors or not _static(*tensors):
        return None
    dt = _promoted(*(TensorMeta(tuple(t.shape), t.dtype) for t in tensors))
    blocks = [torch.reshape(t, list(_as_2d(tuple(t.shape)))) for t in tensors]
    width = sum(b.shape[1] for b in blocks)
    rows, c = [], 0
    for b in blocks:
        b = b if b.dtype == dt else torch.to(b, dt)
        w = b.shape[1]
        rows.append(torch.constant_pad_nd(b, [c, width - c - w, 0, 0], 0))
        c += w
    return torch.cat(rows, 0)


register(
    "aten::block_diag(Tensor[] tensors) -> Tensor",
    probe_rule(_block_diag_eager),
    eager=_block_diag_eager,
    decompose=_block_diag_decompose,
    lower=static_only("block_diag"),
)


# -- cartesian_prod / combinations -----------------------------------------------------------------


def _cartesian_prod_eager(tensors: list[np.ndarray]) -> np.ndarray:
    for t in tensors:
        if t.ndim != 1:
            raise ShapeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(tensors) == 1:
        return tensors[0].copy()
    if len({t.dtype for t in tensors}) > 1:
        raise ShapeError("meshgrid expects all tensors to have the same dtype")
    grids = np.meshgrid(*tensors, indexing="ij")
    return np.stack([g.reshape(-1) for g in grids], axis=1)


def _cartesian_prod_decompose(torch: Any, tensors: list[Any]) -> Any:
    if not _static(*tensors):
        return None
    if len(tensors) == 1:
        return torch.clone(tensors[0])
    sizes = [t.shape[0] for t in tensors]
    cols = []
    for i, t in enumerate(tensors):
        shape = [sizes[i] if j == i else 1 for j in range(len(sizes))]
        grid = torch.expand(torch.reshape(t, shape), sizes)
        cols.append(torch.reshape(grid, [-1]))
    return torch.stack(cols, 1)


register(
    "aten::cartesian_prod(Tensor[] tensors) -> Tensor",
    probe_rule(_cartesian_prod_eager),
    eager=_cartesian_prod_eager,
    decompose=_cartesian_prod_decompose,
    lower=static_only("cartesian_prod"),
)


def _combos(n: int, r: int, with_replacement: bool) -> list[tuple[int, ...]]:
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    return list(pick(range(n), r))


def _combinations_eager(a: np.ndarray, r: int = 2, with_replacement: bool = False) -> np.ndarray:
    if a.ndim != 1:
        raise ShapeError(f"Expect a 1D vector, but got shape {list(a.shape)}")
    if r < 0:
        raise ShapeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return np.zeros((0,), a.dtype)
    idx = np.array(_combos(a.shape[0], r, with_replacement), np.int64).reshape(-1, r)
    return a[idx]


def _combinations_decompose(torch: Any, x: Any, r: int = 2, with_replacement: bool = False) -> Any:
    if not _static(x) or x.dim() != 1 or r < 0:
        return None
    combos = _combos(x.shape[0], r, with_replacement) if r else []
    if not combos:  # none: an empty slice of x, shaped (0,) for r=0 as torch, else (0, r)
        empty = torch.slice(x, 0, 0, 0, 1)
        return empty if r == 0 else torch.reshape(empty, [0, r])
    # each element picked by a `select` of a constant index (no constant tensors in the IR)
    rows = [torch.stack([torch.select(x, 0, i) for i in c], 0) for c in combos]
    return torch.stack(rows, 0)


register(
    "aten::combinations(Tensor self, int r=2, bool with_replacement=False) -> Tensor",
    probe_rule(_combinations_eager),
    eager=_combinations_eager,
    decompose=_combinations_decompose,
    lower=static_only("combinations"),
)


# -- Tensor.unfold: a view of sliding windows --------------------------------------------------------


def _unfold_windows(shape: tuple[int, ...], d: int, size: int, step: int) -> int:
    if step <= 0:
        raise ShapeError(f"step is {step} but must be > 0")
    n = shape[d] if shape else 1
    if size > n:
        raise ShapeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if size < 0:
        raise ShapeError(f"size is {size} but must be >= 0")
    return (n - size) // step + 1


def _unfold_eager(a: np.ndarray, dimension: int, size: int, step: int) -> np.ndarray:
    # a view, as torch's: windows `step` apart along `dimension`, the window as a new last dim
    d = normalize_dim(dimension, a.ndim)
    n = _unfold_windows(a.shape, d, size, step)
    if a.ndim == 0:
        return a.reshape(1)
    shape = (*a.shape[:d], n, *a.shape[d + 1 :], size)
    strides = (*a.strides[:d], a.strides[d] * step, *a.strides[d + 1 :], a.strides[d])
    return np.lib.stride_tricks.as_strided(a, shape, strides, writeable=a.flags.writeable)


def _unfold_decompose(torch: Any, x: Any, dimension: int, size: int, step: int) -> Any:
    if not _static(x) or x.dim() == 0:
        return None
    d = normalize_dim(dimension, x.dim())
    n = _unfold_windows(tuple(x.shape), d, size, step)
    if n == 0 or size == 0:
        return None
    windows = [torch.slice(x, d, i * step, i * step + size, 1) for i in range(n)]
    return torch.movedim(torch.stack(windows, d), d + 1, -1)


register(
    "aten::unfold(Tensor self, int dimension, int size, int step) -> Tensor",
    probe_rule(_unfold_eager),
    eager=_unfold_eager,
    decompose=_unfold_decompose,
    lower=static_only("unfold"),
    py="torch.unfold",  # (torch spells it x.unfold(...) only)
)
