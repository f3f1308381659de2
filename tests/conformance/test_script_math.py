"""`math.*`, `round`, float `%` / `//` / `**` and int<->float promotion on Python scalars:
xjit's script (compiled through the numpy backend, and the reference interpreter) against
torch.jit.script of the same source. TorchScript's semantics are C's (nan, inf) where Python
raises, and its own formulas for float `//` (floor(a / b)) and `%`."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch as real_torch
from script_oracle import assert_same, check_function, load, to_torch

import xjit

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SRC = """
import math

def unary(a: float):
    return (
        math.sqrt(a), math.exp(a), math.log(a), math.log10(a), math.log1p(a), math.expm1(a),
        math.sin(a), math.cos(a), math.tan(a), math.atan(a), math.sinh(a), math.cosh(a),
        math.tanh(a), math.asinh(a), math.fabs(a), math.degrees(a), math.radians(a),
        math.isnan(a), math.isinf(a), math.isfinite(a), math.asin(a), math.acos(a),
        math.acosh(a), math.atanh(a), round(a),
    )

def binary(a: float, b: float):
    return (
        a % b, a // b, math.atan2(a, b), math.copysign(a, b), math.fmod(a, b),
        math.pow(a, 2), math.log(a, 2.0), a ** b, a / b,
    )

def to_int(a: float):
    return math.floor(a), math.ceil(a), int(a)

def ints(n: int, m: int):
    return (
        n % m, n // m, divmod(n, m), n / m, n ** m, n ** 0.5, round(n), math.floor(n),
        math.ceil(n), math.sqrt(n), math.fabs(n), n % 2.5, n // 2.5, 2.5 % n, min(n, 2.5),
        max(n, m), abs(n), n * 1.5, n + True,
    )

def unary_rt(x):
    return unary(float(x[0]))

def binary_rt(x):
    return binary(float(x[0]), float(x[1]))

def to_int_rt(x):
    return to_int(float(x[0]))

def ints_rt(x):
    return ints(int(x[0]), int(x[1]))

def divmods(a: float, b: float):
    return divmod(a, b)

def mixed_divmods(a: float, n: int):
    # (TorchScript's int/float overloads round like float32: exact values only here)
    return divmod(n, a), divmod(a, n)

def divmods_rt(x):
    return divmods(float(x[0]), float(x[1]))

def constants(x):
    return x * math.pi + math.e, math.inf, -math.inf

def in_control_flow(x, n: int):
    acc = 0.0
    for i in range(n):
        acc = acc + math.sqrt(float(i)) % 1.5
        if math.floor(acc) % 2 == 1:
            x = x * 2
    return x + acc
