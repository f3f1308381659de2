"""`bufferize`: linalg on tensors -> linalg on memrefs.

Structure (types, in-place decisions, no writes to arguments or globals, no casts left) and
numerics: the bufferized function runs in xDSL's interpreter (`run_interpreted`, buffers stage)
against numpy.
"""

from __future__ import annotations

import numpy as np
import pytest
from ir_programs import parse
from xdsl.dialects import func, memref
from xdsl.dialects.builtin import (
    MemRefType,
    ModuleOp,
    TensorType,
    UnitAttr,
    UnrealizedConversionCastOp,
)
from xdsl.dialects.linalg import ops as linalg
from xdsl.dialects.linalg.abstract_ops import LinalgStructuredOperation
from xdsl.ir import BlockArgument, Operation, SSAValue
from xdsl.utils.exceptions import PassFailedException

from xjit.backends.interpreter import run_interpreted
from xjit.dialects import make_context
from xjit.passes import get_pass
from xjit.passes.bufferize import Bufferize

rng = np.random.default_rng(0)


def bufferize(src: str) -> ModuleOp:
    module = parse(src)
    Bufferize().apply(make_context(), module)
    module.verify()
    return module


def f32(*shape: int) -> np.ndarray:
    return rng.standard_normal(shape).astype(np.float32)


def ops_named(module: ModuleOp, name: str) -> list[Operation]:
    return [op for op in module.walk() if op.name == name]


def written(module: ModuleOp) -> list[SSAValue]:
    """Every buffer some op writes: linalg `outs`, `memref.copy` destinations."""
    values: list[SSAValue] = []
    for op in module.walk():
        if isinstance(op, LinalgStructuredOperation):
            values += op.outputs
        elif isinstance(op, linalg.BroadcastOp | linalg.ReduceOp):
            values.append(op.init)
        elif isinstance(op, memref.CopyOp):
            values.append(op.destination)
    return values


def assert_buffers_stage(module: ModuleOp) -> None:
    """The buffers-stage contract: no tensors, no casts, arguments and globals never written."""
    for op in module.walk():
        assert not isinstance(op, UnrealizedConversionCastOp)
        types = (*op.operand_types, *op.result_types)
        assert not any(isinstance(t, TensorType) for t in types), op.name
    for value in written(module):
        assert not isinstance(value, BlockArgument), "a function argument is written"
        assert not isinstance(value.owner, memref.GetGlobalOp), "a global is written"


BIAS_ADD = """
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>
func.func @bias_add(%x: tensor<3x4xf32>, %b: tensor<4xf32>) -> tensor<3x4xf32> {
  %e = tensor.empty() : tensor<3x4xf32>
  %r = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %b : tensor<3x4xf32>, tensor<4xf32>) outs(%e : tensor<3x4xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %s = arith.addf %a, %c : f32
    linalg.yield %s : f32
  } -> tensor<3x4xf32>
  func.return %r : tensor<3x4xf32>
}
"""


def test_signature_and_in_place_into_empty():
    module = bufferize(BIAS_ADD)
    assert_buffers_stage(module)
    (f,) = ops_named(module, "func.func")
    assert isinstance(f, func.FuncOp)
    assert [str(t) for t in f.function_type.inputs] == ["memref<3x4xf32>", "memref<4xf32>"]
    assert [str(t) for t in f.function_type.outputs] == ["memref<3x4xf32>"]
    (alloc,) = ops_named(module, "memref.alloc")
    (generic,) = ops_named(module, "linalg.generic")
    assert isinstance(generic, linalg.GenericOp)
    assert not generic.results and generic.outputs[0] is alloc.results[0]
    assert not ops_named(module, "memref.copy")
    x, b = f32(3, 4), f32(4)
    (r,) = run_interpreted(module, "bias_add", [x, b])
    np.testing.assert_allclose(r, x + b, rtol=1e-6)


MATMUL_GLOBAL = """
ml_program.global private @w : tensor<3x5xf32>
func.func @linear(%x: tensor<2x3xf32>) -> (tensor<2x5xf32>, tensor<3x5xf32>) {
  %w = ml_program.global_load_const @w : tensor<3x5xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x5xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<2x5xf32>) -> tensor<2x5xf32>
  %y = linalg.matmul ins(%x, %w : tensor<2x3xf32>, tensor<3x5xf32>) outs(%acc : tensor<2x5xf32>) -> tensor<2x5xf32>
  func.return %y, %w : tensor<2x5xf32>, tensor<3x5xf32>
}
"""


