"""`run_interpreted`: numpy in and out, globals, and linalg on memrefs (the buffers stage)."""

from __future__ import annotations

import numpy as np
import pytest
from ir_programs import LINEAR, parse

from xjit.backends.interpreter import run_interpreted
from xjit.dialects import make_context
from xjit.passes.pipelines import TorchToLoops

rng = np.random.default_rng(1)


def test_globals_bound_by_name() -> None:
    x = rng.standard_normal((4, 3)).astype(np.float32)
    W = rng.standard_normal((2, 3)).astype(np.float32)
    (Y,) = run_interpreted(parse(LINEAR), "linear", [x], {"linear.weight": W})
    # `linear.bias` has an initial value in the IR, so it needs no binding.
    np.testing.assert_allclose(Y, x @ W.T + np.array([10.0, 20.0]), rtol=1e-5)


def test_missing_global_is_reported() -> None:
    x = np.zeros((4, 3), np.float32)
    with pytest.raises(KeyError, match="linear.weight"):
        run_interpreted(parse(LINEAR), "linear", [x])


def test_arguments_are_copied_in_and_checked() -> None:
    src = """
func.func @inc(%A: memref<3xi64>) -> memref<3xi64> {
  %c0 = arith.constant 0 : index
  %one = arith.constant 1 : i64
  %a = memref.load %A[%c0] : memref<3xi64>
  %b = arith.addi %a, %one : i64
  memref.store %b, %A[%c0] : memref<3xi64>
  func.return %A : memref<3xi64>
}
"""
    A = np.array([5, 6, 7])
    (B,) = run_interpreted(parse(src), "inc", [A])
    assert B.dtype == np.int64
    np.testing.assert_array_equal(B, [6, 6, 7])
    np.testing.assert_array_equal(A, [5, 6, 7])  # the caller's array is untouched
    with pytest.raises(ValueError, match="does not match"):
        run_interpreted(parse(src), "inc", [np.zeros(4, np.int64)])


def test_scalars_and_bool_results() -> None:
    src = """
func.func @cmp(%A: memref<4xf32>, %t: f32) -> (memref<4xi1>, f32, index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %M = memref.alloc() : memref<4xi1>
  scf.for %i = %c0 to %c4 step %c1 {
    %a = memref.load %A[%i] : memref<4xf32>
    %gt = arith.cmpf ogt, %a, %t : f32
    memref.store %gt, %M[%i] : memref<4xi1>
  }
  %a0 = memref.load %A[%c0] : memref<4xf32>
  %q = arith.divf %a0, %t : f32
  func.return %M, %q, %c4 : memref<4xi1>, f32, index
}
"""
    A = np.array([0.5, -1.0, 3.0, 2.0], np.float32)
    M, q, four = run_interpreted(parse(src), "cmp", [A, 1.5])
    assert M.dtype == np.bool_
    np.testing.assert_array_equal(M, A > 1.5)
    assert q.dtype == np.float32 and q.shape == ()
    np.testing.assert_allclose(q, A[0] / 1.5, rtol=1e-6)
    assert four == 4


# The buffers stage: linalg ops on memrefs, run by xDSL's linalg interpreter plus xjit's fixes.
LINALG = """
func.func @mm_bias(%A: memref<?x4xf32>, %B: memref<4x2xf32>, %b: memref<2xf32>) -> (memref<?x2xf32>, memref<?x2xf32>) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %seven = arith.constant 7.0 : f32
  %n = memref.dim %A, %c0 : memref<?x4xf32>
  %C = memref.alloc(%n) : memref<?x2xf32>
  %D = memref.alloc(%n) : memref<?x2xf32>
  %E = memref.alloc(%n) : memref<?x2xf32>
  linalg.fill ins(%seven : f32) outs(%C : memref<?x2xf32>)
  linalg.fill ins(%zero : f32) outs(%C : memref<?x2xf32>)
  linalg.matmul ins(%A, %B : memref<?x4xf32>, memref<4x2xf32>) outs(%C : memref<?x2xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = [#linalg.iterator_type<parallel>, #linalg.iterator_type<parallel>]} ins(%C, %b : memref<?x2xf32>, memref<2xf32>) outs(%D, %E : memref<?x2xf32>, memref<?x2xf32>) {
  ^bb0(%c: f32, %x: f32, %d: f32, %e: f32):
    %s = arith.addf %c, %x : f32
    %m = arith.maximumf %s, %zero : f32
    linalg.yield %s, %m : f32, f32
  }
  func.return %D, %E : memref<?x2xf32>, memref<?x2xf32>
}
"""


def test_linalg_on_memrefs() -> None:
    A = rng.standard_normal((3, 4)).astype(np.float32)
    B = rng.standard_normal((4, 2)).astype(np.float32)
    b = rng.standard_normal(2).astype(np.float32)
    D, E = run_interpreted(parse(LINALG), "mm_bias", [A, B, b])
    np.testing.assert_allclose(D, A @ B + b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(E, np.maximum(A @ B + b, 0), rtol=1e-5, atol=1e-6)


# torch.aten.nonzero through torch-to-loops: scatter.nonzero stays one op at the loops stage,
# and convert-loop-to-scf lowers it (a count carried through the nest) for the interpreter.
NONZERO = """
func.func @nonzero(%x: !torch.vtensor<[2,3],f32>, %m: !torch.vtensor<[3],i1>, %k: !torch.vtensor<[2,2],si64>) -> (!torch.vtensor<[?,2],si64>, !torch.vtensor<[?,1],si64>, !torch.vtensor<[?,2],si64>) {
  %0 = torch.aten.nonzero %x : !torch.vtensor<[2,3],f32> -> !torch.vtensor<[?,2],si64>
  %1 = torch.aten.nonzero %m : !torch.vtensor<[3],i1> -> !torch.vtensor<[?,1],si64>
  %2 = torch.aten.nonzero %k : !torch.vtensor<[2,2],si64> -> !torch.vtensor<[?,2],si64>
  func.return %0, %1, %2 : !torch.vtensor<[?,2],si64>, !torch.vtensor<[?,1],si64>, !torch.vtensor<[?,2],si64>
}
"""


@pytest.mark.parametrize(
    "x,m,k",
    [
        ([[0.0, 1.5, 0.0], [np.nan, 0.0, -2.0]], [True, False, True], [[0, 3], [-1, 0]]),
        ([[0.0] * 3] * 2, [False] * 3, [[0, 0], [0, 0]]),  # no nonzeros: empty results
        ([[1.0] * 3] * 2, [True] * 3, [[1, 2], [3, 4]]),
    ],
)
def test_nonzero_runs_interpreted(x: list, m: list, k: list) -> None:
    module = parse(NONZERO)
    TorchToLoops().apply(make_context(), module)
    assert any(op.name == "scatter.nonzero" for op in module.walk())
    args = [np.array(x, np.float32), np.array(m, np.bool_), np.array(k, np.int64)]
    got = run_interpreted(module, "nonzero", args)
    for g, a in zip(got, args, strict=True):
        assert g.dtype == np.int64
        np.testing.assert_array_equal(g, np.argwhere(a))  # numpy's argwhere: torch's nonzero
