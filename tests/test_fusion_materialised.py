"""linalg-fuse-elementwise: a cheap producer whose result is materialised anyway (returned, or
read in a loop body) is not recomputed inside a consumer; it is kept as the fused op's extra
output when the consumer walks it one to one, else left unfused. Checked structurally and by
running the lowered program against numpy and the xDSL interpreter."""

from __future__ import annotations

import numpy as np
from xdsl.dialects.linalg.ops import GenericOp
from xdsl.parser import Parser

from xjit.backends.interpreter import run_interpreted
from xjit.backends.numpy import compile_module
from xjit.dialects import make_context
from xjit.passes.pipelines import run_passes

ID2 = "affine_map<(d0, d1) -> (d0, d1)>"
ROW = "affine_map<(d0, d1) -> (d1)>"
ALL = "affine_map<(d0, d1) -> ()>"

IR = f"""
func.func @f(%x: tensor<4x8xf32>, %b: tensor<8xf32>) -> (tensor<4x8xf32>, tensor<f32>) {{
  %e = tensor.empty() : tensor<4x8xf32>
  %y = linalg.generic {{indexing_maps = [{ID2}, {ROW}, {ID2}], iterator_types = ["parallel", "parallel"]}} ins(%x, %b : tensor<4x8xf32>, tensor<8xf32>) outs(%e : tensor<4x8xf32>) {{
  ^bb0(%a: f32, %c: f32, %o: f32):
    %s = arith.addf %a, %c : f32
    linalg.yield %s : f32
  }} -> tensor<4x8xf32>
  %z = arith.constant 0.0 : f32
  %e2 = tensor.empty() : tensor<f32>
  %f = linalg.fill ins(%z : f32) outs(%e2 : tensor<f32>) -> tensor<f32>
  %r = linalg.generic {{indexing_maps = [{ID2}, {ALL}], iterator_types = ["reduction", "reduction"]}} ins(%y : tensor<4x8xf32>) outs(%f : tensor<f32>) {{
  ^bb0(%a: f32, %o: f32):
    %s = arith.addf %a, %o : f32
    linalg.yield %s : f32
  }} -> tensor<f32>
  func.return %y, %r : tensor<4x8xf32>, tensor<f32>
}}
"""


def _parse():
    module = Parser(make_context(), IR).parse_module()
    module.verify()
    return module


def test_returned_producer_is_kept_not_recomputed() -> None:
    module = _parse()
    run_passes(make_context(), module, ("linalg-fuse-elementwise",))
    generics = [op for op in module.walk() if isinstance(op, GenericOp)]
    assert len(generics) == 1 and len(generics[0].results) == 2  # y kept as an extra output
    adds = [op for op in generics[0].body.block.ops if op.name == "arith.addf"]
    assert len(adds) == 2  # x + b once, the accumulation once: no second x + b


def test_lowered_program_agrees_with_numpy_and_interpreter() -> None:
    module = _parse()
    run_passes(
        make_context(),
        module,
        (
            "linalg-fuse-elementwise",
            "canonicalize",
            "cse",
            "bufferize",
            "convert-linalg-to-loop",
            "canonicalize",
            "cse",
        ),
    )
    rng = np.random.default_rng(5)
    x, b = rng.standard_normal((4, 8)).astype(np.float32), rng.standard_normal(8).astype(np.float32)
    y, r = compile_module(module)["f"](x, b)
    np.testing.assert_allclose(y, x + b, rtol=1e-6)
    np.testing.assert_allclose(r, (x + b).sum(), rtol=1e-5)
    ey, er = run_interpreted(module, "f", [x, b])
    np.testing.assert_allclose(y, ey, rtol=1e-6)
    np.testing.assert_allclose(r, er, rtol=1e-5)
