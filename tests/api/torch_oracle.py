"""Comparing xjit with real PyTorch: the same function, written against a `T` namespace, run
with `T = xjit` (eager, then traced and compiled) and `T = torch` on the same inputs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch as pt

import xjit

RTOL, ATOL = 1e-4, 1e-5


def to_xjit(a: Any) -> Any:
    if isinstance(a, np.ndarray):
        return xjit.from_numpy(a.copy())
    return a


def to_torch(a: Any) -> Any:
    if isinstance(a, np.ndarray):
        return pt.from_numpy(a.copy())
    return a


def _np(v: Any) -> Any:
    if isinstance(v, (tuple, list)):
        return [_np(x) for x in v]
    if isinstance(v, pt.Tensor):
        return v.detach().numpy()
    if isinstance(v, xjit.Tensor):
        return v.numpy()
    return v


def assert_same(got: Any, want: Any, what: str = "") -> None:
    g, w = _np(got), _np(want)
    if isinstance(w, list):
        assert isinstance(g, list) and len(g) == len(w), f"{what}: {len(g)} vs {len(w)} results"
        for i, (a, b) in enumerate(zip(g, w, strict=True)):
            assert_same(a, b, f"{what}[{i}]")
        return
    assert g.shape == w.shape, f"{what}: shape {g.shape} vs torch's {w.shape}"
    assert g.dtype == w.dtype, f"{what}: dtype {g.dtype} vs torch's {w.dtype}"
    np.testing.assert_allclose(g, w, rtol=RTOL, atol=ATOL, err_msg=what)


def check(
    fn: Callable[..., Any], *arrays: Any, trace: bool = True, modes: Sequence[str] = ()
) -> None:
    """`fn(T, *inputs)` under xjit (eager, and traced unless trace=False) matches torch."""
    want = fn(pt, *[to_torch(a) for a in arrays])
    got = fn(xjit, *[to_xjit(a) for a in arrays])
    assert_same(got, want, "eager")
    if trace:
        xs = [to_xjit(a) for a in arrays]
        traced = xjit.jit.trace(lambda *args: fn(xjit, *args), tuple(xs))
        assert_same(traced(*[to_xjit(a) for a in arrays]), want, "traced")


def rand(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
