"""Slices whose bounds are known only at run time (a loop-carried count, an int argument used
in arithmetic): Python's clamping and negative bounds, a dynamic result size. xjit against
torch.jit.script of the same source."""

from __future__ import annotations

import numpy as np
import pytest
from script_oracle import check_function

import xjit

SRC = """
def counted(x):
    n = 0
    for i in range(3):
        n = n + 1
    return x[:n] * 2

def bounds(x, k: int):
    n = 0
    for i in range(3):
        n = n + 1
    return x[n - k:], x[k::2], x[-k:n + k], x[k:-k]

def rows(x, k: int):
    n = 1
    while n < k:
        n = n * 2
    return x[:, 1:n], x[n:]

def on_a_list(x):
    a = [1, 2, 3]
    b = [x, x * 2, x + 1]
    return x * a[-1] + a[-3] + b[-1] + b[-2]

def run_time_list_index(x, k: int):
    a = [1, 2, 3]
    return x * a[-k]
"""


def _t(*shape: int) -> xjit.Tensor:
    return xjit.tensor(np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape))


def test_a_loop_carried_end() -> None:
    check_function(SRC, "counted", (_t(5),), (_t(2),), (_t(8),))


@pytest.mark.parametrize("k", [0, 1, 2, 10, -2])
def test_run_time_bounds_clamp_as_python(k: int) -> None:
    check_function(SRC, "bounds", (_t(5), k), (_t(7), k), (_t(1), k))


def test_run_time_bounds_on_a_second_dim() -> None:
    check_function(SRC, "rows", (_t(4, 6), 3), (_t(9, 3), 5), (_t(2, 2), 0))


def test_negative_list_indices() -> None:
    check_function(SRC, "on_a_list", (_t(3),), (_t(2, 2),))


def test_a_run_time_list_index() -> None:
    """(Refused before.) A run-time index selects with a chain of prim.If: a[-k] as torch."""
    check_function(SRC, "run_time_list_index", (_t(3), 1), (_t(3), 3))
