"""The eager fast path (xjit/_dispatch.py runners, xjit/ops/eager_kernels.py kernels) against
PyTorch: dtypes, 0-d tensors, Python scalars, broadcasting and its errors, warm caches, and
tracing after the caches are warm."""

from __future__ import annotations

import inspect
import operator
import warnings
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xjit
from xjit import _dispatch

DTYPES = ["float32", "float64", "int32", "int64", "bool"]
SHAPES = [(), (3,), (2, 3), (1, 3), (2, 1)]

BINARY: dict[str, Any] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "add": lambda m, x, y: m.add(x, y),
    "add alpha": lambda m, x, y: m.add(x, y, alpha=2),
    "sub": lambda m, x, y: m.sub(x, y),
    "mul": lambda m, x, y: m.mul(x, y),
    "maximum": lambda m, x, y: m.maximum(x, y),
    "where": lambda m, x, y: m.where(x > 0, x, y),
}
UNARY = ["tanh", "exp", "neg", "abs", "relu", "sigmoid", "sqrt", "sin", "floor", "logical_not"]


def _values(dtype: str, shape: tuple[int, ...], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(shape) * 4
    if dtype == "bool":
        return np.asarray(v > 0)
    if dtype.startswith("int"):
        return np.asarray(np.round(v), dtype=dtype)
    return np.asarray(v, dtype=dtype)


def _operand(kind: Any, seed: int) -> tuple[Any, Any]:
    """(xjit value, torch value) for an operand: a tensor (dtype, shape) or a Python scalar."""
    if isinstance(kind, tuple):
        a = _values(*kind, seed)
        return xjit.from_numpy(a.copy()), torch.from_numpy(a.copy())
    return kind, kind


def _run(f: Any, *args: Any) -> tuple[Any, BaseException | None]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # IEEE results must be silent
            return f(*args), None
    except (TypeError, ValueError, RuntimeError, ZeroDivisionError) as e:
        return None, e


def _agree(got: Any, want: Any, what: str) -> None:
    assert isinstance(got, xjit.Tensor), what
    w = want.numpy()
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1], what
    assert got.shape == tuple(w.shape), what
    g = got.numpy()
    if w.dtype.kind == "f":
        tol = 1e-6 if w.dtype == np.float64 else 2e-6
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol, equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(g, w, err_msg=what)


def _check(fx: Any, ft: Any, xs: list[Any], ts: list[Any], what: str) -> None:
    want, terr = _run(ft, *ts)
    for attempt in ("first", "cached"):  # the first call builds and checks the kernel
        got, xerr = _run(fx, *xs)
        if terr is not None:
            assert xerr is not None, f"{what}: torch raises {terr!r}, xjit gave {got!r}"
            continue
        assert xerr is None, f"{what} ({attempt}): xjit raises {xerr!r}, torch does not"
        _agree(got, want, f"{what} ({attempt})")


_OPERAND = st.one_of(
    st.tuples(st.sampled_from(DTYPES), st.sampled_from(SHAPES)),
    st.sampled_from([True, False, 0, 3, -2, 0.5, -1.25, 2.0]),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    op=st.sampled_from(sorted(BINARY)),
    lhs=st.tuples(st.sampled_from(DTYPES), st.sampled_from(SHAPES)),
    rhs=_OPERAND,
    swap=st.booleans(),
    seed=st.integers(0, 3),
)
def test_binary_matches_torch(op: str, lhs: Any, rhs: Any, swap: bool, seed: int) -> None:
    (xa, ta), (xb, tb) = _operand(lhs, seed), _operand(rhs, seed + 7)
    if swap:
        (xa, ta), (xb, tb) = (xb, tb), (xa, ta)
    f = BINARY[op]
    if op[0].isalpha():
        if not isinstance(xa, xjit.Tensor):
            return  # torch.add(2, t) is not a call either library takes
        _check(lambda a, b: f(xjit, a, b), lambda a, b: f(torch, a, b), [xa, xb], [ta, tb], op)
    else:
        _check(f, f, [xa, xb], [ta, tb], f"{lhs} {op} {rhs} swap={swap}")


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from(UNARY),
    kind=st.tuples(st.sampled_from(DTYPES), st.sampled_from(SHAPES)),
    seed=st.integers(0, 3),
)
def test_unary_matches_torch(name: str, kind: Any, seed: int) -> None:
    (x, t) = _operand(kind, seed)
    _check(getattr(xjit, name), getattr(torch, name), [x], [t], f"{name}{kind}")


