"""Issue 12's rearrangements: `narrow`, `movedim`/`moveaxis`, `swapaxes`/`swapdims`, `diag`,
`diagonal`, `tile`, `repeat_interleave`, `broadcast_to`, `expand_as`/`view_as`/`reshape_as`,
`flipud`/`fliplr`, and the index factories `tril_indices`/`triu_indices`.

Each decomposes into ops that already lower (`slice`, `permute`, `transpose`, `reshape`,
`expand`, `flip`, `where`, `cat`), written against torch's Python API so the decompositions
run eagerly in tests. They need static sizes where the result's shape depends on them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from xjit.ops.opdef import UNKNOWN, register
from xjit.ops.selection_ops import DATA_DEPENDENT, data_dependent_lower
from xjit.ops.shape_ops import _cat_shape, _expand_shape
from xjit.ops.types import (
    ShapeError,
    TensorMeta,
    dtype_arg,
    from_numpy_dtype,
    int64,
    normalize_dim,
)


def _meta(a: np.ndarray) -> TensorMeta:
    return TensorMeta(a.shape, from_numpy_dtype(a.dtype))


def _meta_of(x: Any) -> TensorMeta:
    return TensorMeta(tuple(x.shape), x.dtype)


def _known(*vals: Any) -> bool:
    return all(v is not UNKNOWN for v in vals)


def _static(x: Any) -> bool:
    return all(s is not None for s in x.shape)


# -- narrow -----------------------------------------------------------------------------------


def _narrow_args(x: TensorMeta, dim: int, start: int, length: int) -> tuple[int, int]:
    assert x.shape is not None
    if len(x.shape) == 0:
        raise ShapeError("narrow() cannot be applied to a 0-dim tensor.")
    d = normalize_dim(dim, len(x.shape))
    n = x.shape[d]
    if length < 0:
        raise ShapeError("narrow(): length must be non-negative.")
    if n is not None:
        if not -n <= start <= n:
            raise ShapeError(
                f"start out of range (expected to be in range of [{-n}, {n}], but got {start})"
            )
        if start < 0:
            start += n
        if start + length > n:
            raise ShapeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return d, start


def _narrow_shape(x: TensorMeta, dim: Any, start: Any, length: Any) -> TensorMeta:
    if x.shape is None or not _known(dim, start, length):
        return TensorMeta(None, x.dtype)
    d, _ = _narrow_args(x, dim, start, length)
    return TensorMeta(x.shape[:d] + (length,) + x.shape[d + 1 :], x.dtype)


def _narrow_eager(a: np.ndarray, dim: int, start: int, length: int) -> np.ndarray:
    d, s = _narrow_args(_meta(a), dim, start, length)
    return a[(slice(None),) * d + (slice(s, s + length),)]


def _narrow_decompose(torch: Any, x: Any, dim: int, start: int, length: int) -> Any:
    if start < 0 and x.shape[normalize_dim(dim, x.dim())] is None:
        return None
    d, s = _narrow_args(_meta_of(x), dim, start, length)
    return torch.slice(x, d, s, s + length)


register(
    "aten::narrow(Tensor self, int dim, int start, int length) -> Tensor",
    _narrow_shape,
    eager=_narrow_eager,
    decompose=_narrow_decompose,
)


# -- movedim / swapaxes --------------------------------------------------------------------------


def _movedim_perm(rank: int, source: Any, destination: Any) -> list[int]:
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise ShapeError(
            f"movedim: Invalid source or destination dims: source ({src} dims) should contain "
            f"the same number of dims as destination ({dst} dims)"
        )
    src = [normalize_dim(d, rank) for d in src]
    dst = [normalize_dim(d, rank) for d in dst]
    if len(set(src)) != len(src):
        raise ShapeError(f"movedim: repeated dim in `source` ({src})")
    if len(set(dst)) != len(dst):
        raise ShapeError(f"movedim: repeated dim in `destination` ({dst})")
    perm = [-1] * rank
    for s, d in zip(src, dst, strict=True):
        perm[d] = s
    rest = iter(d for d in range(rank) if d not in src)
    return [p if p >= 0 else next(rest) for p in perm]


def _movedim_shape(x: TensorMeta, source: Any, destination: Any) -> TensorMeta:
    if x.shape is None or not _known(source, destination):
        return TensorMeta(None, x.dtype)
    perm = _movedim_perm(len(x.shape), source, destination)
    return TensorMeta(tuple(x.shape[p] for p in perm), x.dtype)


for _schema in (
    "aten::movedim.int(Tensor self, int source, int destination) -> Tensor",
    "aten::movedim.intlist(Tensor self, int[] source, int[] destination) -> Tensor",
):
    register(
        _schema,
        _movedim_shape,
        eager=lambda a, s, d: np.transpose(a, _movedim_perm(a.ndim, s, d)),
        decompose=lambda torch, x, s, d: torch.permute(x, _movedim_perm(x.dim(), s, d)),
        overload_of=("movedim", "moveaxis"),
    )


def _swap_shape(x: TensorMeta, a: Any, b: Any) -> TensorMeta:
    if x.shape is None or not _known(a, b):
        return TensorMeta(None, x.dtype)
    r = len(x.shape)
    a, b = normalize_dim(a, r), normalize_dim(b, r)
    shape = list(x.shape)
    shape[a], shape[b] = shape[b], shape[a]
    return TensorMeta(tuple(shape), x.dtype)


register(
    "aten::swapaxes(Tensor self, int axis0, int axis1) -> Tensor",
    _swap_shape,
    eager=lambda a, i, j: np.swapaxes(a, normalize_dim(i, a.ndim), normalize_dim(j, a.ndim)),
    decompose=lambda torch, x, i, j: torch.transpose(x, i, j),
    overload_of=("swapaxes", "swapdims"),
)


# -- diagonal / diag ------------------------------------------------------------------------------


def _diag_len(n: int, m: int, offset: int) -> int:
    return max(0, min(n, m - offset) if offset >= 0 else min(n + offset, m))


def _diagonal_dims(rank: int, dim1: int, dim2: int) -> tuple[int, int]:
    d1, d2 = normalize_dim(dim1, rank), normalize_dim(dim2, rank)
    if d1 == d2:
        raise ShapeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


def _diagonal_shape(x: TensorMeta, offset: Any = 0, dim1: Any = 0, dim2: Any = 1) -> TensorMeta:
    if x.shape is None or not _known(offset, dim1, dim2):
        return TensorMeta(None, x.dtype)
    d1, d2 = _diagonal_dims(len(x.shape), dim1, dim2)
    n, m = x.shape[d1], x.shape[d2]
    k = None if n is None or m is None else _diag_len(n, m, offset)
    rest = tuple(s for i, s in enumerate(x.shape) if i not in (d1, d2))
    return TensorMeta(rest + (k,), x.dtype)


def _diagonal_eager(a: np.ndarray, offset: int = 0, dim1: int = 0, dim2: int = 1) -> np.ndarray:
    """A writable view, as torch's (`x.diagonal().fill_(0)` writes into x); np.diagonal's
    view is read-only."""
    d1, d2 = _diagonal_dims(a.ndim, dim1, dim2)
    moved = np.moveaxis(a, (d1, d2), (-2, -1))
    n, m = moved.shape[-2:]
    start = moved[..., max(0, -offset) :, max(0, offset) :]
    shape = start.shape[:-2] + (_diag_len(n, m, offset),)
    strides = start.strides[:-2] + (start.strides[-2] + start.strides[-1],)
    return np.lib.stride_tricks.as_strided(start, shape, strides)


def _diagonal_decompose(torch: Any, x: Any, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Any:
    """Move the two dims last, flatten them, and take every (m + 1)-th element from the
    diagonal's first: one strided slice."""
    if not _static(x):
        return None
    d1, d2 = _diagonal_dims(x.dim(), dim1, dim2)
    rest = [d for d in range(x.dim()) if d not in (d1, d2)]
    n, m = x.shape[d1], x.shape[d2]
    k = _diag_len(n, m, offset)
    lead = [x.shape[d] for d in rest]
    if k == 0:
        return None  # an empty result: nothing to compute (not decomposed)
    flat = torch.reshape(torch.permute(x, rest + [d1, d2]), lead + [n * m])
    first = offset if offset >= 0 else -offset * m
    return torch.slice(flat, len(lead), first, first + (k - 1) * (m + 1) + 1, m + 1)


