"""Convolutional-net ops: `convolution` (and `conv1d`/`conv2d`), max/avg/adaptive-avg pooling,
`batch_norm` in eval, `constant_pad_nd`.

None needs its own lowering: each decomposes into ops that already lower, so the numpy backend
runs them as whole-array operations. Convolution is im2col as views: one strided slice of the
padded input per kernel position (`x[:, :, i*d : i*d+s*(o-1)+1 : s, ...]`), concatenated, then
one batched `matmul` with the reshaped weight (BLAS); pooling reduces the same slices with
`maximum`/`add`. The eager semantics run the same algorithm in numpy. Decompositions need
static spatial sizes; with a dynamic one the op is left alone and lowering fails naming it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from xjit.ops.registry import UNKNOWN, register
from xjit.ops.types import ShapeError, TensorMeta, from_numpy_dtype


def _meta(a: np.ndarray | None) -> TensorMeta | None:
    return None if a is None else TensorMeta(a.shape, from_numpy_dtype(a.dtype))


def _expand(name: str, v: Sequence[int], n: int) -> list[int]:
    """torch's `int[n]` rule: one value stands for all n spatial dims."""
    v = list(v)
    if len(v) == 1:
        return v * n
    if len(v) != n:
        raise ShapeError(f"expected {name} to be a single integer value or a list of {n} values")
    return v


def _out_size(n: int, k: int, s: int, p: int, d: int) -> int:
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def _windows(k: Sequence[int], s: Sequence[int], d: Sequence[int], out: Sequence[int]) -> Any:
    """For each kernel position, the strided slices (start, end, step) of every spatial dim."""
    for pos in itertools.product(*(range(n) for n in k)):
        yield [
            (i * dd, i * dd + ss * (o - 1) + 1, ss)
            for i, ss, dd, o in zip(pos, s, d, out, strict=True)
        ]


# -- convolution ---------------------------------------------------------------------------------


def _conv_params(
    x: TensorMeta, w: TensorMeta, stride: Any, padding: Any, dilation: Any, groups: int
) -> tuple[list[int], list[int], list[int]]:
    n = len(x.shape) - 2
    return (
        _expand("stride", stride, n),
        _expand("padding", padding, n),
        _expand("dilation", dilation, n),
    )


def _conv_shape(
    x: TensorMeta,
    w: TensorMeta,
    b: TensorMeta | None,
    stride: Any,
    padding: Any,
    dilation: Any,
    transposed: Any,
    output_padding: Any,
    groups: Any,
) -> TensorMeta:
    if transposed is True:
        raise ShapeError("convolution: transposed convolution is not supported")
    if x.shape is None or w.shape is None or UNKNOWN in (stride, padding, dilation, groups):
        return TensorMeta(None, x.dtype)
    if len(x.shape) not in (3, 4) or len(w.shape) != len(x.shape):
        raise ShapeError(
            f"convolution: expected a 3-D or 4-D (batched) input and a weight of the same rank, "
            f"got input {list(x.shape)} and weight {list(w.shape)}"
        )
    if x.dtype is not None and w.dtype is not None and x.dtype != w.dtype:
        raise ShapeError(
            f"convolution: input type ({x.dtype.name}) and weight type ({w.dtype.name}) "
            "should be the same"
        )
    s, p, d = _conv_params(x, w, stride, padding, dilation, groups)
    c, o = x.shape[1], w.shape[0]
    if groups < 1 or (o is not None and o % groups) or (c is not None and c != w.shape[1] * groups):
        raise ShapeError(
            f"convolution: expected input {list(x.shape)} to have {w.shape[1] * groups} channels "
            f"(weight {list(w.shape)}, groups={groups}), and out channels divisible by groups"
        )
    if min(s) < 1 or min(d) < 1 or min(p) < 0:
        raise ShapeError("convolution: stride and dilation must be positive, padding non-negative")
    spatial = []
    for n, k, ss, pp, dd in zip(x.shape[2:], w.shape[2:], s, p, d, strict=True):
        if n is None:
            spatial.append(None)
            continue
        size = _out_size(n, k, ss, pp, dd)
        if size < 1:
            raise ShapeError(
                f"convolution: kernel size {list(w.shape[2:])} (dilated) is larger than the "
                f"padded input size {[m + 2 * q for m, q in zip(x.shape[2:], p)]}"
            )
        spatial.append(size)
    if b is not None and b.shape is not None and list(b.shape) != [o]:
        raise ShapeError(f"convolution: expected bias of shape [{o}], got {list(b.shape)}")
    return TensorMeta((x.shape[0], o, *spatial), x.dtype)


