"""Shape ops: views (`select`, `slice`, `unsqueeze`, `squeeze`, `expand`, `view`/`reshape`,
`transpose`, `permute`), `cat`/`stack`, Python indexing (`x[i]`, `x[:, 1:3]`, `x[..., 0]`,
`x[idx]` through index_ops.py's `aten.index`), and item assignment as functional ops
(`slice_scatter`, `select_scatter`, `setitem`: what a trace or script records for `x[...] = v`;
`slice_scatter` lowers as a `where` over a gather along its dim, no scatter loop).

Eagerly views are numpy views, as in torch. Lowered, they stay views: `select`/`slice` are
(strided, rank-reducing) `tensor.extract_slice`s, `view`/`reshape`/`flatten`/`squeeze`/`unsqueeze`
`tensor.collapse_shape`/`expand_shape`, which bufferize to memref views and become numpy
views (`x[3]`, `x[:, 1:9:2]`, `x.reshape(..)`); `transpose`/`permute` are `linalg.transpose`
(folded into consumers by fusion, otherwise a view after bufferization) and `expand` a
broadcasting map. `cat`/`stack` insert each input into a slab of one buffer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from xjit.ops.opdef import UNKNOWN, register
from xjit.ops.types import (
    ShapeError,
    TensorMeta,
    dtype_arg,
    from_numpy_dtype,
    normalize_dim,
    promote,
)


def _meta(a: np.ndarray) -> TensorMeta:
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
    return TensorMeta(x.shape[:d] + x.shape[d + 1 :], x.dtype)


def _select_lower(builder: Any, x: Any, dim: int, index: Any) -> Any:
    """A rank-reducing `tensor.extract_slice` (a view: `x[i]` in numpy), constant or run-time i."""
    return builder.select_dynamic(x, normalize_dim(dim, builder.rank(x)), index)


register(
    "aten::select.int(Tensor self, int dim, int index) -> Tensor",
    _select_shape,
    eager=_checked(
        _select_shape, lambda a, dim, i: a[(slice(None),) * normalize_dim(dim, a.ndim) + (i,)]
    ),
    lower=_select_lower,
)


def _slice_bounds(n: int, start: Any, end: Any, step: int) -> tuple[int, int]:
    s, e, _ = slice(start, end, step).indices(n)
    return s, max(e, s)


def _slice_shape(
    x: TensorMeta, dim: Any = 0, start: Any = None, end: Any = None, step: Any = 1
) -> TensorMeta:
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
    return TensorMeta(x.shape[:d] + (size,) + x.shape[d + 1 :], x.dtype)


def _slice_eager(
    a: np.ndarray, dim: int = 0, start: Any = None, end: Any = None, step: int = 1
) -> np.ndarray:
    d = normalize_dim(dim, a.ndim)
    return a[(slice(None),) * d + (slice(start, end, step),)]


def _slice_lower(
    builder: Any, x: Any, dim: int = 0, start: Any = None, end: Any = None, step: int = 1
) -> Any:
    """A strided `tensor.extract_slice` (the numpy view `x[s:e:step]`)."""
    shape = _static_shape(x)
    rank = len(shape)
    d = normalize_dim(dim, rank)
    n = shape[d]
    if not all(isinstance(v, int) or v is None for v in (start, end)):
        return _slice_run_time_bounds(builder, x, d, start, end, step)
    if n < 0:
        if start in (None, 0) and (end is None or end >= 2**62) and step == 1:
            return x  # the whole dim
        # constant bounds on a dim known only at run time: clamp them against its size there
        return _slice_run_time_bounds(builder, x, d, start, end, step)
    s, e = _slice_bounds(n, start, end, step)
    offsets, strides = [0] * rank, [1] * rank
    offsets[d], strides[d] = s, step
    return builder.slice_view(x, offsets, list(builder.result().get_shape()), strides)


def _slice_run_time_bounds(builder: Any, x: Any, d: int, start: Any, end: Any, step: int) -> Any:
    """`x[start:end:step]` along `d` with bounds known only at run time (i64 values): Python's
    clamping in index arithmetic (`arith`), then a `tensor.extract_slice` with a dynamic offset
    and size (the result dim is `?`)."""
    # lazy: xDSL loads when a graph is lowered, not with the eager ops
    from xdsl.dialects import arith, tensor
    from xdsl.dialects.builtin import IndexType, IntegerAttr

    b = builder.b
    if not isinstance(step, int) or step < 1:
        raise NotImplementedError("slicing with a run-time or non-positive step")

    def const(v: int) -> Any:
        return b.insert(arith.ConstantOp(IntegerAttr(v, IndexType()))).result

    def dim(k: int) -> Any:
        n = _static_shape(x)[k]
        return const(n) if n >= 0 else b.insert(tensor.DimOp(x, const(k))).result

    size = dim(d)

    def bound(v: Any, default: Any) -> Any:
        """Python's slice bound: None is the default, negative counts from the end, clamped."""
        if v is None:
            return default
        if isinstance(v, int):
            v = const(max(min(v, 2**62), -(2**62)))
        elif isinstance(v.type, IndexType):
            pass
        else:
            v = b.insert(arith.IndexCastOp(v, IndexType())).result
        zero = const(0)
        neg = b.insert(arith.CmpiOp(v, zero, "slt")).result
        wrapped = b.insert(arith.AddiOp(v, size)).result
        v = b.insert(arith.SelectOp(neg, wrapped, v)).result
        v = b.insert(arith.MaxSIOp(v, zero)).result
        return b.insert(arith.MinSIOp(v, size)).result

    lo = bound(start, const(0))
    hi = bound(end, size)
    length = b.insert(arith.MaxSIOp(b.insert(arith.SubiOp(hi, lo)).result, const(0))).result
    if step > 1:  # ceil(length / step) elements
        length = b.insert(arith.AddiOp(length, const(step - 1))).result
        length = b.insert(arith.DivUIOp(length, const(step))).result
    rank = len(_static_shape(x))
    offsets: list[Any] = [0] * rank
    sizes: list[Any] = [
        dim(k) if _static_shape(x)[k] < 0 else _static_shape(x)[k] for k in range(rank)
    ]
    strides = [1] * rank
    offsets[d], sizes[d], strides[d] = lo, length, step
    return b.insert(tensor.ExtractSliceOp(x, offsets, sizes, strides, builder.result())).result


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


