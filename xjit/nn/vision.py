"""Image-layer modules over registry ops: `Unfold`/`Fold` (and `F.unfold`/`F.fold`),
`ChannelShuffle` (`F.channel_shuffle`), `LocalResponseNorm` (`F.local_response_norm`) and
`Softmax2d`. Each is written with tensor ops only, so a trace records them without compiler
changes.

`unfold` takes one strided slice of the padded input per kernel position (im2col as views,
as xjit's convolution does); `fold` places each position's block back with zeros inserted
between its elements (stride) and padding around it (its offset), and sums them: data
movement and additions only, so an inf or nan stays where it was (a convolution with an
identity kernel would spread them through 0 * inf)."""

from __future__ import annotations

from typing import Any

from xjit._dispatch import call
from xjit.nn import conv_functional as CF
from xjit.nn.module import Module


def _pair(v: Any, name: str) -> list[int]:
    if isinstance(v, (list, tuple)):
        if len(v) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {v!r}")
        return [int(x) for x in v]
    return [int(v), int(v)]


def _geometry(
    spatial: list[int], kernel_size: Any, dilation: Any, padding: Any, stride: Any
) -> tuple[list[int], list[int], list[int], list[int], list[int]]:
    k, d = _pair(kernel_size, "kernel_size"), _pair(dilation, "dilation")
    p, s = _pair(padding, "padding"), _pair(stride, "stride")
    if min(k) < 1 or min(d) < 1 or min(s) < 1 or min(p) < 0:
        raise RuntimeError(
            "kernel_size, dilation and stride must be greater than zero, padding non-negative; "
            f"got kernel_size=({k[0]}, {k[1]}), dilation=({d[0]}, {d[1]}), padding=({p[0]}, {p[1]}), "
            f"stride=({s[0]}, {s[1]})"
        )
    out = [(spatial[i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(2)]
    if min(out) < 1:
        raise RuntimeError(
            f"Given input with spatial size ({spatial[0]}, {spatial[1]}), kernel_size=({k[0]}, {k[1]}), "
            f"dilation=({d[0]}, {d[1]}), padding=({p[0]}, {p[1]}), calculated shape of the array of sliding "
            f"blocks as ({out[0]}, {out[1]}), but its components must be at least one."
        )
    return k, d, p, s, out


def unfold(
    input: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1
) -> Any:
    """`F.unfold`: [N, C, H, W] -> [N, C*kh*kw, L] (unbatched [C, H, W] -> [C*kh*kw, L]), the
    channel-major, then kernel-row, then kernel-column blocks torch lays out."""
    if input.dim() not in (3, 4):
        raise NotImplementedError(
            f"Input Error: Only 3D or 4D input Tensors are supported (got {input.dim()}D)"
        )
    unbatched = input.dim() == 3
    x = input.unsqueeze(0) if unbatched else input
    n, c = x.shape[0], x.shape[1]
    k, d, p, s, out = _geometry([x.shape[2], x.shape[3]], kernel_size, dilation, padding, stride)
    if p[0] or p[1]:
        x = CF.pad(x, [p[1], p[1], p[0], p[0]])
    cols = []
    for i in range(k[0]):
        for j in range(k[1]):
            r0, c0 = i * d[0], j * d[1]
            cols.append(
                x[
                    :,
                    :,
                    r0 : r0 + s[0] * (out[0] - 1) + 1 : s[0],
                    c0 : c0 + s[1] * (out[1] - 1) + 1 : s[1],
                ]
            )
    y = call("stack", cols, 2)
    y = y.reshape(n, c * k[0] * k[1], out[0] * out[1])
    return y.squeeze(0) if unbatched else y


def _spread(x: Any, dim: int, step: int) -> Any:
    """x with step-1 zeros inserted between consecutive elements along `dim` (a positive dim):
    [.., n, ..] -> [.., (n-1)*step+1, ..]."""
    if step == 1:
        return x
    n = x.shape[dim]
    y = x.unsqueeze(dim + 1)  # [.., n, 1, ..]
    widths = [0, 0] * (y.dim() - dim - 2) + [0, step - 1]
    y = CF.pad(y, widths)  # [.., n, step, ..]
    shape = list(x.shape)
    shape[dim] = n * step
    y = y.reshape(shape)
    return y.narrow(dim, 0, (n - 1) * step + 1)


def fold(
    input: Any,
    output_size: Any,
    kernel_size: Any,
    dilation: Any = 1,
    padding: Any = 0,
    stride: Any = 1,
) -> Any:
    """`F.fold`: [N, C*kh*kw, L] -> [N, C, H, W] (unbatched [C*kh*kw, L] -> [C, H, W]),
    summing the blocks where they overlap (the adjoint of `unfold`)."""
    if input.dim() not in (2, 3):
        raise NotImplementedError(
            f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported "
            f"(got {input.dim()}D)"
        )
    unbatched = input.dim() == 2
    x = input.unsqueeze(0) if unbatched else input
    hw = _pair(output_size, "output_size")
    k, d, p, s, out = _geometry(hw, kernel_size, dilation, padding, stride)
    n, ck, length = x.shape[0], x.shape[1], x.shape[2]
    taps = k[0] * k[1]
    if ck % taps:
        raise RuntimeError(
            f"Expected size of input's dimension 1 to be divisible by the product of "
            f"kernel_size, but got input.size(1)={ck} and kernel_size=({k[0]}, {k[1]})"
        )
    if length != out[0] * out[1]:
        raise RuntimeError(
            f"Given output_size=({hw[0]}, {hw[1]}), kernel_size=({k[0]}, {k[1]}), dilation=({d[0]}, {d[1]}), "
            f"padding=({p[0]}, {p[1]}), stride=({s[0]}, {s[1]}), expected size of input's dimension 2 to "
            f"match the calculated number of sliding blocks {out[0]} * {out[1]} = "
            f"{out[0] * out[1]}, but got input.size(2)={length}."
        )
    c = ck // taps
    blocks = x.reshape(n, c, taps, out[0], out[1])
    ph, pw = hw[0] + 2 * p[0], hw[1] + 2 * p[1]
    total = None
    for i in range(k[0]):
        for j in range(k[1]):
            b = blocks.select(2, i * k[1] + j)  # [N, C, oh, ow]
            b = _spread(_spread(b, 2, s[0]), 3, s[1])
            r0, c0 = i * d[0], j * d[1]
            widths = [c0, pw - c0 - b.shape[3], r0, ph - r0 - b.shape[2]]
            b = CF.pad(b, widths)
            total = b if total is None else total + b
    if p[0] or p[1]:
        total = CF.pad(total, [-p[1], -p[1], -p[0], -p[0]])
    return total.squeeze(0) if unbatched else total


class Unfold(Module):
    def __init__(
        self, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1
    ) -> None:
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, input: Any) -> Any:
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
            f"stride={self.stride}"
        )