def test_zero_dim_and_scalar_promotion_by_hand() -> None:
    # A 0-d tensor of a higher category wins; of the same category it does not (torch rules).
    f32 = xjit.ones(2)
    assert (f32 + xjit.tensor(2.0, dtype=xjit.float64)).dtype == xjit.float32
    assert (xjit.ones(2, dtype=xjit.int32) + xjit.tensor(2.5)).dtype == xjit.float32
    assert (xjit.ones(2, dtype=xjit.int32) + xjit.tensor(2)).dtype == xjit.int32
    both = xjit.tensor(1.0) + xjit.tensor(2.0, dtype=xjit.float64)
    assert both.dtype == xjit.float64 and both.shape == ()
    assert float(both) == 3.0


def test_same_call_site_with_other_dtypes_is_not_stale() -> None:
    # The runner for (Tensor, Tensor) is shared by all dtypes: each dtype pair gets its kernel.
    a32, a64 = xjit.ones(2), xjit.ones(2, dtype=xjit.float64)
    i64 = xjit.tensor([1, 2])
    for _ in range(2):
        assert (a32 + a32).dtype == xjit.float32
        assert (a32 + a64).dtype == xjit.float64
        assert (i64 + i64).dtype == xjit.int64
        np.testing.assert_array_equal((i64 / i64).numpy(), np.array([1.0, 1.0], np.float32))
        assert (i64 + a32).dtype == xjit.float32


def test_broadcast_error_after_warm_cache() -> None:
    x, y = xjit.ones(3, 4), xjit.ones(3, 4)
    x + y
    x + y
    with pytest.raises((ValueError, RuntimeError)):
        x + xjit.ones(3)


def test_parameter_operands_use_the_fast_path_correctly() -> None:
    p = xjit.nn.Parameter(xjit.tensor([1.0, 2.0]))
    x = xjit.tensor([3.0, 4.0])
    for _ in range(2):
        np.testing.assert_array_equal((p + x).numpy(), [4.0, 6.0])
        np.testing.assert_array_equal((x - p).numpy(), [2.0, 2.0])
        np.testing.assert_array_equal((p * p).numpy(), [1.0, 4.0])


def test_tracing_after_warm_caches_records_every_op() -> None:
    def f(x: Any, h: Any) -> Any:
        y = (x + h) * 2.0 - h / (x * x + 1.0)
        return xjit.tanh(y) + (y > 0)

    x, h = xjit.randn(3, 4), xjit.randn(3, 4)
    for _ in range(3):
        eager = f(x, h)  # warm every runner and kernel this function uses
    traced = xjit.jit.trace(f, (x, h))
    x2, h2 = xjit.randn(3, 4), xjit.randn(3, 4)  # other values: a frozen result would differ
    np.testing.assert_allclose(traced(x2, h2).numpy(), f(x2, h2).numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(traced(x, h).numpy(), eager.numpy(), rtol=1e-6, atol=1e-6)
    graph = traced.graph
    for op in ("add.Tensor", "mul.Scalar", "sub.Tensor", "div.Tensor", "tanh", "gt.Scalar"):
        assert f"torch.aten.{op} " in graph, op


def test_recorded_locations_name_the_user_line() -> None:
    # The runners are generated code: the tracer must still locate ops at the user's line.
    def f(x: Any) -> Any:
        return xjit.tanh(x + x)  # the line the generated code must name

    x = xjit.randn(2)
    f(x)
    f(x)
    lines, start = inspect.getsourcelines(f)
    line = start + next(i for i, t in enumerate(lines) if "the line the" in t)
    source = xjit.jit.trace(f, (x,)).source
    assert f"test_eager_fast_path.py:{line}" in source, source


def test_runners_are_cached_per_argument_types() -> None:
    x = xjit.ones(2)
    xjit.add(x, 1)
    xjit.add(x, 1.5)
    assert ("add", xjit.Tensor, int) in _dispatch._runners
    assert ("add", xjit.Tensor, float) in _dispatch._runners


@pytest.mark.parametrize(
    "call",
    [
        lambda m, x: m.sum(x, dim=1),  # an int given by keyword for an int[] argument
        lambda m, x: x.sum(dim=0, keepdim=True),
        lambda m, x: m.mean(x, 1),  # ... and by position
        lambda m, x: m.amax(x, dim=-1),
        lambda m, x: m.add(x, x, alpha=3),
        lambda m, x: m.softmax(x, dim=1),
    ],
)
def test_keyword_and_int_list_arguments_match_torch(call: Any) -> None:
    a = _values("float32", (2, 3), 0)
    want = call(torch, torch.from_numpy(a.copy()))
    for _ in range(2):  # the runner is built, then reused
        _agree(call(xjit, xjit.from_numpy(a.copy())), want, "keyword/int[] call")