def _unsqueeze_lower(builder: Any, x: Any, dim: int) -> Any:
    return builder.reshape(x)  # a `tensor.expand_shape`: a view


register(
    "aten::unsqueeze(Tensor self, int dim) -> Tensor",
    _unsqueeze_shape,
    eager=_checked(
        _unsqueeze_shape, lambda a, dim: np.expand_dims(a, normalize_dim(dim, a.ndim + 1))
    ),
    lower=_unsqueeze_lower,
)


def _squeeze_dims(x: TensorMeta, dim: Any) -> list[int]:
    assert x.shape is not None
    if dim is None:
        if any(s is None for s in x.shape):
            raise NotImplementedError("squeeze() of a tensor with dims of unknown size")
        return [k for k, s in enumerate(x.shape) if s == 1]
    d = normalize_dim(dim, len(x.shape))  # (a 0-d tensor takes dim 0 and -1 only)
    if not x.shape:
        return []
    return [d] if x.shape[d] == 1 else []


def _squeeze_shape(x: TensorMeta, dim: Any = None) -> TensorMeta:
    if not _ranked(x, dim):
        return TensorMeta(None, x.dtype)
    drop = _squeeze_dims(x, dim)
    return TensorMeta(tuple(s for k, s in enumerate(x.shape) if k not in drop), x.dtype)


def _squeeze_eager(a: np.ndarray, dim: Any = None) -> np.ndarray:
    return np.squeeze(a, axis=tuple(_squeeze_dims(_meta(a), dim)))


def _squeeze_lower(builder: Any, x: Any, dim: Any = None) -> Any:
    return builder.reshape(x)  # a `tensor.collapse_shape`: a view


register(
    "aten::squeeze(Tensor self) -> Tensor",
    _squeeze_shape,
    eager=_squeeze_eager,
    lower=_squeeze_lower,
)
register(
    "aten::squeeze.dim(Tensor self, int dim) -> Tensor",
    _squeeze_shape,
    eager=_checked(_squeeze_shape, _squeeze_eager),
    lower=_squeeze_lower,
)


def _expand_shape(x: TensorMeta, size: Any, implicit: bool = False) -> TensorMeta:
    if not _ranked(x, size) or any(s is UNKNOWN for s in size):
        return TensorMeta(None, x.dtype)
    n, r = len(size), len(x.shape)
    if n < r:
        raise ShapeError(
            f"expand: the number of sizes provided ({n}) must be greater or equal to "
            f"the number of dimensions in the tensor ({r})"
        )
    out = []
    for k, s in enumerate(size):
        src = x.shape[k - (n - r)] if k >= n - r else None
        if s == -1:
            if k < n - r:
                raise ShapeError("expand: -1 is not allowed in a leading, non-existing dimension")
            out.append(src)
        elif src is not None and src != 1 and src != s:
            raise ShapeError(
                f"expand: the expanded size of the tensor ({s}) must match the existing "
                f"size ({src}) at non-singleton dimension {k}; target sizes {list(size)}, "
                f"tensor shape {list(x.shape)}"
            )
        else:
            out.append(s)
    return TensorMeta(tuple(out), x.dtype)


def _expand_lower(builder: Any, x: Any, size: list[int], implicit: bool = False) -> Any:
    from xjit.ops.indexing_maps import broadcast_map  # lazy: imports xDSL

    out = builder.result().get_shape()
    return builder.copy(x, broadcast_map(_static_shape(x), out))


register(
    "aten::expand(Tensor self, int[] size, *, bool implicit=False) -> Tensor",
    _expand_shape,
    eager=lambda a, size, implicit=False: np.broadcast_to(a, _expand_shape(_meta(a), size).shape),
    lower=_expand_lower,
)


# -- view / reshape / flatten ---------------------------------------------------------------------


