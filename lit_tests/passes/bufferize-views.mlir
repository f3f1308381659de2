// RUN: xjit-opt %s -p bufferize | filecheck %s
// RUN: xjit-opt %s -p bufferize,convert-linalg-to-loop | filecheck %s --check-prefix=LOOPS

// Views stay views: a transpose read only through views becomes view.transpose, collapse/expand
// become the memref ops, a strided slice a strided memref.subview; nothing is copied and the
// elementwise op reads the last view.
// CHECK-LABEL: func.func @views(%x: memref<3x4xf32>) -> memref<2x3xf32> {
// CHECK:         %[[T:.*]] = view.transpose %x [1, 0] : memref<3x4xf32> to memref<4x3xf32, strided<[1, 4]>>
// CHECK-NEXT:    %[[C:.*]] = memref.collapse_shape %[[T]] {{\[}}[0 : i64, 1 : i64]] : memref<4x3xf32, strided<[1, 4]>> into memref<12xf32, strided<[?], offset: ?>>
// CHECK-NEXT:    %[[E:.*]] = memref.expand_shape %[[C]] {{\[}}[0 : i64, 1 : i64]] output_shape [2, 6] : memref<12xf32, strided<[?], offset: ?>> into memref<2x6xf32, strided<[?, ?], offset: ?>>
// CHECK-NEXT:    %[[S:.*]] = memref.subview %[[E]][0, 0] [2, 3] [1, 2] : memref<2x6xf32, strided<[?, ?], offset: ?>> to memref<2x3xf32, strided<[?, ?], offset: ?>>
// CHECK-NEXT:    %[[O:.*]] = memref.alloc() : memref<2x3xf32>
// CHECK-NEXT:    linalg.generic {{.*}} ins(%[[S]] : memref<2x3xf32, strided<[?, ?], offset: ?>>) outs(%[[O]] : memref<2x3xf32>)
// CHECK-NOT:     memref.copy
// CHECK:         func.return %[[O]] : memref<2x3xf32>
// At the loops stage the strided view is not folded: the nest reads it (a numpy view).
// LOOPS-LABEL: func.func @views
// LOOPS:         %[[S:.*]] = memref.subview %{{.*}}[0, 0] [2, 3] [1, 2]
// LOOPS:         loop.load %[[S]][%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<2x3xf32, strided<[?, ?], offset: ?>>
func.func @views(%x: tensor<3x4xf32>) -> tensor<2x3xf32> {
  %0 = tensor.empty() : tensor<4x3xf32>
  %1 = linalg.transpose ins(%x:tensor<3x4xf32>) outs(%0:tensor<4x3xf32>) permutation = [1, 0]
  %2 = tensor.collapse_shape %1 [[0, 1]] : tensor<4x3xf32> into tensor<12xf32>
  %3 = tensor.expand_shape %2 [[0, 1]] output_shape [2, 6] : tensor<12xf32> into tensor<2x6xf32>
  %4 = tensor.extract_slice %3[0, 0] [2, 3] [1, 2] : tensor<2x6xf32> to tensor<2x3xf32>
  %5 = tensor.empty() : tensor<2x3xf32>
  %6 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%4 : tensor<2x3xf32>) outs(%5 : tensor<2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 1.000000e+00 : f32
    %s = arith.addf %a, %c : f32
    linalg.yield %s : f32
  } -> tensor<2x3xf32>
  func.return %6 : tensor<2x3xf32>
}

// cat: each input copied into a subview (its slab) of one buffer, written in place; at the
// loops stage the subviews fold into the stores' maps (an offset of 2 rows for the second).
// CHECK-LABEL: func.func @cat(%x: memref<2x4xf32>, %y: memref<3x4xf32>) -> memref<5x4xf32> {
// CHECK-NEXT:    %[[E:.*]] = memref.alloc() : memref<5x4xf32>
// CHECK-NEXT:    %[[S0:.*]] = memref.subview %[[E]][0, 0] [2, 4] [1, 1] : memref<5x4xf32> to memref<2x4xf32, strided<[4, 1]>>
// CHECK-NEXT:    "memref.copy"(%x, %[[S0]])
// CHECK-NEXT:    %[[S1:.*]] = memref.subview %[[E]][2, 0] [3, 4] [1, 1] : memref<5x4xf32> to memref<3x4xf32, strided<[4, 1], offset: 8>>
// CHECK-NEXT:    "memref.copy"(%y, %[[S1]])
// CHECK-NEXT:    func.return %[[E]] : memref<5x4xf32>
// LOOPS-LABEL: func.func @cat
// LOOPS:         loop.store %{{.*}}, %e[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<5x4xf32>
// LOOPS:         loop.store %{{.*}}, %e[%i_1, %j_1] affine_map<(d0, d1) -> ((d0 + 2), d1)> : memref<5x4xf32>
func.func @cat(%x: tensor<2x4xf32>, %y: tensor<3x4xf32>) -> tensor<5x4xf32> {
  %e = tensor.empty() : tensor<5x4xf32>
  %0 = tensor.insert_slice %x into %e[0, 0] [2, 4] [1, 1] : tensor<2x4xf32> into tensor<5x4xf32>
  %1 = tensor.insert_slice %y into %0[2, 0] [3, 4] [1, 1] : tensor<3x4xf32> into tensor<5x4xf32>
  func.return %1 : tensor<5x4xf32>
}
