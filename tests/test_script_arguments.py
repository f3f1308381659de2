"""Calling a scripted module or function with the wrong number, rank or dtype of arguments
raises `xjit.jit.ArgumentError` naming the argument (issue 3, Diagnostics), never an internal
verifier error."""

from __future__ import annotations

import numpy as np
import pytest
from models import MyDecisionGate, MyGatedCell, MyRNNLoop

import xjit as torch
from xjit.jit import ArgumentError


@pytest.fixture(scope="module")
def loop():
    torch.manual_seed(0)
    cell = torch.jit.script(MyGatedCell(torch.jit.script(MyDecisionGate())))
    return torch.jit.script(MyRNNLoop(cell))


def err(fn, *args, **kwargs) -> str:
    with pytest.raises(ArgumentError) as e:
        fn(*args, **kwargs)
    return str(e.value)


def test_arity(loop) -> None:
    assert "missing argument 'xs'" in err(loop)
    assert "at most 1 arguments (xs), got 2" in err(loop, torch.rand(2, 3, 4), torch.rand(2))
    assert "unexpected keyword argument 'ys'" in err(loop, torch.rand(2, 3, 4), ys=1)
    assert "missing argument 'h'" in err(loop.cell, torch.rand(3, 4))


def test_dtype(loop) -> None:
    msg = err(loop, torch.from_numpy(np.zeros((5, 3, 4), np.float64)))
    assert "argument 'xs' is float64 [5, 3, 4]" in msg and "same dtype" in msg
    assert "\n" not in msg


def test_rank(loop) -> None:
    msg = err(loop, torch.rand(5, 3))
    assert "argument 'xs' is float32 [5, 3]" in msg and "does not match weight" in msg
    msg = err(loop.cell, torch.rand(3, 4), torch.rand(3, 5))
    assert "'x' is float32 [3, 4]; 'h' is float32 [3, 5]" in msg


def test_scalar_where_a_tensor_goes() -> None:
    def f(x, n: int):
        return x * n

    sf = torch.jit.script(f)
    assert "argument 'x'" in err(sf, 3, 2)
    assert "argument 'n'" in err(sf, torch.rand(2), torch.rand(2))


def test_good_calls_still_work(loop) -> None:
    for n in (1, 4):
        y, h = loop(torch.rand(n, 3, 4))
        assert y.shape == (3, 4)
