"""IR the tests share: `parse` (xjit's dialects, verified) and small programs used by more than one
test file, so each keeps no copy of its own."""

from __future__ import annotations

from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser

from xjit.dialects import make_context


def parse(src: str) -> ModuleOp:
    module = Parser(make_context(), src).parse_module()
    module.verify()
    return module


# A Linear(3, 2) layer on memrefs (loops stage) with its weight and bias as globals.
# xDSL 0.74 has no custom syntax for memref.global: the generic form of
# `memref.global "private" constant @linear.weight : memref<2x3xf32> = uninitialized`.
LINEAR = """
"memref.global"() <{sym_name = "linear.weight", sym_visibility = "private", type = memref<2x3xf32>, initial_value, constant}> : () -> ()
"memref.global"() <{sym_name = "linear.bias", sym_visibility = "private", type = memref<2xf32>, initial_value = dense<[10.0, 20.0]> : tensor<2xf32>, constant}> : () -> ()
func.func @linear(%x: memref<4x3xf32>) -> memref<4x2xf32> {
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %W = memref.get_global @linear.weight : memref<2x3xf32>
  %b = memref.get_global @linear.bias : memref<2xf32>
  %Y = memref.alloc() : memref<4x2xf32>
  loop.nest (%i, %j) to (%c4, %c2) ["parallel", "parallel"] {
    %bj = loop.load %b[%i, %j] affine_map<(d0, d1) -> (d1)> : memref<2xf32>
    loop.store %bj, %Y[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<4x2xf32>
  }
  loop.nest (%i, %j, %k) to (%c4, %c2, %c3) ["parallel", "parallel", "reduction"] {
    %a = loop.load %x[%i, %j, %k] affine_map<(d0, d1, d2) -> (d0, d2)> : memref<4x3xf32>
    %w = loop.load %W[%i, %j, %k] affine_map<(d0, d1, d2) -> (d1, d2)> : memref<2x3xf32>
    %y = loop.load %Y[%i, %j, %k] affine_map<(d0, d1, d2) -> (d0, d1)> : memref<4x2xf32>
    %p = arith.mulf %a, %w : f32
    %s = arith.addf %y, %p : f32
    loop.store %s, %Y[%i, %j, %k] affine_map<(d0, d1, d2) -> (d0, d1)> : memref<4x2xf32>
  }
  func.return %Y : memref<4x2xf32>
}
"""
