"""The per-call path of compiled modules (xjit/jit/fastcall.py) and what the numpy backend puts
in the generated module itself (constants, dtypes and views of globals made once; cheap guards;
no deprecated ufunc spellings). Oracles: numpy written here, and the generic call path."""

from __future__ import annotations

import ast
import warnings

import numpy as np
import pytest

import xjit as torch
from xjit.jit import ArgumentError
from xjit.jit.fastcall import make_call


class Pair(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(4, 4)

    def forward(self, x, h):
        y = torch.relu(self.linear(x)) + h
        return y, (y, [torch.tanh(y), x])  # an alias, a nested tuple and list, an argument


def numpy_pair(m: Pair, x: np.ndarray, h: np.ndarray) -> np.ndarray:
    w, b = m.linear.weight.numpy(), m.linear.bias.numpy()
    return np.maximum(x @ w.T + b, 0) + h


@pytest.fixture
def pair():
    torch.manual_seed(3)
    m = Pair()
    x, h = torch.rand(3, 4) - 0.5, torch.rand(3, 4)
    return m, torch.jit.trace(m, (x, h)), (x, h)


def test_fast_call_rebuilds_structure_and_aliases(pair) -> None:
    m, traced, (x, h) = pair
    out = traced(x, h)
    y, (y2, [t, x2]) = out
    assert isinstance(out, tuple) and isinstance(out[1], tuple) and isinstance(out[1][1], list)
    assert y is y2  # one Tensor per distinct array, as the generic path
    assert type(y) is torch.Tensor and type(t) is torch.Tensor
    expect = numpy_pair(m, x.numpy(), h.numpy())
    np.testing.assert_allclose(y.numpy(), expect, rtol=1e-6)
    np.testing.assert_allclose(t.numpy(), np.tanh(expect), rtol=1e-6)
    np.testing.assert_array_equal(x2.numpy(), x.numpy())
    generic = traced.forward(x, h)  # CompiledFunction.__call__: the reference call path
    assert len(generic) == 2 and generic[0] is generic[1][0]
    np.testing.assert_array_equal(generic[1][1][0].numpy(), t.numpy())


def test_fast_call_results_are_fresh_per_call(pair) -> None:
    _, traced, (x, h) = pair
    a = traced(x, h)[0]
    b = traced(x, h)[0]
    assert a.numpy() is not b.numpy() and not np.shares_memory(a.numpy(), b.numpy())


@pytest.mark.parametrize(
    "args, message",
    [
        ((), "expected 2 arguments (x, h), got 0"),
        ((torch.rand(3, 4),) * 3, "expected 2 arguments (x, h), got 3"),
        ((torch.rand(2, 3, 4), torch.rand(3, 4)), "argument 'x' (position 0)"),
        (
            (torch.rand(3, 4), torch.rand(3, 4, dtype=torch.float64)),
            "argument 'h' (position 1) has dtype float64",
        ),
        ((torch.rand(3, 4), [[0.0] * 4] * 3), "argument 'h' (position 1) must be a Tensor"),
    ],
)
def test_fast_call_errors_name_the_argument(pair, args, message) -> None:
    _, traced, _ = pair
    with pytest.raises(ArgumentError) as e:
        traced(*args)
    assert message in str(e.value)


def test_fast_call_source_is_specialised(pair) -> None:
    _, traced, _ = pair
    src = make_call(traced.forward).__xjit_source__
    assert "def call(*args):" in src and "a0, a1 = args" in src
    assert "for " not in src and "isinstance" not in src


def test_generated_guard_accepts_equal_dtype_objects(pair) -> None:
    m, traced, (x, h) = pair
    fn = traced.forward.program["forward"]
    meta = np.dtype(np.float32, metadata={"k": 1})  # equal to float32, not the same object
    hx = np.array(h.numpy(), dtype=meta)
    out = fn(x.numpy(), hx)
    np.testing.assert_allclose(out[0], numpy_pair(m, x.numpy(), h.numpy()), rtol=1e-6)
    from xjit.backends.numpy.runtime import BadArgument

    with pytest.raises(BadArgument, match="argument arg1"):
        fn(x.numpy(), h.numpy().astype(">f4"))  # a different byte order is a different dtype


def test_constants_dtypes_and_global_views_are_module_level(pair) -> None:
    m, traced, (x, h) = pair
    src = traced.forward.source
    body = "\n".join(
        ln
        for ln in src[src.index("def f_forward") :].splitlines()
        if not ln.strip().startswith("#")
    )
    head = src[: src.index("def f_forward")]
    assert "np.float32(" not in body and "np.dtype(" not in body and ".T" not in body
    assert "= g_linear_weight.T" in head and "= np.dtype(np.float32)" in head
    # The view is taken once but still sees in-place updates of the parameter.
    m.linear.weight.numpy()[...] = 0.25
    expect = numpy_pair(m, x.numpy(), h.numpy())
    np.testing.assert_allclose(traced(x, h)[0].numpy(), expect, rtol=1e-6)


def test_no_deprecated_positional_out_for_maximum_and_minimum() -> None:
    def f(x, y):
        return torch.relu(x) + torch.maximum(x, y) - torch.minimum(x, y)

    x, y = torch.rand(64, 64) - 0.5, torch.rand(64, 64) - 0.5
    traced = torch.jit.trace(f, (x, y))
    calls = [
        c
        for c in ast.walk(ast.parse(traced.source))
        if isinstance(c, ast.Call) and ast.unparse(c.func) in ("np.maximum", "np.minimum")
    ]
    assert calls and all(len(c.args) <= 2 for c in calls)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = traced(x, y).numpy()
    a, b = x.numpy(), y.numpy()
    expect = np.maximum(a, 0) + np.maximum(a, b) - np.minimum(a, b)
    np.testing.assert_allclose(out, expect, rtol=1e-6)


def test_traced_module_inside_a_trace_is_still_a_call(pair) -> None:
    m, traced, (x, h) = pair

    def outer(x, h):
        y, _ = traced(x, h)
        return y * 2

    t2 = torch.jit.trace(outer, (x, h))
    np.testing.assert_allclose(t2(x, h).numpy(), 2 * numpy_pair(m, x.numpy(), h.numpy()), rtol=1e-6)
