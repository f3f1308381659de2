// RUN: not xjit-opt %s 2>&1 | filecheck %s
// Text one of xDSL's custom op parsers assumes well-formed (`linalg.fill` without `outs`
// builds its region from no arguments and raised IndexError) is a located parse error at the
// op, never an internal error (found by fuzz.cli).

func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %e = tensor.empty() : tensor<4xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%x : tensor<4xf32>) outs(%e : tensor<4xf32>) {
  ^bb0(%p: f32, %o: f32):
    linalg.fill %p : f32
  } -> tensor<4xf32>
  func.return %s : tensor<4xf32>
}

// CHECK: malformed-custom-syntax.mlir:10:5: error: 'linalg.fill' op malformed custom syntax (IndexError: {{.*}})
// CHECK-NEXT: {{^}}    linalg.fill %p : f32
// CHECK-NEXT: {{^}}    ^
// CHECK-NOT: internal error
