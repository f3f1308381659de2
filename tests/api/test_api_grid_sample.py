"""`F.affine_grid` and `F.grid_sample` against torch 2.13, eager and traced: every mode
(bilinear, nearest) x padding (zeros, border, reflection) x align_corners, grid points inside,
on the edges and outside the image, rounding ties for nearest, non-finite pixels."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch as pt
from torch_oracle import check, rand

import xjit

X = rand(2, 3, 5, 6)


def _grid() -> np.ndarray:
    g = np.random.default_rng(1).random((2, 4, 7, 2)).astype(np.float32) * 2.6 - 1.3
    g[0, 0, :4] = [[1.0, -1.0], [-1.0, 1.0], [0.0, 0.0], [1.3, 1.3]]  # corners, centre, out
    g[1, 0, :3] = [[-0.8, -0.5], [0.2, 0.5], [-0.6, 0.0]]  # ties of nearest's rounding
    return g


CASES = list(
    itertools.product(["bilinear", "nearest"], ["zeros", "border", "reflection"], [False, True])
)


@pytest.mark.parametrize("mode,padding,align", CASES)
def test_grid_sample(mode, padding, align) -> None:
    check(lambda T, x, g: T.nn.functional.grid_sample(x, g, mode, padding, align), X, _grid())


def test_grid_sample_non_finite_pixels_stay_local() -> None:
    x = X.copy()
    x[0, 0, 0, 0] = np.inf  # read only where a sample's neighbourhood touches it
    check(lambda T, x, g: T.nn.functional.grid_sample(x, g, align_corners=False), x, _grid())


@pytest.mark.parametrize("align", [False, True])
def test_affine_grid(align) -> None:
    check(lambda T, t: T.nn.functional.affine_grid(t, [2, 3, 4, 5], align), rand(2, 2, 3))
    check(lambda T, t: T.nn.functional.affine_grid(t, [2, 1, 3, 4, 5], align), rand(2, 3, 4))
    check(lambda T, t: T.nn.functional.affine_grid(t, [1, 1, 1, 3], align), rand(1, 2, 3))


def test_spatial_transformer_pattern() -> None:
    """affine_grid then grid_sample, as a spatial transformer network does."""
    theta = np.array([[[0.9, -0.2, 0.1], [0.3, 1.1, -0.2]]] * 2, np.float32)
    check(
        lambda T, x, t: T.nn.functional.grid_sample(
            x, T.nn.functional.affine_grid(t, list(x.shape), False), align_corners=False
        ),
        X,
        theta,
    )


def test_refusals() -> None:
    with pytest.raises(NotImplementedError, match="bicubic"):
        xjit.nn.functional.grid_sample(xjit.ones(1, 1, 2, 2), xjit.zeros(1, 1, 1, 2), "bicubic")
    with pytest.raises(ValueError, match="expected padding_mode"):
        xjit.nn.functional.grid_sample(
            xjit.ones(1, 1, 2, 2), xjit.zeros(1, 1, 1, 2), padding_mode="x"
        )
    with pytest.raises(NotImplementedError, match="only 4-D input"):
        xjit.nn.functional.grid_sample(xjit.ones(1, 1, 2, 2, 2), xjit.zeros(1, 1, 1, 1, 3))
    with pytest.raises(ValueError, match="Nx2x3"):
        xjit.nn.functional.affine_grid(xjit.ones(1, 3, 4), [1, 1, 2, 2])
    with pytest.raises(ValueError, match="Nx2x3"):
        pt.nn.functional.affine_grid(pt.ones(1, 3, 4), [1, 1, 2, 2])