class Fold(Module):
    def __init__(
        self,
        output_size: Any,
        kernel_size: Any,
        dilation: Any = 1,
        padding: Any = 0,
        stride: Any = 1,
    ) -> None:
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input: Any) -> Any:
        return fold(
            input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride
        )

    def extra_repr(self) -> str:
        return (
            f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
            f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}"
        )


def channel_shuffle(input: Any, groups: int) -> Any:
    """`F.channel_shuffle`: channels [g0c0, g0c1, .., g1c0, ..] -> [g0c0, g1c0, .., g0c1, ..]."""
    if input.dim() < 3:
        raise RuntimeError(
            f"channel_shuffle expects input to have at least 3 dimensions, but got input with "
            f"sizes {list(input.shape)}"
        )
    if groups <= 0:
        raise RuntimeError(
            f"Number of groups to divide channels in must be positive. Value of groups:{groups}"
        )
    c = input.shape[1]
    if c % groups:
        raise RuntimeError(
            f"Number of channels must be divisible by groups. Got {c} channels and {groups} groups."
        )
    return input.unflatten(1, [groups, c // groups]).transpose(1, 2).flatten(1, 2)


class ChannelShuffle(Module):
    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input: Any) -> Any:
        return channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"


def local_response_norm(
    input: Any, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0
) -> Any:
    """`F.local_response_norm`: x / (k + alpha * mean of x² over `size` neighbouring
    channels)^beta, the neighbourhood zero-padded (size//2 before, (size-1)//2 after): torch's
    own formulation, with average pooling over the channel dim."""
    dim = input.dim()
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    div = input * input
    if dim == 3:
        div = CF.pad(div.unsqueeze(1), [0, 0, size // 2, (size - 1) // 2])
        div = CF.avg_pool2d(div, (size, 1), stride=1).squeeze(1)
    else:
        sizes = list(input.shape)
        div = div.reshape(sizes[0], 1, sizes[1], sizes[2], -1)
        div = CF.pad(div, [0, 0, 0, 0, size // 2, (size - 1) // 2])
        div = CF.avg_pool3d(div, (size, 1, 1), stride=1).squeeze(1)
        div = div.reshape(sizes)
    div = (div * alpha + k) ** beta
    return input / div


class LocalResponseNorm(Module):
    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Any) -> Any:
        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class Softmax2d(Module):
    """Softmax over the channels of each spatial location ([N, C, H, W] or [C, H, W])."""

    def forward(self, input: Any) -> Any:
        if input.dim() not in (3, 4):
            raise ValueError(
                f"Softmax2d: expected input to be 3D or 4D, got {input.dim()}D instead"
            )
        return input.softmax(-3)