"""

FLOATS = (2.5, -1.5, 0.0, -0.0, 0.7, 1.0, -7.25, math.inf, -math.inf, 1e-20)


def _same_float(got: Any, want: Any, where: str) -> None:
    """nan equals nan here (math.sqrt(-1.0) is nan in both)."""
    if isinstance(want, float) and math.isnan(want):
        assert isinstance(got, float) and math.isnan(got), where
    elif isinstance(want, tuple):
        assert type(got) is tuple and len(got) == len(want), where
        for k, (g, w) in enumerate(zip(got, want, strict=True)):
            _same_float(g, w, f"{where}[{k}]")
    else:
        assert_same(got, want, where)


def _check(name: str, *arg_sets: tuple[Any, ...]) -> None:
    ours = xjit.jit.script(load(SRC, xjit)[name])
    theirs = real_torch.jit.script(load(SRC, real_torch)[name])
    for args in arg_sets:
        want = theirs(*to_torch(args))
        _same_float(ours(*args), want, f"{name}{args!r}")
        _same_float(ours.run_reference(*args), want, f"{name}{args!r} (reference)")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_math_unary() -> None:
    _check("unary", *((a,) for a in FLOATS + (0.5, -0.5, 3.0)))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_float_remainder_floordiv_pow() -> None:
    pairs = [(a, b) for a in (2.5, -7.5, 1.0, -1.0, 0.5, -1e-20, 5.0) for b in (2.0, -1.5, 0.1)]
    pairs += [(0.0, 2.0), (-0.0, 3.0)]
    pairs += [(1.0, 0.0), (-1.0, 0.0), (5.0, math.inf), (-5.0, math.inf), (-8.0, 1 / 3)]
    _check("binary", *pairs)


def test_float_divmod_as_torchscript() -> None:
    pairs = [(1.0, 0.1), (-1.0, 0.1), (7.5, -2.0), (-7.5, 2.0), (0.0, -3.0), (-0.0, 2.0)]
    pairs += [(5.0, math.inf), (-5.0, math.inf), (1e300, 1e-300)]
    _check("divmods", *pairs)
    for a, b in pairs:
        _check("divmods_rt", (xjit.tensor([a, b], dtype=xjit.float64),))
    _check("mixed_divmods", (2.5, 7), (-2.0, 7), (0.5, -3))
    ours = xjit.jit.script(load(SRC, xjit)["divmods_rt"])
    with pytest.raises(xjit.jit.Error, match="ZeroDivisionError: float divmod"):
        ours(xjit.tensor([1.0, 0.0], dtype=xjit.float64))


def test_int_promotion_and_int_math() -> None:
    _check("ints", (7, 3), (-7, 3), (7, -2), (0, 5), (2, 1))


def test_float_to_int() -> None:
    _check("to_int", (2.5,), (-2.5,), (1e15 + 0.5,), (-0.0,))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_run_time_values_lower_through_the_numpy_backend() -> None:
    """Scalar arguments are specialised (constants fold while compiling); values read from a
    tensor are not, so these run the lowered scalar ops."""
    rows = [(a, b) for a in (2.5, -7.5, 0.5, -1e-20, math.inf) for b in (2.0, -1.5, 0.1, 0.0)]
    for a, b in rows:
        x = xjit.tensor([a, b], dtype=xjit.float64)
        _check("binary_rt", (x,))
        _check("unary_rt", (x,))
    for a in (2.5, -2.5, 1e15 + 0.5, -0.0):
        _check("to_int_rt", (xjit.tensor([a], dtype=xjit.float64),))
    for n, m in ((7, 3), (-7, 3), (7, -2), (0, 5)):
        _check("ints_rt", (xjit.tensor([n, m]),))
    ours = xjit.jit.script(load(SRC, xjit)["to_int_rt"])
    for bad in (math.inf, 1e300, -1e19, 9.3e18, math.nan):  # outside int64: torch raises too
        with pytest.raises(xjit.jit.Error, match=r"Cannot convert float \? to integer"):
            ours(xjit.tensor([bad], dtype=xjit.float64))
    _check("to_int_rt", (xjit.tensor([-(2.0**63)], dtype=xjit.float64),))


def test_constants_and_control_flow() -> None:
    check_function(SRC, "constants", (xjit.tensor([1.0, -2.0]),))
    check_function(SRC, "in_control_flow", (xjit.tensor([1.0, -2.0]), 0), (xjit.tensor([1.0]), 7))


RAISING = """
import math

def zero_pow(a: float, b: float):
    return a ** b

def floor_inf(a: float):
    return math.floor(a)

def int_of(a: float):
    return int(a)
"""


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("zero_pow", (0.0, -1.0)),
        ("floor_inf", (math.inf,)),
        ("floor_inf", (math.nan,)),
        ("floor_inf", (-math.inf,)),
    ],
)
def test_run_time_errors_as_torchscript(name: str, args: tuple[Any, ...]) -> None:
    """Where TorchScript raises at run time, compiled code raises the same message (a cast of
    inf to int would otherwise give garbage)."""
    theirs = real_torch.jit.script(load(RAISING, real_torch)[name])
    with pytest.raises(RuntimeError) as t:
        theirs(*args)
    want = str(t.value).strip().splitlines()[-1]
    ours = xjit.jit.script(load(RAISING, xjit)[name])
    for run in (ours, ours.run_reference):
        with pytest.raises(xjit.jit.Error) as o:
            run(*args)
        assert str(o.value).endswith(want), (str(o.value), want)
    # and where it does not raise, both agree
    ok = (2.0, -1.0) if name == "zero_pow" else (2.5,)
    assert_same(ours(*ok), theirs(*ok))


def test_int_of_a_non_finite_float_raises() -> None:
    """TorchScript's int(inf) is INT64_MIN, a wrong number: xjit raises instead."""
    assert real_torch.jit.script(load(RAISING, real_torch)["int_of"])(math.inf) == -(2**63)
    ours = xjit.jit.script(load(RAISING, xjit)["int_of"])
    for bad in (math.inf, -math.inf, math.nan):
        with pytest.raises(xjit.jit.Error, match="Cannot convert float .* to integer"):
            ours(bad)
    assert ours(-2.75) == -2


def test_unsupported_math_is_located() -> None:
    src = """
import math

def f(n: int):
    return math.lgamma(n)
"""
    with pytest.raises(xjit.jit.FrontendError, match=r"model_\d+\.py:5:\d+: error: .*math\.lgamma"):
        xjit.jit.script(load(src, xjit)["f"])(3)