register(
    "aten::diagonal(Tensor self, int offset=0, int dim1=0, int dim2=1) -> Tensor",
    _diagonal_shape,
    eager=_diagonal_eager,
    decompose=_diagonal_decompose,
)


def _diag_shape(x: TensorMeta, diagonal: Any = 0) -> TensorMeta:
    if x.shape is None or diagonal is UNKNOWN:
        return TensorMeta(None, x.dtype)
    if len(x.shape) == 1:
        n = x.shape[0]
        return TensorMeta((None, None) if n is None else (n + abs(diagonal),) * 2, x.dtype)
    if len(x.shape) == 2:
        return _diagonal_shape(x, diagonal, 0, 1)
    raise ShapeError(f"diag(): Supports 1D or 2D tensors. Got {len(x.shape)}D")


def _diag_eager(a: np.ndarray, diagonal: int = 0) -> np.ndarray:
    _diag_shape(_meta(a), diagonal)
    return np.diag(a, diagonal).copy()


def _diag_decompose(torch: Any, x: Any, k: int = 0) -> Any:
    if x.dim() == 2:
        return _diagonal_decompose(torch, x, k, 0, 1)
    n = x.shape[0]
    if n is None or n == 0:
        return None
    size = n + abs(k)
    # entry (r, c) is on the diagonal when c - r == k, and holds v[r] (k >= 0) or v[c]
    offset = torch.sub(torch.arange(size), torch.unsqueeze(torch.arange(size), 1))
    on = torch.eq(offset, k)
    v = torch.constant_pad_nd(x, [0, abs(k)], 0) if k else x
    v = torch.unsqueeze(v, 1 if k >= 0 else 0)
    return torch.where(on, v, torch.zeros_like(v))


