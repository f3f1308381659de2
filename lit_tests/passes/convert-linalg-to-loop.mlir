// RUN: xjit-opt %s -p convert-linalg-to-loop | filecheck %s
// RUN: xjit-opt %s -p convert-linalg-to-loop | xjit-opt --print-op-generic | filecheck %s --check-prefix=NOLINALG

// Every linalg op and memref.copy is gone.
// NOLINALG-NOT: "linalg.
// NOLINALG-NOT: "memref.copy"

// Elementwise with a broadcast input map: static bounds are index constants before the nest,
// each used input is loaded through its map, the unused `outs` argument is not loaded.
// CHECK-LABEL: func.func @bias_add(%x: memref<3x4xf32>, %b: memref<4xf32>, %y: memref<3x4xf32>) {
// CHECK-NEXT:    %c3 = arith.constant 3 : index
// CHECK-NEXT:    %c4 = arith.constant 4 : index
// CHECK-NEXT:    loop.nest (%i, %j) to (%c3, %c4) ["parallel", "parallel"] {
// CHECK-NEXT:      %a = loop.load %x[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<3x4xf32>
// CHECK-NEXT:      %c = loop.load %b[%i, %j] affine_map<(d0, d1) -> (d1)> : memref<4xf32>
// CHECK-NEXT:      %s = arith.addf %a, %c : f32
// CHECK-NEXT:      loop.store %s, %y[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<3x4xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return
func.func @bias_add(%x: memref<3x4xf32>, %b: memref<4xf32>, %y: memref<3x4xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x, %b : memref<3x4xf32>, memref<4xf32>) outs(%y : memref<3x4xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %s = arith.addf %a, %c : f32
    linalg.yield %s : f32
  }
  func.return
}

// fill stores the scalar; matmul is an (i, j, k) nest accumulating into C.
// CHECK-LABEL: func.func @linear(%x: memref<2x3xf32>, %c: memref<2x5xf32>) {
// CHECK-NEXT:    %w = memref.get_global @w : memref<3x5xf32>
// CHECK-NEXT:    %zero = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:    %c2 = arith.constant 2 : index
// CHECK-NEXT:    %c5 = arith.constant 5 : index
// CHECK-NEXT:    loop.nest (%i, %j) to (%c2, %c5) ["parallel", "parallel"] {
// CHECK-NEXT:      loop.store %zero, %c[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<2x5xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    %c2_1 = arith.constant 2 : index
// CHECK-NEXT:    %c5_1 = arith.constant 5 : index
// CHECK-NEXT:    %c3 = arith.constant 3 : index
// CHECK-NEXT:    loop.nest (%i_1, %j_1, %k) to (%c2_1, %c5_1, %c3) ["parallel", "parallel", "reduction"] {
// CHECK-NEXT:      %[[A:.*]] = loop.load %x[%i_1, %j_1, %k] affine_map<(d0, d1, d2) -> (d0, d2)> : memref<2x3xf32>
// CHECK-NEXT:      %[[B:.*]] = loop.load %w[%i_1, %j_1, %k] affine_map<(d0, d1, d2) -> (d2, d1)> : memref<3x5xf32>
// CHECK-NEXT:      %[[C:.*]] = loop.load %c[%i_1, %j_1, %k] affine_map<(d0, d1, d2) -> (d0, d1)> : memref<2x5xf32>
// CHECK-NEXT:      %[[P:.*]] = arith.mulf %[[A]], %[[B]] : f32
// CHECK-NEXT:      %[[S:.*]] = arith.addf %[[P]], %[[C]] : f32
// CHECK-NEXT:      loop.store %[[S]], %c[%i_1, %j_1, %k] affine_map<(d0, d1, d2) -> (d0, d1)> : memref<2x5xf32>
// CHECK-NEXT:    }
"memref.global"() <{sym_name = "w", type = memref<3x5xf32>, initial_value, sym_visibility = "private", constant}> : () -> ()
func.func @linear(%x: memref<2x3xf32>, %c: memref<2x5xf32>) {
  %w = memref.get_global @w : memref<3x5xf32>
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<2x5xf32>)
  linalg.matmul ins(%x, %w : memref<2x3xf32>, memref<3x5xf32>) outs(%c : memref<2x5xf32>)
  func.return
}

