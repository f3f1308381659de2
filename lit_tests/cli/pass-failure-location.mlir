// RUN: not xjit-opt %s -p convert-linalg-to-loop 2>&1 | filecheck %s
// A pass that refuses an op it names in quotes ('linalg.fill' on tensors: bufferize first) is
// reported at that op's line and column, with its source line and a caret (was only the file
// name: tests/cli_fuzz.py lists pass failures without a location).

func.func @f(%e: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %zero = arith.constant 0.0 : f32
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<3x4xf32>) -> tensor<3x4xf32>
  func.return %f : tensor<3x4xf32>
}

// CHECK: pass-failure-location.mlir:8:3: error: pass 'convert-linalg-to-loop' failed: convert-linalg-to-loop: 'linalg.fill' on tensors; run `bufferize` first
// CHECK-NEXT: {{^}}  %f = linalg.fill
// CHECK-NEXT: {{^}}  ^