register(
    "aten::diag(Tensor self, int diagonal=0) -> Tensor",
    _diag_shape,
    eager=_diag_eager,
    decompose=_diag_decompose,
)


# -- tile / repeat_interleave / broadcast_to / flipud / fliplr ----------------------------------


def _tile_reps(rank: int, dims: list[int]) -> list[int]:
    return [1] * (rank - len(dims)) + list(dims)


def _tile_shape(x: TensorMeta, dims: Any) -> TensorMeta:
    if x.shape is None or dims is UNKNOWN:
        return TensorMeta(None, x.dtype)
    reps = _tile_reps(len(x.shape), dims)
    shape = (1,) * (len(reps) - len(x.shape)) + tuple(x.shape)
    return TensorMeta(tuple(None if s is None else s * r for s, r in zip(shape, reps)), x.dtype)


register(
    "aten::tile(Tensor self, int[] dims) -> Tensor",
    _tile_shape,
    eager=lambda a, dims: np.tile(a, _tile_reps(a.ndim, dims)),
    decompose=lambda torch, x, dims: torch.repeat(x, _tile_reps(x.dim(), dims)),
)


def _ri_shape(x: TensorMeta, repeats: Any, dim: Any = None, output_size: Any = None) -> TensorMeta:
    if x.shape is None or not _known(repeats, dim):
        return TensorMeta(None, x.dtype)
    if repeats < 0:
        raise ShapeError("repeats can not be negative")
    if dim is None:
        n = None if None in x.shape else math.prod(x.shape)
        return TensorMeta((None if n is None else n * repeats,), x.dtype)
    d = normalize_dim(dim, len(x.shape))
    s = x.shape[d]
    shape = list(x.shape)
    shape[d] = None if s is None else s * repeats
    return TensorMeta(tuple(shape), x.dtype)


def _ri_eager(a: np.ndarray, repeats: int, dim: Any = None, output_size: Any = None) -> np.ndarray:
    _ri_shape(_meta(a), repeats, dim)
    if dim is None:
        return np.repeat(a.reshape(-1), repeats)
    return np.repeat(a, repeats, axis=normalize_dim(dim, a.ndim))


def _ri_decompose(
    torch: Any, x: Any, repeats: int, dim: Any = None, output_size: Any = None
) -> Any:
    """Each element `repeats` times in a row: a new axis after `dim`, expanded, merged."""
    if dim is None:
        x, dim = torch.reshape(x, [-1]), 0
    if not _static(x) or repeats == 0:
        return None
    d = normalize_dim(dim, x.dim())
    shape = list(x.shape)
    wide = torch.expand(torch.unsqueeze(x, d + 1), shape[: d + 1] + [repeats] + shape[d + 1 :])
    return torch.reshape(wide, shape[:d] + [shape[d] * repeats] + shape[d + 1 :])


register(
    "aten::repeat_interleave.self_int(Tensor self, int repeats, int? dim=None, *, int? output_size=None) -> Tensor",
    _ri_shape,
    eager=_ri_eager,
    decompose=_ri_decompose,
)


def _ri_tensor_eager(
    a: np.ndarray, repeats: np.ndarray, dim: Any = None, output_size: Any = None
) -> np.ndarray:
    if repeats.dtype.kind not in "iu":
        raise RuntimeError("repeats has to be Long or Int tensor")
    if np.any(repeats < 0):
        raise RuntimeError("repeats can not be negative")
    if dim is None:
        return np.repeat(a.reshape(-1), repeats.reshape(-1) if repeats.ndim else int(repeats))
    d = normalize_dim(dim, a.ndim)
    r = repeats.reshape(-1) if repeats.ndim else int(repeats)
    if repeats.ndim and repeats.size not in (1, a.shape[d]):
        raise RuntimeError("repeats must have the same size as input along dim")
    return np.repeat(a, r, axis=d)


