"""`F.affine_grid` (2-D and 3-D) and `F.grid_sample` (4-D input; modes bilinear and nearest;
padding zeros, border and reflection), over registry ops so a trace records them.

grid_sample follows torch's CPU kernel: each grid point (x, y) in [-1, 1] is unnormalised to
pixel coordinates (align_corners: -1 and 1 are the corner pixels' centres, else their outer
edges), then clipped (border) or reflected and clipped (reflection); bilinear reads the four
neighbouring pixels with a `gather` over the flattened image, each weighted by its area and
by whether it lies inside the image (zeros padding: outside reads count 0)."""

from __future__ import annotations

from typing import Any

from xjit import _creation
from xjit._dispatch import call


def _base_coords(n: int, align_corners: bool, dtype: Any) -> Any:
    """The n pixel centres on [-1, 1]: the end points with align_corners, else the centres of
    n equal cells."""
    if n <= 1:
        return _creation.zeros(n, dtype=dtype)
    x = _creation.arange(n, dtype=dtype) * (2.0 / (n - 1)) - 1.0
    return x if align_corners else x * ((n - 1) / n)


def affine_grid(theta: Any, size: Any, align_corners: bool | None = None) -> Any:
    """[N, 2, 3] -> grid [N, H, W, 2] for size [N, C, H, W]; [N, 3, 4] -> [N, D, H, W, 3] for
    size [N, C, D, H, W]: each base point (x, y[, z], 1) times thetaᵀ."""
    ac = bool(align_corners)
    size = [int(s) for s in size]
    if not theta.dtype.is_floating_point:
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    if len(size) == 4:
        if theta.dim() != 3 or list(theta.shape[1:]) != [2, 3]:
            raise ValueError(
                f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {size}. "
                f"Got {list(theta.shape)}."
            )
        spatial = size[2:]
    elif len(size) == 5:
        if theta.dim() != 3 or list(theta.shape[1:]) != [3, 4]:
            raise ValueError(
                f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {size}. "
                f"Got {list(theta.shape)}."
            )
        spatial = size[2:]
    else:
        raise NotImplementedError(
            f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
            f"respectively. Got size {size}."
        )
    if theta.shape[0] != size[0]:
        raise ValueError(
            f"Expected theta batch {theta.shape[0]} to match size[0] = {size[0]} in affine_grid"
        )
    dt = theta.dtype
    axes = [_base_coords(s, ac, dt) for s in reversed(spatial)]  # x (W), y (H)[, z (D)]
    k = len(spatial)
    parts = []
    for i, a in enumerate(axes):
        shape = [1] * k
        shape[k - 1 - i] = spatial[k - 1 - i]
        parts.append(a.reshape(shape).expand(spatial))
    parts.append(_creation.ones(*spatial, dtype=dt))
    base = call("stack", parts, -1).reshape(1, -1, k + 1)  # [1, prod, k+1]
    grid = base.matmul(theta.transpose(1, 2))  # [N, prod, k]
    return grid.reshape([size[0], *spatial, k])


def _unnormalize(coord: Any, size: int, align_corners: bool) -> Any:
    if align_corners:
        return (coord + 1) * ((size - 1) / 2)
    return ((coord + 1) * size - 1) / 2


def _reflect(coord: Any, twice_low: int, twice_high: int) -> Any:
    if twice_low == twice_high:
        return coord * 0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    c = (coord - low).abs()
    extra = c.fmod(span)
    flips = (c / span).floor()
    even = flips.remainder(2) == 0
    return (extra + low).where(even, span - extra + low)


def _source_index(coord: Any, size: int, padding_mode: str, align_corners: bool) -> Any:
    c = _unnormalize(coord, size, align_corners)
    if padding_mode == "border":
        c = c.clamp(0, size - 1)
    elif padding_mode == "reflection":
        if align_corners:
            c = _reflect(c, 0, 2 * (size - 1))
        else:
            c = _reflect(c, -1, 2 * size - 1)
        c = c.clamp(0, size - 1)
    return c


def _read(flat: Any, xi: Any, yi: Any, w: int, h: int) -> Any:
    """flat [N, C, H*W] at integer pixel (xi, yi) [N, Ho*Wo], 0 outside the image."""
    inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
    idx = yi.clamp(0, h - 1) * w + xi.clamp(0, w - 1)
    idx = idx.long().unsqueeze(1).expand(-1, flat.shape[1], -1)
    return flat.gather(2, idx).masked_fill(~inside.unsqueeze(1), 0.0)  # no 0 * inf


def grid_sample(
    input: Any,
    grid: Any,
    mode: str = "bilinear",
    padding_mode: str = "zeros",
    align_corners: bool | None = None,
) -> Any:
    """input [N, C, H, W] sampled at grid [N, Ho, Wo, 2] ((x, y) in [-1, 1]) -> [N, C, Ho, Wo]."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(
            f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or "
            f"'bicubic', but got: '{mode}'"
        )
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(
            f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
            f"'reflection', but got: '{padding_mode}'"
        )
    if mode == "bicubic":
        raise NotImplementedError("grid_sample(mode='bicubic') is not supported")
    if input.dim() != 4:
        raise NotImplementedError(
            f"grid_sample: only 4-D input is supported (got {input.dim()}-D; 5-D volumetric "
            "sampling is not)"
        )
    if grid.dim() != 4 or grid.shape[-1] != 2 or grid.shape[0] != input.shape[0]:
        raise RuntimeError(
            f"grid_sampler(): expected grid of shape [{input.shape[0]}, H, W, 2] for input "
            f"{list(input.shape)}, but got {list(grid.shape)}"
        )
    if grid.dtype != input.dtype:
        raise RuntimeError(
            f"grid_sampler(): expected input and grid to have same dtype, but input has "
            f"{input.dtype} and grid has {grid.dtype}"
        )
    ac = bool(align_corners)
    n, c, h, w = input.shape
    ho, wo = grid.shape[1], grid.shape[2]
    flat = input.reshape(n, c, h * w)
    g = grid.reshape(n, ho * wo, 2)
    x = _source_index(g.select(2, 0), w, padding_mode, ac)  # [N, Ho*Wo]
    y = _source_index(g.select(2, 1), h, padding_mode, ac)
    if mode == "nearest":
        out = _read(flat, x.round(), y.round(), w, h)
    else:
        x0, y0 = x.floor(), y.floor()
        x1, y1 = x0 + 1, y0 + 1
        wx1, wy1 = x - x0, y - y0
        wx0, wy0 = 1 - wx1, 1 - wy1
        out = (
            _read(flat, x0, y0, w, h) * (wx0 * wy0).unsqueeze(1)
            + _read(flat, x1, y0, w, h) * (wx1 * wy0).unsqueeze(1)
            + _read(flat, x0, y1, w, h) * (wx0 * wy1).unsqueeze(1)
            + _read(flat, x1, y1, w, h) * (wx1 * wy1).unsqueeze(1)
        )
    return out.reshape(n, c, ho, wo)