def test_fill_matmul_and_global():
    module = bufferize(MATMUL_GLOBAL)
    assert_buffers_stage(module)
    (glob,) = ops_named(module, "memref.global")
    assert isinstance(glob, memref.GlobalOp)
    assert glob.sym_name.data == "w" and glob.sym_visibility.data == "private"
    assert glob.constant is not None and isinstance(glob.initial_value, UnitAttr)
    assert glob.type == MemRefType(glob.type.element_type, [3, 5])
    (get,) = ops_named(module, "memref.get_global")
    # fill and matmul share the one allocation: both write in place.
    (alloc,) = ops_named(module, "memref.alloc")
    fill, matmul = ops_named(module, "linalg.fill")[0], ops_named(module, "linalg.matmul")[0]
    assert isinstance(fill, linalg.FillOp) and isinstance(matmul, linalg.MatmulOp)
    assert fill.outputs[0] is alloc.results[0] and matmul.outputs[0] is alloc.results[0]
    assert matmul.inputs[1] is get.results[0]
    # The global is returned directly (aliasing is the caller's business).
    ret = ops_named(module, "func.return")[0]
    assert ret.operands[1] is get.results[0]
    x, w = f32(2, 3), f32(3, 5)
    y, w_out = run_interpreted(module, "linear", [x], {"w": w})
    np.testing.assert_allclose(y, x @ w, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(w_out, w)


# `outs` is an argument: it must be copied, never written. Sum over dim 1.
ROW_SUM_INTO_ARG = """
func.func @row_sum(%x: tensor<3x4xf32>, %init: tensor<3xf32>) -> tensor<3xf32> {
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


def test_argument_outs_is_copied():
    module = bufferize(ROW_SUM_INTO_ARG)
    assert_buffers_stage(module)
    (copy,) = ops_named(module, "memref.copy")
    (alloc,) = ops_named(module, "memref.alloc")
    assert isinstance(copy, memref.CopyOp)
    assert isinstance(copy.source, BlockArgument) and copy.destination is alloc.results[0]
    x, init = f32(3, 4), f32(3)
    (r,) = run_interpreted(module, "row_sum", [x, init])
    np.testing.assert_allclose(r, init + x.sum(axis=1), rtol=1e-5)


# The same fresh tensor feeds two ops and a later reader: only the last writer may reuse it.
SHARED_INIT = """
func.func @shared(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) {
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<2x3xf32>
  %ones = linalg.fill ins(%one : f32) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %p = linalg.add ins(%x, %ones : tensor<2x3xf32>, tensor<2x3xf32>) outs(%ones : tensor<2x3xf32>) -> tensor<2x3xf32>
  %q = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<2x3xf32>) outs(%ones : tensor<2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %s = arith.mulf %a, %o : f32
    %t = arith.addf %s, %o : f32
    linalg.yield %t : f32
  } -> tensor<2x3xf32>
  func.return %p, %q, %ones : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
}
"""


def test_in_place_only_without_later_readers():
    module = bufferize(SHARED_INIT)
    assert_buffers_stage(module)
    allocs = ops_named(module, "memref.alloc")
    (fill,) = ops_named(module, "linalg.fill")
    (add,) = ops_named(module, "linalg.add")
    (generic,) = ops_named(module, "linalg.generic")
    ones = fill.outputs[0]  # type: ignore[attr-defined]
    # fill writes the empty in place; add reads %ones as an input too and the generic reads
    # its init, and %ones is returned: both need their own buffers, and only the generic
    # (which reads its init) gets a copy.
    assert ones is allocs[0].results[0]
    assert add.outputs[0] is not ones and generic.outputs[0] is not ones  # type: ignore[attr-defined]
    (copy,) = ops_named(module, "memref.copy")
    assert copy.operands[0] is ones and copy.operands[1] is generic.outputs[0]  # type: ignore[attr-defined]
    x = f32(2, 3)
    p, q, o = run_interpreted(module, "shared", [x])
    np.testing.assert_allclose(p, x + 1, rtol=1e-6)
    np.testing.assert_allclose(q, x * 1 + 1, rtol=1e-6)
    np.testing.assert_array_equal(o, np.ones((2, 3), np.float32))


DYNAMIC_TRANSPOSE = """
func.func @t(%x: tensor<?x4xf32>) -> (tensor<4x?xf32>, index) {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?x4xf32>
  %e = tensor.empty(%n) : tensor<4x?xf32>
  %t = linalg.transpose ins(%x : tensor<?x4xf32>) outs(%e : tensor<4x?xf32>) permutation = [1, 0]
  func.return %t, %n : tensor<4x?xf32>, index
}
"""


def test_dynamic_dims_and_transpose():
    module = bufferize(DYNAMIC_TRANSPOSE)
    assert_buffers_stage(module)
    (dim,) = ops_named(module, "memref.dim")
    (alloc,) = ops_named(module, "memref.alloc")
    assert isinstance(alloc, memref.AllocOp)
    assert str(alloc.memref.type) == "memref<4x?xf32>"
    assert tuple(alloc.dynamic_sizes) == (dim.results[0],)
    x = f32(3, 4)
    t, n = run_interpreted(module, "t", [x])
    np.testing.assert_array_equal(t, x.T)
    assert int(n) == 3


def test_returning_an_argument_is_allowed():
    module = bufferize(
        "func.func @id(%x: tensor<2xf32>) -> tensor<2xf32> {\n  func.return %x : tensor<2xf32>\n}\n"
    )
    assert_buffers_stage(module)
    ret = ops_named(module, "func.return")[0]
    assert isinstance(ret.operands[0], BlockArgument)


def test_registered_under_its_flag():
    assert get_pass("bufferize") is Bufferize


@pytest.mark.parametrize(
    ("src", "name"),
    [
        (
            "func.func @f(%x: tensor<2xf32>) -> tensor<2xf32> {\n"
            "  %y = arith.addf %x, %x : tensor<2xf32>\n"
            "  func.return %y : tensor<2xf32>\n}\n",
            "arith.addf",
        ),
        (
            "func.func @f(%x: tensor<2xf32>, %v: f32) -> tensor<2xf32> {\n"
            "  %c0 = arith.constant 0 : index\n"
            "  %y = tensor.insert %v into %x[%c0] : tensor<2xf32>\n"
            "  func.return %y : tensor<2xf32>\n}\n",
            "tensor.insert",
        ),
    ],
)
def test_outside_the_contract_fails_naming_the_op(src: str, name: str):
    module = parse(src)
    with pytest.raises(PassFailedException, match=name):
        Bufferize().apply(make_context(), module)
