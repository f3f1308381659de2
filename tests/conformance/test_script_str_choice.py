"""str values that differ on run-time paths (frontends/script/str_choice.py), against
torch.jit.script: returned from branches, assigned in branches and compared, on inputs that
take every path."""

from __future__ import annotations

import numpy as np
import pytest
from script_oracle import check_function, load

import xjit

POS = xjit.tensor(np.array([1.0, 2.0], np.float32))
NEG = xjit.tensor(np.array([-1.0, -3.0], np.float32))
ZERO = xjit.tensor(np.array([1.0, -1.0], np.float32))

SRC = """
from typing import Tuple

def sign_name(x) -> str:
    if bool(x.sum() > 0):
        return "pos"
    elif bool(x.sum() < 0):
        return "neg"
    return "zero"

def ternary(x):
    return "pos" if bool(x.sum() > 0) else "neg"

def in_a_tuple(x) -> Tuple[torch.Tensor, str]:
    if bool(x.sum() > 0):
        return x * 2, "doubled"
    return x, "kept"

def mode_then_compare(x):
    mode = "a" if bool(x.sum() > 0) else "b"
    if mode == "a":
        return x + 1
    return x - 1

def assigned_in_branches(x):
    if bool(x.sum() > 0):
        mode = "up"
    elif bool(x.sum() < 0):
        mode = "down"
    else:
        mode = "flat"
    y = x
    if mode != "flat":
        y = y * 2
    if mode == "down":
        y = -y
    if mode == "sideways":
        y = y * 100
    return y

def returned_variable(x) -> str:
    mode = "big"
    if bool(x.abs().sum() < 3):
        mode = "small"
    if bool(x.sum() == 0):
        return "none"
    return mode

def in_a_loop(x, n: int):
    state = "even"
    for i in range(n):
        if state == "even":
            state = "odd"
        else:
            state = "even"
    return x if state == "even" else -x, state
"""

ARGS = [(POS,), (NEG,), (ZERO,)]


@pytest.mark.parametrize(
    "name",
    [
        "sign_name",
        "ternary",
        "in_a_tuple",
        "mode_then_compare",
        "assigned_in_branches",
        "returned_variable",
    ],
)
def test_run_time_str_values_match_torchscript(name: str) -> None:
    check_function(SRC, name, *ARGS)


def test_a_str_carried_around_a_loop_matches_torchscript() -> None:
    check_function(SRC, "in_a_loop", (POS, 0), (POS, 3), (POS, 4))


def test_a_run_time_str_as_an_op_argument_is_refused_with_its_line() -> None:
    src = """
def f(x):
    how = "tanh" if bool(x.sum() > 0) else "none"
    return torch.nn.functional.gelu(x, approximate=how)
"""
    with pytest.raises(xjit.jit.FrontendError) as info:
        xjit.jit.script(load(src, xjit)["f"])(POS)
    assert ".py:4:" in str(info.value) and "approximate" in str(info.value)


CALLS = """
def label(x) -> str:
    return "pos" if bool(x.sum() > 0) else "neg"

def caller(x):
    name = label(x)
    if name == "pos":
        return x * 10, name
    return x, name
"""


def test_a_called_function_returning_a_run_time_str_matches_torchscript() -> None:
    check_function(CALLS, "caller", *ARGS)