def _conv(ops: Any, x: Any, w: Any, b: Any, args: list[Any]) -> Any:
    """The im2col algorithm on an ops namespace (numpy eagerly, IR ops when decomposing)."""
    stride, padding, dilation, _, _, groups = args
    meta = _conv_shape(_m(x), _m(w), None, stride, padding, dilation, False, [0], groups)
    s, p, d = _conv_params(_m(x), _m(w), stride, padding, dilation, groups)
    nb, c = x.shape[:2]
    o, cg, *k = w.shape
    out = list(meta.shape[2:])
    if any(v is None for v in [nb, c, *x.shape[2:]]):
        return None
    if any(p):
        x = ops.pad(x, p, 0.0)
    cols = [ops.window(x, win) for win in _windows(k, s, d, out)]
    col = (
        ops.cat([ops.unsqueeze(v, 2) for v in cols], 2)
        if len(cols) > 1
        else ops.unsqueeze(cols[0], 2)
    )
    length = math.prod(out)
    col = ops.reshape(col, [nb, groups, cg * len(cols), length])
    wm = ops.reshape(w, [groups, o // groups, cg * len(cols)])
    y = ops.reshape(ops.matmul(wm, col), [nb, o, *out])
    if b is not None:
        y = ops.add(y, ops.reshape(b, [o] + [1] * len(out)))
    return y


def _m(x: Any) -> TensorMeta:
    return TensorMeta(
        tuple(x.shape), x.dtype if not isinstance(x, np.ndarray) else from_numpy_dtype(x.dtype)
    )


class _NumpyOps:
    """The ops `_conv`/`_pool` need, in numpy (eager)."""

    @staticmethod
    def pad(x: np.ndarray, p: Sequence[int], value: float) -> np.ndarray:
        return np.pad(x, [(0, 0)] * (x.ndim - len(p)) + [(q, q) for q in p], constant_values=value)

    @staticmethod
    def window(x: np.ndarray, win: Sequence[tuple[int, int, int]]) -> np.ndarray:
        lead = (slice(None),) * (x.ndim - len(win))
        return x[lead + tuple(slice(a, e, st) for a, e, st in win)]

    cat = staticmethod(np.concatenate)
    unsqueeze = staticmethod(np.expand_dims)
    reshape = staticmethod(np.reshape)
    matmul = staticmethod(np.matmul)
    add = staticmethod(np.add)
    maximum = staticmethod(np.maximum)


class _IROps:
    """The same ops as torch ops (`torch` is the decomposition's op builder)."""

    def __init__(self, torch: Any) -> None:
        self.t = torch

    def pad(self, x: Any, p: Sequence[int], value: float) -> Any:
        return _pad_decompose(self.t, x, [q for v in reversed(p) for q in (v, v)], value)

    def window(self, x: Any, win: Sequence[tuple[int, int, int]]) -> Any:
        lead = x.dim() - len(win)
        for i, (a, e, st) in enumerate(win):
            if (a, e, st) != (0, x.shape[lead + i], 1):
                x = self.t.slice(x, lead + i, a, e, st)
        return x

    def cat(self, xs: list[Any], dim: int) -> Any:
        return self.t.cat(xs, dim)

    def unsqueeze(self, x: Any, dim: int) -> Any:
        return self.t.unsqueeze(x, dim)

    def reshape(self, x: Any, shape: list[int]) -> Any:
        return self.t.reshape(x, shape)

    def matmul(self, a: Any, b: Any) -> Any:
        return self.t.matmul(a, b)

    def add(self, a: Any, b: Any) -> Any:
        return self.t.add(a, b)

    def maximum(self, a: Any, b: Any) -> Any:
        return self.t.maximum(a, b)


def _conv_eager(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, *args: Any) -> np.ndarray:
    m = _conv_shape(_meta(x), _meta(w), _meta(b), *args)
    y = _conv(_NumpyOps, x, w, b, list(args))
    return np.ascontiguousarray(y, dtype=m.dtype.np)


register(
    "aten::convolution(Tensor input, Tensor weight, Tensor? bias, int[] stride, int[] padding, int[] dilation, bool transposed, int[] output_padding, int groups) -> Tensor",
    _conv_shape,
    eager=_conv_eager,
    decompose=lambda torch, x, w, b, *args: _conv(_IROps(torch), x, w, b, list(args)),
)


def _convnd(n: int) -> None:
    """`conv1d`/`conv2d`: `convolution`, with an unbatched input given a batch dim."""

    def unbatched(x: TensorMeta) -> bool:
        return x.shape is not None and len(x.shape) == n + 1

    def shape(x: TensorMeta, w: TensorMeta, b: Any, s: Any, p: Any, d: Any, g: Any) -> TensorMeta:
        if x.shape is not None and len(x.shape) not in (n + 1, n + 2):
            raise ShapeError(
                f"conv{n}d: expected a {n + 1}-D (unbatched) or {n + 2}-D (batched) input, "
                f"got shape {list(x.shape)}"
            )
        xb = TensorMeta((1, *x.shape), x.dtype) if unbatched(x) else x
        m = _conv_shape(xb, w, b, s, p, d, False, [0], g)
        return TensorMeta(m.shape[1:], m.dtype) if unbatched(x) and m.shape else m

    def eager(x: np.ndarray, w: np.ndarray, b: Any, s: Any, p: Any, d: Any, g: Any) -> np.ndarray:
        shape(_meta(x), _meta(w), _meta(b), s, p, d, g)
        if x.ndim == n + 1:
            return _conv_eager(x[None], w, b, s, p, d, False, [0], g)[0]
        return _conv_eager(x, w, b, s, p, d, False, [0], g)

    def decompose(torch: Any, x: Any, w: Any, b: Any, s: Any, p: Any, d: Any, g: Any) -> Any:
        if x.dim() == n + 1:
            y = torch.convolution(torch.unsqueeze(x, 0), w, b, s, p, d, False, [0] * n, g)
            return torch.squeeze(y, 0)
        return torch.convolution(x, w, b, s, p, d, False, [0] * n, g)

    register(
        f"aten::conv{n}d(Tensor input, Tensor weight, Tensor? bias=None, int[] stride=[1], int[] padding=[0], int[] dilation=[1], int groups=1) -> Tensor",
        shape,
        eager=eager,
        decompose=decompose,
        py=f"torch.conv{n}d",
    )


_convnd(1)
_convnd(2)


# -- constant padding ------------------------------------------------------------------------------


def _pad_shape(x: TensorMeta, pad: Any, value: Any = 0) -> TensorMeta:
    if x.shape is None or pad is UNKNOWN:
        return TensorMeta(None, x.dtype)
    if len(pad) % 2 or len(pad) // 2 > len(x.shape):
        raise ShapeError(
            f"pad: padding length must be even and at most twice the input's rank "
            f"({len(x.shape)}), got {len(pad)}"
        )
    shape = list(x.shape)
    for i in range(len(pad) // 2):
        dim = len(shape) - 1 - i
        if shape[dim] is not None:
            shape[dim] += pad[2 * i] + pad[2 * i + 1]
            if shape[dim] < 0:
                raise ShapeError(f"pad: the padded size of dim {dim} would be {shape[dim]}")
    return TensorMeta(tuple(shape), x.dtype)


def _pad_eager(a: np.ndarray, pad: list[int], value: Any = 0) -> np.ndarray:
    m = _pad_shape(_meta(a), pad, value)
    widths = [(0, 0)] * a.ndim
    index = [slice(None)] * a.ndim
    for i in range(len(pad) // 2):
        lo, hi = pad[2 * i], pad[2 * i + 1]
        dim = a.ndim - 1 - i
        widths[dim] = (max(lo, 0), max(hi, 0))
        index[dim] = slice(max(-lo, 0), a.shape[dim] - max(-hi, 0))
    out = np.pad(a[tuple(index)], widths, constant_values=value)
    return out.astype(m.dtype.np, copy=False)


def _pad_decompose(torch: Any, x: Any, pad: list[int], value: Any = 0) -> Any:
    """Negative widths slice; positive ones concatenate constant-filled blocks."""
    if any(s is None for s in x.shape):
        return None
    for i in range(len(pad) // 2):
        lo, hi = pad[2 * i], pad[2 * i + 1]
        dim = x.dim() - 1 - i
        if lo < 0 or hi < 0:
            x = torch.slice(x, dim, max(-lo, 0), x.shape[dim] - max(-hi, 0))
        parts = []
        for width in (max(lo, 0), None, max(hi, 0)):
            if width is None:
                parts.append(x)
            elif width:
                size = list(x.shape)
                size[dim] = width
                parts.append(torch.full(size, value, dtype=x.dtype))
        if len(parts) > 1:
            x = torch.cat(parts, dim)
    return x


register(
    "aten::constant_pad_nd(Tensor self, int[] pad, Scalar value=0) -> Tensor",
    _pad_shape,
    eager=_pad_eager,
    decompose=_pad_decompose,
    py="torch.constant_pad_nd",
)
