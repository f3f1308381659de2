"""`PixelShuffle`/`PixelUnshuffle` (a reshape and a permute) and `Upsample` / `F.interpolate`
in modes 'nearest' (a gather along each spatial dim, torch's `floor(out_index * scale)` rule)
and 'linear'/'bilinear'/'trilinear' (per spatial dim, a blend of the two nearest source rows,
torch's `align_corners` rules). Other modes are refused by name.

Written in the TorchScript language (sizes from `input.size()`, indices and weights computed by
ops), so that `xjit.jit.script` compiles these very functions; compiled per input rank."""

from __future__ import annotations

import math
from typing import Any

from xjit import _creation
from xjit._tensor import Tensor
from xjit.nn.module import Module
from xjit.ops.types import float32, int64


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    r = upscale_factor
    sizes = input.size()
    batch = sizes[:-3]
    c, h, w = sizes[-3], sizes[-2], sizes[-1]
    if c % (r * r) != 0:
        raise RuntimeError(
            f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square "
            f"of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}"
        )
    x = input.reshape([-1, c // (r * r), r, r, h, w]).permute([0, 1, 4, 2, 5, 3])
    return x.reshape(list(batch) + [c // (r * r), h * r, w * r])


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    r = downscale_factor
    sizes = input.size()
    batch = sizes[:-3]
    c, h, w = sizes[-3], sizes[-2], sizes[-1]
    if h % r != 0 or w % r != 0:
        raise RuntimeError(
            f"pixel_unshuffle expects height and width to be divisible by downscale_factor, "
            f"but got {h}x{w} and {r}"
        )
    x = input.reshape([-1, c, h // r, r, w // r, r]).permute([0, 1, 3, 5, 2, 4])
    return x.reshape(list(batch) + [c * r * r, h // r, w // r])


_LINEAR_MODES = {"linear": 1, "bilinear": 2, "trilinear": 3}  # mode -> its number of spatial dims


def interpolate(
    input: Tensor,
    size: Any = None,
    scale_factor: Any = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    linear = mode == "linear" or mode == "bilinear" or mode == "trilinear"
    if not linear and mode != "nearest":
        raise NotImplementedError(
            f"interpolate(mode='{mode}'): xjit supports 'nearest', 'linear', 'bilinear' and "
            "'trilinear'"
        )
    if antialias:
        raise NotImplementedError("interpolate(antialias=True) is not supported")
    if not linear and align_corners is not None:
        raise ValueError(
            "align_corners option can only be set with the interpolating modes: linear | "
            "bilinear | bicubic | trilinear"
        )
    in_sizes = input.shape[2:]
    n_spatial = len(in_sizes)
    if n_spatial < 1:
        raise ValueError(
            f"interpolate expects a batched input with spatial dims, got {input.dim()}D"
        )
    if linear and n_spatial != _LINEAR_MODES[mode]:
        raise NotImplementedError(
            f"Got {input.dim()}D input, but {mode} mode needs {_LINEAR_MODES[mode] + 2}D input"
        )
    corners = False
    if align_corners is not None:
        corners = align_corners
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        out_sizes = [size] * n_spatial if isinstance(size, int) else list(size)
        if len(out_sizes) != n_spatial:
            raise ValueError(
                f"Input and output must have the same number of spatial dimensions, but got "
                f"input with spatial dimensions of {list(in_sizes)} and output size of "
                f"{out_sizes}."
            )
        scales = [float(i) / float(o) for i, o in zip(in_sizes, out_sizes)]
    elif scale_factor is not None:
        factors = (
            [scale_factor] * n_spatial
            if isinstance(scale_factor, (int, float))
            else list(scale_factor)
        )
        out_sizes = [int(math.floor(float(i) * float(f))) for i, f in zip(in_sizes, factors)]
        # torch's index rule uses the given scale (not in/out) unless told to recompute
        if recompute_scale_factor is not None and recompute_scale_factor:
            scales = [float(i) / float(o) for i, o in zip(in_sizes, out_sizes)]
        else:
            scales = [1.0 / float(f) for f in factors]
    else:
        raise ValueError("either size or scale_factor should be defined")
    out = input
    for k, (n_in, n_out) in enumerate(zip(in_sizes, out_sizes)):  # (unrolled when scripted)
        if linear:  # (along the last dim, where the weights broadcast)
            out = _linear_last(out.movedim(2 + k, -1), n_in, n_out, scales[k], corners)
            out = out.movedim(-1, 2 + k)
        else:
            out = _nearest_along(out, 2 + k, n_in, n_out, scales[k])
    return out


def _nearest_along(x: Tensor, dim: int, n_in: int, n_out: int, scale: float) -> Tensor:
    """torch's nearest rule in float32: source index min(floor(i * scale), n_in - 1)."""
    src = (_creation.arange(n_out, dtype=float32) * scale).floor().to(int64)
    return x.index_select(dim, src.clamp(max=n_in - 1))


def _linear_last(x: Tensor, n_in: int, n_out: int, scale: float, align_corners: bool) -> Tensor:
    """torch's linear rule in float32: source position i * (n_in - 1) / (n_out - 1) with
    `align_corners`, else (i + 0.5) * scale - 0.5 clamped at 0; the two source rows around it,
    weighted by distance."""
    i = _creation.arange(n_out, dtype=float32)
    if align_corners:
        step = float(n_in - 1) / float(n_out - 1) if n_out > 1 else 0.0
        src = i * step
    else:
        src = ((i + 0.5) * scale - 0.5).clamp(min=0.0)
    i0 = src.floor().clamp(max=n_in - 1)
    lam = (src - i0).clamp(0.0, 1.0)
    i1 = (i0 + 1).clamp(max=n_in - 1)
    lo = x.index_select(-1, i0.to(int64))
    hi = x.index_select(-1, i1.to(int64))
    return (lo * (1.0 - lam) + hi * lam).to(x.dtype)


class PixelShuffle(Module):
    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: Any) -> Any:
        return pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Any) -> Any:
        return pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class Upsample(Module):
    def __init__(
        self,
        size: Any = None,
        scale_factor: Any = None,
        mode: str = "nearest",
        align_corners: Any = None,
        recompute_scale_factor: Any = None,
    ) -> None:
        super().__init__()
        self.size = size
        self.scale_factor = float(scale_factor) if isinstance(scale_factor, int) else scale_factor
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Any) -> Any:
        return interpolate(
            input,
            self.size,
            self.scale_factor,
            self.mode,
            self.align_corners,
            self.recompute_scale_factor,
        )

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return f"{info}, mode={self.mode!r}"
