"""`convert-loop-to-scf`: loop-level functions run in xDSL's interpreter against numpy."""

from __future__ import annotations

import numpy as np
import pytest
from ir_programs import parse
from xdsl.dialects import arith, memref, scf
from xdsl.dialects.builtin import ModuleOp

from xjit.backends.interpreter import run_interpreted
from xjit.dialects import make_context
from xjit.passes import get_pass
from xjit.passes.convert_loop_to_scf import ConvertLoopToScf

rng = np.random.default_rng(0)


def lower(module: ModuleOp) -> ModuleOp:
    lowered = module.clone()
    ConvertLoopToScf().apply(make_context(), lowered)
    lowered.verify()
    assert not [op for op in lowered.walk() if op.name.startswith("loop.")]
    return lowered


def for_nest(module: ModuleOp) -> list[list[scf.ForOp]]:
    """For each outermost `scf.for`, the chain of loops nested in it."""
    nests: list[list[scf.ForOp]] = []
    for op in module.walk():
        if isinstance(op, scf.ForOp) and not isinstance(op.parent_op(), scf.ForOp):
            chain = [op]
            while inner := [o for o in chain[-1].body.block.ops if isinstance(o, scf.ForOp)]:
                chain.append(inner[0])
            nests.append(chain)
    return nests


def f32(*shape: int) -> np.ndarray:
    return rng.standard_normal(shape).astype(np.float32)


BROADCAST_ADD = """
func.func @add(%A: memref<3x4xf32>, %b: memref<4xf32>) -> memref<3x4xf32> {
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %C = memref.alloc() : memref<3x4xf32>
  loop.nest (%i, %j) to (%c3, %c4) ["parallel", "parallel"] {
    %a = loop.load %A[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<3x4xf32>
    %x = loop.load %b[%i, %j] affine_map<(d0, d1) -> (d1)> : memref<4xf32>
    %s = arith.addf %a, %x : f32
    loop.store %s, %C[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<3x4xf32>
  }
  func.return %C : memref<3x4xf32>
}
"""


def test_broadcast_add() -> None:
    module = parse(BROADCAST_ADD)
    A, b = f32(3, 4), f32(4)
    (C,) = run_interpreted(module, "add", [A, b])
    assert C.dtype == np.float32 and C.shape == (3, 4)
    np.testing.assert_allclose(C, A + b[None, :], rtol=1e-6)


def test_lowered_ir_shape() -> None:
    lowered = lower(parse(BROADCAST_ADD))
    [nest] = for_nest(lowered)
    # Outermost loop runs over the first dim, from 0 step 1.
    ubs = [loop.ub.owner.value.value.data for loop in nest]
    assert ubs == [3, 4]
    for loop in nest:
        assert loop.lb.owner.value.value.data == 0
        assert loop.step.owner.value.value.data == 1
    inner = nest[-1].body.block
    names = [op.name for op in inner.ops]
    assert names == ["memref.load", "memref.load", "arith.addf", "memref.store", "scf.yield"]
    load_b = list(inner.ops)[1]
    assert isinstance(load_b, memref.LoadOp)
    assert list(load_b.indices) == [nest[1].body.block.args[0]]  # b[j]
    store = list(inner.ops)[3]
    assert list(store.indices) == [nest[0].body.block.args[0], nest[1].body.block.args[0]]


def test_pass_is_registered() -> None:
    assert get_pass("convert-loop-to-scf") is ConvertLoopToScf


TRANSPOSE = """
func.func @t(%A: memref<4x3xf32>) -> memref<3x4xf32> {
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %C = memref.alloc() : memref<3x4xf32>
  loop.nest (%i, %j) to (%c3, %c4) ["parallel", "parallel"] {
    %a = loop.load %A[%i, %j] affine_map<(d0, d1) -> (d1, d0)> : memref<4x3xf32>
    loop.store %a, %C[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<3x4xf32>
  }
  func.return %C : memref<3x4xf32>
}
"""


def test_transposed_load() -> None:
    A = f32(4, 3)
    (C,) = run_interpreted(parse(TRANSPOSE), "t", [A])
    np.testing.assert_array_equal(C, A.T)


