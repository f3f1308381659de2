"""`convert-linalg-to-loop`: linalg on memrefs -> `loop.nest`.

Each case is hand-written linalg-on-tensors IR taken through `bufferize` and
`convert-linalg-to-loop` (verified after each), checked for structure and run against numpy:
in xDSL's interpreter (`run_interpreted`, through `convert-loop-to-scf`) and, when it is
available, with the numpy backend.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pytest
from ir_programs import parse
from xdsl.dialects import arith, memref
from xdsl.dialects.builtin import ModuleOp
from xdsl.utils.exceptions import PassFailedException

from xjit.backends.interpreter import run_interpreted
from xjit.dialects import make_context
from xjit.dialects.loop import LoadOp, NestOp, StoreOp
from xjit.passes import get_pass
from xjit.passes.bufferize import Bufferize
from xjit.passes.convert_linalg_to_loop import ConvertLinalgToLoop

rng = np.random.default_rng(1)


def to_loops(src: str) -> ModuleOp:
    module = parse(src)
    Bufferize().apply(make_context(), module)
    module.verify()
    ConvertLinalgToLoop().apply(make_context(), module)
    module.verify()
    return module


def nests(module: ModuleOp) -> list[NestOp]:
    return [op for op in module.walk() if isinstance(op, NestOp)]


def assert_loops_stage(module: ModuleOp) -> None:
    """No linalg/copy left; nest bodies hold only loop.load/store, arith and math."""
    for op in module.walk():
        assert not op.name.startswith("linalg."), op.name
        assert not isinstance(op, memref.CopyOp)
    for nest in nests(module):
        for op in nest.body.block.ops:
            assert op.name.startswith(("loop.", "arith.", "math.")), op.name


def numpy_backend() -> Callable[..., object] | None:
    """`xjit.backends.numpy.compile_module`, if that backend exists yet."""
    try:
        from xjit.backends.numpy import compile_module  # type: ignore[attr-defined]
    except ImportError:
        return None
    return compile_module


def check_numerics(
    module: ModuleOp,
    name: str,
    args: Sequence[np.ndarray],
    expected: Sequence[np.ndarray],
    globals: dict[str, np.ndarray] | None = None,
) -> None:
    results = run_interpreted(module, name, args, globals)
    for got, want in zip(results, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    compile_module = numpy_backend()
    if compile_module is not None:
        outs = compile_module(module, globals or {})[name](*args)  # type: ignore[index]
        outs = outs if isinstance(outs, tuple) else (outs,)
        for got, want in zip(outs, expected, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def f32(*shape: int) -> np.ndarray:
    return rng.standard_normal(shape).astype(np.float32)


BIAS_ADD = """
func.func @bias_add(%x: tensor<3x4xf32>, %b: tensor<4xf32>) -> tensor<3x4xf32> {
  %e = tensor.empty() : tensor<3x4xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>,
                                        affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x, %b : tensor<3x4xf32>, tensor<4xf32>) outs(%e : tensor<3x4xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %s = arith.addf %a, %c : f32
    linalg.yield %s : f32
  } -> tensor<3x4xf32>
  func.return %r : tensor<3x4xf32>
}
"""


def test_elementwise_with_broadcast_map():
    module = to_loops(BIAS_ADD)
    assert_loops_stage(module)
    (nest,) = nests(module)
    assert nest.iterator_kinds == ("parallel", "parallel")
    # Static bounds: index constants defined before the nest.
    assert [b.owner.value.value.data for b in nest.bounds] == [3, 4]  # type: ignore[union-attr]
    assert all(b.owner.is_before_in_block(nest) for b in nest.bounds)  # type: ignore[union-attr]
    loads = [op for op in nest.body.block.ops if isinstance(op, LoadOp)]
    assert [str(op.map.data) for op in loads] == ["(d0, d1) -> (d0, d1)", "(d0, d1) -> (d1)"]
    # The unused `outs` argument is not loaded.
    assert len(loads) == 2
    x, b = f32(3, 4), f32(4)
    check_numerics(module, "bias_add", [x, b], [x + b])


LINEAR = """
ml_program.global private @w : tensor<3x5xf32>
func.func @linear(%x: tensor<2x3xf32>) -> tensor<2x5xf32> {
  %w = ml_program.global_load_const @w : tensor<3x5xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x5xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<2x5xf32>) -> tensor<2x5xf32>
  %y = linalg.matmul ins(%x, %w : tensor<2x3xf32>, tensor<3x5xf32>) outs(%acc : tensor<2x5xf32>) -> tensor<2x5xf32>
  func.return %y : tensor<2x5xf32>
}
"""


def test_fill_matmul_with_global():
    module = to_loops(LINEAR)
    assert_loops_stage(module)
    fill, matmul = nests(module)
    assert fill.iterator_kinds == ("parallel", "parallel")
    (store,) = [op for op in fill.body.block.ops if isinstance(op, StoreOp)]
    assert isinstance(store.value.owner, arith.ConstantOp)  # the scalar, stored as it is
    assert matmul.iterator_kinds == ("parallel", "parallel", "reduction")
    body = [op.name for op in matmul.body.block.ops]
    assert body == ["loop.load"] * 3 + ["arith.mulf", "arith.addf", "loop.store", "loop.yield"]
    loads = [op for op in matmul.body.block.ops if isinstance(op, LoadOp)]
    assert [str(op.map.data) for op in loads] == [
        "(d0, d1, d2) -> (d0, d2)",
        "(d0, d1, d2) -> (d2, d1)",
        "(d0, d1, d2) -> (d0, d1)",
    ]
    assert isinstance(loads[1].memref.owner, memref.GetGlobalOp)
    x, w = f32(2, 3), f32(3, 5)
    check_numerics(module, "linear", [x], [x @ w], {"w": w})


INT_MATMUL = """
func.func @imm(%a: tensor<2x3xi64>, %b: tensor<3x2xi64>, %c: tensor<2x2xi64>) -> tensor<2x2xi64> {
  %y = linalg.matmul ins(%a, %b : tensor<2x3xi64>, tensor<3x2xi64>) outs(%c : tensor<2x2xi64>) -> tensor<2x2xi64>
  func.return %y : tensor<2x2xi64>
}
"""


def test_integer_matmul_accumulates_into_a_copy_of_the_argument():
    module = to_loops(INT_MATMUL)
    assert_loops_stage(module)
    copy, matmul = nests(module)  # `outs` is an argument: copied first, then accumulated into
    assert copy.iterator_kinds == ("parallel", "parallel")
    assert [op.name for op in matmul.body.block.ops][3:5] == ["arith.muli", "arith.addi"]
    a = rng.integers(-5, 5, (2, 3))
    b = rng.integers(-5, 5, (3, 2))
    c = rng.integers(-5, 5, (2, 2))
    check_numerics(module, "imm", [a, b, c], [c + a @ b])


ROW_SUM = """
func.func @row_sum(%x: tensor<3x4xf32>) -> tensor<3xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<3xf32>) -> tensor<3xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                       iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<3x4xf32>) outs(%init : tensor<3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %s = arith.addf %o, %a : f32
    linalg.yield %s : f32
  } -> tensor<3xf32>
  func.return %r : tensor<3xf32>
}
"""


def test_reduction_generic_loads_its_accumulator():
    module = to_loops(ROW_SUM)
    assert_loops_stage(module)
    _, reduce = nests(module)
    assert reduce.iterator_kinds == ("parallel", "reduction")
    (acc_load,) = [
        op
        for op in reduce.body.block.ops
        if isinstance(op, LoadOp) and op.memref.type.get_num_dims() == 1
    ]
    (store,) = [op for op in reduce.body.block.ops if isinstance(op, StoreOp)]
    assert acc_load.memref is store.memref and str(store.map.data) == "(d0, d1) -> (d0)"
    x = f32(3, 4)
    check_numerics(module, "row_sum", [x], [x.sum(axis=1)])


DYNAMIC = """
func.func @dyn(%x: tensor<?x4xf32>, %y: tensor<?x4xf32>) -> (tensor<4x?xf32>, tensor<?x4xf32>) {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?x4xf32>
  %et = tensor.empty(%n) : tensor<4x?xf32>
  %t = linalg.transpose ins(%x : tensor<?x4xf32>) outs(%et : tensor<4x?xf32>) permutation = [1, 0]
  %e = tensor.empty(%n) : tensor<?x4xf32>
  %m = linalg.mul ins(%x, %y : tensor<?x4xf32>, tensor<?x4xf32>) outs(%e : tensor<?x4xf32>) -> tensor<?x4xf32>
  func.return %t, %m : tensor<4x?xf32>, tensor<?x4xf32>
}
"""


def test_dynamic_bounds_and_transpose():
    module = to_loops(DYNAMIC)
    assert_loops_stage(module)
    transpose, mul = nests(module)
    # The transpose's loops run over the output: 4 (static) then `memref.dim %x, 0`.
    static, dynamic = transpose.bounds
    assert isinstance(static.owner, arith.ConstantOp)
    assert isinstance(dynamic.owner, memref.DimOp)
    assert dynamic.owner.source.name_hint == "x"
    (load,) = [op for op in transpose.body.block.ops if isinstance(op, LoadOp)]
    assert str(load.map.data) == "(d0, d1) -> (d1, d0)"
    assert isinstance(mul.bounds[0].owner, memref.DimOp)
    x, y = f32(3, 4), f32(3, 4)
    check_numerics(module, "dyn", [x, y], [x.T, x * y])


BROADCAST_REDUCE_INDEX = """
func.func @misc(%x: tensor<4xf32>) -> (tensor<3x4xf32>, tensor<3xf32>, tensor<2x3xi64>) {
  %e = tensor.empty() : tensor<3x4xf32>
  %b = linalg.broadcast ins(%x : tensor<4xf32>) outs(%e : tensor<3x4xf32>) dimensions = [0]
  %ninf = arith.constant -1.0e30 : f32
  %e1 = tensor.empty() : tensor<3xf32>
  %init = linalg.fill ins(%ninf : f32) outs(%e1 : tensor<3xf32>) -> tensor<3xf32>
  %r = linalg.reduce ins(%b : tensor<3x4xf32>) outs(%init : tensor<3xf32>) dimensions = [1]
    (%in: f32, %acc: f32) {
      %s = arith.maximumf %in, %acc : f32
      linalg.yield %s : f32
    }
  %e2 = tensor.empty() : tensor<2x3xi64>
  %i = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      outs(%e2 : tensor<2x3xi64>) {
  ^bb0(%o: i64):
    %i0 = linalg.index 0 : index
    %i1 = linalg.index 1 : index
    %c10 = arith.constant 10 : index
    %m = arith.muli %i0, %c10 : index
    %s = arith.addi %m, %i1 : index
    %v = arith.index_cast %s : index to i64
    linalg.yield %v : i64
  } -> tensor<2x3xi64>
  func.return %b, %r, %i : tensor<3x4xf32>, tensor<3xf32>, tensor<2x3xi64>
}
"""


def test_broadcast_reduce_and_index():
    module = to_loops(BROADCAST_REDUCE_INDEX)
    assert_loops_stage(module)
    broadcast, _, reduce, index = nests(module)
    assert broadcast.iterator_kinds == ("parallel", "parallel")
    assert reduce.iterator_kinds == ("parallel", "reduction")
    # linalg.index became the induction variables.
    muli = next(op for op in index.body.block.ops if isinstance(op, arith.MuliOp))
    assert muli.lhs is index.ivs[0]
    x = f32(4)
    expected_index = np.array([[0, 1, 2], [10, 11, 12]], dtype=np.int64)
    # run_interpreted has no linalg.broadcast/reduce, but at the loops stage there are none.
    check_numerics(
        module, "misc", [x], [np.broadcast_to(x, (3, 4)), np.full(3, x.max()), expected_index]
    )


def test_memref_copy_becomes_a_parallel_nest():
    module = parse(
        "func.func @cp(%a: memref<?x3xf32>, %b: memref<?x3xf32>) -> memref<?x3xf32> {\n"
        '  "memref.copy"(%a, %b) : (memref<?x3xf32>, memref<?x3xf32>) -> ()\n'
        "  func.return %b : memref<?x3xf32>\n}\n"
    )
    ConvertLinalgToLoop().apply(make_context(), module)
    module.verify()
    assert_loops_stage(module)
    (nest,) = nests(module)
    assert nest.iterator_kinds == ("parallel", "parallel")
    assert [op.name for op in nest.body.block.ops] == ["loop.load", "loop.store", "loop.yield"]
    a = f32(2, 3)
    (b,) = run_interpreted(module, "cp", [a, np.zeros((2, 3), np.float32)])
    np.testing.assert_array_equal(b, a)


def test_registered_under_its_flag():
    assert get_pass("convert-linalg-to-loop") is ConvertLinalgToLoop


def test_tensor_semantics_is_rejected():
    module = parse(BIAS_ADD)
    with pytest.raises(PassFailedException, match="linalg.generic.*bufferize"):
        ConvertLinalgToLoop().apply(make_context(), module)


def test_unsupported_linalg_op_is_named():
    module = parse(
        "func.func @pool(%x: memref<1x1x4x4xf32>, %k: memref<2x2xf32>, %y: memref<1x1x3x3xf32>) {\n"
        "  linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, "
        "strides = dense<1> : tensor<2xi64>}\n"
        "      ins(%x, %k : memref<1x1x4x4xf32>, memref<2x2xf32>) outs(%y : memref<1x1x3x3xf32>)\n"
        "  func.return\n}\n"
    )
    with pytest.raises(PassFailedException, match="linalg.pooling_nchw_max"):
        ConvertLinalgToLoop().apply(make_context(), module)
