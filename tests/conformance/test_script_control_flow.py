"""`return`, `break` and `continue` anywhere in `for`/`while`, nested: xjit's script against
torch.jit.script of the same source."""

from __future__ import annotations

import pytest
from script_oracle import check_function

import xjit

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

V = xjit.tensor([1.5, -2.0, 3.0])
W = xjit.tensor([0.5, 0.25, 1.0])

SRC = """
from typing import Tuple

def ret_in_for(x):
    for i in range(5):
        if i == 2:
            return x + i
    return x

def ret_in_while(x):
    k = 0
    while k < 10:
        x = x + 1
        if bool(x.sum() > 10):
            return x
        k += 1
    return x * 0

def ret_from_nested_loop(x, n: int):
    for i in range(n):
        for j in range(n):
            if i * j == 6:
                return x * i, j
            x = x + 0.5
    return x, -1

def ret_scalar(x, limit: float) -> int:
    i = 0
    while True:
        if float(x.sum()) * i > limit:
            return i
        i += 1
    return -1

def break_continue(x):
    for i in range(6):
        if i == 1:
            continue
        if i == 4:
            break
        x = x * 2 + i
    return x

def mixed(x):
    acc = x * 0
    for i in range(10):
        if i % 2 == 0:
            continue
        acc = acc + x * i
        if bool(acc.sum() > 20):
            break
        if i == 7:
            return acc, i
    return acc - 1, -1

def trailing_break(x, n: int):
    i = 0
    go = n > 0
    while go:
        x = x * 2.0
        i += 1
        if not i < n:
            break
    return x, i

def trailing_break_after_continue(x, n: int):
    i = 0
    while True:
        i += 1
        if i == 2:
            continue
        x = x + float(i)
        if not i < n:
            break
    return x, i

def ret_over_tensor_rows(x):
    for row in x:
        if bool(row.sum() > 0):
            return row
    return x[0]
"""


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("ret_in_for", [(V,)]),
        ("ret_in_while", [(V,), (V * 10,)]),
        ("ret_from_nested_loop", [(V, 4), (V, 2), (W, 3)]),
        ("ret_scalar", [(W, 5.0), (W, 0.0)]),
        ("break_continue", [(V,)]),
        ("mixed", [(V,), (W,), (V * 0.01,)]),
        # `while t: ...; if not c: break` compiles to a loop on c (how `.code` prints a while)
        ("trailing_break", [(V, 0), (V, 1), (V, 3)]),
        ("trailing_break_after_continue", [(V, 0), (V, 1), (V, 3)]),
        (
            "ret_over_tensor_rows",
            [
                (xjit.tensor([[-1.0, -2.0], [1.0, 0.5], [3.0, 4.0]]),),
                (-xjit.ones(4, 5),),  # no row returned: the fall-through path, another shape
                (xjit.tensor([[-1.0, -2.0], [1.0, 0.5], [3.0, 4.0]]) * 2,),
            ],
        ),
    ],
)
def test_exits_in_loops(name: str, args: list[tuple]) -> None:
    check_function(SRC, name, *args)
