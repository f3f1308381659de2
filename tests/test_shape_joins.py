"""Control flow that changes a shape, and shapes read back through `size()` (issue 10, items 8
and 9): scripted by xjit and by PyTorch's `torch.jit.script` from the same source, compared on
inputs that take each branch / run the loop a different number of times."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import xjit

pytestmark = pytest.mark.filterwarnings(
    "ignore:`torch.jit.script` is deprecated:DeprecationWarning"
)


def cat_if_positive(x):
    if bool(x.sum() > 0):
        x = torch.cat((x, x))
    return x * 2


def grow_for(x):
    for _ in range(3):
        x = torch.cat((x, x + 1))
    return x - 1


def grow_while(x):
    while x.size(0) < 10:
        x = torch.cat((x, x * 2))
    return x.sum(0)


def reshape_twice(x):
    y = x.reshape((x.size(0), -1))
    return y.reshape((y.size(0), -1))


def shrink_or_keep(x, y):
    if bool(x.mean() < 0.5):
        x = torch.cat((x, y), 1)
    return torch.tanh(x) + 1


def _both(fn, *args):
    """(xjit's scripted result, PyTorch's scripted result) as numpy arrays."""
    ours = xjit.jit.script(_rebind(fn, xjit))(
        *[xjit.tensor(a) if isinstance(a, np.ndarray) else a for a in args]
    )
    theirs = torch.jit.script(fn)(
        *[torch.from_numpy(a) if isinstance(a, np.ndarray) else a for a in args]
    )
    return ours.numpy(), theirs.numpy()


def _rebind(fn, module):
    """`fn` with its global `torch` bound to `module` (the same source for both compilers)."""
    import types

    g = dict(fn.__globals__, torch=module)
    new = types.FunctionType(fn.__code__, g, fn.__name__, fn.__defaults__)
    new.__module__, new.__qualname__ = fn.__module__, fn.__qualname__
    new.__wrapped_source__ = fn  # type: ignore[attr-defined]
    return new


@pytest.mark.parametrize("sign", [1.0, -1.0], ids=["then", "else"])
def test_if_that_doubles_a_tensor(sign: float) -> None:
    x = (sign * np.arange(1, 7, dtype=np.float32)).reshape(2, 3)
    ours, theirs = _both(cat_if_positive, x)
    assert ours.shape == theirs.shape == ((4, 3) if sign > 0 else (2, 3))
    np.testing.assert_allclose(ours, theirs)


@pytest.mark.parametrize("n", [1, 2])
def test_for_loop_that_grows_a_tensor(n: int) -> None:
    x = np.arange(n, dtype=np.float32) - 0.5
    ours, theirs = _both(grow_for, x)
    assert ours.shape == theirs.shape == (n * 8,)
    np.testing.assert_allclose(ours, theirs)


@pytest.mark.parametrize("rows", [1, 3, 12])
def test_while_loop_that_grows_a_tensor(rows: int) -> None:
    x = np.arange(rows * 2, dtype=np.float32).reshape(rows, 2)
    ours, theirs = _both(grow_while, x)
    np.testing.assert_allclose(ours, theirs)


@pytest.mark.parametrize("shape", [(2, 3, 4), (5, 1), (3, 2, 2, 2)])
def test_reshape_of_a_reshape_keeps_its_rank(shape: tuple[int, ...]) -> None:
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    ours, theirs = _both(reshape_twice, x)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs)


@pytest.mark.parametrize("fill", [0.0, 1.0], ids=["then", "else"])
def test_if_that_widens_a_dim(fill: float) -> None:
    x = np.full((2, 3), fill, dtype=np.float32)
    y = np.arange(4, dtype=np.float32).reshape(2, 2)
    ours, theirs = _both(shrink_or_keep, x, y)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
