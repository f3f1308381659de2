"""`PixelShuffle`/`PixelUnshuffle` (a reshape and a permute) and nearest-neighbour `Upsample` /
`F.interpolate` (a gather along each spatial dim with indices known from the sizes, torch's
`floor(out_index * in / out)` rule). Other interpolation modes are refused by name."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from xjit import _creation
from xjit._dispatch import call
from xjit.nn.module import Module


def pixel_shuffle(input: Any, upscale_factor: int) -> Any:
    r = upscale_factor
    *batch, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(
            f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square "
            f"of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}"
        )
    x = input.reshape([*batch, c // (r * r), r, r, h, w])
    n = len(batch)
    x = x.permute([*range(n), n, n + 3, n + 1, n + 4, n + 2])
    return x.reshape([*batch, c // (r * r), h * r, w * r])


def pixel_unshuffle(input: Any, downscale_factor: int) -> Any:
    r = downscale_factor
    *batch, c, h, w = input.shape
    if h % r or w % r:
        raise RuntimeError(
            f"pixel_unshuffle expects height and width to be divisible by downscale_factor, "
            f"but got {h}x{w} and {r}"
        )
    x = input.reshape([*batch, c, h // r, r, w // r, r])
    n = len(batch)
    x = x.permute([*range(n), n, n + 2, n + 4, n + 1, n + 3])
    return x.reshape([*batch, c * r * r, h // r, w // r])


def interpolate(
    input: Any,
    size: Any = None,
    scale_factor: Any = None,
    mode: str = "nearest",
    align_corners: Any = None,
    recompute_scale_factor: Any = None,
    antialias: bool = False,
) -> Any:
    if mode != "nearest":
        raise NotImplementedError(f"interpolate(mode={mode!r}): xjit supports mode='nearest'")
    if align_corners is not None:
        raise ValueError(
            "align_corners option can only be set with the interpolating modes: linear | "
            "bilinear | bicubic | trilinear"
        )
    n_spatial = input.dim() - 2
    if n_spatial < 1:
        raise ValueError(
            f"interpolate expects a batched input with spatial dims, got {input.dim()}D"
        )
    in_sizes = [int(s) for s in input.shape[2:]]
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        out_sizes = list(size) if isinstance(size, (list, tuple)) else [size] * n_spatial
        scales = [o / i for o, i in zip(out_sizes, in_sizes, strict=True)]
        out_sizes = [int(o) for o in out_sizes]
    else:
        sf = (
            list(scale_factor)
            if isinstance(scale_factor, (list, tuple))
            else [scale_factor] * n_spatial
        )
        out_sizes = [int(math.floor(i * float(s))) for i, s in zip(in_sizes, sf, strict=True)]
        # torch uses the given scale (not out/in) for the index rule unless told to recompute
        scales = (
            [float(s) for s in sf]
            if not recompute_scale_factor
            else [o / i for o, i in zip(out_sizes, in_sizes, strict=True)]
        )
    out = input
    for k, (n_in, n_out, scale) in enumerate(zip(in_sizes, out_sizes, scales, strict=True)):
        src = np.minimum(np.floor(np.arange(n_out) * (1.0 / scale)), n_in - 1).astype(np.int64)
        if n_out == n_in and np.array_equal(src, np.arange(n_in)):
            continue
        out = call("index_select", out, 2 + k, _creation.tensor(src))
    return out


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
