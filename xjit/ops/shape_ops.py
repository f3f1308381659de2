"""Shape ops: views (`select`, `slice`, `unsqueeze`, `squeeze`, `expand`, `view`/`reshape`,
`transpose`, `permute`), `cat`/`stack`, and Python indexing (`x[i]`, `x[:, 1:3]`, `x[..., 0]`).

Eagerly views are numpy views, as in torch. Lowered, each is a `linalg.generic` copy whose input
indexing map does the view's work (`(d0, d1) -> (3, d0, d1)` for `x[3]`, `d1 + 1` for a slice
starting at 1, ...); see docs/architecture.md. A general reshape needs `floordiv`/`mod` maps.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from xjit.ops.registry import UNKNOWN, register
from xjit.ops.types import ShapeError, TensorMeta, normalize_dim, promote


def _meta(a: np.ndarray) -> TensorMeta:
    from xjit.ops.types import from_numpy_dtype

    return TensorMeta(a.shape, from_numpy_dtype(a.dtype))


def _ranked(x: TensorMeta, *scalars: Any) -> bool:
    return x.shape is not None and all(s is not UNKNOWN for s in scalars)


def _checked(shape_rule: Any, fn: Any) -> Any:
    """Eager semantics that first run the shape rule (torch's errors, not numpy's)."""

    def eager(a: Any, *args: Any) -> Any:
        if isinstance(a, list):
            shape_rule([_meta(x) for x in a], *args)
        else:
            shape_rule(_meta(a), *args)
        return fn(a, *args)

    return eager


def _map(n: int, exprs: Sequence[Any]) -> Any:
    from xdsl.ir.affine import AffineMap

    return AffineMap(n, 0, tuple(exprs))


def _d(i: int) -> Any:
    from xdsl.ir.affine import AffineDimExpr

    return AffineDimExpr(i)


def _c(v: int) -> Any:
    from xdsl.ir.affine import AffineConstantExpr

    return AffineConstantExpr(v)


def _static_shape(v: Any) -> tuple[int, ...]:
    return tuple(v.type.get_shape())


# -- select / slice ----------------------------------------------------------------------------


def _select_shape(x: TensorMeta, dim: Any, index: Any) -> TensorMeta:
    if not _ranked(x, dim):
        return TensorMeta(None, x.dtype)
    if not x.shape:
        raise ShapeError("select() cannot be applied to a 0-dim tensor")
    d = normalize_dim(dim, len(x.shape))
    n = x.shape[d]
    if index is not UNKNOWN and n is not None and not -n <= index < n:
        raise IndexError(f"index {index} is out of bounds for dimension {d} with size {n}")
    return TensorMeta(x.shape[:d] + x.shape[d + 1:], x.dtype)


def _select_lower(L: Any, x: Any, dim: int, index: Any) -> Any:
    rank = L.rank(x)
    d = normalize_dim(dim, rank)
    if not isinstance(index, int):  # a run-time index (e.g. a scripted loop's counter)
        return L.select_dynamic(x, d, index)
    index %= _static_shape(x)[d]
    exprs = [_d(k if k < d else k - 1) for k in range(rank)]
    exprs[d] = _c(index)
    return L.copy(x, _map(rank - 1, exprs))


register(
    "aten::select.int(Tensor self, int dim, int index) -> Tensor",
    _select_shape,
    eager=_checked(_select_shape, lambda a, dim, i: a[(slice(None),) * normalize_dim(dim, a.ndim) + (i,)]),
    lower=_select_lower,
)


def _slice_bounds(n: int, start: Any, end: Any, step: int) -> tuple[int, int]:
    s, e, _ = slice(start, end, step).indices(n)
    return s, max(e, s)


def _slice_shape(x: TensorMeta, dim: Any = 0, start: Any = None, end: Any = None, step: Any = 1) -> TensorMeta:
    if not _ranked(x, dim, step):
        return TensorMeta(None, x.dtype)
    if not x.shape:
        raise ShapeError("slice() cannot be applied to a 0-dim tensor")
    if step <= 0:
        raise ShapeError("slice step must be positive")
    d = normalize_dim(dim, len(x.shape))
    n = x.shape[d]
    if n is None or start is UNKNOWN or end is UNKNOWN:
        size = None
    else:
        s, e = _slice_bounds(n, start, end, step)
        size = -(-(e - s) // step)
    return TensorMeta(x.shape[:d] + (size,) + x.shape[d + 1:], x.dtype)


def _slice_eager(a: np.ndarray, dim: int = 0, start: Any = None, end: Any = None, step: int = 1) -> np.ndarray:
    d = normalize_dim(dim, a.ndim)
    return a[(slice(None),) * d + (slice(start, end, step),)]


def _slice_lower(L: Any, x: Any, dim: int = 0, start: Any = None, end: Any = None, step: int = 1) -> Any:
    rank = L.rank(x)
    d = normalize_dim(dim, rank)
    n = _static_shape(x)[d]
    if not all(isinstance(v, int) or v is None for v in (start, end)) or n < 0:
        raise NotImplementedError("slicing with run-time bounds or along a dynamic dim")
    s, _ = _slice_bounds(n, start, end, step)
    from xdsl.ir.affine import AffineBinaryOpExpr, AffineBinaryOpKind

    exprs = [_d(k) for k in range(rank)]
    e = _d(d) if step == 1 else _d(d) * step
    # `d + 0` spelt out even for start 0: a bare `d` would claim the input's full extent
    # (linalg infers loop ranges from operands that a map sends to a plain dim).
    exprs[d] = AffineBinaryOpExpr(AffineBinaryOpKind.Add, e, _c(s))
    return L.copy(x, _map(rank, exprs))


register(
    "aten::slice.Tensor(Tensor self, int dim=0, int? start=None, int? end=None, int step=1) -> Tensor",
    _slice_shape,
    eager=_checked(_slice_shape, _slice_eager),
    lower=_slice_lower,
)


# -- unsqueeze / squeeze / expand ---------------------------------------------------------------


def _unsqueeze_shape(x: TensorMeta, dim: Any) -> TensorMeta:
    if not _ranked(x, dim):
        return TensorMeta(None, x.dtype)
    d = normalize_dim(dim, len(x.shape) + 1)
    return TensorMeta(x.shape[:d] + (1,) + x.shape[d:], x.dtype)


def _unsqueeze_lower(L: Any, x: Any, dim: int) -> Any:
    rank = L.rank(x)
    d = normalize_dim(dim, rank + 1)
    return L.copy(x, _map(rank + 1, [_d(k if k < d else k + 1) for k in range(rank)]))


register(
    "aten::unsqueeze(Tensor self, int dim) -> Tensor",
    _unsqueeze_shape,
    eager=_checked(_unsqueeze_shape, lambda a, dim: np.expand_dims(a, normalize_dim(dim, a.ndim + 1))),
    lower=_unsqueeze_lower,
)


def _squeeze_dims(x: TensorMeta, dim: Any) -> list[int]:
    assert x.shape is not None
    if dim is None:
        if any(s is None for s in x.shape):
            raise NotImplementedError("squeeze() of a tensor with dims of unknown size")
        return [k for k, s in enumerate(x.shape) if s == 1]
    if not x.shape:
        return []
    d = normalize_dim(dim, len(x.shape))
    return [d] if x.shape[d] == 1 else []


def _squeeze_shape(x: TensorMeta, dim: Any = None) -> TensorMeta:
    if not _ranked(x, dim):
        return TensorMeta(None, x.dtype)
    drop = _squeeze_dims(x, dim)
    return TensorMeta(tuple(s for k, s in enumerate(x.shape) if k not in drop), x.dtype)


def _squeeze_eager(a: np.ndarray, dim: Any = None) -> np.ndarray:
    return np.squeeze(a, axis=tuple(_squeeze_dims(_meta(a), dim)))


def _squeeze_lower(L: Any, x: Any, dim: Any = None) -> Any:
    shape = _static_shape(x)
    drop = _squeeze_dims(TensorMeta(tuple(None if s < 0 else s for s in shape), None), dim)
    exprs, j = [], 0
    for k in range(len(shape)):
        if k in drop:
            exprs.append(_c(0))
        else:
            exprs.append(_d(j))
            j += 1
    return L.copy(x, _map(j, exprs))


register("aten::squeeze(Tensor self) -> Tensor", _squeeze_shape, eager=_squeeze_eager, lower=_squeeze_lower)
register(
    "aten::squeeze.dim(Tensor self, int dim) -> Tensor",
    _squeeze_shape, eager=_checked(_squeeze_shape, _squeeze_eager), lower=_squeeze_lower,
)


def _expand_shape(x: TensorMeta, size: Any, implicit: bool = False) -> TensorMeta:
    if not _ranked(x, size) or any(s is UNKNOWN for s in size):
        return TensorMeta(None, x.dtype)
    n, r = len(size), len(x.shape)
    if n < r:
        raise ShapeError(f"expand: the number of sizes provided ({n}) must be greater or equal to "
                         f"the number of dimensions in the tensor ({r})")
    out = []
    for k, s in enumerate(size):
        src = x.shape[k - (n - r)] if k >= n - r else None
        if s == -1:
            if k < n - r:
                raise ShapeError("expand: -1 is not allowed in a leading, non-existing dimension")
            out.append(src)
        elif src is not None and src != 1 and src != s:
            raise ShapeError(f"expand: the expanded size of the tensor ({s}) must match the existing "
                             f"size ({src}) at non-singleton dimension {k}; target sizes {list(size)}, "
                             f"tensor shape {list(x.shape)}")
        else:
            out.append(s)
    return TensorMeta(tuple(out), x.dtype)


def _expand_lower(L: Any, x: Any, size: list[int], implicit: bool = False) -> Any:
    from xjit.passes.convert_torch_to_linalg import _broadcast_map

    out = L.result().get_shape()
    return L.copy(x, _broadcast_map(_static_shape(x), out))


register(
    "aten::expand(Tensor self, int[] size, *, bool implicit=False) -> Tensor",
    _expand_shape,
    eager=lambda a, size, implicit=False: np.broadcast_to(a, _expand_shape(_meta(a), size).shape),
    lower=_expand_lower,
)


# -- view / reshape / flatten ---------------------------------------------------------------------


def _reshape_shape(x: TensorMeta, shape: Any) -> TensorMeta:
    if not _ranked(x, shape) or any(s is UNKNOWN for s in shape):
        return TensorMeta(None, x.dtype)
    if shape.count(-1) > 1:
        raise ShapeError("reshape: only one dimension can be inferred")
    if any(s < -1 for s in shape):
        raise ShapeError(f"reshape: invalid shape dimension in {list(shape)}")
    if any(s is None for s in x.shape):
        if -1 in shape:
            return TensorMeta(tuple(None if s == -1 else s for s in shape), x.dtype)
        return TensorMeta(tuple(shape), x.dtype)
    numel = math.prod(x.shape)
    known = math.prod(s for s in shape if s != -1)
    out = list(shape)
    if -1 in shape:
        if known == 0 or numel % known:
            raise ShapeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        out[shape.index(-1)] = numel // known
    elif known != numel:
        raise ShapeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return TensorMeta(tuple(out), x.dtype)


def reshape_map(in_shape: Sequence[int], out_shape: Sequence[int]) -> Any:
    """The input map of a reshape copy iterating over the output. Inserting or dropping unit
    dims gives plain dims (a numpy view); anything else linearises the index (floordiv/mod)."""
    if any(s < 0 for s in (*in_shape, *out_shape)):
        raise NotImplementedError("reshape of a tensor with dims of unknown size")
    m = len(out_shape)
    if [s for s in in_shape if s != 1] == [s for s in out_shape if s != 1]:
        outs = iter(k for k, s in enumerate(out_shape) if s != 1)
        return _map(m, [_c(0) if s == 1 else _d(next(outs)) for s in in_shape])
    linear: Any = _c(0)
    stride = 1
    for k in reversed(range(m)):
        if out_shape[k] != 1:
            linear = _d(k) * stride + linear if stride != 1 else _d(k) + linear
        stride *= out_shape[k]
    exprs = []
    stride = 1
    for s in reversed(in_shape):
        e = linear if stride == 1 else linear // stride
        exprs.append(e % s if s != 1 else _c(0))
        stride *= s
    return _map(m, list(reversed(exprs)))


def _reshape_lower(L: Any, x: Any, shape: list[int]) -> Any:
    return L.copy(x, reshape_map(_static_shape(x), L.result().get_shape()))


for _name, _arg in (("view", "size"), ("reshape", "shape")):
    register(
        f"aten::{_name}(Tensor self, int[] {_arg}) -> Tensor",
        _reshape_shape,
        eager=lambda a, s: a.reshape(_reshape_shape(_meta(a), s).shape),
        lower=_reshape_lower,
    )


def _flatten_dims(rank: int, start: int, end: int) -> tuple[int, int]:
    if rank == 0:
        return 0, -1
    s, e = normalize_dim(start, rank), normalize_dim(end, rank)
    if s > e:
        raise ShapeError("flatten() has invalid args: start_dim cannot come after end_dim")
    return s, e


def _flatten_target(shape: Sequence[Any], start: int, end: int) -> list[int]:
    if not shape:
        return [1]
    s, e = _flatten_dims(len(shape), start, end)
    mid = shape[s:e + 1]
    return [*shape[:s], -1 if any(d is None for d in mid) else math.prod(mid), *shape[e + 1:]]


def _flatten_shape(x: TensorMeta, start: Any = 0, end: Any = -1) -> TensorMeta:
    if not _ranked(x, start, end):
        return TensorMeta(None, x.dtype)
    return _reshape_shape(x, _flatten_target(x.shape, start, end))


register(
    "aten::flatten.using_ints(Tensor self, int start_dim=0, int end_dim=-1) -> Tensor",
    _flatten_shape,
    eager=lambda a, s=0, e=-1: a.reshape(_flatten_shape(_meta(a), s, e).shape),
    decompose=lambda T, x, s=0, e=-1: T.reshape(x, _flatten_target(list(x.shape), s, e)),
)


# -- transpose / permute -------------------------------------------------------------------------


def _permute_shape(x: TensorMeta, dims: Any) -> TensorMeta:
    if not _ranked(x, dims):
        return TensorMeta(None, x.dtype)
    rank = len(x.shape)
    if len(dims) != rank:
        raise ShapeError(f"permute(sparse_coo): number of dimensions in the tensor input does not "
                         f"match the length of the desired ordering of dimensions i.e. input.dim() "
                         f"= {rank} is not equal to len(dims) = {len(dims)}")
    perm = [normalize_dim(d, rank) for d in dims]
    if sorted(perm) != list(range(rank)):
        raise ShapeError(f"permute(): dims {list(dims)} are not a permutation")
    return TensorMeta(tuple(x.shape[p] for p in perm), x.dtype)


def _transpose_perm(rank: int, d0: int, d1: int) -> list[int]:
    perm = list(range(rank))
    if rank:
        a, b = normalize_dim(d0, rank), normalize_dim(d1, rank)
        perm[a], perm[b] = perm[b], perm[a]
    else:
        normalize_dim(d0, rank), normalize_dim(d1, rank)
    return perm


register(
    "aten::permute(Tensor self, int[] dims) -> Tensor",
    _permute_shape,
    eager=_checked(_permute_shape, lambda a, dims: np.transpose(a, [normalize_dim(d, a.ndim) for d in dims])),
    lower=lambda L, x, dims: L.transpose(x, [normalize_dim(d, L.rank(x)) for d in dims]),
)
register(
    "aten::transpose.int(Tensor self, int dim0, int dim1) -> Tensor",
    lambda x, d0, d1: TensorMeta(None, x.dtype) if not _ranked(x, d0, d1)
    else _permute_shape(x, _transpose_perm(len(x.shape), d0, d1)),
    eager=lambda a, d0, d1: np.transpose(a, _transpose_perm(a.ndim, d0, d1)),
    lower=lambda L, x, d0, d1: L.transpose(x, _transpose_perm(L.rank(x), d0, d1)),
)
register(
    "aten::contiguous(Tensor self, *, int memory_format=0) -> Tensor",
    lambda x, memory_format=0: x,
    eager=lambda a, memory_format=0: np.ascontiguousarray(a),
    decompose=lambda T, x, memory_format=0: x,  # values have no layout in the IR
)
register(
    "aten::clone(Tensor self, *, int? memory_format=None) -> Tensor",
    lambda x, memory_format=None: x,
    eager=lambda a, memory_format=None: a.copy(),
    lower=lambda L, x, memory_format=None: L.copy(x, _map(L.rank(x), [_d(k) for k in range(L.rank(x))])),
)


# -- cat / stack -----------------------------------------------------------------------------------


def _cat_shape(ts: Any, dim: Any = 0) -> TensorMeta:
    if not ts:
        raise ShapeError("torch.cat(): expected a non-empty list of Tensors")
    dt = ts[0].dtype
    for t in ts[1:]:
        dt = promote(dt, t.dtype) if dt is not None and t.dtype is not None else None
    if dim is UNKNOWN or any(t.shape is None for t in ts):
        return TensorMeta(None, dt)
    rank = len(ts[0].shape)
    if rank == 0:
        raise ShapeError("zero-dimensional tensor cannot be concatenated")
    d = normalize_dim(dim, rank)
    total: int | None = 0
    for i, t in enumerate(ts):
        if len(t.shape) != rank:
            raise ShapeError(f"torch.cat(): tensors must have same number of dimensions: got "
                             f"{rank} and {len(t.shape)}")
        for k in range(rank):
            a, b = ts[0].shape[k], t.shape[k]
            if k != d and a is not None and b is not None and a != b:
                raise ShapeError(f"torch.cat(): sizes of tensors must match except in dimension {d}. "
                                 f"Expected size {a} but got size {b} for tensor number {i} in the list.")
        total = None if total is None or t.shape[d] is None else total + t.shape[d]
    return TensorMeta(ts[0].shape[:d] + (total,) + ts[0].shape[d + 1:], dt)


def _cat_eager(arrays: list[np.ndarray], dim: int = 0) -> np.ndarray:
    m = _cat_shape([_meta(a) for a in arrays], dim)
    return np.concatenate([a.astype(m.dtype.np, copy=False) for a in arrays], axis=normalize_dim(dim, arrays[0].ndim))


def _cat_lower(L: Any, xs: list[Any], dim: int = 0) -> Any:
    """One generic over the result: element j along `dim` comes from the input whose range
    holds j, read at (j - offset) mod size (always in bounds), chosen by nested selects.
    (linalg.generic cannot write a slab of its output; a `tensor.insert_slice` per input would
    need bufferize support.)"""
    from xdsl.dialects import arith
    from xdsl.dialects.builtin import IndexType
    from xdsl.dialects.linalg.ops import IndexOp

    rank = L.rank(xs[0])
    d = normalize_dim(dim, rank)
    ident = [_d(k) for k in range(rank)]
    pieces, offset = [], 0
    for x in xs:
        n = _static_shape(x)[d]
        if n < 0:
            raise NotImplementedError("cat along a dim of unknown size")
        if n:
            exprs = list(ident)
            exprs[d] = ((_d(d) - offset) if offset else _d(d)) % n
            pieces.append((x, _map(rank, exprs), offset))
        offset += n
    rt = L.result()
    init = L.empty(rt, [(xs[0], _map(rank, [_d(k) if k != d else _c(0) for k in range(rank)]))])

    def body(o: Any, a: Any, bb: Any) -> Any:
        j = bb.insert(IndexOp(d)).result
        value = o._val(a[len(pieces) - 1])
        for p in reversed(range(len(pieces) - 1)):
            bound = bb.insert(arith.ConstantOp.from_int_and_width(pieces[p + 1][2], IndexType())).result
            below = bb.insert(arith.CmpiOp(j, bound, "ult")).result
            value = o.select(below, o._val(a[p]), value)
        return value

    return L.generic([x for x, _, _ in pieces], [m for _, m, _ in pieces], init,
                     _map(rank, ident), ["parallel"] * rank, body)


register("aten::cat(Tensor[] tensors, int dim=0) -> Tensor", _cat_shape, eager=_cat_eager, lower=_cat_lower)


def _stack_shape(ts: Any, dim: Any = 0) -> TensorMeta:
    if not ts:
        raise ShapeError("stack expects a non-empty TensorList")
    if any(t.shape is None for t in ts) or dim is UNKNOWN:
        return _cat_shape(ts, 0)
    for i, t in enumerate(ts):
        if t.shape != ts[0].shape:
            raise ShapeError(f"stack expects each tensor to be equal size, but got {list(ts[0].shape)} "
                             f"at entry 0 and {list(t.shape)} at entry {i}")
    return _cat_shape([_unsqueeze_shape(t, dim) for t in ts], dim)


register(
    "aten::stack(Tensor[] tensors, int dim=0) -> Tensor",
    _stack_shape,
    eager=lambda arrays, dim=0: (
        _stack_shape([_meta(a) for a in arrays], dim),
        np.stack(arrays, axis=normalize_dim(dim, arrays[0].ndim + 1)).astype(
            _stack_shape([_meta(a) for a in arrays], dim).dtype.np, copy=False),
    )[1],
    decompose=lambda T, xs, dim=0: T.cat([T.unsqueeze(x, dim) for x in xs], dim),
)


# -- Python indexing -------------------------------------------------------------------------------


def getitem(call: Any, x: Any, index: Any) -> Any:
    """`x[index]` as select/slice/unsqueeze calls (`call(name, *args)` dispatches an op): ints,
    slices, `None` and `...`; tensor (advanced) indices are not supported."""
    idx = index if isinstance(index, tuple) else (index,)
    rank = x.dim()
    if sum(1 for i in idx if i is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    used = sum(1 for i in idx if i is not None and i is not Ellipsis)
    if used > rank:
        raise IndexError(f"too many indices for tensor of dimension {rank}")
    if any(i is Ellipsis for i in idx):  # (`in` would compare tensors with ==)
        k = next(j for j, i in enumerate(idx) if i is Ellipsis)
        idx = idx[:k] + (slice(None),) * (rank - used) + idx[k + 1:]
    dim = 0
    for i in idx:
        if i is None:
            x = call("unsqueeze", x, dim)
            dim += 1
        elif isinstance(i, bool) or not isinstance(i, (int, slice)) and not hasattr(i, "__index__"):
            raise NotImplementedError(
                f"indexing with {type(i).__name__} is not supported (ints, slices, None and ... are)"
            )
        elif isinstance(i, slice):
            if i != slice(None):
                x = call("slice", x, dim, i.start, i.stop, 1 if i.step is None else i.step)
            dim += 1
        else:
            x = call("select", x, dim, int(i))
    return x

