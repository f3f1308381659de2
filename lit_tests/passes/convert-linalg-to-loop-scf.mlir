// RUN: xjit-opt %s -p convert-linalg-to-loop | filecheck %s

// Linalg ops nested in scf regions become nests in place; a unit-stride subview read in a nest
// folds into the load: xs[i] becomes a load of %xs whose leading index is the loop's %i.
// CHECK-LABEL: func.func @rnn_step(%xs: memref<?x3x4xf32>, %h0: memref<3x4xf32>) -> memref<3x4xf32> {
// CHECK:         %r = scf.for %i = %c0 to %n step %c1 iter_args(%h = %h0) -> (memref<3x4xf32>) {
// CHECK-NOT:       memref.subview
// CHECK:           %e = memref.alloc() : memref<3x4xf32>
// CHECK:           loop.nest (%i_1, %j) to (%c3, %c4) ["parallel", "parallel"] {
// CHECK-NEXT:        %p = loop.load %xs[%i, %i_1, %j] affine_map<(d0, d1, d2) -> (d0, d1, d2)> : memref<?x3x4xf32>
// CHECK-NEXT:        %q = loop.load %h[%i_1, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<3x4xf32>
// CHECK-NEXT:        %s = arith.addf %p, %q : f32
// CHECK-NEXT:        loop.store %s, %e[%i_1, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<3x4xf32>
// CHECK-NEXT:      }
// CHECK-NEXT:      scf.yield %e : memref<3x4xf32>
func.func @rnn_step(%xs: memref<?x3x4xf32>, %h0: memref<3x4xf32>) -> memref<3x4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %xs, %c0 : memref<?x3x4xf32>
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%h = %h0) -> (memref<3x4xf32>) {
    %x = memref.subview %xs[%i, 0, 0] [1, 3, 4] [1, 1, 1] : memref<?x3x4xf32> to memref<3x4xf32, strided<[4, 1], offset: ?>>
    %e = memref.alloc() : memref<3x4xf32>
    linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x, %h : memref<3x4xf32, strided<[4, 1], offset: ?>>, memref<3x4xf32>) outs(%e : memref<3x4xf32>) {
    ^bb0(%p: f32, %q: f32, %o: f32):
      %s = arith.addf %p, %q : f32
      linalg.yield %s : f32
    }
    scf.yield %e : memref<3x4xf32>
  }
  func.return %r : memref<3x4xf32>
}

// A static-offset column view: the dropped dim is indexed at its constant offset.
// CHECK-LABEL: func.func @column(%a: memref<4x5xf32>) -> memref<4xf32> {
// CHECK:         loop.nest (%i) to (%c4) ["parallel"] {
// CHECK-NEXT:      %v = loop.load %a[%i] affine_map<(d0) -> (d0, 2)> : memref<4x5xf32>
func.func @column(%a: memref<4x5xf32>) -> memref<4xf32> {
  %c = memref.subview %a[0, 2] [4, 1] [1, 1] : memref<4x5xf32> to memref<4xf32, strided<[5], offset: 2>>
  %e = memref.alloc() : memref<4xf32>
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%c : memref<4xf32, strided<[5], offset: 2>>) outs(%e : memref<4xf32>) {
  ^bb0(%v: f32, %o: f32):
    linalg.yield %v : f32
  }
  func.return %e : memref<4xf32>
}
