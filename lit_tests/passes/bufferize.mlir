// RUN: xjit-opt %s -p bufferize | filecheck %s
// RUN: xjit-opt %s -p bufferize | xjit-opt --print-op-generic | filecheck %s --check-prefix=NOCAST

// Ops outside the contract failing with their name: tests/test_bufferize.py.

// Nothing transient survives: no casts, no tensors.
// NOCAST-NOT: unrealized_conversion_cast
// NOCAST-NOT: tensor<

// A parameter: an uninitialised constant memref global, read with memref.get_global.
ml_program.global private @w : tensor<3x5xf32>

// CHECK:      "memref.global"() <{sym_name = "w", type = memref<3x5xf32>, initial_value, sym_visibility = "private", constant}> : () -> ()
// CHECK-LABEL: func.func @linear(%x: memref<2x3xf32>, %b: memref<5xf32>) -> (memref<2x5xf32>, memref<3x5xf32>) {
// CHECK-NEXT:    %w = memref.get_global @w : memref<3x5xf32>
// CHECK-NEXT:    %zero = arith.constant 0.000000e+00 : f32
// fill and matmul write the fresh allocation in place; the bias add gets its own.
// CHECK-NEXT:    %e = memref.alloc() : memref<2x5xf32>
// CHECK-NEXT:    linalg.fill ins(%zero : f32) outs(%e : memref<2x5xf32>)
// CHECK-NEXT:    linalg.matmul ins(%x, %w : memref<2x3xf32>, memref<3x5xf32>) outs(%e : memref<2x5xf32>)
// CHECK-NEXT:    %e2 = memref.alloc() : memref<2x5xf32>
// CHECK-NEXT:    linalg.generic {{.*}} ins(%e, %b : memref<2x5xf32>, memref<5xf32>) outs(%e2 : memref<2x5xf32>) {
// CHECK:         }
// The global is returned as it is: aliasing is fine for the caller.
// CHECK-NEXT:    func.return %e2, %w : memref<2x5xf32>, memref<3x5xf32>
func.func @linear(%x: tensor<2x3xf32>, %b: tensor<5xf32>) -> (tensor<2x5xf32>, tensor<3x5xf32>) {
  %w = ml_program.global_load_const @w : tensor<3x5xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x5xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<2x5xf32>) -> tensor<2x5xf32>
  %mm = linalg.matmul ins(%x, %w : tensor<2x3xf32>, tensor<3x5xf32>) outs(%acc : tensor<2x5xf32>) -> tensor<2x5xf32>
  %e2 = tensor.empty() : tensor<2x5xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%mm, %b : tensor<2x5xf32>, tensor<5xf32>) outs(%e2 : tensor<2x5xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %s = arith.addf %a, %c : f32
    linalg.yield %s : f32
  } -> tensor<2x5xf32>
  func.return %r, %w : tensor<2x5xf32>, tensor<3x5xf32>
}

// An argument as `outs` is never written: a copy (with dynamic sizes read off the argument)
// is accumulated into instead. tensor.dim -> memref.dim, tensor.empty(%n) -> memref.alloc(%n).
// CHECK-LABEL: func.func @row_sum(%x: memref<?x4xf32>, %acc: memref<?xf32>) -> (memref<?xf32>, memref<4x?xf32>) {
// CHECK-NEXT:    %c0 = arith.constant 0 : index
// CHECK-NEXT:    %n = memref.dim %x, %c0 : memref<?x4xf32>
// CHECK-NEXT:    %c0_1 = arith.constant 0 : index
// CHECK-NEXT:    %dim = memref.dim %acc, %c0_1 : memref<?xf32>
// CHECK-NEXT:    %sum = memref.alloc(%dim) : memref<?xf32>
// CHECK-NEXT:    "memref.copy"(%acc, %sum) : (memref<?xf32>, memref<?xf32>) -> ()
// CHECK-NEXT:    linalg.generic {{.*}} ins(%x : memref<?x4xf32>) outs(%sum : memref<?xf32>) {
// CHECK:         %et = memref.alloc(%n) : memref<4x?xf32>
// CHECK-NEXT:    linalg.transpose ins(%x:memref<?x4xf32>) outs(%et:memref<4x?xf32>) permutation = [1, 0]
// CHECK-NEXT:    func.return %sum, %et : memref<?xf32>, memref<4x?xf32>
func.func @row_sum(%x: tensor<?x4xf32>, %acc: tensor<?xf32>) -> (tensor<?xf32>, tensor<4x?xf32>) {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?x4xf32>
  %sum = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<?x4xf32>) outs(%acc : tensor<?xf32>) {
  ^bb0(%a: f32, %o: f32):
    %s = arith.addf %o, %a : f32
    linalg.yield %s : f32
  } -> tensor<?xf32>
  %et = tensor.empty(%n) : tensor<4x?xf32>
  %t = linalg.transpose ins(%x : tensor<?x4xf32>) outs(%et : tensor<4x?xf32>) permutation = [1, 0]
  func.return %sum, %t : tensor<?xf32>, tensor<4x?xf32>
}

// A fresh tensor still read later (here: returned) is not overwritten; the second op gets a
// new buffer, without a copy since linalg.add never reads its init.
// CHECK-LABEL: func.func @later_reader(%x: memref<4xf32>) -> (memref<4xf32>, memref<4xf32>) {
// CHECK:         %e = memref.alloc() : memref<4xf32>
// CHECK-NEXT:    linalg.fill ins(%one : f32) outs(%e : memref<4xf32>)
// CHECK-NEXT:    %y = memref.alloc() : memref<4xf32>
// CHECK-NEXT:    linalg.add ins(%x, %e : memref<4xf32>, memref<4xf32>) outs(%y : memref<4xf32>)
// CHECK-NEXT:    func.return %y, %e : memref<4xf32>, memref<4xf32>
func.func @later_reader(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<4xf32>
  %ones = linalg.fill ins(%one : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %y = linalg.add ins(%x, %ones : tensor<4xf32>, tensor<4xf32>) outs(%ones : tensor<4xf32>) -> tensor<4xf32>
  func.return %y, %ones : tensor<4xf32>, tensor<4xf32>
}

