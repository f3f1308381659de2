// RUN: xjit-opt %s -p linalg-fuse-elementwise | filecheck %s
// Fusion works on tensors: on already bufferized IR (linalg ops on memrefs) it changes nothing.
// A linalg.transpose on memrefs has no result, and the pass indexed it (IndexError, found by
// tests/cli_fuzz.py).

// CHECK-LABEL: func.func @transpose_copy(%x: memref<?x4xf32>, %t: memref<4x?xf32>, %u: memref<4x?xf32>) {
// CHECK-NEXT:    linalg.transpose ins(%x:memref<?x4xf32>) outs(%t:memref<4x?xf32>) permutation = [1, 0]
// CHECK-NEXT:    linalg.generic {{.*}} ins(%t : memref<4x?xf32>) outs(%u : memref<4x?xf32>) {
// CHECK-NEXT:    ^bb0(%a: f32, %o: f32):
// CHECK-NEXT:      %r = math.exp %a : f32
// CHECK-NEXT:      linalg.yield %r : f32
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return
func.func @transpose_copy(%x: memref<?x4xf32>, %t: memref<4x?xf32>, %u: memref<4x?xf32>) {
  linalg.transpose ins(%x : memref<?x4xf32>) outs(%t : memref<4x?xf32>) permutation = [1, 0]
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%t : memref<4x?xf32>) outs(%u : memref<4x?xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.exp %a : f32
    linalg.yield %r : f32
  }
  func.return
}
