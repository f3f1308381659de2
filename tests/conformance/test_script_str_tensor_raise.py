"""str parameters and results, `torch.tensor(...)` of scalars and lists, and the common `raise`
forms in scripted code, each scripted by `torch.jit.script` (the oracle) and by xjit."""

from __future__ import annotations

from typing import Any

import pytest
import torch as real_torch
from script_oracle import assert_same, load, to_torch

import xjit
from xjit.errors import FrontendError

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SRC = """
from typing import List, Tuple

def echo_mode(x: torch.Tensor, mode: str) -> str:
    return mode

def greeting(x: torch.Tensor) -> str:
    return "hello"

def scaled_and_tagged(x: torch.Tensor, mode: str) -> Tuple[torch.Tensor, str]:
    if mode == "double":
        return x * 2, mode + "_done"
    return x, mode + "_kept"

def literal_ints(x: torch.Tensor) -> torch.Tensor:
    return x + torch.tensor([0, 1, 0])

def scalar_of_int(x: torch.Tensor, n: int) -> torch.Tensor:
    return x * torch.tensor(n)

def pair_with_dtype(x: torch.Tensor, a: float, b: float) -> torch.Tensor:
    return x + torch.tensor([a, b], dtype=torch.float64)

def literals(n: int, a: float, flag: bool):
    return (
        torch.tensor(a),
        torch.tensor([[a, 1.5], [2.0, a]]),
        torch.tensor([n, n + 1, 3]),
        torch.tensor(flag),
        torch.tensor([flag, True]),
        torch.tensor([n, 2], dtype=torch.float32),
    )

def value_error(x: torch.Tensor, n: int) -> torch.Tensor:
    if n > 3:
        raise ValueError(f"too big: {n} for shape {x.size(0)}")
    return x * n

def runtime_error_concat(x: torch.Tensor, n: int) -> torch.Tensor:
    if n > 3:
        raise RuntimeError("too big: " + str(n) + " > " + str(3))
    return x + n

def raise_from_none(x: torch.Tensor, n: int) -> torch.Tensor:
    if n < 0:
        raise ValueError("negative " + str(n)) from None
    return x - n
"""

X = xjit.tensor([1.0, -2.0, 3.0])
X2 = xjit.tensor([1.0, -2.0])


def _pair(name: str) -> tuple[Any, Any]:
    ours = xjit.jit.script(load(SRC, xjit)[name])
    theirs = real_torch.jit.script(load(SRC, real_torch)[name])
    return ours, theirs


def check(name: str, *arg_sets: tuple[Any, ...]) -> None:
    ours, theirs = _pair(name)
    for args in arg_sets:
        assert_same(ours(*args), theirs(*to_torch(args)), f"{name}{args!r}")


def test_str_results_and_parameters() -> None:
    check("echo_mode", (X, "a"), (X, "tanh"), (X, "a"))
    check("greeting", (X,))
    check("scaled_and_tagged", (X, "double"), (X, "none"), (X, "double"))


def test_tensor_literals() -> None:
    check("literal_ints", (X,))
    check("scalar_of_int", (X, 3), (X, -2))
    check("pair_with_dtype", (X2, 1.5, 2.0), (X2, -1.0, 0.25))
    check("literals", (2, 1.5, True), (-4, 0.25, False))


def check_raises(name: str, ok: tuple[Any, ...], bad: tuple[Any, ...]) -> None:
    ours, theirs = _pair(name)
    assert_same(ours(*ok), theirs(*to_torch(ok)), f"{name}{ok!r}")
    with pytest.raises(real_torch.jit.Error) as want:
        theirs(*to_torch(bad))
    last = str(want.value).strip().splitlines()[-1]  # "builtins.ValueError: too big: 5 ..."
    for run in (ours, ours.run_reference):
        with pytest.raises(xjit.jit.Error) as got:
            run(*bad)
        assert str(got.value).rstrip().endswith(last), (str(got.value), last)


def test_raise_with_an_fstring() -> None:
    check_raises("value_error", (X, 2), (X, 5))


def test_raise_with_a_concatenated_message() -> None:
    check_raises("runtime_error_concat", (X, 1), (X, 7))


def test_raise_from_none() -> None:
    check_raises("raise_from_none", (X, 1), (X, -3))


BAD = """
def bare(x: torch.Tensor, n: int) -> torch.Tensor:
    if n > 3:
        raise
    return x

def from_something(x: torch.Tensor, n: int) -> torch.Tensor:
    if n > 3:
        raise ValueError("x") from x
    return x

def run_time_str(x: torch.Tensor, n: int) -> str:
    if n > 2:
        return "big"
    return "small"

def tensor_of_tensor(x: torch.Tensor) -> torch.Tensor:
    return torch.tensor([x, x])

def ragged(n: int) -> torch.Tensor:
    return torch.tensor([[n], [n, n]])
"""


@pytest.mark.parametrize(
    ("name", "what"),
    [
        ("bare", r"4:\d+: error: unsupported: a bare `raise`"),
        ("from_something", r"9:\d+: error: unsupported: `raise ... from` something other"),
        ("tensor_of_tensor", r"18:\d+: error: unsupported: torch.tensor\(\) of a Tensor"),
        ("ragged", r"21:\d+: error: torch.tensor\(\): the nested lists have different lengths"),
    ],
)
def test_unsupported_forms_are_located(name: str, what: str) -> None:
    args = (2,) if name == "ragged" else (X,) if name == "tensor_of_tensor" else (X, 5)
    with pytest.raises(FrontendError, match=r"model_\d+\.py:" + what):
        xjit.jit.script(load(BAD, xjit)[name])(*args)


def test_torch_refuses_a_bare_raise_too() -> None:
    """The refusal above matches TorchScript, which cannot compile a bare `raise` either."""
    with pytest.raises(Exception):  # noqa: B017, PT011 (torch fails with an AttributeError)
        real_torch.jit.script(load(BAD, real_torch)["bare"])