def _reshape_shape(x: TensorMeta, shape: Any) -> TensorMeta:
    if shape is UNKNOWN:
        return TensorMeta(None, x.dtype)
    if shape.count(-1) > 1:
        raise ShapeError("reshape: only one dimension can be inferred")
    if any(s is not UNKNOWN and s < -1 for s in shape):
        raise ShapeError(f"reshape: invalid shape dimension in {list(shape)}")
    if x.shape is None or any(s is UNKNOWN for s in shape):
        # sizes known at run time: `?` there (and at -1); the rank is the list's
        return TensorMeta(tuple(None if s is UNKNOWN or s == -1 else s for s in shape), x.dtype)
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


def _attach_units(n: int, anchors: Sequence[int]) -> list[list[int]]:
    """Groups of dims 0..n-1, one per anchor (a non-unit dim); each unit dim joins the group
    of the next anchor, trailing ones the last group."""
    if not anchors:
        return []
    groups: list[list[int]] = []
    start = 0
    for a in anchors:
        groups.append(list(range(start, a + 1)))
        start = a + 1
    groups[-1] += list(range(start, n))
    return groups


def _static_prefix_groups(
    src: Sequence[Any], dst: Sequence[Any]
) -> tuple[list[list[int]], list[list[int]], int, int]:
    """Groups matching a prefix of static `src` dims to a prefix of static `dst` dims with equal
    products, as far as no dynamic dim is reached; and how many dims of each they use. Equal
    outer products make the rest of the reshape independent of them (row-major order)."""
    gin: list[list[int]] = []
    gout: list[list[int]] = []
    i = j = 0
    while i < len(src) and j < len(dst) and src[i] is not None and dst[j] is not None:
        gi, gj, pi, pj = [i], [j], src[i], dst[j]
        ii, jj = i + 1, j + 1
        while pi != pj:
            if pi < pj and ii < len(src) and src[ii] is not None:
                gi.append(ii)
                pi, ii = pi * src[ii], ii + 1
            elif pj < pi and jj < len(dst) and dst[jj] is not None:
                gj.append(jj)
                pj, jj = pj * dst[jj], jj + 1
            else:
                return gin, gout, i, j
        gin.append(gi)
        gout.append(gj)
        i, j = ii, jj
    return gin, gout, i, j


def _dynamic_groups(
    src: Sequence[Any], dst: Sequence[Any]
) -> tuple[list[list[int]], list[list[int]]]:
    """`reshape_groups` with dynamic dims: static groups from the front and from the back, the
    rest (holding every dynamic dim) one group. Its collapsed size is known at run time only;
    the lowering computes the group's one dynamic `dst` dim from it (numel / the static dims),
    or checks it against the sizes given at run time or a static group, with a run-time assert
    either way."""
    if 0 in src or 0 in dst:
        raise NotImplementedError("reshape of a tensor with dims of unknown size and a 0 size")
    fin, fout, i, j = _static_prefix_groups(src, dst)
    rin, rout, ri, rj = _static_prefix_groups(src[i:][::-1], dst[j:][::-1])
    n, m = len(src), len(dst)
    mid_in, mid_out = list(range(i, n - ri)), list(range(j, m - rj))
    if not mid_in or not mid_out:  # a dynamic dim that would have to be 1: not handled
        raise NotImplementedError(
            f"reshape of a tensor with dims of unknown size from {_dims(src)} to {_dims(dst)}"
        )
    back_in = [[n - 1 - k for k in reversed(g)] for g in reversed(rin)]
    back_out = [[m - 1 - k for k in reversed(g)] for g in reversed(rout)]
    return [*fin, mid_in, *back_in], [*fout, mid_out, *back_out]


def _dims(shape: Sequence[Any]) -> str:
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"


def reshape_groups(
    src: Sequence[Any], dst: Sequence[Any]
) -> tuple[list[list[int]], list[list[int]]]:
    """The reassociations of a reshape `src` -> `mid` -> `dst` (None: a dynamic dim): `src`'s dims
    grouped into `mid`'s (a collapse), `mid`'s split into `dst`'s (an expand). Adding or dropping
    unit dims works with dynamic dims; anything else needs static shapes."""
    ns = [k for k, d in enumerate(src) if d != 1]
    nd = [k for k, d in enumerate(dst) if d != 1]
    if not ns and not nd and src and dst:  # all unit dims: through shape [1]
        return [list(range(len(src)))], [list(range(len(dst)))]
    if [src[k] for k in ns] == [dst[k] for k in nd]:
        return _attach_units(len(src), ns), _attach_units(len(dst), nd)
    if any(d is None for d in (*src, *dst)):
        return _dynamic_groups(src, dst)
    if 0 in src or 0 in dst:
        # no elements: products cannot tell groups apart ([0, 2, 2] -> [0, 2] would pair the 2s
        # and collapse to [0, 4]); all of src into one dim, split into all of dst
        return [list(range(len(src)))], [list(range(len(dst)))]
    gin: list[list[int]] = []
    gout: list[list[int]] = []
    i = j = 0
    while i < len(src) and j < len(dst):
        gi, gj, pi, pj = [i], [j], src[i], dst[j]
        i, j = i + 1, j + 1
        while pi != pj:
            if pi < pj and i < len(src):
                gi.append(i)
                pi, i = pi * src[i], i + 1
            elif j < len(dst):
                gj.append(j)
                pj, j = pj * dst[j], j + 1
            else:  # zero-size dims: one group
                return [list(range(len(src)))], [list(range(len(dst)))]
        gin.append(gi)
        gout.append(gj)
    if gin:
        gin[-1] += list(range(i, len(src)))
        gout[-1] += list(range(j, len(dst)))
    return gin, gout


