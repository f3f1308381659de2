"""Lists built in a `for` over `range(n)` / `range(x.size(0))` (the loop cannot be a prim.Loop,
since the list's length changes): compiled per argument types and int argument values, where
the range is constant and the loop unrolls. Each against torch.jit.script."""

from __future__ import annotations

import numpy as np
from script_oracle import assert_refused, check_function

import xjit

SRC = """
from typing import List

def stack_n(x, n: int):
    ys: List[torch.Tensor] = []
    for i in range(n):
        ys.append(x * i)
    return torch.stack(ys).sum(0), len(ys)

def rows_but_one(x):
    out = []
    for i in range(x.size(0)):
        if i == 1:
            continue
        out.append(x[i] * 2)
    return torch.stack(out)

def until_negative(x, limit: int):
    seen: List[torch.Tensor] = []
    for i in range(min(limit, x.size(0))):
        if bool(x[i].sum() < 0):
            break
        seen.append(x[i])
    return torch.cat(seen + [x[0]]), len(seen)
"""

A = xjit.from_numpy(np.array([[-1.0, 2.0], [0.5, -3.0], [1.0, 1.0]], np.float32))
B = xjit.from_numpy(np.arange(8, dtype=np.float32).reshape(4, 2))


def test_list_appended_in_a_loop_over_an_int_parameter() -> None:
    check_function(SRC, "stack_n", (A, 3), (A, 1), (B, 2), (A, 3))


def test_list_appended_in_a_loop_over_a_size() -> None:
    check_function(SRC, "rows_but_one", (A,), (B,))


def test_list_appended_until_a_data_dependent_break_is_refused() -> None:
    """The list's length would depend on the data (lists have a compile-time length here)."""
    assert_refused(SRC, "until_negative", (A, 3), r"changing a list inside an if branch")
