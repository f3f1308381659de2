"""0-d buffers only read as scalars (a reduction's result compared for a branch) are numpy
scalars in variables: `r0 = np.add.reduce(...)`, `r1 = r0 > k`. Checked against numpy written
here (both branches, NaN and ±0 sums), the xDSL interpreter on the loops stage, and for the
snapshot semantics of `memref.load` when the buffer is written again."""

from __future__ import annotations

import numpy as np
import pytest
from models import MyDecisionGate, MyGatedCell
from xdsl.dialects import func
from xdsl.parser import Parser

import xjit as torch
from xjit.backends.numpy import compile_module
from xjit.dialects import make_context
from xjit.jit import script


def _ref(x: np.ndarray, h: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    y = x @ W.T + b
    return np.tanh((y if y.sum() > 0 else -y) + h)


@pytest.fixture(scope="module")
def cell():
    torch.manual_seed(4)
    m = MyGatedCell(script(MyDecisionGate()))
    return m, torch.jit.trace(m, (torch.rand(3, 4), torch.rand(3, 4)))


def test_gate_sum_and_compare_are_scalars(cell) -> None:
    _, c = cell
    src = c.forward.source
    assert "np.empty(()" not in src and "[()]" not in src  # no 0-d arrays
    assert " = np.add.reduce(" in src and " > _k" in src and "np.greater" not in src


def test_both_branches_nan_and_zero_match_numpy_and_interpreter(cell) -> None:
    m, c = cell
    W, b = m.linear.weight.numpy(), m.linear.bias.numpy()
    rng = np.random.default_rng(1)
    from xjit.backends import interpreter

    module = Parser(make_context(), c.forward.stages()["loops"]).parse_module()
    (fn,) = [
        op.sym_name.data
        for op in module.ops
        if isinstance(op, func.FuncOp) and not op.is_declaration
    ]
    cases = [rng.standard_normal((3, 4)).astype(np.float32) + s for s in (3, -3)]
    nan = rng.standard_normal((3, 4)).astype(np.float32)
    nan[1, 1] = np.nan  # NaN > 0 is false: the else branch, as numpy's `if`
    zero = np.zeros((3, 4), np.float32)  # with b folded in by a weight of zero below
    for x in [*cases, nan]:
        h = rng.standard_normal((3, 4)).astype(np.float32)
        got, got2 = (t.numpy() for t in c(torch.from_numpy(x), torch.from_numpy(h)))
        np.testing.assert_allclose(got, _ref(x, h, W, b), rtol=1e-5, atol=1e-6)
        ref, _ = interpreter.run_interpreted(
            module, fn, [x, h], {"linear.weight": W, "linear.bias": b}
        )
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
    got, _ = (t.numpy() for t in c(torch.from_numpy(zero), torch.from_numpy(zero)))
    np.testing.assert_allclose(got, _ref(zero, zero, W, b), rtol=1e-5, atol=1e-6)


SNAPSHOT = """
func.func @f(%A: memref<4xf32>, %B: memref<4xf32>) -> (f32, f32, memref<4xf32>) {
  %c4 = arith.constant 4 : index
  %z = arith.constant 0.0 : f32
  %r = memref.alloc() : memref<f32>
  loop.nest () to () [] {
    loop.store %z, %r[] affine_map<() -> ()> : memref<f32>
  }
  loop.nest (%i) to (%c4) ["reduction"] {
    %a = loop.load %A[%i] affine_map<(d0) -> (d0)> : memref<4xf32>
    %acc = loop.load %r[%i] affine_map<(d0) -> ()> : memref<f32>
    %s = arith.addf %a, %acc : f32
    loop.store %s, %r[%i] affine_map<(d0) -> ()> : memref<f32>
  }
  %first = memref.load %r[] : memref<f32>
  loop.nest (%i) to (%c4) ["reduction"] {
    %a = loop.load %B[%i] affine_map<(d0) -> (d0)> : memref<4xf32>
    %acc = loop.load %r[%i] affine_map<(d0) -> ()> : memref<f32>
    %s = arith.addf %a, %acc : f32
    loop.store %s, %r[%i] affine_map<(d0) -> ()> : memref<f32>
  }
  %second = memref.load %r[] : memref<f32>
  %out = memref.alloc() : memref<4xf32>
  loop.nest (%i) to (%c4) ["parallel"] {
    %a = loop.load %A[%i] affine_map<(d0) -> (d0)> : memref<4xf32>
    %rr = loop.load %r[%i] affine_map<(d0) -> ()> : memref<f32>
    %m = arith.mulf %a, %rr : f32
    loop.store %m, %out[%i] affine_map<(d0) -> (d0)> : memref<4xf32>
  }
  func.return %first, %second, %out : f32, f32, memref<4xf32>
}
"""


def test_load_is_a_snapshot_and_nests_read_the_scalar() -> None:
    module = Parser(make_context(), SNAPSHOT).parse_module()
    module.verify()
    prog = compile_module(module)
    assert "np.empty(()" not in prog.source
    A = np.array([1, 2, 3, 4], np.float32)
    B = np.array([10, 20, 30, 40], np.float32)
    first, second, out = prog["f"](A, B)
    assert first == 10 and second == 110
    np.testing.assert_allclose(out, A * 110)
    from xjit.backends import interpreter

    f2, s2, o2 = interpreter.run_interpreted(
        Parser(make_context(), SNAPSHOT).parse_module(), "f", [A, B]
    )
    assert f2 == first and s2 == second
    np.testing.assert_allclose(o2, out)
