"""gelu(approximate='tanh') (issue 3's op list) against the numpy formula
0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))): eager, traced-and-compiled, scripted.

The string argument is a `torch.constant.str "tanh"` (`!torch.str`) in the torch dialect, read as
a Python constant by the shape rule and the linalg lowering.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import xjit as torch
import xjit.nn.functional as F


def gelu_tanh(a: np.ndarray) -> np.ndarray:
    a = a.astype(np.float64)
    return 0.5 * a * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (a + 0.044715 * a**3)))


def gelu_erf(a: np.ndarray) -> np.ndarray:
    a = a.astype(np.float64)
    return 0.5 * a * (1.0 + np.vectorize(math.erf, otypes=[np.float64])(a / math.sqrt(2.0)))


def sample() -> torch.Tensor:
    torch.manual_seed(0)
    return torch.rand(3, 5) * 8 - 4  # [-4, 4): where the two formulas differ by up to ~1e-3


def test_the_formulas_differ_on_the_sample() -> None:
    """So that an erf gelu could never pass for the tanh one below."""
    a = sample().numpy()
    assert np.abs(gelu_tanh(a) - gelu_erf(a)).max() > 1e-4


def test_gelu_none_is_the_erf_formula() -> None:
    x = sample()
    np.testing.assert_allclose(F.gelu(x).numpy(), gelu_erf(x.numpy()), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        torch.nn.GELU()(x).numpy(), gelu_erf(x.numpy()), rtol=1e-5, atol=1e-6
    )


def test_functional_gelu_tanh_eager() -> None:
    x = sample()
    np.testing.assert_allclose(
        F.gelu(x, approximate="tanh").numpy(), gelu_tanh(x.numpy()), rtol=1e-5, atol=1e-6
    )


def test_module_gelu_tanh_eager_traced_scripted() -> None:
    x = sample()
    m = torch.nn.GELU(approximate="tanh")
    assert repr(m) == "GELU(approximate='tanh')"
    want = gelu_tanh(x.numpy())
    np.testing.assert_allclose(m(x).numpy(), want, rtol=1e-5, atol=1e-6)
    traced = torch.jit.trace(m, (x,))
    np.testing.assert_allclose(traced(x).numpy(), want, rtol=1e-5, atol=1e-6)
    scripted = torch.jit.script(m)
    np.testing.assert_allclose(scripted(x).numpy(), want, rtol=1e-5, atol=1e-6)


def test_gelu_tanh_ir_round_trips_and_saves(tmp_path) -> None:
    x = sample()
    traced = torch.jit.trace(torch.nn.GELU(approximate="tanh"), (x,))
    assert 'torch.constant.str "tanh"' in str(traced.graph)
    traced.save(str(tmp_path / "g.xjit"))
    loaded = torch.jit.load(str(tmp_path / "g.xjit"))
    np.testing.assert_allclose(loaded(x).numpy(), gelu_tanh(x.numpy()), rtol=1e-5, atol=1e-6)


def test_gelu_bad_approximate_is_refused() -> None:
    with pytest.raises(ValueError, match="approximate argument must be either none or tanh"):
        F.gelu(sample(), approximate="erf")
