"""The numpy backend's float32 erf (`rt.erf`, GELU's erf in generated code) against math.erf in
float64, and compiled GELU against PyTorch's and the exact formula."""

from __future__ import annotations

import math

import numpy as np

import xjit
from xjit.backends.numpy import runtime as rt

_ERF64 = np.vectorize(math.erf, otypes=[np.float64])


def _wide_range() -> np.ndarray:
    """Every scale of float32 that matters for erf: a fine grid on [-6, 6] (the approximation's
    interval is [-4, 4]), tiny and huge magnitudes of both signs."""
    mags = np.logspace(-38, 38, 4001)
    return np.concatenate([np.linspace(-6, 6, 120001), mags, -mags]).astype(np.float32)


def test_float32_erf_is_accurate_to_a_few_ulp() -> None:
    x = _wide_range()
    got = rt.erf(x)
    assert got.dtype == np.float32 and got.shape == x.shape
    want = _ERF64(x.astype(np.float64))
    err = np.abs(got.astype(np.float64) - want)
    assert (err / np.abs(want).clip(1e-300)).max() < 5e-7  # relative, down to denormal inputs
    assert (err / np.spacing(np.abs(want).astype(np.float32))).max() < 8  # ulp of the result


def test_float32_erf_special_values_and_scalars() -> None:
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 4.0, -4.0, 100.0], np.float32)
    got = rt.erf(x)
    assert np.isnan(got[0])
    np.testing.assert_array_equal(got[1:], [1, -1, 0, 0, 1, -1, 1])
    assert np.signbit(got[4]) and not np.signbit(got[3])
    s = rt.erf(np.float32(0.5))  # the scalar fallback loops call it on numpy scalars
    assert isinstance(s, np.float32) and s == rt.erf(np.array([0.5], np.float32))[0]
    assert abs(float(s) - math.erf(0.5)) < 1e-7
    d = rt.erf(np.array([0.5, -1.25]))  # float64 keeps the exact series
    assert d.dtype == np.float64
    np.testing.assert_allclose(d, [math.erf(0.5), math.erf(-1.25)], rtol=1e-15)


def test_compiled_gelu_matches_torch_and_the_exact_formula() -> None:
    import torch as pt

    x = np.concatenate([np.linspace(-10, 10, 20001), np.logspace(-20, 1, 500)]).astype(np.float32)
    c = xjit.jit.trace(xjit.nn.functional.gelu, (xjit.from_numpy(x),))
    assert "rt.erf(" in c.source
    got = c(xjit.from_numpy(x)).numpy().astype(np.float64)
    x64 = x.astype(np.float64)
    exact = 0.5 * x64 * (1 + _ERF64(x64 / math.sqrt(2)))
    want = pt.nn.functional.gelu(pt.from_numpy(x)).numpy().astype(np.float64)
    # erf's absolute error e becomes 0.5·|x|·e in gelu: the negative tail, where 1 + erf
    # cancels, is only absolutely accurate (in PyTorch's float32 gelu as well)
    assert np.all(np.abs(got - exact) <= 2e-6 * np.abs(exact) + 3e-7 * np.abs(x64))
    assert np.all(np.abs(got - want) <= 2e-6 * np.abs(want) + 4e-7 * np.abs(x64))
