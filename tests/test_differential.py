"""Differential testing (issue 4, "Correctness"): random programs built from registry ops, traced,
compiled and compared with eager; and the pipeline run stage by stage on them, each stage
verifying and computing the same as eager (torch-level reference interpreter on the torch
stages, the numpy backend on the loops stage, xDSL's interpreter on its convert-loop-to-scf
output for small shapes).

A program is a list of steps applied to a running value `v`, starting from input `x`, reading the
other inputs `y` (a shape that broadcasts against `x`: full, a row, a column, a vector, a
scalar) and `w` (a matrix for `matmul`). Steps are drawn from what is legal for `v`'s current
dtype and shape, which the generator tracks by running the steps eagerly as it draws them.
Shapes include 0 and 1; dtypes f32, f64, i64 and bool. Each example is also called on inputs
with another leading size (automatic dynamic shapes, docs/shapes.md).

Profiles: `HYPOTHESIS_PROFILE=ci` (the default here) keeps the file well under a minute on two
cores; `HYPOTHESIS_PROFILE=thorough` runs many more examples.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xjit as torch
from xjit.jit.compiled import ArgumentError
from xjit.ops.types import ShapeError

settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough", max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

F32, F64, I64, BOOL = np.float32, np.float64, np.int64, np.bool_
SIZES = st.sampled_from([0, 1, 2, 3, 5])


def _array(data: st.DataObject, shape: tuple[int, ...], dt: Any) -> np.ndarray:
    seed = data.draw(st.integers(0, 2**16), label="seed")
    rng = np.random.default_rng(seed)
    return _random(rng, shape, np.dtype(dt))


def _random(rng: np.random.Generator, shape: Any, dt: np.dtype) -> np.ndarray:
    if dt == BOOL:
        return np.asarray(rng.random(shape) > 0.5)
    if dt == I64:
        return np.asarray(rng.integers(-3, 4, shape), dtype=I64)
    return np.asarray(rng.standard_normal(shape), dtype=dt)


# -- steps: (name, legal(v), apply(v, y, w)) ------------------------------------------------------


def _float(v: Any) -> bool:
    return v.dtype.is_floating_point


def _num(v: Any) -> bool:
    return v.dtype != torch.bool


Step = tuple[str, Callable[[Any, Any, Any], bool], Callable[[Any, Any, Any], Any]]

STEPS: list[Step] = [
    ("neg", lambda v, y, w: _num(v), lambda v, y, w: torch.neg(v)),
    ("abs", lambda v, y, w: _num(v), lambda v, y, w: torch.abs(v)),
    ("tanh", lambda v, y, w: _float(v), lambda v, y, w: torch.tanh(v)),
    ("sigmoid", lambda v, y, w: _float(v), lambda v, y, w: torch.sigmoid(v)),
    ("relu", lambda v, y, w: _num(v), lambda v, y, w: torch.relu(v)),
    ("exp∘tanh", lambda v, y, w: _float(v), lambda v, y, w: torch.exp(torch.tanh(v))),
    ("sin", lambda v, y, w: _float(v), lambda v, y, w: torch.sin(v)),
    ("not", lambda v, y, w: v.dtype == torch.bool, lambda v, y, w: torch.logical_not(v)),
    ("gt0", lambda v, y, w: _num(v), lambda v, y, w: v > 0),
    ("add y", lambda v, y, w: _num(v) and _num(y), lambda v, y, w: v + y),
    ("sub y", lambda v, y, w: _num(v) and _num(y), lambda v, y, w: v - y),
    ("mul y", lambda v, y, w: True, lambda v, y, w: v * y),
    ("max y", lambda v, y, w: _num(v) and _num(y), lambda v, y, w: torch.maximum(v, y)),
    ("min y", lambda v, y, w: _num(v) and _num(y), lambda v, y, w: torch.minimum(v, y)),
    ("y + v", lambda v, y, w: _num(v) and _num(y), lambda v, y, w: y + v),
    ("+ 2", lambda v, y, w: _num(v), lambda v, y, w: v + 2),
    ("* 0.5", lambda v, y, w: _num(v), lambda v, y, w: v * 0.5),
    ("- 1.5", lambda v, y, w: _num(v), lambda v, y, w: 1.5 - v),
    ("where", lambda v, y, w: _num(v) and _num(y), lambda v, y, w: torch.where(v > 0, v, y)),
    ("sum", lambda v, y, w: _num(v), lambda v, y, w: v.sum()),
    (
        "sum(0, keepdim)",
        lambda v, y, w: _num(v) and v.dim() >= 1,
        lambda v, y, w: v.sum(0, keepdim=True),
    ),
    ("sum(-1)", lambda v, y, w: _num(v) and v.dim() >= 1, lambda v, y, w: v.sum(-1)),
    (
        "mean(-1, keepdim)",
        lambda v, y, w: _float(v) and v.dim() >= 1 and v.shape[-1] > 0,
        lambda v, y, w: v.mean(-1, keepdim=True),
    ),
    (
        "amax(0)",
        lambda v, y, w: _num(v) and v.dim() >= 1 and v.shape[0] > 0,
        lambda v, y, w: v.amax(0),
    ),
    (
        "matmul w",
        lambda v, y, w: (
            _float(v) and v.dim() == 2 and v.dtype == w.dtype and v.shape[1] == w.shape[0]
        ),
        lambda v, y, w: torch.matmul(v, w),
    ),
    ("t", lambda v, y, w: v.dim() == 2, lambda v, y, w: v.t()),
    ("unsqueeze(0)", lambda v, y, w: v.dim() <= 2, lambda v, y, w: v.unsqueeze(0)),
]


def _broadcast_ok(v: Any, y: Any) -> bool:
    try:
        np.broadcast_shapes(tuple(v.shape), tuple(y.shape))
        return True
    except ValueError:
        return False


@st.composite
def programs(draw: Any) -> tuple[list[str], list[np.ndarray]]:
    data = draw(st.data())
    a, b, k = draw(SIZES), draw(SIZES), draw(SIZES)
    dx = draw(st.sampled_from([F32, F32, F64, I64, BOOL]))
    dy = draw(st.sampled_from([F32, F64, I64, BOOL]))
    yshape = draw(st.sampled_from([(a, b), (1, b), (b,), (a, 1), ()]))
    wdt = dx if dx in (F32, F64) else F32
    arrays = [_array(data, (a, b), dx), _array(data, yshape, dy), _array(data, (b, k), wdt)]
    x, y, w = (torch.from_numpy(arr) for arr in arrays)
    names: list[str] = []
    v = x
    for _ in range(draw(st.integers(1, 5))):
        legal = [
            s
            for s in STEPS
            if s[1](v, y, w)
            and (
                not s[0].endswith(" y")
                and s[0] != "y + v"
                and s[0] != "where"
                or _broadcast_ok(v, y)
            )
        ]
        name, _, fn = draw(st.sampled_from(legal))
        v = fn(v, y, w)
        names.append(name)
    return names, arrays


def make_fn(names: list[str]) -> Callable[..., Any]:
    table = {s[0]: s[2] for s in STEPS}

    def program(x: Any, y: Any, w: Any) -> Any:
        v = x
        for n in names:
            v = table[n](v, y, w)
        return v

    return program


def assert_same(got: np.ndarray, want: np.ndarray, what: str) -> None:
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} != {want.dtype}"
    # f64 results of f32 inputs: the xDSL interpreter keeps f32 intermediates in double
    tol = 1e-4 if want.dtype == np.float32 else 1e-6
    if want.dtype.kind == "f":
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol, equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


def _relaunch(arrays: list[np.ndarray]) -> list[np.ndarray]:
    """The same kinds of inputs with another leading size of x (and y where it has that dim)."""
    a = arrays[0].shape[0]
    n = 7 if a != 7 else 4
    out = []
    for i, arr in enumerate(arrays):
        shape = list(arr.shape)
        if i < 2 and arr.ndim == 2 and shape[0] == a and (i == 0 or a != 1):
            shape[0] = n
        out.append(_random(np.random.default_rng(i), tuple(shape), arr.dtype))
    return out


@given(programs())
def test_compiled_matches_eager(prog: tuple[list[str], list[np.ndarray]]) -> None:
    names, arrays = prog
    fn = make_fn(names)
    inputs = [torch.from_numpy(a) for a in arrays]
    compiled = torch.jit.trace(fn, inputs)
    what = " -> ".join(names) + f" on {[(a.shape, a.dtype.name) for a in arrays]}"
    assert_same(compiled(*inputs).numpy(), fn(*inputs).numpy(), what)
    other = [torch.from_numpy(a) for a in _relaunch(arrays)]
    try:
        want = fn(*other).numpy()
    except ShapeError:
        # Eager rejects the other size (a matmul after `t` whose sizes matched only at the traced
        # size): the compiled call must reject it too, never return numbers.
        with pytest.raises((ShapeError, ArgumentError)):
            compiled(*other)
        return
    assert_same(compiled(*other).numpy(), want, what + " (relaunched with another size)")


@given(programs())
def test_every_stage_verifies_and_computes_the_same(
    prog: tuple[list[str], list[np.ndarray]],
) -> None:
    """Generic pass test: after each stage of the pipeline the module verifies (run_passes) and,
    where something can execute that stage, it computes what eager computes."""
    from xjit.backends.interpreter import run_interpreted
    from xjit.backends.numpy import compile_module
    from xjit.dialects import make_context
    from xjit.frontends.torch_interpreter import run_torch
    from xjit.passes.pipelines import TORCH_TO_LOOPS_STAGES, run_passes

    names, arrays = prog
    fn = make_fn(names)
    inputs = [torch.from_numpy(a) for a in arrays]
    want = fn(*inputs).numpy()
    compiled = torch.jit.trace(fn, inputs)
    name = compiled.name
    what = " -> ".join(names) + f" on {[(a.shape, a.dtype.name) for a in arrays]}"
    module = compiled.torch_ir.clone()
    ctx = make_context()
    (inlined_stage, inline_passes), *lowering = TORCH_TO_LOOPS_STAGES
    assert inlined_stage == "inlined"
    run_passes(ctx, module, inline_passes)
    (got,) = run_torch(module, name, arrays)
    assert_same(got, want, what + " [torch]")
    for stage, passes in lowering:
        run_passes(ctx, module, passes)  # verifies after each pass
        if stage == "decomposed":
            (got,) = run_torch(module, name, arrays)
            assert_same(got, want, what + " [decomposed]")
    (got,) = compile_module(module)[name](*arrays)
    assert_same(got, want, what + " [loops, numpy backend]")
    if sum(a.size for a in arrays) <= 40:
        (got,) = run_interpreted(module, name, arrays)
        got = np.asarray(got)
        if want.dtype == np.bool_:
            got = got.astype(np.bool_)
        assert_same(got, want, what + " [scf, xDSL interpreter]")


@pytest.mark.parametrize(
    "names",
    [
        ["add y", "tanh", "sum(-1)"],
        ["matmul w", "relu", "t"],
        ["gt0", "not", "mul y"],
        ["mean(-1, keepdim)", "sub y"],
    ],
)
def test_fixed_programs(names: list[str]) -> None:
    """A few hand-picked programs, so a failure has a short reproduction."""
    rng = np.random.default_rng(0)
    arrays = [
        rng.standard_normal((3, 4)).astype(F32),
        rng.standard_normal((4,)).astype(F32),
        rng.standard_normal((4, 2)).astype(F32),
    ]
    fn = make_fn(names)
    inputs = [torch.from_numpy(a) for a in arrays]
    assert_same(torch.jit.trace(fn, inputs)(*inputs).numpy(), fn(*inputs).numpy(), str(names))
