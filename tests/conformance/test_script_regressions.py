"""Issue 10's silent-wrong script cases (items 1, 2, 6, 7): each scripted by real PyTorch (the
oracle) and by xjit from the same source, results compared by value, dtype and Python type."""

from __future__ import annotations

import numpy as np
import pytest
import torch as real_torch
from script_oracle import assert_same, check_function, load, to_torch

import xjit

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ONES = xjit.ones(1)
V = xjit.tensor([1.5, -2.0, 3.0])

# -- item 1: tuples are loop-carried and branch-joined ------------------------------------------

TUPLES = """
from typing import Tuple

def issue_example(x):
    c = (x, x)
    for i in range(2):
        c = (c[0] + 1, c[1] * 2)
    return c[0] + c[1]

def nested(x, n: int):
    c = (x, (x, n))
    if bool(x.sum() > 0):
        c = (x + 1, (x * 2, n + 1))
    for i in range(3):
        if i == 1:
            c = (c[0] * 3, c[1])
    return c[0] + c[1][0], c[1][1]

def while_swap(x, y):
    p = (x, y)
    k = 0
    while k < 3:
        p = (p[1], p[0] + p[1])
        k += 1
    return p

def conditional_tuple(x):
    t = (x, x.sum()) if bool(x.sum() > 0) else (-x, x.mean())
    return t[0] * t[1]

def unpacked_in_loop(x):
    a, b = x, x * 0
    for i in range(4):
        a, b = b, a + b + i
    return a, b
"""


def test_issue_example_tuple_in_loop() -> None:
    check_function(TUPLES, "issue_example", (ONES,), (V,))
    # and the hand-computed value of the issue: (1+1+1) + (1*2*2) = 7
    np.testing.assert_array_equal(xjit.jit.script(load(TUPLES, xjit)["issue_example"])(ONES), [7])


@pytest.mark.parametrize("name", ["nested", "while_swap", "unpacked_in_loop", "conditional_tuple"])
def test_tuples_carried_and_joined(name: str) -> None:
    args = {
        "nested": [(V, 3), (-V, 3)],
        "while_swap": [(V, V * 2)],
        "unpacked_in_loop": [(V,)],
        "conditional_tuple": [(V,), (-V,)],
    }
    check_function(TUPLES, name, *args[name])


def test_tuple_changing_structure_in_a_loop_over_an_int_parameter() -> None:
    """The carried tuple grows: compiled per value of n, where the loop unrolls."""
    src = """
def grows(x, n: int):
    c = (x,)
    for i in range(n):
        c = (c[0], x)
    return c[0]
"""
    with pytest.raises(RuntimeError, match="previously had type Tuple"):
        real_torch.jit.script(load(src, real_torch)["grows"])  # TorchScript refuses it
    grows = xjit.jit.script(load(src, xjit)["grows"])
    for n in (0, 2):
        np.testing.assert_array_equal(grows(V, n).numpy(), V.numpy())  # c[0] is x throughout


# -- item 2: self.training is read when the module runs -----------------------------------------

TRAINING = """
class Mode(torch.nn.Module):
    def forward(self, x):
        return x if self.training else x + 4

class Outer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = Mode()

    def forward(self, x):
        y = self.inner(x)
        if self.training:
            y = y * 2
        return y
"""


@pytest.mark.parametrize("cls", ["Mode", "Outer"])
def test_training_flag_follows_train_and_eval(cls: str) -> None:
    ours = xjit.jit.script(load(TRAINING, xjit)[cls]())
    theirs = real_torch.jit.script(load(TRAINING, real_torch)[cls]())
    for step in ("train", "eval", "train", "eval", "inner.train"):
        for m in (ours, theirs):
            if step == "inner.train":
                if hasattr(m, "inner"):
                    m.inner.train()
            else:
                getattr(m, step)()
        assert_same(ours(V), theirs(to_torch(V)), f"{cls} after {step}()")


# -- item 6: scalar results are Python scalars ------------------------------------------------

SCALARS = """
from typing import Tuple

def as_int(x) -> int:
    return x.size(0) * 2

def as_float(x) -> float:
    return float(x.size(0)) / 4

def as_bool(x) -> bool:
    return x.size(0) > 2

def in_tuple(x) -> Tuple[int, float, bool, torch.Tensor]:
    n = x.size(0)
    return n, n / 2, n == 3, x * n

def from_tensor(x) -> float:
    return float(x.sum())
"""


@pytest.mark.parametrize("name", ["as_int", "as_float", "as_bool", "in_tuple", "from_tensor"])
def test_scalar_results_are_python_scalars(name: str) -> None:
    check_function(SCALARS, name, (V,), (xjit.ones(2),))


# -- item 7: unknown argument dtypes promote like torch ---------------------------------------

DTYPES = """
def plus_arange(x):
    y = x + torch.arange(3)
    return y.mean()

def times_int(x):
    return x * x.to(torch.int64)

def where_mixed(c, x, i):
    return torch.where(c, x, i)

def compare_then_sum(x):
    return (x > 0).sum(), x.to(torch.int64) + 1
"""


def test_float_plus_int_tensor_promotes() -> None:
    check_function(DTYPES, "plus_arange", (V,), (V.double(),))


def test_int_arguments_promote_too() -> None:
    check_function(DTYPES, "times_int", (V,), (xjit.tensor([1, 2, 3]),))
    check_function(DTYPES, "compare_then_sum", (V,), (xjit.tensor([1, -2, 3]),))


def test_where_with_mixed_dtypes() -> None:
    c = xjit.tensor([True, False, True])
    check_function(DTYPES, "where_mixed", (c, V, xjit.tensor([7, 8, 9])))


def test_where_with_every_argument_of_unknown_dtype() -> None:
    # probing one dtype for all three arguments only accepts bool: no dtype may be concluded
    src = "def where_all(c, x, y):\n    return torch.where(c, x, y) * 2\n"
    c = xjit.tensor([True, False, True])
    check_function(src, "where_all", (c, V, xjit.tensor([7, 8, 9])), (c, V, V))
