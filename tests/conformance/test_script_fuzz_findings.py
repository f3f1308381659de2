"""Regressions found by the random-program fuzzer (tests/script_fuzz.py), each reduced to a few
lines and checked against real PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch as real_torch
from script_oracle import load

import xjit
from xjit.errors import FrontendError

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

STATIC_INDEX_SRC = """
def f(x: torch.Tensor, flag: bool) -> int:
    if flag:
        v0 = x.shape[1]
    else:
        v1 = x[-1]
    return 1
"""


def test_constant_index_out_of_a_static_size_0_dim_is_located() -> None:
    """`x.shape[1]` makes the function compile for the argument's static shape; `x[-1]` of its
    size-0 dim then built an op that did not verify: "internal error: the scripted IR does not
    verify". Torch runs it (the unused select is dropped); xjit must at least refuse with the
    line of the index, never an internal error."""
    theirs = real_torch.jit.script(load(STATIC_INDEX_SRC, real_torch)["f"])
    assert theirs(real_torch.zeros(0, 2), False) == 1
    ours = xjit.jit.script(load(STATIC_INDEX_SRC, xjit)["f"])
    with pytest.raises(FrontendError, match="out of bounds") as info:
        ours(xjit.zeros(0, 2), False)
    index_line = STATIC_INDEX_SRC.splitlines().index("        v1 = x[-1]") + 1
    assert info.value.loc is not None and info.value.loc.line == index_line
    # a size where the index is in range still runs
    assert ours(xjit.zeros(3, 2), False) == theirs(real_torch.zeros(3, 2), False)


TRACED_SIZES_SRC = """
def f(x: torch.Tensor) -> torch.Tensor:
    a = abs(x.size(0))
    b = round(x.size(1))
    return x * a + b + 2 ** x.size(0) - abs(x.size(1) - 5)
"""


@pytest.mark.parametrize("shape", [(2, 3), (2, 6)])
def test_traced_sizes_take_abs_round_and_rpow(shape: tuple[int, int]) -> None:
    """`abs(x.size(0))` while tracing raised "TypeError: bad operand type for abs(): 'TracedInt'"
    (and `round`, `2 ** n` likewise): a traced size behaves as the int it stands for. A size's
    abs stays traced; `abs(size - 5)` and `2 ** size` freeze the value under a guard."""
    example = np.arange(6, dtype=np.float32).reshape(2, 3)
    ours = xjit.jit.trace(load(TRACED_SIZES_SRC, xjit)["f"], (xjit.from_numpy(example),))
    theirs = load(TRACED_SIZES_SRC, real_torch)["f"]
    arg = np.ones(shape, dtype=np.float32)
    want = theirs(real_torch.from_numpy(arg)).numpy()
    if shape[1] == 3:  # the frozen `abs(x.size(1) - 5)` holds
        np.testing.assert_allclose(ours(xjit.from_numpy(arg)).numpy(), want)
    else:
        with pytest.raises(xjit.jit.TraceGuardError):
            ours(xjit.from_numpy(arg))


ITEM_SCALAR_SRC = """
def f(x: torch.Tensor) -> torch.Tensor:
    v = x.to(torch.int64).clone()
    v[0] = 2
    w = (x * 3).to(torch.int64).to(torch.float32).clone()
    w[-1] = 0.5
    return w + v
"""


def test_scalar_into_a_row_of_a_tensor_of_unknown_rank() -> None:
    """`v = x.to(dt).clone(); v[0] = 2` (the rank of `v` unknown when the line compiles): the
    scalar was not broadcast to the row, and the call failed with "the scripted graph does not
    accept this (... select_scatter(): expected src to have a size equal to the slice ...)"."""
    arg = np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5
    theirs = real_torch.jit.script(load(ITEM_SCALAR_SRC, real_torch)["f"])
    ours = xjit.jit.script(load(ITEM_SCALAR_SRC, xjit)["f"])
    for a in (arg, arg[:1], arg.reshape(3, 2)):
        want = theirs(real_torch.from_numpy(a.copy())).numpy()
        got = ours(xjit.from_numpy(a.copy())).numpy()
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


SUM_SRC = """
from typing import List

def f(x: torch.Tensor, n: int, ls: List[int]) -> Tuple[int, int, float]:
    xs = [n, 2, x.size(0)]
    for i in range(3):
        xs.append(i * n)
    fs = [0.5, float(n)]
    return sum(xs), sum(ls), sum(fs)
"""


def test_sum_of_a_list_of_numbers() -> None:
    """`sum(ls)` of a `List[int]` / `List[float]` was "unsupported: calling sum" (the gap the
    fuzzer hit most often among builtins)."""
    src = "from typing import Tuple\n" + SUM_SRC
    theirs = real_torch.jit.script(load(src, real_torch)["f"])
    ours = xjit.jit.script(load(src, xjit)["f"])
    for n, ls in ((3, [1, 2, 5]), (-2, [7])):
        got = ours(xjit.ones(4), n, ls)
        want = theirs(real_torch.ones(4), n, ls)
        assert got == want and [type(g) for g in got] == [type(w) for w in want]


RUN_TIME_INDEX_SRC = """
def f(x: torch.Tensor, n: int) -> torch.Tensor:
    v = x.clone()
    for i in range(x.size(0)):
        v[i + n] = 1.5
    return v
"""


@pytest.mark.parametrize("n", [0, -2, 1, -5])
def test_item_assignment_at_an_out_of_range_run_time_index_raises(n: int) -> None:
    """`v[i + n] = 1.5` in a loop, the index past the end: torch raises IndexError; xjit's
    run-time select_scatter (a mask of arange(size) == i) left `v` unchanged and returned."""
    theirs = real_torch.jit.script(load(RUN_TIME_INDEX_SRC, real_torch)["f"])
    ours = xjit.jit.script(load(RUN_TIME_INDEX_SRC, xjit)["f"])
    for rows in (3, 4):
        arg = np.arange(rows * 2, dtype=np.float32).reshape(rows, 2)
        try:
            want = theirs(real_torch.from_numpy(arg.copy()), n).numpy()
        except Exception:
            with pytest.raises(xjit.jit.Error, match="out of bounds"):
                ours(xjit.from_numpy(arg.copy()), n)
            continue
        np.testing.assert_array_equal(ours(xjit.from_numpy(arg.copy()), n).numpy(), want)