// Reduction over dim 1 loads its accumulator; dynamic bounds come from memref.dim of the
// operand the maps send the loop to.
// CHECK-LABEL: func.func @row_sum(%x: memref<?x4xf32>, %s: memref<?xf32>) {
// CHECK-NEXT:    %c0 = arith.constant 0 : index
// CHECK-NEXT:    %dim = memref.dim %x, %c0 : memref<?x4xf32>
// CHECK-NEXT:    %c4 = arith.constant 4 : index
// CHECK-NEXT:    loop.nest (%i, %j) to (%dim, %c4) ["parallel", "reduction"] {
// CHECK-NEXT:      %a = loop.load %x[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<?x4xf32>
// CHECK-NEXT:      %o = loop.load %s[%i, %j] affine_map<(d0, d1) -> (d0)> : memref<?xf32>
// CHECK-NEXT:      %r = arith.addf %o, %a : f32
// CHECK-NEXT:      loop.store %r, %s[%i, %j] affine_map<(d0, d1) -> (d0)> : memref<?xf32>
// CHECK-NEXT:    }
func.func @row_sum(%x: memref<?x4xf32>, %s: memref<?xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x : memref<?x4xf32>) outs(%s : memref<?xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %o, %a : f32
    linalg.yield %r : f32
  }
  func.return
}

// Transpose: a permuted copy, loops over the output; a static size wins over a dynamic one.
// memref.copy: a parallel copy nest.
// CHECK-LABEL: func.func @transpose_copy(%x: memref<?x4xf32>, %t: memref<4x?xf32>, %u: memref<4x?xf32>) {
// CHECK-NEXT:    %c4 = arith.constant 4 : index
// CHECK-NEXT:    %c0 = arith.constant 0 : index
// CHECK-NEXT:    %dim = memref.dim %x, %c0 : memref<?x4xf32>
// CHECK-NEXT:    loop.nest (%i, %j) to (%c4, %dim) ["parallel", "parallel"] {
// CHECK-NEXT:      %[[V:.*]] = loop.load %x[%i, %j] affine_map<(d0, d1) -> (d1, d0)> : memref<?x4xf32>
// CHECK-NEXT:      loop.store %[[V]], %t[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<4x?xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    %c4_1 = arith.constant 4 : index
// CHECK-NEXT:    %c1 = arith.constant 1 : index
// CHECK-NEXT:    %dim_1 = memref.dim %t, %c1 : memref<4x?xf32>
// CHECK-NEXT:    loop.nest (%i_1, %j_1) to (%c4_1, %dim_1) ["parallel", "parallel"] {
// CHECK-NEXT:      %[[W:.*]] = loop.load %t[%i_1, %j_1] affine_map<(d0, d1) -> (d0, d1)> : memref<4x?xf32>
// CHECK-NEXT:      loop.store %[[W]], %u[%i_1, %j_1] affine_map<(d0, d1) -> (d0, d1)> : memref<4x?xf32>
// CHECK-NEXT:    }
func.func @transpose_copy(%x: memref<?x4xf32>, %t: memref<4x?xf32>, %u: memref<4x?xf32>) {
  linalg.transpose ins(%x : memref<?x4xf32>) outs(%t : memref<4x?xf32>) permutation = [1, 0]
  "memref.copy"(%t, %u) : (memref<4x?xf32>, memref<4x?xf32>) -> ()
  func.return
}

// linalg.index is the induction variable.
// CHECK-LABEL: func.func @iota(%y: memref<2x3xi64>) {
// CHECK:         loop.nest (%i, %j) to (%c2, %c3) ["parallel", "parallel"] {
// CHECK-NEXT:      %[[S:.*]] = arith.addi %i, %j : index
// CHECK-NEXT:      %[[V:.*]] = arith.index_cast %[[S]] : index to i64
// CHECK-NEXT:      loop.store %[[V]], %y[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<2x3xi64>
func.func @iota(%y: memref<2x3xi64>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} outs(%y : memref<2x3xi64>) {
  ^bb0(%o: i64):
    %i0 = linalg.index 0 : index
    %i1 = linalg.index 1 : index
    %s = arith.addi %i0, %i1 : index
    %v = arith.index_cast %s : index to i64
    linalg.yield %v : i64
  }
  func.return
}
