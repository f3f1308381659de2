"""A list indexed by an int known only at run time (`xs[k]`, k from a tensor): TorchScript's
List[T] indexing, here a chain of `prim.If (k == i)` over the compile-time items; negative
indices count from the end and an index out of range raises "list index out of range" as in
TorchScript. xjit's script against torch.jit.script of the same source."""

from __future__ import annotations

import pytest
import torch as real_torch
from script_oracle import check_function, load, to_torch

import xjit

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SRC = """
from typing import List, Tuple

def pick(x, n: int):
    xs = [x, x * 2, x * 3]
    k = int(x.sum() > 0) + n
    return xs[k], [1, 5, 7][k], [0.5, 1.5, 2.5][-k]

def pick_tuple(x):
    pairs = [(x, 1), (x + 1, 2)]
    k = int(x.sum() > 0)
    a, b = pairs[k]
    return a * b

def pick_shapes(x):
    xs = [x, torch.cat([x, x])]
    return xs[int(x.sum() > 0)].sum()

def in_a_loop(x, n: int):
    ws = [x, x + 1, x * 2]
    acc = x * 0
    for i in range(n):
        acc = acc + ws[i % 3]
    return acc
"""

POS = xjit.tensor([1.0, 2.0])
NEG = xjit.tensor([-1.0, -2.0])


def test_run_time_index() -> None:
    check_function(SRC, "pick", (POS, 1), (NEG, 0), (POS, -3), (NEG, -1))


def test_run_time_index_of_tuples_and_shapes() -> None:
    check_function(SRC, "pick_tuple", (POS,), (NEG,))
    check_function(SRC, "pick_shapes", (POS,), (NEG,))


def test_run_time_index_in_a_compiled_loop() -> None:
    check_function(SRC, "in_a_loop", (POS, 0), (POS, 7))


def test_out_of_range_raises_as_torchscript() -> None:
    theirs = real_torch.jit.script(load(SRC, real_torch)["pick"])
    with pytest.raises(RuntimeError, match="list index out of range"):
        theirs(to_torch(POS), 3)
    ours = xjit.jit.script(load(SRC, xjit)["pick"])
    for run in (ours, ours.run_reference):
        with pytest.raises(xjit.jit.Error, match="list index out of range"):
            run(POS, 3)