def _reshape_lower(builder: Any, x: Any, shape: list[Any]) -> Any:
    # collapse/expand_shape: a numpy view (a copy only if x is not contiguous). `shape` may hold
    # run-time sizes (SSA values, `attrs["run_time_sizes"]`): the lowering checks them.
    return builder.reshape(x, shape)


for _name, _arg in (("view", "size"), ("reshape", "shape")):
    register(
        f"aten::{_name}(Tensor self, int[] {_arg}) -> Tensor",
        _reshape_shape,
        eager=lambda a, s: a.reshape(_reshape_shape(_meta(a), s).shape),
        lower=_reshape_lower,
        attrs={"run_time_sizes": True},
    )


def _flatten_dims(rank: int, start: int, end: int) -> tuple[int, int]:
    if rank == 0:
        return 0, -1
    s, e = normalize_dim(start, rank), normalize_dim(end, rank)
    if s > e:
        raise ShapeError("flatten() has invalid args: start_dim cannot come after end_dim")
    return s, e


def _flatten_target(shape: Sequence[Any], start: int, end: int) -> list[Any]:
    """The flattened shape, None where a size is only known at run time."""
    if not shape:
        return [1]
    s, e = _flatten_dims(len(shape), start, end)
    mid = shape[s : e + 1]
    return [*shape[:s], None if None in mid else math.prod(mid), *shape[e + 1 :]]


def _flatten_shape(x: TensorMeta, start: Any = 0, end: Any = -1) -> TensorMeta:
    if not _ranked(x, start, end):
        return TensorMeta(None, x.dtype)
    if None in x.shape:
        return TensorMeta(tuple(_flatten_target(x.shape, start, end)), x.dtype)
    return _reshape_shape(x, _flatten_target(x.shape, start, end))


def _flatten_decompose(torch: Any, x: Any, start: int = 0, end: int = -1) -> Any:
    target = _flatten_target(list(x.shape), start, end)
    if target.count(None) > 1:  # one reshape infers one size only: left alone (not lowered)
        return None
    return torch.reshape(x, [-1 if d is None else d for d in target])


register(
    "aten::flatten.using_ints(Tensor self, int start_dim=0, int end_dim=-1) -> Tensor",
    _flatten_shape,
    eager=lambda a, s=0, e=-1: a.reshape(_flatten_shape(_meta(a), s, e).shape),
    decompose=_flatten_decompose,
)


# -- transpose / permute -------------------------------------------------------------------------


