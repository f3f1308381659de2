"""Call-time argument checks of compiled modules, the same for a traced module, a scripted one
and both loaded from an archive: a wrong count, rank, shape or dtype, a non-tensor (a numpy
array, a real torch.Tensor, a list, None) where a tensor is expected, and keyword arguments
(bound by name as torch binds them; an unknown or repeated name refused) each raise an
ArgumentError (a TypeError) naming the argument and what was expected, and run nothing."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch as real_torch
from models import MyCell

import xjit
from xjit.jit import ArgumentError


def _reload(m: Any) -> Any:
    buf = io.BytesIO()
    m.save(buf)
    buf.seek(0)
    return xjit.jit.load(buf)


@pytest.fixture(scope="module")
def cell() -> MyCell:
    xjit.manual_seed(0)
    return MyCell()


@pytest.fixture(scope="module", params=["trace", "script", "loaded trace", "loaded script"])
def compiled(request: Any, cell: MyCell) -> Any:
    x, h = xjit.rand(3, 4), xjit.rand(3, 4)
    kind = request.param
    m = xjit.jit.trace(cell, (x, h)) if "trace" in kind else xjit.jit.script(cell)
    m = _reload(m) if kind.startswith("loaded") else m
    m.kind = kind  # for the tests that differ between traced and scripted modules
    return m


def expected(cell: MyCell, x: Any, h: Any) -> np.ndarray:
    """The oracle: MyCell's forward in real PyTorch, with the same weights."""
    lin = real_torch.nn.Linear(4, 4)
    with real_torch.no_grad():
        lin.weight.copy_(real_torch.from_numpy(cell.linear.weight.numpy()))
        lin.bias.copy_(real_torch.from_numpy(cell.linear.bias.numpy()))
        xt, ht = real_torch.from_numpy(x.numpy()), real_torch.from_numpy(h.numpy())
        return real_torch.tanh(lin(xt) + ht).numpy()


def first(out: Any) -> np.ndarray:
    return (out[0] if isinstance(out, tuple) else out).numpy()


def test_keyword_arguments_are_bound_by_name(compiled: Any, cell: MyCell) -> None:
    x, h = xjit.rand(3, 4), xjit.rand(3, 4)
    want = expected(cell, x, h)
    for call in (
        lambda: compiled(x=x, h=h),
        lambda: compiled(h=h, x=x),
        lambda: compiled(x, h=h),
    ):
        np.testing.assert_allclose(first(call()), want, rtol=1e-6, atol=1e-6)


def test_torch_binds_a_traced_modules_keywords_too() -> None:
    # The behaviour above is torch's: a traced module's forward takes its arguments by name.
    class Cell(real_torch.nn.Module):
        def forward(self, x: real_torch.Tensor, h: real_torch.Tensor) -> real_torch.Tensor:
            return x - h

    x, h = real_torch.rand(2), real_torch.rand(2)
    traced = real_torch.jit.trace(Cell(), (x, h))
    real_torch.testing.assert_close(traced(h=h, x=x), x - h)
    with pytest.raises(RuntimeError, match="argument 'h'"):
        traced(x, hh=h)


Call = Callable[[Any, Any, Any], Any]
X = (3, 4)

# (what, call(m, x, h), fragments of the message: the argument and what was expected)
BAD_CALLS: list[tuple[str, Call, tuple[str, ...]]] = [
    ("one argument", lambda m, x, h: m(x), ("'h'",)),
    ("three arguments", lambda m, x, h: m(x, h, h), ("2 arguments", "x, h", "got 3")),
    ("unknown keyword", lambda m, x, h: m(x, hh=h), ("'hh'", "x, h")),
    ("repeated keyword", lambda m, x, h: m(x, h, x=x), ("multiple values", "'x'")),
    ("rank", lambda m, x, h: m(xjit.rand(3, 4, 1), h), ("'x'", "[3, 4, 1]")),
    ("shape", lambda m, x, h: m(x, xjit.rand(3, 5)), ("'h'", "[3, 5]")),
    ("empty", lambda m, x, h: m(xjit.rand(0, 4), h), ("'x'", "[0, 4]")),
    ("scalar tensor", lambda m, x, h: m(x, xjit.tensor(1.0)), ("'h'", "[]")),
    ("float64", lambda m, x, h: m(x.double(), h), ("'x'", "float64", "float32")),
    ("int64", lambda m, x, h: m(x, xjit.ones(*X, dtype=xjit.int64)), ("'h'", "int64")),
    ("bool", lambda m, x, h: m(xjit.ones(*X, dtype=xjit.bool), h), ("'x'", "bool")),
    ("numpy array", lambda m, x, h: m(np.ones(X, np.float32), h), ("'x'", "numpy.ndarray")),
    ("torch tensor", lambda m, x, h: m(x, real_torch.ones(X)), ("'h'", "torch.Tensor")),
    ("str", lambda m, x, h: m("x", h), ("'x'", "str")),
    ("float", lambda m, x, h: m(x, 1.5), ("'h'", "float")),
]


# A scripted module is generic over shapes and dtypes, as in TorchScript: these calls are valid
# there (`h` broadcasts, an int tensor promotes), and must give torch's result.
SCRIPT_ACCEPTS = {"scalar tensor", "int64"}


@pytest.mark.parametrize("what,call,fragments", BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
def test_bad_calls_name_the_argument(
    compiled: Any, cell: MyCell, what: str, call: Call, fragments: Any
) -> None:
    x, h = xjit.rand(*X), xjit.rand(*X)
    if "script" in compiled.kind and what in SCRIPT_ACCEPTS:
        got = first(call(compiled, x, h))
        h2 = call(lambda a, b: b, x, h)  # the `h` this call passes
        want = expected(cell, x, h2.float())
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
        return
    with pytest.raises(ArgumentError) as info:
        call(compiled, x, h)
    assert isinstance(info.value, TypeError)
    for f in fragments:
        assert f in str(info.value), f"{what}: {info.value}"


def test_traced_nested_arguments_refuse_keywords() -> None:
    def f(pair: tuple[Any, Any]) -> Any:
        return pair[0] + pair[1]

    a = xjit.rand(2)
    traced = xjit.jit.trace(f, ((a, a),))
    np.testing.assert_array_equal(traced((a, a)).numpy(), a.numpy() * 2)
    with pytest.raises(ArgumentError, match="positionally.*'pair'"):
        traced(pair=(a, a))
