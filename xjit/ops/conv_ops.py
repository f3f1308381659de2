"""Convolutional-net ops: `convolution` (and `conv1d`/`conv2d`, `conv_transpose1d/2d`),
max/avg/adaptive-avg pooling, `batch_norm` in eval, `constant_pad_nd`.

None needs its own lowering: each decomposes into ops that already lower, so the numpy backend
runs them as whole-array operations. Convolution is im2col as views: one strided slice of the
padded input per kernel position (`x[:, :, i*d : i*d+s*(o-1)+1 : s, ...]`), concatenated, then
one batched `matmul` with the reshaped weight (BLAS); pooling reduces the same slices with
`maximum`/`add`. A transposed convolution is the direct one on the input with zeros inserted
between its elements (stride) and the kernel flipped (`_conv_transposed`). The eager semantics
run the same algorithm in numpy. Decompositions need static channel sizes. A dynamic batch
reaches reshapes, which take it as -1, and padding, whose blocks are `full_like` of a slice of
the input (`_pad_block`). Dynamic spatial sizes give windows whose ends count from the input's
end (`_windows`) and an im2col that keeps its columns unflattened (`_im2col_dynamic`). Where a
decomposition still needs a static size (`*_dynamic_problem`, which the torch.export importer
checks up front), the op is left alone and lowering fails naming it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from xjit.ops.opdef import UNKNOWN, register  # (not .registry: that loads this module)
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


def _windows(
    k: Sequence[int], s: Sequence[int], d: Sequence[int], out: Sequence[int | None]
) -> Any:
    """For each kernel position, the strided slices (start, end, step) of every spatial dim.

    An output size known only at run time (None: a dynamic spatial dim) gives an end counted
    from the end of the (padded) input, `-(d*(k-1) - i*d)` (None for the last tap): the slice
    `[i*d : n - d*(k-1) + i*d : s]` has ceil((n - d*(k-1)) / s) = (n - d*(k-1) - 1) // s + 1
    elements, the output size, for every n."""
    for pos in itertools.product(*(range(n) for n in k)):
        yield [
            (i * dd, _window_end(i, kk, ss, dd, o), ss)
            for i, kk, ss, dd, o in zip(pos, k, s, d, out, strict=True)
        ]


def _window_end(i: int, k: int, s: int, d: int, o: int | None) -> int | None:
    if o is not None:
        return i * d + s * (o - 1) + 1
    back = d * (k - 1) - i * d
    return -back if back else None


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
    if x.shape is None or w.shape is None or UNKNOWN in (stride, padding, dilation, groups):
        return TensorMeta(None, x.dtype)
    if transposed is UNKNOWN or (transposed is True and output_padding is UNKNOWN):
        return TensorMeta(None, x.dtype)
    if len(x.shape) not in (3, 4, 5) or len(w.shape) != len(x.shape):
        raise ShapeError(
            f"convolution: expected a 3-D, 4-D or 5-D (batched) input and a weight of the same rank, "
            f"got input {list(x.shape)} and weight {list(w.shape)}"
        )
    if x.dtype is not None and w.dtype is not None and x.dtype != w.dtype:
        raise ShapeError(
            f"convolution: input type ({x.dtype.name}) and weight type ({w.dtype.name}) "
            "should be the same"
        )
    if transposed is True:
        return _conv_transposed_shape(x, w, b, stride, padding, dilation, output_padding, groups)
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
    _check_bias(b, o)
    return TensorMeta((x.shape[0], o, *spatial), x.dtype)


def _check_bias(b: TensorMeta | None, o: int) -> None:
    if b is not None and b.shape is not None and list(b.shape) != [o]:
        raise ShapeError(f"convolution: expected bias of shape [{o}], got {list(b.shape)}")


def _conv_transposed_shape(
    x: TensorMeta,
    w: TensorMeta,
    b: TensorMeta | None,
    stride: Any,
    padding: Any,
    dilation: Any,
    output_padding: Any,
    groups: int,
) -> TensorMeta:
    """Transposed convolution: weight [C_in, C_out/groups, *k] (torch's layout), output size
    (n-1)*s - 2p + d*(k-1) + output_padding + 1 per spatial dim."""
    s, p, d = _conv_params(x, w, stride, padding, dilation, groups)
    op = _expand("output_padding", output_padding, len(s))
    c, cin = x.shape[1], w.shape[0]
    if groups < 1 or cin % groups or (c is not None and c != cin):
        raise ShapeError(
            f"convolution (transposed): expected input {list(x.shape)} to have {cin} channels "
            f"(weight {list(w.shape)} is [in, out/groups, *kernel]), and in channels divisible "
            f"by groups={groups}"
        )
    if min(s) < 1 or min(d) < 1 or min(p) < 0 or min(op) < 0:
        raise ShapeError(
            "convolution (transposed): stride and dilation must be positive, padding and "
            "output_padding non-negative"
        )
    if any(q >= ss and q >= dd for q, ss, dd in zip(op, s, d, strict=True)):
        raise ShapeError(
            f"convolution (transposed): output padding {op} must be smaller than either stride "
            f"{s} or dilation {d}"
        )
    o = w.shape[1] * groups
    spatial = []
    for n, k, ss, pp, dd, q in zip(x.shape[2:], w.shape[2:], s, p, d, op, strict=True):
        if n is None:
            spatial.append(None)
            continue
        size = (n - 1) * ss - 2 * pp + dd * (k - 1) + q + 1
        if size < 1:
            raise ShapeError(
                f"convolution (transposed): the output size {size} (input {list(x.shape)}, "
                f"weight {list(w.shape)}, padding {p}) is not positive"
            )
        spatial.append(size)
    _check_bias(b, o)
    return TensorMeta((x.shape[0], o, *spatial), x.dtype)


def _conv(ops: Any, x: Any, w: Any, b: Any, args: list[Any]) -> Any:
    """`convolution` on an ops namespace (numpy eagerly, IR ops when decomposing); None where a
    size known only at run time keeps it from decomposing (`conv_dynamic_problem`)."""
    stride, padding, dilation, transposed, output_padding, groups = args
    if conv_dynamic_problem(list(x.shape), transposed, stride) is not None:
        return None
    if transposed:
        return _conv_transposed(ops, x, w, b, stride, padding, dilation, output_padding, groups)
    meta = _conv_shape(_m(x), _m(w), None, stride, padding, dilation, False, [0], groups)
    s, p, d = _conv_params(_m(x), _m(w), stride, padding, dilation, groups)
    if any(p):
        x = ops.pad(x, p, 0.0)
        if x is None:  # padding a tensor with a dynamic dim: not decomposed
            return None
    return _im2col(ops, x, w, b, s, d, groups, list(meta.shape[2:]), flip=False)


def conv_dynamic_problem(shape: list[int | None], transposed: bool, stride: Any) -> str | None:
    """Why `convolution` of an input of this shape (None: a size known only at run time) does
    not decompose, or None. A dynamic batch and dynamic spatial sizes do (the im2col views
    count their ends from the input's end); a dynamic channel count does not (the weight's
    reshapes need it), nor a transposed convolution with a stride > 1 over an input with
    several such sizes (its zeros are inserted by reshapes, which infer one size only)."""
    if len(shape) < 2 or shape[1] is None:
        return "a channel count known only at run time"
    if transposed and any(ss > 1 for ss in stride) and shape.count(None) > 1:
        return (
            "transposed with a stride > 1 over a spatial size known only at run time, "
            "next to another one"
        )
    return None


def _conv_transposed(
    ops: Any, x: Any, w: Any, b: Any, stride: Any, padding: Any, dilation: Any, out_pad: Any, g: int
) -> Any:
    """Transposed convolution as a direct one: the input with stride-1 zeros inserted between its
    elements (per spatial dim: unsqueeze, pad the new dim to `stride`, merge), padded by
    d*(k-1)-p (plus output_padding on the high side; a negative width crops), convolved with the
    flipped kernel (the windows taken in reverse order) whose in/out channels are swapped per
    group. All whole-array ops: the same im2col + matmul as `convolution`."""
    meta = _conv_shape(_m(x), _m(w), None, stride, padding, dilation, True, out_pad, g)
    s, p, d = _conv_params(_m(x), _m(w), stride, padding, dilation, g)
    op = _expand("output_padding", out_pad, len(s))
    n = len(s)
    cin, cog, *k = w.shape
    for i, ss in enumerate(s):
        if ss > 1:
            shape = list(x.shape)
            y = ops.unsqueeze(x, 3 + i)
            y = ops.pad2(y, [0] * (n - i), [ss - 1] + [0] * (n - i - 1), 0.0)
            shape[2 + i] = None if shape[2 + i] is None else shape[2 + i] * ss
            x = ops.reshape(y, [-1 if v is None else v for v in shape])  # (one ? at most)
    lo = [dd * (kk - 1) - pp for dd, kk, pp in zip(d, k, p, strict=True)]
    hi = [a + q - (ss - 1) for a, q, ss in zip(lo, op, s, strict=True)]
    if any(lo) or any(hi):
        x = ops.pad2(x, lo, hi, 0.0)
    wc = ops.reshape(w, [g, cin // g, cog, *k])
    wc = ops.permute(wc, [0, 2, 1, *range(3, 3 + n)])
    wc = ops.reshape(wc, [g * cog, cin // g, *k])
    return _im2col(ops, x, wc, b, [1] * n, d, g, list(meta.shape[2:]), flip=True)


def _im2col(
    ops: Any,
    x: Any,
    w: Any,
    b: Any,
    s: list[int],
    d: list[int],
    groups: int,
    out: list[int],
    flip: bool,
) -> Any:
    """The im2col algorithm on an already padded input: one strided view per kernel position
    (in reverse order for a flipped kernel), then one matmul with the reshaped weight."""
    nb, c = x.shape[:2]
    o, cg, *k = w.shape
    if None in out:
        return _im2col_dynamic(ops, x, w, b, s, d, groups, out, flip)
    cols = [ops.window(x, win) for win in _windows(k, s, d, out)]
    if flip:
        cols.reverse()
    length, taps = math.prod(out), len(cols)
    rows = -1 if nb is None else nb * length  # a dynamic batch: reshapes infer it
    nb = -1 if nb is None else nb
    if groups == 1:
        # [O, C*K] @ [C*K, N*L]: one 2-D matmul (BLAS). Each window is laid out as a contiguous
        # block of the columns ([C, K, N, *out]), so building them copies whole rows (with the
        # windows as the last axis, each copy wrote one float in every C*K: 5x slower on LeNet)
        first = [1, 0, *range(2, 2 + len(out))]  # [N, C, *out] -> [C, N, *out]
        col = ops.cat([ops.unsqueeze(ops.permute(v, first), 1) for v in cols], 1)
        y = ops.mm(ops.reshape(w, [o, c * taps]), ops.reshape(col, [c * taps, rows]))
        y = ops.permute(ops.reshape(y, [o, nb, *out]), first)  # [O, N, *out] -> [N, O, *out]
    else:
        col = ops.cat([ops.unsqueeze(v, 2) for v in cols], 2)
        col = ops.reshape(col, [nb, groups, cg * taps, length])
        wm = ops.reshape(w, [groups, o // groups, cg * taps])
        y = ops.reshape(ops.matmul(wm, col), [nb, o, *out])
    if b is not None:
        y = ops.add(y, ops.reshape(b, [o] + [1] * len(out)))
    return y


def _im2col_dynamic(
    ops: Any,
    x: Any,
    w: Any,
    b: Any,
    s: list[int],
    d: list[int],
    groups: int,
    out: list[int | None],
    flip: bool,
) -> Any:
    """im2col when output sizes are known only at run time: a reshape could infer one of them
    only, so the columns stay unflattened, channels last: [N, *out, taps*C] @ [taps*C, O]
    (matmul broadcasts over N and *out), permuted back to [N, O, *out]. Groups are convolved
    one by one (a static slice of the channels and of the weight each) and concatenated."""
    c = x.shape[1]
    o, cg, *k = w.shape
    n = len(out)
    if groups > 1:
        og = o // groups
        ys = [
            _im2col_dynamic(
                ops,
                ops.narrow(x, 1, g * cg, cg),
                ops.narrow(w, 0, g * og, og),
                None,
                s,
                d,
                1,
                out,
                flip,
            )
            for g in range(groups)
        ]
        y = ops.cat(ys, 1)
    else:
        last = [0, *range(2, 2 + n), 1]  # [N, C, *out] -> [N, *out, C]
        cols = [ops.permute(ops.window(x, win), last) for win in _windows(k, s, d, out)]
        if flip:
            cols.reverse()
        col = ops.cat(cols, n + 1)  # [N, *out, taps*C], tap-major as the weight below
        wk = ops.reshape(ops.permute(w, [0, *range(2, 2 + n), 1]), [o, len(cols) * c])
        y = ops.matmul(col, ops.transpose2d(wk))  # [N, *out, O]
        y = ops.permute(y, [0, n + 1, *range(1, n + 1)])
    if b is not None:
        y = ops.add(y, ops.reshape(b, [o] + [1] * n))
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

    @staticmethod
    def pad2(x: np.ndarray, lo: Sequence[int], hi: Sequence[int], value: Any) -> np.ndarray:
        """Pads the last len(lo) dims; a negative width crops (as constant_pad_nd)."""
        lead = x.ndim - len(lo)
        crop = tuple(
            slice(max(-a, 0), x.shape[lead + i] - max(-e, 0))
            for i, (a, e) in enumerate(zip(lo, hi, strict=True))
        )
        widths = [(max(a, 0), max(e, 0)) for a, e in zip(lo, hi, strict=True)]
        x = x[(slice(None),) * lead + crop]
        return np.pad(x, [(0, 0)] * lead + widths, constant_values=value)

    @staticmethod
    def rsqrt(x: np.ndarray) -> np.ndarray:
        return 1.0 / np.sqrt(x)

    @staticmethod
    def narrow(x: np.ndarray, dim: int, start: int, length: int) -> np.ndarray:
        return x[(slice(None),) * dim + (slice(start, start + length),)]

    @staticmethod
    def ones_like(x: np.ndarray) -> np.ndarray:
        return np.ones_like(x)

    cat = staticmethod(np.concatenate)
    permute = staticmethod(np.transpose)
    mm = staticmethod(np.matmul)
    transpose2d = staticmethod(np.transpose)
    div = staticmethod(np.divide)

    @staticmethod
    def ones(sizes: list[int], like: np.ndarray) -> np.ndarray:
        return np.ones(sizes, like.dtype)

    mul = staticmethod(np.multiply)
    neg = staticmethod(np.negative)
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

    def pad2(self, x: Any, lo: Sequence[int], hi: Sequence[int], value: Any) -> Any:
        pad = [q for a, e in zip(reversed(lo), reversed(hi), strict=True) for q in (a, e)]
        return _pad_decompose(self.t, x, pad, value)

    def div(self, x: Any, v: Any) -> Any:
        return self.t.div(x, v)

    def ones(self, sizes: list[int], like: Any) -> Any:
        return self.t.ones(sizes, dtype=like.dtype)

    def ones_like(self, x: Any) -> Any:
        return self.t.full_like(x, 1.0)

    def narrow(self, x: Any, dim: int, start: int, length: int) -> Any:
        return self.t.slice(x, dim, start, start + length)

    def mul(self, a: Any, b: Any) -> Any:
        return self.t.mul(a, b)

    def neg(self, a: Any) -> Any:
        return self.t.neg(a)

    def rsqrt(self, a: Any) -> Any:
        return self.t.rsqrt(a)

    def window(self, x: Any, win: Sequence[tuple[int, int, int]]) -> Any:
        lead = x.dim() - len(win)
        for i, (a, e, st) in enumerate(win):
            if (a, e, st) != (0, x.shape[lead + i], 1):
                x = self.t.slice(x, lead + i, a, e, st)
        return x

    def cat(self, xs: list[Any], dim: int) -> Any:
        return self.t.cat(xs, dim)

    def permute(self, x: Any, dims: list[int]) -> Any:
        return self.t.permute(x, dims)

    def mm(self, a: Any, b: Any) -> Any:
        return self.t.mm(a, b)

    def transpose2d(self, a: Any) -> Any:
        return self.t.t(a)

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
_convnd(3)


def _conv_transposend(n: int) -> None:
    """`conv_transpose1d`/`conv_transpose2d`: transposed `convolution` (note torch's argument
    order: output_padding, groups, then dilation), an unbatched input given a batch dim."""

    def conv_args(s: Any, p: Any, op: Any, g: Any, d: Any) -> list[Any]:
        return [s, p, d, True, op, g]

    def shape(
        x: TensorMeta, w: TensorMeta, b: Any, s: Any, p: Any, op: Any, g: Any, d: Any
    ) -> TensorMeta:
        if x.shape is not None and len(x.shape) not in (n + 1, n + 2):
            raise ShapeError(
                f"conv_transpose{n}d: expected a {n + 1}-D (unbatched) or {n + 2}-D (batched) "
                f"input, got shape {list(x.shape)}"
            )
        unbatched = x.shape is not None and len(x.shape) == n + 1
        xb = TensorMeta((1, *x.shape), x.dtype) if unbatched else x
        m = _conv_shape(xb, w, b, *conv_args(s, p, op, g, d))
        return TensorMeta(m.shape[1:], m.dtype) if unbatched and m.shape else m

    def eager(
        x: np.ndarray, w: np.ndarray, b: Any, s: Any, p: Any, op: Any, g: Any, d: Any
    ) -> np.ndarray:
        shape(_meta(x), _meta(w), _meta(b), s, p, op, g, d)
        if x.ndim == n + 1:
            return _conv_eager(x[None], w, b, *conv_args(s, p, op, g, d))[0]
        return _conv_eager(x, w, b, *conv_args(s, p, op, g, d))

    def decompose(
        torch: Any, x: Any, w: Any, b: Any, s: Any, p: Any, op: Any, g: Any, d: Any
    ) -> Any:
        if x.dim() == n + 1:
            y = torch.convolution(torch.unsqueeze(x, 0), w, b, *conv_args(s, p, op, g, d))
            return torch.squeeze(y, 0)
        return torch.convolution(x, w, b, *conv_args(s, p, op, g, d))

    register(
        f"aten::conv_transpose{n}d(Tensor input, Tensor weight, Tensor? bias=None, int[] stride=[1], int[] padding=[0], int[] output_padding=[0], int groups=1, int[] dilation=[1]) -> Tensor",
        shape,
        eager=eager,
        decompose=decompose,
        py=f"torch.conv_transpose{n}d",
    )


_conv_transposend(1)
_conv_transposend(2)
_conv_transposend(3)


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
    for i in range(len(pad) // 2):
        lo, hi = pad[2 * i], pad[2 * i + 1]
        dim = x.dim() - 1 - i
        if lo < 0 or hi < 0:
            n = x.shape[dim]  # a run-time size (None): the end counts from it
            end = n - max(-hi, 0) if n is not None else (hi if hi < 0 else None)
            x = torch.slice(x, dim, max(-lo, 0), end)
        parts = []
        for width in (max(lo, 0), None, max(hi, 0)):
            if width is None:
                parts.append(x)
            elif width:
                parts.append(_pad_block(torch, x, dim, width, value))
        if len(parts) > 1:
            x = torch.cat(parts, dim)
    return x


def _pad_block(torch: Any, x: Any, dim: int, width: int, value: Any) -> Any:
    """A block of `value` shaped like x but `width` wide along `dim`. Where x has sizes known
    only at run time, it is `full_like` of one slice of x along `dim`, expanded to `width`:
    the lowering then reads each run-time size off x (a factory could not know them)."""
    if None not in x.shape:
        size = list(x.shape)
        size[dim] = width
        return torch.full(size, value, dtype=x.dtype)
    if x.shape[dim] is None:  # select + unsqueeze: a static 1 along a dim of run-time size
        piece = torch.unsqueeze(torch.select(x, dim, 0), dim)
    else:
        piece = torch.slice(x, dim, 0, 1)
    block = torch.full_like(piece, value)
    if width == 1:
        return block
    return torch.expand(block, [width if k == dim else -1 for k in range(x.dim())])


register(
    "aten::constant_pad_nd(Tensor self, int[] pad, Scalar value=0) -> Tensor",
    _pad_shape,
    eager=_pad_eager,
    decompose=_pad_decompose,
    py="torch.constant_pad_nd",
)


# -- pooling ---------------------------------------------------------------------------------------


def _pool_geometry(
    name: str,
    x: TensorMeta,
    n: int,
    kernel: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    ceil: Any,
) -> tuple[list[int], list[int], list[int], list[int], list[int | None]]:
    """Kernel, stride (default: the kernel), padding, dilation and output sizes, checked as torch
    checks them."""
    if x.shape is not None and len(x.shape) not in (n + 1, n + 2):
        raise ShapeError(
            f"{name}: expected a {n + 1}-D or {n + 2}-D input, got shape {list(x.shape)}"
        )
    k = _expand("kernel_size", kernel, n)
    s = _expand("stride", stride, n) if list(stride) else k
    p, d = _expand("padding", padding, n), _expand("dilation", dilation, n)
    if min(k) < 1 or min(s) < 1 or min(d) < 1:
        raise ShapeError(f"{name}: kernel_size, stride and dilation must be greater than zero")
    if any(2 * pp > dd * (kk - 1) + 1 for pp, kk, dd in zip(p, k, d, strict=True)):
        raise ShapeError(f"{name}: pad should be at most half of effective kernel size")
    out: list[int | None] = []
    for i in range(n):
        size = None if x.shape is None else x.shape[len(x.shape) - n + i]
        if size is None:
            out.append(None)
            continue
        span = size + 2 * p[i] - d[i] * (k[i] - 1) - 1
        o = (-(-span // s[i]) if ceil else span // s[i]) + 1
        if ceil and (o - 1) * s[i] >= size + p[i]:
            o -= 1  # torch: the last window must start inside the input or left padding
        if o < 1:
            raise ShapeError(f"{name}: output size is too small (input {list(x.shape)})")
        out.append(o)
    return k, s, p, d, out


def _pool_meta(x: TensorMeta, out: list[int | None]) -> TensorMeta:
    if x.shape is None:
        return TensorMeta(None, x.dtype)
    return TensorMeta((*x.shape[: len(x.shape) - len(out)], *out), x.dtype)


def _windows_of(
    ops: Any, x: Any, k: Any, s: Any, p: Any, d: Any, out: Any, fill: Any
) -> list | None:
    """The strided views of x (padded with `fill`, also on the right where ceil_mode's last
    window needs it) that a pooling window's positions read."""
    n = len(k)
    sizes = list(x.shape)[-n:]
    if pool_dynamic_problem(list(x.shape), n, False) is not None:
        return None
    # (A dynamic size (None) is padded by p on the right too: its windows' ends count from
    # the padded end, _windows; without ceil_mode no window reaches beyond it.)
    hi = [
        pp if o is None else max((o - 1) * ss + dd * (kk - 1) + 1 - size - pp, 0)
        for o, ss, dd, kk, size, pp in zip(out, s, d, k, sizes, p, strict=True)
    ]
    if any(p) or any(hi):
        x = ops.pad2(x, p, hi, fill)
        if x is None:  # padding a tensor with a dynamic dim: not decomposed
            return None
    return [ops.window(x, win) for win in _windows(k, s, d, out)]


def pool_dynamic_problem(shape: list[int | None], n: int, ceil: Any) -> str | None:
    """Why pooling over the last n dims of an input of this shape (None: a size known only at
    run time) does not decompose, or None: a dynamic batch and dynamic spatial sizes do,
    except with ceil_mode (whether the last window is clipped depends on the size); a dynamic
    leading dim of an unbatched input (a channel dim) does not."""
    if len(shape) == n + 1 and shape[0] is None:
        return "an unbatched input with a channel count known only at run time"
    if any(v is None for v in shape[1 : len(shape) - n]):
        return "a channel count known only at run time"
    if ceil is True and None in shape[len(shape) - n :]:
        return "ceil_mode=True over a spatial size known only at run time"
    return None


def _lowest(dtype: Any) -> Any:
    return -math.inf if dtype.is_floating_point else int(np.iinfo(dtype.np).min)


def _max_pool(n: int) -> None:
    name = f"max_pool{n}d"

    def shape(
        x: TensorMeta, k: Any, s: Any = (), p: Any = (0,), d: Any = (1,), ceil: Any = False
    ) -> TensorMeta:
        if UNKNOWN in (k, s, p, d, ceil):
            return TensorMeta(None, x.dtype)
        return _pool_meta(x, _pool_geometry(name, x, n, k, s, p, d, ceil)[4])

    def run(
        ops: Any, x: Any, k: Any, s: Any = (), p: Any = (0,), d: Any = (1,), ceil: Any = False
    ) -> Any:
        if pool_dynamic_problem(list(x.shape), n, ceil) is not None:
            return None
        k, s, p, d, out = _pool_geometry(name, _m(x), n, k, s, p, d, ceil)
        views = _windows_of(ops, x, k, s, p, d, out, _lowest(_m(x).dtype))
        if views is None:
            return None
        acc = views[0]
        for v in views[1:]:
            acc = ops.maximum(acc, v)
        return acc

    register(
        f"aten::{name}(Tensor self, int[] kernel_size, int[] stride=[], int[] padding=[0], int[] dilation=[1], bool ceil_mode=False) -> Tensor",
        shape,
        eager=lambda a, *args: np.ascontiguousarray(run(_NumpyOps, a, *args)),
        decompose=lambda torch, x, *args: run(_IROps(torch), x, *args),
        py=f"torch.{name}",
    )


_max_pool(1)
_max_pool(2)
_max_pool(3)


def _avg_args(name: str, divisor: Any) -> None:
    if divisor is not None and divisor is not UNKNOWN and divisor == 0:
        raise ShapeError(f"{name}: divisor must be not zero")


def _avg_shape(
    n: int,
    x: TensorMeta,
    k: Any,
    s: Any = (),
    p: Any = (0,),
    ceil: Any = False,
    cip: Any = True,
    div: Any = None,
) -> TensorMeta:
    name = f"avg_pool{n}d"
    if UNKNOWN in (k, s, p, ceil):
        return TensorMeta(None, x.dtype)
    _avg_args(name, div)
    if x.dtype is not None and not x.dtype.is_floating_point:
        raise ShapeError(f"{name}: expected a floating point input, got {x.dtype.name}")
    return _pool_meta(x, _pool_geometry(name, x, n, k, s, p, (1,), ceil)[4])


def _avg_run(
    n: int,
    ops: Any,
    x: Any,
    k: Any,
    s: Any = (),
    p: Any = (0,),
    ceil: Any = False,
    cip: Any = True,
    div: Any = None,
) -> Any:
    if pool_dynamic_problem(list(x.shape), n, ceil) is not None:
        return None
    k, s, p, d, out = _pool_geometry(f"avg_pool{n}d", _m(x), n, k, s, p, (1,), ceil)
    views = _windows_of(ops, x, k, s, p, d, out, 0.0)
    if views is None:
        return None
    acc = views[0]
    for v in views[1:]:
        acc = ops.add(acc, v)
    if div is not None:
        return ops.div(acc, div)
    sizes = list(x.shape)[-n:]
    if None in out:  # no ceil_mode (pool_dynamic_problem): every window is in the padding
        if not any(p) or cip:
            return ops.div(acc, math.prod(k))
        return ops.div(acc, _window_counts_dynamic(ops, x, k, s, p, out))
    ends = [(o - 1) * ss + kk for o, ss, kk in zip(out, s, k, strict=True)]
    if (not any(p) or cip) and all(e <= size + 2 * pp for e, size, pp in zip(ends, sizes, p)):
        return ops.div(acc, math.prod(k))  # every window is whole (padding counts)
    # Windows clipped by ceil_mode (and padding, unless it counts): divide by each window's
    # count, the same window sums over a mask of the input (1), the padding (1 if it counts) and
    # what ceil_mode reads beyond it (0).
    return ops.div(acc, _window_counts(ops, x, sizes, k, s, p, out, cip))


def _window_counts_dynamic(ops: Any, x: Any, k: Any, s: Any, p: Any, out: Any) -> Any:
    """Each window's count of input elements (padding not counted) when sizes are known only
    at run time: the window sums of a mask of x's shape (its sizes are read off x), padded
    with 0."""
    mask = ops.pad2(ops.ones_like(x), p, p, 0.0)
    views = [ops.window(mask, win) for win in _windows(k, s, [1] * len(k), out)]
    acc = views[0]
    for v in views[1:]:
        acc = ops.add(acc, v)
    return acc


def _window_counts(
    ops: Any, x: Any, sizes: Any, k: Any, s: Any, p: Any, out: Any, cip: bool
) -> Any:
    mask = ops.ones(sizes, x)
    if any(p):
        mask = ops.pad2(mask, p, p, 1.0 if cip else 0.0)
    hi = [
        max((o - 1) * ss + kk - size - 2 * pp, 0)
        for o, ss, kk, size, pp in zip(out, s, k, sizes, p)
    ]
    if any(hi):
        mask = ops.pad2(mask, [0] * len(k), hi, 0.0)
    views = [ops.window(mask, win) for win in _windows(k, s, [1] * len(k), out)]
    acc = views[0]
    for v in views[1:]:
        acc = ops.add(acc, v)
    return acc


def _avg_pool(n: int) -> None:
    register(
        f"aten::avg_pool{n}d(Tensor self, int[] kernel_size, int[] stride=[], int[] padding=[0], bool ceil_mode=False, bool count_include_pad=True, int? divisor_override=None) -> Tensor",
        lambda x, *args: _avg_shape(n, x, *args),
        eager=lambda a, *args: np.ascontiguousarray(
            _avg_run(n, _NumpyOps, a, *args), dtype=a.dtype
        ),
        decompose=lambda torch, x, *args: _avg_run(n, _IROps(torch), x, *args),
        py=f"torch.avg_pool{n}d",
    )


_avg_pool(2)
_avg_pool(3)


def adaptive_windows(size: int, out: int) -> list[tuple[int, int]]:
    """torch's adaptive pooling windows along one dim: output i reads
    [floor(i * size / out), ceil((i + 1) * size / out)), overlapping when out does not divide
    size."""
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


def adaptive_by_windows(
    op: Any, x: Any, sizes: Sequence[int], out: Sequence[int], reduce: str
) -> Any:
    """Adaptive pooling of the last len(sizes) dims (static `sizes`) to `out` with `reduce`
    ("mean" or "amax"), one dim at a time (a box's mean or max is separable): per output
    position a `slice` reduced with keepdim, then `cat`. `op(name, *args)` calls a registry op
    (eagerly, or emitting IR in a decomposition)."""
    n = len(sizes)
    for i, (size, o) in enumerate(zip(sizes, out, strict=True)):
        dim = i - n
        if size == o:
            continue
        parts = [
            op(reduce, op("slice", x, dim, start, stop, 1), [dim], True)
            for start, stop in adaptive_windows(size, o)
        ]
        x = parts[0] if len(parts) == 1 else op("cat", parts, dim)
    return x


def _adaptive_kernel(x: TensorMeta, output_size: Any, n: int = 2) -> list[int] | None:
    """The avg_pool kernel (= stride) that adaptive pooling to `output_size` is when each output
    size divides the input size; None otherwise (windows of unequal sizes, or overlapping)."""
    out = _expand("output_size", output_size, n)
    sizes = list(x.shape[-n:])
    if None in sizes or any(size % o for o, size in zip(out, sizes, strict=True)):
        return None
    return [size // o for o, size in zip(out, sizes, strict=True)]


def _adaptive_shape(x: TensorMeta, output_size: Any, n: int = 2) -> TensorMeta:
    if x.shape is None or output_size is UNKNOWN:
        return TensorMeta(None, x.dtype)
    if len(x.shape) not in (n + 1, n + 2):
        raise ShapeError(
            f"adaptive_avg_pool{n}d: expected a {n + 1}-D or {n + 2}-D input, got {list(x.shape)}"
        )
    out = _expand("output_size", output_size, n)
    if any(o < 1 for o in out):
        raise ShapeError(f"adaptive_avg_pool{n}d: output size {out} must be positive")
    return TensorMeta((*x.shape[:-n], *out), x.dtype)


def _adaptive_eager(a: np.ndarray, output_size: Any, n: int = 2) -> np.ndarray:
    _adaptive_shape(_meta(a), output_size, n)
    k = _adaptive_kernel(_meta(a), output_size, n)
    if k is None:
        out = _expand("output_size", output_size, n)
        run = _NUMPY_REDUCTIONS
        r = adaptive_by_windows(lambda f, *args: run[f](*args), a, a.shape[-n:], out, "mean")
        return np.ascontiguousarray(r, dtype=a.dtype)
    return np.ascontiguousarray(_avg_run(n, _NumpyOps, a, k), dtype=a.dtype)


def _np_slice(a: np.ndarray, dim: int, start: int, stop: int, step: int) -> np.ndarray:
    index = [slice(None)] * a.ndim
    index[dim] = slice(start, stop, step)
    return a[tuple(index)]


# what `adaptive_by_windows` calls, on arrays
_NUMPY_REDUCTIONS: dict[str, Any] = {
    "slice": _np_slice,
    "mean": lambda a, dims, keep: np.mean(a, axis=tuple(dims), keepdims=keep, dtype=a.dtype),
    "amax": lambda a, dims, keep: np.max(a, axis=tuple(dims), keepdims=keep),
    "cat": lambda parts, dim: np.concatenate(parts, axis=dim),
}


def adaptive_dynamic_problem(shape: list[int | None], output_size: Any, n: int = 2) -> str | None:
    """Why adaptive average pooling of an input of this shape (None: a size known only at run
    time) to `output_size` does not decompose, or None."""
    if None in shape[-n:] and list(_expand("output_size", output_size, n)) != [1] * n:
        return "an output size other than 1 over a spatial size known only at run time"
    if len(shape) == n + 1 and shape[0] is None:
        return "an unbatched input with a channel count known only at run time"
    return None


def _adaptive_decompose(torch: Any, x: Any, output_size: Any, n: int = 2) -> Any:
    if adaptive_dynamic_problem(list(x.shape), output_size, n) is not None:
        return None
    out = list(_expand("output_size", output_size, n))
    dims = list(range(-n, 0))
    if None in x.shape[-n:] or out == [1] * n:  # to 1x1 (adaptive_dynamic_problem): the mean
        return torch.mean(x, dims, True)
    k = _adaptive_kernel(_m(x), output_size, n)
    if k is None:  # windows of unequal sizes or overlapping
        return adaptive_by_windows(
            lambda name, *args: getattr(torch, name)(*args), x, list(x.shape[-n:]), out, "mean"
        )
    return getattr(torch, f"avg_pool{n}d")(x, k, k, [0], False, True, None)


for _name in ("adaptive_avg_pool2d", "_adaptive_avg_pool2d"):
    register(
        f"aten::{_name}(Tensor self, int[] output_size) -> Tensor",
        _adaptive_shape,
        eager=_adaptive_eager,
        decompose=_adaptive_decompose,
        py="torch.nn.functional.adaptive_avg_pool2d",
    )

for _name in ("adaptive_avg_pool3d", "_adaptive_avg_pool3d"):
    register(
        f"aten::{_name}(Tensor self, int[] output_size) -> Tensor",
        lambda x, output_size: _adaptive_shape(x, output_size, 3),
        eager=lambda a, output_size: _adaptive_eager(a, output_size, 3),
        decompose=lambda torch, x, output_size: _adaptive_decompose(torch, x, output_size, 3),
        py="torch.nn.functional.adaptive_avg_pool3d",
    )


# -- batch_norm (eval) -----------------------------------------------------------------------------


def _bn_shape(
    x: TensorMeta,
    w: Any,
    b: Any,
    mean: Any,
    var: Any,
    training: Any,
    momentum: Any,
    eps: Any,
    cudnn: Any = True,
) -> TensorMeta:
    if training is True:
        raise ShapeError(
            "batch_norm: training mode (batch statistics) is not supported, xjit is "
            "inference-only: call model.eval()"
        )
    if mean is None or var is None:
        raise ShapeError("batch_norm: running_mean and running_var are required in eval mode")
    if x.shape is not None:
        if len(x.shape) < 2:
            raise ShapeError(f"batch_norm: expected at least a 2-D input, got {list(x.shape)}")
        c = x.shape[1]
        for t, what in ((w, "weight"), (b, "bias"), (mean, "running_mean"), (var, "running_var")):
            if t is not None and t.shape is not None and c is not None and list(t.shape) != [c]:
                raise ShapeError(
                    f"batch_norm: expected {what} of shape [{c}] for input {list(x.shape)}, "
                    f"got {list(t.shape)}"
                )
    return x


def _bn(ops: Any, x: Any, w: Any, b: Any, mean: Any, var: Any, eps: float) -> Any:
    """y = x * scale + shift, scale = w / sqrt(var + eps), shift = b - mean * scale, per channel."""
    scale = ops.rsqrt(ops.add(var, eps))
    if w is not None:
        scale = ops.mul(scale, w)
    shift = ops.neg(ops.mul(mean, scale))
    if b is not None:
        shift = ops.add(shift, b)
    per_channel = [-1] + [1] * (len(x.shape) - 2)
    return ops.add(ops.mul(x, ops.reshape(scale, per_channel)), ops.reshape(shift, per_channel))


def _bn_eager(
    x: np.ndarray,
    w: Any,
    b: Any,
    mean: Any,
    var: Any,
    training: Any,
    momentum: Any,
    eps: Any,
    cudnn: Any = True,
) -> np.ndarray:
    _bn_shape(_meta(x), _meta(w), _meta(b), _meta(mean), _meta(var), training, momentum, eps)
    return np.asarray(_bn(_NumpyOps, x, w, b, mean, var, eps), dtype=x.dtype)


register(
    "aten::batch_norm(Tensor input, Tensor? weight, Tensor? bias, Tensor? running_mean, Tensor? running_var, bool training, float momentum, float eps, bool cudnn_enabled) -> Tensor",
    _bn_shape,
    eager=_bn_eager,
    decompose=lambda torch, x, w, b, mean, var, training, momentum, eps, cudnn=True: _bn(
        _IROps(torch), x, w, b, mean, var, eps
    ),
    py="torch.batch_norm",
)


# -- unflatten (nn.Unflatten) -----------------------------------------------------------------------


def _unflatten_target(shape: Sequence[Any], dim: int, sizes: Sequence[int]) -> list[Any]:
    if not shape:
        raise ShapeError("unflatten: cannot unflatten a 0-d tensor")
    d = dim % len(shape) if -len(shape) <= dim < len(shape) else None
    if d is None:
        raise ShapeError(f"unflatten: dim {dim} is out of range for a {len(shape)}-D tensor")
    sizes = list(sizes)
    known = math.prod(s for s in sizes if s != -1)
    if sizes.count(-1) > 1 or (shape[d] is not None and -1 not in sizes and known != shape[d]):
        raise ShapeError(
            f"unflatten: provided sizes {sizes} don't multiply up to the size of dim {dim} "
            f"({shape[d]}) in the input tensor"
        )
    if -1 in sizes and shape[d] is not None:
        sizes[sizes.index(-1)] = shape[d] // known if known else 0
    return [*shape[:d], *sizes, *shape[d + 1 :]]


def _unflatten_shape(x: TensorMeta, dim: Any, sizes: Any) -> TensorMeta:
    if x.shape is None or UNKNOWN in (dim, sizes):
        return TensorMeta(None, x.dtype)
    return TensorMeta(tuple(_unflatten_target(x.shape, dim, sizes)), x.dtype)


def _unflatten_decompose(torch: Any, x: Any, dim: int, sizes: list[int]) -> Any:
    target = _unflatten_target(list(x.shape), dim, sizes)
    if target.count(None) + target.count(-1) > 1:  # one reshape infers one size only
        return None
    return torch.reshape(x, [-1 if s is None else s for s in target])


register(
    "aten::unflatten.int(Tensor self, int dim, int[] sizes) -> Tensor",
    _unflatten_shape,
    eager=lambda a, dim, sizes: a.reshape(_unflatten_target(a.shape, dim, sizes)),
    decompose=_unflatten_decompose,
)