ROW_SUM = """
func.func @rowsum(%A: memref<3x5xf32>) -> memref<3xf32> {
  %c3 = arith.constant 3 : index
  %c5 = arith.constant 5 : index
  %zero = arith.constant 0.0 : f32
  %S = memref.alloc() : memref<3xf32>
  loop.nest (%i) to (%c3) ["parallel"] {
    loop.store %zero, %S[%i] affine_map<(d0) -> (d0)> : memref<3xf32>
  }
  loop.nest (%i, %k) to (%c3, %c5) ["parallel", "reduction"] {
    %a = loop.load %A[%i, %k] affine_map<(d0, d1) -> (d0, d1)> : memref<3x5xf32>
    %acc = loop.load %S[%i, %k] affine_map<(d0, d1) -> (d0)> : memref<3xf32>
    %s = arith.addf %acc, %a : f32
    loop.store %s, %S[%i, %k] affine_map<(d0, d1) -> (d0)> : memref<3xf32>
  }
  func.return %S : memref<3xf32>
}
"""


def test_sum_reduction() -> None:
    A = f32(3, 5)
    (S,) = run_interpreted(parse(ROW_SUM), "rowsum", [A])
    np.testing.assert_allclose(S, A.sum(axis=1), rtol=1e-5, atol=1e-6)


MATMUL = """
func.func @mm(%A: memref<3x4xf32>, %B: memref<4x2xf32>) -> memref<3x2xf32> {
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  %C = memref.alloc() : memref<3x2xf32>
  loop.nest (%i, %j) to (%c3, %c2) ["parallel", "parallel"] {
    loop.store %zero, %C[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<3x2xf32>
  }
  loop.nest (%i, %j, %k) to (%c3, %c2, %c4) ["parallel", "parallel", "reduction"] {
    %a = loop.load %A[%i, %j, %k] affine_map<(d0, d1, d2) -> (d0, d2)> : memref<3x4xf32>
    %b = loop.load %B[%i, %j, %k] affine_map<(d0, d1, d2) -> (d2, d1)> : memref<4x2xf32>
    %c = loop.load %C[%i, %j, %k] affine_map<(d0, d1, d2) -> (d0, d1)> : memref<3x2xf32>
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    loop.store %s, %C[%i, %j, %k] affine_map<(d0, d1, d2) -> (d0, d1)> : memref<3x2xf32>
  }
  func.return %C : memref<3x2xf32>
}
"""


def test_matmul() -> None:
    module = parse(MATMUL)
    A, B = f32(3, 4), f32(4, 2)
    (C,) = run_interpreted(module, "mm", [A, B])
    np.testing.assert_allclose(C, A @ B, rtol=1e-5, atol=1e-6)
    # The fill nest and the matmul nest become two separate loop nests of depth 2 and 3.
    assert [len(n) for n in for_nest(lower(module))] == [2, 3]


DYNAMIC = """
func.func @expadd(%A: memref<?x?xf32>, %b: memref<?xf32>) -> memref<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %m = memref.dim %A, %c0 : memref<?x?xf32>
  %n = memref.dim %A, %c1 : memref<?x?xf32>
  %C = memref.alloc(%m, %n) : memref<?x?xf32>
  loop.nest (%i, %j) to (%m, %n) ["parallel", "parallel"] {
    %a = loop.load %A[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<?x?xf32>
    %x = loop.load %b[%i, %j] affine_map<(d0, d1) -> (d0)> : memref<?xf32>
    %e = math.exp %a : f32
    %s = arith.addf %e, %x : f32
    loop.store %s, %C[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<?x?xf32>
  }
  func.return %C : memref<?x?xf32>
}
"""


@pytest.mark.parametrize("shape", [(2, 3), (4, 1), (0, 3)])
def test_dynamic_dims(shape: tuple[int, int]) -> None:
    module = parse(DYNAMIC)
    A, b = f32(*shape), f32(shape[0])
    (C,) = run_interpreted(module, "expadd", [A, b])
    assert C.shape == shape
    np.testing.assert_allclose(C, np.exp(A) + b[:, None], rtol=1e-6)
    # Bounds are the `memref.dim` results, not constants.
    [nest] = for_nest(lower(module))
    assert [type(loop.ub.owner) for loop in nest] == [memref.DimOp, memref.DimOp]


STRIDED = """
func.func @strided(%A: memref<8xf32>) -> memref<2x3xf32> {
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %C = memref.alloc() : memref<2x3xf32>
  loop.nest (%i, %j) to (%c2, %c3) ["parallel", "parallel"] {
    %a = loop.load %A[%i, %j] affine_map<(d0, d1) -> (d0 * 3 + d1 * 2 + 1 - d0)> : memref<8xf32>
    loop.store %a, %C[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<2x3xf32>
  }
  func.return %C : memref<2x3xf32>
}
"""


