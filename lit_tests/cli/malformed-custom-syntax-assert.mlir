// RUN: not xjit-opt %s 2>&1 | filecheck %s
// An attribute of the wrong kind where one of xDSL's custom op parsers asserts the kind
// (`linalg.generic`'s iterator_types must be an array) is a located parse error at the op,
// never an internal error (found by tests/cli_fuzz.py).

func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %e = tensor.empty() : tensor<4xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = 0} ins(%x : tensor<4xf32>) outs(%e : tensor<4xf32>) {
  ^bb0(%p: f32, %o: f32):
    linalg.yield %p : f32
  } -> tensor<4xf32>
  func.return %s : tensor<4xf32>
}

// CHECK: malformed-custom-syntax-assert.mlir:8:3: error: 'linalg.generic' op malformed custom syntax (AssertionError)
// CHECK-NEXT: {{^}}  %s = linalg.generic
// CHECK-NEXT: {{^}}  ^
// CHECK-NOT: internal error
