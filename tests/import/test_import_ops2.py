"""torch.export programs using erf, exact/tanh GELU, rounding, remainders and rounding
divisions: imported with `xjit.from_torch` and compared with PyTorch (values incl. NaN/inf
positions, dtypes); what does not lower yet is refused, never computed wrong."""

from __future__ import annotations

import numpy as np
import torch

import xjit
import xjit.nn.functional  # noqa: F401  (xjit.from_torch is on the package)


class Pointwise(torch.nn.Module):
    def forward(self, x):
        # (torch's erf-GELU kernel gives NaN at +inf where the formula gives inf: kept finite)
        f = x.clamp(-30.0, 30.0)
        a = (
            torch.erf(x)
            + torch.nn.functional.gelu(f)
            + torch.nn.functional.gelu(f, approximate="tanh")
        )
        b = torch.floor(x) + torch.ceil(x) * 2 + torch.round(x) * 3 + torch.trunc(x) * 5
        return a, b, torch.div(x, 0.75, rounding_mode="trunc"), torch.log1p(x.abs()), torch.expm1(x)


class IntDivisions(torch.nn.Module):
    def forward(self, i):
        return (
            i % 3,
            i // -2,
            torch.remainder(i, -4),
            torch.fmod(i, 3),
            torch.div(i, 2, rounding_mode="floor"),
        )


class FloatRemainder(torch.nn.Module):
    def forward(self, x, y):
        return torch.remainder(x, y)


X = torch.tensor([0.5, 1.5, 2.5, -0.5, -1.7, 3.2, -0.0, float("inf"), float("-inf"), float("nan")])
INTS = torch.tensor([7, -7, 5, -5, 0, 9, -1, 12])


def _same(got, want) -> None:
    for g, w in zip(got, want, strict=True):
        g = np.asarray(g.numpy() if hasattr(g, "numpy") else g)
        w = w.numpy()
        assert g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def test_pointwise_ops_import_and_match() -> None:
    m = xjit.from_torch(Pointwise(), (X,))
    text = str(m.graph)
    for op in (
        "torch.aten.erf",
        "torch.aten.gelu",
        'torch.constant.str "tanh"',
        "torch.aten.floor",
    ):
        assert op in text
    _same(m(xjit.from_numpy(X.numpy())), Pointwise()(X))
    x2 = X * -3.1
    _same(m(xjit.from_numpy(x2.numpy())), Pointwise()(x2))


def test_integer_divisions_import_and_match() -> None:
    m = xjit.from_torch(IntDivisions(), (INTS,))
    _same(m(xjit.from_numpy(INTS.numpy())), IntDivisions()(INTS))


def test_float_remainder_imports_and_matches() -> None:
    # compiled through arith.remf (exact C fmod), signs of zeros included
    y = torch.tensor([1.5, -1.5, 0.7, 2.0, 1.5, -0.4, 3.0, 1.0, -2.0, 1.0])
    m = xjit.from_torch(FloatRemainder(), (X, y))
    got = m(xjit.from_numpy(X.numpy()), xjit.from_numpy(y.numpy()))
    got = got[0] if isinstance(got, tuple) else got
    want = FloatRemainder()(X, y).numpy()
    np.testing.assert_array_equal(got.numpy(), want)
    keep = ~np.isnan(want)
    np.testing.assert_array_equal(np.signbit(got.numpy()[keep]), np.signbit(want[keep]))


class EmptyFilled(torch.nn.Module):
    def forward(self, x):
        start = torch.empty(x.size(0), 1, dtype=torch.long).fill_(2)  # the seq2seq tutorial's
        return x + start, torch.empty(2, 3).zero_()


def test_empty_then_fill_imports_and_matches() -> None:
    """aten.empty.memory_format (its contents unspecified) imports as zeros; it was refused as an
    unsupported op. The fill over it decides the values, compared with PyTorch."""
    a = torch.arange(6).reshape(3, 2)
    m = xjit.from_torch(EmptyFilled(), (a,))
    got = m(xjit.from_numpy(a.numpy()))
    want = EmptyFilled()(a)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g.numpy(), w.numpy())
        assert g.numpy().dtype == w.numpy().dtype
