"""`F.pad`'s reflect / replicate / circular modes: a gather along each padded dim (`index_select`
with indices computed by ops from the sizes), so they trace and lower like any other gather.

Written in the TorchScript language, so that `xjit.jit.script` of the padding modules compiles
these very functions."""

from __future__ import annotations

from typing import List  # noqa: UP035  (as TorchScript reads annotations)

from xjit import _creation
from xjit._tensor import Tensor


def _source_index(n: int, before: int, after: int, mode: str) -> Tensor:
    """For each position of the padded dim, the input position it copies."""
    i = _creation.arange(-before, n + after)
    if mode == "reflect":
        if before >= n or after >= n:
            raise RuntimeError(
                f"Argument #4: Padding size should be less than the corresponding input "
                f"dimension, but got: padding ({before}, {after}) at dimension of input size {n}"
            )
        period = 2 * (n - 1)
        if period == 0:
            return _creation.zeros_like(i)
        i = i.abs() % period
        return (period - i).where(i >= n, i)
    if mode == "replicate":
        return i.clamp(0, n - 1)
    if before > n or after > n:
        raise RuntimeError("Padding value causes wrapping around more than once.")
    return i % n


def pad_nonconstant(input: Tensor, pad: List[int], mode: str) -> Tensor:  # noqa: UP006
    """`pad` lists (before, after) pairs from the last dim backwards, as torch's F.pad; these
    modes pad the trailing 1-3 dims of a batched (or unbatched) input."""
    if mode != "reflect" and mode != "replicate" and mode != "circular":
        raise NotImplementedError(
            f"pad(mode='{mode}'): xjit supports 'constant', 'reflect', 'replicate', 'circular'"
        )
    if len(pad) % 2 != 0 or len(pad) // 2 > input.dim() - 1:
        raise RuntimeError(
            f"Padding length should be divisible by 2 and at most twice the number of padded "
            f"dims (got {len(pad)} for a {input.dim()}-D input)"
        )
    out = input
    for k, (before, after) in enumerate(zip(pad[0::2], pad[1::2])):  # (unrolled when scripted)
        if before < 0 or after < 0:
            raise NotImplementedError(f"pad(mode='{mode}') with negative padding")
        dim = -1 - k
        out = out.index_select(dim, _source_index(input.size(dim), before, after, mode))
    return out