def test_affine_arithmetic() -> None:
    A = f32(8)
    (C,) = run_interpreted(parse(STRIDED), "strided", [A])
    i, j = np.meshgrid(np.arange(2), np.arange(3), indexing="ij")
    np.testing.assert_array_equal(C, A[2 * i + 2 * j + 1])
    ops = {op.name for op in lower(parse(STRIDED)).walk()}
    assert {"arith.muli", "arith.addi"} <= ops


RESHAPE = """
func.func @reshape(%A: memref<6xf32>) -> memref<6xf32> {
  %c6 = arith.constant 6 : index
  %C = memref.alloc() : memref<6xf32>
  loop.nest (%i) to (%c6) ["parallel"] {
    %a = loop.load %A[%i] affine_map<(d0) -> ((d0 mod 3) * 2 + d0 floordiv 3)> : memref<6xf32>
    loop.store %a, %C[%i] affine_map<(d0) -> (d0)> : memref<6xf32>
  }
  func.return %C : memref<6xf32>
}
"""


def test_floordiv_mod() -> None:
    A = f32(6)
    (C,) = run_interpreted(parse(RESHAPE), "reshape", [A])
    np.testing.assert_array_equal(C, A.reshape(3, 2).T.reshape(6))


def test_mod_of_negative_is_non_negative() -> None:
    # Affine `mod` differs from `arith.remsi` on negative operands: -1 mod 4 == 3.
    src = """
func.func @wrap(%A: memref<4xf32>) -> memref<4xf32> {
  %c4 = arith.constant 4 : index
  %C = memref.alloc() : memref<4xf32>
  loop.nest (%i) to (%c4) ["parallel"] {
    %a = loop.load %A[%i] affine_map<(d0) -> ((d0 - 1) mod 4)> : memref<4xf32>
    loop.store %a, %C[%i] affine_map<(d0) -> (d0)> : memref<4xf32>
  }
  func.return %C : memref<4xf32>
}
"""
    A = f32(4)
    (C,) = run_interpreted(parse(src), "wrap", [A])
    np.testing.assert_array_equal(C, np.roll(A, 1))


def test_unsupported_expr_raises() -> None:
    src = """
func.func @f(%A: memref<4xf32>) {
  %c4 = arith.constant 4 : index
  loop.nest (%i) to (%c4) ["parallel"] {
    %a = loop.load %A[%i] affine_map<(d0) -> (d0 ceildiv 2)> : memref<4xf32>
  }
  func.return
}
"""
    with pytest.raises(NotImplementedError, match="unsupported affine expression"):
        lower(parse(src))


def test_outer_values_as_indices() -> None:
    # Index operands may come from outside the nest, e.g. an enclosing scf.for.
    src = """
func.func @cols(%A: memref<3x4xf32>) -> memref<3x4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %C = memref.alloc() : memref<3x4xf32>
  scf.for %j = %c0 to %c4 step %c1 {
    loop.nest (%i) to (%c3) ["parallel"] {
      %a = loop.load %A[%i, %j] affine_map<(d0, d1) -> (d0, 3 - d1)> : memref<3x4xf32>
      loop.store %a, %C[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<3x4xf32>
    }
  }
  func.return %C : memref<3x4xf32>
}
"""
    A = f32(3, 4)
    (C,) = run_interpreted(parse(src), "cols", [A])
    np.testing.assert_array_equal(C, A[:, ::-1])


def test_zero_dim_nest_and_scalar_result() -> None:
    src = """
func.func @first(%A: memref<3xf64>) -> (memref<f64>, f64) {
  %c2 = arith.constant 2 : index
  %two = arith.constant 2.0 : f64
  %C = memref.alloc() : memref<f64>
  loop.nest () to () [] {
    %a = loop.load %A[%c2] affine_map<(d0) -> (d0)> : memref<3xf64>
    %d = arith.mulf %a, %two : f64
    loop.store %d, %C[] affine_map<() -> ()> : memref<f64>
  }
  func.return %C, %two : memref<f64>, f64
}
"""
    A = rng.standard_normal(3)
    C, two = run_interpreted(parse(src), "first", [A])
    assert C.shape == () and C.dtype == np.float64
    assert C == A[2] * 2
    assert two.dtype == np.float64 and two == 2.0
    assert not [op for op in lower(parse(src)).walk() if isinstance(op, scf.ForOp)]


def test_constants_are_index_typed() -> None:
    lowered = lower(parse(STRIDED))
    consts = [op for op in lowered.walk() if isinstance(op, arith.ConstantOp)]
    assert all(str(c.result.type) == "index" for c in consts)