register(
    "aten::repeat_interleave.self_Tensor(Tensor self, Tensor repeats, int? dim=None, *, int? output_size=None) -> Tensor",
    lambda x, r, dim=None, output_size=None: TensorMeta(
        None if x.shape is None else ((None,) if dim is None else (None,) * len(x.shape)),
        x.dtype,
    ),
    eager=_ri_tensor_eager,
    lower=data_dependent_lower("repeat_interleave with tensor repeats"),
    attrs={"data_dependent": DATA_DEPENDENT.format(op="repeat_interleave with tensor repeats")},
)


def _broadcast_to_shape(x: TensorMeta, size: Any) -> TensorMeta:
    return _expand_shape(x, size)


register(
    "aten::broadcast_to(Tensor self, int[] size) -> Tensor",
    _broadcast_to_shape,
    eager=lambda a, size: np.broadcast_to(a, _broadcast_to_shape(_meta(a), size).shape),
    decompose=lambda torch, x, size: torch.expand(x, size),
)


def _fliplr_check(x: TensorMeta) -> TensorMeta:
    if x.shape is not None and len(x.shape) < 2:
        raise ShapeError("Input must be >= 2-d.")
    return x


def _flipud_check(x: TensorMeta) -> TensorMeta:
    if x.shape is not None and len(x.shape) < 1:
        raise ShapeError("Input must be >= 1-d.")
    return x


register(
    "aten::fliplr(Tensor self) -> Tensor",
    _fliplr_check,
    eager=lambda a: (_fliplr_check(_meta(a)), np.flip(a, 1).copy())[1],
    decompose=lambda torch, x: torch.flip(x, [1]),
)
register(
    "aten::flipud(Tensor self) -> Tensor",
    _flipud_check,
    eager=lambda a: (_flipud_check(_meta(a)), np.flip(a, 0).copy())[1],
    decompose=lambda torch, x: torch.flip(x, [0]),
)


# -- expand_as / view_as / reshape_as: the other tensor's static shape ---------------------------


def _as_shape(x: TensorMeta, other: TensorMeta) -> TensorMeta:
    return TensorMeta(other.shape, x.dtype)


def _expand_as_shape(x: TensorMeta, other: TensorMeta) -> TensorMeta:
    if x.shape is None or other.shape is None or None in other.shape:
        return TensorMeta(other.shape, x.dtype)
    return _broadcast_to_shape(x, list(other.shape))


def _reshape_as_check(x: TensorMeta, other: TensorMeta) -> TensorMeta:
    if (
        x.shape is not None
        and other.shape is not None
        and None not in x.shape
        and None not in other.shape
        and math.prod(x.shape) != math.prod(other.shape)
    ):
        raise ShapeError(
            f"shape '{list(other.shape)}' is invalid for input of size {math.prod(x.shape)}"
        )
    return _as_shape(x, other)


def _as_decompose(op: str) -> Any:
    def decompose(torch: Any, x: Any, other: Any) -> Any:
        if not _static(other):
            return None
        return getattr(torch, op)(x, list(other.shape))

    return decompose


register(
    "aten::expand_as(Tensor self, Tensor other) -> Tensor",
    _expand_as_shape,
    eager=lambda a, b: np.broadcast_to(a, _expand_as_shape(_meta(a), _meta(b)).shape),
    decompose=_as_decompose("expand"),
)
for _name, _op in (("view_as", "view"), ("reshape_as", "reshape")):
    register(
        f"aten::{_name}(Tensor self, Tensor other) -> Tensor",
        _reshape_as_check,
        eager=lambda a, b: (_reshape_as_check(_meta(a), _meta(b)), a.reshape(b.shape))[1],
        decompose=_as_decompose(_op),
    )


# -- tril_indices / triu_indices -------------------------------------------------------------------


def _tri_rows(row: int, col: int, offset: int, lower: bool) -> list[tuple[int, int, int]]:
    """Per row r with entries: (r, first column, number of columns), in row-major order."""
    out = []
    for r in range(row):
        lo, hi = (0, min(col, max(0, r + offset + 1))) if lower else (max(0, r + offset), col)
        if hi > lo:
            out.append((r, lo, hi - lo))
    return out


