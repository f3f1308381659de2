"""`F.pad`'s reflect / replicate / circular modes. They are a gather along each padded dim with indices known from the sizes
(`index_select` with a constant index), so they trace and lower like any other gather."""

from __future__ import annotations

from typing import Any

import numpy as np

from xjit import _creation
from xjit._dispatch import call


def _source_index(n: int, before: int, after: int, mode: str) -> np.ndarray:
    """For each position of the padded dim, the input position it copies."""
    i = np.arange(-before, n + after)
    if mode == "reflect":
        if before >= n or after >= n:
            raise RuntimeError(
                f"Argument #4: Padding size should be less than the corresponding input "
                f"dimension, but got: padding ({before}, {after}) at dimension of input size {n}"
            )
        period = 2 * (n - 1)
        i = np.abs(i) % period if period else np.zeros_like(i)
        i = np.where(i >= n, period - i, i)
    elif mode == "replicate":
        i = np.clip(i, 0, n - 1)
    elif mode == "circular":
        if before > n or after > n:
            raise RuntimeError("Padding value causes wrapping around more than once.")
        i = i % n
    return i.astype(np.int64)


def pad_nonconstant(input: Any, pad: list[int], mode: str) -> Any:
    """`pad` lists (before, after) pairs from the last dim backwards, as torch's F.pad; these
    modes pad the trailing 1-3 dims of a batched (or unbatched) input."""
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(
            f"pad(mode={mode!r}): xjit supports 'constant', 'reflect', 'replicate', 'circular'"
        )
    if len(pad) % 2 or len(pad) // 2 > input.dim() - 1:
        raise RuntimeError(
            f"Padding length should be divisible by 2 and at most twice the number of padded "
            f"dims (got {len(pad)} for a {input.dim()}-D input)"
        )
    out = input
    for k in range(len(pad) // 2):
        dim = input.dim() - 1 - k
        before, after = int(pad[2 * k]), int(pad[2 * k + 1])
        if before < 0 or after < 0:
            raise NotImplementedError(f"pad(mode={mode!r}) with negative padding")
        n = int(input.shape[dim])
        index = _creation.tensor(_source_index(n, before, after, mode))
        out = call("index_select", out, dim, index)
    return out
