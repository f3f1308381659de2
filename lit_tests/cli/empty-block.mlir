// RUN: xjit-opt %s --verify-diagnostics --split-input-file
// Every block of a region whose op needs terminators has one, not only the block of a
// single-block region (mlir-opt: "empty block: expect at least a terminator"). xDSL accepted
// an empty trailing block, and bufferize then crashed on the function (found by
// tests/cli_fuzz.py).

// expected-error@+1 {{'func.func' op empty block #1 of region #0: expect at least a terminator}}
func.func @trailing(%x: tensor<4xf32>) -> tensor<4xf32> {
  func.return %x : tensor<4xf32>
^bb1(%p: f32):
}

// -----

// expected-error@+1 {{Operation func.func contains empty block in single-block region that expects at least a terminator}}
func.func @empty() {
^bb0:
}