def _tri_indices_shape(lower: bool) -> Any:
    def shape(row: Any, col: Any, offset: Any = 0, dtype: Any = None) -> TensorMeta:
        dt = dtype_arg(dtype) or int64
        if not _known(row, col, offset):
            return TensorMeta((2, None), dt)
        if row < 0 or col < 0:
            raise ShapeError(f"row must be non-negative, got {row}" if row < 0 else
                             f"col must be non-negative, got {col}")  # fmt: skip
        return TensorMeta((2, sum(n for _, _, n in _tri_rows(row, col, offset, lower))), dt)

    return shape


def _tri_indices_eager(lower: bool) -> Any:
    def eager(row: int, col: int, offset: int = 0, dtype: Any = None) -> np.ndarray:
        m = _tri_indices_shape(lower)(row, col, offset, dtype)
        rows = _tri_rows(row, col, offset, lower)
        r = [np.full(n, i) for i, _, n in rows]
        c = [np.arange(lo, lo + n) for _, lo, n in rows]
        out = np.stack([np.concatenate(r or [np.zeros(0)]), np.concatenate(c or [np.zeros(0)])])
        return out.astype(m.dtype.np)

    return eager


def _tri_indices_decompose(lower: bool) -> Any:
    def decompose(torch: Any, row: int, col: int, offset: int = 0, dtype: Any = None) -> Any:
        dt = dtype_arg(dtype) or int64
        rows = _tri_rows(row, col, offset, lower)
        if not rows:
            return None  # an empty result (not decomposed)
        r = torch.cat([torch.full([n], i, dtype=dt) for i, _, n in rows], 0)
        c = torch.cat([torch.arange(lo, lo + n, dtype=dt) for _, lo, n in rows], 0)
        return torch.stack([r, c], 0)

    return decompose


for _name, _lower in (("tril_indices", True), ("triu_indices", False)):
    register(
        f"aten::{_name}(int row, int col, int offset=0, *, ScalarType? dtype=None) -> Tensor",
        _tri_indices_shape(_lower),
        eager=_tri_indices_eager(_lower),
        decompose=_tri_indices_decompose(_lower),
    )


# -- hstack / vstack / column_stack: reshapes to a common rank, then `cat` -----------------------


def _lifted(kind: str, shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
    """A tensor's shape as the stacking function lifts it (atleast_1d/2d or a column)."""
    if kind == "hstack":
        return shape if shape else (1,)
    if kind == "vstack":
        return shape if len(shape) >= 2 else (1, shape[0] if shape else 1)
    return shape if len(shape) >= 2 else (shape[0] if shape else 1, 1)  # column_stack


def _stack_dim(kind: str, first: tuple[int | None, ...]) -> int:
    if kind == "hstack":
        return 0 if len(first) == 1 else 1
    return 0 if kind == "vstack" else 1


def _stacking_shape(kind: str) -> Any:
    def shape(ts: Any) -> TensorMeta:
        if not ts:
            raise ShapeError(f"{kind} expects a non-empty TensorList")
        if any(t.shape is None for t in ts):
            return _cat_shape(ts, 0)
        lifted = [TensorMeta(_lifted(kind, t.shape), t.dtype) for t in ts]
        return _cat_shape(lifted, _stack_dim(kind, lifted[0].shape))

    return shape


def _stacking_eager(kind: str) -> Any:
    def eager(arrays: list[np.ndarray]) -> np.ndarray:
        lifted = [a.reshape(_lifted(kind, a.shape)) for a in arrays]
        m = _stacking_shape(kind)([_meta(a) for a in arrays])
        return np.concatenate(
            [a.astype(m.dtype.np, copy=False) for a in lifted], _stack_dim(kind, lifted[0].shape)
        )

    return eager


def _stacking_decompose(kind: str) -> Any:
    def decompose(torch: Any, xs: list[Any]) -> Any:
        if any(None in tuple(x.shape) for x in xs):
            return None
        lifted = [
            x if _lifted(kind, tuple(x.shape)) == tuple(x.shape)
            else torch.reshape(x, list(_lifted(kind, tuple(x.shape))))
            for x in xs
        ]  # fmt: skip
        return torch.cat(lifted, _stack_dim(kind, tuple(lifted[0].shape)))

    return decompose


for _schema, _kind in (
    ("aten::hstack(Tensor[] tensors) -> Tensor", "hstack"),
    ("aten::vstack(Tensor[] tensors) -> Tensor", "vstack"),
    ("aten::column_stack(Tensor[] tensors) -> Tensor", "column_stack"),
):
    register(
        _schema,
        _stacking_shape(_kind),
        eager=_stacking_eager(_kind),
        decompose=_stacking_decompose(_kind),
    )