def _permute_shape(x: TensorMeta, dims: Any) -> TensorMeta:
    if not _ranked(x, dims):
        return TensorMeta(None, x.dtype)
    rank = len(x.shape)
    if len(dims) != rank:
        raise ShapeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not "
            f"match the length of the desired ordering of dimensions i.e. input.dim() "
            f"= {rank} is not equal to len(dims) = {len(dims)}"
        )
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
    eager=_checked(
        _permute_shape, lambda a, dims: np.transpose(a, [normalize_dim(d, a.ndim) for d in dims])
    ),
    lower=lambda builder, x, dims: builder.transpose(
        x, [normalize_dim(d, builder.rank(x)) for d in dims]
    ),
)
register(
    "aten::transpose.int(Tensor self, int dim0, int dim1) -> Tensor",
    lambda x, d0, d1: (
        TensorMeta(None, x.dtype)
        if not _ranked(x, d0, d1)
        else _permute_shape(x, _transpose_perm(len(x.shape), d0, d1))
    ),
    eager=lambda a, d0, d1: np.transpose(a, _transpose_perm(a.ndim, d0, d1)),
    lower=lambda builder, x, d0, d1: builder.transpose(x, _transpose_perm(builder.rank(x), d0, d1)),
)
register(
    "aten::contiguous(Tensor self, *, int memory_format=0) -> Tensor",
    lambda x, memory_format=0: x,
    eager=lambda a, memory_format=0: a if a.flags.c_contiguous else a.copy(order="C"),
    decompose=lambda torch, x, memory_format=0: x,  # values have no layout in the IR
)
register(
    "aten::clone(Tensor self, *, int? memory_format=None) -> Tensor",
    lambda x, memory_format=None: x,
    eager=lambda a, memory_format=None: a.copy(),
    lower=lambda builder, x, memory_format=None: builder.copy(
        x, _map(builder.rank(x), [_d(k) for k in range(builder.rank(x))])
    ),
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
            raise ShapeError(
                f"torch.cat(): tensors must have same number of dimensions: got "
                f"{rank} and {len(t.shape)}"
            )
        for k in range(rank):
            a, b = ts[0].shape[k], t.shape[k]
            if k != d and a is not None and b is not None and a != b:
                raise ShapeError(
                    f"torch.cat(): sizes of tensors must match except in dimension {d}. "
                    f"Expected size {a} but got size {b} for tensor number {i} in the list."
                )
        total = None if total is None or t.shape[d] is None else total + t.shape[d]
    return TensorMeta(ts[0].shape[:d] + (total,) + ts[0].shape[d + 1 :], dt)


def _cat_eager(arrays: list[np.ndarray], dim: int = 0) -> np.ndarray:
    m = _cat_shape([_meta(a) for a in arrays], dim)
    return np.concatenate(
        [a.astype(m.dtype.np, copy=False) for a in arrays], axis=normalize_dim(dim, arrays[0].ndim)
    )


def _cat_lower(builder: Any, xs: list[Any], dim: int = 0) -> Any:
    """Each input copied into its slab of one buffer: `tensor.insert_slice`s into a
    `tensor.empty` (after bufferization, copies into subviews of the result)."""
    rank = builder.rank(xs[0])
    d = normalize_dim(dim, rank)
    et = builder.result().element_type
    if any(_static_shape(x)[d] < 0 for x in xs):
        return builder.concat_dynamic(xs, d)  # a `?` size along `d` (a loop growing a tensor)
    pieces, offset = [], 0
    for x in xs:
        n = _static_shape(x)[d]
        if n:
            if x.type.element_type != et:  # promote first (an elementwise copy)
                x = builder.convert(x, et)
            offsets = [0] * rank
            offsets[d] = offset
            pieces.append((x, offsets))
        offset += n
    return builder.insert_slices(pieces)


register(
    "aten::cat(Tensor[] tensors, int dim=0) -> Tensor",
    _cat_shape,
    eager=_cat_eager,
    lower=_cat_lower,
)


def _stack_shape(ts: Any, dim: Any = 0) -> TensorMeta:
    if not ts:
        raise ShapeError("stack expects a non-empty TensorList")
    if any(t.shape is None for t in ts) or dim is UNKNOWN:
        return _cat_shape(ts, 0)
    for i, t in enumerate(ts):
        if t.shape != ts[0].shape:
            raise ShapeError(
                f"stack expects each tensor to be equal size, but got {list(ts[0].shape)} "
                f"at entry 0 and {list(t.shape)} at entry {i}"
            )
    return _cat_shape([_unsqueeze_shape(t, dim) for t in ts], dim)


register(
    "aten::stack(Tensor[] tensors, int dim=0) -> Tensor",
    _stack_shape,
    eager=lambda arrays, dim=0: (
        _stack_shape([_meta(a) for a in arrays], dim),
        np.stack(arrays, axis=normalize_dim(dim, arrays[0].ndim + 1)).astype(
            _stack_shape([_meta(a) for a in arrays], dim).dtype.np, copy=False
        ),
    )[1],
    decompose=lambda torch, xs, dim=0: torch.cat([torch.unsqueeze(x, dim) for x in xs], dim),
)


# -- Python indexing -------------------------------------------------------------------------------


def getitem(call: Any, x: Any, index: Any) -> Any:
    """`x[index]` as registry calls (`call(name, *args)` dispatches an op), in torch's order:
    ints (`select`), slices (`slice`) and `None` (`unsqueeze`) first, left to right; then the
    tensor, list and boolean-mask indices together (`aten.index`), their broadcast dims in
    place of the indexed dims when those are adjacent, else in front (torch's rule)."""
    y, adv = basic_index(call, x, index)
    return advanced_index(call, y, adv) if adv else y


def basic_index(
    call: Any, x: Any, index: Any, steps: list[Any] | None = None
) -> tuple[Any, dict[int, Any]]:
    """The int/slice/None part of `x[index]` applied (eagerly a view of x), and the tensor
    indices left, by the dim of that view they index (a mask becomes its `nonzero` columns).
    `steps` collects each view taken, as (op, its input, its other arguments), for a write
    through them (`x[i] = v`), which also needs a 0-d index tensor as an int."""
    write = steps is not None
    steps = [] if steps is None else steps
    # The Tensor class itself, not type(x): a Parameter's indices are plain Tensors (`p[p > 0]`)
    T = type(x).__mro__[-2]
    idx = tuple(_index_tensor(T, i) for i in (index if isinstance(index, tuple) else (index,)))
    rank = x.dim()
    if sum(1 for i in idx if i is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    used = sum(_consumed(T, i) for i in idx)
    if used > rank:
        raise IndexError(f"too many indices for tensor of dimension {rank}")
    if any(i is Ellipsis for i in idx):  # (`in` would compare tensors with ==)
        k = next(j for j, i in enumerate(idx) if i is Ellipsis)
        idx = idx[:k] + (slice(None),) * (rank - used) + idx[k + 1 :]
    adv: dict[int, Any] = {}
    dim = 0
    for i in idx:
        if i is None:
            steps.append(("unsqueeze", x, (dim,)))
            x = call("unsqueeze", x, dim)
            dim += 1
        elif isinstance(i, T):
            if i.dtype.kind == 0:  # a mask: the positions where it holds
                n = i.dim()
                if np.shape(i._a) != np.shape(x._a)[dim : dim + n]:  # (not traced sizes)
                    raise IndexError(
                        f"The shape of the mask {list(i.shape)} at index {dim} does not match "
                        f"the shape of the indexed tensor {list(x.shape)}"
                    )
                nz = call("nonzero", i)
                for j in range(n):
                    adv[dim + j] = call("select", nz, 1, j)
                dim += n
            elif i.dim() == 0 and write:  # torch takes a 0-d integer tensor as an int
                steps.append(("select", x, (dim, int(i))))
                x = call("select", x, dim, int(i))
            elif i.dim() == 0:  # the same, read at run time: an `index` of that dim alone
                x = advanced_index(call, x, {dim: i})
            else:
                adv[dim] = i
                dim += 1
        elif isinstance(i, bool) or not isinstance(i, (int, slice)) and not hasattr(i, "__index__"):
            raise IndexError(
                f"indexing with {type(i).__name__} is not supported (ints, slices, None, ..., "
                "integer or boolean tensors and lists are)"
            )
        elif isinstance(i, slice):
            if i != slice(None):
                args = (dim, i.start, i.stop, 1 if i.step is None else i.step)
                steps.append(("slice", x, args))
                x = call("slice", x, *args)
            dim += 1
        else:
            steps.append(("select", x, (dim, int(i))))
            x = call("select", x, dim, int(i))
    return x, adv


def advanced_index(call: Any, y: Any, adv: dict[int, Any], rank_of: Any = None) -> Any:
    """`y[..., i0, ..., i1, ...]` with the tensor indices `adv` (by dim, negative counting
    from the end) and full slices elsewhere: the indexed dims moved to the front, `aten.index`
    on them, and the broadcast dims moved back where the indexed dims were if those were
    adjacent (torch's rule). `rank_of(v)` defaults to `v.dim()`."""
    rank_of = rank_of or (lambda v: v.dim())
    rank = rank_of(y)
    adv = {(p + rank if p < 0 else p): i for p, i in adv.items()}
    pos = sorted(adv)
    rest = [d for d in range(rank) if d not in adv]
    if pos != list(range(len(pos))):
        y = call("permute", y, pos + rest)
    out = call("index", y, [adv[p] for p in pos])
    adjacent = pos == list(range(pos[0], pos[0] + len(pos)))
    if adjacent and pos[0] > 0 and rank_of(out) > len(rest):
        nb = rank_of(out) - len(rest)
        before = [nb + j for j in range(pos[0])]
        after = [nb + j for j in range(pos[0], len(rest))]
        out = call("permute", out, before + list(range(nb)) + after)
    return out


def _index_tensor(T: type, i: Any) -> Any:
    """A list index (`x[[0, 2]]`) as the tensor torch makes of it; other indices unchanged."""
    if isinstance(i, (list, tuple)):
        a = np.asarray([np.asarray(v) for v in i])
        if a.dtype.kind not in "biu":
            raise IndexError("tensors used as indices must be long, int or bool tensors")
        return T(a.astype(np.int64) if a.dtype.kind != "b" else a)
    if isinstance(i, T) and i.dtype.kind == 2:
        raise IndexError("tensors used as indices must be long, int or bool tensors")
    if isinstance(i, T) and i.dtype.kind == 0 and i.dim() == 0:
        raise IndexError("indexing with a 0-dim boolean tensor is not supported")
    return i


def _consumed(T: type, i: Any) -> int:
    """How many dims of the tensor an index uses up."""
    if i is None or i is Ellipsis:
        return 0
    if isinstance(i, T) and i.dtype.kind == 0:
        return i.dim()
    return 1


# -- functional item assignment: what a trace or script records for `x[...] = v` -----------------


def _scatter_src(what: str, x: TensorMeta, src: TensorMeta, want: Any) -> None:
    if x.dtype is not None and src.dtype is not None and x.dtype != src.dtype:
        raise ShapeError(f"{what}(): expected src to have the dtype of self ({x.dtype.name})")
    if want is not None and src.shape is not None and None not in want and None not in src.shape:
        if tuple(src.shape) != tuple(want):
            raise ShapeError(
                f"{what}(): expected src to have a size equal to the slice of self: "
                f"src size = {list(src.shape)}, slice size = {list(want)}"
            )


def _slice_scatter_shape(
    x: TensorMeta, src: TensorMeta, dim: Any = 0, start: Any = None, end: Any = None, step: Any = 1
) -> TensorMeta:
    want = _slice_shape(x, dim, start, end, step).shape
    _scatter_src("slice_scatter", x, src, want)
    return x


def _slice_scatter_eager(
    a: np.ndarray, src: np.ndarray, dim: int = 0, start: Any = None, end: Any = None, step: int = 1
) -> np.ndarray:
    _slice_scatter_shape(_meta(a), _meta(src), dim, start, end, step)
    out = a.copy()
    d = normalize_dim(dim, a.ndim)
    out[(slice(None),) * d + (slice(start, end, step),)] = src
    return out


def _slice_scatter_decompose(
    torch: Any, x: Any, src: Any, dim: int = 0, start: Any = None, end: Any = None, step: int = 1
) -> Any:
    """`where(in the slice, src read at (i - start) // step, x)` along `dim`: an elementwise
    select and a gather, both vectorised (no scatter in the lowered code)."""
    rank = len(x.shape)
    d = normalize_dim(dim, rank)
    n = x.shape[d]
    if n is None or n < 0:
        return None
    s, e, _ = slice(start, end, step).indices(n)
    length = len(range(s, e, step))
    if length == 0:
        return x
    k = torch.sub(torch.arange(n), s)  # the position in the slice's stride
    on_step = torch.where(torch.eq(torch.remainder(k, step), 0), k, -1)
    inside = torch.eq(on_step, torch.clamp(on_step, 0, (length - 1) * step))
    picked = torch.index_select(src, d, torch.clamp(torch.floor_divide(k, step), 0, length - 1))
    mask = torch.reshape(inside, [n] + [1] * (rank - d - 1))
    return torch.where(mask, picked, x)


def _unknown_size(what: str) -> Any:
    def lower(builder: Any, *args: Any) -> Any:
        raise NotImplementedError(f"{what} along a dim of unknown size is not supported")

    return lower


register(
    "aten::slice_scatter(Tensor self, Tensor src, int dim=0, int? start=None, int? end=None, int step=1) -> Tensor",
    _slice_scatter_shape,
    eager=_slice_scatter_eager,
    decompose=_slice_scatter_decompose,
    lower=_unknown_size("slice_scatter"),
)


def _select_scatter_shape(x: TensorMeta, src: TensorMeta, dim: Any, index: Any) -> TensorMeta:
    _scatter_src("select_scatter", x, src, _select_shape(x, dim, index).shape)
    return x


def _select_scatter_eager(a: np.ndarray, src: np.ndarray, dim: int, index: int) -> np.ndarray:
    _select_scatter_shape(_meta(a), _meta(src), dim, index)
    out = a.copy()
    out[(slice(None),) * normalize_dim(dim, a.ndim) + (index,)] = src
    return out


def _select_scatter_decompose(torch: Any, x: Any, src: Any, dim: int, index: int) -> Any:
    d = normalize_dim(dim, len(x.shape))
    n = x.shape[d]
    if n is None or n < 0:
        return None
    i = index + n if index < 0 else index
    return _slice_scatter_decompose(torch, x, torch.unsqueeze(src, d), d, i, i + 1, 1)


register(
    "aten::select_scatter(Tensor self, Tensor src, int dim, int index) -> Tensor",
    _select_scatter_shape,
    eager=_select_scatter_eager,
    decompose=_select_scatter_decompose,
    lower=_unknown_size("select_scatter"),
)


def setitem(call: Any, x: Any, index: Any, value: Any) -> Any:
    """The value of `x` after `x[index] = value`, as functional registry calls (`call(name,
    *args)`): `masked_fill` for a mask, `index_put` for tensor indices, then `slice_scatter` /
    `select_scatter` back up through the slices and ints of the index."""
    T = type(x)
    if isinstance(index, T) and index.dtype.kind == 0:  # x[mask] = v
        return _masked_assign(call, x, index, value)
    steps: list[tuple[str, Any, tuple[Any, ...]]] = []
    y, adv = basic_index(call, x, index, steps)
    if isinstance(value, T):
        if value.dtype != x.dtype:
            value = call("to", value, x.dtype)
    else:
        value = call("full", [], value, dtype=x.dtype)
    if adv:
        new = _index_put(call, y, adv, value)
    else:
        new = call("expand", value, list(y.shape))
    for kind, parent, args in reversed(steps):
        if kind == "slice":
            new = call("slice_scatter", parent, new, *args)
        elif kind == "select":
            new = call("select_scatter", parent, new, *args)
        else:  # unsqueeze: the new dim dropped again
            new = call("squeeze", new, *args)
    return new


def _shape(t: Any) -> tuple[int, ...]:
    """A tensor's sizes as ints (not traced sizes: index shapes are fixed by the trace)."""
    return tuple(np.shape(t._a))


def _masked_assign(call: Any, x: Any, mask: Any, value: Any) -> Any:
    n, rank = mask.dim(), x.dim()
    if _shape(mask) != _shape(x)[:n]:
        raise IndexError(
            f"The shape of the mask {list(mask.shape)} at index 0 does not match the shape of "
            f"the indexed tensor {list(x.shape)}"
        )
    tensor_value = isinstance(value, type(x)) and value.dim()
    if tensor_value and value.dtype != x.dtype:
        value = call("to", value, x.dtype)
    if tensor_value:
        rest = list(_shape(x)[n:])
        count = int(np.count_nonzero(mask._a))  # this trace's; the compiled code checks its own
        vs = list(_shape(value))
        if np.broadcast_shapes(tuple(vs), (count, *rest)) != (count, *rest):
            raise RuntimeError(
                f"shape mismatch: value tensor of shape {vs} cannot be broadcast to indexing "
                f"result of shape {[count, *rest]}"
            )
        if len(vs) > len(rest) and vs[0] == 1:
            value, vs = call("reshape", value, vs[1:]), vs[1:]
        if len(vs) <= len(rest):  # one value row for every true
            if n < rank:
                mask = call("reshape", mask, list(_shape(mask)) + [1] * (rank - n))
            return call("where", mask, value, x)
        # One value row per true: `index_put` at the mask's `nonzero` columns, whose count
        # is the data's (a `?` in a trace); index_put checks the value rows against it.
        nz = call("nonzero", mask)
        return call("index_put", x, [call("select", nz, 1, j) for j in range(n)], value)
    if n < rank:
        mask = call("reshape", mask, list(_shape(mask)) + [1] * (rank - n))
    return call("masked_fill", x, mask, value)


def _index_put(call: Any, y: Any, adv: dict[int, Any], value: Any) -> Any:
    """`y[adv] = value` with the indexed dims moved to the front (as `advanced_index` reads
    them), `value` laid out to match, and the dims moved back."""
    pos = sorted(adv)
    rank = y.dim()
    rest = [d for d in range(rank) if d not in adv]
    idx = [adv[p] for p in pos]
    nb = max(i.dim() for i in idx)
    bshape = list(np.broadcast_shapes(*(_shape(i) for i in idx)))
    adjacent = pos == list(range(pos[0], pos[0] + len(pos)))
    front = [y.shape[d] for d in rest]
    if adjacent and pos[0] > 0:  # torch lays the result out with the index dims in place
        p0 = pos[0]
        value = call("expand", value, front[:p0] + bshape + front[p0:])
        perm = list(range(p0, p0 + nb)) + list(range(p0)) + list(range(p0 + nb, nb + len(rest)))
        value = call("permute", value, perm)
    perm_y = pos + rest
    moved = perm_y != list(range(rank))
    yp = call("permute", y, perm_y) if moved else y
    out = call("index_put", yp, idx, value)
    if moved:
        inverse = [perm_y.index(d) for d in range(rank)]
        out = call("permute", out, inverse)
    return out


# -- embedding (a gather) ----------------------------------------------------------------------------


def _embedding_shape(
    w: TensorMeta, idx: TensorMeta, padding_idx: Any = -1, scale: Any = False, sparse: Any = False
) -> TensorMeta:
    if w.shape is not None and len(w.shape) != 2:
        raise ShapeError(f"embedding: 'weight' must be 2-D, got {len(w.shape)}-D")
    if idx.dtype is not None and idx.dtype.kind != 1:
        raise ShapeError(f"embedding: expected indices of an integer type, got {idx.dtype.name}")
    if w.shape is None or idx.shape is None:
        return TensorMeta(None, w.dtype)
    return TensorMeta(idx.shape + w.shape[1:], w.dtype)


def _embedding_eager(
    w: np.ndarray, idx: np.ndarray, padding_idx: int = -1, scale: bool = False, sparse: bool = False
) -> np.ndarray:
    _embedding_shape(_meta(w), _meta(idx))
    n = w.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise IndexError(f"index out of range in self (embedding of {n} rows)")
    return w[idx]


register(
    "aten::embedding(Tensor weight, Tensor indices, int padding_idx=-1, bool scale_grad_by_freq=False, bool sparse=False) -> Tensor",
    _embedding_shape,
    eager=_embedding_eager,
    lower=lambda builder, w, idx, padding_idx=-1, scale=False, sparse=False: builder.gather_rows(
        w, idx
    ),
    py="torch.embedding",
)


def _dropout_eager(a: np.ndarray, p: float, train: bool) -> np.ndarray:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if train and p > 0:
        raise NotImplementedError(
            "dropout in training mode is not supported (xjit is inference only): call .eval()"
        )
    return a


def _dropout_decompose(torch: Any, x: Any, p: float, train: bool) -> Any:
    if train and p > 0:
        raise NotImplementedError("dropout in training mode is not supported (call .eval())")
    return x  # eval: the identity


register(
    "aten::dropout(Tensor input, float p, bool train) -> Tensor",
    lambda x, p, train: x,
    eager=_dropout_eager,
    decompose=_dropout_decompose,
    py="torch.nn.functional.dropout",
)


# -- dtype conversion ------------------------------------------------------------------------------


def _to_shape(
    x: TensorMeta,
    dtype: Any = None,
    non_blocking: Any = False,
    copy: Any = False,
    memory_format: Any = None,
) -> TensorMeta:
    if dtype is None:
        raise ShapeError("to(): a dtype is required")
    return TensorMeta(x.shape, None if dtype is UNKNOWN else dtype_arg(dtype))


def _to_eager(
    a: np.ndarray,
    dtype: Any = None,
    non_blocking: bool = False,
    copy: bool = False,
    memory_format: Any = None,
) -> np.ndarray:
    dt = _to_shape(_meta(a), dtype).dtype
    return a.astype(dt.np, copy=copy)  # the same array when the dtype already matches


def _to_lower(builder: Any, x: Any, dtype: Any = None, *rest: Any) -> Any:
    et = builder.result().element_type
    return x if x.type.element_type == et else builder.convert(x, et)


register(
    "aten::to.dtype(Tensor self, ScalarType? dtype, bool non_blocking=False, bool copy=False, int? memory_format=None) -> Tensor",
    _to_shape,
    eager=_to_eager,
    lower=_to_lower,
    py="torch.to",
)
