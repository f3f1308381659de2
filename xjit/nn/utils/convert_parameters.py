"""`torch.nn.utils.parameters_to_vector` / `vector_to_parameters`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from xjit import _versions
from xjit._tensor import Tensor


def parameters_to_vector(parameters: Iterable[Any]) -> Tensor:
    """All parameters flattened and concatenated, in order (a copy)."""
    return Tensor(np.concatenate([np.ravel(p._a) for p in parameters]))


def vector_to_parameters(vec: Any, parameters: Iterable[Any]) -> None:
    """Write consecutive slices of `vec` into the parameters, in place (as torch's)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    flat, at = vec._a, 0
    for p in parameters:
        n = p.numel()
        _versions.wrote(p._a)
        p._a[...] = flat[at : at + n].reshape(p.shape)
        at += n
