"""Rounding, remainders and rounding divisions (issue 12 item 10, issue 13's erf), each against
real PyTorch: values including NaN/inf positions and the sign of zeros, and dtypes; eager,
traced (compiled by the numpy backend) and scripted. What does not lower yet must refuse."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch as pt
from torch_oracle import assert_same

import xjit

# Halves, signed zeros, infinities and NaN: the values where rounding rules differ.
F = np.array(
    [0.5, 1.5, 2.5, -0.5, -1.5, -2.7, 3.2, -0.0, 0.0, np.inf, -np.inf, np.nan], dtype=np.float32
)
# Divisor for F: signs on both sides, zero, infinities.
D = np.array(
    [3.0, -3.0, 0.7, 2.0, -0.4, 0.0, np.inf, -np.inf, 1.0, 2.0, -2.0, 1.0], dtype=np.float32
)
INTS = np.array([7, -7, 5, -5, 0, 9, -1, 12], dtype=np.int64)


def same(got: Any, want: Any, what: str) -> None:
    assert_same(got, want, what)
    g = got.numpy() if isinstance(got, xjit.Tensor) else got
    w = want.numpy()
    keep = ~np.isnan(w) if w.dtype.kind == "f" else np.ones(w.shape, bool)  # NaN's sign: free
    np.testing.assert_array_equal(
        np.signbit(g[keep]), np.signbit(w[keep]), err_msg=f"{what}: sign of zero"
    )


def run(fn: Any, *arrays: np.ndarray, lower: bool = True) -> None:
    """fn(T, ...) under xjit eager (and traced + compiled) equals fn under torch."""
    want = fn(pt, *[pt.from_numpy(a.copy()) for a in arrays])
    same(fn(xjit, *[xjit.from_numpy(a.copy()) for a in arrays]), want, "eager")
    if lower:
        xs = tuple(xjit.from_numpy(a.copy()) for a in arrays)
        traced = xjit.jit.trace(lambda *args: fn(xjit, *args), xs)
        same(traced(*[xjit.from_numpy(a.copy()) for a in arrays]), want, "traced")


UNARY = [
    lambda T, x: T.floor(x),
    lambda T, x: T.ceil(x),
    lambda T, x: T.round(x),  # halves to even
    lambda T, x: T.trunc(x),
    lambda T, x: x.frac(),
    lambda T, x: T.erf(x),
    lambda T, x: T.log1p(x),
    lambda T, x: T.expm1(x),
    lambda T, x: T.sign(x),
    lambda T, x: T.reciprocal(x),
    lambda T, x: T.abs(x),
    lambda T, x: (
        T.div(x, 2.0, rounding_mode="trunc") if T is pt else T.trunc(x / 2.0)
    ),  # (rounding_mode: see test_div_rounding_modes)
]


@pytest.mark.parametrize("fn", UNARY)
def test_unary_float(fn: Any) -> None:
    run(fn, F)
    run(fn, F.astype(np.float64))


@pytest.mark.parametrize(
    "fn",
    [
        lambda T, x: T.floor(x),
        lambda T, x: T.ceil(x),
        lambda T, x: T.round(x),
        lambda T, x: T.trunc(x),
        lambda T, x: T.sign(x),
        lambda T, x: T.abs(x),
        lambda T, x: T.erf(x),  # int -> float
        lambda T, x: T.log1p(T.abs(x)),
        lambda T, x: T.reciprocal(x),
    ],
)
def test_unary_int_keeps_or_promotes_dtype(fn: Any) -> None:
    run(fn, INTS)


def test_rounding_of_big_int64_is_exact() -> None:
    a = np.array([2**62 + 1, -(2**62) - 3], dtype=np.int64)
    run(lambda T, x: T.floor(x) + T.round(x) - T.trunc(x), a)


def test_frac_of_int_is_refused_like_torch() -> None:
    with pytest.raises(NotImplementedError, match="frac_cpu"):
        xjit.frac(xjit.from_numpy(INTS))


BINARY_FLOAT = [
    lambda T, x, y: T.fmod(x, y),
    lambda T, x, y: T.remainder(x, y),
    lambda T, x, y: x % y,
    lambda T, x, y: x // y,
    lambda T, x, y: T.floor_divide(x, y),
    lambda T, x, y: T.fmod(x, -1.5),
    lambda T, x, y: x % 2.5,
    lambda T, x, y: x // -0.5,
    lambda T, x, y: 2.0 % y,
]


@pytest.mark.parametrize("fn", BINARY_FLOAT)
def test_remainders_float(fn: Any) -> None:
    """Eager and compiled (exact C fmod: `arith.remf`, xjit/dialects/arith_ext.py)."""
    run(fn, F, D)
    run(fn, F.astype(np.float64), D.astype(np.float64))


@pytest.mark.parametrize(
    "fn",
    [
        lambda T, x: x % 3,
        lambda T, x: x % -3,
        lambda T, x: T.remainder(x, 4),
        lambda T, x: T.fmod(x, -3),
        lambda T, x: x // 2,
        lambda T, x: x // -4,
        lambda T, x: T.floor_divide(x, 3),
    ],
)
def test_remainders_int_constant_divisor_lower(fn: Any) -> None:
    run(fn, INTS)


def test_int_division_by_zero_raises_eagerly_and_when_compiled() -> None:
    x = xjit.from_numpy(INTS)
    y = xjit.from_numpy(np.flip(INTS).copy())  # holds a zero
    with pytest.raises(ZeroDivisionError):
        xjit.remainder(x, y)
    with pytest.raises(ZeroDivisionError):
        x // 0
    nonzero = xjit.from_numpy(INTS + 100)
    traced = xjit.jit.trace(lambda a, b: a % b, (x, nonzero))  # the divisor checked at run time
    want = pt.from_numpy(INTS) % pt.from_numpy(INTS + 100)
    np.testing.assert_array_equal(traced(x, nonzero).numpy(), want.numpy())
    with pytest.raises(
        ValueError, match=r"test_api_ops2.py:\d+ \(remainder.Tensor\): ZeroDivisionError"
    ):
        traced(x, y)
    # tensor int % tensor int without zeros still runs eagerly, as torch
    for f in (lambda T, a, b: a % b, lambda T, a, b: T.fmod(a, b), lambda T, a, b: a // b):
        run(f, INTS, INTS + 100, lower=False)


class _Scripted(xjit.nn.Module):
    def forward(self, x, i):
        a = xjit.floor(x) + xjit.ceil(x) * 2.0 + xjit.round(x) * 3.0 + xjit.trunc(x) * 5.0
        b = xjit.erf(x) + xjit.log1p(xjit.abs(x)) + xjit.expm1(x) + x.frac() + xjit.sign(x)
        return a, b, i % 3, i // -2, xjit.fmod(i, 4)


def _torch_scripted() -> Any:
    class M(pt.nn.Module):
        def forward(self, x, i):
            a = pt.floor(x) + pt.ceil(x) * 2.0 + pt.round(x) * 3.0 + pt.trunc(x) * 5.0
            b = pt.erf(x) + pt.log1p(pt.abs(x)) + pt.expm1(x) + x.frac() + pt.sign(x)
            return a, b, i % 3, i // -2, pt.fmod(i, 4)

    return pt.jit.script(M())


def test_scripted_against_torchscript() -> None:
    x = F[np.isfinite(F)]
    want = _torch_scripted()(pt.from_numpy(x.copy()), pt.from_numpy(INTS.copy()))
    got = xjit.jit.script(_Scripted())(xjit.from_numpy(x.copy()), xjit.from_numpy(INTS.copy()))
    for k, (g, w) in enumerate(zip(got, want, strict=True)):
        same(g, w, f"scripted[{k}]")


@pytest.mark.parametrize("mode", [None, "trunc", "floor"])
def test_div_rounding_modes(mode: Any) -> None:
    run(lambda T, x, y: T.div(x, y, rounding_mode=mode), F, D)
    run(lambda T, x, y: x.div(-0.75, rounding_mode=mode), F, D)
    run(lambda T, x: T.div(x, -2, rounding_mode=mode), INTS)  # int stays int unless None
    run(lambda T, x: T.div(x, 3, rounding_mode=mode), INTS.astype(np.int32))


def test_div_bad_rounding_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="rounding_mode to be one of None, 'trunc', or 'floor'"):
        xjit.div(xjit.from_numpy(F), 2.0, rounding_mode="round")


class _ScriptedModes(xjit.nn.Module):
    def forward(self, x, i):
        a = xjit.div(x, 0.75, rounding_mode="trunc")
        b = xjit.div(i, -2, rounding_mode="floor")
        return a, b, xjit.nn.functional.gelu(x, approximate="tanh")


def test_scripted_string_arguments_against_torchscript() -> None:
    class M(pt.nn.Module):
        def forward(self, x, i):
            a = pt.div(x, 0.75, rounding_mode="trunc")
            b = pt.div(i, -2, rounding_mode="floor")
            return a, b, pt.nn.functional.gelu(x, approximate="tanh")

    x = F[np.isfinite(F)]
    want = pt.jit.script(M())(pt.from_numpy(x.copy()), pt.from_numpy(INTS.copy()))
    s = xjit.jit.script(_ScriptedModes())
    assert "torch.constant.str" in str(s.graph)
    got = s(xjit.from_numpy(x.copy()), xjit.from_numpy(INTS.copy()))
    for k, (g, w) in enumerate(zip(got, want, strict=True)):
        same(g, w, f"scripted[{k}]")


# -- logsumexp and the evaluation losses ----------------------------------------------------------
LOGITS = np.random.default_rng(3).standard_normal((4, 5)).astype(np.float32) * 4
TARGETS = np.array([1, 0, 4, -100], dtype=np.int64)  # -100: ignore_index


@pytest.mark.parametrize(
    "fn",
    [
        lambda T, x: T.logsumexp(x, 1),
        lambda T, x: T.logsumexp(x, [0, 1], keepdim=True),
        lambda T, x: x.logsumexp(0),
        lambda T, x: T.logsumexp(T.where(x > 3, float("-inf"), x), 1),  # -inf entries
    ],
)
def test_logsumexp(fn: Any) -> None:
    run(fn, LOGITS)
    run(fn, LOGITS.astype(np.float64))


def test_logsumexp_of_an_all_minus_inf_row() -> None:
    a = LOGITS.copy()
    a[2] = -np.inf
    run(lambda T, x: T.logsumexp(x, 1), a)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_and_nll_loss(reduction: str) -> None:
    def ce(T, x, t):
        return T.nn.functional.cross_entropy(x, t, reduction=reduction)

    def nll(T, x, t):
        return T.nn.functional.nll_loss(T.log_softmax(x, 1), t, reduction=reduction)

    def nll_ignore(T, x, t):
        return T.nn.functional.nll_loss(x, t, ignore_index=0, reduction=reduction)

    for fn in (ce, nll):
        run(fn, LOGITS, TARGETS)
    run(nll_ignore, LOGITS, np.array([1, 0, 4, 2], dtype=np.int64))


def test_nll_loss_refusals() -> None:
    x, t = xjit.from_numpy(LOGITS), xjit.from_numpy(TARGETS)
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        xjit.nn.functional.nll_loss(x, t, reduction="avg")
    bad = xjit.from_numpy(np.array([1, 0, 5, 2]))
    with pytest.raises(IndexError, match="out of bounds"):
        xjit.nn.functional.nll_loss(x, bad)
    # compiled: no run-time error path, so NaN rather than a plausible loss
    traced = xjit.jit.trace(lambda a, b: xjit.nn.functional.nll_loss(a, b), (x, t))
    assert np.isnan(traced(x, bad).numpy())


class _ScriptedLosses(xjit.nn.Module):
    def forward(self, x, t):
        a = xjit.nn.functional.nll_loss(xjit.log_softmax(x, 1), t, reduction="sum")
        return a, xjit.logsumexp(x, 1)


def test_scripted_losses_against_torchscript() -> None:
    class M(pt.nn.Module):
        def forward(self, x, t):
            a = pt.nn.functional.nll_loss(pt.log_softmax(x, 1), t, reduction="sum")
            return a, pt.logsumexp(x, 1)

    args = (LOGITS, TARGETS)
    want = pt.jit.script(M())(*[pt.from_numpy(a.copy()) for a in args])
    got = xjit.jit.script(_ScriptedLosses())(*[xjit.from_numpy(a.copy()) for a in args])
    for k, (g, w) in enumerate(zip(got, want, strict=True)):
        same(g, w, f"scripted[{k}]")
